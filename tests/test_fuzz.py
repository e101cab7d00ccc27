"""Random bytes and random arrays into ``predict`` and ``read``: a result or a DigitkitError, nothing else.

A user can hand the runtime any file and any array; the promise (issue #13) is that it answers with a
Prediction / a reading, or with one DigitkitError naming the problem, never another exception type, a
hang or a non-finite number. Hypothesis generates the inputs; the few-byte headers of real formats are
seeded so that the decoders get past "not an image" and meet truncated and corrupt bodies.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from digitkit.runtime.errors import DigitkitError  # noqa: E402
from digitkit.runtime.reading import read_number  # noqa: E402
from digitkit.runtime.recognizer import Prediction, Recognizer  # noqa: E402

HEADERS = [
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"P5\n28 28\n255\n",
]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(threads=1)


def _check_prediction(prediction: Prediction) -> None:
    assert isinstance(prediction, Prediction)
    assert prediction.status in ("ok", "not sure", "no digit")
    assert math.isfinite(prediction.confidence) and 0.0 <= prediction.confidence <= 1.0
    assert np.isfinite(prediction.probabilities).all()
    assert (prediction.digit is None) == (prediction.status != "ok")


def _check_reading(reading) -> None:
    assert isinstance(reading.text, str)
    for digit in reading.digits:
        assert (digit.digit is None or 0 <= digit.digit <= 9) and math.isfinite(digit.confidence)
    assert reading.text.count("?") == sum(d.digit is None for d in reading.digits)


def _answer_or_digitkit_error(call, check) -> None:
    try:
        result = call()
    except DigitkitError as exc:
        assert str(exc).strip(), "a DigitkitError must say what is wrong"
        return
    check(result)


@FUZZ
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=2048))
def test_random_bytes_as_a_picture_file(recognizer, tmp_path, header, body):
    path = tmp_path / "fuzz.png"
    path.write_bytes(header + body)
    _answer_or_digitkit_error(lambda: recognizer.predict(path), _check_prediction)
    _answer_or_digitkit_error(lambda: read_number(path, recognizer), _check_reading)


@st.composite
def arrays(draw):
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_]))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40))
    if np.issubdtype(dtype, np.floating):
        elements = st.floats(allow_nan=True, allow_infinity=True, width=32 if dtype == np.float32 else 64)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@FUZZ
@given(array=arrays())
def test_random_arrays_as_a_picture(recognizer, array):
    _answer_or_digitkit_error(lambda: recognizer.predict(array), _check_prediction)
    _answer_or_digitkit_error(lambda: read_number(array, recognizer), _check_reading)
