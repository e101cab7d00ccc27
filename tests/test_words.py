"""Printed words are no numbers: no digit read from them, upright or turned (a word on its side is a column of
letters, and the letters that look like digits, an O or an S, are part of a word)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from printed import FONTS, printed

from digitkit.runtime import Recognizer, read_number

# at least half of each word's letters look like no digit; a word most of whose letters look like digits (ZOO,
# SOIL, DOG, QUEST: an O is a 0, a G a 6) reads upright as the digits it looks like, as it would to a person asked for
# digits (docs/errors.md)
WORDS = ("HELLO", "WORLD", "TEXT", "CAT", "SUN", "MOON", "HOUSE", "APPLE", "TABLE", "GREEN", "WATER")


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(threads=1)


@pytest.mark.parametrize("font", FONTS)
def test_printed_words_read_no_digit_upright_or_turned(recognizer, font):
    for word in WORDS:
        for orient in (True, False):
            text = read_number(printed(word, font), recognizer, orient=orient).text
            assert not any(c.isdigit() for c in text), (word, orient, text)


def test_a_number_beside_a_word_is_still_read(recognizer):
    word, number = printed("HOUSE", cv2.FONT_HERSHEY_SIMPLEX), printed("2026", cv2.FONT_HERSHEY_SIMPLEX)
    number = np.pad(number, ((0, 0), (0, word.shape[1] - number.shape[1])), constant_values=255)
    picture = np.vstack([word, number])
    assert read_number(picture, recognizer).text == "2026"
