"""``predict`` on a picture of several digits says so (status "not sure", ``digits_beside``), never "ok"."""

from __future__ import annotations

import numpy as np
import pytest
from printed import FONTS, printed

from digitkit.runtime import Recognizer


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(precision="int8", threads=1)


@pytest.mark.parametrize("font", FONTS)
def test_two_printed_digits_are_not_one_answer(recognizer, font):
    for text in ("47", "10", "71", "38", "2 5"):
        prediction = recognizer.predict(printed(text, font, height=120, scale=2.6, pen=6))
        assert prediction.status == "not sure" and prediction.digit is None, text
        assert prediction.digits_beside == 1, text
    single = recognizer.predict(printed("7", font, height=120, scale=2.6, pen=6))
    assert single.status == "ok" and single.digit == 7 and single.digits_beside == 0


def test_two_handwritten_digits_side_by_side_are_not_one_answer(recognizer, mnist):
    images, labels = np.array(mnist.test_images[:200]), np.array(mnist.test_labels[:200])
    pairs = [np.hstack([images[i], np.zeros((28, 6), np.uint8), images[i + 1]]) for i in range(0, 200, 2)]
    answered = [p.status == "ok" for p in recognizer.predict_batch(pairs)]
    assert sum(answered) <= 2, sum(answered)  # two 1s leaning into each other may still pass for one digit
    alone = recognizer.predict_batch(list(images))
    assert sum(p.digits_beside > 0 for p in alone) == 0
    assert np.mean([p.digit == y for p, y in zip(alone, labels, strict=True)]) > 0.98
