"""A decimal point and a minus sign stay in the reading (vision/marks.py): '31.415' is not 31415."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitkit.runtime import Recognizer, read_number
from digitkit.runtime.vision.marks import _meaning

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(threads=1)


@pytest.mark.parametrize("font", FONTS)
@pytest.mark.parametrize("text", ["31.415", "-42", "-0.25", "555-1234", "2026"])
def test_printed_numbers_keep_their_point_and_sign(recognizer, font, text):
    picture = np.full((140, 60 + 55 * len(text)), 255, np.uint8)
    cv2.putText(picture, text, (25, 100), font, 2.4, 0, 5, cv2.LINE_AA)
    assert read_number(picture, recognizer).text == text


def test_handwritten_digits_with_a_drawn_point_read_with_it(recognizer, mnist):
    images, labels = np.array(mnist.test_images[:90]), np.array(mnist.test_labels[:90])
    right = 0
    for k in range(0, 90, 3):
        digits = [255 - cv2.resize(images[k + i], (84, 84)) for i in range(3)]
        dot = np.full((84, 30), 255, np.uint8)
        cv2.circle(dot, (15, 70), 5, 0, -1)
        picture = np.pad(np.hstack([digits[0], dot, digits[1], digits[2]]), 20, constant_values=255)
        right += read_number(picture, recognizer).text == f"{labels[k]}.{labels[k + 1]}{labels[k + 2]}"
    assert right >= 27  # of 30 (a misread digit costs the whole number)


def test_a_mark_must_stand_where_it_means_something():
    row = [(100, 50, 40, 50), (150, 50, 40, 50)]  # two digits, 50 high, baseline at 100
    assert _meaning((141, 90, 8, 9), row, 60) == "."  # between them, on the baseline
    assert _meaning((141, 60, 8, 9), row, 60) == ""  # between them, but up in the air
    assert _meaning((200, 90, 8, 9), row, 60) == ""  # after the last digit: a full stop, not a decimal point
    assert _meaning((70, 72, 24, 6), row, 140) == "-"  # a bar at mid-height just before a digit
    assert _meaning((70, 92, 24, 6), row, 140) == ""  # ... on the baseline: an underline's piece
    assert _meaning((20, 72, 24, 6), row, 140) == ""  # ... far before it
    assert _meaning((141, 90, 8, 9), row, 20) == ""  # a hollow speck is no dot
