"""The vision pipeline's shortcuts give what the plain computations give (#11's 1 ms drawing goal).

Each shortcut is checked against the slower computation it replaces, on pictures the tests make.
"""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digitkit.runtime.vision import to_mnist
from digitkit.runtime.vision.binarise import (
    _paper_level,
    binarise,
    flat_paper,
    noise_level,
)
from digitkit.runtime.vision.clean import _clear_of_the_border, _hugging_the_border, _on_bands, _table_around
from digitkit.runtime.vision.components import find_pieces, label
from digitkit.runtime.vision.config import DEFAULT
from digitkit.runtime.vision.lines import _runs
from digitkit.runtime.vision.order import percentile
from digitkit.runtime.vision.pipeline import _binarised


@settings(max_examples=200, deadline=None)
@given(
    st.integers(3, 90),
    st.integers(3, 90),
    st.integers(2, 50),
    st.floats(0.3, 0.98),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_runs_are_a_morphological_opening_with_a_line(height, width, length, density, level, seed):
    mask = (np.random.default_rng(seed).random((height, width)) < density).astype(np.uint8)
    line = np.ones((1, length) if level else (length, 1), np.uint8)
    expected = cv2.morphologyEx(mask, cv2.MORPH_OPEN, line)
    assert np.array_equal(_runs(mask, (length, 1) if level else (1, length)), expected)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 80),
    st.integers(1, 80),
    st.integers(0, 12),
    st.floats(0.0, 1.0),
    st.integers(0, 2**31),
)
def test_labels_and_statistics_are_opencvs(height, width, blobs, density, seed):
    """Ink anywhere (odd or even edges, touching the border or not, none, all), few pieces or many."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(blobs):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(1, width + 1)), int(rng.integers(1, height + 1))
        mask[y : y + h, x : x + w] = rng.random(mask[y : y + h, x : x + w].shape) < density
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    got = label(mask)
    assert got[0] == count
    assert np.array_equal(got[1], labels)
    assert np.array_equal(got[2], stats)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 90), st.integers(1, 90), st.floats(0.0, 1.0), st.integers(1, 255), st.integers(0, 2**31))
def test_paper_level_is_the_histograms_most_common_level(height, width, share, spread, seed):
    """A level on about ``share`` of the pixels (ties with another level at exactly half included), the rest
    spread over ``spread`` other levels: the sample's shortcut answers what the whole histogram does."""
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, spread, (height, width)).astype(np.uint8)
    picture[rng.random((height, width)) < share] = 200
    if rng.random() < 0.2:  # two levels on half the pixels each
        picture = np.where(np.arange(height * width).reshape(height, width) % 2 == 0, 17, 200).astype(np.uint8)
    counts = np.bincount(picture.ravel(), minlength=256)
    level = int(np.argmax(counts))
    expected = None if counts[level] < DEFAULT.flat_share * picture.size else level
    assert _paper_level(picture) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(8, 300), st.integers(8, 300), st.integers(1, 6), st.integers(0, 2**31))
def test_pieces_clear_of_the_border_neither_hug_it_nor_are_the_table(height, width, blobs, seed):
    """The shortcut that skips both border tests: whenever it is taken, both tests would have said no piece."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(blobs):  # boxes from 0 to 7 pixels off the sides, across most of the picture or small
        left, top, right, bottom = (int(v) for v in rng.integers(0, 8, 4))
        x, y = left + int(rng.integers(0, width // 3)), top + int(rng.integers(0, height // 3))
        x1, y1 = width - right - int(rng.integers(0, width // 3)), height - bottom - int(rng.integers(0, height // 3))
        mask[y:y1, x:x1] = 1
    pieces = find_pieces(SimpleNamespace(mask=mask))
    clear = _clear_of_the_border(pieces)
    assert clear == (
        pieces.count == 1
        or min(
            pieces.boxes[1:, 0].min(),
            pieces.boxes[1:, 1].min(),
            width - (pieces.boxes[1:, 0] + pieces.boxes[1:, 2]).max(),
            height - (pieces.boxes[1:, 1] + pieces.boxes[1:, 3]).max(),
        )
        > max(2, round(0.02 * max(height, width)))
    )
    if clear:
        assert not _hugging_the_border(pieces).any()
        assert not _table_around(pieces).any()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(2, 40), st.integers(0, 2**31))
def test_pieces_on_the_border_bands_are_counted_once_per_position(near, count, seed):
    rng = np.random.default_rng(seed)
    bands = tuple(rng.integers(0, count, (int(rng.integers(1, 30)), near)).astype(np.uint16) for _ in range(4))
    expected = np.zeros((4, count), np.int64)
    for k, band in enumerate(bands):
        for row in band:
            for piece in set(row.tolist()):
                expected[k, piece] += 1
    assert np.array_equal(_on_bands(bands, count), expected)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 60), st.integers(2, 60), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_noise_level_is_the_median_neighbour_difference(height, width, busy, seed):
    """Mostly equal neighbours (a drawing) take a shortcut to 0; the figure is the plain median's either way."""
    rng = np.random.default_rng(seed)
    picture = np.full((height, width), 200, np.uint8)
    noisy = rng.random((height, width)) < busy
    picture[noisy] = rng.integers(0, 256, int(noisy.sum()))
    diff = np.abs(np.diff(picture.astype(np.int64), axis=1))
    assert noise_level(picture) == np.median(diff) * 1.4826 / np.sqrt(2.0)


