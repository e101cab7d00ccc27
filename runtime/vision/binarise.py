"""Stage: grey picture -> ink mask, at a working scale, with the ink made bright.

Light varies across a photo, so ink is found by a *local* threshold: a pixel is ink when it stands ``offset``
grey levels above its window's mean (OpenCV's adaptive threshold, by hand to keep each pixel's contrast), and
above the paper as a morphological opening sees it (where the paper's level steps at a shadow's edge). A
clean drawing on flat paper needs no window: ink is what differs from its paper (``flat_paper``). Dark ink
is inverted (``polarity.py``) so that every later stage sees bright ink on black, as MNIST has it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitkit.runtime.vision.config import active_config
from digitkit.runtime.vision.polarity import ink_is_dark


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
    tight_crop: bool = False  # a picture no larger than tight_crop_side: the digit's own box (a data set's scan)
    paper: int | None = None  # flat paper's level in ``ink`` (flat_paper): ink is what stands above it; None: not flat
    coarse: bool = False  # a large digit on flat paper, worked on coarser than the picture (digit_work_side)

    @property
    def flat(self) -> bool:
        return self.paper is not None

    @property
    def clean_scan(self) -> bool:
        """A tight crop without noise: a data set's scan of one digit (MNIST, USPS, Semeion), nothing behind it
        but the digit (no table, no sheet's edge, no printed line), the digit touching its sides."""
        cfg = active_config()
        return self.tight_crop and self.noise < cfg.clean_scan


def to_grey(picture: np.ndarray) -> np.ndarray:
    """uint8 grey or BGR -> grey (luminance: blue ink on yellow paper stays dark on light)."""
    return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY) if picture.ndim == 3 else picture


def working_scale(shape: tuple[int, int]) -> float:
    """Working pixels per picture pixel for a picture of this (height, width)."""
    cfg = active_config()
    longer, shorter = max(shape), min(shape)
    if longer > cfg.work_max_side:
        return cfg.work_max_side / longer
    if shorter < cfg.work_min_side:
        return min(cfg.work_min_side / shorter, cfg.work_max_side / longer)
    return 1.0


