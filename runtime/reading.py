"""Read the digits written in a picture: find them (the vision pipeline), classify them in one batch, join them.

Segmentation, splitting and reading order live in ``vision.find_rows``; this
module only turns its digits into an answer. A digit the model is not sure of
reads as ``?`` in the text, so a half-read number is never mistaken for a whole one.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from digitkit.runtime.recognizer import PAGE_GUARD_SURE, PAGE_VOUCHES, Prediction, Recognizer
from digitkit.runtime.vision import VisionConfig, find_rows

UNSURE = "?"
# a row is a word when this share of its marks look like no digit at all to the guard (under PAGE_GUARD_SURE), or
# the second share unlike one (under PAGE_VOUCHES). A third at the first took the digits of numbers with a letter in
# the margin on their line (tests/test_app_webcam.py, 15 % of them); half at the second, filmed digits; a word most
# of whose letters look like digits (DOG: O and G) still reads as digits
WORD_SHARE, WORD_UNLIKE_SHARE = 0.5, 2 / 3


@dataclass
class NumberReading:
    text: str  # the digits in reading order, "?" for unsure ones, with decimal points and minus signs; rows by "\n"
    digits: list[Prediction]  # in reading order, each with its box and row
    turned: int = 0  # degrees (clockwise) the picture was turned to be read; boxes are in the turned picture

    @property
    def complete(self) -> bool:
        """Every digit was read with confidence (and there was at least one)."""
        return bool(self.digits) and all(d.digit is not None for d in self.digits)


def _word_rows(found: list, predictions: list) -> set[int]:
    """Rows that are words, not numbers (two marks or more): half of their marks look like no digit at all to the
    guard (P(digit) under PAGE_GUARD_SURE, where letters score), or two thirds look unlike a digit (under
    PAGE_VOUCHES; filmed or odd digits score there one at a time, not most of a row). The letters among them that
    do look like digits (an O, an S, an l) are not read: HELLO is no "0", SUN no "5"."""
    marks: dict[int, list[float]] = {}
    for d, p in zip(found, predictions, strict=True):
        marks.setdefault(d.row, []).append(p.digit_likeness)
    return {
        row
        for row, likeness in marks.items()
        if len(likeness) >= 2
        and (
            sum(v < PAGE_GUARD_SURE for v in likeness) >= WORD_SHARE * len(likeness)
            or sum(v < PAGE_VOUCHES for v in likeness) >= WORD_UNLIKE_SHARE * len(likeness)
        )
    }


def read_number(
    picture: Any, recognizer: Recognizer | None = None, *, orient: bool = True, config: VisionConfig | None = None
) -> NumberReading:
    """Find and read every digit of a picture; ``text`` is "" when there is none.

    ``orient``: when the upright reading is weak, also try the picture turned by
    90, 180 and 270 degrees and keep the most confident (``NumberReading.turned``).
    ``config``: the picture pipeline's tuning numbers (``VisionConfig``).
    """
    recognizer = recognizer or Recognizer()
    judged: list[tuple[list[np.ndarray], tuple[np.ndarray, np.ndarray]]] = []  # the orientation pass's model outputs

    def judge(mnist: list[np.ndarray]) -> list[float]:
        outputs = recognizer.model_outputs(mnist)
        judged.append((mnist, outputs))
        return [p.confidence for p in recognizer.predict_mnist(mnist, outputs=outputs)]

    page = find_rows(
        picture, recognizer.classify_mnist, judge=judge if orient else None, veto=recognizer.page_veto, config=config
    )
    mnist = [d.mnist for d in page.digits]
    # the page kept was judged already (its very arrays): its digits are not classified twice
    outputs = next((o for seen, o in judged if len(seen) == len(mnist) and all(map(operator.is_, seen, mnist))), None)
    predictions = recognizer.predict_mnist(mnist, rows=[d.row for d in page.digits], outputs=outputs)
    words = _word_rows(page.digits, predictions)
    digits = [
        replace(p, box=d.box, row=d.row) for d, p in zip(page.digits, predictions, strict=True) if d.row not in words
    ]
    # digits and marks (a decimal point, a minus sign: vision/marks.py) of each row, left to right
    items = [(d.row, d.where[0], UNSURE if d.digit is None else str(d.digit)) for d in digits]
    items += [(m.row, m.box[0], m.text) for m in page.marks if m.row not in words]
    lines: dict[int, str] = {}
    for row, _, text in sorted(items):
        lines[row] = lines.get(row, "") + text
    return NumberReading("\n".join(lines[r] for r in sorted(lines)), digits, page.turned)
