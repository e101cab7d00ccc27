"""Pictures of what each stage made, for a user who wants to see where a reading went wrong
(``digitkit read --stages DIR``).

The pipeline calls ``record`` at each stage; outside ``recording()`` that is one context-variable look-up and
no picture is drawn. Passes over the same picture (a wider window, a sideways page tried turned) are named
by ``section``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

GREEN, RED, BLUE = (60, 200, 60), (40, 40, 230), (230, 120, 40)  # BGR: digits, left out, marks
DIGIT_ZOOM = 4  # each 28×28 the model sees, drawn 112 px wide


@dataclass
class StageLog:
    """The stages' pictures in the order they were made: (name, BGR or grey uint8 picture)."""

    pictures: list[tuple[str, np.ndarray]] = field(default_factory=list)
    section: str = ""


_LOG: ContextVar[StageLog | None] = ContextVar("stage_log", default=None)


@contextmanager
def recording() -> Iterator[StageLog]:
    """Record every stage's picture while the block runs."""
    log = StageLog()
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


def record(name: str, draw: Callable[[], np.ndarray]) -> None:
    """Add ``draw()``'s picture under ``name`` when recording (``draw`` is not called otherwise)."""
    log = _LOG.get()
    if log is not None:
        log.pictures.append((f"{log.section}{name}", draw()))


def section(name: str) -> None:
    """Name the pass that follows (e.g. "turned-90-"), when recording."""
    log = _LOG.get()
    if log is not None:
        log.section = name


def ink_picture(mask: np.ndarray) -> np.ndarray:
    """A 0/1 mask as a white-on-black picture."""
    return mask.astype(np.uint8) * 255


def pieces_picture(labels: np.ndarray) -> np.ndarray:
    """Each connected piece of ink in a colour of its own."""
    rng = np.random.default_rng(0)
    colours = rng.integers(80, 256, size=(int(labels.max()) + 1, 3), dtype=np.uint8)
    colours[0] = 0
    return colours[labels]


def boxes_picture(ink: np.ndarray, kept: list, dropped: list, marks: list | None = None) -> np.ndarray:
    """The working picture with the digits' candidates in green, what was left out in red, marks in blue."""
    picture = cv2.cvtColor(ink, cv2.COLOR_GRAY2BGR)
    for boxes, colour in ((dropped, RED), (kept, GREEN), (marks or [], BLUE)):
        for x, y, w, h in boxes:
            cv2.rectangle(picture, (int(x), int(y)), (int(x + w - 1), int(y + h - 1)), colour, _line(picture))
    return picture


def _line(picture: np.ndarray) -> int:
    """A line width that shows at any size: 1 px per 500 px of the longer side."""
    return max(1, round(max(picture.shape[:2]) / 500))


def candidates_picture(ink: np.ndarray, boxes: list, left_out: list[bool]) -> np.ndarray:
    """The working picture with the candidates of a digit's size in green, the others in red."""
    kept = [b for b, out in zip(boxes, left_out, strict=True) if not out]
    return boxes_picture(ink, kept, [b for b, out in zip(boxes, left_out, strict=True) if out])


def reading_picture(grey: np.ndarray, rows: list, marks: list) -> np.ndarray:
    """The picture with each digit read in green, numbered by its row, and the marks in blue."""
    picture = boxes_picture(grey, [d.box for row in rows for d in row], [], [m.box for m in marks])
    for row in rows:
        for d in row:
            x, y = d.box[0], d.box[1]
            size = 0.4 * _line(picture)
            cv2.putText(
                picture, f"row {d.row}", (x, max(10, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, size, GREEN, _line(picture)
            )
    return picture


def digits_picture(mnist: list[np.ndarray]) -> np.ndarray:
    """The 28×28 inputs the model sees, side by side in reading order, enlarged."""
    if not mnist:
        return np.zeros((28 * DIGIT_ZOOM, 28 * DIGIT_ZOOM), np.uint8)
    tiles = [np.pad((m * 255).astype(np.uint8), 1, constant_values=128) for m in mnist]
    strip = np.hstack(tiles)
    return cv2.resize(strip, None, fx=DIGIT_ZOOM, fy=DIGIT_ZOOM, interpolation=cv2.INTER_NEAREST)


def write_stages(log: StageLog, folder: Path, write: Callable[[Path, bytes], None]) -> list[Path]:
    """One PNG per stage, numbered in order, each written whole by ``write`` (path, bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (name, picture) in enumerate(log.pictures, start=1):
        ok, encoded = cv2.imencode(".png", picture)
        if ok:
            path = folder / f"{index:02d}-{name}.png"
            write(path, encoded.tobytes())
            written.append(path)
    return written
