"""Stage: cut touching digits apart, only when recognition says so.

A wide blob may be two digits that touch ("00" written fast) or one wide digit (a
round 0, a flat 2). Its shape cannot tell, so the model does: cuts are tried at
the thinnest columns of the blob's middle that cross its ink once (where two digits
touch; a column through a wide 0 or 6 crosses it twice), and a cut is kept only when both parts
read with more confidence than the whole, and surely (``sure``). Parts are cut again the same way.
A ``veto`` (the guard's say on whether a crop is a digit at all) scales the parts' confidence, not the
whole's: a letter cut in two gives a part the model alone reads as a sure 1 (a c's bowl, an E's spine) and
one the guard does not take for a digit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.normalise import fit_and_centre

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 -> (N, 10) probabilities
Veto = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 -> (N,) in [0, 1]: 0 where a crop is surely no digit


def split_touching(
    region: np.ndarray, row_height: float, classify: Classify | None, veto: Veto | None = None
) -> list[tuple[int, int]]:
    """Column spans [start, end) of the digits in ``region`` (a blob's ink levels, its box's size); ``row_height``
    in the region's pixels."""
    cfg = active_config()
    height, width = region.shape
    if classify is None or width <= cfg.try_width * max(row_height, height):
        return [(0, width)]
    return _split(region, 0, width, row_height, classify, veto, cfg.max_parts)


def _split(region, start, end, row_height, classify, veto, budget) -> list[tuple[int, int]]:
    cfg = active_config()
    whole = fit_and_centre(region[:, start:end])
    width = end - start
    if whole is None or budget < 2 or width <= cfg.try_width * row_height:
        return [(start, end)]
    cuts = _candidate_cuts(region[:, start:end])
    if not cuts:
        return [(start, end)]
    pictures, spans = [whole], []
    for cut in cuts:
        left, right = fit_and_centre(region[:, start : start + cut]), fit_and_centre(region[:, start + cut : end])
        if left is None or right is None:
            continue
        pictures += [left, right]
        spans.append(cut)
    if not spans:
        return [(start, end)]
    batch = np.stack(pictures)
    confidence = classify(batch).max(axis=1)
    whole_confidence = float(confidence[0])
    if whole_confidence >= cfg.sure:
        return [(start, end)]  # one sure digit: no cut needs weighing (nor the guard's veto running)
    if veto is not None:
        confidence[1:] *= veto(batch[1:])
    parts = confidence[1:].reshape(-1, 2).min(axis=1)
    best = int(np.argmax(parts))
    if float(parts[best]) < cfg.sure or float(parts[best]) <= whole_confidence:
        return [(start, end)]
    cut = start + spans[best]
    left_spans = _split(region, start, cut, row_height, classify, veto, budget // 2)
    right_spans = _split(region, cut, end, row_height, classify, veto, budget - len(left_spans))
    return left_spans + right_spans


def _candidate_cuts(region: np.ndarray) -> list[int]:
    """The thinnest columns of the blob's middle, thinnest first, not next to each other."""
    cfg = active_config()
    width = region.shape[1]
    lo, hi = max(1, round(cfg.cut_margin * width)), min(width - 1, round((1 - cfg.cut_margin) * width))
    if hi <= lo:
        return []
    profile = region[:, lo:hi].astype(np.float32).sum(axis=0)
    # touching digits meet at one place: a column that crosses the ink more than once runs through a digit
    ink = region[:, lo:hi] > 0
    crossings = (ink[1:] & ~ink[:-1]).sum(axis=0) + ink[0]
    profile[crossings > 1] = np.inf
    cuts: list[int] = []
    spacing = max(2, (hi - lo) // 6)
    for column in np.argsort(profile, kind="stable"):
        if not np.isfinite(profile[column]):
            break
        column = int(column) + lo
        if all(abs(column - c) >= spacing for c in cuts):
            cuts.append(column)
        if len(cuts) == cfg.cut_candidates:
            break
    return cuts
