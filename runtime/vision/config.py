"""Every tuning number of the picture pipeline, in one frozen record.

Sizes are in working pixels unless named otherwise; "height" is the typical digit's height (the median of a
picture's candidates). Each number says what it was measured on; docs/vision-tuning.md keeps the measurements
and the values tried. ``to_mnist``, ``find_rows`` and ``read_number`` take a ``config`` for sweeps and ablations::

    to_mnist(picture, config=replace(VisionConfig(), work_max_side=800))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class VisionConfig:
    # binarise: working scale and the local threshold's window
    work_max_side: int = 1000  # longer side at most; the development pages' smallest digits stay >= 12 px
    work_min_side: int = 112  # shorter side at least: a 16-px USPS or 28-px MNIST digit enlarged for the window
    window_share: float = 0.05  # window side / working longer side (51 px on a 1000-px page)
    window_min: int = 15  # window side at least
    window_per_height: float = 0.5  # second pass for large writing: window = this × the writing's height ...
    widen_beyond: float = 1.5  # ... when that is more than this × the first window (digits filling a photo)
    window_max_share: float = 0.15  # ... but at most this share of the picture (markers on photos: <= 7 %)
    window_max_free: int = 61  # ... except a small picture (a crop, a 112-px MNIST digit) may have this
    tight_crop_side: int = 64  # pictures up to this side may be a tight crop of one digit (USPS, Semeion)
    clean_scan: float = 0.5  # grey levels of noise under this: a clean scan (MNIST, USPS, Semeion: 0)
    flat_share: float = 0.5  # flat paper: this share of a clean picture is one level (screen drawings, scans) ...
    stroke_max_share: float = 0.15  # ... and nothing else on it wider than this share of its shorter side ...
    bold_stroke: float = 3.0  # ... or, dark ink clear of the border, than 1/this of its box (MNIST enlarged 10×)
    digit_work_side: int = 64  # a canvas digit over 2× this is found at half size (the app's 280-px drawings)
    step_windows: int = 3  # the paper-level opening's width in windows: wider than any kept stroke
    opening_bias: float = 3.0  # noise levels the opening sits under the paper's median (Gaussian grain: 2.9-3.3)
    min_offset: int = 10  # ink stands this many grey levels above its window's mean ...
    noise_factor: float = 4.0  # ... and this many times the picture's noise (dim photos)

    # polarity: which way round the ink is
    polarity_side: int = 400  # thumbnail's longer side for the polarity test
    polarity_window: float = 0.2  # its window, share of the side: wider than a marker's stroke
    polarity_tail: float = 0.3  # percent: the extreme contrasts compared
    polarity_prior: float = -0.5  # dark ink unless the signs add up to less (development photos: <= -1.29 or >= -0.10)
    border_unsure: float = 0.15  # a tight crop's border this close to the middle's level (share of range) says nothing
    flat_middle: float = 0.25  # middle half flat when its IQR is under this share of the grey range ...
    sheet_photo_side: int = 256  # ... looked at only in pictures this large
    sparse: int = 10  # 1st and 99th percentiles closer than this (grey levels): ink under ~1 % of the picture

    # lines: faint printed rules of squared and lined paper
    line_span: float = 0.25  # a printed line runs straight this share of the longer side ...
    line_min: int = 15  # ... and this many pixels at least
    faint_line: float = 0.7  # its pixels under this share of the way from paper to ink (grids: 30-60 %)
    line_rim: float = 0.02  # lines this close to the border (share of side) are left to clean

    # components: how a piece stands out of its surroundings
    paper_spread: float = 2.1  # 80th minus 10th percentile of Gaussian noise, in noise levels
    surround_clear: float = 0.3  # surround at or under this: a stroke without a second look
    compact: float = 6.0  # a piece no longer than this × its width is compact (a digit, even a 1)
    keeps_level: float = 0.5  # ... believed when it keeps this share of its level above the ring's plane
    light_step: float = 0.5  # a ring's plane changing by more than this share of the piece's level is a step
    few_pieces: int = 4  # up to this many pieces, statistics one by one (faster than OpenCV's, 140×140)
    halo: float = 1.5  # picture pixels: a stroke's anti-aliased rim (MNIST's: 1-2 px)

    # underlines
    rule_length: float = 3.0  # a level line this × longer than its piece is tall is ruled across it ...
    rule_touch: float = 2.0  # ... when the piece is this × the line's thickness tall

    # clean: what is not writing
    speck_share: float = 0.006  # a piece shorter than this share of the longer side is a speck ...
    speck_min: int = 3  # ... or shorter than this
    surround_max: float = 0.4  # surround over this: a dark region's border (development pages' strokes: 0-0.3)
    edge_run: float = 0.3  # a piece along this share of a side is an edge, not used for the writing's height
    hug_border: float = 0.75  # this share of a piece's length on the outermost pixels: a sheet's edge
    table_side: float = 0.75  # a piece covering this share of a side is the table around a sheet
    strip: float = 0.25  # a side-to-side strip within this share of the other sides is table
    edge_gap: float = 0.015  # "touching" a side: within this share of it
    wedge_fill: float = 0.3  # a corner wedge of table fills this share of its box (triangles: 0.4-0.5) ...
    wedge_on_frame: float = 0.5  # ... lying on the frame along this share of its length (wedges: 0.61-0.74)
    dense: float = 0.02  # one digit's pieces cover this share of their joint box (broken 1: ~10 %, dust: < 0.1 %)
    tall: float = 2.2  # taller than this × height: a rule, an edge, a scribble
    flat_wide: float = 1.5  # wider than this × height ...
    flat_low: float = 0.45  # ... and lower than this × height: an underline or a printed line
    dot: float = 0.3  # neither side this × height: a dot, a comma, a speck
    min_height: int = 8  # a mark lower than this is too small for a digit (page digits: >= 12)
    faint_writing: float = 0.35  # ink level under this share of the typical digit's: not this picture's writing

    # frames: boxes and combs of forms, barcodes
    field_wide: float = 3.0  # a field is this × wider than tall (three boxes or more)
    field_low: int = 12  # a field lower than this holds no digit
    rule_span: float = 0.8  # a rule's row is ink along this share of the field's width
    tick_span: float = 0.4  # a tick's column is ink along this share of the field's height (combs: ~0.5)
    min_ticks: int = 4  # three boxes need four ticks
    even: float = 0.2  # tick gaps within this share of their median
    end: float = 0.05  # first and last ticks within this share of the field's width of its ends
    tick_width: float = 0.12  # a loose tick is at most this share of its height wide (4 px at least) ...
    bar_fill: float = 0.7  # ... this solid ...
    aligned: float = 0.1  # ... tops and feet level to this share of its height
    barcode_bars: int = 8  # a barcode has this many bars at least ...
    barcode_level: float = 0.04  # ... level to this share of their height ...
    barcode_gap: float = 0.15  # ... and gaps at most this share of their height
    tick_of_step: float = 0.15  # a field's tick is at most this share of the tick step wide

    # group: pieces -> digits -> rows
    shared_columns: float = 0.5  # pieces of one digit share this share of the narrower's columns (a 5's flag) ...
    piece_gap: float = 0.3  # ... lie at most this × height apart ...
    digit_height: float = 1.35  # ... and together are at most this × height tall ...
    line_flat: float = 4.0  # ... unless one is a level line this × wider than high ...
    line_past: float = 1.6  # ... and this × wider than the other (an underline under a number)
    row_reach: float = 0.5  # a digit joins a row within this × height of where the row points ...
    row_slope: float = 0.4  # ... the row's slope at most this (photos at an angle: ~0.2)
    row_own_slope: int = 3  # digits a row needs before its own direction beats the page's
    row_tail: int = 4  # a row's last digits that say where it goes (curved rows)
    pair_reach: float = 3  # the page's direction from digits up to this × height apart

    # marks: decimal points and minus signs
    dot_size: float = 0.35  # a dot's longer side at most this × the row's height (Hershey duplex: 0.31) ...
    dot_aspect: float = 2.0  # ... and at most this × its shorter side
    bar_length: float = 0.3  # a minus bar at least this × the row's height long ...
    bar_thin: float = 0.5  # ... at most this × its length thick (Hershey dashes: 0.38-0.48) ...
    bar_low: float = 0.3  # ... and this × the row's height
    filled: float = 0.5  # a dot or a bar fills this share of its box (a letter's speck does not)
    near_baseline: float = 0.2  # a dot's bottom within this × height of the baseline
    bar_next_to: float = 0.8  # a bar ends within this × height of the digit it signs

    # split: touching digits, cut only when recognition agrees
    try_width: float = 1.0  # blobs wider than this × row height and × their own height are tried
    cut_margin: float = 0.2  # cuts looked for this share of the width from either side inwards ...
    cut_candidates: int = 3  # ... at up to this many of the thinnest columns
    sure: float = 0.9  # a blob read this sure is one digit; both parts of a cut must be this sure
    max_parts: int = 8  # a blob is cut into at most this many digits

    # normalise: a digit as MNIST was made
    paper_share: float = 0.2  # ink under this share of the stroke level is paper (development pages: best of 0.1-0.2)
    pen_share: float = 0.1  # MNIST's strokes: this share of the digit's longer side ...
    thin_pen: float = 0.4  # ... strokes under this share of that are thickened

    # one digit in a picture
    near: float = 0.5  # writing within this share of the tallest candidate's size belongs to it (a 5's flag)
    one_digit_side: float = 0.02  # the digit spans this share of the picture's longer side at least
    min_picture_side: int = 8  # a picture narrower than this holds no legible digit
    beside_height: float = 0.6  # writing this tall (× the digit's height) ...
    beside_gap: float = 0.05  # ... this far apart from it (× height) ...
    beside_ink: float = 0.25  # ... with this share of its ink: a second digit beside it (MNIST test: 3 in 10,000)

    # orient: sideways pages
    weak: float = 0.9  # upright readings this sure on average are kept without turning
    margin: float = 0.05  # a turned reading must beat the upright one by this much ...
    turns: tuple[int, ...] = (90, 270, 180)  # degrees clockwise, in the order tried
    min_marks: int = 3  # ... and have this many marks (a lone 6 turned is a 9) ...
    turned_per_row: float = 1.5  # ... and this many digits to a row on average (a word turned reads one to a row)


DEFAULT = VisionConfig()
_CURRENT: ContextVar[VisionConfig] = ContextVar("vision_config", default=DEFAULT)


def active_config() -> VisionConfig:
    """The config the running pipeline call was given (``DEFAULT`` outside one)."""
    return _CURRENT.get()


@contextmanager
def using(config: VisionConfig | None) -> Iterator[VisionConfig]:
    """Run the stages under ``config`` (None: keep the one in force)."""
    if config is None:
        yield active_config()
        return
    token = _CURRENT.set(config)
    try:
        yield config
    finally:
        _CURRENT.reset(token)
