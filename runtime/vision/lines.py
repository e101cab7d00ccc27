"""Stage (between binarise and components): the printed lines of squared or lined paper are not ink.

An exercise book's grid joins every stroke into one piece with the whole page, so
it goes before the pieces are found. A printed line is long and straight, level
or upright (a photo tilts it a few degrees), and fainter than the writing: pixels
on such a line and fainter than the strokes' ink are taken out of the mask; where
a line crosses a stroke the ink is as strong as the stroke's, and stays.

A line drawn as dark as the writing is no printed line, but an underline through the
digits' feet joins them all into one piece just the same: a level run far longer than
the piece it joins is tall goes too, with its ends (``_rules``).
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.components import label, percentile

# A printed line runs straight for at least this share of the picture's longer side (a digit's longest
# straight stroke, a 7's bar, is shorter in a row of digits, and the faintness test keeps it when it is not).
LINE_SPAN = 0.25
LINE_MIN = 15  # pixels, whatever the picture's size
# ... and its pixels are fainter than this share of the way from paper to the strokes' ink (blue ink over a
# grey grid, train/pictures.py "squared paper": grid at 30-60 % of the ink's contrast).
FAINT = 0.7
RIM = 0.02  # lines within this share of the picture's side from its border are left alone (clean.py drops them)
# A level line as dark as the writing is ruled across it (an underline) when it is this many times longer than
# the piece it lies in is tall (a row of two digits and more; a 2's base, a 7's bar: about 1), and that piece is
# at least RULE_TOUCH times the line's own thickness tall (it touches something).
RULE_LENGTH = 3.0
RULE_TOUCH = 2.0


def without_printed_lines(binarised: Binarised, known: np.ndarray | None = None) -> Binarised:
    """The binarised picture with faint long level and upright lines taken out of its mask.

    ``known``: the printed lines an earlier pass over the same picture found (``Binarised.printed``). A wider
    window, used for large writing, leaves a grid line near a stroke out of the mask where it passes the
    stroke's dark window (its mean is raised by the stroke), so the line arrives broken into stubs too short
    to be seen as a line, and each stub clings to the stroke: the earlier pass saw it whole.
    """
    if binarised.clean_scan:
        # a data set's clean scan of one digit (MNIST, USPS, Semeion) has no paper behind it, and enlarged to
        # working size the straight rims of its bold strokes pass for lines (Semeion: 6s cut through the loop)
        return binarised
    found, runs = _line_shapes(binarised)  # runs: every long level run, for the underlines (_rules)
    mask, ink = binarised.mask, binarised.ink
    rules = None if runs is None else _rules(mask, runs)
    if rules is not None:  # as dark as the writing: out of the mask whatever their level
        mask = (mask & ~(rules & mask)).view(np.uint8)
        binarised = replace(binarised, mask=mask)
    if known is not None:
        found = known if found is None else found | known
    if found is None:
        return binarised
    rest = (mask > 0) & ((found & mask) == 0)
    if not rest.any():
        return binarised  # nothing but lines: they are the writing (a 1, a 7 written with a ruler)
    if binarised.flat:
        paper = float(binarised.paper)
    else:
        paper = percentile(ink[mask == 0], 0.5, most=None) if (mask == 0).any() else 0.0
    stroke = percentile(ink[rest], 0.9, most=None)
    seen = mask if known is None else mask | known  # the lines' pixels this pass or an earlier one took for ink
    printed = (found > 0) & (seen > 0) & (ink < paper + FAINT * (stroke - paper))
    if not printed.any():
        return binarised
    return replace(binarised, mask=(mask & ~printed).view(np.uint8), printed=printed.view(np.uint8))


def rim_width(shape: tuple[int, int]) -> int:
    """The band along the picture's border (pixels) where a line is taken for a sheet's edge."""
    return max(2, round(RIM * max(shape)))


def _line_shapes(binarised: Binarised) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(thin, level): 0/1 pixels on (or one pixel beside) a thin long level or upright run of the mask, and on
    every long level run, thin or not (for _rules); None for either when there is none."""
    mask = binarised.mask
    length = max(LINE_MIN, round(LINE_SPAN * max(mask.shape)))
    # a line tilted by a few degrees steps from row to row: thicken it by a pixel each way before the opening;
    # the opening keeps only runs ``length`` long, so a row (column) with less ink than that keeps nothing
    level = cv2.dilate(mask, np.ones((3, 1), np.uint8))
    upright = cv2.dilate(mask, np.ones((1, 3), np.uint8))
    level_room, upright_room = level.sum(axis=1).max() >= length, upright.sum(axis=0).max() >= length
    if not (level_room or upright_room):
        return None, None
    level = _runs(level, (length, 1)) if level_room else np.zeros_like(level)
    upright = _runs(upright, (1, length)) if upright_room else np.zeros_like(upright)
    if not (level.any() or upright.any()):
        return None, None
    # a line along the picture's border is the edge of a sheet, left whole for clean's hugging test
    rim = rim_width(mask.shape)
    level[:rim], level[-rim:], upright[:, :rim], upright[:, -rim:] = 0, 0, 0, 0
    runs = level.copy() if level.any() else None
    # printed lines are thin; a band as thick as the window's reach along a table's or a shadow's edge is not one
    thick = 2 + max(3, binarised.window // 6)  # the dilation above made every line 2 px thicker
    level &= ~cv2.morphologyEx(level, cv2.MORPH_OPEN, np.ones((thick, 1), np.uint8))
    upright &= ~cv2.morphologyEx(upright, cv2.MORPH_OPEN, np.ones((1, thick), np.uint8))
    found = level | upright
    return (found if found.any() else None), runs


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


def _rules(mask: np.ndarray, level: np.ndarray) -> np.ndarray | None:
    """0/1 pixels of the level lines drawn across the writing, as dark as it: an underline through the digits'
    feet. A level run is one when it is ``RULE_LENGTH`` times longer than the piece of ink it lies in is tall:
    a 2's base or a 7's bar is about as long as its digit is tall. A line touching nothing is left alone (a
    dash), and upright runs are: a 1's stem with its flag is such a run beside a short stroke
    (screen/dfak0_01)."""
    out, pieces = None, None
    count, labels, stats = label(level)
    for k in range(1, count):
        width, depth = int(stats[k, cv2.CC_STAT_WIDTH]), int(stats[k, cv2.CC_STAT_HEIGHT])
        if width < RULE_LENGTH * RULE_TOUCH * depth:
            continue  # too short for its thickness to be ruled across anything
        segment = (labels == k).view(np.uint8)
        if pieces is None:
            pieces = label(mask)
        ids = pieces[1][(segment > 0) & (mask > 0)]
        if ids.size == 0:
            continue
        piece = int(np.bincount(ids).argmax())
        tall = int(pieces[2][piece, cv2.CC_STAT_HEIGHT])
        if tall >= RULE_TOUCH * depth and width >= RULE_LENGTH * tall:
            own = pieces[1] == piece
            line = segment | _line_ends(own, segment)
            # ... and what the line touches is still there without it: a stroke of its own drawn tilted (a 2's base
            # written apart from its body) is as tall as that with its ends, and nothing is left beside it
            rest = np.flatnonzero((own & (line == 0)).any(axis=1))
            if rest.size and rest[-1] - rest[0] + 1 >= RULE_TOUCH * depth:
                out = line if out is None else out | line
    return out


def _line_ends(piece: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """0/1: the parts of ``piece`` beside a rule's run that are flat (three times wider than tall): the ends of a
    tilted line step off the run's rows, and left in the mask would join the digits nearest them."""
    rest = (piece & (segment == 0)).view(np.uint8)
    _, labels, stats = label(rest)
    keep = stats[:, cv2.CC_STAT_WIDTH] >= 3 * stats[:, cv2.CC_STAT_HEIGHT]  # flat
    touching = np.zeros_like(keep)
    touching[labels[cv2.dilate(segment, np.ones((3, 3), np.uint8)) > 0]] = True
    keep &= touching
    keep[0] = False  # the background
    return keep[labels].view(np.uint8)
