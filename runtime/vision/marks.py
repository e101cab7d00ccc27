"""Marks that belong to a number without being digits: a decimal point, a minus sign or a dash.

The pieces too small or too flat for a digit (``clean.odd_sizes``) are dropped as specks; a reader of a
meter or a price needs two of them back, or ``31.415`` reads a thousand times too large. A mark must
look like one, filled, not faint, and stand where it means something in its row of digits:

    .   a round dot at most ``dot_size`` of the row's height, on its baseline, between two digits
    -   a level bar of at least ``bar_length`` of the row's height, at mid-height, just before a digit
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.geometry import Box


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
        for index, boxes_in_row in enumerate(row_boxes):
            text = _meaning(box, boxes_in_row, amount)
            if text:
                marks.append(Mark(box, index, text))
                break
    return marks, taken


def _meaning(box: Box, row: list[Box], ink: float) -> str:
    """ "." or "-" when ``box`` (with ``ink`` pixels) is one in ``row`` (the digit boxes beside it), else ""."""
    cfg = active_config()
    x, y, w, h = box
    if not row or ink < cfg.filled * w * h:
        return ""
    height = median(b[3] for b in row)
    top, base = median(b[1] for b in row), median(b[1] + b[3] for b in row)
    after = [b for b in row if b[0] >= x + w]
    before = [b for b in row if b[0] + b[2] <= x]
    if not after:
        return ""
    is_dot = max(w, h) <= cfg.dot_size * height and max(w, h) <= cfg.dot_aspect * min(w, h)
    if is_dot and before and abs(y + h - base) <= cfg.near_baseline * height:
        return "."
    middle = y + h / 2
    is_bar = _is_bar(box, height)
    near = min(b[0] for b in after) - (x + w) <= cfg.bar_next_to * height
    if is_bar and near and top + 0.3 * height <= middle <= top + 0.75 * height:
        return "-"
    return ""


def _is_bar(box: Box, height: float) -> bool:
    """A level bar beside digits ``height`` tall: long, thin, and low beside them."""
    cfg = active_config()
    _, _, w, h = box
    return w >= cfg.bar_length * height and h <= cfg.bar_thin * w and h <= cfg.bar_low * height
