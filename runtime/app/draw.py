"""Draw mode's state and behaviour, without a window.

``DrawSession`` turns mouse events and key presses into canvas edits,
predictions, log events and saved drawings. The highgui window (window.py)
only forwards events to it and shows ``screen()``; the headless mode feeds it
strokes read from stdin. Everything here runs in tests without a display.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes, remove_stale_temporaries

from .canvas import Canvas
from .events import EventLog, prediction_event
from .frames import FrameResult, process_frame
from .models import ModelSwitch
from .render import DrawView, draw_screen

LIVE_EVERY = 0.12  # seconds between predictions while the pen is down

KEY_ESC, KEY_BACKSPACE, KEY_DELETE, KEY_CTRL_Z = 27, 8, 127, 26


class DrawSession:
    """A canvas, the models, the latest prediction, and what to do on each event."""

    def __init__(
        self,
        models: ModelSwitch,
        *,
        canvas: Canvas | None = None,
        log: EventLog | None = None,
        save_dir: str | Path = "drawings",
        source: str = "draw",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.models = models
        self.canvas = canvas or Canvas()
        self.log = log or EventLog(None)
        self.save_dir = Path(save_dir)
        self.source = source
        self.clock = clock
        self.result: FrameResult | None = None
        self.focus: int | None = None
        self.label = ""
        self.message = ""
        self.events = 0  # prediction events so far (the log's frame counter)
        self.saved: list[Path] = []
        self._swept = False  # stale temporary files of the save folder removed yet
        self.save_errors: list[str] = []  # saves that failed, for the exit code and the last word of a headless run
        self.dirty = True  # the screen needs redrawing
        self._last_live = 0.0
        self._live_pending = False

    # -- input -------------------------------------------------------------------------------
    def mouse(self, event: int, x: int, y: int) -> None:
        """A highgui mouse event in canvas coordinates."""
        if event == cv2.EVENT_LBUTTONDOWN:
            if 0 <= x < self.canvas.width and 0 <= y < self.canvas.height:
                self.canvas.begin(x, y)
                self._touch()
        elif event == cv2.EVENT_MOUSEMOVE:
            if self.canvas.drawing:
                self.canvas.extend(x, y)
                self._touch()
        elif event == cv2.EVENT_LBUTTONUP:
            if self.canvas.drawing:
                self.canvas.extend(x, y)
                self.end_stroke()

    def stroke(self, points: Iterable[tuple[float, float]]) -> None:
        """A whole stroke at once (headless mode, tests)."""
        pixels = [(int(round(x)), int(round(y))) for x, y in points]
        if not pixels:
            return
        self.canvas.begin(*pixels[0])
        for point in pixels[1:]:
            self.canvas.extend(*point)
        self.end_stroke()

    def end_stroke(self) -> None:
        if self.canvas.end():
            self.predict("stroke")

    def key(self, code: int) -> bool:
        """Handle a key press; returns False when the app should quit."""
        if code < 0:
            return True
        code &= 0xFF
        char = chr(code).lower() if 32 <= code < 127 else ""
        if char == "q" or code == KEY_ESC:
            return False
        if char == "c":
            self.canvas.clear()
            self.label = ""
            self.predict("clear")
        elif char in ("u", "z") or code == KEY_CTRL_Z:
            if self.canvas.undo():
                self.predict("undo")
            else:
                self.note("nothing to undo")
        elif char == "s":
            self.save()
        elif char == "m":
            self.note(self.models.toggle())
            if not self.canvas.empty:
                self.predict("model")
        elif char.isdigit():
            self.label = (self.label + char)[-12:]
            self.dirty = True
        elif code in (KEY_BACKSPACE, KEY_DELETE):
            self.label = self.label[:-1]
            self.dirty = True
        return True

    def tick(self) -> None:
        """Called by the window loop between events: the live prediction while drawing."""
        if self._live_pending and self.canvas.drawing and self.clock() - self._last_live >= LIVE_EVERY:
            self.predict(None)

    def _touch(self) -> None:
        self._live_pending = True
        self.dirty = True

    # -- prediction ----------------------------------------------------------------------------
    def predict(self, kind: str | None) -> FrameResult | None:
        """Read the canvas; ``kind`` names the event to log (None: a live update, not logged)."""
        self._last_live = self.clock()
        self._live_pending = False
        self.dirty = True
        if self.canvas.empty:
            self.result, self.focus = None, None
        else:
            self.result = process_frame(self.canvas.render(), self.models.recognizer, number_gap=None)
            self.focus = self._focus_index()
        if kind is not None:
            result = self.result or FrameResult()
            self.log.write(
                prediction_event(
                    source=self.source,
                    frame=self.events,
                    result=result,
                    kind=kind,
                    model=self.models.precision,
                    status=self.status,
                    text=self.text,
                )
            )
            self.events += 1
        return self.result

    @property
    def candidates(self):
        return self.result.candidates if self.result is not None else []

    @property
    def text(self) -> str:
        """The number on the canvas, '?' for a digit the model is not sure of."""
        return "".join(str(d.digit) if d.sure else "?" for d in self.candidates)

    @property
    def status(self) -> str:
        """'empty', 'no digit' (ink but nothing digit-like), 'not sure' or 'ok'."""
        if self.canvas.empty:
            return "empty"
        if not self.candidates:
            return "no digit"
        return "ok" if all(d.sure for d in self.candidates) else "not sure"

    def _focus_index(self) -> int | None:
        """The digit the last stroke touched: the one whose box holds most of its points."""
        candidates = self.candidates
        if not candidates:
            return None
        stroke = self.canvas.strokes[-1] if self.canvas.strokes else None
        if self.canvas.drawing:
            stroke = self.canvas._current  # noqa: SLF001 - the stroke being drawn
        if not stroke:
            return len(candidates) - 1
        points = np.asarray(stroke)

        def inside(box: tuple[int, int, int, int]) -> int:
            x, y, w, h = box
            return int(
                np.sum((points[:, 0] >= x) & (points[:, 0] <= x + w) & (points[:, 1] >= y) & (points[:, 1] <= y + h))
            )

        counts = [inside(d.box) for d in candidates]
        return int(np.argmax(counts)) if max(counts) > 0 else len(candidates) - 1

    # -- saving --------------------------------------------------------------------------------
    def save(self) -> Path | None:
        """Save the drawing as PNG named after its typed (or predicted) label."""
        if self.canvas.empty:
            self.note("nothing to save")
            return None
        label = self.label or (self.text if self.status == "ok" else "")
        if not label:
            self.note("not sure: type the label (0-9), then [s]")
            return None
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        path = self.save_dir / f"{label}_{stamp}.png"
        ok, png = cv2.imencode(".png", self.canvas.render())
        if not ok:  # pragma: no cover - encoding a uint8 array does not fail
            raise DigitkitError("could not encode the drawing as PNG")
        if not self._swept:  # a save of an app that was killed mid-write left its temporary file here
            remove_stale_temporaries(self.save_dir, "*.png")
            self._swept = True
        try:
            atomic_write_bytes(path, png.tobytes())
        except OSError as exc:  # a read-only folder, a full disk: said on screen, in the log and in the exit code
            reason = f"{path}: {exc.strerror or exc}"
            self.save_errors.append(reason)
            self.note(f"cannot save: {exc.strerror or exc}")
            self.log.write(
                {
                    "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                    "event": "save_failed",
                    "source": self.source,
                    "frame": self.events,
                    "label": label,
                    "path": str(path),
                    "error": exc.strerror or str(exc),
                }
            )
            return None
        self.saved.append(path)
        self.note(f"saved {path.name}")
        self.log.write(
            {
                "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                "event": "save",
                "source": self.source,
                "frame": self.events,
                "label": label,
                "typed": bool(self.label),
                "path": str(path),
            }
        )
        self.label = ""
        return path

    def note(self, message: str) -> None:
        self.message = message
        self.dirty = True

    # -- screen --------------------------------------------------------------------------------
    def screen(self) -> np.ndarray:
        self.dirty = False
        view = DrawView(
            result=self.result,
            text=self.text,
            status=self.status,
            focus=self.focus,
            model=self.models.shown_name,
            label=self.label,
            message=self.message,
            drawing=self.canvas.drawing,
        )
        return draw_screen(self.canvas.render(), view)


MAX_COORDINATE = 1e6  # stroke points further out than this are not drawing (and overflow OpenCV's int coordinates)


def _coordinate(value: object) -> bool:
    """A stroke coordinate: a finite number of sane size (json.loads accepts NaN and Infinity)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= MAX_COORDINATE
    )


