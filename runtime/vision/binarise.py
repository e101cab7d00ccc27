"""Stage: grey picture -> ink mask, at a working scale, with the ink made bright.

Light varies across a photo (shadows, vignetting, a warm cast on one side), so ink
is found by a *local* threshold: a pixel is ink when it stands ``offset`` grey
levels above the mean of a window around it (OpenCV's adaptive threshold, done
by hand so that the difference is kept as each pixel's local contrast). The
window follows the picture's scale: pictures are brought to a working size and
the window is a fixed share of it. Where the paper's level steps (a hard shadow's edge, a
table's), the window's mean straddles the step and a band of its bright side would
stand out: a pixel must also stand above the paper as a morphological opening sees it
(the paper with the strokes wiped out and the step left where it is).

A clean drawing on flat paper (a canvas, a screenshot: most pixels exactly one
level, nothing wider than a stroke) needs no window: ink is what differs from
its paper (``flat_paper``), and a bold stroke comes out whole.

Polarity (``polarity.py``): dark ink on light paper is inverted so that every
later stage sees bright ink on a dark background, as MNIST has it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitkit.runtime.vision.polarity import ink_is_dark

# Pictures are worked on with their longer side at most this long. Measured on the 22 development pages
# (../shared/data/photos/pages, 410-2988 px): their smallest digits are still >= 12 px tall at 1000 px.
WORK_MAX_SIDE = 1000
# ... and their shorter side at least this long: a 16x16 USPS digit or a 28x28 MNIST one is enlarged so that
# the threshold's window can reach around its strokes.
WORK_MIN_SIDE = 112
# The window's side as a share of the working picture's longer side (51 px on a 1000-px page, as in the textbook
# sketch issue #11 measured), never under WINDOW_MIN px.
WINDOW_SHARE = 0.05
WINDOW_MIN = 15
# Writing much taller than the window is binarised again with a window this share of its typical height, when
# that is more than WIDEN_BEYOND times the first window (single digits filling a photo, drawings on a canvas).
WINDOW_PER_HEIGHT = 0.5
WIDEN_BEYOND = 1.5
# ... but never wider than this share of the picture (a bold marker's stroke on a single-digit photo is at most
# ~7 % of its side: single/melancholyzhong, screen/frozen599).
WINDOW_MAX_SHARE = 0.15
WINDOW_MAX_FREE = 61  # ... except that a small picture (a crop, a 112-px MNIST enlargement) may always have this
# Pictures up to this side (before working scale) may be tight crops of one digit, as in USPS and Semeion.
TIGHT_CROP_SIDE = 64
CLEAN_SCAN = 0.5  # grey levels of noise (noise_level): MNIST, USPS and Semeion have none, a photo has more
# A clean picture larger than a tight crop is flat paper (a canvas, a screenshot) when this share of it is exactly
# one level and nothing else on it is wider than STROKE_MAX_SHARE of its shorter side (a marker's stroke is at most
# ~7 %, see WINDOW_MAX_SHARE). On ../shared/data/photos: the 40 screen drawings and 14 scanned singles, no photo.
FLAT_SHARE = 0.5
STROKE_MAX_SHARE = 0.15
# ... or, for dark ink where nothing but paper touches the picture's border, than a BOLD_STROKE-th of the box around
# the rest: a bold blurred marker (MNIST's digits enlarged 10×, strokes up to 20 % of their digit) is strokes. 194 of
# MNIST's first 200 test digits ×10 are then flat (0 before); their reading, 1,000 of them: 99.4 -> 99.2 % (two
# ambiguous digits); photos unchanged. Not for light ink: a light sheet lying inside a dark table, its digit filling
# it, passed for strokes (robustness "photo of a sheet on a table", 10,000: 99.56 -> 99.18 %).
BOLD_STROKE = 3.0
# One digit drawn large on a flat canvas (the app's 280×280: 160-210 px) is found on a half-size copy when it spans
# at least twice this many pixels: still this many working pixels or more for a 20×20 box, at a quarter of the
# pixels to clear (280×280 drawings -> digit, the app's pen, median of 20, AMD EPYC: 2.4 ms -> 1.3 ms with the
# shortcuts). Half size, never less: screen/frozen599_02, a 4 drawn to within 2 % of three sides of its canvas, is
# taken for the table around a sheet at a quarter size. The pipeline goes back to full size when the digit found is
# smaller than this (dust spread over the canvas) or printed lines cross it (pipeline._binarised).
# ../shared/data/photos and the robustness rows read the same at 64 and at 100 (digits of 200 px and more only).
DIGIT_WORK_SIDE = 64
# The opening that finds the paper's level across a step (a hard shadow's edge) is this many windows wide: wider than
# any stroke the window keeps. At 1.5 windows two screen drawings' bold strokes came out hollow and were lost; 2 and 3
# read ../shared/data/photos alike (and the sliver of a table along a photo's edge: 1 of 40 read as a digit, now 0).
STEP_WINDOWS = 3
# The opening keeps the darkest of the paper's grain: it lies this many noise levels (noise_level) under the paper's
# median (measured on Gaussian grain of 1-8 levels, a 75-px opening: 2.9-3.3), and the paper is taken that much higher.
OPENING_BIAS = 3.0
# A pixel is ink when it stands this many grey levels above its window's mean, and at least NOISE_FACTOR
# times the picture's noise (paper grain, sensor noise in dim photos such as pages/nirajdudani_01).
MIN_OFFSET = 10
NOISE_FACTOR = 4.0


@dataclass(frozen=True)
class Binarised:
    """A picture at working scale: bright ink on dark paper and its ink mask."""

    ink: np.ndarray  # uint8 working picture, ink bright
    mask: np.ndarray  # uint8 0/1, ink
    scale: float  # working pixels per picture pixel
    window: int  # the threshold window's side, working pixels
    offset: int  # the threshold above the window's mean, grey levels
    dark_ink: bool  # the picture had dark ink on light paper
    noise: float = 0.0  # the picture's noise, grey levels (noise_level)
    tight_crop: bool = False  # a picture no larger than TIGHT_CROP_SIDE: the digit's own box (a data set's scan)
    printed: np.ndarray | None = None  # uint8 0/1, printed lines taken out of the mask (lines.py); None: none
    paper: int | None = None  # flat paper's level in ``ink`` (flat_paper): ink is what stands above it; None: not flat
    coarse: bool = False  # a large digit on flat paper, worked on coarser than the picture (DIGIT_WORK_SIDE)
    runs: np.ndarray | None = None  # uint8 0/1, every long level run of the mask (lines.py), for underlines.py

    @property
    def flat(self) -> bool:
        return self.paper is not None

    @property
    def clean_scan(self) -> bool:
        """A tight crop without noise: a data set's scan of one digit (MNIST, USPS, Semeion), nothing behind it
        but the digit (no table, no sheet's edge, no printed line), the digit touching its sides."""
        return self.tight_crop and self.noise < CLEAN_SCAN


def to_grey(picture: np.ndarray) -> np.ndarray:
    """uint8 grey or BGR -> grey (luminance: blue ink on yellow paper stays dark on light)."""
    return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY) if picture.ndim == 3 else picture


