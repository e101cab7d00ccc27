"""Camera / video / image mode without a window: frame in, result, log line, screen out.

``StreamSession.step(frame)`` processes one item of a source (a picture or a
message), logs the prediction event and remembers what to show. The window
loop and the headless loop both drive it, so they behave the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import ModelError

from .events import EventLog, prediction_event
from .frames import FrameResult, process_frame
from .models import ModelSwitch
from .render import stream_screen
from .sources import Frame

NOTE_SECONDS = 3.0  # how long a remark stays in the header


class FpsMeter:
    """Frames per second over the last few frames (what the screen shows)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter, smoothing: float = 0.9):
        self.clock = clock
        self.smoothing = smoothing
        self._last: float | None = None
        self.fps: float | None = None

    def tick(self) -> float | None:
        now = self.clock()
        if self._last is not None and now > self._last:
            current = 1.0 / (now - self._last)
            self.fps = current if self.fps is None else self.smoothing * self.fps + (1 - self.smoothing) * current
        self._last = now
        return self.fps


@dataclass
class StreamTotals:
    frames: int = 0  # pictures processed
    messages: int = 0  # lost-camera / bad-frame notices
    digits: int = 0
    seconds: float = 0.0  # time spent in process_frame

    def summary(self) -> str:
        speed = f", {self.frames / self.seconds:.1f} frames/s of processing" if self.seconds > 0 else ""
        return f"{self.frames} frames, {self.digits} digits read{speed}"


class StreamSession:
    """Processes the frames of one source and keeps the latest screen state."""

    def __init__(
        self,
        models: ModelSwitch,
        *,
        source: str,
        label: str | None = None,
        log: EventLog | None = None,
        min_confidence: float | None = None,
        show_fps: bool = True,
    ):
        self.models = models
        self.source = source
        self.label = label or source
        self.log = log or EventLog(None)
        self.min_confidence = min_confidence
        self.fps = FpsMeter()
        self.totals = StreamTotals()
        self.frame: np.ndarray | None = None
        self.result: FrameResult | None = None
        self.message: str | None = None
        self.paused = False
        self.note = ""  # a passing remark for the header (model switched...)
        self.show_fps = show_fps
        self._index = 0
        self._note_until = 0.0

    def step(self, item: Frame) -> FrameResult | None:
        """Process one source item; a bad frame becomes a message, never an exception."""
        self.fps.tick()
        if item.image is None:
            self.message = item.message or "no picture"
            self.totals.messages += 1
            return None
        try:
            result = process_frame(item.image, self.models.recognizer, min_confidence=self.min_confidence)
        except ModelError:  # the model itself is broken (NaN weights...): no frame can be read, stop with its error
            raise
        except DigitkitError as exc:  # a frame the runtime cannot read: say so, keep going
            self.message = f"bad frame: {exc}"
            self.totals.messages += 1
            return None
        self.frame, self.result, self.message, self._index = item.image, result, None, item.index
        self.totals.frames += 1
        self.totals.digits += len(result.digits)
        self.totals.seconds += result.seconds
        self.log.write(
            prediction_event(source=self.source, frame=item.index, result=result, model=self.models.precision)
        )
        return result

    def switch_model(self) -> None:
        """[m]: switch fp32 <-> int8 and read the frame on screen again with the other model."""
        before = self.models.precision
        self.note = self.models.toggle()
        self._note_until = time.monotonic() + NOTE_SECONDS
        if self.models.precision != before and self.frame is not None:
            self.step(Frame(self._index, self.frame))

    def screen(self) -> np.ndarray:
        return stream_screen(
            self.frame,
            self.result,
            source=self.label,
            fps=self.fps.fps if self.show_fps else None,
            model=self.models.shown_name,
            message=self.message,
            note=self.note if time.monotonic() < self._note_until else "",
            paused=self.paused,
        )
