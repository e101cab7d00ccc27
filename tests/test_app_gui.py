"""The real window under Xvfb: digits drawn with mouse drags (xdotool) are read right.

Starts ``digitkit app`` on a private X server, draws numbers stroke by stroke
with real mouse events, presses the keys, and reads the predictions from the
app's ``--log`` file. Skips (saying why) where Xvfb or xdotool is missing.
"""

from __future__ import annotations

import pytest
from app_gui import AppWindow, missing_tools, virtual_display
from app_models import model_args, plumbing_model
from app_strokes import number_strokes

pytestmark = [pytest.mark.gui, pytest.mark.skipif(missing_tools() is not None, reason=missing_tools() or "")]


def test_numbers_drawn_with_the_mouse_are_read(tmp_path):
    log = tmp_path / "events.jsonl"
    with virtual_display() as display:
        window = AppWindow(display, ["--save-dir", str(tmp_path / "saved"), *model_args(plumbing_model())], log)
        try:
            x, y, width, height = window.geometry()
            assert width > 760 and height > 480  # canvas + panel + key help
            count, read = 0, {}
            for number in ["2048", "31", "967", "5"]:
                strokes = number_strokes(number, origin=(50, 90), height=230)
                for stroke in strokes:
                    window.drag(stroke)
                count += len(strokes)
                events = window.wait_events(count)
                read[number] = events[-1]["string"]
                assert events[-1]["event"] == "stroke" and events[-1]["status"] == "ok"
                if number != "5":
                    window.key("c")
                    count += 1
                    assert window.wait_events(count)[-1]["event"] == "clear"
            window.key("u")  # undo the 5: the canvas is empty again
            count += 1
            assert window.wait_events(count)[-1]["digits"] == []
            for stroke in number_strokes("7", origin=(50, 90), height=230):
                window.drag(stroke)
            window.key("s")  # save with the predicted label
            events = window.wait_events(count + 2)
            code, err = window.quit()
        finally:
            window.close()
    assert read == {"2048": "2048", "31": "31", "967": "967", "5": "5"}
    assert events[-1]["event"] == "save" and events[-1]["label"] == "7"
    assert [p.name[:2] for p in (tmp_path / "saved").glob("*.png")] == ["7_"]
    assert code == 0 and "Traceback" not in err


def test_a_video_in_the_window_plays_to_its_end_and_exits_cleanly(tmp_path):
    import cv2
    import numpy as np

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(12):
        frame = np.full((240, 320, 3), 235, np.uint8)
        cv2.line(frame, (150 + i, 60), (160 + i, 180), (30, 30, 30), 9, cv2.LINE_AA)  # a "1" drifting right
        writer.write(frame)
    writer.release()
    log = tmp_path / "events.jsonl"
    with virtual_display() as display:
        window = AppWindow(display, ["--source", str(video), *model_args(plumbing_model())], log)
        try:
            code = window.process.wait(timeout=60)
            err = window.process.stderr.read()
        finally:
            window.close()
    events = window.events()
    assert code == 0 and "Traceback" not in err
    assert [e["frame"] for e in events] == list(range(12))
    assert sum(e["string"] == "1" for e in events) >= 10
