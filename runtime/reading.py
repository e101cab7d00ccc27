"""Read a number written on paper: find the digits, classify them in one batch, join them.

Segmentation and reading order live in ``preprocess.find_digits`` (rows top
to bottom, then left to right); this module only turns its crops into an
answer. A digit the model is not sure of reads as ``?`` in the text, so a
half-read number is never mistaken for a whole one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digitkit.runtime import preprocess
from digitkit.runtime.recognizer import Recognizer

UNSURE = "?"


@dataclass
class DigitReading:
    box: tuple[int, int, int, int]  # x, y, w, h in the picture's pixels
    digit: int | None  # None when the model is not sure
    confidence: float
    probabilities: np.ndarray  # (10,)
    row: int = 0  # which line of the picture (0: top)
    mnist: np.ndarray | None = field(default=None, repr=False)  # the 28×28 the model saw


@dataclass
class NumberReading:
    text: str  # the digits in reading order, "?" for unsure ones, rows joined by "\n"
    digits: list[DigitReading]

    @property
    def complete(self) -> bool:
        """Every digit was read with confidence (and there was at least one)."""
        return bool(self.digits) and all(d.digit is not None for d in self.digits)


def read_number(picture: Any, recognizer: Recognizer | None = None) -> NumberReading:
    """Find and read every digit of a picture; ``text`` is "" when there is none."""
    recognizer = recognizer or Recognizer()
    rows = preprocess.find_digit_rows(picture)
    crops = [crop for row in rows for crop in row]
    predictions = recognizer.predict_mnist([c.mnist for c in crops])
    digits, lines, k = [], [], 0
    for row_index, row in enumerate(rows):
        line = ""
        for crop in row:
            p = predictions[k]
            k += 1
            digits.append(DigitReading(crop.box, p.digit, p.confidence, p.probabilities, row_index, crop.mnist))
            line += UNSURE if p.digit is None else str(p.digit)
        lines.append(line)
    return NumberReading("\n".join(lines), digits)
