"""Stage (after components, before underlines): printed rulings that are not writing: the boxes of a form field
(a box per digit, or a comb) and the bars of a barcode.

A row of boxes is one piece: level rules across the field joined by upright ticks at even steps. Printed
as dark as the writing, it is no faint printed line (``lines.py``) nor an underline (``underlines.py``),
and the split stage would cut it into a row of 1s between the digits. Its ticks are straight and exactly
upright, evenly spaced, one at each end of the field; the strokes of handwritten 1s are none of these.
Its rules and ticks go, with the digits that touch them left whole, and the pieces are found again.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.components import Pieces, find_pieces
from digitkit.runtime.vision.config import active_config


def without_frames(binarised: Binarised, pieces: Pieces, printed: np.ndarray | None) -> tuple[Binarised, Pieces]:
    """The binarised picture and its pieces with the form fields' rules and ticks out of the mask; most
    pictures have none, and keep the pieces they came with. ``printed``: the faint lines ``lines.py`` took out."""
    cfg = active_config()
    boxes = pieces.boxes
    wide = np.flatnonzero((boxes[:, 2] >= cfg.field_wide * boxes[:, 3]) & (boxes[:, 3] >= cfg.field_low))
    lines = None
    for k in wide[wide > 0]:
        found = _field_lines(pieces, int(k))
        if found is not None:
            lines = found if lines is None else lines | found
    ticks: list[int] = []
    if pieces.count > cfg.min_ticks:  # fewer pieces hold neither a field's loose ticks nor a barcode (one digit: none)
        ticks = [] if printed is None else _loose_ticks(pieces, printed)
        ticks += _barcode(pieces)
    if ticks:
        loose = np.isin(pieces.labels, ticks).view(np.uint8)
        lines = loose if lines is None else lines | loose
    if lines is None:
        return binarised, pieces
    cleaned = replace(binarised, mask=(binarised.mask & ~lines).view(np.uint8))
    return cleaned, find_pieces(cleaned)


def _field_lines(pieces: Pieces, k: int) -> np.ndarray | None:
    """0/1 over the picture: the rules and ticks of piece ``k`` when it is a form field, else None."""
    cfg = active_config()
    x, y, w, h = (int(v) for v in pieces.boxes[k])
    own = pieces.labels[y : y + h, x : x + w] == k
    rules = own.sum(axis=1) >= cfg.rule_span * w
    upright = own.sum(axis=0) >= cfg.tick_span * h
    if not rules.any() or not upright.any():
        return None
    edges = np.flatnonzero(np.diff(np.concatenate([[0], upright.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    # a printed tick is thin beside the boxes' width; wider: a digit's stroke touching the field
    step = np.median(np.diff((starts + ends) / 2)) if len(starts) > 1 else w
    thin = ends - starts <= max(4, cfg.tick_of_step * step)
    starts, ends = starts[thin], ends[thin]
    if len(starts) < cfg.min_ticks or starts[0] > cfg.end * w or ends[-1] < (1 - cfg.end) * w:
        return None
    gaps = np.diff((starts + ends) / 2)
    if np.abs(gaps - np.median(gaps)).max() > cfg.even * np.median(gaps):
        return None
    lines = np.zeros(pieces.labels.shape, np.uint8)
    ticks = np.zeros(w, bool)
    for start, end in zip(starts, ends, strict=True):
        ticks[start:end] = True
    lines[y : y + h, x : x + w] = own & (rules[:, None] | ticks[None, :])
    return lines


def _loose_ticks(pieces: Pieces, printed: np.ndarray) -> list[int]:
    """Pieces that are the ticks of a field whose rules ``lines.py`` took out (printed fainter than the writing,
    ``printed``): solid upright bars standing on such a rule, ``min_ticks`` or more of one height on one line,
    evenly spaced (a tick that a digit touches is not among them: a step of two). Bars drawn by hand on plain
    paper, a row of 1s, stand on no printed rule."""
    cfg = active_config()
    x, y, w, h = (pieces.boxes[:, i] for i in range(4))
    bar = (h >= cfg.field_low) & (w <= np.maximum(4, cfg.tick_width * h)) & (pieces.area >= cfg.bar_fill * w * h)
    # a rule at the feet: printed pixels within 2 rows of the bar's foot, under it
    near = cv2.dilate(printed, np.ones((5, 1), np.uint8))
    feet = np.clip(y + h - 1, 0, printed.shape[0] - 1)
    on_rule = near[feet, np.clip(x + w // 2, 0, printed.shape[1] - 1)] > 0
    bars = [int(k) for k in np.flatnonzero(bar & on_rule) if k > 0]
    if len(bars) < cfg.min_ticks:
        return []
    out: list[int] = []
    for k in bars:  # the bars of k's height and line: its field
        same = [
            j
            for j in bars
            if abs(y[j] - y[k]) <= cfg.aligned * h[k] and abs(y[j] + h[j] - y[k] - h[k]) <= cfg.aligned * h[k]
        ]
        if len(same) < cfg.min_ticks or k in out:
            continue
        gaps = np.diff(np.sort([x[j] + w[j] / 2 for j in same]))
        steps = gaps / np.median(gaps)  # a tick that a digit touches is part of the digit's piece: a double step
        if np.abs(steps - np.round(steps)).max() <= cfg.even and np.round(steps).max() <= 2:
            out += [j for j in same if j not in out]
    return out


def _barcode(pieces: Pieces) -> list[int]:
    """The bars of a barcode: ``barcode_bars`` or more solid upright bars of one height, tops and feet level to
    ``barcode_level`` of it, each closer to the next than ``barcode_gap`` of it. Handwritten 1s are neither
    that even nor that close."""
    cfg = active_config()
    x, y, w, h = (pieces.boxes[:, i] for i in range(4))
    bar = (h >= cfg.field_low) & (w <= 0.25 * h) & (pieces.area >= cfg.bar_fill * w * h)
    bars = sorted((int(k) for k in np.flatnonzero(bar) if k > 0), key=lambda k: x[k])
    out: list[int] = []
    for k in bars:
        if k in out:
            continue
        chain = [k]
        for j in bars:
            last = chain[-1]
            level = cfg.barcode_level * h[k]
            if x[j] > x[last] and abs(y[j] - y[k]) <= level and abs(y[j] + h[j] - y[k] - h[k]) <= level:
                if x[j] - (x[last] + w[last]) <= cfg.barcode_gap * h[k]:
                    chain.append(j)
        if len(chain) >= cfg.barcode_bars:
            out += chain
    return out
