"""Stage: drop the pieces of ink that are not writing.

Two passes. Before grouping, by each piece alone: specks (paper grain, dust, JPEG
noise) by their size against the picture, and borders of dark regions (a page's
or a table's edge, a shadow) by their surround (see ``components.surround``).
After grouping, by the digits around them (``odd_sizes``): handwritten digits
of one picture are of one size, so a mark far taller than the typical digit is
a rule or an edge, a flat one far wider is an underline, a tiny one a dot.
Nothing is judged by its share of the *largest* piece: one table edge would make
every digit a speck.
"""

from __future__ import annotations

import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.components import Pieces, stand_out
from digitkit.runtime.vision.group import Box, typical_height, union, weighted_median
from digitkit.runtime.vision.lines import rim_width

# A piece whose longer side is under this share of the working picture's longer side is a speck (6 px on a
# 1000-px page; the smallest real digits on the development pages are about 12 px tall there), and never
# under SPECK_MIN px.
SPECK_SHARE = 0.006
SPECK_MIN = 3
# A piece whose surround (components.surround) is above this is the border of a dark region, not a stroke.
# Strokes on the development pages measure 0.0-0.3; page, table and shadow borders 0.6-1.0.
SURROUND_MAX = 0.4
# A piece lying along more than this share of a side of the picture (on its outermost pixels) is an edge, left out of
# the first guess at the writing's height (writing_height).
EDGE_RUN = 0.3
# A piece with more than this share of its length on the picture's outermost row or column hugs the border: the
# edge of a sheet cut by the frame (pages/hypjudy_03's left side), not a stroke (a stroke crosses the border).
HUG = 0.75
FRAME = 0.75  # a piece covering this share of a side of the picture is the table around a sheet
# The table around a sheet (not in a tight crop): a strip from one side to the opposite within this share of the
# picture from the other sides, or anything touching three sides; "touching" is within EDGE_GAP of the picture's side.
STRIP = 0.25
EDGE_GAP = 0.015
# ... or a wedge of table in a corner, which fills at least this share of its box (a triangle: 0.4-0.5 in
# train/pictures.py "sheet on a table"; a digit drawn into a corner fills far less).
WEDGE_FILL = 0.3
# ... and lies on the frame along this share of its length (wedges there: 0.61-0.74; a bold 7 touching a corner of
# MNIST "thick strokes" #141: 0.24).
WEDGE_ON_FRAME = 0.5
# A single-digit picture's pieces are one digit's when their ink covers this share of the box around them all
# (a blurred 1 broken in pieces: ~10 %; dust scattered over a blank sheet: < 0.1 %).
DENSE = 0.02
# Relative to the typical digit's height (the median of the picture's candidates):
TALL = 2.2  # taller than this: a rule, an edge, a scribble
# Wider than FLAT_WIDE while lower than FLAT_LOW: an underline or a printed line. An underline under a number of
# two digits is ~2.4 digit heights wide (tests/app_webcam.py's marks, read as a "2" at 2.5); a 7's bar broken off its
# stem is under one. 1.5 and 2.5 read ../shared/data/photos and 300 written numbers (tests/test_reading.py) alike.
FLAT_WIDE = 1.5
FLAT_LOW = 0.45
DOT = 0.3  # neither side reaching this: a dot, a comma, a speck
MIN_HEIGHT = 8  # working pixels: a mark lower than this is too small to read as a digit (real page digits: >= 12)
FAINT = 0.35  # its ink's level under this share of the typical digit's: not this picture's writing