def script_commands(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Parse headless draw input: one JSON value per line.

    ``[[x, y], ...]`` or ``{"stroke": [[x, y], ...]}`` draws a stroke;
    ``{"key": "c"}`` presses a key (c clear, u undo, s save, m model, 0-9 label).
    """
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DigitkitError(f"stdin line {number}: not JSON ({exc.msg})") from None
        except RecursionError:
            raise DigitkitError(f"stdin line {number}: JSON nested too deeply for a stroke or a key") from None
        if isinstance(value, list):
            value = {"stroke": value}
        if not isinstance(value, dict) or not ({"stroke", "key"} & value.keys()):
            raise DigitkitError(f'stdin line {number}: expected [[x, y], ...], {{"stroke": ...}} or {{"key": "c"}}')
        if "stroke" in value:
            points = value["stroke"]
            valid = isinstance(points, list) and all(
                isinstance(p, (list, tuple)) and len(p) == 2 and all(_coordinate(v) for v in p) for p in points
            )
            if not valid or not points:
                raise DigitkitError(
                    f"stdin line {number}: a stroke is a non-empty list of [x, y] points (finite numbers, |v| <= {MAX_COORDINATE:g})"
                )
        elif not (isinstance(value["key"], str) and len(value["key"]) == 1):
            raise DigitkitError(f"stdin line {number}: a key is one character")
        elif ord(value["key"]) > 127:  # the window's key codes are bytes: "ű" & 0xFF would be "q"
            raise DigitkitError(f"stdin line {number}: key {value['key']!r} is not one of the app's keys (ASCII)")
        yield value


def run_script(session: DrawSession, lines: Iterable[str]) -> int:
    """Feed headless draw commands to the session; returns the number of commands run."""
    count = 0
    for command in script_commands(lines):
        count += 1
        if "stroke" in command:
            session.stroke(command["stroke"])
        elif not session.key(ord(command["key"])):
            break
    return count