def working_scale(shape: tuple[int, int]) -> float:
    """Working pixels per picture pixel for a picture of this (height, width)."""
    longer, shorter = max(shape), min(shape)
    if longer > WORK_MAX_SIDE:
        return WORK_MAX_SIDE / longer
    if shorter < WORK_MIN_SIDE:
        return min(WORK_MIN_SIDE / shorter, WORK_MAX_SIDE / longer)
    return 1.0


def binarise(
    grey: np.ndarray,
    dark_ink: bool | None = None,
    window: int | None = None,
    noise: float | None = None,
    one_digit: bool = False,
) -> Binarised:
    """Grey picture -> ``Binarised``; ``dark_ink=None`` decides the polarity from the picture.

    ``window``: the threshold window's side in working pixels (default: ``WINDOW_SHARE`` of the picture);
    the pipeline widens it for large writing (``window_for``) and passes the polarity and noise it knows.
    ``one_digit``: the picture holds one digit; on flat paper, a large one is worked on at half size
    (``DIGIT_WORK_SIDE``, ``Binarised.coarse``).
    """
    scale = working_scale(grey.shape)
    tight_crop = max(grey.shape) <= TIGHT_CROP_SIDE
    if scale != 1.0:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    noise = noise_level(grey) if noise is None else noise
    offset = max(MIN_OFFSET, round(NOISE_FACTOR * noise))
    flat = None if tight_crop or noise >= CLEAN_SCAN else flat_paper(grey)
    step = 2 if flat is not None and one_digit and flat.extent >= 2 * DIGIT_WORK_SIDE else 1
    if step > 1:  # a whole number of pixels to one: OpenCV's fast path, about 30× faster than any other factor
        size = (grey.shape[1] // step, grey.shape[0] // step)
        grey = cv2.resize(grey[: size[1] * step, : size[0] * step], size, interpolation=cv2.INTER_AREA)
        scale /= step
    window = (window or max(WINDOW_MIN, round(WINDOW_SHARE * max(grey.shape)))) | 1
    if dark_ink is None:
        dark_ink = ink_is_dark(grey, tight_crop, clean=noise < CLEAN_SCAN) if flat is None else flat.dark_ink
    ink = cv2.bitwise_not(grey) if dark_ink else grey
    if flat is not None:  # flat paper: its level is known everywhere, no window needed (nor hollow strokes)
        paper = 255 - flat.level if dark_ink else flat.level
        mask = (cv2.subtract(ink, np.full_like(ink, paper)) > offset).view(np.uint8)
        return Binarised(
            ink, mask, scale, window, offset, bool(dark_ink), noise, tight_crop, paper=paper, coarse=step > 1
        )
    mean = cv2.blur(ink, (window, window), borderType=cv2.BORDER_REPLICATE)
    mask = (cv2.subtract(ink, mean) > offset).view(np.uint8)  # saturating: ink above its window's mean
    # ... and above the paper as an opening sees it (every bright mark narrower than its side wiped out, a step kept
    # where it is): along a hard shadow's or a table's edge, the window's mean (half of it on the dark side) leaves
    # a band of the bright side standing out; the opening's paper there is that side's own level
    side = STEP_WINDOWS * window
    paper = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((side, side), np.uint8), borderType=cv2.BORDER_REPLICATE)
    mask &= (cv2.subtract(ink, paper) > offset + OPENING_BIAS * noise).view(np.uint8)
    return Binarised(ink, mask, scale, window, offset, bool(dark_ink), noise, tight_crop)


