"""The "not sure" threshold rule: the lowest threshold within the non-digit budget, unless that refuses too many
real digits."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.train.threshold import choose_threshold, non_digits_answered

# two sets of real digits' confidences; 1 % of "a" lies under 0.703, which is the threshold keeping 99 % of both
DIGITS = {"a": np.linspace(0.7, 1.0, 1001), "b": np.linspace(0.9, 1.0, 1001)}


def _non_digits(values: list[float]) -> dict[str, np.ndarray]:
    return {"letters": np.array(values), "blank": np.zeros(len(values))}


def test_non_digits_answered_is_the_mean_over_kinds():
    kinds = {"letters": np.array([0.9, 0.1, 0.1, 0.1]), "blank": np.array([0.0, 0.0])}
    assert non_digits_answered(kinds, 0.5) == 0.125  # (1/4 + 0/2) / 2
    assert non_digits_answered(kinds, 0.05) == 0.5  # (4/4 + 0/2) / 2


def test_the_lowest_threshold_within_the_budget_is_chosen():
    # 100 letters, two of them fairly sure: 2 % / 2 kinds = 1 % of the non-digits answered below 0.8
    non_digits = _non_digits([0.8, 0.6] + [0.001] * 98)
    threshold, by_budget = choose_threshold(DIGITS, non_digits, keep=0.99, max_non_digits=0.005)
    assert 0.6 < threshold <= 0.6 + 1e-9 and by_budget  # the 0.6 letter refused, the 0.8 one answered
    assert non_digits_answered(non_digits, threshold) <= 0.005
    assert non_digits_answered(non_digits, 0.6) > 0.005


def test_keeping_the_digits_wins_when_the_budget_would_refuse_too_many():
    non_digits = _non_digits([0.8, 0.6] + [0.001] * 98)
    # with no non-digit allowed the threshold would pass 0.8, refusing a third of set "a": the keep rule decides
    threshold, by_budget = choose_threshold(DIGITS, non_digits, keep=0.99, max_non_digits=0.0)
    assert threshold == pytest.approx(0.703)
    assert not by_budget


def test_a_budget_everything_meets_gives_zero():
    threshold, _ = choose_threshold(DIGITS, _non_digits([0.3, 0.2]), keep=0.99, max_non_digits=1.0)
    assert threshold == 0.0
