"""The picture -> digits pipeline: the stages of this package, run in order.

    load -> binarise -> (printed) lines -> components -> underlines -> clean -> group (digits, rows) -> split
    -> normalise

``find_rows`` is the whole of it; ``to_mnist`` is the same run on a picture that
holds one digit (the tallest candidate is the digit). ``classify`` (a model's
(N, 28, 28) -> (N, 10) probabilities) lets recognition decide the two things
geometry cannot: where touching digits part, and which way up a page is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any, cast

import cv2
import numpy as np

from digitkit.runtime.images import load_picture
from digitkit.runtime.vision import orient, stages
from digitkit.runtime.vision.binarise import Binarised, binarise, to_grey, window_for
from digitkit.runtime.vision.clean import odd_sizes, writing_height, writing_pieces
from digitkit.runtime.vision.components import Pieces, find_pieces
from digitkit.runtime.vision.config import VisionConfig, active_config, using
from digitkit.runtime.vision.frames import without_frames
from digitkit.runtime.vision.geometry import Box, union, weighted_median
from digitkit.runtime.vision.group import group_pieces, into_rows
from digitkit.runtime.vision.lines import Lines, without_printed_lines
from digitkit.runtime.vision.marks import Mark, find_marks
from digitkit.runtime.vision.normalise import digit_region, fit_and_centre
from digitkit.runtime.vision.split import Classify, Veto, split_touching
from digitkit.runtime.vision.underlines import without_underlines

Judge = Callable[
    [list[np.ndarray]], Sequence[float] | np.ndarray
]  # a page's 28×28s -> the confidence that each is the digit it reads as


@dataclass(frozen=True)
class Digit:
    """One digit found in a picture: where it is, and what the model should see."""

    box: Box  # x, y, w, h in the (turned, see Page.turned) picture's pixels
    mnist: np.ndarray = field(repr=False)  # (28, 28) float32 in [0, 1], white on black
    row: int = 0  # which line of writing (0: top)


@dataclass(frozen=True)
class Page:
    """Every digit of a picture, in reading order."""

    rows: list[list[Digit]]
    turned: int = 0  # degrees (clockwise) the picture was turned to read it upright
    beside: int = 0  # one digit read (to_mnist): writing beside it of a digit's size, on its line (more digits)
    marks: list[Mark] = field(default_factory=list)  # decimal points and minus signs (boxes in picture pixels)

    @property
    def digits(self) -> list[Digit]:
        return [d for row in self.rows for d in row]


def find_rows(
    picture: Any,
    classify: Classify | None = None,
    *,
    judge: Judge | None = None,
    veto: Veto | None = None,
    config: VisionConfig | None = None,
) -> Page:
    """Every digit of a picture, rows top to bottom, each left to right.

    With ``classify``, touching digits are split where recognition says so. With
    ``judge`` (the page's 28×28s -> their confidences, e.g. a recognizer's), a page whose
    upright reading is weak is also read turned by 90, 270 and 180 degrees
    (``orient.py``); ``Page.turned`` says which was kept. ``veto`` ((N, 28, 28) -> (N,) in [0, 1], e.g. a
    recognizer's ``page_veto``) keeps a cut from making digits of what is no digit (``split.py``).
    ``config``: the tuning numbers (``VisionConfig``; default: the one in force).
    """
    with using(config):
        grey = to_grey(load_picture(picture))
        page = _read(grey, classify, veto)
        if judge is None:
            return page
        return orient.most_confident(grey, page, lambda g: _read(g, classify, veto), judge)


def find_digits(picture: Any, classify: Classify | None = None, *, config: VisionConfig | None = None) -> list[Digit]:
    """``find_rows`` flattened: every digit in reading order."""
    return find_rows(picture, classify, config=config).digits


def to_mnist(picture: Any, *, config: VisionConfig | None = None) -> np.ndarray | None:
    """A picture holding one digit -> (28, 28) float32 in [0, 1], white on black; None when there is none."""
    return read_one_digit(picture, config=config)[0]


def read_one_digit(picture: Any, *, config: VisionConfig | None = None) -> tuple[np.ndarray | None, int]:
    """``to_mnist``, and how many more digits the picture seems to hold beside that one (``Page.beside``)."""
    with using(config):
        page = _read(to_grey(load_picture(picture)), None, None, one_digit=True)
    return (page.digits[0].mnist if page.digits else None), page.beside


@dataclass
class _Candidates:
    """What the stages up to grouping found: the ink, its pieces, and the digits' candidates (working pixels)."""

    binarised: Binarised
    pieces: Pieces
    groups: list[list[int]]  # the pieces of each candidate digit
    boxes: list[Box]
    ink: list[float]  # each candidate's amount of ink
    small: list[tuple[Box, float]]  # candidates too small for a digit that may be marks (a point, a minus)
    beside: int = 0  # one digit read: candidates beside it that look like more digits


def _read(grey: np.ndarray, classify: Classify | None, veto: Veto | None, one_digit: bool = False) -> Page:
    """The stages on a grey picture. ``one_digit``: the picture holds one digit, the tallest candidate, and
    every piece of writing near it is part of it (a 5's flag that a page would read as a separate dash)."""
    if min(grey.shape[:2]) < active_config().min_picture_side:
        return Page([])
    stages.record("grey", lambda: grey)
    found = _candidates(grey, one_digit, coarse=one_digit)
    if found.binarised.coarse and not _large_digit(found):
        # what spread the ink over the canvas was no large digit (dust: at half size its dots run together)
        found = _candidates(grey, one_digit, coarse=False)
    return _digits(grey, found, classify, veto, one_digit)


def _candidates(grey: np.ndarray, one_digit: bool, coarse: bool) -> _Candidates:
    """binarise -> printed lines -> components -> frames, underlines -> (a wider window for large writing) ->
    group -> candidates of a digit's size. ``coarse``: a large digit on flat paper may be found on a half-size
    copy (``_binarised``)."""
    binarised, lines = _binarised(grey, one_digit and coarse)
    stages.record("ink-half-size" if binarised.coarse else "ink", lambda: stages.ink_picture(binarised.mask))
    binarised, pieces = _without_rulings(binarised, lines)
    # large writing: its strokes may be wider than the first window could see whole (flat paper used none)
    wider = None
    if not binarised.flat:
        wider = window_for(writing_height(binarised, pieces, one_digit), binarised.window, max(binarised.mask.shape))
    if wider is not None:
        wide = binarise(grey, binarised.dark_ink, wider, binarised.noise)
        # the narrower first window sees thin printed lines best: where it found none, there are none
        binarised, lines = (wide, Lines()) if lines.printed is None else without_printed_lines(wide, lines.printed)
        stages.record("ink-wider-window", lambda: stages.ink_picture(binarised.mask))
        binarised, pieces = _without_rulings(binarised, lines)
    stages.record("pieces", lambda: stages.pieces_picture(pieces.labels))
    groups, boxes, ink, levels = _grouped(binarised, pieces)
    odd = odd_sizes(boxes, ink, levels, one_digit)
    stages.record("candidates", lambda: stages.candidates_picture(binarised.ink, boxes, odd))
    found = _Candidates(
        binarised,
        pieces,
        [g for g, o in zip(groups, odd, strict=True) if not o],
        [b for b, o in zip(boxes, odd, strict=True) if not o],
        [a for a, o in zip(ink, odd, strict=True) if not o],
        [] if one_digit else _not_faint(boxes, ink, levels, odd),
    )
    return _one_digit(found) if one_digit and found.groups else found


def _one_digit(found: _Candidates) -> _Candidates:
    """A single-digit picture's candidates: the tallest one with what lies near it, or none for specks."""
    beside = _digits_beside(found.boxes, found.ink)
    groups, boxes = _the_digit(found.groups, found.boxes, found.pieces)
    if max(boxes[0][2:]) < active_config().one_digit_side * max(found.binarised.mask.shape):
        groups, boxes = [], []  # specks on a blank sheet are no digit
    return replace(found, groups=groups, boxes=boxes, beside=beside)


def _large_digit(found: _Candidates) -> bool:
    """A digit large enough to have been found on the half-size copy (``digit_work_side``)."""
    return bool(found.groups) and max(found.boxes[0][2:]) >= active_config().digit_work_side


def _digits(
    grey: np.ndarray, found: _Candidates, classify: Classify | None, veto: Veto | None, one_digit: bool
) -> Page:
    """rows -> marks -> each candidate's levels -> split touching digits -> normalise: the page."""
    binarised, pieces, boxes = found.binarised, found.pieces, found.boxes
    order = into_rows(boxes)
    # the digit's levels come from the picture itself, unless a large digit on flat paper was worked on coarser
    # than the picture: its working picture then has all the detail a 20×20 box needs (digit_work_side)
    if binarised.coarse:
        source, per_pixel = binarised.ink, 1.0 / binarised.scale  # picture pixels per pixel of the region
    else:
        source, per_pixel = (cv2.bitwise_not(grey) if binarised.dark_ink else grey), 1.0
    marks: list[Mark] = []
    if not one_digit:
        marks, taken = find_marks(order, boxes, found.ink, found.small)
        order = [kept for kept in ([i for i in row if i not in taken] for row in order) if kept]
    out: list[list[Digit]] = []
    out_row: dict[int, int] = {}  # a row of ``order`` -> its index in ``out`` (a row may yield no digit)
    for index, row in enumerate(order):
        row_height = float(median([boxes[i][3] for i in row])) / binarised.scale / per_pixel
        digits = []
        for i in row:
            box = _picture_box(boxes[i], binarised.scale, grey.shape)
            region = _region(
                source, binarised, pieces, found.groups[i], boxes[i], boxes[i] if binarised.coarse else box
            )
            x, y, _, h = box
            for start, end in split_touching(region, row_height, classify, veto):
                mnist = fit_and_centre(region[:, start:end])
                if mnist is not None:
                    left, right = round(start * per_pixel), round(end * per_pixel)
                    digits.append(Digit((x + left, y, max(1, right - left), h), mnist, len(out)))
        if digits:
            out_row[index] = len(out)
            out.append(digits)
    picture_marks = [
        Mark(_picture_box(m.box, binarised.scale, grey.shape), out_row[m.row], m.text)
        for m in marks
        if m.row in out_row
    ]
    stages.record("rows", lambda: stages.reading_picture(grey, out, picture_marks))
    stages.record("digits", lambda: stages.digits_picture([d.mnist for row in out for d in row]))
    return Page(out, beside=found.beside if out else 0, marks=picture_marks)


def _without_rulings(binarised: Binarised, lines: Lines) -> tuple[Binarised, Pieces]:
    """components -> frames (a form's boxes, a barcode) -> underlines: the pieces of ink, rulings out."""
    binarised, pieces = without_frames(binarised, find_pieces(binarised), lines.printed)
    return without_underlines(binarised, pieces, lines.runs)


def _binarised(grey: np.ndarray, one_digit: bool) -> tuple[Binarised, Lines]:
    """The picture binarised, printed lines out. A large digit on flat paper is found on a half-size copy
    (``Binarised.coarse``), unless printed lines run across it: they are thin, and at half size they fade into
    the strokes they cross (MNIST "squared paper": 3 of 1,000 digits lost, back at full size)."""
    binarised, lines = without_printed_lines(binarise(grey, one_digit=one_digit))
    # a line across the picture's worth of printed pixels, not the anti-aliased rim of a long straight stroke (a
    # 2's base drawn with the app's pen: 40-50 working pixels taken for a faint line)
    if binarised.coarse and lines.printed is not None and cv2.countNonZero(lines.printed) >= max(binarised.mask.shape):
        return without_printed_lines(binarise(grey, binarised.dark_ink, noise=binarised.noise))
    return binarised, lines


def _not_faint(boxes: list[Box], ink: list[float], levels: list[float], odd: list[bool]) -> list[tuple[Box, float]]:
    """The candidates too small or flat for a digit that are this picture's ink, not a faint speck: (box, ink)."""
    cfg = active_config()
    level = cfg.faint_writing * weighted_median(levels, ink) if levels else 0.0
    return [(b, a) for b, a, lv, o in zip(boxes, ink, levels, odd, strict=True) if o and lv >= level]


def _digits_beside(boxes: list[Box], ink: list[float]) -> int:
    """Candidates beside the tallest one that look like more digits: at least ``beside_height`` of its height and
    ``beside_ink`` of its ink, on its line (sharing half the shorter one's height), clear of it by ``beside_gap``
    of its height."""
    cfg = active_config()
    main = max(range(len(boxes)), key=lambda i: (boxes[i][3], boxes[i][2]))
    x, y, w, h = boxes[main]
    count = 0
    for (bx, by, bw, bh), amount in zip(boxes, ink, strict=True):
        shared = min(y + h, by + bh) - max(y, by)
        clear = bx >= x + w + cfg.beside_gap * h or bx + bw <= x - cfg.beside_gap * h
        count += (
            bh >= cfg.beside_height * h
            and amount >= cfg.beside_ink * ink[main]
            and shared >= 0.5 * min(h, bh)
            and clear
        )
    return count


def _the_digit(groups: list[list[int]], boxes: list[Box], pieces: Pieces) -> tuple[list[list[int]], list[Box]]:
    """The tallest candidate with every other one that lies within ``near`` of its size of it, as one digit."""
    cfg = active_config()
    main = max(range(len(groups)), key=lambda i: (boxes[i][3], boxes[i][2]))
    x, y, w, h = boxes[main]
    reach = cfg.near * max(w, h)
    ids = []
    for group, (gx, gy, gw, gh) in zip(groups, boxes, strict=True):
        if gx < x + w + reach and gx + gw > x - reach and gy < y + h + reach and gy + gh > y - reach:
            ids += group
    return [ids], [union(cast(list[Box], [tuple(int(v) for v in pieces.boxes[i]) for i in ids]))]


def _grouped(binarised: Binarised, pieces: Pieces) -> tuple[list[list[int]], list[Box], list[float], list[float]]:
    """Pieces cleaned and grouped: (groups of piece ids, their boxes, their ink, their ink's level)."""
    levels = writing_pieces(binarised, pieces)
    keep = list(levels)
    boxes = cast(list[Box], [tuple(int(v) for v in pieces.boxes[i]) for i in keep])
    groups = [[keep[k] for k in group] for group in group_pieces(boxes, [int(pieces.area[i]) for i in keep])]
    group_boxes = [union(cast(list[Box], [tuple(int(v) for v in pieces.boxes[i]) for i in group])) for group in groups]
    ink = [float(pieces.area[g].sum()) for g in groups]
    group_levels = [max(levels[i] for i in group) for group in groups]
    return groups, group_boxes, ink, group_levels


def _region(
    ink: np.ndarray, binarised: Binarised, pieces: Pieces, ids: list[int], work_box: Box, box: Box
) -> np.ndarray:
    """The digit's ink levels in its box, at the picture's own resolution (see normalise.digit_region).

    The pieces are found at working scale; the levels are taken from the picture itself, so that a
    digit keeps every pixel it has (an MNIST digit comes back as it was).
    """
    cfg = active_config()
    wx, wy, ww, wh = work_box
    x, y, w, h = box
    labels = pieces.labels[wy : wy + wh, wx : wx + ww]
    if len(ids) == 1:  # most digits are one piece
        own = (labels == ids[0]).view(np.uint8)
    else:
        lut = np.zeros(pieces.count, np.uint8)
        lut[ids] = 1
        own = lut[labels]
    others = (labels > 0).view(np.uint8) ^ own
    if (w, h) != (ww, wh):
        own = cv2.resize(own, (w, h), interpolation=cv2.INTER_NEAREST)
        others = cv2.resize(others, (w, h), interpolation=cv2.INTER_NEAREST)
    # the digit may reach past its mask where the window left a bold stroke's middle out; on flat paper no window
    # was used, and only the rim under the threshold lies beyond it: a working pixel's width in the picture
    if binarised.flat:
        grow = 1 if binarised.coarse else max(1, int(np.ceil(1 / binarised.scale)))
    else:
        grow = max(1, round(binarised.window / 4 / binarised.scale))
    # a clean tight crop (a data set's scan of one digit) has no paper grain to clear: its faint rim is part of it
    floor = 0.0 if binarised.clean_scan else cfg.paper_share
    return digit_region(ink[y : y + h, x : x + w], own, others, grow, floor)


def _picture_box(box: Box, scale: float, shape: tuple[int, int]) -> Box:
    """A working-scale box in the picture's pixels."""
    if scale == 1.0:
        return box
    x, y, w, h = box
    x0, y0 = int(x / scale), int(y / scale)
    x1, y1 = min(shape[1], int(np.ceil((x + w) / scale))), min(shape[0], int(np.ceil((y + h) / scale)))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)
