"""Handwriting that is not MNIST, and MNIST's test set, as arrays: the evaluation sets the benchmarks score.

USPS and Semeion live in ``../shared/data`` (``DIGITKIT_SHARED`` points elsewhere): evaluation only,
never trained on, never copied into the repo.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DIGITKIT_SHARED", REPO.parent / "shared"))


def load_usps(shared: Path = SHARED) -> tuple[np.ndarray, np.ndarray]:
    """USPS test set: (N, 16, 16) uint8 white ink on black, labels."""
    rows = np.loadtxt(gzip.open(shared / "data" / "usps_zip.test.gz", "rt"), dtype=np.float32)
    labels = rows[:, 0].astype(np.int64)
    images = np.round((rows[:, 1:].reshape(-1, 16, 16) + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    return images, labels


def load_semeion(shared: Path = SHARED) -> tuple[np.ndarray, np.ndarray]:
    """Semeion set: (N, 16, 16) uint8 (ink 255), labels."""
    rows = np.loadtxt(shared / "data" / "semeion.data", dtype=np.float32)
    images = (rows[:, :256].reshape(-1, 16, 16) * 255).astype(np.uint8)
    labels = rows[:, 256:].argmax(axis=1).astype(np.int64)
    return images, labels


def upscale16(images: np.ndarray, factor: int = 4) -> list[np.ndarray]:
    """16×16 scans -> larger pictures (smooth edges), as a camera or a scanner would give them."""
    size = 16 * factor
    return [cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in images]


def load_mnist_test(subset: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    from digitkit.train.mnist import load_mnist

    m = load_mnist(log=lambda _m: None)
    images, labels = np.array(m.test_images), np.array(m.test_labels, dtype=np.int64)
    return (images[:subset], labels[:subset]) if subset else (images, labels)
