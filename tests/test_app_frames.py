"""Frame processing and drawing: pure functions, no display."""

from __future__ import annotations

import numpy as np
import pytest
from app_models import plumbing_model
from app_strokes import number_strokes

from digitkit.runtime.app.canvas import Canvas
from digitkit.runtime.app.frames import BadFrameError, FrameResult, group_numbers, process_frame
from digitkit.runtime.app.render import PANEL_WIDTH, DrawView, draw_screen, stream_screen
from digitkit.runtime.recognizer import Prediction


@pytest.fixture(scope="module")
def recognizer():
    from digitkit.runtime.recognizer import Recognizer

    return Recognizer(plumbing_model(), threads=1)


def drawn(text: str, size=(760, 480), **layout) -> np.ndarray:
    canvas = Canvas(*size)
    for stroke in number_strokes(text, **layout):
        canvas.begin(*map(round, stroke[0]))
        for x, y in stroke[1:]:
            canvas.extend(round(x), round(y))
        canvas.end()
    return canvas.render()


def test_process_frame_reads_the_digits_of_a_drawing_in_order(recognizer):
    result = process_frame(drawn("4096", origin=(40, 100), height=220), recognizer)
    assert result.text == "4096"
    assert [d.digit for d in result.digits] == [4, 0, 9, 6]
    xs = [d.box[0] for d in result.digits]
    assert xs == sorted(xs)
    for d in result.digits:
        assert d.mnist.shape == (28, 28) and d.probabilities.shape == (10,)
        assert d.confidence == pytest.approx(d.probabilities.max()) and d.sure
        assert d.top(3)[0] == (d.digit, pytest.approx(d.confidence))


def test_numbers_on_two_lines_and_far_apart_are_separate(recognizer):
    page = np.full((480, 760), 255, np.uint8)
    page[:240] = drawn("12", size=(760, 240), origin=(30, 30), height=170)
    page[240:, :380] = drawn("7", size=(380, 240), origin=(30, 30), height=170)
    page[240:, 380:] = drawn("3", size=(380, 240), origin=(200, 30), height=170)
    result = process_frame(page, recognizer)
    assert result.numbers == ["12", "7", "3"]
    assert result.text == "12 7 3"
    assert process_frame(page, recognizer, number_gap=None).numbers == ["1273"]


def test_a_blank_frame_and_a_noisy_one_have_no_digits(recognizer):
    assert process_frame(np.full((480, 640, 3), 200, np.uint8), recognizer).digits == []
    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(200, 3, (480, 640, 3)), 0, 255).astype(np.uint8)
    result = process_frame(noisy, recognizer)
    assert result.digits == [] and result.text == ""


def test_an_unsure_digit_is_rejected_not_read(recognizer):
    page = drawn("8", origin=(100, 100), height=220)
    strict = process_frame(page, recognizer, min_confidence=1.01)
    assert strict.digits == [] and len(strict.rejected) == 1 and strict.numbers == []
    assert [d.best for d in strict.candidates] == [8] and [d.digit for d in strict.candidates] == [None]


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (None, "no frame"),
        (np.zeros((0, 0, 3), np.uint8), "not a picture"),
        (np.zeros((10, 10, 5), np.uint8), "not a picture"),
        (np.zeros((10, 10), np.float64), "8-bit"),
        ("frame.png", "image array"),
    ],
)
def test_bad_frames_are_named_errors(recognizer, frame, problem):
    with pytest.raises(BadFrameError, match=problem):
        process_frame(frame, recognizer)


def digit_at(x: int, digit: int = 1, y: int = 10, h: int = 40, w: int = 24) -> Prediction:
    mnist = np.zeros((28, 28), np.float32)
    return Prediction(digit, 0.99, np.eye(10, dtype=np.float32)[digit], mnist, "ok", box=(x, y, w, h))


def test_group_numbers_splits_at_wide_gaps_and_rows():
    digits = [digit_at(0, 1), digit_at(30, 2), digit_at(200, 3), digit_at(230, 4), digit_at(0, 5, y=100)]
    assert group_numbers(digits, [0, 0, 0, 0, 1]) == ["12", "34", "5"]
    assert group_numbers(digits, None, number_gap=None) == ["12345"]
    assert group_numbers([]) == []


def test_draw_screen_shows_canvas_panel_bars_and_inset(recognizer):
    canvas = drawn("7", origin=(200, 100), height=220)
    result = process_frame(canvas, recognizer, number_gap=None)
    screen = draw_screen(canvas, DrawView(result=result, text="7", status="ok", focus=0))
    assert screen.shape[1] == 760 + PANEL_WIDTH and screen.shape[0] > 480 and screen.dtype == np.uint8
    panel = screen[:480, 760:]
    # the inset: the 28x28 the model saw, magnified, is somewhere in the panel
    tile = np.kron((result.digits[0].mnist * 255).astype(np.uint8), np.ones((4, 4), np.uint8))
    grey = panel[:, :, 0].astype(int)
    found = any(
        np.abs(grey[y : y + 112, x : x + 112] - tile).mean() < 2
        for y in range(0, 480 - 112)
        for x in range(0, PANEL_WIDTH - 112)
        if grey[y, x] == tile[0, 0] and grey[y + 56, x + 56] == tile[56, 56]
    )
    assert found
    empty = draw_screen(np.full((480, 760), 255, np.uint8), DrawView(result=None))
    assert empty.shape == screen.shape
    assert not np.array_equal(empty[:480, 760:], panel)


def test_stream_screen_overlays_boxes_header_and_message():
    frame = np.full((480, 640, 3), 230, np.uint8)
    result = FrameResult([digit_at(300, 4, y=200, h=60, w=40)], numbers=["4"])
    shown = stream_screen(frame, result, source="camera 0", fps=31.5)
    assert shown.shape[1] == 640 and shown.shape[0] > 480
    assert (shown[200, 300:340] != 230).any()  # the box's top edge
    assert frame.max() == 230 and frame.min() == 230  # the input frame is not drawn on
    message = stream_screen(None, None, source="camera 0", message="camera 0 lost - retrying")
    assert message.shape == shown.shape
