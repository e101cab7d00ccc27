"""The draw-mode canvas: pen strokes, undo, clear, and the picture it renders."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.runtime.app.canvas import INK, PAPER, Canvas


def test_a_stroke_is_a_thick_antialiased_dark_line_on_white():
    canvas = Canvas(200, 140)
    canvas.begin(20, 70)
    canvas.extend(180, 70)
    assert canvas.drawing
    canvas.end()
    picture = canvas.render()
    assert picture.shape == (140, 200) and picture.dtype == np.uint8
    column = picture[:, 100]
    inked = np.flatnonzero(column < 128)
    assert abs(len(inked) - canvas.thickness) <= 2  # the pen's width, across the line
    assert column.min() == INK and picture[5, 5] == PAPER
    grey = (picture > INK + 20) & (picture < PAPER - 20)
    assert grey.any(), "edges are anti-aliased (grey levels between ink and paper)"
    assert picture[70, 17] < 128 and picture[70, 183] < 128  # round pen tip beyond the end points


def test_undo_removes_exactly_the_last_stroke_and_clear_everything():
    canvas = Canvas(120, 120)
    assert canvas.empty and not canvas.undo()
    canvas.begin(10, 10)
    canvas.extend(100, 10)
    canvas.end()
    one = canvas.render()
    canvas.begin(10, 90)
    canvas.extend(100, 90)
    canvas.end()
    assert not np.array_equal(one, canvas.render())
    assert canvas.undo()
    np.testing.assert_array_equal(canvas.render(), one)
    canvas.clear()
    assert canvas.empty and (canvas.render() == PAPER).all()


def test_a_click_makes_a_dot_and_points_outside_are_clipped():
    canvas = Canvas(100, 100)
    canvas.begin(50, 50)
    assert canvas.end()
    assert canvas.render()[50, 50] == INK
    canvas.begin(-30, 500)
    canvas.extend(1000, -4)
    canvas.end()
    assert canvas.strokes[-1] == [(0, 99), (99, 0)]
    canvas.extend(10, 10)  # pen up: ignored
    assert not canvas.end()


def test_too_small_a_canvas_is_refused():
    with pytest.raises(ValueError, match="too small"):
        Canvas(10, 100)
