"""Score the picture -> digits path on real photos (../shared/data/photos, a development set).

    python -m digitkit.benchmarks.photos [--failures DIR] [--precision int8]

Pages are read with ``read_number`` (default options) and scored as 1 − edit
distance / length over the digits, rows joined, as ../shared/tools/score_photos.py
scores the command line; single digits and screen drawings with
``Recognizer.predict``, right only when the answered digit is right ("not sure"
is wrong). ``--failures DIR`` writes every page annotated (boxes, digits,
confidences) and every misread single with the 28×28 the model saw, to look at.
The photos are never trained on and never copied into the project.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PHOTOS = Path(os.environ.get("DIGITKIT_SHARED", REPO.parent / "shared")) / "data" / "photos"


@dataclass(frozen=True)
class Item:
    path: Path
    label: str  # a digit, or a page's rows joined by " | "


def items(kind: str, root: Path = PHOTOS) -> list[Item]:
    """The manifest's items of one kind: ``pages``, ``single`` or ``screen``."""
    with open(root / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [Item(root / r["file"], r["label"]) for r in rows if r["file"].startswith(kind + "/")]


def digit_accuracy(read: str, truth: str) -> float:
    """1 − edit distance / length over the digits only (rows joined), floored at 0."""
    a = [c for c in read if c.isdigit()]
    b = [c for c in truth if c.isdigit()]
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return max(0.0, 1.0 - previous[-1] / max(1, len(b)))


def score_pages(recognizer, root: Path = PHOTOS, failures: Path | None = None) -> list[tuple[str, float, str, float]]:
    """(file, accuracy, text read, seconds) for each page."""
    from digitkit.runtime.annotate import annotate
    from digitkit.runtime.reading import read_number

    out = []
    for item in items("pages", root):
        start = time.perf_counter()
        reading = read_number(item.path, recognizer)
        seconds = time.perf_counter() - start
        text = reading.text.replace("\n", " | ")
        out.append((item.path.name, digit_accuracy(text, item.label), text, seconds))
        if failures is not None:
            import cv2

            cv2.imwrite(str(failures / f"page_{item.path.stem}.png"), annotate(item.path, reading))
    return out


def score_singles(recognizer, kind: str, root: Path = PHOTOS, failures: Path | None = None) -> tuple[float, list]:
    """Share of the pictures of ``kind`` (single or screen) answered right, and the misread ones."""
    wrong = []
    listed = items(kind, root)
    for item in listed:
        prediction = recognizer.predict(item.path)
        if str(prediction.digit) != item.label:
            wrong.append((item.path.name, prediction))
            if failures is not None and prediction.mnist is not None:
                import cv2

                name = f"{kind}_{item.path.stem}_read-{prediction.digit}-{prediction.status.replace(' ', '-')}.png"
                cv2.imwrite(str(failures / name), (prediction.mnist * 255).astype("uint8"))
    return 1.0 - len(wrong) / max(1, len(listed)), wrong


def main(argv: list[str] | None = None) -> int:
    from digitkit.runtime.recognizer import Recognizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=Path, default=None, help="write annotated pages and misread digits here")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    parser.add_argument("--root", type=Path, default=PHOTOS)
    args = parser.parse_args(argv)
    if not (args.root / "MANIFEST.tsv").is_file():
        print(f"no photos at {args.root} (the development set lives in ../shared/data/photos)")
        return 1
    if args.failures is not None:
        args.failures.mkdir(parents=True, exist_ok=True)
    recognizer = Recognizer(precision=args.precision, threads=1)
    pages = score_pages(recognizer, args.root, args.failures)
    print("| page | digits right | read | ms |\n|---|---:|---|---:|")
    for name, accuracy, text, seconds in pages:
        print(f"| {name} | {accuracy:.1%} | `{text[:50]}` | {1000 * seconds:.0f} |")
    mean = sum(p[1] for p in pages) / max(1, len(pages))
    lowest = min((p[1] for p in pages), default=0.0)
    single, single_wrong = score_singles(recognizer, "single", args.root, args.failures)
    screen, screen_wrong = score_singles(recognizer, "screen", args.root, args.failures)
    for name, p in single_wrong + screen_wrong:
        print(f"misread: {name}: {p.status} {p.digit} (confidence {p.confidence:.2f}, top {p.top(2)})")
    print(
        f"real photos: pages mean {mean:.1%} (lowest {lowest:.1%}, {sum(p[1] < 0.9 for p in pages)} under 90%), "
        f"single {single:.1%}, screen {screen:.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