def binarise(
    grey: np.ndarray,
    dark_ink: bool | None = None,
    window: int | None = None,
    noise: float | None = None,
    one_digit: bool = False,
) -> Binarised:
    """Grey picture -> ``Binarised``; ``dark_ink=None`` decides the polarity from the picture.

    ``window``: the threshold window's side in working pixels (default: ``window_share`` of the picture);
    the pipeline widens it for large writing (``window_for``) and passes the polarity and noise it knows.
    ``one_digit``: the picture holds one digit; on flat paper, a large one is worked on at half size
    (``digit_work_side``, ``Binarised.coarse``).
    """
    cfg = active_config()
    scale = working_scale(grey.shape)
    tight_crop = max(grey.shape) <= cfg.tight_crop_side
    if scale != 1.0:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    noise = noise_level(grey) if noise is None else noise
    offset = max(cfg.min_offset, round(cfg.noise_factor * noise))
    flat = None if tight_crop or noise >= cfg.clean_scan else flat_paper(grey)
    step = 2 if flat is not None and one_digit and flat.extent >= 2 * cfg.digit_work_side else 1
    if step > 1:  # a whole number of pixels to one: OpenCV's fast path, about 30× faster than any other factor
        size = (grey.shape[1] // step, grey.shape[0] // step)
        grey = cv2.resize(grey[: size[1] * step, : size[0] * step], size, interpolation=cv2.INTER_AREA)
        scale /= step
    window = (window or max(cfg.window_min, round(cfg.window_share * max(grey.shape)))) | 1
    if dark_ink is None:
        dark_ink = ink_is_dark(grey, tight_crop, clean=noise < cfg.clean_scan) if flat is None else flat.dark_ink
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
    side = cfg.step_windows * window
    paper_map = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((side, side), np.uint8), borderType=cv2.BORDER_REPLICATE)
    mask &= (cv2.subtract(ink, paper_map) > offset + cfg.opening_bias * noise).view(np.uint8)
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
    everything else is strokes, no wider than ``stroke_max_share`` of the picture (or, dark ones clear of the
    border, a ``bold_stroke``-th of their box): a table beside a sheet, a shadow across it, are regions, and
    leave the picture to the window.
    """
    cfg = active_config()
    if min(grey.shape) >= 2 * cfg.work_min_side:  # judged on a half-size copy (a 280-px canvas: 0.2 ms -> 0.06 ms)
        half = flat_paper(cv2.resize(grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA))
        return None if half is None else FlatPaper(half.level, half.dark_ink, 2 * half.extent)
    level = _paper_level(grey)
    if level is None:
        return None
    other = (cv2.absdiff(grey, np.full_like(grey, level)) > cfg.min_offset).view(np.uint8)
    x, y, width, height = cv2.boundingRect(other)
    if width == 0:
        return FlatPaper(level, level > 127)  # blank: dark ink on light paper, as most pictures have it
    # the strokes lie on one side of the paper: their mean level
    dark_ink = cv2.sumElems(cv2.bitwise_and(grey, grey, mask=other))[0] / cv2.countNonZero(other) < level
    # nothing wider than a stroke: no square of that side all of it. Looked for in the box around it and a blank
    # pixel beside (an erosion counts the picture's outside as ink, and the blank pixel stops it as the rest would)
    side = cfg.stroke_max_share * min(grey.shape)
    clear = x > 0 and y > 0 and x + width < grey.shape[1] and y + height < grey.shape[0]  # a table reaches the border
    if clear and dark_ink:  # a light sheet lying inside a dark table is lighter than it
        side = max(side, max(width, height) / cfg.bold_stroke)
    side = 2 * round(side / 2) + 1
    box = other[max(0, y - 1) : y + height + 1, max(0, x - 1) : x + width + 1]
    if cv2.hasNonZero(cv2.erode(box, np.ones((side, side), np.uint8))):
        return None
    return FlatPaper(level, dark_ink, max(width, height))


def _paper_level(grey: np.ndarray) -> int | None:
    """The level flat_share of the picture or more is exactly at (the most common one), else None.

    A level held by more than half of the pixels is the most common of a sample too: it is taken from a sample
    of every 4th pixel each way and counted on all of them (a third of the time on a 140-px canvas); when that count falls
    short, the whole picture's histogram decides."""
    cfg = active_config()
    sample = np.bincount(grey[::4, ::4].ravel(), minlength=256)
    level = int(np.argmax(sample))
    if np.count_nonzero(grey == level) > max(cfg.flat_share, 0.5) * grey.size:
        return level
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    level = int(np.argmax(counts))
    return None if counts[level] < cfg.flat_share * grey.size else level


def window_for(digit_height: float, current: int, side: int) -> int | None:
    """A wider window for writing this tall (working pixels), or None when ``current`` will do.

    A marker stroke can be a fifth of its digit's height; a window under about two
    and a half strokes leaves the stroke's middle out (as bright as the window's mean).
    ``side``: the working picture's longer side; the window stays under ``window_max_share`` of it,
    so that the border of a table or a shadow stays a band with the dark region beyond it.
    """
    cfg = active_config()
    wanted = round(min(cfg.window_per_height * digit_height, max(cfg.window_max_share * side, cfg.window_max_free)))
    return wanted | 1 if wanted > cfg.widen_beyond * current else None


def noise_level(grey: np.ndarray) -> float:
    """The picture's noise in grey levels: robust spread of neighbour differences (paper is most of it)."""
    step = max(1, max(grey.shape) // 400)  # a sample is enough
    sample = np.ascontiguousarray(grey[::step, ::step])
    if sample.shape[1] < 2:  # a strip one sample wide has no neighbours side by side (OpenCV: None, not empty)
        return 0.0
    diff = cv2.absdiff(sample[:, 1:], sample[:, :-1])
    if cv2.countNonZero(diff) < diff.size // 2:  # most neighbours are equal (a drawing): the median is 0
        return 0.0
    # the median of the differences from their histogram (they are 0-255): np.median's value, a tenth of its time
    below = np.cumsum(cv2.calcHist([diff], [0], None, [256], [0, 256]).ravel())
    middle = np.searchsorted(below, [(diff.size - 1) // 2 + 1, diff.size // 2 + 1])
    return float(middle.mean()) * 1.4826 / np.sqrt(2.0)
