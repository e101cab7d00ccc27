"""THE picture -> model-input path: any picture to a 28×28 MNIST-style digit.

Every path that meets a real picture (CLI, app, benchmarks, evaluation on
foreign handwriting) calls this module, so training and serving cannot drift
apart. MNIST itself is already in this format, and ``to_mnist`` on an MNIST
test image gives it back (a regression test holds that).

How MNIST was made, and so what we redo here:
  1. ink is bright on black, anti-aliased grey at the edges;
  2. the digit's bounding box is scaled to fit 20×20, keeping the aspect ratio;
  3. it is placed in 28×28 so that its centre of mass (pixel weights) lies at
     pixel (14, 14).
Before that a real picture needs: polarity (dark ink on light paper is
inverted), background removal (uneven light, shadows: a morphological opening
at low resolution estimates the paper), a noise floor, and a crop to the ink
(connected components; specks and far-off marks are dropped). A blank or
near-blank picture has no digit: ``to_mnist`` returns None instead of a guess.

All image work is OpenCV on uint8 at one working resolution; a 280×280
drawing takes a fraction of a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from digitkit.runtime.images import load_picture

SIZE = 28  # the model's input side
BOX = 20  # the digit's longer side inside it
CENTRE = 14.0  # MNIST's centre of mass, in pixel-index coordinates (measured on the training set)

DIGIT_MAX_SIDE = 112  # one digit: work at most at this resolution (4× the model's; small digits are refined)
LARGE_PICTURE = 640  # a picture larger than this (a photo) is searched at LARGE_MAX_SIDE first
LARGE_MAX_SIDE = 480
READ_MAX_SIDE = 1600  # several digits on a page need more pixels per digit
MIN_CONTRAST = 40  # ink must stand this many grey levels (of 255) above the background
FRAGMENT_SHARE = 0.06  # a component under this share of the largest one's ink is a speck
MIN_INK_SHARE = 0.00005  # ink under this share of the picture's area is a speck, not a digit
MIN_DIGIT_SIDE = 6  # pixels of the picture: a smaller mark is a speck
MIN_DIGIT_SHARE = 0.02  # of the picture's longer side: a smaller mark is a speck
EVEN_BORDER = 16  # paper's spread along the border (grey levels, interquartile) below which the light is even
NOISY = 3.0  # noise level (grey levels) above which the ink map is smoothed first
NOISE_CONTRAST = 4.0  # on a grainy picture ink must stand this many noise levels above the paper
SPECKLED_COUNT = 30  # more components than this, none holding half of the ink: noise, not a digit
PAPER_SIDE = 64  # the paper's light is estimated at about this resolution
MARK_SHARE = 0.3  # in a number, a mark under this share of the tallest digit's height is punctuation
FLAT_ASPECT = 2.5  # a component this many times wider than tall ...
FLAT_HEIGHT = 0.35  # ... and under this share of the writing's typical height is a line piece or a digit's bar
FLAT_BAR_WIDTH = 1.2  # a digit's bar is at most this share of the digit's box (an underline is wider)
ROW_SIZE = (0.35, 2.0)  # a digit's height within this share of its row's median height
ROW_SIZE_ONE = 1.3  # a very thin upright mark taller than this share of the row's median is a rule, not a "1"
RULE_ASPECT = 12.0
RULE_LENGTH = 1.2  # a straight run of ink longer than this many digit heights is a rule, not a stroke
RULE_ANGLES = (
    -12.0,
    -6.0,
    0.0,
    6.0,
    12.0,
)  # near-level lines of a tilted page (degrees)  # height over width beyond which an upright mark is too thin even for a "1"
GRID_SPAN = 0.85  # a printed line of squared/lined paper runs across at least this share of the picture ...
GRID_COVER = 0.6  # ... and its ink covers this share of it (it may pass behind the digit, or fade)
GRID_ANGLES = (-4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5)  # degrees from level (or upright): a tilted photo
GRID_FAINT = 0.6  # printed lines are fainter than this share of the strokes' ink level
GRID_REST = 0.02  # what is left once the lines are out must hold this share of the ink (else the lines are the digit)
SHEET_SHARE = 0.2  # a sheet of paper photographed on a table covers at least this share of the picture ...
SHEET_WRITING = 0.002  # ... holds writing (holes in it) of at least this share ...
SHEET_THIN = 0.5  # ... whose strokes are under this share of the sheet's own half-width
SHEET_CORNERS = 0.03  # of its perimeter: how far a sheet's outline may stray from its four corners
SHEET_EDGE = 0.04  # of the picture's side: the sheet's edge, left out with the surface
EDGE_STRIP = 0.2  # a mark along this share of a side of the picture hugs the border ...
EDGE_BAND = 0.12  # ... or touches it without leaving this rim (a share of the side) ...
EDGE_DIGIT_SHARE = 0.004  # ... and is dropped if a mark with this share of the picture in ink ...
EDGE_DIGIT_HEIGHT = 0.2  # ... and this share of its height stands clear of the border
REFINE_BELOW = 40  # a digit smaller than this (working pixels) in a downscaled picture is looked at again


@dataclass(frozen=True)
class DigitCrop:
    """One digit found in a picture: where it is, and what the model should see."""

    box: tuple[int, int, int, int]  # x, y, w, h in the picture's pixel coordinates
    mnist: np.ndarray  # (28, 28) float32 in [0, 1], white on black


@dataclass(frozen=True)
class Inked:
    """A picture reduced to bright ink on black, with its connected pieces of ink."""

    ink: np.ndarray  # uint8, ink bright on black, background removed (working resolution)
    labels: np.ndarray  # int32 component of each pixel of (weak) ink; 0 is background
    strong_area: np.ndarray  # per label: pixels above the strong-ink threshold (index 0 unused)
    stats: np.ndarray | None  # per label: cv2 stats (x, y, w, h, area), when asked for
    scale: float  # working pixels per picture pixel
    dark_ink: bool  # the picture had dark ink on light paper
    contrast: int  # peak ink level above the background
    floor: int = 0  # ink levels at or below this are noise
    high: float = 0.0  # the strong-ink threshold
    # a photographed sheet's inside (working resolution); the surface around it is painted over with paper
    sheet: np.ndarray | None = None


def to_mnist(picture) -> np.ndarray | None:
    """Any picture -> (28, 28) float32 in [0, 1], white ink on black; None if there is no digit."""
    grey = _grey(load_picture(picture))
    large = max(grey.shape) > LARGE_PICTURE
    inked = _find_ink(grey, max_side=LARGE_MAX_SIDE if large else DIGIT_MAX_SIDE)
    if inked is None:
        return None
    inked = _without_grid(_without_edge_strips(inked))
    mask = _component_mask(inked, _significant_components(inked))
    x, y, w, h = cv2.boundingRect(mask)
    if max(w, h) / inked.scale < max(MIN_DIGIT_SIDE, MIN_DIGIT_SHARE * max(grey.shape)):
        return None  # nothing but a speck
    if inked.scale < 1.0 and max(w, h) < REFINE_BELOW:
        # a small digit in a large picture: look again at full resolution around it
        refined = _refine(grey, (x, y, w, h), inked.scale, inked.sheet)
        if refined is not None:
            return refined
    return _normalise_region(inked, mask[y : y + h, x : x + w], (x, y, w, h))


def _refine(
    grey: np.ndarray, box: tuple[int, int, int, int], scale: float, sheet: np.ndarray | None = None
) -> np.ndarray | None:
    x, y, w, h = (v / scale for v in box)
    margin = 0.5 * max(w, h)
    height, width = grey.shape
    x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
    x1, y1 = min(width, int(x + w + margin) + 1), min(height, int(y + h + margin) + 1)
    if sheet is not None:  # the crop may reach the sheet's edge: the surface stays painted over
        # the same crop of the working-resolution mask; _find_ink brings it to the crop's own size
        sy, sx = sheet.shape[0] / height, sheet.shape[1] / width
        sheet = sheet[
            int(y0 * sy) : max(int(y0 * sy) + 1, round(y1 * sy)), int(x0 * sx) : max(int(x0 * sx) + 1, round(x1 * sx))
        ]
    inked = _find_ink(grey[y0:y1, x0:x1], max_side=DIGIT_MAX_SIDE, sheet=sheet)
    if inked is None:
        return None
    inked = _without_edge_strips(inked)  # the crop may reach the edge of a sheet
    mask = _component_mask(inked, _significant_components(inked))
    bx, by, bw, bh = cv2.boundingRect(mask)
    if bw == 0:
        return None
    return _normalise_region(inked, mask[by : by + bh, bx : bx + bw], (bx, by, bw, bh))


def find_digits(picture) -> list[DigitCrop]:
    """Several digits in one picture (a number on paper), in reading order.

    Rows top to bottom, then left to right. Pieces of one digit (a ``5``'s
    detached bar) are merged when they overlap horizontally; touching digits
    in a component much wider than tall are cut at the thinnest columns.
    """
    return [crop for row in find_digit_rows(picture) for crop in row]


def find_digit_rows(picture) -> list[list[DigitCrop]]:
    """``find_digits`` grouped by line of writing: rows top to bottom, each left to right."""
    # a page of several digits spreads its ink over several strokes by nature: the single-digit "speckled" gate
    # (no stroke holding half of the ink) would refuse every such page with some paper grain
    inked = find_ink(picture, max_side=READ_MAX_SIDE, stats=True, one_digit=False)
    if inked is None:
        return []
    keep = _significant_components(inked)
    if keep.size == 0:
        return []
    inked = _without_rules(inked, keep)
    keep = _significant_components(inked)
    if keep.size == 0:
        return []
    groups = _merge_pieces(inked, keep)
    if not groups:
        return []
    tallest = max(box[3] for _, box in groups)
    groups = [g for g in groups if g[1][3] >= MARK_SHARE * tallest]  # dots, commas, specks are not digits
    rows: list[list[DigitCrop]] = []
    for row in _reading_order(groups):
        row = _plausible_digits(row)
        height = float(np.median([box[3] for _, box in row])) if row else 0.0
        crops = []
        for ids, box in row:
            for part_box, part_mask in _split_touching(inked, ids, box, height):
                mnist = _normalise_region(inked, part_mask, part_box)
                if mnist is not None:
                    crops.append(DigitCrop(box=_to_picture_box(part_box, inked.scale), mnist=mnist))
        if crops:
            rows.append(crops)
    return rows


def find_ink(picture, *, max_side: int = DIGIT_MAX_SIDE, stats: bool = False, one_digit: bool = True) -> Inked | None:
    """Polarity, background removal, thresholds and components; None for a blank picture.

    ``one_digit``: the picture should hold one digit, so ink scattered over many
    specks with no stroke holding most of it is noise (None); a page of several
    digits passes ``False``.
    """
    return _find_ink(_grey(load_picture(picture)), max_side=max_side, stats=stats, one_digit=one_digit)


def _find_ink(
    grey: np.ndarray, *, max_side: int, stats: bool = False, one_digit: bool = True, sheet: np.ndarray | None = None
) -> Inked | None:
    height, width = grey.shape
    scale = 1.0
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    if sheet is None:
        sheet = _find_sheet(grey)
    elif sheet.shape != grey.shape:  # the sheet found in the whole picture, for a crop of it
        sheet = cv2.resize(sheet, grey.shape[::-1], interpolation=cv2.INTER_NEAREST)
    if sheet is not None:
        grey = _paint_outside(grey, sheet)
    sigma = _noise_level(grey)
    ink, dark_ink, contrast = _ink_bright_on_black(grey, sigma)
    if sigma > NOISY:  # grainy picture: smooth before thresholding, and ask for more contrast
        ink = cv2.GaussianBlur(ink, (0, 0), 1.2)
        contrast = int(cv2.minMaxLoc(ink)[1])
    if contrast < max(MIN_CONTRAST, NOISE_CONTRAST * sigma):
        return None
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    high = max(otsu, 0.35 * contrast, 0.75 * MIN_CONTRAST)
    low = max(0.5 * high, 12.0)
    _, strong = cv2.threshold(ink, high, 1, cv2.THRESH_BINARY)
    _, weak = cv2.threshold(ink, low, 1, cv2.THRESH_BINARY)
    if stats:
        count, labels, box_stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    else:
        count, labels = cv2.connectedComponents(weak, connectivity=8)
        box_stats = None
    strong_area = np.bincount(labels[strong.view(bool)], minlength=count)
    strong_area[0] = 0
    total = int(strong_area.sum())
    if total < MIN_INK_SHARE * ink.size:
        return None
    if one_digit and count > SPECKLED_COUNT and strong_area.max() < 0.5 * total:
        return None  # ink scattered over many specks (noise), no stroke holds most of it
    floor = int(2.5 * sigma) if sigma > NOISY else 0
    return Inked(ink, labels, strong_area, box_stats, scale, dark_ink, contrast, floor, float(high), sheet)


def _find_sheet(grey: np.ndarray) -> np.ndarray | None:
    """In a photo of a sheet lying on a darker (or lighter) surface, the sheet's inside; None for any other picture.

    Polarity reads the paper from the picture's border; when the border is the
    table around the sheet, the sheet itself would pass for a huge stroke of
    bright ink. A sheet is a large quadrilateral inside the picture, with the
    surface on all four sides, whose holes (the writing) are much thinner than
    it is: a bold digit's outline is no quadrilateral, or its hole is as wide
    as its strokes, or it has none, and it is left alone.
    """
    height, width = grey.shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    centre = grey[height // 4 : height - height // 4, width // 4 : width - width // 4]
    if min(height, width) < 16 or abs(_median_level(centre) - float(np.median(border))) < MIN_CONTRAST:
        return None  # the middle is the same stuff as the border: no sheet on a surface (the usual case)
    area = grey.size
    smooth = _smooth(grey)
    _, bright = cv2.threshold(smooth, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    for candidate in (bright, 1 - bright):
        if candidate[[0, -1]].any() or candidate[:, [0, -1]].any() or candidate.sum() < SHEET_SHARE * area:
            continue  # it reaches a side of the picture, or is too small: no sheet with the surface all around
        count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
        if count < 2:
            continue
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        if stats[largest, cv2.CC_STAT_AREA] < SHEET_SHARE * area:
            continue
        sheet = (labels == largest).astype(np.uint8)
        contours, _ = cv2.findContours(sheet, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outline = max(contours, key=cv2.contourArea)
        corners = cv2.approxPolyDP(outline, SHEET_CORNERS * cv2.arcLength(outline, True), True)
        if len(corners) != 4 or not cv2.isContourConvex(corners):
            continue  # paper is a quadrilateral, even in perspective; a digit's outline is not
        filled = np.zeros_like(sheet)
        cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
        holes = filled & (1 - candidate)  # the writing (what lies inside a 9's loop is paper too)
        if holes.sum() < SHEET_WRITING * area or _half_width(holes) >= SHEET_THIN * _half_width(sheet):
            continue
        edge = max(1, round(SHEET_EDGE * max(grey.shape)))
        return cv2.erode(filled, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1)))
    return None


def _paint_outside(grey: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``grey`` with every pixel outside ``inside`` set to the paper's level (the median inside)."""
    if not inside.any():
        return grey
    out = grey.copy()
    out[inside == 0] = int(np.median(grey[inside > 0]))
    return out


