"""The drawing canvas of draw mode: strokes, undo, and the picture they make.

The canvas keeps the strokes themselves (lists of points), not just pixels, so
that undo removes exactly the last stroke and the picture can be redrawn at any
time. Ink is dark on white paper and drawn with thick anti-aliased round-capped
lines, like a felt pen; the runtime's ``to_mnist``/``find_digits`` turn that
into the white-on-black MNIST picture the model expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

PAPER = 255
INK = 20

Point = tuple[int, int]


def pen_width(height: int) -> int:
    """The pen's width in pixels on a canvas this tall: a felt pen, 1/18 of the height."""
    return max(2, round(height / 18))


@dataclass
class Canvas:
    """Strokes drawn with the mouse on a ``width`` x ``height`` sheet of paper."""

    width: int = 760
    height: int = 480
    thickness: int | None = None  # pen width in pixels; default height / 18
    strokes: list[list[Point]] = field(default_factory=list)
    _current: list[Point] | None = field(default=None, repr=False)
    _finished: np.ndarray | None = field(default=None, repr=False)  # cached picture of the finished strokes

    def __post_init__(self) -> None:
        if self.width < 28 or self.height < 28:
            raise ValueError(f"canvas of {self.width}x{self.height} is too small (28x28 at least)")
        if self.thickness is None:
            self.thickness = pen_width(self.height)

    # -- editing ---------------------------------------------------------------------------------
    @property
    def drawing(self) -> bool:
        """True between ``begin`` and ``end`` (a mouse button is held down)."""
        return self._current is not None

    @property
    def empty(self) -> bool:
        return not self.strokes and not self._current

    def begin(self, x: int, y: int) -> None:
        """Put the pen down at (x, y)."""
        if self._current is not None:
            self.end()
        self._current = [self._clip(x, y)]

    def extend(self, x: int, y: int) -> None:
        """Move the pen (held down) to (x, y); ignored when the pen is up."""
        if self._current is None:
            return
        point = self._clip(x, y)
        if point != self._current[-1]:
            self._current.append(point)

    def end(self) -> bool:
        """Lift the pen. Returns True when a stroke was added (a click alone makes a dot)."""
        if self._current is None:
            return False
        stroke, self._current = self._current, None
        self.strokes.append(stroke)
        if self._finished is not None:
            self._draw_stroke(self._finished, stroke)
        return True

    def undo(self) -> bool:
        """Remove the last stroke. Returns False when there was none."""
        if self._current is not None:
            self._current = None
            return True
        if not self.strokes:
            return False
        self.strokes.pop()
        self._finished = None
        return True

    def clear(self) -> None:
        self.strokes.clear()
        self._current = None
        self._finished = None

    # -- picture ---------------------------------------------------------------------------------
    def render(self) -> np.ndarray:
        """The picture: (height, width) uint8, dark ink on white."""
        if self._finished is None:
            self._finished = np.full((self.height, self.width), PAPER, np.uint8)
            for stroke in self.strokes:
                self._draw_stroke(self._finished, stroke)
        if self._current is None:
            return self._finished.copy()
        picture = self._finished.copy()
        self._draw_stroke(picture, self._current)
        return picture

    def _draw_stroke(self, image: np.ndarray, stroke: list[Point]) -> None:
        width = int(self.thickness or 1)
        if len(stroke) == 1:
            cv2.circle(image, stroke[0], max(1, width // 2), INK, -1, cv2.LINE_AA)
            return
        points = np.asarray(stroke, np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], False, INK, width, cv2.LINE_AA)
        # polylines neither rounds the joints nor the ends; dots there give the round pen tip
        for x, y in stroke:
            cv2.circle(image, (x, y), max(1, width // 2), INK, -1, cv2.LINE_AA)

    def _clip(self, x: int, y: int) -> Point:
        return (int(min(max(x, 0), self.width - 1)), int(min(max(y, 0), self.height - 1)))