def writing_height(binarised: Binarised, pieces: Pieces, one_digit: bool = False) -> float:
    """A first guess at the writing's height (working pixels), before any piece is judged by its surround.

    The ink-weighted median height of the pieces that are not specks and do not run
    along a side of the picture (a table's or a page's edge, which would outweigh the digits).
    ``one_digit``: the pieces are one digit's, perhaps broken apart by a window too small for a
    blurred stroke; the height of them all together counts then.
    """
    height, width = binarised.mask.shape
    speck = max(SPECK_MIN, SPECK_SHARE * max(height, width))
    sides = np.array([width, width, height, height])[:, None]  # top, bottom, left, right
    along = (pieces.on_border > EDGE_RUN * sides).any(axis=0)
    boxes, ink = [], []
    for i in range(1, pieces.count):
        x, y, w, h = (int(v) for v in pieces.boxes[i])
        # a tight crop is the digit's own box: its strokes run along the sides (a Semeion 6's flag along the top)
        if max(w, h) >= speck and (binarised.tight_crop or not along[i]):
            boxes.append((x, y, w, h))
            ink.append(float(pieces.area[i]))
    if one_digit and boxes:  # all of one digit's pieces together, unless they are specks scattered over paper
        x, y, w, h = union(boxes)
        if sum(ink) >= DENSE * w * h:
            return float(h)
    return typical_height(boxes, ink)


def writing_pieces(binarised: Binarised, pieces: Pieces) -> dict[int, float]:
    """The pieces that may be (part of) writing: index -> how far its ink stands above the paper (grey levels)."""
    speck = max(SPECK_MIN, SPECK_SHARE * max(binarised.mask.shape))
    if _clear_of_the_border(pieces):  # nothing is near enough to the border to hug it or be the table beyond it
        hugging = np.zeros(pieces.count, bool)
    else:
        hugging = _hugging_the_border(pieces)
        if not binarised.tight_crop:  # a tight crop is the digit's own box: its digit may touch every side
            hugging |= _table_around(pieces)
    keep = {}
    for i in range(1, pieces.count):
        _, _, w, h = pieces.boxes[i]
        if max(w, h) < speck or hugging[i]:
            continue
        seen = stand_out(binarised, pieces, i)
        if seen.surround <= SURROUND_MAX:
            keep[i] = seen.level
    return keep


def _clear_of_the_border(pieces: Pieces) -> bool:
    """Whether every piece lies further from the picture's sides than the rim (lines.rim_width): the widest of the
    bands in which ``_hugging_the_border`` and ``_table_around`` look (a drawing in the middle of its canvas).
    ``_table_around``'s band (``EDGE_GAP``, at least 2 px) is as wide as the rim on small pictures: strictly
    further, then."""
    height, width = pieces.labels.shape
    rim = rim_width((height, width))
    x, y, w, h = pieces.boxes[1:].T
    return not ((x <= rim) | (y <= rim) | (x + w >= width - rim) | (y + h >= height - rim)).any()


def _hugging_the_border(pieces: Pieces) -> np.ndarray:
    """Per piece: True when it lies along a side of the picture (a sheet's edge cut by the frame), not across it:
    on its outermost pixels, or a line inside the rim that lines.py leaves for this test (squared paper's line
    printed a few pixels from the frame)."""
    labels = pieces.labels
    height, width = labels.shape
    x, y, w, h = pieces.boxes.T
    # the threshold may leave the outermost pixels of a sliver of table out (its window is replicated past the
    # frame): a piece lying along the side within EDGE_GAP of it hugs it too (MNIST "photo of a sheet on a
    # table", first 3,000: 98.8 % -> 99.1 %; the development photos read the same)
    near = max(1, min(round(EDGE_GAP * max(labels.shape)), min(labels.shape)))  # a long strip: within it
    bands = (labels[:near].T, labels[-near:].T, labels[:, :near], labels[:, -near:])  # top, bottom, left, right
    on_band = pieces.on_border if near == 1 else _on_bands(bands, pieces.count)
    length, depth = pieces.boxes[:, [2, 2, 3, 3]].T, pieces.boxes[:, [3, 3, 2, 2]].T  # along each side, across it
    hugging = ((on_band > HUG * np.maximum(length, 1)) & (length > 2 * depth)).any(axis=0)  # along it, not across
    framing = (pieces.on_border > FRAME * np.array([width, width, height, height])[:, None]).sum(axis=0)
    hugging |= framing >= 2  # the table framing a sheet covers two sides or more; a bold digit in a tight crop, one
    rim = rim_width(labels.shape)
    in_side_rim = ((x + w <= rim) | (x >= width - rim)) & (h > 2 * w)
    in_end_rim = ((y + h <= rim) | (y >= height - rim)) & (w > 2 * h)
    hugging |= in_side_rim | in_end_rim
    hugging[0] = False
    return hugging


