"""Polarity: is the ink darker than the paper (a pen on paper) or lighter (chalk, a white-on-black canvas)?

binarise.py makes the ink bright for every later stage, as MNIST has it; this module says which way round a
picture is. ``ink_is_dark`` weighs two signs (where the paper's level lies in the picture's grey range, and
which way the strongest local contrasts point) against a prior for dark ink; a tight crop's border and a clean
scan's thinner phase decide where those signs cannot.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.order import percentile


def ink_is_dark(grey: np.ndarray, tight_crop: bool = False, clean: bool = False) -> bool:
    """True for dark ink on light paper.

    Two signs in [-1, 1], positive for dark ink, are added: where the paper's level (the median of the
    middle) lies in the grey range, and which way the strongest local contrasts of a thumbnail point. Dark
    ink wins unless they clearly say otherwise (``polarity_prior``). A tight crop's border is its paper unless
    it lies near the middle of the grey range; a clean scan whose border and whole disagree is judged by
    which phase is thinner (right on all of USPS and Semeion both ways round).
    """
    cfg = active_config()
    sample = grey[:: _stride(grey), :: _stride(grey)].ravel()
    low, high = percentile(sample, 0.01, most=None), percentile(sample, 0.99, most=None)
    sparse = high - low < cfg.sparse
    if sparse:
        # a small digit in a corner of a large canvas: both percentiles land on the paper
        low, high, _, _ = cv2.minMaxLoc(grey)
    middle = percentile(sample, 0.5, most=None)
    height, width = grey.shape
    centre = grey[height // 4 : height - height // 4, width // 4 : width - width // 4]
    if max(height, width) >= cfg.sheet_photo_side and centre.size:
        # a small sheet on a large table: the table is most of the picture, the sheet most of its middle;
        # the middle is believed when it is flat (paper), not when it is half ink (a bold digit filling it)
        centre_sample = centre[:: _stride(centre), :: _stride(centre)].ravel()
        quarter, centre_middle, three_quarters = (percentile(centre_sample, q, most=None) for q in (0.25, 0.5, 0.75))
        if three_quarters - quarter < cfg.flat_middle * (high - low):
            middle = float(centre_middle)
    by_median = ((middle - low) - (high - middle)) / max(1.0, high - low)
    if sparse and abs(by_median) > 0.5:
        # the paper's level is known exactly; the contrasts' tails would fall on the paper around the ink
        return by_median > 0
    if tight_crop:
        rim = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        border = (float(np.median(rim)) - low) / max(1.0, high - low)  # 0: as dark as the darkest, 1: brightest
        whole = (middle - low) / max(1.0, high - low)
        if abs(border - 0.5) > cfg.border_unsure and ((border > 0.5) == (whole > 0.5) or not clean):
            return border > 0.5  # the border is clearly paper
        if clean:
            # a bold digit running along a clean scan's sides: ink is the thinner phase
            return _thinner_is_dark(grey)
        # a bold digit covering half the border, or light falling across the crop: the general signs decide
    factor = min(1.0, cfg.polarity_side / max(grey.shape))
    factor = max(factor, 1.0 / min(grey.shape))  # a long strip keeps at least one pixel across
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else grey
    window = max(3, round(cfg.polarity_window * max(small.shape))) | 1
    contrast = small.astype(np.int16) - cv2.blur(small, (window, window), borderType=cv2.BORDER_REPLICATE)
    contrast = contrast[:: _stride(contrast), :: _stride(contrast)].ravel()
    darkest, brightest = (
        percentile(contrast, share / 100, most=None) for share in (cfg.polarity_tail, 100 - cfg.polarity_tail)
    )
    by_contrast = (-darkest - brightest) / max(1.0, brightest - darkest)
    return bool(by_median + by_contrast > cfg.polarity_prior)


def _thinner_is_dark(grey: np.ndarray) -> bool:
    """Whether the dark side of an Otsu split is the thinner one (the 90th percentile of its distance to the
    other side): strokes have a pen's width, the paper between and around them is wider, even inside a 0 that
    fills its box."""
    _, bright = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return _half_width(1 - bright) < _half_width(bright)


def _half_width(mask: np.ndarray) -> float:
    if not mask.any():
        return float("inf")
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return float(np.percentile(distance[mask > 0], 90))


def _stride(picture: np.ndarray) -> int:
    """A sampling step that leaves about 10,000 pixels: enough for the percentiles polarity needs."""
    return max(1, int(np.sqrt(picture.size / 10_000)))
