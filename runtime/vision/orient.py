"""Stage: which way up a page is, when it was photographed sideways or upside down.

EXIF orientation is applied when the picture is loaded (images.load_picture); this
is for pictures without it. Digits read the wrong way up are still "digits" to a
model, but weakly: an upright page reads with a high mean confidence. So when
the upright reading is weak, the other three orientations are read too and the
most confident kept, but only by a clear margin (a 6 upside down is a good 9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

# Upright readings whose digits' mean confidence (the recognizer's, guard included) is at or above this are kept
# without trying other orientations.
WEAK = 0.9
# Another orientation must beat the upright reading's mean confidence by this much.
MARGIN = 0.05
TURNS = (90, 270, 180)
# Only a reading with at least this many marks is tried turned: a row of digits shows which way is up, a lone mark
# does not (a 6 turned is a 9, a c turned a 0: letters read as digits in 70 % of nondigits.letter pictures when
# every picture was tried turned; the sideways development pages show 10 marks or more).
MIN_MARKS = 3
# A turned reading replaces the upright one only when it reads as digits written in rows: its digits at least this
# sure on average (what an upright page needs to be left alone, WEAK), and this many to a row on average. A word
# turned on its side reads as a column of letters, one to a row, each a weak digit (HELLO turned: "0|2|2|4|5").
TURNED_PER_ROW = 1.5


def turn(grey: np.ndarray, degrees: int) -> np.ndarray:
    """The picture turned clockwise by 0, 90, 180 or 270 degrees."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return grey if degrees == 0 else cv2.rotate(grey, codes[degrees])


def strength(page, judge: Callable[[np.ndarray], np.ndarray]) -> float:
    """Mean confidence of a page's digits as ``judge`` ((N, 28, 28) -> (N,) confidences) gives it; 0 without digits."""
    digits = page.digits
    if not digits:
        return 0.0
    return float(np.mean(judge(np.stack([d.mnist for d in digits]))))


def most_confident(grey: np.ndarray, upright, read: Callable, judge: Callable):
    """The upright reading, or a turned one that reads clearly more confidently."""
    if len(upright.digits) < MIN_MARKS:
        return upright
    best, best_strength = upright, strength(upright, judge)
    if best_strength >= WEAK:
        return upright
    threshold = best_strength + MARGIN
    for degrees in TURNS:
        page = read(turn(grey, degrees))
        if len(page.digits) < TURNED_PER_ROW * len(page.rows):
            continue
        score = strength(page, judge)
        if score >= WEAK and score > threshold and score > best_strength:
            best, best_strength = replace(page, turned=degrees), score
    return best