def _table_around(pieces: Pieces) -> np.ndarray:
    """Per piece: True for the table seen around a photographed sheet: a piece touching three sides of the
    picture or more, a strip running from one side to the opposite one within the outer ``STRIP`` of the
    picture (a table's edge beside the sheet; a written 1 that long stands in the middle), or a wedge in a
    corner running along ``FRAME`` of a side (a tilted sheet's edge)."""
    height, width = pieces.labels.shape
    x, y, w, h = (pieces.boxes[:, k] for k in range(4))
    near = max(2, round(EDGE_GAP * max(height, width)))  # blur leaves a gap between a strip and the border
    left, top = x <= near, y <= near
    right, bottom = x + w >= width - near, y + h >= height - near
    sides = left.astype(int) + top + right + bottom
    upright_strip = top & bottom & ((x + w <= STRIP * width) | (x >= (1 - STRIP) * width))
    level_strip = left & right & ((y + h <= STRIP * height) | (y >= (1 - STRIP) * height))
    # a sheet lying tilted leaves a wedge of table in a corner, along most of a side; narrower than the window,
    # the threshold takes all of it, a triangle filling about half its box (the surround test cannot see it: the
    # table beyond it is outside the picture). A digit drawn large into a corner is strokes: screen/frozen599_02
    # fills 12 % of its box.
    # It lies on the frame along most of its length; a bold digit touching a corner meets the frame for a stretch.
    on_top, on_bottom, on_left, on_right = pieces.on_border
    on_side, on_end = np.maximum(on_left, on_right), np.maximum(on_top, on_bottom)
    along = ((h >= FRAME * height) & (on_side >= WEDGE_ON_FRAME * h)) | (
        (w >= FRAME * width) & (on_end >= WEDGE_ON_FRAME * w)
    )
    filled = pieces.area >= WEDGE_FILL * np.maximum(1, w * h)
    corner = (left | right) & (top | bottom) & along & filled
    table = (sides >= 3) | upright_strip | level_strip | corner
    table[0] = False
    return table


def _on_bands(bands: tuple[np.ndarray, ...], count: int) -> np.ndarray:
    """(len(bands), count): per band and piece, along how many of its pixels' positions along the side (rows of a
    band, the picture's outer few columns laid along that side) the piece lies within the band."""
    stacked = np.concatenate([band.astype(np.int64) + k * count for k, band in enumerate(bands)])
    ordered = np.sort(stacked, axis=1)
    first = np.ones(ordered.shape, bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return np.bincount(ordered[first], minlength=len(bands) * count).reshape(len(bands), count)


def odd_sizes(boxes: list[Box], ink: list[float], levels: list[float], one_digit: bool = False) -> list[bool]:
    """For each candidate digit (its box, its ink in pixels, its ink's level above the paper): True when its size
    or its faintness says it is not a digit. The writing of one picture is of one size and one ink: a mark far
    fainter than the typical digit is the back of the page showing through, a pencil smudge, a shadow's speck.
    ``one_digit``: the candidates are pieces of one digit (a 4's long stem, a 7's bar), not digits of one size,
    so only faintness and the smallest size count."""
    if not boxes:
        return []
    typical = typical_height(boxes, ink)
    typical_level = weighted_median(levels, ink)
    odd = []
    for (_, _, w, h), level in zip(boxes, levels, strict=True):
        faint_or_tiny = h < MIN_HEIGHT or level < FAINT * typical_level
        odd_size = (
            h > TALL * typical or (w > FLAT_WIDE * typical and h < FLAT_LOW * typical) or max(w, h) < DOT * typical
        )
        odd.append(faint_or_tiny or (odd_size and not one_digit))
    return odd
