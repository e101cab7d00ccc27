"""Stage (between binarise and components): the printed lines of squared or lined paper are not ink.

A grid joins every stroke into one piece with the page, so it goes before the pieces are found. A printed
line is long, straight, level or upright, and fainter than the writing: its pixels fainter than the strokes'
ink leave the mask (where it crosses a stroke, the ink stays). The long level runs as dark as the writing
are returned (``Lines.runs``) for ``underlines.py``, which judges them once the pieces are known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.order import percentile

_LEVEL_STEP, _UPRIGHT_STEP = np.ones((3, 1), np.uint8), np.ones((1, 3), np.uint8)  # a tilted line's step, each way


@dataclass(frozen=True)
class Lines:
    """What this stage found, for the stages after it (working pixels, uint8 0/1)."""

    printed: np.ndarray | None = None  # printed lines taken out of the mask (a form's loose ticks stand on them)
    runs: np.ndarray | None = None  # every long level run of the mask, thin or not: where underlines are looked for


def without_printed_lines(binarised: Binarised, known: np.ndarray | None = None) -> tuple[Binarised, Lines]:
    """The binarised picture with faint long level and upright lines taken out of its mask, and those lines.

    ``known``: the printed lines an earlier pass over the same picture found (``Lines.printed``). A wider
    window, used for large writing, leaves a grid line near a stroke out of the mask where it passes the
    stroke's dark window (its mean is raised by the stroke), so the line arrives broken into stubs too short
    to be seen as a line, and each stub clings to the stroke: the earlier pass saw it whole.
    """
    cfg = active_config()
    if binarised.clean_scan:
        # a data set's clean scan of one digit (MNIST, USPS, Semeion) has no paper behind it, and enlarged to
        # working size the straight rims of its bold strokes pass for lines (Semeion: 6s cut through the loop)
        return binarised, Lines()
    (y0, y1, x0, x1), found, runs = _line_shapes(binarised)
    shape = binarised.mask.shape
    lines = Lines(runs=None if runs is None else _in_picture(runs, shape, x0, y0))
    inside: tuple[slice, slice] = np.s_[y0:y1, x0:x1]  # all of the ink: the lines were looked for there (_line_shapes)
    if known is not None:  # an earlier pass's lines, anywhere in the picture
        found = known if found is None else _in_picture(found, shape, x0, y0) | known
        inside = np.s_[:, :]
    if found is None:
        return binarised, lines
    mask, ink = binarised.mask[inside], binarised.ink[inside]
    rest = (mask > 0) & ((found & mask) == 0)
    if not rest.any():
        return binarised, lines  # nothing but lines: they are the writing (a 1, a 7 written with a ruler)
    if binarised.flat:
        paper = float(cast(int, binarised.paper))  # flat: paper is not None
    else:
        blank = binarised.mask == 0
        paper = percentile(binarised.ink[blank], 0.5, most=None) if blank.any() else 0.0
    stroke = percentile(ink[rest], 0.9, most=None)
    seen = mask if known is None else mask | known  # the lines' pixels this pass or an earlier one took for ink
    printed = ((found > 0) & (seen > 0) & (ink < paper + cfg.faint_line * (stroke - paper))).view(np.uint8)
    if not printed.any():
        return binarised, lines
    printed = printed if known is not None else _in_picture(printed, shape, x0, y0)
    return replace(binarised, mask=binarised.mask & ~printed), replace(lines, printed=printed)


def rim_width(shape: tuple[int, int]) -> int:
    """The band along the picture's border (pixels) where a line is taken for a sheet's edge."""
    cfg = active_config()
    return max(2, round(cfg.line_rim * max(shape)))


def _line_shapes(
    binarised: Binarised,
) -> tuple[tuple[int, int, int, int], np.ndarray | None, np.ndarray | None]:
    """(box, thin, level): the box (y0, y1, x0, x1) around the ink with two blank pixels on each side; in it,
    0/1 pixels on (or one pixel beside) a thin long level or upright run of the mask, and on every long level
    run, thin or not (for underlines.py); None for either when there is none.

    Worked out in that box (a drawing: a third of its canvas): the dilation below reaches one of the blank
    pixels, and the other stays blank, so that a run or an opening reaching past the box finds there what it
    would find in the picture, no ink."""
    cfg = active_config()
    mask = binarised.mask
    height, width = mask.shape
    length = max(cfg.line_min, round(cfg.line_span * max(mask.shape)))
    x, y, w, h = cv2.boundingRect(mask)
    x0, y0, x1, y1 = max(0, x - 2), max(0, y - 2), min(width, x + w + 2), min(height, y + h + 2)
    box = mask[y0:y1, x0:x1]
    # a line tilted by a few degrees steps from row to row: thicken it by a pixel each way before the opening
    level, level_rows = _long_runs(cv2.dilate(box, _LEVEL_STEP), length, x0 == 0 or x1 == width)
    upright, upright_columns = _long_runs(
        cv2.transpose(cv2.dilate(box, _UPRIGHT_STEP)), length, y0 == 0 or y1 == height
    )
    if level_rows is None and upright_columns is None:
        return (y0, y1, x0, x1), None, None
    upright = cast(np.ndarray, cv2.transpose(upright))  # its columns were worked on as rows
    # a line along the picture's border is the edge of a sheet, left whole for clean's hugging test
    rim = rim_width(mask.shape)
    level[: max(0, rim - y0)], level[max(0, height - rim - y0) :] = 0, 0
    upright[:, : max(0, rim - x0)], upright[:, max(0, width - rim - x0) :] = 0, 0
    runs = level.copy() if cv2.hasNonZero(level) else None
    # printed lines are thin; a band as thick as the window's reach along a table's or a shadow's edge is not one
    # (an opening across them keeps it). Only the rows (columns) that hold runs, and as many beside them as the
    # opening reaches, can change: the opening is done on that band alone.
    thick = 2 + max(3, binarised.window // 6)  # the dilation above made every line 2 px thicker
    if level_rows is not None:
        band = slice(max(0, level_rows[0] - thick), level_rows[-1] + 1 + thick)
        level[band] &= ~cast(np.ndarray, cv2.morphologyEx(level[band], cv2.MORPH_OPEN, np.ones((thick, 1), np.uint8)))
    if upright_columns is not None:
        band = slice(max(0, upright_columns[0] - thick), upright_columns[-1] + 1 + thick)
        upright[:, band] &= ~cast(
            np.ndarray, cv2.morphologyEx(upright[:, band], cv2.MORPH_OPEN, np.ones((1, thick), np.uint8))
        )
    found = level | upright
    return (y0, y1, x0, x1), (found if cv2.hasNonZero(found) else None), runs


def _in_picture(part: np.ndarray, shape: tuple[int, int], x: int, y: int) -> np.ndarray:
    """A box's 0/1 pixels at (x, y) in a blank picture of this shape."""
    out = np.zeros(shape, part.dtype)
    out[y : y + part.shape[0], x : x + part.shape[1]] = part
    return out


