"""Latency figures of the benchmark: per-call samples (``digitkit.timing.time_calls``) into percentiles.

A cell is measured in several rounds, interleaved with the other backends' (see run.py), so a burst of
background load slows all of them alike instead of one; the samples of all rounds are pooled before the
percentiles are taken.
"""

from __future__ import annotations

import numpy as np


def summarise(samples: list[float], batch: int) -> dict:
    """p50/p90/p99/mean latency in milliseconds, and images per second at the median."""
    a = np.asarray(samples, dtype=np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])

    def ms(seconds: float) -> float:  # five significant figures: a call of a few microseconds keeps its precision
        return float(f"{seconds * 1e3:.5g}")

    return {
        "p50_ms": ms(p50),
        "p90_ms": ms(p90),
        "p99_ms": ms(p99),
        "mean_ms": ms(float(a.mean())),
        "calls": int(a.size),
        "images_per_s": round(batch / p50, 1) if p50 > 0 else None,
    }
