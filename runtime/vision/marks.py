"""Marks that belong to a number without being digits: a decimal point, a minus sign or a dash.

The pieces too small or too flat for a digit (``clean.odd_sizes``) are dropped as specks; a reader of a
meter or a price needs two of them back, or ``31.415`` reads a thousand times too large. A mark must
look like one, filled, not faint, and stand where it means something in its row of digits:

    .   a round dot at most ``DOT_SIZE`` of the row's height, on its baseline, between two digits
    -   a level bar of at least ``BAR_LENGTH`` of the row's height, at mid-height, just before a digit
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from digitkit.runtime.vision.group import Box

DOT_SIZE = 0.35  # a dot's longer side, at most, as a share of its row's digit height (Hershey duplex's: 0.31)
DOT_ASPECT = 2.0  # ... and no longer than this many times its shorter side
BAR_LENGTH = 0.3  # a bar at least this long, as a share of its row's digit height
BAR_THIN = 0.5  # ... at most this thick as a share of its length (Hershey dashes at pen 5: simplex 0.38, duplex 0.48)
BAR_LOW = 0.3  # ... and as a share of the row's height
FILLED = 0.5  # share of the box that is ink: a dot or a bar is solid, a speck of a letter's curve is not
NEAR_BASELINE = 0.2  # a dot's bottom within this share of the height of the row's baseline
BAR_NEXT_TO = 0.8  # a bar ends at most this share of the height before the digit it signs


@dataclass(frozen=True)
class Mark:
    box: Box  # in the working picture's pixels, as the digits' boxes before they are mapped back
    row: int  # the row of digits it belongs to (an index into the rows)
    text: str  # "." or "-"


def find_marks(
    rows: list[list[int]], boxes: list[Box], ink: list[float], small: list[tuple[Box, float]]
) -> tuple[list[Mark], set[int]]:
    """Marks among the candidate digits (``rows`` of indices into ``boxes`` and ``ink``, each left to right) and
    the ``small`` pieces (box, ink) too small or flat for a digit. Returns the marks and the candidate digits
    that are no digits: the marks (a bold dot or a dash passes for a digit's size) and every level bar (no digit
    is that flat beside its row, wherever it lies)."""
    marks, taken = [], set()
    row_boxes = [[boxes[i] for i in row] for row in rows]
    for index, row in enumerate(rows):
        for i in row:
            others = [boxes[k] for k in row if k != i]
            if not others:
                continue
            text = _meaning(boxes[i], others, ink[i])
            if text:
                marks.append(Mark(boxes[i], index, text))
            if text or _is_bar(boxes[i], median(b[3] for b in others)):
                taken.add(i)
    for box, amount in small:
        for index, row in enumerate(row_boxes):
            text = _meaning(box, row, amount)
            if text:
                marks.append(Mark(box, index, text))
                break
    return marks, taken


def _meaning(box: Box, row: list[Box], ink: float) -> str:
    """ "." or "-" when ``box`` (with ``ink`` pixels) is one in ``row`` (the digit boxes beside it), else ""."""
    x, y, w, h = box
    if not row or ink < FILLED * w * h:
        return ""
    height = median(b[3] for b in row)
    top, base = median(b[1] for b in row), median(b[1] + b[3] for b in row)
    after = [b for b in row if b[0] >= x + w]
    before = [b for b in row if b[0] + b[2] <= x]
    if not after:
        return ""
    is_dot = max(w, h) <= DOT_SIZE * height and max(w, h) <= DOT_ASPECT * min(w, h)
    if is_dot and before and abs(y + h - base) <= NEAR_BASELINE * height:
        return "."
    middle = y + h / 2
    is_bar = _is_bar(box, height)
    near = min(b[0] for b in after) - (x + w) <= BAR_NEXT_TO * height
    if is_bar and near and top + 0.3 * height <= middle <= top + 0.75 * height:
        return "-"
    return ""


def _is_bar(box: Box, height: float) -> bool:
    """A level bar beside digits ``height`` tall: long, thin, and low beside them."""
    _, _, w, h = box
    return w >= BAR_LENGTH * height and h <= BAR_THIN * w and h <= BAR_LOW * height
