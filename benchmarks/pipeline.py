"""The whole picture -> digit path, as the app and the CLI run it.

A user's latency is not the model's: a 640×480 camera frame has to be found,
cropped, scaled and centred before the 28×28 tensor exists. This times the
runtime's own preprocessing (``to_mnist``, the one function every real
picture goes through) alone and with the model (``Recognizer.predict``), for
a 280×280 drawing and a 640×480 camera frame.
"""

from __future__ import annotations

from pathlib import Path

from digitkit.benchmarks.inputs import camera_frame, drawing
from digitkit.benchmarks.models import ModelFiles
from digitkit.benchmarks.timing import summarise
from digitkit.timing import Budget, time_calls


def pictures() -> dict[str, tuple[object, int]]:
    """Name -> (picture, the digit drawn in it)."""
    return {
        "drawing 280×280": (drawing(7), 7),
        "camera frame 640×480": (camera_frame(3), 3),
    }


def runtime_unavailable() -> str | None:
    try:
        import digitkit.runtime.recognizer  # noqa: F401
        import digitkit.runtime.vision  # noqa: F401
    except ImportError as exc:
        return f"the runtime's preprocess/recognizer cannot be imported ({exc})"
    return None


def bench_pipeline(models: ModelFiles, threads: int, budget: Budget, rounds: int) -> list[dict]:
    """One row per (picture, precision): preprocessing alone, then preprocessing + model."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.runtime.vision import to_mnist

    variants: list[tuple[str, Path]] = [("fp32", models.fp32)]
    if models.int8 is not None:
        variants.append(("int8", models.int8))
    recognizers = {p: Recognizer(path, precision=p, threads=threads) for p, path in variants}
    rows = []
    for name, (picture, truth) in pictures().items():
        pre: list[float] = []
        full: dict[str, list[float]] = {p: [] for p in recognizers}
        for _ in range(rounds):  # interleaved, like the model cells
            pre += time_calls(lambda picture=picture: to_mnist(picture), budget)
            for precision, recognizer in recognizers.items():
                full[precision] += time_calls(lambda r=recognizer, picture=picture: r.predict(picture), budget)
        pre_stats = summarise(pre, 1)
        for precision, recognizer in recognizers.items():
            prediction = recognizer.predict(picture)
            stats = summarise(full[precision], 1)
            rows.append(
                {
                    "picture": name,
                    "precision": precision,
                    "threads": threads,
                    "provider": recognizer.provider,
                    "preprocess_p50_ms": pre_stats["p50_ms"],
                    "total_p50_ms": stats["p50_ms"],
                    "total_p90_ms": stats["p90_ms"],
                    "total_p99_ms": stats["p99_ms"],
                    "pictures_per_s": stats["images_per_s"],
                    "drawn_digit": truth,
                    "predicted": prediction.digit,
                    "status": prediction.status,
                    "confidence": round(float(prediction.confidence), 4),
                }
            )
    return rows
