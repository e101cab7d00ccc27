"""The ``--log`` file: one JSON object per line and per prediction event.

This is how tests, scripts and server users consume the app. Each line is
written whole and flushed at once, so a reader tailing the file (or a crash of
the app) never sees half an event; the file is opened for appending.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import IO, Any

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import Prediction

from .frames import FrameResult


def prediction_event(
    *, source: str, frame: int, result: FrameResult, kind: str = "frame", model: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The JSON-ready record of one prediction: what was read where, how sure."""
    digits: list[Prediction] = result.digits
    event: dict[str, Any] = {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "event": kind,
        "source": source,
        "frame": int(frame),
        "boxes": [list(d.where) for d in digits],
        "digits": [d.digit for d in digits],
        "confidences": [round(d.confidence, 4) for d in digits],
        "string": result.text,
        "numbers": list(result.numbers),
        "rejected": len(result.rejected),
        "ms": round(result.seconds * 1000, 2),
    }
    if model is not None:
        event["model"] = model
    event.update(extra)
    return event


class EventLog:
    """Append JSON lines to a file, to stdout (``-``), or nowhere (``None``)."""

    def __init__(self, target: str | os.PathLike[str] | None):
        self._handle: IO[str] | None = None
        self._owned = False
        self.target = str(target)
        if target is None:
            return
        if str(target) == "-":
            self._handle = sys.stdout
            return
        try:
            self._handle = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise DigitkitError(f"cannot write the log {target}: {exc.strerror or exc}") from None
        self._owned = True

    def write(self, event: dict[str, Any]) -> None:
        if self._handle is None:
            return
        line = json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n"
        try:
            self._handle.write(line)
            self._handle.flush()
        except BrokenPipeError:  # stdout's reader went away: the CLI ends quietly (exit code 141)
            raise
        except OSError as exc:  # a full disk, /dev/full: an event that cannot be logged stops the app
            self._abandon()
            raise DigitkitError(f"cannot write the log {self.target}: {exc.strerror or exc}") from None

    def _abandon(self) -> None:
        """Close after a failed write without flushing again (which would fail the same way)."""
        handle, self._handle = self._handle, None
        if handle is not None and self._owned:
            try:
                handle.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._handle is not None and self._owned:
            try:
                self._handle.close()
            except OSError as exc:
                self._handle = None
                raise DigitkitError(f"cannot write the log {self.target}: {exc.strerror or exc}") from None
        self._handle = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