@dataclass(frozen=True)
class FlatPaper:
    """A clean drawing's paper (flat_paper)."""

    level: int  # the paper's grey level
    dark_ink: bool  # the strokes are darker than it
    extent: int = 0  # the longer side of the box around everything that is not paper (pixels)


def flat_paper(grey: np.ndarray) -> FlatPaper | None:
    """The paper of a clean drawing on flat paper, else None.

    Flat: most pixels are exactly one level (a canvas, a screenshot, a rendered digit), and
    everything else is strokes, no wider than ``STROKE_MAX_SHARE`` of the picture (or, dark ones clear of the
    border, a ``BOLD_STROKE``-th of their box): a table beside a sheet, a shadow across it, are regions, and
    leave the picture to the window.
    """
    if min(grey.shape) >= 2 * WORK_MIN_SIDE:  # judged on a half-size copy (a 280-px canvas: 0.2 ms -> 0.06 ms)
        half = flat_paper(cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA))
        return None if half is None else FlatPaper(half.level, half.dark_ink, 2 * half.extent)
    level = _paper_level(grey)
    if level is None:
        return None
    other = (cv2.absdiff(grey, np.full_like(grey, level)) > MIN_OFFSET).view(np.uint8)
    x, y, width, height = cv2.boundingRect(other)
    if width == 0:
        return FlatPaper(level, level > 127)  # blank: dark ink on light paper, as most pictures have it
    # the strokes lie on one side of the paper: their mean level
    dark_ink = cv2.sumElems(cv2.bitwise_and(grey, grey, mask=other))[0] / cv2.countNonZero(other) < level
    # nothing wider than a stroke: no square of that side all of it. Looked for in the box around it and a blank
    # pixel beside (an erosion counts the picture's outside as ink, and the blank pixel stops it as the rest would)
    side = STROKE_MAX_SHARE * min(grey.shape)
    clear = x > 0 and y > 0 and x + width < grey.shape[1] and y + height < grey.shape[0]  # a table reaches the border
    if clear and dark_ink:  # a light sheet lying inside a dark table is lighter than it
        side = max(side, max(width, height) / BOLD_STROKE)
    side = 2 * round(side / 2) + 1
    box = other[max(0, y - 1) : y + height + 1, max(0, x - 1) : x + width + 1]
    if cv2.hasNonZero(cv2.erode(box, np.ones((side, side), np.uint8))):
        return None
    return FlatPaper(level, dark_ink, max(width, height))


