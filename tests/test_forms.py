"""Digits written in a form's printed boxes (a box per digit, or a comb): the boxes are no 1s (vision/frames.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitkit.runtime import Recognizer, read_number


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(threads=1)


def _form(digits: list[np.ndarray], comb: bool, line: int, grey: int, cell: int = 70) -> np.ndarray:
    """A row of boxes (or a comb: a rule with half-height ticks), one MNIST digit in each, dark on white."""
    n = len(digits)
    picture = np.full((cell + 40, n * cell + 40), 255, np.uint8)
    for k, digit in enumerate(digits):
        x0 = 20 + k * cell
        picture[28 : 28 + cell - 16, x0 + 8 : x0 + cell - 8] = 255 - cv2.resize(digit, (cell - 16, cell - 16))
    for k in range(n + 1):
        x = 20 + k * cell
        cv2.line(picture, (x, 20 + (cell // 2 if comb else 0)), (x, 20 + cell), grey, line)
    if not comb:
        cv2.line(picture, (20, 20), (20 + n * cell, 20), grey, line)
    cv2.line(picture, (20, 20 + cell), (20 + n * cell, 20 + cell), grey, line)
    return picture


def test_digits_in_form_boxes_and_combs_are_read_without_the_boxes(recognizer, mnist):
    images, labels = np.array(mnist.test_images), np.array(mnist.test_labels)
    rng = np.random.default_rng(1)
    exact = 0
    for t in range(30):
        ids = rng.integers(0, 10_000, 8)
        picture = _form(
            [images[i] for i in ids], comb=t % 2 == 1, line=int(rng.integers(1, 4)), grey=int(rng.integers(0, 120))
        )
        text = read_number(picture, recognizer).text
        truth = "".join(str(v) for v in labels[ids])
        assert len(text) <= 9, (truth, text)  # no box read as a row of 1s
        exact += text == truth
    assert exact >= 27  # of 30: a digit touching a tick still takes it in


def test_hand_drawn_upright_strokes_are_no_form(recognizer):
    picture = np.full((200, 400), 255, np.uint8)
    for k in range(5):
        cv2.line(picture, (60 + 70 * k, 40), (60 + 70 * k, 160), 0, 12)
    assert read_number(picture, recognizer).text == "11111"


def _barcode(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picture = np.full((260, 520), 255, np.uint8)
    x = 40
    while x < 470:
        width = int(rng.integers(2, 9))
        picture[30:150, x : x + width] = 0
        x += width + int(rng.integers(2, 9))
    return picture


def test_a_barcode_is_no_row_of_ones_and_its_printed_number_is_read(recognizer):
    for seed in range(3):
        assert read_number(_barcode(seed), recognizer).text == ""
        labelled = _barcode(seed)
        cv2.putText(labelled, "40123", (120, 230), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 5, cv2.LINE_AA)
        assert read_number(labelled, recognizer).text == "40123"


def test_handwritten_ones_side_by_side_are_still_read(recognizer, mnist):
    images, labels = np.array(mnist.test_images), np.array(mnist.test_labels)
    ones = [255 - cv2.resize(images[i], (84, 84)) for i in np.flatnonzero(labels == 1)[:10]]
    picture = np.pad(np.hstack(ones), 20, constant_values=255)
    assert read_number(picture, recognizer).text == "1" * 10
