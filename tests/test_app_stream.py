"""Camera/video mode without a window: frames, messages, model switch, the log."""

from __future__ import annotations

import json

import numpy as np
import pytest
from app_models import plumbing_model
from app_strokes import number_strokes
from foreign_models import foreign_model

from digitkit.runtime.app.canvas import Canvas
from digitkit.runtime.app.events import EventLog
from digitkit.runtime.app.models import ModelSwitch, recognizer_factory
from digitkit.runtime.app.sources import Frame
from digitkit.runtime.app.stream import FpsMeter, StreamSession


@pytest.fixture(scope="module")
def models():
    return ModelSwitch(recognizer_factory(plumbing_model()))


def page(text: str) -> np.ndarray:
    canvas = Canvas(640, 480)
    for stroke in number_strokes(text, origin=(60, 120), height=200):
        canvas.begin(*map(round, stroke[0]))
        for x, y in stroke[1:]:
            canvas.extend(round(x), round(y))
        canvas.end()
    return np.dstack([canvas.render()] * 3)


def test_frames_messages_and_bad_frames_never_crash(models, tmp_path):
    log_path = tmp_path / "log.jsonl"
    with EventLog(log_path) as log:
        session = StreamSession(models, source="0", label="camera 0", log=log)
        assert session.step(Frame(0, page("58"))).text == "58"
        assert session.step(Frame(1, None, "camera 0 lost - retrying")) is None
        assert session.message == "camera 0 lost - retrying"
        assert session.screen().shape[0] > 480  # the last frame stays, with the message over it
        assert session.step(Frame(2, np.zeros((4, 4, 7), np.uint8))) is None
        assert session.message.startswith("bad frame")
        assert session.step(Frame(3, page("3"))).text == "3" and session.message is None
    events = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [(e["frame"], e["string"]) for e in events] == [(0, "58"), (3, "3")]
    assert events[0]["source"] == "0" and events[0]["digits"] == [5, 8]
    assert session.totals.frames == 2 and session.totals.messages == 2 and session.totals.digits == 3


def test_a_failed_model_switch_is_a_note_and_keeps_the_model(tmp_path):
    lone = ModelSwitch(recognizer_factory(str(foreign_model(tmp_path / "lone.onnx"))))  # no lone.int8.onnx
    session = StreamSession(lone, source="x")
    session.step(Frame(0, page("4")))
    session.switch_model()
    assert "unavailable" in session.note and lone.precision == "fp32"
    assert session.screen().shape[1] == 640


def test_fps_meter_smooths_frame_times():
    now = [0.0]
    meter = FpsMeter(clock=lambda: now[0], smoothing=0.5)
    assert meter.tick() is None
    for _ in range(20):
        now[0] += 0.04
        meter.tick()
    assert meter.fps == pytest.approx(25.0)