def _canvas(side: int, digit_side: int, seed: int = 0) -> np.ndarray:
    """A dark 7 drawn with an anti-aliased marker on a white canvas, filling ``digit_side`` pixels."""
    canvas = np.full((side, side), 255, np.uint8)
    top, left, pen = (side - digit_side) // 2, (side - digit_side) // 2, max(2, digit_side // 12)
    bar_end = (left + digit_side, top)
    cv2.line(canvas, (left, top), bar_end, 0, pen, cv2.LINE_AA)
    cv2.line(canvas, bar_end, (left + digit_side // 3, top + digit_side), 0, pen, cv2.LINE_AA)
    return canvas


def test_a_canvas_is_judged_flat_on_a_half_size_copy_as_at_full_size():
    picture = _canvas(560, 300)
    half = flat_paper(picture)
    assert half is not None and half.level == 255 and half.dark_ink
    assert abs(half.extent - 300) <= 4 + 300 // 12  # the box around the strokes, pen included
    picture[:, :150] = 40  # a table beside the sheet: a region, not a stroke
    assert flat_paper(picture) is None


def test_a_large_digit_on_a_canvas_is_found_at_half_size_and_reads_as_at_full_size():
    """A digit filling the app's 280×280 canvas is found on a half-size copy; its 28×28 is the one the full-size
    pipeline makes of the same drawing (a digit just under digit_work_side × 2 is found at full size)."""
    large = _canvas(280, 2 * DEFAULT.digit_work_side + 20)
    coarse, full = binarise(large, one_digit=True), binarise(large)
    assert coarse.coarse and coarse.scale == 0.5 and not full.coarse
    small = _canvas(280, 2 * DEFAULT.digit_work_side - 40)
    assert not binarise(small, one_digit=True).coarse
    # the same drawing at a size the full-size path reads: the two 28×28s agree to a grey level or so
    found, reference = to_mnist(large), to_mnist(cv2.resize(large, (140, 140), interpolation=cv2.INTER_AREA))
    assert found is not None and reference is not None
    assert float(np.abs(found - reference).mean()) < 0.03


def test_printed_lines_send_a_large_digit_back_to_full_size():
    """Squared paper's thin lines fade at half size: a picture with printed lines is read at full size."""
    picture = _canvas(280, 2 * DEFAULT.digit_work_side + 20)
    grid = np.full_like(picture, 255)
    grid[::20, :] = 190
    grid[:, ::20] = 190
    picture = np.minimum(picture, grid)
    assert binarise(picture, one_digit=True).coarse  # the grid is thin: the paper is still flat
    assert not _binarised(picture, one_digit=True)[0].coarse
    assert _binarised(_canvas(280, 2 * DEFAULT.digit_work_side + 20), one_digit=True)[0].coarse
    digit = to_mnist(picture)
    plain = to_mnist(_canvas(280, 2 * DEFAULT.digit_work_side + 20))
    assert digit is not None and float(np.abs(digit - plain).mean()) < 0.03


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9000), st.sampled_from([0.1, 0.5, 0.8, 0.9]), st.integers(0, 2**31))
def test_percentile_is_numpys_on_the_sample(size, share, seed):
    values = np.random.default_rng(seed).integers(0, 256, size).astype(np.uint8)
    sample = values[:: max(1, size // 4096)]
    assert percentile(values, share) == float(np.percentile(sample, 100 * share))


def test_digits_drawn_with_the_apps_pen_are_found_at_half_size_and_read(mnist_test_u8):
    """The speed benchmark's drawings (benchmarks/vision_speed.py): MNIST digits along their middle line with the
    app's pen on its 280×280 canvas. A long straight stroke's anti-aliased rim is no printed line: they stay coarse."""
    from digitkit.benchmarks.vision_speed import pen_drawing
    from digitkit.runtime.recognizer import Recognizer

    recognizer = Recognizer(threads=1)
    images, labels = mnist_test_u8
    drawings = [pen_drawing(images[i]) for i in range(10)]
    assert all(_binarised(d, one_digit=True)[0].coarse for d in drawings)
    read = [recognizer.predict(d).digit for d in drawings]
    assert sum(r == y for r, y in zip(read, labels[:10], strict=True)) >= 9


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 20000), st.sampled_from([0.5, 0.9]), st.integers(0, 2**31))
def test_percentile_of_all_values_is_numpys(size, share, seed):
    values = np.random.default_rng(seed).integers(0, 256, size).astype(np.uint8)
    assert percentile(values, share, most=None) == float(np.percentile(values, 100 * share))
