"""Pictures of any size, long and thin ones included, are answered (a digit or "no digit"), never a crash."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from digitkit.runtime import Recognizer, read_number
from digitkit.runtime.cli import main


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(precision="int8", threads=1)


def _picture(height: int, width: int, inked: bool) -> np.ndarray:
    picture = np.full((height, width), 255, np.uint8)
    if inked:
        picture[height // 2, : max(1, width // 2)] = 0
        picture[:, width // 3] = 0
        cv2.circle(
            picture, (width // 2, height // 2), max(1, min(height, width) // 3), 0, max(1, min(height, width) // 10)
        )
    return picture


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    height=st.integers(1, 10_000),
    width=st.integers(1, 10_000),
    inked=st.booleans(),
)
@example(height=3200, width=8, inked=False)  # a strip one noise sample wide (OpenCV's absdiff of nothing: None)
def test_any_size_goes_through_the_api_without_an_exception(recognizer, height, width, inked):
    assume(height * width <= 6_000_000)  # a 100-megapixel picture is its own test (the image loader's cap)
    picture = _picture(height, width, inked)
    prediction = recognizer.predict(picture)
    assert prediction.status in ("ok", "not sure", "no digit")
    reading = read_number(picture, recognizer)
    assert all(d.digit is None or 0 <= d.digit <= 9 for d in reading.digits)


@pytest.mark.parametrize("size", [(1, 5000), (5000, 1), (3, 3000), (10, 10_000), (1, 1), (7, 7)])
@pytest.mark.parametrize("inked", [False, True])
def test_strips_and_dots_hold_no_digit_on_the_command_line(tmp_path, capsys, size, inked):
    path = tmp_path / "strip.png"
    cv2.imwrite(str(path), _picture(*size, inked))
    assert main(["predict", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: no digit"
    assert main(["read", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: no digits found"
