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

from typing import cast

import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.components import Pieces, stand_out
from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.geometry import Box, typical_height, union, weighted_median
from digitkit.runtime.vision.lines import rim_width


def writing_height(binarised: Binarised, pieces: Pieces, one_digit: bool = False) -> float:
    """A first guess at the writing's height (working pixels), before any piece is judged by its surround.

    The ink-weighted median height of the pieces that are not specks and do not run
    along a side of the picture (a table's or a page's edge, which would outweigh the digits).
    ``one_digit``: the pieces are one digit's, perhaps broken apart by a window too small for a
    blurred stroke; the height of them all together counts then.
    """
    cfg = active_config()
    height, width = binarised.mask.shape
    speck = max(cfg.speck_min, cfg.speck_share * max(height, width))
    sides = np.array([width, width, height, height])[:, None]  # top, bottom, left, right
    along = cast(np.ndarray, (pieces.on_border > cfg.edge_run * sides).any(axis=0))
    boxes, ink = [], []
    for i in range(1, pieces.count):
        x, y, w, h = (int(v) for v in pieces.boxes[i])
        # a tight crop is the digit's own box: its strokes run along the sides (a Semeion 6's flag along the top)
        if max(w, h) >= speck and (binarised.tight_crop or not along[i]):
            boxes.append((x, y, w, h))
            ink.append(float(pieces.area[i]))
    if one_digit and boxes:  # all of one digit's pieces together, unless they are specks scattered over paper
        x, y, w, h = union(boxes)
        if sum(ink) >= cfg.dense * w * h:
            return float(h)
    return typical_height(boxes, ink)


def writing_pieces(binarised: Binarised, pieces: Pieces) -> dict[int, float]:
    """The pieces that may be (part of) writing: index -> how far its ink stands above the paper (grey levels)."""
    cfg = active_config()
    speck = max(cfg.speck_min, cfg.speck_share * max(binarised.mask.shape))
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
        if seen.surround <= cfg.surround_max:
            keep[i] = seen.level
    return keep


def _clear_of_the_border(pieces: Pieces) -> bool:
    """Whether every piece lies further from the picture's sides than the rim (lines.rim_width): the widest of the
    bands in which ``_hugging_the_border`` and ``_table_around`` look (a drawing in the middle of its canvas).
    ``_table_around``'s band (``edge_gap``, at least 2 px) is as wide as the rim on small pictures: strictly
    further, then."""
    height, width = pieces.labels.shape
    rim = rim_width((height, width))
    x, y, w, h = pieces.boxes[1:].T
    return not ((x <= rim) | (y <= rim) | (x + w >= width - rim) | (y + h >= height - rim)).any()


def _hugging_the_border(pieces: Pieces) -> np.ndarray:
    """Per piece: True when it lies along a side of the picture (a sheet's edge cut by the frame), not across it:
    on its outermost pixels, or a line inside the rim that lines.py leaves for this test (squared paper's line
    printed a few pixels from the frame)."""
    cfg = active_config()
    labels = pieces.labels
    height, width = labels.shape
    x, y, w, h = pieces.boxes.T
    # the threshold may leave the outermost pixels of a sliver of table out (its window is replicated past the
    # frame): a piece lying along the side within edge_gap of it hugs it too
    near = max(1, min(round(cfg.edge_gap * max(labels.shape)), min(labels.shape)))  # a long strip: within it
    bands = (labels[:near].T, labels[-near:].T, labels[:, :near], labels[:, -near:])  # top, bottom, left, right
    on_band = pieces.on_border if near == 1 else _on_bands(bands, pieces.count)
    length, depth = pieces.boxes[:, [2, 2, 3, 3]].T, pieces.boxes[:, [3, 3, 2, 2]].T  # along each side, across it
    hugging = ((on_band > cfg.hug_border * np.maximum(length, 1)) & (length > 2 * depth)).any(
        axis=0
    )  # along it, not across
    framing = (pieces.on_border > cfg.table_side * np.array([width, width, height, height])[:, None]).sum(axis=0)
    hugging |= framing >= 2  # the table framing a sheet covers two sides or more; a bold digit in a tight crop, one
    rim = rim_width(labels.shape)
    in_side_rim = ((x + w <= rim) | (x >= width - rim)) & (h > 2 * w)
    in_end_rim = ((y + h <= rim) | (y >= height - rim)) & (w > 2 * h)
    hugging |= in_side_rim | in_end_rim
    hugging[0] = False
    return hugging


def _table_around(pieces: Pieces) -> np.ndarray:
    """Per piece: True for the table seen around a photographed sheet: a piece touching three sides of the
    picture or more, a strip running from one side to the opposite one within the outer ``strip`` of the
    picture (a table's edge beside the sheet; a written 1 that long stands in the middle), or a wedge in a
    corner running along ``table_side`` of a side (a tilted sheet's edge)."""
    cfg = active_config()
    height, width = pieces.labels.shape
    x, y, w, h = (pieces.boxes[:, k] for k in range(4))
    near = max(2, round(cfg.edge_gap * max(height, width)))  # blur leaves a gap between a strip and the border
    left, top = x <= near, y <= near
    right, bottom = x + w >= width - near, y + h >= height - near
    sides = left.astype(int) + top + right + bottom
    upright_strip = top & bottom & ((x + w <= cfg.strip * width) | (x >= (1 - cfg.strip) * width))
    level_strip = left & right & ((y + h <= cfg.strip * height) | (y >= (1 - cfg.strip) * height))
    # a tilted sheet leaves a wedge of table in a corner: a solid triangle lying on the frame along most of its
    # length (a digit drawn into a corner is strokes, and meets the frame for a stretch only)
    on_top, on_bottom, on_left, on_right = pieces.on_border
    on_side, on_end = np.maximum(on_left, on_right), np.maximum(on_top, on_bottom)
    along = ((h >= cfg.table_side * height) & (on_side >= cfg.wedge_on_frame * h)) | (
        (w >= cfg.table_side * width) & (on_end >= cfg.wedge_on_frame * w)
    )
    filled = pieces.area >= cfg.wedge_fill * np.maximum(1, w * h)
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
    cfg = active_config()
    if not boxes:
        return []
    typical = typical_height(boxes, ink)
    typical_level = weighted_median(levels, ink)
    odd = []
    for (_, _, w, h), level in zip(boxes, levels, strict=True):
        faint_or_tiny = h < cfg.min_height or level < cfg.faint_writing * typical_level
        odd_size = (
            h > cfg.tall * typical
            or (w > cfg.flat_wide * typical and h < cfg.flat_low * typical)
            or max(w, h) < cfg.dot * typical
        )
        odd.append(faint_or_tiny or (odd_size and not one_digit))
    return odd
