"""vision.to_mnist / find_digits: the one picture -> model-input path, end to end on pictures the tests make."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.vision import BOX, CENTRE, SIZE, find_digits, to_mnist


@pytest.fixture(scope="module")
def mnist_sample(mnist_test_u8):
    images, labels = mnist_test_u8
    return images[:1000], labels[:1000]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - correlation after a slight blur: a change of shape, not of stroke weight or a one-pixel shift."""
    a, b = (cv2.GaussianBlur(d, (0, 0), 1.0).ravel() for d in (a, b))
    return 1.0 - float(np.corrcoef(a, b)[0, 1])


def _centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    mass = digit.sum()
    return float((digit * xs).sum() / mass), float((digit * ys).sum() / mass)


def test_mnist_image_comes_back_unchanged(mnist_sample):
    """MNIST is already in the model's format: serving must not alter it (no train/serve skew)."""
    images, _ = mnist_sample
    out = np.stack([to_mnist(x) for x in images])
    reference = images.astype(np.float32) / 255
    diff = np.abs(out - reference)
    assert diff.mean() < 0.003
    assert np.mean(diff.reshape(len(images), -1).max(axis=1) > 0.1) < 0.01  # at most 1% of images differ visibly


def test_output_contract(mnist_sample):
    digit = to_mnist(mnist_sample[0][0])
    assert digit.shape == (SIZE, SIZE) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() == pytest.approx(1.0)
    ys, xs = np.nonzero(digit)
    assert max(np.ptp(ys), np.ptp(xs)) + 1 == BOX  # the longer side fits 20 pixels
    cx, cy = _centre_of_mass(digit)
    assert abs(cx - CENTRE) <= 0.5 and abs(cy - CENTRE) <= 0.5


def _drawing(digit: np.ndarray, size: int = 280) -> np.ndarray:
    """A black-on-white drawing of an MNIST digit, the way a canvas holds it."""
    return 255 - cv2.resize(digit, (size, size), interpolation=cv2.INTER_LINEAR)


@pytest.fixture(scope="module")
def references(mnist_sample):
    return [to_mnist(x) for x in mnist_sample[0][:60]]


def _nearest(digit: np.ndarray, references: list[np.ndarray]) -> int:
    """Which reference digit this one is closest to: the same picture should find itself among 60."""
    return int(np.argmin([_distance(digit, r) for r in references]))


def test_inverted_and_scaled_pictures_give_the_same_digit(mnist_sample, references):
    images, _ = mnist_sample
    inverted = [to_mnist(255 - x) for x in images[:60]]
    assert all(np.array_equal(a, b) for a, b in zip(inverted, references, strict=True))
    found = 0
    for i, x in enumerate(images[:60]):
        for picture in (
            _drawing(x),
            cv2.resize(x, (84, 84), interpolation=cv2.INTER_CUBIC),
            cv2.resize(x, (14, 14), interpolation=cv2.INTER_AREA),
        ):
            found += _nearest(to_mnist(picture), references) == i
    assert found >= 0.95 * 180


def test_off_centre_digit_is_cropped_and_centred(mnist_sample):
    x = mnist_sample[0][1]
    canvas = np.zeros((200, 300), np.uint8)
    canvas[150:178, 250:278] = x
    moved = to_mnist(canvas)
    assert _distance(moved, to_mnist(x)) < 0.01


def test_small_digit_in_a_large_picture_keeps_its_detail(mnist_sample, references):
    for i in (2, 7, 11):
        canvas = np.full((1200, 1600), 255, np.uint8)
        canvas[400:456, 900:956] = 255 - cv2.resize(mnist_sample[0][i], (56, 56))
        assert _nearest(to_mnist(canvas), references) == i


