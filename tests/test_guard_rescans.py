"""Low-resolution scans (16×16, enlarged again) and the digit guard: such a scan of a digit is still a digit to it,
and one of a letter still is not. The guard learnt them on both sides (``train.guard.low_resolution``)."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.runtime import Recognizer
from digitkit.train import nondigits
from digitkit.train.guard import low_resolution


def _both_kinds(picture: np.ndarray) -> dict[str, np.ndarray]:
    """{"two-level": ..., "grey": ...}: the rescan's two branches, found by drawing seeds."""
    out = {}
    for seed in range(20):
        scan = low_resolution(picture, np.random.default_rng(seed))
        out["two-level" if len(np.unique(scan)) <= 2 else "grey"] = scan
    return out


def test_a_low_resolution_scan_is_blocky_and_two_level_or_smooth_and_grey(mnist_test_u8):
    images, _ = mnist_test_u8
    scans = _both_kinds(images[0])
    assert set(scans) == {"two-level", "grey"}
    blocky = scans["two-level"]
    assert blocky.shape == (64, 64) and blocky.dtype == np.uint8
    # 4×4 blocks of one value each: pixels repeated, as a 16×16 scan shown at 64×64
    assert (blocky.reshape(16, 4, 16, 4).std(axis=(1, 3)) == 0).all()
    assert scans["grey"].shape == (64, 64) and len(np.unique(scans["grey"])) > 10


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(precision="int8", threads=1)


def test_rescanned_digits_are_digits_and_rescanned_letters_are_not(recognizer, mnist_test_u8):
    images, labels = mnist_test_u8
    rng = np.random.default_rng(5)
    picked = rng.choice(len(images), 300, replace=False)
    digits = [255 - low_resolution(images[i], rng) for i in picked]  # dark ink on white, as a scan
    answers = recognizer.predict_batch(digits)
    likeness = np.array([p.digit_likeness for p in answers])
    assert np.mean(likeness >= 0.5) >= 0.93  # 97 % with the shipped guard; 87 % with one that never saw them
    assert np.mean([p.digit == labels[i] for p, i in zip(answers, picked, strict=True)]) >= 0.92  # 96 %; 88 %
    letters = [low_resolution(p, rng) for p in nondigits.non_digits(60, seed=11)["letters"]]
    answered = [p.digit is not None for p in recognizer.predict_batch(letters)]
    assert np.mean(answered) <= 0.03  # 1.7 %; 3.3 %
