"""Stage: pieces of ink -> digits (a 5's flag, a 4 written in two strokes), digits -> rows.

A digit's pieces sit over one another: they share most of the narrower piece's
columns and leave little vertical gap, and together they are no taller than
one digit of the picture. Rows are followed left to right: each digit joins
the row whose last digits point at it (their slope carries on), so slanted and
gently curved lines stay whole and lines that drift towards each other do not
swap digits.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h

# Pieces of one digit: they share at least this share of the narrower one's columns (a 5's flag reaching past
# its body to the right shares 58 % with it, MNIST test's first 5; 0.5 and 0.6 read the development photos alike) ...
SHARED_COLUMNS = 0.5
# ... are at most this share of the typical height apart vertically, ...
PIECE_GAP = 0.3
# ... and together are at most this many typical heights tall.
DIGIT_HEIGHT = 1.35
# ... unless one is a level line (this many times wider than high) this many times wider than the other: an
# underline under a number of two digits or more.
LINE_FLAT = 4.0
LINE_PAST = 1.6
# A digit joins a row when its middle lies within this share of the row's digit height of where the row
# points, and the row's slope (dy/dx) is taken as at most ROW_SLOPE (a page photographed at an angle: the
# steepest development page, asheenafazal_01, drifts ~0.2).
ROW_REACH = 0.5
ROW_SLOPE = 0.4
ROW_OWN_SLOPE = 3  # digits a row needs before its own direction is trusted over the page's
ROW_TAIL = 4  # a row's last digits that say where it is going (a curved row turns)
# The page's direction is measured between digits up to PAIR_REACH heights apart (4 read the steepest
# development page, asheenafazal_01, 97.7 -> 94.6 %).
PAIR_REACH = 3


def union(boxes: list[Box]) -> Box:
    """The box around several boxes."""
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def typical_height(boxes: list[Box], weights: list[float] | None = None) -> float:
    """The height of a typical piece of writing: the median height, each box weighted by its ink.

    Weighted, because paper grain leaves many small specks and a page few digits:
    by count the specks would be typical, by ink the digits are.
    """
    return weighted_median([b[3] for b in boxes], [1.0] * len(boxes) if weights is None else weights)


def weighted_median(values: list[float], weights: list[float]) -> float:
    """The value at which the weights, summed in the values' order, reach half their total (0.0 for none).

    Plain Python: a picture has a few pieces to weigh, and numpy's calls cost more than the sums."""
    if not values:
        return 0.0
    order = sorted(range(len(values)), key=values.__getitem__)
    cumulative = list(accumulate(float(weights[k]) for k in order))
    return float(values[order[bisect_left(cumulative, 0.5 * cumulative[-1])]])


def group_pieces(boxes: list[Box], areas: list[int]) -> list[list[int]]:
    """Indices into ``boxes`` grouped into digits, largest piece first in each group."""
    height = typical_height(boxes, areas)
    groups: list[list[int]] = []
    group_boxes: list[Box] = []
    for i in sorted(range(len(boxes)), key=lambda k: -areas[k]):
        x, y, w, h = boxes[i]
        best, best_share = None, SHARED_COLUMNS
        for g, (gx, gy, gw, gh) in enumerate(group_boxes):
            shared = (min(x + w, gx + gw) - max(x, gx)) / max(1, min(w, gw))
            gap = max(gy - (y + h), y - (gy + gh))
            tall = max(y + h, gy + gh) - min(y, gy)
            if shared >= best_share and gap <= PIECE_GAP * height and tall <= DIGIT_HEIGHT * height:
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
    return any(
        wide >= LINE_FLAT * high and wide >= LINE_PAST * other
        for (wide, high), other in (((a[2], a[3]), b[2]), ((b[2], b[3]), a[2]))
    )


def into_rows(boxes: list[Box]) -> list[list[int]]:
    """Indices into ``boxes`` as rows of writing: rows top to bottom, each left to right."""
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
            tail = [boxes[k] for k in row[-ROW_TAIL:]]
            mx = float(np.mean([b[0] + b[2] / 2 for b in tail]))
            my = float(np.mean([b[1] + b[3] / 2 for b in tail]))
            lh = boxes[row[-1]][3]
            predicted = my + _slope(boxes, row, page_slope) * (cx - mx)
            miss = abs(cy - predicted)
            if miss <= ROW_REACH * max(h, lh) and (best_miss is None or miss < best_miss):
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
    if len(row) < ROW_OWN_SLOPE:
        return page_slope
    tail = [boxes[i] for i in row[-ROW_TAIL:]]
    xs = np.array([b[0] + b[2] / 2 for b in tail])
    ys = np.array([b[1] + b[3] / 2 for b in tail])
    if np.ptp(xs) <= 0:
        return page_slope
    dx = xs - xs.mean()
    slope = float(dx @ (ys - ys.mean()) / (dx @ dx))  # least squares, without LAPACK (see components._plane)
    return max(-ROW_SLOPE, min(ROW_SLOPE, slope))


def _page_slope(boxes: list[Box]) -> float:
    """The writing's direction over the page: the median slope from each digit to each one on its right (within
    PAIR_REACH of its heights, no steeper than ROW_SLOPE, and within half its height), 0 when there is none. Every
    such pair, not only nearest neighbours: digits written up and down along a level row give slopes of both
    signs between neighbours, and level ones two apart."""
    if not boxes:
        return 0.0
    b = np.asarray(boxes, np.float64)
    cx, cy, h = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2, b[:, 3]
    dx, dy = cx[None, :] - cx[:, None], cy[None, :] - cy[:, None]  # from each digit (row) to each other (column)
    pairs = (dx > 0) & (dx <= PAIR_REACH * h[:, None]) & (np.abs(dy) <= np.minimum(ROW_SLOPE * dx, 0.5 * h[:, None]))
    if not pairs.any():
        return 0.0
    return max(-ROW_SLOPE, min(ROW_SLOPE, float(np.median(dy[pairs] / dx[pairs]))))
