"""``digitkit app`` as users run it: headless sources, the JSON log, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from app_models import model_args, plumbing_model
from app_strokes import number_strokes


def app(*args: str, stdin: str | None = None, env=None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "digitkit.runtime.cli", "app", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120, env=env)


def assert_clean_failure(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("digitkit app: error:")
    for word in words:
        assert word in message


@pytest.fixture(scope="module")
def model():
    return model_args(plumbing_model())


def test_a_camera_that_does_not_exist(model):
    assert_clean_failure(app("--source", "7", "--headless", *model), "camera 7")


def test_an_unreadable_video(tmp_path, model):
    junk = tmp_path / "holiday.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    assert_clean_failure(app("--source", str(junk), "--headless", *model), "holiday.mp4")


def test_a_missing_source_file_and_a_missing_model(tmp_path):
    assert_clean_failure(app("--source", str(tmp_path / "nope.avi"), "--headless"), "no such file")
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), np.full((60, 60), 255, np.uint8))
    assert_clean_failure(app("--source", str(page), "--headless", "--model", str(tmp_path / "gone.onnx")), "gone.onnx")


def test_no_display_without_headless_is_a_clear_message(model):
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    assert_clean_failure(app(*model, env=env), "no display")


def test_headless_image_source_logs_one_event(tmp_path, model):
    from digitkit.runtime.app.canvas import Canvas

    canvas = Canvas(760, 480)
    for stroke in number_strokes("305", origin=(60, 100), height=220):
        canvas.begin(*map(round, stroke[0]))
        for x, y in stroke[1:]:
            canvas.extend(round(x), round(y))
        canvas.end()
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), canvas.render())
    log = tmp_path / "log.jsonl"
    done = app("--source", str(page), "--headless", "--log", str(log), *model)
    assert done.returncode == 0, done.stderr
    (event,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert event["string"] == "305" and event["digits"] == [3, 0, 5] and event["source"] == str(page)
    assert event["frame"] == 0 and len(event["boxes"]) == len(event["confidences"]) == 3


def test_headless_draw_reads_strokes_from_stdin_and_prints_events(model):
    lines = [json.dumps(s) for s in number_strokes("42", origin=(60, 100), height=220)]
    done = app("--headless", *model, stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(events) == len(lines) and events[-1]["string"] == "42"
    bad = app("--headless", *model, stdin="[[1, 2]\n")
    assert_clean_failure(bad, "stdin line 1")


def test_a_display_that_does_not_answer_is_a_clear_message(model):
    env = dict(__import__("os").environ, DISPLAY=":87")
    env.pop("WAYLAND_DISPLAY", None)
    assert_clean_failure(app(*model, env=env), "cannot connect to display :87")
