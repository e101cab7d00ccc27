"""Handwriting styles MNIST (American writers) hardly shows, synthesised from its own digits.

Much of Europe writes 1 with a long upstroke from the top; a model trained
on MNIST alone reads such a 1 as a 7 or a 4 (on Semeion, Italian writers,
a fifth of the 1s). ``flagged_ones`` draws that upstroke onto MNIST's own
1s, at the stroke's own width, and brings the result back to MNIST's format
through the runtime's preprocessing, the same path a real picture takes.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.preprocess import to_mnist

UPSCALE = 4  # draw at 112×112 so that the new stroke is as smooth as the old ones


def flagged_ones(
    images: np.ndarray, labels: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` new 1s (uint8, (count, 28, 28)) with an upstroke drawn from the top of the stem."""
    ones = np.flatnonzero(labels == 1)
    picked = rng.choice(ones, size=count, replace=count > len(ones))
    out = [_with_flag(images[i], rng) for i in picked]
    kept = [(d * 255).round().astype(np.uint8) for d in out if d is not None]
    return np.stack(kept), np.ones(len(kept), dtype=labels.dtype)


def _with_flag(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    big = cv2.resize(digit, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(big > 128)
    if ys.size == 0:
        return None
    top, bottom = int(ys.min()), int(ys.max())
    height = bottom - top + 1
    width = max(UPSCALE, round(ys.size / height))  # a 1 is one stroke: its area over its height
    near_top = ys <= top + width
    start = (float(xs[near_top].mean()), float(top + width / 2))
    length = rng.uniform(0.25, 0.5) * height
    angle = np.deg2rad(rng.uniform(30.0, 60.0))  # below the horizontal, towards the left (flatter: a 7)
    end = (start[0] - length * np.cos(angle), start[1] + length * np.sin(angle))
    canvas = np.zeros((big.shape[0] + 2 * height, big.shape[1] + 2 * height), np.uint8)  # room on the left
    canvas[height : height + big.shape[0], height : height + big.shape[1]] = big
    shift = 16  # cv2.line's fixed-point fraction bits: sub-pixel ends
    p0 = tuple(round((v + height) * (1 << shift)) for v in start)
    p1 = tuple(round((v + height) * (1 << shift)) for v in end)
    cv2.line(canvas, p0, p1, 255, thickness=width, lineType=cv2.LINE_AA, shift=shift)
    return to_mnist(canvas)
