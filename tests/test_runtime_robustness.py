"""The acceptance figures on subsets, through the shipped int8 model and the shared preprocessing.

The full sets run in ``python -m digitkit.benchmarks.robustness``; these are
the same measurements on 1,000 MNIST test images and 100 non-digits of each
kind, with thresholds a little below the full-set targets for sampling noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.benchmarks import robustness
from digitkit.runtime.recognizer import Recognizer, shipped_model_path
from digitkit.train import foreign_data, nondigits, pictures

pytestmark = pytest.mark.slow  # acceptance figures: evaluations on thousands of pictures (the full tier runs them)


@pytest.fixture(scope="module")
def forced():
    if not shipped_model_path("cnn", "int8").is_file():
        pytest.skip("shipped int8 model not exported yet")
    return Recognizer(precision="int8", threads=1, min_confidence=0.0)


@pytest.fixture(scope="module")
def default():
    if not shipped_model_path("cnn", "int8").is_file():
        pytest.skip("shipped int8 model not exported yet")
    return Recognizer(precision="int8", threads=1)


@pytest.fixture(scope="module")
def subset(mnist_test_u8):
    images, labels = mnist_test_u8
    return images[:1000], labels[:1000]


@pytest.mark.parametrize("name", list(pictures.TRANSFORMS))
def test_transformed_mnist(forced, subset, name):
    images, labels = subset
    predictions = robustness.runtime_predictions(forced, pictures.transformed(images, name))
    # the eight acceptance transforms are held to 99 % on all 10,000; the two added later measured 98.9 % and 99.6 %
    floor = 0.96 if name.startswith(("squared paper", "photo of a sheet")) else 0.985
    assert robustness.forced_accuracy(predictions, labels) >= floor


def test_usps(forced, shared_dir):
    images, labels = foreign_data.load_usps(shared_dir)
    predictions = robustness.runtime_predictions(forced, foreign_data.upscale16(images))
    assert robustness.forced_accuracy(predictions, labels) >= 0.969  # issue #11: no drop from the old pipeline's


def test_semeion(forced, shared_dir):
    images, labels = foreign_data.load_semeion(shared_dir)
    predictions = robustness.runtime_predictions(forced, foreign_data.upscale16(images))
    # issue #11: no drop from the 90.4 % the pipeline it replaced read (European 1, 4, 7 are rare in MNIST)
    assert robustness.forced_accuracy(predictions, labels) >= 0.904


def test_non_digits_are_refused_and_digits_kept(default, subset):
    images, labels = subset
    sets = nondigits.non_digits(100, seed=99)
    answered = {
        k: np.mean([p.digit is not None for p in robustness.runtime_predictions(default, v)]) for k, v in sets.items()
    }
    assert np.mean(list(answered.values())) <= 0.03, answered
    assert answered["blank"] == 0.0
    kept = np.mean([p.digit is not None for p in robustness.runtime_predictions(default, list(images))])
    assert kept >= 0.975
