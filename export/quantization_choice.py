"""Measure the static-quantization alternatives side by side and pick one.

Alternatives: per-channel or per-tensor weights × full or reduced (7-bit)
weight range × MinMax, Entropy or Percentile activation calibration - the
three knobs onnxruntime's guide says to try. Each is calibrated on the same
1,000 training images and measured in one run on the same machine:

* fidelity to the fp32 model on the last 10,000 *training* images (never used
  for calibration): argmax disagreements and mean |Δlogit|. This is what picks
  the winner, so the choice never looks at the test set;
* accuracy on the 10,000 test images (reported, not used to choose);
* file size, and latency with one thread (batch 1 median, batch 500
  throughput) as ratios to fp32 measured in the same run.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.export.evaluation import load_onnx, model_input, model_spec, ort_logits, session
from digitkit.export.quantize import DEFAULT, QuantSettings, calibration_sample, quantize_bytes
from digitkit.runtime.files import atomic_write_json, atomic_write_text
from digitkit.train.mnist import load_mnist

ALTERNATIVES = tuple(
    QuantSettings(per_channel, reduce_range, method)
    for per_channel in (True, False)
    for reduce_range in (False, True)
    for method in ("MinMax", "Entropy", "Percentile")
)
LATENCY_RUNS = 300


def _latency_ms(sess, x1: np.ndarray, runs: int = LATENCY_RUNS) -> float:
    name = sess.get_inputs()[0].name
    for _ in range(20):
        sess.run(None, {name: x1})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, {name: x1})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _measure(model: bytes | str, x_test, y_test, x_fid, fid_ref, threads: int) -> dict[str, Any]:
    sess = session(model, threads)
    start = time.perf_counter()
    test_logits = ort_logits(sess, x_test)
    throughput = len(x_test) / (time.perf_counter() - start)
    fid_logits = ort_logits(sess, x_fid)
    row = {
        "test_accuracy": round(float((test_logits.argmax(1) == y_test).mean()), 6),
        "latency_batch1_ms": round(_latency_ms(sess, x_test[:1]), 4),
        "throughput_img_s": round(throughput, 1),
    }
    if fid_ref is not None:
        row["fidelity_disagreements"] = int((fid_logits.argmax(1) != fid_ref.argmax(1)).sum())
        row["fidelity_mean_abs_logit_diff"] = round(float(np.abs(fid_logits - fid_ref).mean()), 5)
    return row, fid_logits


def measure_alternatives(
    fp32_path: str | os.PathLike[str],
    *,
    alternatives: tuple[QuantSettings, ...] = ALTERNATIVES,
    data_dir: str | os.PathLike[str] | None = None,
    threads: int = 1,
    log=print,
) -> dict[str, Any]:
    model = load_onnx(fp32_path)
    spec = model_spec(model)
    mnist = load_mnist(data_dir, log=lambda _m: None)
    calibration = calibration_sample(mnist.train_images)
    x_test, y_test = model_input(mnist.test_images, spec), mnist.test_labels.astype(np.int64)
    x_fid = model_input(mnist.train_images[50_000:], spec)
    fp32_row, fid_ref = _measure(os.fspath(fp32_path), x_test, y_test, x_fid, None, threads)
    fp32_row["bytes"] = os.path.getsize(fp32_path)
    rows = []
    for settings in alternatives:
        start = time.perf_counter()
        data = quantize_bytes(fp32_path, calibration, settings)
        seconds = time.perf_counter() - start
        row, _ = _measure(data, x_test, y_test, x_fid, fid_ref, threads)
        row.update(
            settings=asdict(settings),
            name=settings.name,
            bytes=len(data),
            size_ratio=round(len(data) / fp32_row["bytes"], 4),
            accuracy_drop_pp=round((fp32_row["test_accuracy"] - row["test_accuracy"]) * 100, 3),
            latency_ratio=round(row["latency_batch1_ms"] / fp32_row["latency_batch1_ms"], 3),
            throughput_ratio=round(row["throughput_img_s"] / fp32_row["throughput_img_s"], 3),
            quantize_seconds=round(seconds, 1),
        )
        rows.append(row)
        log(
            f"{settings.name}: test {row['test_accuracy'] * 100:.2f}% (drop {row['accuracy_drop_pp']:+.2f} pp), "
            f"fidelity {row['fidelity_disagreements']} disagreements / mean |Δ| {row['fidelity_mean_abs_logit_diff']}, "
            f"{row['bytes']:,} B, batch-1 {row['latency_ratio']:.2f}× fp32 time"
        )
    best = min(rows, key=lambda r: (r["fidelity_disagreements"], r["fidelity_mean_abs_logit_diff"], r["bytes"]))
    return {
        "model": Path(fp32_path).name,
        "rule": "fewest argmax disagreements with fp32 on training images 50,000-59,999 (not used for calibration), then smallest mean |Δlogit|, then smallest file; the test set is reported, never used to choose",
        "calibration": f"{len(calibration)} training images from 0-49,999, seed 0",
        "threads": threads,
        "fp32": fp32_row,
        "alternatives": rows,
        "chosen": best["settings"],
        "default_in_code": asdict(DEFAULT),
    }


def choice_markdown(result: dict[str, Any]) -> str:
    fp32 = result["fp32"]
    lines = [
        f"# Quantization choice for {result['model']}",
        "",
        f"Measured by `digitkit quantize {result['model']} --choose` (onnxruntime static QDQ, uint8 activations, int8 weights, "
        f"{result['threads']} thread, AVX2 CPU without VNNI). Calibration: {result['calibration']}.",
        f"Rule: {result['rule']}.",
        "",
        f"fp32: test accuracy {fp32['test_accuracy'] * 100:.2f} %, {fp32['bytes']:,} bytes, batch-1 {fp32['latency_batch1_ms']:.3f} ms, "
        f"{fp32['throughput_img_s']:.0f} img/s at batch 500.",
        "",
        "| weights | range | calibration | test acc % | drop pp | fidelity disagreements | mean abs dlogit | bytes | size vs fp32 | batch-1 time vs fp32 | throughput vs fp32 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["alternatives"]:
        s = r["settings"]
        mark = " **(chosen)**" if s == result["chosen"] else ""
        lines.append(
            f"| {'per-channel' if s['per_channel'] else 'per-tensor'}{mark} | {'7-bit (reduce_range)' if s['reduce_range'] else '8-bit'} | {s['method']} | "
            f"{r['test_accuracy'] * 100:.2f} | {r['accuracy_drop_pp']:+.2f} | {r['fidelity_disagreements']} | {r['fidelity_mean_abs_logit_diff']} | "
            f"{r['bytes']:,} | {r['size_ratio'] * 100:.1f} % | {r['latency_ratio']:.2f}× | {r['throughput_ratio']:.2f}× |"
        )
    lines += [
        "",
        "Entropy gives the same ranges as MinMax: `quantize_static` does not pass `num_bins` to onnxruntime's entropy "
        "calibrator, and at its default (128 histogram bins, 128 quantized bins) the KL search has a single candidate, "
        "the full range.",
        "Latency figures are noisy (2 shared cores); compare the ratios, which were measured side by side.",
        "",
    ]
    return "\n".join(lines)


def write_choice(result: dict[str, Any], folder: str | os.PathLike[str], stem: str) -> tuple[Path, Path]:
    md, js = Path(folder) / f"{stem}.quantization-choice.md", Path(folder) / f"{stem}.quantization-choice.json"
    atomic_write_json(js, result)
    atomic_write_text(md, choice_markdown(result))
    return md, js
