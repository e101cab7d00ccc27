"""One frame in, the digits and numbers on it out: the app's only recognition step.

``process_frame`` is a pure function of the picture and the recogniser. It reads the frame with
``read_number`` (the runtime's one find -> classify -> join loop, upright: a camera is held upright),
then sorts the candidates into the digits the model is sure of and the rejected ones (the app shows
its best guess for those too), and groups the sure ones into numbers by their layout. No window, no
clock, so the tests run it without a display.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import Prediction

Box = tuple[int, int, int, int]  # x, y, w, h in the frame's pixels

# Two digits belong to one number when they share a row and the gap between them is
# at most this many digit heights (handwritten numbers are spaced a bit irregularly).
NUMBER_GAP = 0.9


class BadFrameError(DigitkitError):
    """A frame that is not a picture (empty, wrong shape or type)."""


@dataclass
class FrameResult:
    """What one frame holds: every digit found (``Prediction``s, sure or not) and the numbers the sure ones spell."""

    candidates: list[Prediction] = field(default_factory=list)  # in reading order
    numbers: list[str] = field(default_factory=list)  # the sure digits grouped into numbers
    seconds: float = 0.0  # time spent in process_frame

    @property
    def digits(self) -> list[Prediction]:
        """The digits the model is sure of, in reading order."""
        return [d for d in self.candidates if d.sure]

    @property
    def rejected(self) -> list[Prediction]:
        """The candidates the model was not sure of (``best`` is its guess)."""
        return [d for d in self.candidates if not d.sure]

    @property
    def text(self) -> str:
        """All numbers of the frame, separated by spaces ('' when there is none)."""
        return " ".join(self.numbers)


def check_frame(frame: object) -> np.ndarray:
    """The frame as a uint8 grey or BGR array, or BadFrameError naming what is wrong."""
    if frame is None:
        raise BadFrameError("no frame (the source returned nothing)")
    if not isinstance(frame, np.ndarray):
        raise BadFrameError(f"a frame must be an image array, not {type(frame).__name__}")
    if frame.ndim not in (2, 3) or frame.size == 0 or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise BadFrameError(f"a frame of shape {frame.shape} is not a picture")
    if frame.dtype != np.uint8:
        raise BadFrameError(f"a frame of type {frame.dtype} is not an 8-bit picture")
    return frame


def process_frame(
    frame: np.ndarray,
    recognizer,
    *,
    min_confidence: float | None = None,
    number_gap: float | None = NUMBER_GAP,
) -> FrameResult:
    """Find, classify and group the digits of one frame.

    The recogniser decides which digits it is sure of (its ``min_confidence``;
    ``min_confidence`` here overrides it). ``number_gap=None`` reads all the
    digits as one number (draw mode: the canvas holds one number); otherwise a
    new number starts on each row of writing and after a gap wider than
    ``number_gap`` digit heights.
    """
    from digitkit.runtime.reading import read_number

    start = time.perf_counter()
    frame = check_frame(frame)
    reading = read_number(frame, recognizer, orient=False)
    result = FrameResult(reading.digits)
    if min_confidence is not None:  # the caller's threshold instead of the recogniser's
        result.candidates = [
            replace(d, digit=d.best, status="ok")
            if d.confidence >= min_confidence
            else replace(d, digit=None, status="not sure")
            for d in reading.digits
        ]
    result.numbers = group_numbers(result.digits, [d.row for d in result.digits], number_gap)
    result.seconds = time.perf_counter() - start
    return result


def group_numbers(
    digits: list[Prediction], rows: list[int] | None = None, number_gap: float | None = NUMBER_GAP
) -> list[str]:
    """Digits (in reading order, with their row of writing) -> the numbers they spell."""
    if not digits:
        return []
    if number_gap is None:
        return ["".join(str(d.digit) for d in digits)]
    rows = rows if rows is not None else [0] * len(digits)
    numbers: list[str] = [str(digits[0].digit)]
    for i in range(1, len(digits)):
        previous, current = digits[i - 1], digits[i]
        if rows[i] == rows[i - 1] and same_number(previous.where, current.where, number_gap):
            numbers[-1] += str(current.digit)
        else:
            numbers.append(str(current.digit))
    return numbers


def same_number(left: Box, right: Box, number_gap: float) -> bool:
    """True when ``right`` (next on the same row) continues the number that ``left`` belongs to."""
    lx, _, lw, lh = left
    rx, _, rw, rh = right
    height = max(lh, rh)
    gap = rx - (lx + lw)
    return -0.5 * min(lw, rw) <= gap <= number_gap * height