def _paper_level(grey: np.ndarray) -> int | None:
    """The level FLAT_SHARE of the picture or more is exactly at (the most common one), else None.

    A level held by more than half of the pixels is the most common of a sample too: it is taken from a sample
    of every 4th pixel each way and counted on all of them (a 140-px canvas: 22 -> 7 µs); when that count falls
    short, the whole picture's histogram decides."""
    sample = np.bincount(grey[::4, ::4].ravel(), minlength=256)
    level = int(np.argmax(sample))
    if np.count_nonzero(grey == level) > max(FLAT_SHARE, 0.5) * grey.size:
        return level
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    level = int(np.argmax(counts))
    return None if counts[level] < FLAT_SHARE * grey.size else level


def window_for(digit_height: float, current: int, side: int) -> int | None:
    """A wider window for writing this tall (working pixels), or None when ``current`` will do.

    A marker stroke can be a fifth of its digit's height; a window under about two
    and a half strokes leaves the stroke's middle out (as bright as the window's mean).
    ``side``: the working picture's longer side; the window stays under ``WINDOW_MAX_SHARE`` of it,
    so that the border of a table or a shadow stays a band with the dark region beyond it.
    """
    wanted = round(min(WINDOW_PER_HEIGHT * digit_height, max(WINDOW_MAX_SHARE * side, WINDOW_MAX_FREE)))
    return wanted | 1 if wanted > WIDEN_BEYOND * current else None


def noise_level(grey: np.ndarray) -> float:
    """The picture's noise in grey levels: robust spread of neighbour differences (paper is most of it)."""
    step = max(1, max(grey.shape) // 400)  # a sample is enough
    sample = np.ascontiguousarray(grey[::step, ::step])
    diff = cv2.absdiff(sample[:, 1:], sample[:, :-1])
    if diff.size == 0:
        return 0.0
    if cv2.countNonZero(diff) < diff.size // 2:  # most neighbours are equal (a drawing): the median is 0
        return 0.0
    # the median of the differences from their histogram (they are 0-255): np.median's value, a tenth of its time
    below = np.cumsum(cv2.calcHist([diff], [0], None, [256], [0, 256]).ravel())
    middle = np.searchsorted(below, [(diff.size - 1) // 2 + 1, diff.size // 2 + 1])
    return float(middle.mean()) * 1.4826 / np.sqrt(2.0)
