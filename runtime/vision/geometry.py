"""Boxes and medians the stages share: the box around boxes, the typical height of writing, a weighted median."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

Box = tuple[int, int, int, int]  # x, y, w, h


def union(boxes: list[Box]) -> Box:
    """The box around several boxes."""
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def typical_height(boxes: list[Box], weights: Sequence[float] | None = None) -> float:
    """The height of a typical piece of writing: the median height, each box weighted by its ink.

    Weighted, because paper grain leaves many small specks and a page few digits:
    by count the specks would be typical, by ink the digits are.
    """
    return weighted_median([b[3] for b in boxes], [1.0] * len(boxes) if weights is None else weights)


def weighted_median(values: list[float], weights: Sequence[float]) -> float:
    """The value at which the weights, summed in the values' order, reach half their total (0.0 for none).

    Plain Python: a picture has a few pieces to weigh, and numpy's calls cost more than the sums."""
    if not values:
        return 0.0
    order = sorted(range(len(values)), key=values.__getitem__)
    cumulative = list(accumulate(float(weights[k]) for k in order))
    return float(values[order[bisect_left(cumulative, 0.5 * cumulative[-1])]])
