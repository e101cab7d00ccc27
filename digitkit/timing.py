"""The one timing loop: warm up, then time single calls.

Every call is timed on its own (``time.perf_counter_ns``) so percentiles and medians are of real calls,
not of averages. It lives in the root package, outside every stage, so that the benchmarks, export's
quantization choice and the robustness figures all time the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """How long to measure one thing: untimed warm-up calls, then timed calls (counts and seconds)."""

    warmup_calls: int = 5
    warmup_s: float = 0.1
    min_calls: int = 10
    min_s: float = 0.3
    max_calls: int = 5000


def time_calls(fn: Callable[[], object], budget: Budget) -> list[float]:
    """Warm up, then seconds per call for at least min_calls calls and min_s seconds (at most max_calls)."""
    start = time.perf_counter()
    calls = 0
    while calls < budget.warmup_calls or time.perf_counter() - start < budget.warmup_s:
        fn()
        calls += 1
        if calls >= budget.max_calls:
            break
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < budget.min_calls or (time.perf_counter() - start < budget.min_s):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e9)
        if len(samples) >= budget.max_calls:
            break
    return samples


def median_ms(fn: Callable[[], object], calls: int, warmup_calls: int = 1) -> float:
    """Median milliseconds of exactly ``calls`` timed calls, after ``warmup_calls`` untimed ones."""
    budget = Budget(
        warmup_calls=warmup_calls, warmup_s=0.0, min_calls=calls, min_s=0.0, max_calls=max(calls, warmup_calls)
    )
    return 1000.0 * float(np.median(time_calls(fn, budget)))
