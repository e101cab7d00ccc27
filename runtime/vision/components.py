"""Stage: ink mask -> connected pieces of ink, each with its box and area, and how a piece stands out.

A piece of writing is a thin mark brighter (in the ink-bright working picture)
than the paper on *every* side of it. A page's edge, a table or a shadow's
border is bright on one side only: beyond the band the threshold found, the
table or the shadow goes on. ``surround`` measures that: the level just outside
a piece against the piece's own level, 0 for a stroke on paper, about 1 for
the border of a dark region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.order import quantiles


@dataclass(frozen=True)
class Pieces:
    """The connected pieces of ink of a ``Binarised`` picture (index 0 is the background)."""

    labels: np.ndarray  # uint16 or int32: the piece of each working pixel
    boxes: np.ndarray  # (n, 4) int x, y, w, h
    area: np.ndarray  # (n,) pixels

    @property
    def count(self) -> int:
        return len(self.area)

    @cached_property
    def on_border(self) -> np.ndarray:
        """(4, count): how many of the picture's outermost pixels each piece holds, on its top, bottom, left and
        right side (clean.py asks it of every piece three times)."""
        labels = self.labels
        rims = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
        return np.stack([np.bincount(rim, minlength=self.count) for rim in rims])


def find_pieces(binarised: Binarised) -> Pieces:
    """Connected components (8-connected) of the ink mask, with their statistics."""
    count, labels, stats = label(binarised.mask)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    area[0] = 0
    return Pieces(labels, stats[:, :4].astype(np.int64), area)


def label(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """OpenCV's 8-connected components of a 0/1 mask: (count, labels, stats), exactly as
    ``cv2.connectedComponentsWithStats`` gives them, faster where the ink is a small part of the picture.

    OpenCV 5.0 spends more on the statistics than on the labels (140×140, any ink: 14 µs to label, 30 µs more for
    the statistics, AMD EPYC), and both in proportion to the picture's size: the ink's box is labelled alone, and
    the statistics of a few pieces are taken one piece at a time (faster for a drawing's mask and its lines).
    """
    cfg = active_config()
    height, width = mask.shape
    # 16-bit labels when they cannot run out (8-connected pieces: at most one per 2×2 block); OpenCV 5.0 gathers
    # the statistics of 32-bit labels about 3× slower (280×280 drawing: 0.46 ms vs 0.16 ms, AMD EPYC)
    ltype = cv2.CV_16U if ((height + 1) // 2) * ((width + 1) // 2) < 65_535 else cv2.CV_32S
    x, y, w, h = cv2.boundingRect(mask)
    # the box starts on even pixels: OpenCV labels 2×2 blocks, and numbers the pieces in the order it meets them
    x0, y0 = x - x % 2, y - y % 2
    if w == 0 or (x0, y0, x + w, y + h) == (0, 0, width, height):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=ltype)
        return count, labels, stats
    box = mask[y0 : y + h, x0 : x + w]
    count, part = cv2.connectedComponents(box, connectivity=8, ltype=ltype)
    if count - 1 <= cfg.few_pieces:
        stats = np.empty((count, 5), np.int32)
        for k in range(1, count):
            own = (part == k).view(np.uint8)
            px, py, pw, ph = cv2.boundingRect(own)
            stats[k] = px + x0, py + y0, pw, ph, cv2.countNonZero(own[py : py + ph, px : px + pw])
    else:
        count, part, stats, _ = cv2.connectedComponentsWithStats(box, connectivity=8, ltype=ltype)
        stats[1:, :2] += (x0, y0)
    labels = np.zeros(mask.shape, part.dtype)
    labels[y0 : y + h, x0 : x + w] = part
    # the background's box: the whole picture when the ink leaves a blank row or column on every side
    inside = x > 0 and y > 0 and x + w < width and y + h < height
    stats[0, :4] = (0, 0, width, height) if inside else cv2.boundingRect((labels == 0).view(np.uint8))
    stats[0, 4] = mask.size - cv2.countNonZero(mask)
    return count, labels, stats


@dataclass(frozen=True)
class StandOut:
    """How a piece stands out of the paper around it."""

    surround: float  # how bright the picture stays just outside it, as a share of its own brightness
    level: float  # its stroke core's brightness above the paper around it (grey levels)


def stand_out(binarised: Binarised, pieces: Pieces, index: int) -> StandOut:
    """``StandOut`` of piece ``index``.

    Both measured above the paper level around the piece (its ring's darkest
    tenth). The ring is a few pixels wide, skips other pieces' ink, and its
    brightest fifth is what counts for ``surround``: a table or a shadow beyond
    one side of the piece is enough.
    """
    cfg = active_config()
    x, y, w, h = (int(v) for v in pieces.boxes[index])
    if binarised.flat:  # every pixel beside a piece is the paper, exactly: nothing around it stands out
        box = pieces.labels[y : y + h, x : x + w] == index
        return StandOut(
            0.0, quantiles(binarised.ink[y : y + h, x : x + w][box], (0.9,))[0] - float(cast(int, binarised.paper))
        )
    gap = max(3, binarised.window // 6)
    halo = max(gap // 2, round(cfg.halo * binarised.scale))  # an enlarged picture's edges are blurred wider
    gap = max(gap, 2 * halo)
    height, width = pieces.labels.shape
    x0, y0, x1, y1 = max(0, x - gap), max(0, y - gap), min(width, x + w + gap), min(height, y + h + gap)
    labels = pieces.labels[y0:y1, x0:x1]
    ink = binarised.ink[y0:y1, x0:x1].astype(np.float64)
    own = (labels == index).view(np.uint8)
    near = cv2.dilate(own, _disc(halo))  # a stroke's own blur and halo are not its surroundings
    ring = (cv2.dilate(own, _disc(gap)) > 0) & (near == 0) & (labels == 0)
    oy, ox = np.nonzero(own)
    if not ring.any():
        return StandOut(0.0, float(np.percentile(ink[oy, ox], 90)))
    ys, xs = np.nonzero(ring)
    as_seen = _stand_out(ink[ys, xs], ink[oy, ox], binarised.noise)
    if as_seen.surround <= cfg.surround_clear or max(w, h) > cfg.compact * min(w, h):
        return as_seen
    # light falling across a compact piece (a gradient) is no table either: take the ring's plane out and look
    # again; not for a long piece, which may be a table's or a shadow's edge
    a, b, c = _plane(xs.astype(np.float64), ys.astype(np.float64), ink[ys, xs])
    # ... but light changes slowly: a plane that climbs a good part of the piece's level from one side of it to
    # the other fits a step (a light sheet's edge against a dark table, the band along it taken for a stroke)
    across = float(pieces.area[index]) / np.hypot(w, h) + 2 * gap  # the piece's mean thickness and both rings
    if np.hypot(b, c) * across > cfg.light_step * as_seen.level:
        return as_seen
    flat = _stand_out(ink[ys, xs] - (a + b * xs + c * ys), ink[oy, ox] - (a + b * ox + c * oy), binarised.noise)
    # a stroke stays as bright above the plane as above the paper; a soft shadow's band sinks into it
    if flat.surround < as_seen.surround and flat.level >= cfg.keeps_level * as_seen.level:
        return flat
    return as_seen


def _stand_out(around: np.ndarray, core: np.ndarray, noise: float) -> StandOut:
    cfg = active_config()
    paper, beyond = quantiles(around, (0.1, 0.8))
    level = quantiles(core, (0.9,))[0] - paper  # the stroke's core
    if level <= 0:
        return StandOut(1.0, 0.0)
    # plain paper's 80th and 10th percentiles lie about 2.1 noise levels apart: that much is no table
    return StandOut(max(0.0, float(beyond - paper) - cfg.paper_spread * noise) / level, level)


def _plane(xs: np.ndarray, ys: np.ndarray, values: np.ndarray) -> tuple[float, float, float]:
    """Least-squares plane a + b·x + c·y through the values, solved by hand: numpy's LAPACK would load
    OpenBLAS and its thread buffers (+50 MiB at start-up) for a 3×3 system."""
    xm, ym, vm = xs.mean(), ys.mean(), values.mean()
    dx, dy, dv = xs - xm, ys - ym, values - vm
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    sxv, syv = float(dx @ dv), float(dy @ dv)
    det = sxx * syy - sxy * sxy
    if abs(det) < 1e-9:
        return float(vm), 0.0, 0.0
    b = (sxv * syy - syv * sxy) / det
    c = (syv * sxx - sxv * sxy) / det
    return float(vm - b * xm - c * ym), b, c


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
