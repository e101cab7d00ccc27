"""Stage: pieces of ink -> digits (a 5's flag, a 4 written in two strokes), digits -> rows.

A digit's pieces sit over one another: they share most of the narrower piece's
columns and leave little vertical gap, and together they are no taller than
one digit of the picture. Rows are followed left to right: each digit joins
the row whose last digits point at it (their slope carries on), so slanted and
gently curved lines stay whole and lines that drift towards each other do not
swap digits.
"""

from __future__ import annotations

import numpy as np

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.geometry import Box, typical_height, union


def group_pieces(boxes: list[Box], areas: list[int]) -> list[list[int]]:
    """Indices into ``boxes`` grouped into digits, largest piece first in each group."""
    cfg = active_config()
    height = typical_height(boxes, areas)
    groups: list[list[int]] = []
    group_boxes: list[Box] = []
    for i in sorted(range(len(boxes)), key=lambda k: -areas[k]):
        x, y, w, h = boxes[i]
        best, best_share = None, cfg.shared_columns
        for g, (gx, gy, gw, gh) in enumerate(group_boxes):
            shared = (min(x + w, gx + gw) - max(x, gx)) / max(1, min(w, gw))
            gap = max(gy - (y + h), y - (gy + gh))
            tall = max(y + h, gy + gh) - min(y, gy)
            if shared >= best_share and gap <= cfg.piece_gap * height and tall <= cfg.digit_height * height:
                if not _line_past(boxes[i], group_boxes[g]):
                    best, best_share = g, shared
        if best is None:
            groups.append([i])
            group_boxes.append(boxes[i])
        else:
            groups[best].append(i)
            group_boxes[best] = union([group_boxes[best], boxes[i]])
    return groups


def _line_past(a: Box, b: Box) -> bool:
    """Whether one of two boxes is a level line far wider than the other: an underline under a number (or a
    fraction's bar), which no digit's own stroke is: a 5's flag or a 7's bar is about as wide as its digit."""
    cfg = active_config()
    return any(
        wide >= cfg.line_flat * high and wide >= cfg.line_past * other
        for (wide, high), other in (((a[2], a[3]), b[2]), ((b[2], b[3]), a[2]))
    )


def into_rows(boxes: list[Box]) -> list[list[int]]:
    """Indices into ``boxes`` as rows of writing: rows top to bottom, each left to right."""
    cfg = active_config()
    if len(boxes) <= 1:
        return [list(range(len(boxes)))] if boxes else []
    rows: list[list[int]] = []
    page_slope = _page_slope(boxes)
    for i in sorted(range(len(boxes)), key=lambda k: boxes[k][0] + boxes[k][2] / 2):
        x, y, w, h = boxes[i]
        cx, cy = x + w / 2, y + h / 2
        best, best_miss = None, None
        for r, row in enumerate(rows):
            # where the row points: through the middle of its last few digits (one digit's middle is off the
            # row's line by the writing's jitter), along its direction
            tail = [boxes[k] for k in row[-cfg.row_tail :]]
            mx = float(np.mean([b[0] + b[2] / 2 for b in tail]))
            my = float(np.mean([b[1] + b[3] / 2 for b in tail]))
            lh = boxes[row[-1]][3]
            predicted = my + _slope(boxes, row, page_slope) * (cx - mx)
            miss = abs(cy - predicted)
            if miss <= cfg.row_reach * max(h, lh) and (best_miss is None or miss < best_miss):
                best, best_miss = r, miss
        if best is None:
            rows.append([i])
        else:
            rows[best].append(i)
    rows.sort(key=lambda row: float(np.mean([boxes[i][1] + boxes[i][3] / 2 for i in row])))
    return rows


def _slope(boxes: list[Box], row: list[int], page_slope: float = 0.0) -> float:
    """The row's direction (dy/dx) from its last few digits' middles; the page's for a row of one or two (two
    digits' middles differ by the writing's jitter as much as by its direction: MNIST digits written in a row
    with their own vertical placement split into two rows 11 % of the time, 2-6 digits)."""
    cfg = active_config()
    if len(row) < cfg.row_own_slope:
        return page_slope
    tail = [boxes[i] for i in row[-cfg.row_tail :]]
    xs = np.array([b[0] + b[2] / 2 for b in tail])
    ys = np.array([b[1] + b[3] / 2 for b in tail])
    if np.ptp(xs) <= 0:
        return page_slope
    dx = xs - xs.mean()
    slope = float(dx @ (ys - ys.mean()) / (dx @ dx))  # least squares, without LAPACK (see components._plane)
    return max(-cfg.row_slope, min(cfg.row_slope, slope))


def _page_slope(boxes: list[Box]) -> float:
    """The writing's direction over the page: the median slope from each digit to each one on its right (within
    pair_reach of its heights, no steeper than row_slope, and within half its height), 0 when there is none. Every
    such pair, not only nearest neighbours: digits written up and down along a level row give slopes of both
    signs between neighbours, and level ones two apart."""
    cfg = active_config()
    if not boxes:
        return 0.0
    b = np.asarray(boxes, np.float64)
    cx, cy, h = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2, b[:, 3]
    dx, dy = cx[None, :] - cx[:, None], cy[None, :] - cy[:, None]  # from each digit (row) to each other (column)
    pairs = (
        (dx > 0)
        & (dx <= cfg.pair_reach * h[:, None])
        & (np.abs(dy) <= np.minimum(cfg.row_slope * dx, 0.5 * h[:, None]))
    )
    if not pairs.any():
        return 0.0
    return max(-cfg.row_slope, min(cfg.row_slope, float(np.median(dy[pairs] / dx[pairs]))))
