"""Polarity: is the ink darker than the paper (a pen on paper) or lighter (chalk, a white-on-black canvas)?

binarise.py makes the ink bright for every later stage, as MNIST has it; this module says which way round a
picture is. ``ink_is_dark`` weighs two signs (where the paper's level lies in the picture's grey range, and
which way the strongest local contrasts point) against a prior for dark ink; a tight crop's border and a clean
scan's thinner phase decide where those signs cannot.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.runtime.vision.order import percentile

# Polarity is judged on a thumbnail with at most this longer side, with a window this share of it: wider than
# a marker's strokes on a single-digit photo (pages/melancholyzhong crops: strokes ~7 % of the side).
POLARITY_SIDE = 400
POLARITY_WINDOW = 0.2
POLARITY_TAIL = 0.3  # percent: the extreme contrasts compared
# Dark ink unless the two signs add up to less than this. On ../shared/data/photos the white-on-black screen
# drawings add up to -1.29 or less, every dark-ink picture to -0.10 or more (a sideways page under a strong shadow).
POLARITY_PRIOR = -0.5
# In a tight crop, a border whose median lies within this share of the grey range of the middle says nothing.
BORDER_UNSURE = 0.15
# The middle half of a picture is flat paper when its interquartile range is under this share of the grey range;
# looked at in photos (at least SHEET_PHOTO_SIDE working pixels), not in a crop a bold digit fills.
FLAT_MIDDLE = 0.25
SHEET_PHOTO_SIDE = 256
# The 1st and 99th percentiles closer than this (grey levels, binarise.MIN_OFFSET: less than any ink's contrast)
# both lie on the paper: the ink covers under about 1 % of the picture.
SPARSE = 10


def ink_is_dark(grey: np.ndarray, tight_crop: bool = False, clean: bool = False) -> bool:
    """True for dark ink on light paper.

    Two signs, each in [-1, 1], positive for dark ink, added up:
    - the paper is most of the middle of a picture (a small sheet on a large table
      is still the middle), so its level is the median there, and ink lies on the
      far side of it (fooled by a shadow or a gradient across the photo);
    - a stroke stands out of its surroundings far more than the paper beside it
      does the other way: on a thumbnail, the extreme local contrasts (with a
      window wider than a marker's strokes) are compared (fooled by a flat grey
      drawing on white, where both are small).
    Most pictures a user hands over are dark ink on paper, so that is the answer
    unless the signs clearly say otherwise (``POLARITY_PRIOR``). A tight crop of a
    bold digit (a scanned data set's 16×16) can be half ink: there the border is the
    paper, unless its median lies near the middle of the grey range (a bold digit
    covering half of it, light falling across the crop); then the signs above decide.
    A clean scan (no noise: a data set's) whose border and whole disagree, or whose border is
    half ink, is judged by which phase is thinner. Right on every one of USPS's 2,007 and
    Semeion's 1,593 both ways round, and of 3,000 MNIST digits plain, inverted, halved and
    under uneven light (the thinner phase deciding under uneven light too: 98.8 % there).
    """
    sample = grey[:: _stride(grey), :: _stride(grey)].ravel()
    low, high = percentile(sample, 0.01, most=None), percentile(sample, 0.99, most=None)
    sparse = high - low < SPARSE
    if sparse:
        # ink covers under about 1 % of the picture (a small digit drawn in a corner of a large canvas): both
        # percentiles land on the paper, and the extremes are the ink
        low, high, _, _ = cv2.minMaxLoc(grey)
    middle = percentile(sample, 0.5, most=None)
    height, width = grey.shape
    centre = grey[height // 4 : height - height // 4, width // 4 : width - width // 4]
    if max(height, width) >= SHEET_PHOTO_SIDE and centre.size:
        # a small sheet on a large table: the table is most of the picture, the sheet most of its middle;
        # the middle is believed when it is flat (paper), not when it is half ink (a bold digit filling it)
        centre_sample = centre[:: _stride(centre), :: _stride(centre)].ravel()
        quarter, centre_middle, three_quarters = (percentile(centre_sample, q, most=None) for q in (0.25, 0.5, 0.75))
        if three_quarters - quarter < FLAT_MIDDLE * (high - low):
            middle = float(centre_middle)
    by_median = ((middle - low) - (high - middle)) / max(1.0, high - low)
    if sparse and abs(by_median) > 0.5:
        # the paper's level is then known exactly and the ink lies clearly on one side of it; the contrasts'
        # tails (below) would fall on the paper around the ink, the ink being under their share of the picture
        return by_median > 0
    if tight_crop:
        rim = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        border = (float(np.median(rim)) - low) / max(1.0, high - low)  # 0: as dark as the darkest, 1: brightest
        whole = (middle - low) / max(1.0, high - low)
        if abs(border - 0.5) > BORDER_UNSURE and ((border > 0.5) == (whole > 0.5) or not clean):
            return border > 0.5  # the border is clearly paper
        if clean:
            # a clean scan whose border and whole disagree on the paper, or whose border is half ink: a bold
            # digit running along its sides (a 16×16 scan stretched to fill its box). Ink is the phase made of
            # strokes, the thinner one. (Under uneven light the whole picture's median is no guide: not there.)
            return _thinner_is_dark(grey)
        # a bold digit covering half the border, or light falling across the crop: the general signs decide
    factor = min(1.0, POLARITY_SIDE / max(grey.shape))
    factor = max(factor, 1.0 / min(grey.shape))  # a long strip keeps at least one pixel across
    small = cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else grey
    window = max(3, round(POLARITY_WINDOW * max(small.shape))) | 1
    contrast = small.astype(np.int16) - cv2.blur(small, (window, window), borderType=cv2.BORDER_REPLICATE)
    contrast = contrast[:: _stride(contrast), :: _stride(contrast)].ravel()
    darkest, brightest = (
        percentile(contrast, share / 100, most=None) for share in (POLARITY_TAIL, 100 - POLARITY_TAIL)
    )
    by_contrast = (-darkest - brightest) / max(1.0, brightest - darkest)
    return bool(by_median + by_contrast > POLARITY_PRIOR)


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
