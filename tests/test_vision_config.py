"""VisionConfig: the pipeline's tuning numbers, given per call and restored after it."""

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

from digitkit.runtime.vision import VisionConfig, find_rows, to_mnist
from digitkit.runtime.vision.config import DEFAULT, active_config, using


def test_a_config_given_to_one_call_changes_that_call_only(mnist_test_u8):
    picture = 255 - mnist_test_u8[0][0]  # a 28×28 digit, dark on white
    assert to_mnist(picture) is not None
    assert to_mnist(picture, config=replace(DEFAULT, min_picture_side=40)) is None  # too small under that config
    assert active_config() is DEFAULT
    np.testing.assert_array_equal(to_mnist(picture), to_mnist(picture, config=VisionConfig()))


def test_the_config_is_restored_when_a_stage_fails():
    with pytest.raises(ValueError), using(replace(DEFAULT, work_max_side=500)):
        assert active_config().work_max_side == 500
        raise ValueError
    assert active_config() is DEFAULT


def test_find_rows_reads_a_page_under_a_config(mnist_test_u8):
    page = np.full((60, 200), 255, np.uint8)
    for k in range(4):
        page[16:44, 10 + 45 * k : 38 + 45 * k] = 255 - mnist_test_u8[0][k]
    assert len(find_rows(page).digits) == 4
    # a speck side of half the page's width: every digit is a speck
    assert find_rows(page, config=replace(DEFAULT, speck_share=0.5)).digits == []


def test_the_config_is_frozen():
    with pytest.raises(FrozenInstanceError):
        DEFAULT.work_max_side = 10  # type: ignore[misc]
