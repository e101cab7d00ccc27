"""The CVL Single Digit set: real handwriting by European writers, the one non-MNIST set digitkit trains on.

    load_cvl("train")   # (images, labels, writers) of the 67 writers of cvl_train.npz

127 writers (mostly Austrian students and staff; Diem et al., "ICDAR 2013 Competition on Handwritten
Digit Recognition (HDRC 2013)", research use) in two files whose writers are disjoint: ``cvl_train``
and ``cvl_valid``, 7,000 digits each. They are read from ``../shared/data/cvl`` or the folder
``$DIGITKIT_CVL_DIR`` names, never copied into the repo.

The files hold dark ink on light paper, 20 px digits in 28 × 28. Each goes through the runtime's
``to_mnist`` (enlarged 4×, as a scan reaches it), so the classifier trains on exactly what the
runtime feeds it for such a picture, MNIST's polarity and centring included.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.train.foreign_data import SHARED

SPLITS = ("train", "valid")
ENV_CVL_DIR = "DIGITKIT_CVL_DIR"
ENLARGE = 4  # 28 px -> 112 px before to_mnist: the size a scanned digit reaches the runtime at


@dataclass(frozen=True)
class CvlDigits:
    images: np.ndarray  # uint8 (N, 28, 28), white ink on black, as to_mnist makes them (MNIST's layout)
    labels: np.ndarray  # int64 (N,)
    writers: np.ndarray  # int64 (N,), the writer of each digit


def cvl_dir() -> Path:
    return Path(os.environ.get(ENV_CVL_DIR) or SHARED / "data" / "cvl")


def cvl_file(split: str, folder: Path | None = None) -> Path:
    if split not in SPLITS:
        raise DigitkitError(f"unknown CVL split {split!r} (choose from {', '.join(SPLITS)})")
    path = (folder or cvl_dir()) / f"cvl_{split}.npz"
    if not path.is_file():
        raise DigitkitError(
            f"{path}: CVL digits not found; this recipe trains on MNIST + CVL "
            f"(put cvl_train.npz and cvl_valid.npz there, or set {ENV_CVL_DIR})"
        )
    return path


def load_cvl_raw(split: str, folder: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The file as it is: uint8 (N, 28, 28) dark ink on light paper, labels, writer ids."""
    path = cvl_file(split, folder)
    try:
        with np.load(path) as data:
            images, labels, writers = data["images"], data["labels"], data["writers"]
    except (OSError, ValueError, KeyError) as exc:
        raise DigitkitError(f"{path}: not a CVL digits file ({exc})") from None
    if images.ndim != 3 or images.shape[1:] != (28, 28) or not len(images) == len(labels) == len(writers):
        raise DigitkitError(f"{path}: expected images (N, 28, 28) with N labels and writers, got {images.shape}")
    return images.astype(np.uint8), labels.astype(np.int64), writers.astype(np.int64)


def as_model_input(picture: np.ndarray) -> np.ndarray:
    """One CVL digit (dark on light) -> uint8 (28, 28) as the runtime's to_mnist makes it; blank when it finds none."""
    from digitkit.runtime.vision import to_mnist

    big = cv2.resize(picture, (28 * ENLARGE, 28 * ENLARGE), interpolation=cv2.INTER_LINEAR)
    mnist = to_mnist(big)
    return np.zeros((28, 28), np.uint8) if mnist is None else np.round(mnist * 255).astype(np.uint8)


def load_cvl(split: str, folder: Path | None = None) -> CvlDigits:
    """A CVL split as the model is fed (see the module's docstring)."""
    images, labels, writers = load_cvl_raw(split, folder)
    return CvlDigits(np.stack([as_model_input(p) for p in images]), labels, writers)


def held_out_split(trained_on: tuple[str, ...]) -> str | None:
    """The CVL split whose writers a run trained on ``trained_on`` never saw (None when it saw both)."""
    rest = [s for s in SPLITS if s not in trained_on]
    return rest[0] if rest else None


def with_cvl_digits(images: np.ndarray, labels: np.ndarray, splits: tuple[str, ...], repeat: int):
    """MNIST's training ``images`` (uint8 (N, 28, 28)) and ``labels`` with the CVL ``splits`` appended ``repeat`` times."""
    if not splits:
        return images, labels
    parts = [load_cvl(s) for s in splits]
    extra = np.concatenate([p.images for p in parts])
    extra_labels = np.concatenate([p.labels for p in parts])
    return (
        np.concatenate([images, *[extra] * repeat]),
        np.concatenate([labels, *[extra_labels] * repeat]),
    )


def main() -> int:
    """``python -m digitkit.train.cvl``: whether the CVL files a recipe trains on are there, in one line either way.

    ``make ship`` asks first, so a missing file stops it before the half hour of MNIST training that precedes
    the first CVL run.
    """
    try:
        counts = {split: len(load_cvl_raw(split)[1]) for split in SPLITS}
    except DigitkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"CVL digits in {cvl_dir()}: " + ", ".join(f"{split} {n:,}" for split, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
