"""digitkit.timing: the one timing loop that the benchmarks and export's quantization choice share."""

from __future__ import annotations

import time

from digitkit.timing import Budget, median_ms, time_calls


def _counter():
    calls = []
    return calls, lambda: calls.append(None)


def test_median_ms_times_exactly_the_calls_asked_for_after_the_warm_up():
    calls, fn = _counter()
    median_ms(fn, 7, warmup_calls=3)
    assert len(calls) == 10
    calls, fn = _counter()
    median_ms(fn, 2, warmup_calls=5)  # a warm-up longer than the measurement is not cut short
    assert len(calls) == 7


def test_median_ms_measures_the_call():
    assert 2.0 <= median_ms(lambda: time.sleep(0.002), 5) < 200.0


def test_time_calls_keeps_going_for_min_s_and_stops_at_max_calls():
    calls, fn = _counter()
    samples = time_calls(fn, Budget(warmup_calls=0, warmup_s=0.0, min_calls=1, min_s=10.0, max_calls=50))
    assert len(samples) == 50 and len(calls) == 50
    samples = time_calls(lambda: time.sleep(0.001), Budget(warmup_calls=1, warmup_s=0.0, min_calls=2, min_s=0.03))
    assert len(samples) >= 2 and sum(samples) >= 0.02 and all(s >= 0.001 for s in samples)
