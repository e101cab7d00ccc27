"""Wall-clock timing and the per-model evaluation record every figure reads.

One clock (time.perf_counter) and one record shape for all models, so the
SVM, MLP and CNN numbers in the report are measured the same way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from digitkit.train.trainer import classification_metrics


class Stopwatch:
    """``with watch: ...`` adds the block's wall time to ``watch.seconds``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __enter__(self) -> Stopwatch:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._started


@contextlib.contextmanager
def timed(record: dict[str, Any], key: str) -> Iterator[None]:
    """Store the block's wall time, in seconds, under ``record[key]``."""
    started = time.perf_counter()
    yield
    record[key] = time.perf_counter() - started


def evaluation(predicted: np.ndarray, labels: np.ndarray, test_seconds: float) -> dict[str, Any]:
    """Accuracy, errors, per-class accuracy, confusion and the misclassified test indices."""
    predicted = np.asarray(predicted, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    metrics = classification_metrics(predicted, labels)
    wrong = np.flatnonzero(predicted != labels)
    metrics.update(
        error_rate=metrics["errors"] / metrics["n"],
        test_seconds=test_seconds,
        test_ms_per_image=1000 * test_seconds / len(labels),
        misclassified=[[int(i), int(predicted[i]), int(labels[i])] for i in wrong],  # index, predicted, true
    )
    return metrics


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % confidence interval of an accuracy measured on n test images (Wilson score)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