def _long_runs(lines: np.ndarray, length: int, at_border: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(0/1 pixels of ``lines`` on a level run at least ``length`` long; the rows that hold one, None for none).
    The opening that finds them (``_runs``) works on each row alone, and only a row holding that many pixels can
    hold such a run, or half that many when the rows end at the picture's border (``at_border``: the opening
    counts the picture's outside as ink, and a run from the border needs half the length): the other rows are
    not looked at (a drawing: a few of its rows)."""
    sums = cv2.reduce(lines, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rows = np.flatnonzero(sums >= ((length + 1) // 2 if at_border else length))
    out = np.zeros_like(lines)
    if rows.size == 0:
        return out, None
    runs = _runs(lines[rows], (length, 1))
    out[rows] = runs
    rows = rows[runs.any(axis=1)]
    return out, (rows if rows.size else None)


def _runs(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """0/1: the mask's pixels on a straight run of at least ``size`` (width, height: one of them 1) pixels.

    A morphological opening with that line, by running sums: a run's window sums to its length wherever it
    fits (the erosion), and every pixel of a window that fits is kept (the dilation). OpenCV's opening costs
    time in proportion to the line's length, the sums do not (1×71 on 280×280: 0.19 ms -> 0.13 ms).
    """
    length = max(size)
    fits = cv2.boxFilter(mask, cv2.CV_16U, size, normalize=False, borderType=cv2.BORDER_REPLICATE) >= length
    spread = cv2.boxFilter(fits.view(np.uint8), cv2.CV_16U, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    return (spread > 0).view(np.uint8)
