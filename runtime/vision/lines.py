"""Stage (between binarise and components): the printed lines of squared or lined paper are not ink.

An exercise book's grid joins every stroke into one piece with the whole page, so
it goes before the pieces are found. A printed line is long and straight, level
or upright (a photo tilts it a few degrees), and fainter than the writing: pixels
on such a line and fainter than the strokes' ink are taken out of the mask; where
a line crosses a stroke the ink is as strong as the stroke's, and stays.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised

# A printed line runs straight for at least this share of the picture's longer side (a digit's longest
# straight stroke, a 7's bar, is shorter in a row of digits, and the faintness test keeps it when it is not).
LINE_SPAN = 0.25
LINE_MIN = 15  # pixels, whatever the picture's size
# ... and its pixels are fainter than this share of the way from paper to the strokes' ink (blue ink over a
# grey grid, benchmarks/robustness.py "squared paper": grid at 30-60 % of the ink's contrast).
FAINT = 0.7
RIM = 0.02  # lines within this share of the picture's side from its border are left alone


def without_printed_lines(binarised: Binarised) -> Binarised:
    """The binarised picture with faint long level and upright lines taken out of its mask."""
    mask = binarised.mask
    length = max(LINE_MIN, round(LINE_SPAN * max(mask.shape)))
    if mask.sum(axis=1).max() < length / 3 and mask.sum(axis=0).max() < length / 3:
        return binarised  # no row or column holds enough ink for a line (a tilted one spreads over three)
    # a line tilted by a few degrees steps from row to row: thicken it by a pixel each way before the opening
    level = cv2.morphologyEx(
        cv2.dilate(mask, np.ones((3, 1), np.uint8)), cv2.MORPH_OPEN, np.ones((1, length), np.uint8)
    )
    upright = cv2.morphologyEx(
        cv2.dilate(mask, np.ones((1, 3), np.uint8)), cv2.MORPH_OPEN, np.ones((length, 1), np.uint8)
    )
    if not (level.any() or upright.any()):
        return binarised
    # printed lines are thin; a band as thick as the window's reach along a table's or a shadow's edge is not one
    thick = 2 + max(3, binarised.window // 6)  # the dilation above made every line 2 px thicker
    level &= ~cv2.morphologyEx(level, cv2.MORPH_OPEN, np.ones((thick, 1), np.uint8))
    upright &= ~cv2.morphologyEx(upright, cv2.MORPH_OPEN, np.ones((1, thick), np.uint8))
    # a line along the picture's border is the edge of a sheet, left whole for clean's hugging test
    rim = max(2, round(RIM * max(mask.shape)))
    level[:rim], level[-rim:], upright[:, :rim], upright[:, -rim:] = 0, 0, 0, 0
    lines = (level | upright) & mask
    if not lines.any():
        return binarised
    ink = binarised.ink
    rest = (mask > 0) & (lines == 0)
    if not rest.any():
        return binarised  # nothing but lines: they are the writing (a 1, a 7 written with a ruler)
    paper = float(np.median(ink[mask == 0])) if (mask == 0).any() else 0.0
    stroke = float(np.percentile(ink[rest], 90))
    faint = ink < paper + FAINT * (stroke - paper)
    taken = (lines > 0) & faint
    if not taken.any():
        return binarised
    return replace(binarised, mask=(mask & ~taken).view(np.uint8))
