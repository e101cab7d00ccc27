"""How a model reads handwriting that is not MNIST's: USPS and Semeion through ``to_mnist``, and the styles.

    python -m digitkit.train.handwriting [--models runtime/models] [--out runtime/models/handwriting.json]

USPS (envelopes) and Semeion (~80 Italian writers) live in ``../shared/data``:
evaluation only, read with the robustness benchmark's own loaders, never copied
here, never trained on, never used to choose a recipe. Each 16×16 scan is
enlarged as the benchmark does and passed through the runtime's ``to_mnist``,
so every model (the shipped ones here, the study's SVM, MLP and CNN) is scored
on exactly what the runtime would feed it. The JSON this writes beside the
models is what ``export/model_card.py`` quotes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float in [0, 1] -> (N, 10) scores
REPORT_NAME = "handwriting.json"


def foreign_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"USPS test": (uint8 (N, 28, 28) as to_mnist makes them, labels), "Semeion": ...}; {} without ../shared."""
    from digitkit.train.foreign_data import load_semeion, load_usps, upscale16
    from digitkit.train.styles import as_model_input

    sets = {}
    for name, loader in (("USPS test", load_usps), ("Semeion", load_semeion)):
        try:
            images, labels = loader()
        except OSError:  # ../shared absent: nothing to measure
            continue
        inputs = [as_model_input(p) for p in upscale16(images)]
        blank = np.zeros((28, 28), np.uint8)  # the runtime found no digit: scored as whatever the model says of blank
        sets[name] = (np.stack([blank if x is None else x for x in inputs]), labels)
    return sets


def score(predicted: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy and the most common confusions (true -> read)."""
    wrong = Counter((int(t), int(p)) for t, p in zip(labels, predicted, strict=True) if t != p)
    return {
        "n": len(labels),
        "accuracy": float(np.mean(predicted == labels)),
        "confusions": [[t, p, c] for (t, p), c in wrong.most_common(4)],
    }


def measure(classify: Classify, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, Any]]:
    return {name: score(classify(x.astype(np.float32) / 255.0).argmax(axis=1), y) for name, (x, y) in sets.items()}


def classifier_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("digitkit-*.onnx") if "guard" not in p.name)


def report(folder: Path, per_variant: int) -> dict[str, Any]:
    from digitkit.runtime.files import sha256_file
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.style_table import held_out_styles, style_table

    sets, styles = foreign_sets(), held_out_styles(per_variant)
    models = {}
    for path in classifier_files(folder):
        classify = Recognizer(path, guard=False).classify_mnist
        models[path.name] = {
            "sha256": sha256_file(path),  # the model card quotes these figures only for this very file
            "sets": measure(classify, sets),
            "styles": style_table(classify, styles),
        }
        line = ", ".join(f"{n} {r['accuracy']:.2%}" for n, r in models[path.name]["sets"].items())
        worst = min(models[path.name]["styles"], key=lambda r: r["read_right"])
        print(f"{path.name}: {line}; weakest style {worst['variant']} {worst['read_right']:.1%}")
    return {"per_variant": per_variant, "models": models}


def main(argv: list[str] | None = None) -> int:
    from digitkit.runtime.files import atomic_write_json
    from digitkit.runtime.recognizer import MODELS_DIR

    parser = argparse.ArgumentParser(prog="python -m digitkit.train.handwriting", description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--out", type=Path, help=f"default: MODELS/{REPORT_NAME}")
    parser.add_argument("--per-variant", type=int, default=100)
    args = parser.parse_args(argv)
    atomic_write_json(args.out or args.models / REPORT_NAME, report(args.models, args.per_variant))
    return 0


if __name__ == "__main__":
    sys.exit(main())
