"""read_number: several digits in one picture, in reading order."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitkit.runtime.reading import NumberReading, read_number
from digitkit.runtime.recognizer import Recognizer


@pytest.fixture(scope="module")
def recognizer():
    """The shipped model as users get it."""
    return Recognizer(threads=1)


def _write_number(digits: list[np.ndarray], rows: int = 1, gap: int = 30, touch: bool = False) -> np.ndarray:
    """Black-on-white, each MNIST digit blown up to 84 px, slightly staggered like handwriting."""
    per_row = (len(digits) + rows - 1) // rows
    step = 84 - 30 if touch else 84 + gap
    canvas = np.full((rows * 130 + 40, per_row * step + 120), 255, np.uint8)
    for i, d in enumerate(digits):
        r, c = divmod(i, per_row)
        y, x = 20 + r * 130 + (11 * c) % 17, 30 + c * step
        canvas[y : y + 84, x : x + 84] = np.minimum(canvas[y : y + 84, x : x + 84], 255 - cv2.resize(d, (84, 84)))
    return canvas


def _pick(mnist_test_u8, wanted: str) -> list[np.ndarray]:
    images, labels = mnist_test_u8
    return [images[np.flatnonzero(labels == int(ch))[k]] for k, ch in enumerate(wanted)]


@pytest.mark.parametrize("number", ["2026", "314159", "70"])
def test_reads_a_written_number(recognizer, mnist_test_u8, number):
    reading = read_number(_write_number(_pick(mnist_test_u8, number)), recognizer)
    assert isinstance(reading, NumberReading)
    assert reading.text == number
    xs = [d.box[0] for d in reading.digits]
    assert xs == sorted(xs)
    assert all(d.probabilities.shape == (10,) and 0 <= d.confidence <= 1 for d in reading.digits)


def test_rows_are_read_top_to_bottom(recognizer, mnist_test_u8):
    picture = _write_number(_pick(mnist_test_u8, "123456"), rows=2)
    reading = read_number(picture, recognizer)
    assert reading.text == "123\n456"
    assert [d.row for d in reading.digits] == [0, 0, 0, 1, 1, 1]


def test_boxes_are_in_picture_coordinates_even_for_large_pictures(recognizer, mnist_test_u8):
    picture = _write_number(_pick(mnist_test_u8, "58"))
    big = cv2.resize(picture, None, fx=6, fy=6, interpolation=cv2.INTER_LINEAR)  # beyond the working size
    small, large = read_number(picture, recognizer), read_number(big, recognizer)
    assert large.text == small.text == "58"
    for a, b in zip(small.digits, large.digits, strict=True):
        assert np.allclose(np.array(b.box) / 6, a.box, atol=4)


def test_touching_digits_are_split(recognizer, mnist_test_u8):
    picture = _write_number(_pick(mnist_test_u8, "4477"), touch=True)
    reading = read_number(picture, recognizer)
    assert len(reading.digits) == 4


def test_no_digits(recognizer):
    reading = read_number(np.full((200, 400), 255, np.uint8), recognizer)
    assert reading.text == "" and reading.digits == [] and not reading.complete


def test_unsure_digits_read_as_question_marks(mnist_test_u8):
    strict = Recognizer(threads=1)
    strict.min_confidence = 1.1  # nothing is that sure
    reading = read_number(_write_number(_pick(mnist_test_u8, "12")), strict)
    assert reading.text == "??" and not reading.complete


def test_a_decimal_point_is_not_a_digit(recognizer, mnist_test_u8):
    picture = _write_number(_pick(mnist_test_u8, "314"), gap=40)
    cv2.circle(picture, (30 + 124 - 22, 120), 6, 0, -1)  # a dot between 3 and 1, on the baseline
    reading = read_number(picture, recognizer)
    assert reading.text == "314"


def test_an_underline_touching_the_digits_is_not_read(recognizer, mnist_test_u8):
    picture = _write_number(_pick(mnist_test_u8, "2026"))
    width = picture.shape[1]
    cv2.line(picture, (15, 100), (width - 15, 108), 0, 5, cv2.LINE_AA)  # through the digits' feet
    reading = read_number(picture, recognizer)
    assert reading.text == "2026"


def test_a_tilted_underline_below_the_digits_leaves_no_piece_behind(recognizer, mnist_test_u8, tmp_path):
    """A line under a number, tilted and not touching it, is a rule only along the rows its long runs lie in;
    its ends step off them, and left in the mask they joined the digits above: this webcam frame's "271" read
    "1 | 22" until the flat ends of a rule went with it (lines._line_ends)."""
    from app_webcam import make_webcam_video

    images, labels = mnist_test_u8
    video = tmp_path / "marks.avi"
    truths = make_webcam_video(video, images, labels, sheets=1, frames_per_sheet=4, seed=7, distractors=True)
    capture = cv2.VideoCapture(str(video))
    for truth in truths:
        ok, frame = capture.read()
        assert ok
        rows = [row for row in read_number(frame, recognizer, orient=False).text.split("\n") if row.strip("?")]
        assert [row.strip("?") for row in rows] == truth.numbers


def test_a_page_with_paper_grain_is_read(recognizer, mnist_test_u8):
    """Many specks and no stroke holding half of the ink: a page of several digits, not noise."""
    rng = np.random.default_rng(3)
    picture = _write_number(_pick(mnist_test_u8, "2026"))
    for _ in range(80):
        centre = (int(rng.integers(picture.shape[1])), int(rng.integers(picture.shape[0])))
        cv2.circle(picture, centre, 1, int(rng.integers(60, 140)), -1)
    reading = read_number(picture, recognizer)
    assert reading.text == "2026"


def test_a_digit_written_flat_is_not_cut_into_pieces(recognizer, mnist_test_u8):
    """Touching digits are cut by the row's digit height, so a low, wide digit stays one digit."""
    five, zero, three = _pick(mnist_test_u8, "503")
    picture = _write_number([five, three], gap=120)  # room for a third digit between them
    flat = 255 - cv2.resize(zero, (100, 36))
    region = picture[45:81, 142:242]  # between the two, on their line
    np.minimum(region, flat, out=region)
    reading = read_number(picture, recognizer)
    assert len(reading.digits) == 3
