"""MNIST's own digits given the strokes other writers add: a flag on the 1, a bar across the 7, a slash through the 0.

Drawn digits (``train/strokes.py``) bring the styles; these bring them in real
handwriting's texture. Each chosen MNIST training digit is enlarged 4×, the
extra stroke drawn with a pen as wide as the digit's own, and the result passed
through the runtime's ``to_mnist`` as any picture would be. Seeded.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.vision.normalise import stroke_width
from digitkit.train.styles import as_model_input

UPSCALE = 4


def _ink_rows(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(picture > 128)
    return ys, xs


def _pen(picture: np.ndarray) -> int:
    return max(2, round(stroke_width((picture > 128).astype(np.uint8) * 255)))


def with_flag(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 -> the European 1: an up-stroke from low on the left to the top of the stem."""
    ys, xs = _ink_rows(picture)
    top_y = ys.min()
    top = np.array([xs[ys <= top_y + 2].mean(), top_y], dtype=float)
    height = ys.max() - top_y
    angle = np.radians(rng.uniform(25, 65))
    end = top + rng.uniform(0.3, 0.55) * height * np.array([-np.cos(angle), np.sin(angle)])
    out = picture.copy()
    cv2.line(out, tuple(np.round(end).astype(int)), tuple(np.round(top).astype(int)), 255, _pen(picture), cv2.LINE_AA)
    return out


def with_crossbar(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 7 -> the crossed 7: a bar across the stem about halfway down."""
    ys, xs = _ink_rows(picture)
    y = round(ys.min() + rng.uniform(0.45, 0.6) * (ys.max() - ys.min()))
    row = xs[np.abs(ys - y) <= 1]
    x = row.mean() if row.size else xs.mean()
    half = rng.uniform(0.15, 0.25) * (ys.max() - ys.min())
    out = picture.copy()
    start, end = (round(x - half), y + round(rng.normal(0, 2))), (round(x + half), y + round(rng.normal(0, 2)))
    cv2.line(out, start, end, 255, _pen(picture), cv2.LINE_AA)
    return out


def with_slash(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0 -> Ø: a slash from below-left to above-right, past the oval."""
    ys, xs = _ink_rows(picture)
    over = rng.uniform(0.0, 0.12) * (ys.max() - ys.min())
    start = (round(xs.min() - over + rng.normal(0, 2)), round(ys.max() + over))
    end = (round(xs.max() + over + rng.normal(0, 2)), round(ys.min() - over))
    out = picture.copy()
    cv2.line(out, start, end, 255, _pen(picture), cv2.LINE_AA)
    return out


ADDITIONS = {1: with_flag, 7: with_crossbar, 0: with_slash}


def mnist_style_variants(
    images: np.ndarray, labels: np.ndarray, per_digit: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``per_digit`` MNIST training 0s, 1s and 7s each given its added stroke; uint8 (N, 28, 28) and labels."""
    rng = np.random.default_rng(seed)
    out, out_labels = [], []
    for digit, add in ADDITIONS.items():
        chosen = rng.choice(np.flatnonzero(labels == digit), size=per_digit, replace=False)
        for i in chosen:
            big = cv2.resize(images[i], None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_LINEAR)
            pad = 12 * UPSCALE  # room for a stroke that runs past the digit
            big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
            image = as_model_input(add(big, rng))
            if image is not None:
                out.append(image)
                out_labels.append(digit)
    return np.stack(out), np.array(out_labels, dtype=np.int64)
