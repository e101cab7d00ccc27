"""Stage: which way up a page is, when it was photographed sideways or upside down.

EXIF orientation is applied when the picture is loaded (images.load_picture); this
is for pictures without it. Digits read the wrong way up are still "digits" to a
model, but weakly: an upright page reads with a high mean confidence. So when
the upright reading is weak, the other three orientations are read too and the
most confident kept, but only by a clear margin (a 6 upside down is a good 9).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import cv2
import numpy as np

from digitkit.runtime.vision import stages
from digitkit.runtime.vision.config import active_config


def turn(grey: np.ndarray, degrees: int) -> np.ndarray:
    """The picture turned clockwise by 0, 90, 180 or 270 degrees."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return grey if degrees == 0 else cv2.rotate(grey, codes[degrees])


def strength(page, judge: Callable[[list[np.ndarray]], Sequence[float] | np.ndarray]) -> float:
    """Mean confidence of a page's digits as ``judge`` (their 28×28s -> a confidence each) gives it; 0 without digits."""
    digits = page.digits
    if not digits:
        return 0.0
    return float(np.mean(judge([d.mnist for d in digits])))


def most_confident(grey: np.ndarray, upright, read: Callable, judge: Callable):
    """The upright reading, or a turned one that reads clearly more confidently."""
    cfg = active_config()
    if len(upright.digits) < cfg.min_marks:
        return upright
    best, best_strength = upright, strength(upright, judge)
    if best_strength >= cfg.weak:
        return upright
    threshold = best_strength + cfg.margin
    for degrees in cfg.turns:
        stages.section(f"turned-{degrees}-")
        page = read(turn(grey, degrees))
        if len(page.digits) < cfg.turned_per_row * len(page.rows):
            continue
        score = strength(page, judge)
        if score >= cfg.weak and score > threshold and score > best_strength:
            best, best_strength = replace(page, turned=degrees), score
    stages.section("")
    return best
