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
