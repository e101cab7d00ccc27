"""Latency measurement: warm up, then time single calls until the median is stable.

Every call is timed on its own (``time.perf_counter_ns``) so the percentiles
are of real calls, not of averages. A cell is measured in several rounds,
interleaved with the other backends' (see run.py), so a burst of background
load slows all of them alike instead of one; the samples of all rounds are
pooled before the percentiles are taken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """How long to measure one (backend, batch, threads) cell in one round."""

    warmup_calls: int = 5
    warmup_s: float = 0.1
    min_calls: int = 10
    min_s: float = 0.3
    max_calls: int = 5000


def time_calls(fn: Callable[[], object], budget: Budget) -> list[float]:
    """Warm up, then seconds per call for at least min_calls calls and min_s seconds."""
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


def summarise(samples: list[float], batch: int) -> dict:
    """p50/p90/p99/mean latency in milliseconds, and images per second at the median."""
    a = np.asarray(samples, dtype=np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {
        "p50_ms": round(p50 * 1e3, 4),
        "p90_ms": round(p90 * 1e3, 4),
        "p99_ms": round(p99 * 1e3, 4),
        "mean_ms": round(float(a.mean()) * 1e3, 4),
        "calls": int(a.size),
        "images_per_s": round(batch / p50, 1) if p50 > 0 else None,
    }