def test_colour_pil_and_file_inputs_agree(mnist_sample, tmp_path):
    x = _drawing(mnist_sample[0][3])
    bgr = cv2.cvtColor(x, cv2.COLOR_GRAY2BGR)
    path = tmp_path / "d.png"
    cv2.imwrite(str(path), bgr)
    reference = to_mnist(x)
    for picture in (bgr, Image.fromarray(x), path, str(path), x.astype(np.float32) / 255):
        assert np.abs(to_mnist(picture) - reference).max() < 0.02


@pytest.mark.parametrize("index", [4, 9, 13])
def test_uneven_light_and_shadow_are_removed(mnist_sample, references, index):
    x = mnist_sample[0][index]
    size = 112
    ink = cv2.resize(x, (size, size)).astype(np.float32) / 255
    xx = np.linspace(0, 1, size, dtype=np.float32)[None, :].repeat(size, 0)
    paper = 80 + 150 * xx  # light from the right
    paper[:, : size // 3] *= 0.6  # a hard shadow edge
    picture = np.clip(paper * (1 - 0.8 * ink), 0, 255).astype(np.uint8)
    out = to_mnist(picture)
    assert out is not None
    assert _nearest(out, references) == index  # the shadow edge did not survive as ink


@pytest.mark.parametrize(
    ("grid_bgr", "step", "tilt", "floor"),
    [
        ((230, 200, 150), 24, 0.0, 0.97),
        ((210, 170, 120), 30, 0.0, 0.97),  # read 44 % before printed lines were taken out
        ((210, 170, 120), 30, 3.0, 0.97),
        ((200, 150, 90), 24, 0.0, 0.85),  # half as dark as the ink: read 6.5 % before
    ],
    ids=["light-grid", "grid", "tilted-grid", "dark-grid"],
)
def test_printed_lines_of_squared_paper_are_not_ink(mnist_sample, grid_bgr, step, tilt, floor):
    """The lines run through and around the digit; the shipped model must still read it."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.pictures import on_squared_paper

    images, labels = mnist_sample[0][:100], mnist_sample[1][:100]
    predictions = Recognizer(threads=1, min_confidence=0.0).predict_batch(
        [on_squared_paper(d, grid_bgr, step, tilt) for d in images]
    )
    assert np.mean([p.digit == y for p, y in zip(predictions, labels, strict=True)]) >= floor


@pytest.mark.parametrize(
    ("margin", "tilt", "table", "shift"),
    [(40, 5.0, 50, (0, 0)), (80, -7.0, 100, (0, 0)), (60, 2.0, 20, (0, 0)), (-60, 4.0, 50, (60, 0)),
     (-60, 4.0, 50, (-60, -60)), (10, 5.0, 50, (0, 0))],
    ids=["inside", "small", "black-table", "off-frame-right", "off-frame-two-sides", "corners-off-frame"],
)  # fmt: skip
def test_photo_of_a_sheet_on_a_table_reads_the_sheet(mnist_sample, margin, tilt, table, shift):
    """The table is not ink: inside the frame the sheet passed for a huge bright stroke, and a strip of table
    beside a sheet running off the frame joined the digit (each read 10-40 % before)."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.pictures import on_a_table

    images, labels = mnist_sample[0][:100], mnist_sample[1][:100]
    predictions = Recognizer(threads=1, min_confidence=0.0).predict_batch(
        [on_a_table(d, margin, tilt, table, shift) for d in images]
    )
    assert np.mean([p.digit == y for p, y in zip(predictions, labels, strict=True)]) >= 0.97


@pytest.mark.parametrize("dark_ink", [False, True])
def test_tight_crop_whose_ink_runs_along_the_border_keeps_its_polarity(dark_ink):
    """A bold 0 filling its box: most of the border is ink, yet the ring is the digit, not its inside."""
    picture = np.zeros((64, 64), np.uint8)
    cv2.ellipse(picture, (32, 32), (29, 34), 0, 0, 360, 255, 9)
    if dark_ink:
        picture = 255 - picture
    out = to_mnist(picture)
    assert out is not None
    assert out[14, 14] < 0.1  # the hole stays empty
    assert out[4:24, 4:24].max() > 0.9


def test_tight_crops_of_real_handwriting_are_not_inverted(shared_dir):
    """Semeion and USPS digits fill their 16×16 box; a bold 0 there must not turn into a filled blob."""
    from digitkit.runtime.vision.binarise import binarise as find_ink
    from digitkit.train.foreign_data import load_semeion, load_usps, upscale16

    # share of 0s read as dark ink on light paper: 5.6 % and 7.2 % before tight crops were handled
    for loader, allowed in ((load_semeion, 0.01), (load_usps, 0.03)):
        images, labels = loader(shared_dir)
        inverted = [find_ink(p).dark_ink for p in upscale16(images[labels == 0])]
        assert np.mean(inverted) <= allowed, (loader.__name__, int(np.sum(inverted)))


@pytest.mark.parametrize(
    "picture",
    [
        np.zeros((28, 28), np.uint8),
        np.full((280, 280), 255, np.uint8),
        np.full((100, 100, 3), 128, np.uint8),
        np.tile(np.linspace(60, 220, 300, dtype=np.uint8), (200, 1)),  # a gradient, no ink
        np.clip(np.random.default_rng(0).normal(200, 2, (280, 280)), 0, 255).astype(np.uint8),  # paper grain
        np.clip(np.random.default_rng(1).normal(128, 40, (280, 280)), 0, 255).astype(np.uint8),  # heavy noise
        np.pad(np.full((1, 1), 0, np.uint8), 100, constant_values=255),  # one speck
    ],
    ids=["black", "white", "grey-bgr", "gradient", "paper-grain", "noise", "speck"],
)
def test_blank_or_near_blank_is_no_digit(picture):
    assert to_mnist(picture) is None


def test_specks_around_a_digit_are_dropped(mnist_sample):
    x = mnist_sample[0][5]
    picture = _drawing(x)
    rng = np.random.default_rng(2)
    for _ in range(40):
        py, px = rng.integers(0, 280, 2)
        picture[py : py + 2, px : px + 2] = 0
    assert np.abs(to_mnist(picture) - to_mnist(_drawing(x))).mean() < 0.02


def _number_picture(digits: list[np.ndarray], rows: int = 1) -> tuple[np.ndarray, list[tuple[int, int]]]:
    per_row = (len(digits) + rows - 1) // rows
    canvas = np.full((rows * 120 + 40, per_row * 90 + 40), 255, np.uint8)
    origins = []
    for i, d in enumerate(digits):
        r, c = divmod(i, per_row)
        y, x = 20 + r * 120 + (7 * c) % 15, 20 + c * 90
        canvas[y : y + 84, x : x + 84] = np.minimum(canvas[y : y + 84, x : x + 84], 255 - cv2.resize(d, (84, 84)))
        origins.append((x, y))
    return canvas, origins


def test_find_digits_in_reading_order(mnist_sample):
    images, _ = mnist_sample
    picture, origins = _number_picture(list(images[:6]), rows=2)
    crops = find_digits(picture)
    assert len(crops) == 6
    for crop, (x, y) in zip(crops, origins, strict=True):
        bx, by, bw, bh = crop.box
        assert x <= bx + bw / 2 <= x + 84 and y <= by + bh / 2 <= y + 84
        assert crop.mnist.shape == (28, 28)


def test_find_digits_on_blank_is_empty():
    assert find_digits(np.full((100, 300), 255, np.uint8)) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.float32, np.float64, np.uint16, np.int32, np.bool_]),
        shape=st.tuples(st.integers(1, 60), st.integers(1, 60))
        | st.tuples(st.integers(1, 40), st.integers(1, 40), st.sampled_from([1, 3, 4])),
    )
)
def test_any_array_gives_a_digit_none_or_a_clear_error(array):
    try:
        out = to_mnist(array)
    except DigitkitError:
        return  # e.g. NaN: a clear error is fine
    assert out is None or (out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1)
