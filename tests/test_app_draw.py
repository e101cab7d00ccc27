"""Draw mode without a window: strokes, live predictions, keys, log events, saving."""

from __future__ import annotations

import json
import math

import cv2
import pytest
from app_models import plumbing_model
from app_strokes import number_strokes
from foreign_models import foreign_model

from digitkit.runtime.app.canvas import Canvas
from digitkit.runtime.app.draw import DrawSession, run_script, script_commands
from digitkit.runtime.app.events import EventLog
from digitkit.runtime.app.models import ModelSwitch, recognizer_factory
from digitkit.runtime.errors import DigitkitError


@pytest.fixture(scope="module")
def models():
    return ModelSwitch(recognizer_factory(plumbing_model()))


@pytest.fixture
def session(models, tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    yield DrawSession(models, canvas=Canvas(760, 480), log=log, save_dir=tmp_path / "drawings")
    log.close()


def events(tmp_path):
    return [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]


def draw(session: DrawSession, text: str) -> None:
    for stroke in number_strokes(text, origin=(50, 90), height=230):
        session.stroke(stroke)


@pytest.mark.parametrize("digit", list("0123456789"))
def test_each_drawn_digit_is_read(session, digit):
    draw(session, digit)
    assert session.text == digit and session.status == "ok"


def test_several_digits_read_as_a_number_and_every_stroke_end_is_logged(session, tmp_path):
    draw(session, "2048")
    assert session.text == "2048"
    logged = events(tmp_path)
    strokes = len(number_strokes("2048"))
    assert len(logged) == strokes and all(e["event"] == "stroke" for e in logged)
    last = logged[-1]
    assert last["string"] == "2048" and last["digits"] == [2, 0, 4, 8] and last["status"] == "ok"
    assert len(last["boxes"]) == 4 and all(0.9 <= c <= 1 for c in last["confidences"])
    assert {"time", "source", "frame", "model"} <= last.keys() and last["source"] == "draw"
    assert [e["frame"] for e in logged] == list(range(strokes))


def test_mouse_events_draw_and_predict_live_while_drawing(session):
    clock = [0.0]
    session.clock = lambda: clock[0]
    (stroke,) = number_strokes("1", origin=(200, 90), height=230)
    session.mouse(cv2.EVENT_LBUTTONDOWN, *map(round, stroke[0]))
    for x, y in stroke[1:]:
        clock[0] += 0.05
        session.mouse(cv2.EVENT_MOUSEMOVE, round(x), round(y))
        session.tick()
    assert session.canvas.drawing and session.result is not None  # predicted before the pen is lifted
    session.mouse(cv2.EVENT_LBUTTONUP, *map(round, stroke[-1]))
    assert not session.canvas.drawing and session.text == "1"
    session.mouse(cv2.EVENT_MOUSEMOVE, 10, 10)  # moving with the pen up draws nothing
    assert len(session.canvas.strokes) == 1


def test_nothing_is_shown_for_an_empty_canvas_and_undo_clear_work(session, tmp_path):
    assert session.status == "empty" and session.text == ""
    draw(session, "12")
    assert session.text == "12"
    assert session.key(ord("u"))
    assert session.text == "1"
    session.key(ord("c"))
    assert session.status == "empty" and session.result is None
    kinds = [e["event"] for e in events(tmp_path)]
    assert kinds[-2:] == ["undo", "clear"]
    assert events(tmp_path)[-1]["digits"] == [] and events(tmp_path)[-1]["string"] == ""
    session.key(ord("u"))
    assert session.message == "nothing to undo"


def test_a_digit_under_the_threshold_reads_not_sure(tmp_path):
    strict = ModelSwitch(recognizer_factory(plumbing_model(), min_confidence=1.0))
    session = DrawSession(strict, canvas=Canvas(760, 480), save_dir=tmp_path)
    session.stroke(
        [
            (380 + 180 * math.cos(math.radians(90 + 144 * i)), 240 - 180 * math.sin(math.radians(90 + 144 * i)))
            for i in range(6)
        ]
    )
    assert session.status == "not sure" and "?" in session.text
    assert session.save() is None and "type the label" in session.message
    assert session.screen().shape[0] > 480


def test_save_uses_the_prediction_or_the_typed_label(session, tmp_path):
    assert session.save() is None and session.message == "nothing to save"
    draw(session, "7")
    path = session.save()
    assert path is not None and path.name.startswith("7_") and path.suffix == ".png"
    saved = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert saved.shape == (480, 760) and (saved == session.canvas.render()).all()
    for key in "91":
        session.key(ord(key))
    session.key(8)  # backspace
    assert session.label == "9"
    typed = session.save()
    assert typed.name.startswith("9_") and session.label == ""
    assert not list((tmp_path / "drawings").glob(".*"))  # no temporary files left behind
    saves = [e for e in events(tmp_path) if e["event"] == "save"]
    assert [(e["label"], e["typed"]) for e in saves] == [("7", False), ("9", True)]


def test_quit_keys_and_model_switch_without_an_int8_twin(session, tmp_path):
    assert not session.key(ord("q")) and not session.key(27)
    assert session.key(-1)
    lone = ModelSwitch(recognizer_factory(str(foreign_model(tmp_path / "lone.onnx"))))  # no lone.int8.onnx
    without_twin = DrawSession(lone, canvas=Canvas(760, 480), save_dir=tmp_path / "drawings")
    without_twin.key(ord("m"))  # a message, not a crash
    assert "int8 model unavailable" in without_twin.message and lone.precision == "fp32"


def test_headless_script_commands(session):
    lines = [json.dumps(s) for s in number_strokes("31", origin=(50, 90), height=230)] + ['{"key": "u"}', "", "# done"]
    assert run_script(session, lines) == len(number_strokes("31")) + 1
    assert session.text == "3"
    with pytest.raises(DigitkitError, match="line 1: not JSON"):
        list(script_commands(["[[1, 2"]))
    with pytest.raises(DigitkitError, match="line 2: a stroke"):
        list(script_commands(["[[1, 2]]", '{"stroke": [[1, "a"]]}']))
    with pytest.raises(DigitkitError, match="one character"):
        list(script_commands(['{"key": "quit"}']))


def test_m_switches_between_the_shipped_fp32_and_int8_models(tmp_path):
    from app_models import SHIPPED_INT8

    if not SHIPPED_INT8.is_file():
        pytest.skip("the shipped int8 model is not exported yet")
    log = EventLog(tmp_path / "events.jsonl")
    session = DrawSession(ModelSwitch(recognizer_factory(None)), log=log, save_dir=tmp_path)
    draw(session, "59")
    session.key(ord("m"))
    assert session.models.precision == "int8" and session.message == "switched to the int8 model"
    assert session.models.shown_name == "cnn int8"  # what the panel's header shows
    assert session.text == "59"
    session.key(ord("m"))
    assert session.models.precision == "fp32"
    log.close()
    assert [e["model"] for e in events(tmp_path) if e["event"] == "model"] == ["int8", "fp32"]