def _noise_level(grey: np.ndarray) -> float:
    """Pixel noise (a standard deviation, grey levels) from differences of neighbours along the border.

    Neighbour differences cancel the paper's level and gradients; their median
    ignores the odd stroke that reaches the border.
    """
    rows = np.diff(grey[[0, -1]].astype(np.int16), axis=1).ravel()
    cols = np.diff(grey[:, [0, -1]].astype(np.int16), axis=0).ravel()
    diffs = np.abs(np.concatenate([rows, cols]))
    if diffs.size == 0:
        return 0.0
    k = diffs.size // 2
    return float(np.partition(diffs, k)[k]) / 0.954  # median |N(0, σ√2)| = 0.954 σ


def _grey(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 3:
        return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    return picture


def _smooth(image: np.ndarray) -> np.ndarray:
    return cv2.blur(image, (3, 3)) if min(image.shape) >= 3 else image


def _median_level(grey: np.ndarray) -> int:
    """The picture's median grey level (on a subsample: ink covers well under half of a picture)."""
    step = max(1, max(grey.shape) // 48)
    sample = grey[::step, ::step].ravel()
    k = sample.size // 2
    return int(np.partition(sample, k)[k])


def _paper_spread(border: np.ndarray, cut: int) -> int:
    """Spread (interquartile) of the border pixels that are paper, not ink reaching the edge.

    The grey rim of a stroke that crosses the border is ink too: pixels within
    a few of a crossing are left out, or a tight crop would look unevenly lit.
    """
    crossing = (border > cut).astype(np.uint8)[None]
    rim = max(3, border.size // 128) * 2 + 1
    paper = border[(border <= cut) & (cv2.dilate(crossing, np.ones((1, rim), np.uint8))[0] == 0)]
    if paper.size < 8:
        return 0
    kth = (paper.size // 4, (3 * paper.size) // 4)
    part = np.partition(paper, kth)
    return int(part[kth[1]]) - int(part[kth[0]])


def _side_spread(grey: np.ndarray, cut: int) -> int:
    """How much the four sides' paper levels differ (light falling off across the picture).

    Only the pixels on the paper's side of ``cut`` count, so ink that runs
    along a side does not pass for a shadow.
    """
    levels = []
    for side in (grey[0], grey[-1], grey[:, 0], grey[:, -1]):
        paper = side[side <= cut]
        if paper.size >= max(4, side.size // 4):
            levels.append(int(np.partition(paper, paper.size // 2)[paper.size // 2]))
    return max(levels) - min(levels) if len(levels) >= 2 else 0


def _ink_bright_on_black(grey: np.ndarray, sigma: float = 0.0) -> tuple[np.ndarray, bool, int]:
    """(ink map, dark_ink, contrast): ink bright on a black, even background.

    Polarity: the paper's level is the border's median (a border is mostly
    paper); the ink is the extreme that lies farther from it, so dark ink on
    light paper is inverted. Background: subtract that level when
    the paper along the border is even, else a local estimate of the paper
    (uneven light, shadows).
    """
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    k = border.size // 2
    edge = int(np.partition(border, k)[k])
    overall = _median_level(grey)
    smooth = _smooth(grey)
    darkest, brightest, _, _ = cv2.minMaxLoc(smooth)
    dark_ink = (edge - darkest) > (brightest - edge)
    if dark_ink != ((overall - darkest) > (brightest - overall)):
        # the border and the whole picture disagree on the paper: a tight crop whose ink runs along the
        # border (a bold 0 filling its box). Ink is the side made of strokes, the thinner one.
        dark_ink = _thinner_is_dark(smooth)
    # ink reaching the border, or covering much of the picture, pulls either median towards it: take the
    # one on the paper's side
    middle = max(edge, overall) if dark_ink else min(edge, overall)
    if dark_ink:
        grey = cv2.bitwise_not(grey)
        border = 255 - border
        middle, brightest = 255 - middle, 255 - darkest
    cut = middle + max(16, int(brightest - middle) // 2)
    spread = max(_paper_spread(border, cut), _side_spread(grey, cut))
    if spread < EVEN_BORDER + 3 * sigma:
        return cv2.subtract(grey, np.full_like(grey, middle)), dark_ink, int(brightest - middle)
    # uneven light: estimate the paper (a median does not depend on the polarity), then decide the
    # polarity again from what stands out of it, which a gradient no longer confuses
    original = cv2.bitwise_not(grey) if dark_ink else grey
    paper = _paper(original)
    above = cv2.minMaxLoc(_smooth(cv2.subtract(original, paper)))[1]
    below = cv2.minMaxLoc(_smooth(cv2.subtract(paper, original)))[1]
    dark_ink = below > above
    if not dark_ink:
        ink = cv2.subtract(original, paper)
    else:  # ink absorbs a share of the light that falls on it: divide by the local light, not subtract
        ink = cv2.divide(cv2.subtract(paper, original), np.maximum(paper, 32), scale=255)
    return ink, dark_ink, int(cv2.minMaxLoc(_smooth(ink))[1])


def _thinner_is_dark(grey: np.ndarray) -> bool:
    """Whether the dark side of an Otsu split is the thinner one (its 90th-percentile half-width).

    Strokes have a pen's width; the paper between and around them is wider,
    even inside a 0 that fills the picture.
    """
    _, bright = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return _half_width(1 - bright) < _half_width(bright)


def _half_width(mask: np.ndarray) -> float:
    inside = mask.view(bool)
    if not inside.any():
        return float("inf")
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    return float(np.percentile(distance[inside], 90))


def _paper(grey: np.ndarray) -> np.ndarray:
    """The paper's level everywhere: a median over a window much wider than a stroke.

    Strokes cover well under half of any such window, so the median is the
    paper; it follows gradients up to the picture's edge and keeps a shadow's
    edge sharp. Done at about PAPER_SIDE pixels and blown back up.
    """
    height, width = grey.shape
    factor = max(1, max(height, width) // PAPER_SIDE)
    small = grey
    if factor > 1:
        small = cv2.resize(grey, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    side = max(3, (max(small.shape) // 3) | 1)
    if min(small.shape) < 2:
        return grey
    paper = cv2.medianBlur(small, side)
    # where bold strokes fill much of the window the median is pulled up: take out what is clearly ink,
    # put the first estimate in its place, and look again
    ink = cv2.absdiff(small, paper)
    _, clearly = cv2.threshold(ink, max(8, int(ink.max()) // 4), 255, cv2.THRESH_BINARY)
    clearly = cv2.dilate(clearly, _KERNEL3)
    paper = cv2.medianBlur(np.where(clearly > 0, paper, small), side)
    if factor > 1:
        paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    return paper


def _significant_components(inked: Inked) -> np.ndarray:
    """Labels of the components with a fair share of strong ink (specks dropped)."""
    area = inked.strong_area
    largest = int(area.max()) if area.size else 0
    if largest == 0:
        return np.empty(0, dtype=np.int64)
    floor = max(FRAGMENT_SHARE * largest, MIN_INK_SHARE * inked.ink.size, 1)
    return np.flatnonzero(area >= floor)


def _component_mask(inked: Inked, ids: np.ndarray) -> np.ndarray:
    lut = np.zeros(len(inked.strong_area), dtype=np.uint8)
    lut[ids] = 1
    return lut[inked.labels]


def _union_box(stats: np.ndarray, ids: np.ndarray) -> tuple[int, int, int, int]:
    x0 = int(stats[ids, cv2.CC_STAT_LEFT].min())
    y0 = int(stats[ids, cv2.CC_STAT_TOP].min())
    x1 = int((stats[ids, cv2.CC_STAT_LEFT] + stats[ids, cv2.CC_STAT_WIDTH]).max())
    y1 = int((stats[ids, cv2.CC_STAT_TOP] + stats[ids, cv2.CC_STAT_HEIGHT]).max())
    return x0, y0, x1 - x0, y1 - y0


def _normalise_region(inked: Inked, mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The ink inside ``box`` where ``mask`` (box-sized) is set, MNIST-style: 20×20 fit, centred by mass.

    The mask is grown by the width of an anti-aliased edge at this scale (one
    MNIST pixel), so that the grey rim of a stroke, which MNIST keeps, is kept;
    below the noise floor the rim is black.
    """
    x, y, w, h = box
    height, width = inked.ink.shape
    rim = max(1, round(max(w, h) / BOX))
    x0, y0 = max(0, x - rim), max(0, y - rim)
    x1, y1 = min(width, x + w + rim), min(height, y + h + rim)
    region = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    region[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = mask
    if rim > 1:
        region = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1, 2 * rim + 1)))
    else:
        region = cv2.dilate(region, _KERNEL3)
    crop = inked.ink[y0:y1, x0:x1] * region
    if inked.floor > 0:
        crop[crop <= inked.floor] = 0
    return _fit_and_centre(crop)


_KERNEL3 = np.ones((3, 3), np.uint8)
_INDEX = np.arange(SIZE, dtype=np.float32)


def _fit_and_centre(crop: np.ndarray) -> np.ndarray | None:
    """Tight box of the nonzero ink -> fit 20×20 by the longer side -> centre of mass at (14, 14)."""
    x, y, w, h = cv2.boundingRect(crop)
    if w == 0:
        return None
    crop = crop[y : y + h, x : x + w]
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


def _merge_pieces(inked: Inked, ids: np.ndarray) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Group components that overlap horizontally and sit close vertically (pieces of one digit).

    A flat piece (a stroke much wider than tall and much thinner than the
    writing, see ``_flat``) is a digit's bar (a ``5``'s or a ``7``'s) only when
    it lies over one digit, no wider than it, at its height; any other flat
    piece is a rule, an underline or a dash, and is dropped rather than read.
    """
    stats = inked.stats
    boxes = {int(i): _union_box(stats, np.array([i])) for i in ids}
    flat = _flat(boxes)
    groups: list[list[int]] = []
    for i in sorted(boxes, key=lambda k: (k in flat, -stats[k, cv2.CC_STAT_AREA])):
        x, y, w, h = boxes[i]
        for group in groups:
            gx, gy, gw, gh = _union_box(stats, np.array(group))
            overlap = min(x + w, gx + gw) - max(x, gx)
            if i in flat:
                centre = y + h / 2
                if overlap > 0.5 * w and w <= FLAT_BAR_WIDTH * max(gw, gh) and gy - 0.25 * gh <= centre <= gy + gh:
                    group.append(i)
                    break
                continue
            gap = max(gy - (y + h), y - (gy + gh))
            if overlap > 0.5 * min(w, gw) and gap < 0.5 * max(h, gh):
                group.append(i)
                break
        else:
            if i not in flat:
                groups.append([i])
    return [(np.array(g), _union_box(stats, np.array(g))) for g in groups]


def _without_rules(inked: Inked, ids: np.ndarray) -> Inked:
    """The ink with straight lines longer than any digit stroke taken out (underlines, rules, crossings-out).

    An underline drawn close under a number touches its digits once blurred,
    and would join them into one wide blob. A straight run of ink longer than
    RULE_LENGTH digit heights, nearly level (the page may be tilted), is no
    part of a digit (digit heights are measured on the tallest upright mark,
    as a digit broken into pieces would understate them): it is found by an
    opening with line-shaped kernels and removed before the components are
    taken again.
    """
    boxes = {int(i): _union_box(inked.stats, np.array([i])) for i in ids}
    tallest = max((h for _, _, w, h in boxes.values() if w <= FLAT_ASPECT * h), default=0)
    if tallest == 0:
        return inked
    length = max(9, round(RULE_LENGTH * tallest))  # the tallest upright mark: a digit's pieces would shorten it
    weak = (inked.labels > 0).astype(np.uint8)
    rules = np.zeros_like(weak)
    for angle in RULE_ANGLES:
        rules |= cv2.morphologyEx(weak, cv2.MORPH_OPEN, _line_kernel(length, angle))
    if not rules.any():
        return inked
    rules = cv2.dilate(rules, _KERNEL3)
    weak &= 1 - rules
    count, labels, box_stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    strong_area = np.bincount(labels[inked.ink > inked.high], minlength=count)
    strong_area[0] = 0
    return replace(inked, labels=labels, strong_area=strong_area, stats=box_stats)


def _without_edge_strips(inked: Inked) -> Inked:
    """The ink without marks that hug the picture's sides (the table beside a sheet running off the frame).

    A mark lying along a good part of a side, or one that touches a side and
    never leaves the rim (a corner's wedge of table), is no digit when a
    digit-sized mark stands clear of the border; without one (a tight crop,
    where the digit itself touches the sides) nothing is dropped.
    """
    labels, area = inked.labels, inked.strong_area
    count = len(area)
    contact = np.zeros(count, dtype=np.float64)
    for side in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        contact = np.maximum(contact, np.bincount(side, minlength=count)[:count] / side.size)
    if not contact[1:].any():
        return inked  # nothing reaches the border (the usual drawing)
    band = max(1, round(EDGE_BAND * min(labels.shape)))
    reaches_in = np.zeros(count, dtype=bool)
    reaches_in[np.unique(labels[band:-band, band:-band])] = True
    # along a good part of a side, or a corner's wedge that never leaves the picture's rim
    strips = (contact >= EDGE_STRIP) | ((contact > 0) & ~reaches_in)
    strips[0] = False
    if not strips.any():
        return inked
    clear = area * (contact == 0)
    best = int(np.argmax(clear))
    rows = np.flatnonzero((labels == best).any(axis=1))
    tall = rows.size > 0 and rows[-1] - rows[0] + 1 >= EDGE_DIGIT_HEIGHT * labels.shape[0]
    if clear[best] < EDGE_DIGIT_SHARE * labels.size or not tall:
        return inked  # nothing digit-sized clear of the border (a dash is not): the strip may be part of the digit
    return replace(inked, strong_area=area * ~strips)


def _without_grid(inked: Inked) -> Inked:
    """The ink with the printed lines of squared or lined paper taken out, if the picture has them.

    A printed line crosses the whole picture, so it is only looked for when ink
    spans nearly all of it. Lines are rows of ink covering most of the
    picture's width (or columns, its height), looked for at a few angles for a
    tilted photo; a line may pass behind the digit or fade in places, so
    coverage, not an unbroken run, is what counts. A digit's own stroke can
    cross a tight crop too (a 7's bar), so only lines fainter than the rest of
    the ink are printed lines, and of those only the pixels fainter than a
    stroke go: where a stroke crosses a line, the stroke stays. (Lines as dark
    as the pen's are left: they cannot be told from a stroke this way.)
    """
    weak = (inked.labels > 0).astype(np.uint8)
    height, width = weak.shape
    _, _, box_w, box_h = cv2.boundingRect(weak)
    across, down = box_w >= GRID_SPAN * width, box_h >= GRID_SPAN * height
    if not (across or down) or min(height, width) < 16:
        return inked
    bands = []  # the ink of each line found, in picture coordinates
    for wanted, upright in ((across, False), (down, True)):
        if wanted:
            bands += _line_bands(np.ascontiguousarray(weak.T) if upright else weak, upright)
    if not bands:
        return inked
    lines = np.zeros_like(weak)
    for band in bands:
        lines |= band
    rest = weak & (1 - lines)
    if rest.sum() < GRID_REST * weak.sum():
        return inked  # the lines are the picture's ink: nothing to tell them from
    rest_level = float(np.median(inked.ink[rest > 0]))
    faint = (inked.ink < GRID_FAINT * rest_level).astype(np.uint8)
    printed = np.zeros_like(weak)
    for band in bands:
        # most of a line's length lies outside the digit: its lower levels are the line's own
        if float(np.percentile(inked.ink[band > 0], 30)) < GRID_FAINT * rest_level:
            printed |= band & faint  # a stroke crossing the line is darker than it: it stays
    if not printed.any():
        return inked
    keep = weak & (1 - printed)
    ink = inked.ink * keep
    count, labels = cv2.connectedComponents(keep, connectivity=8)
    strong_area = np.bincount(labels[ink > inked.high], minlength=count)
    strong_area[0] = 0
    if strong_area.sum() == 0:
        return inked
    return replace(inked, ink=ink, labels=labels, strong_area=strong_area, stats=None)


def _line_bands(weak: np.ndarray, transposed: bool) -> list[np.ndarray]:
    """Masks of the ink of each row (after a small rotation) that runs across the picture, ends included."""
    height, width = weak.shape
    centre = (width / 2, height / 2)
    ones = np.ones_like(weak)
    found = []
    taken = np.zeros_like(weak)
    for angle in GRID_ANGLES:
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(weak & (1 - taken), turn, (width, height), flags=cv2.INTER_NEAREST)
        inside = cv2.warpAffine(ones, turn, (width, height), flags=cv2.INTER_NEAREST)
        # a line up to half a step off this angle spreads over two rows: look at pairs of rows. It must
        # cover the row, and both ends of it, where no centred digit reaches
        pair = np.maximum(rotated, np.roll(rotated, -1, axis=0))
        quarter = width // 4
        rows = inside.sum(axis=1) >= GRID_SPAN * width
        for part in (slice(None), slice(0, quarter), slice(width - quarter, width)):
            rows &= pair[:, part].sum(axis=1) >= GRID_COVER * np.maximum(inside[:, part].sum(axis=1), 1)
        for first, last in _runs(rows):
            lo, hi = first, min(height, last + 2)  # the pair's second row
            ends = rotated[lo:hi, :quarter].sum(axis=1) + rotated[lo:hi, width - quarter :].sum(axis=1)
            line_rows = lo + np.flatnonzero(ends >= GRID_COVER * quarter)  # the line's own rows, not the digit's
            if line_rows.size == 0:
                continue
            band = np.zeros_like(weak)
            band[line_rows] = rotated[line_rows]
            back = cv2.warpAffine(band, turn, (width, height), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
            back = cv2.dilate(back, _KERNEL3) & weak  # what nearest-neighbour rotation missed
            taken |= back
            found.append(back.T.copy() if transposed else back)
    return found


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _line_kernel(length: int, angle: float) -> np.ndarray:
    """A one-pixel line of ``length`` at ``angle`` degrees from level, as a structuring element."""
    dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    half = (length - 1) / 2
    size = int(np.ceil(abs(half * dy))) * 2 + 1, length
    kernel = np.zeros(size, np.uint8)
    cy, cx = size[0] // 2, size[1] // 2
    cv2.line(kernel, (round(cx - half * dx), round(cy - half * dy)), (round(cx + half * dx), round(cy + half * dy)), 1)
    return kernel


def _typical_height(boxes: dict[int, tuple[int, int, int, int]]) -> float | None:
    """The writing's typical height: the median height of the components that are not flat."""
    upright = [h for _, _, w, h in boxes.values() if w <= FLAT_ASPECT * h]
    return float(np.median(upright)) if upright else None


def _flat(boxes: dict[int, tuple[int, int, int, int]]) -> set[int]:
    """Components much wider than tall and thin beside the writing's typical height: lines, not digits."""
    typical = _typical_height(boxes)
    if typical is None:
        return set(boxes)
    return {i for i, (_, _, w, h) in boxes.items() if w > FLAT_ASPECT * h and h < FLAT_HEIGHT * typical}


def _plausible_digits(row: list) -> list:
    """A row's groups that could be digits: about as tall as the row's writing, and not a thin vertical rule.

    Handwritten digits of one line are of one size; a mark far taller or far
    shorter than the row's median is something else (a bracket, a scribble, a
    tick). A group much taller than wide is kept only as a plausible ``1``.
    """
    if len(row) < 2:
        return row
    median = float(np.median([box[3] for _, box in row]))
    keep = []
    for ids, box in row:
        _, _, w, h = box
        if not ROW_SIZE[0] * median <= h <= ROW_SIZE[1] * median:
            continue
        if h > RULE_ASPECT * w and h > ROW_SIZE_ONE * median:
            continue  # thinner than any "1" and taller than the row: a vertical rule
        keep.append((ids, box))
    return keep


def _reading_order(groups):
    """Rows top to bottom (a box joins a row when its middle lies within the row's span), then left to right."""
    rows: list[list] = []
    for ids, box in sorted(groups, key=lambda g: g[1][1] + g[1][3] / 2):
        middle = box[1] + box[3] / 2
        for row in rows:
            top = min(b[1] for _, b in row)
            bottom = max(b[1] + b[3] for _, b in row)
            if top <= middle <= bottom:
                row.append((ids, box))
                break
        else:
            rows.append([(ids, box)])
    return [sorted(row, key=lambda g: g[1][0]) for row in rows]


def _split_touching(inked: Inked, ids: np.ndarray, box: tuple[int, int, int, int], row_height: float = 0.0):
    """Yield (box, mask) per digit; a blob much wider than tall is cut at its thinnest columns.

    How wide a digit is goes by the row's digit height: a blob much lower than
    its row's digits is one digit written flat, not several touching ones.
    """
    x, y, w, h = box
    lut = np.zeros(len(inked.strong_area), dtype=np.uint8)
    lut[ids] = 1
    mask = lut[inked.labels[y : y + h, x : x + w]]
    height = max(h, row_height)
    parts = round(w / (0.8 * height)) if w > 1.25 * height else 1
    if parts <= 1:
        yield box, mask
        return
    profile = (inked.ink[y : y + h, x : x + w] * mask).sum(axis=0, dtype=np.float64)
    cuts = [0]
    for k in range(1, parts):
        ideal = round(k * w / parts)
        reach = max(1, w // (4 * parts))
        lo, hi = max(cuts[-1] + 1, ideal - reach), min(w - 1, ideal + reach)
        cuts.append(lo + int(np.argmin(profile[lo : hi + 1])) if hi >= lo else ideal)
    cuts.append(w)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        part = np.zeros_like(mask)
        part[:, a:b] = mask[:, a:b]
        rows = np.flatnonzero(part.any(axis=1))
        cols = np.flatnonzero(part.any(axis=0))
        if rows.size == 0:
            continue
        sub = (x + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
        yield sub, part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _to_picture_box(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    if scale == 1.0:
        return box
    x, y, w, h = box
    return (int(x / scale), int(y / scale), max(1, round(w / scale)), max(1, round(h / scale)))
