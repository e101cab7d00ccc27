"""How a model reads each writing style: the per-style table (docs/styles.md).

    python -m digitkit.train.style_table [--model PATH | --precision int8] [--per-variant N] [--json OUT]

Every variant of ``train/strokes.py`` is drawn ``N`` times with the held-out
pens and seed (``styles.HELD_OUT_PENS``, ``styles.HELD_OUT_SEED``: other widths,
sizes and blur than training's, other random draws), passed through the
runtime's ``to_mnist``, and classified by the ONNX model; the table says the
share read right and the most common wrong reading. Per dataset accuracy hides
a style that always fails (44 % of Semeion's 1s were read as 4 or 7), which is
why the table is per style.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from digitkit.train.styles import HELD_OUT_PENS, HELD_OUT_SEED, StyleSet, style_digits

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float in [0, 1] -> (N, 10) scores
DEFAULT_PER_VARIANT = 100


def held_out_styles(per_variant: int = DEFAULT_PER_VARIANT) -> StyleSet:
    """The evaluation drawings: never the training seed or pens."""
    return style_digits(per_variant, seed=HELD_OUT_SEED, pens=HELD_OUT_PENS)


def style_table(classify: Classify, styles: StyleSet) -> list[dict[str, Any]]:
    """One row per variant: how many drawings, the share read right, the most common misreading."""
    predicted = classify(styles.images.astype(np.float32) / 255.0).argmax(axis=1)
    rows = []
    for index, name in enumerate(styles.names):
        mine = styles.variants == index
        if not mine.any():
            continue
        digit = int(styles.labels[mine][0])
        wrong = Counter(int(p) for p in predicted[mine] if p != digit)
        rows.append(
            {
                "variant": name,
                "digit": digit,
                "n": int(mine.sum()),
                "read_right": float((predicted[mine] == digit).mean()),
                "misread_as": [[d, c] for d, c in wrong.most_common(2)],
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]], title: str = "") -> str:
    lines = [title] if title else []
    lines += ["| style variant | drawings | read right | most common misreadings |", "|---|---:|---:|---|"]
    for row in rows:
        wrong = ", ".join(f"{d} ({c})" for d, c in row["misread_as"]) or "—"
        lines.append(f"| {row['variant']} | {row['n']} | {row['read_right']:.1%} | {wrong} |")
    return "\n".join(lines)


def grid(styles: StyleSet, per_row: int = 12, zoom: int = 2) -> np.ndarray:
    """A picture of the drawings: one row per variant, as the model sees them (28×28 each, enlarged ``zoom``×)."""
    import cv2

    rows = []
    for index in range(len(styles.names)):
        mine = list(styles.images[styles.variants == index][:per_row])
        mine += [np.zeros((28, 28), np.uint8)] * (per_row - len(mine))
        rows.append(np.hstack(mine))
    picture = np.vstack(rows)
    return cv2.resize(picture, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)


def main(argv: list[str] | None = None) -> int:
    from digitkit.runtime.recognizer import Recognizer, resolve_model

    parser = argparse.ArgumentParser(prog="python -m digitkit.train.style_table", description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="an ONNX model (default: the shipped CNN)")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    parser.add_argument("--per-variant", type=int, default=DEFAULT_PER_VARIANT)
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--grid", help="also write a PNG of the drawings, one row per variant")
    args = parser.parse_args(argv)
    path = resolve_model(args.model, args.precision)
    recognizer = Recognizer(path, guard=False)
    styles = held_out_styles(args.per_variant)
    rows = style_table(recognizer.classify_mnist, styles)
    print(markdown(rows, f"Per-style reading of {path.name} (held-out pens, seed {HELD_OUT_SEED})"))
    if args.json:
        from digitkit.runtime.files import atomic_write_json

        atomic_write_json(args.json, {"model": str(path), "seed": HELD_OUT_SEED, "rows": rows})
    if args.grid:
        import cv2

        from digitkit.runtime.files import atomic_write_bytes

        atomic_write_bytes(args.grid, cv2.imencode(".png", grid(styles))[1].tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
