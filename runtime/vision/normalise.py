"""Stage: one digit's ink -> 28×28 as MNIST was made.

MNIST: bright anti-aliased ink on black; the digit's box scaled to fit 20×20
(aspect kept); placed so that its centre of mass (pixel weights) is at (14, 14).
The grey levels come from the working picture, not the ink mask: the local
threshold can leave the middle of a bold stroke out (it is as bright as its
window's mean), so the mask only says *where* the digit is (grown to cover such
hollow strokes, other pieces' ink left out) and the picture says how bright.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.order import percentile

SIZE = 28  # the model's input side
BOX = 20  # the digit's longer side inside it
CENTRE = 14.0  # MNIST's centre of mass, in pixel-index coordinates (measured on the training set)


_INDEX = np.arange(SIZE, dtype=np.float32)
_SQUARE = np.ones((3, 3), np.uint8)


def digit_region(
    ink: np.ndarray, own: np.ndarray, others: np.ndarray, grow: int, floor: float | None = None
) -> np.ndarray:
    """The digit's ink levels in its box, 0 elsewhere.

    ``ink``: the working picture's crop (bright ink); ``own``: 0/1 mask of this
    digit's pixels; ``others``: 0/1 mask of other pieces' ink; ``grow``: how far
    (pixels) the digit may reach beyond its mask (hollow strokes, the grey rim);
    ``floor``: levels under this share of the stroke's are paper (default: the config's ``paper_share``).
    """
    if floor is None:
        floor = active_config().paper_share
    reach: np.ndarray = cv2.dilate(own, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    reach &= others ^ 1  # never over another piece's ink
    reach |= own
    paper_pixels = ink[(own | others) == 0]  # the box's paper: neither this digit's ink nor another's
    paper = percentile(paper_pixels, 0.5) if paper_pixels.size else float(ink.min())
    stroke_pixels = ink[own > 0]
    stroke = percentile(stroke_pixels, 0.9) if stroke_pixels.size else float(ink.max())
    if stroke <= paper:  # a box all ink (a bold bar filling it): the paper is what binarisation left out, black
        paper = 0.0
    if stroke <= paper:
        return np.zeros_like(ink)
    level = (ink.astype(np.float32) - paper) * (255.0 / (stroke - paper))
    level[level < 255.0 * floor] = 0
    level[reach == 0] = 0
    return np.clip(level, 0, 255).astype(np.uint8)


def stroke_width(crop: np.ndarray) -> float:
    """The ink's typical stroke width in pixels: twice its area over its edge (a stroke has two edges)."""
    ink = (crop > 0).view(np.uint8)
    area = cv2.countNonZero(ink)
    edge = area - cv2.countNonZero(cv2.erode(ink, _SQUARE))
    return 2.0 * float(area) / max(1, edge)


def _with_mnist_pen(crop: np.ndarray) -> np.ndarray:
    """A digit written with a fine pen, thickened to MNIST's pen (its strokes about a tenth of the digit's size).

    MNIST's writers used pens that, at 20×20, draw strokes of about two pixels; a
    ballpoint digit photographed large comes out of the 20×20 fit a hair-line the
    model has rarely seen. Thicker pens are left as they are.
    """
    cfg = active_config()
    width = stroke_width(crop)
    wanted = cfg.pen_share * max(crop.shape)
    if width >= cfg.thin_pen * wanted:
        return crop
    grow = int(round(wanted - width))
    if grow < 1:
        return crop
    crop = cv2.copyMakeBorder(crop, grow, grow, grow, grow, cv2.BORDER_CONSTANT, value=0)
    return cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1)))


def fit_and_centre(crop: np.ndarray) -> np.ndarray | None:
    """Tight box of the nonzero ink -> fit 20×20 by the longer side -> centre of mass at (14, 14).

    Returns (28, 28) float32 in [0, 1], the stroke core at 1 as in MNIST; None when there is no ink.
    """
    x, y, w, h = cv2.boundingRect(crop)
    if w == 0:
        return None
    crop = _with_mnist_pen(crop[y : y + h, x : x + w])
    h, w = crop.shape
    if max(h, w) != BOX:
        factor = BOX / max(h, w)
        size = (max(1, min(BOX, round(w * factor))), max(1, min(BOX, round(h * factor))))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    values = crop[crop > 0]
    if values.size == 0:
        return None
    k = (values.size * 9) // 10
    peak = float(np.partition(values, k)[k])  # the stroke core, which MNIST has at full white
    digit = np.minimum(crop.astype(np.float32) * (1.0 / peak), 1.0)
    h, w = digit.shape
    mass = float(digit.sum())
    cx = float(digit.sum(axis=0) @ _INDEX[:w]) / mass
    cy = float(digit.sum(axis=1) @ _INDEX[:h]) / mass
    left = min(max(round(CENTRE - cx), 0), SIZE - w)
    top = min(max(round(CENTRE - cy), 0), SIZE - h)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top : top + h, left : left + w] = digit
    return out
