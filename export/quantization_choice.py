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
  throughput) as ratios to fp32 measured in the same run;
* the largest int8 weight magnitude, which bounds what one ``vpmaddubsw``
  pair (two u8×s8 products summed in 16 bits) can reach.

The rule (``choose``): every variant within ``FIDELITY_TOLERANCE`` argmax
disagreements of the best counts as equally faithful; among those, 7-bit
weights (``reduce_range``) win, then the smallest mean |Δlogit|, then the
fewest disagreements, then the smallest file. Why 7-bit first: the
deployment target is an x86-64 CPU with AVX2 and no VNNI, where onnxruntime
runs U8S8 through ``vpmaddubsw``, which saturates a pair of products above
32,767. 8-bit weights (|w| up to 127) let one pair reach 2·255·127 = 64,770;
7-bit weights (|w| <= 64) cap it at 2·255·64 = 32,640, so nothing can
saturate and the figures measured here hold on that CPU too. onnxruntime's
quantization guide says reduce_range "is designed for the U8S8 format on
AVX2 and AVX512 (non-VNNI) machines to mitigate saturation issues" and that
with per-channel weights on such machines "you will generally need to enable
reduce-range as well". A development machine with VNNI cannot show the
saturation, so the rule does not wait for a measurement to show it.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from digitkit.export.cpu import describe_cpu, read_cpu
from digitkit.export.evaluation import load_onnx, model_input, model_spec, ort_logits, session
from digitkit.export.quantize import DEFAULT, QuantSettings, calibration_sample, quantize_bytes
from digitkit.runtime.files import atomic_write_json, atomic_write_text
from digitkit.timing import median_ms
from digitkit.train.mnist import load_mnist

ALTERNATIVES = tuple(
    QuantSettings(per_channel, reduce_range, method)
    for per_channel in (True, False)
    for reduce_range in (False, True)
    for method in ("MinMax", "Entropy", "Percentile")
)
LATENCY_RUNS = 300
# 2 of the 10,000 held-out images = 0.02 pp, a fifth of the 0.10 pp an int8 model may lose against fp32
FIDELITY_TOLERANCE = 2
DEPLOYMENT_TARGET = "x86-64 with AVX2, no AVX-512, no VNNI"
VPMADDUBSW_MAX = 32_767  # the int16 that two u8×s8 products are summed into
ORT_GUIDE = "https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html"
RULE = (
    f"variants within {FIDELITY_TOLERANCE} argmax disagreements of the fewest (fp32 vs int8 on training images "
    "50,000-59,999, never used for calibration) count as equally faithful; among them prefer 7-bit weights "
    f"(reduce_range), which cannot saturate onnxruntime's U8S8 vpmaddubsw kernels on the deployment CPU "
    f"({DEPLOYMENT_TARGET}); then the smallest mean |Δlogit|, then the fewest disagreements, then the smallest "
    "file. The test set is reported, never used to choose"
)


def choose(rows: list[dict[str, Any]], tolerance: int = FIDELITY_TOLERANCE) -> dict[str, Any]:
    """The row the rule picks (see the module docstring and ``RULE``)."""
    fewest = min(r["fidelity_disagreements"] for r in rows)
    faithful = [r for r in rows if r["fidelity_disagreements"] <= fewest + tolerance]
    return min(
        faithful,
        key=lambda r: (
            not r["settings"]["reduce_range"],
            r["fidelity_mean_abs_logit_diff"],
            r["fidelity_disagreements"],
            r["bytes"],
        ),
    )


def max_abs_int8_weight(model_bytes: bytes) -> int:
    """Largest |w| over the int8 initializers (the quantized weights) of a QDQ model."""
    model = onnx.load_from_string(model_bytes)
    weights = [
        numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8 and t.dims
    ]
    return max((int(np.abs(w.astype(np.int16)).max()) for w in weights), default=0)


def _latency_ms(sess, x1: np.ndarray, runs: int = LATENCY_RUNS) -> float:
    name = sess.get_inputs()[0].name
    return median_ms(lambda: sess.run(None, {name: x1}), runs, warmup_calls=20)


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
            max_abs_int8_weight=max_abs_int8_weight(data),
        )
        row["vpmaddubsw_pair_max"] = 2 * 255 * row["max_abs_int8_weight"]
        rows.append(row)
        log(
            f"{settings.name}: test {row['test_accuracy'] * 100:.2f}% (drop {row['accuracy_drop_pp']:+.2f} pp), "
            f"fidelity {row['fidelity_disagreements']} disagreements / mean |Δ| {row['fidelity_mean_abs_logit_diff']}, "
            f"{row['bytes']:,} B, batch-1 {row['latency_ratio']:.2f}× fp32 time"
        )
    best = choose(rows)
    return {
        "model": Path(fp32_path).name,
        "rule": RULE,
        "fidelity_tolerance": FIDELITY_TOLERANCE,
        "deployment_target": DEPLOYMENT_TARGET,
        "calibration": f"{len(calibration)} training images from 0-49,999, seed 0",
        "threads": threads,
        "machine": read_cpu(),
        "fp32": fp32_row,
        "alternatives": rows,
        "chosen": best["settings"],
        "default_in_code": asdict(DEFAULT),
    }


def _machine_phrase(result: dict[str, Any]) -> str:
    machine = result.get("machine")
    return describe_cpu(machine) if machine else "CPU not recorded"


def choice_markdown(result: dict[str, Any]) -> str:
    fp32 = result["fp32"]
    chosen = next(r for r in result["alternatives"] if r["settings"] == result["chosen"])
    machine = result.get("machine") or {}
    lines = [
        f"# Quantization choice for {result['model']}",
        "",
        f"Measured by `digitkit quantize {result['model']} --choose` (onnxruntime static QDQ, uint8 activations, int8 weights "
        f"= U8S8, {result['threads']} thread). Calibration: {result['calibration']}.",
        "",
        f"Measuring machine: {_machine_phrase(result)}.",
        f"Deployment target: {result.get('deployment_target', DEPLOYMENT_TARGET)}.",
        "",
        f"Rule: {result['rule']}.",
        "",
        f"Chosen: **{chosen['name']}**: test accuracy {chosen['test_accuracy'] * 100:.2f} % "
        f"({chosen['accuracy_drop_pp']:+.2f} pp vs fp32), {chosen['fidelity_disagreements']} argmax disagreement(s) with fp32 "
        f"on the 10,000 held-out training images, {chosen['bytes']:,} bytes.",
        "",
        f"fp32: test accuracy {fp32['test_accuracy'] * 100:.2f} %, {fp32['bytes']:,} bytes, batch-1 {fp32['latency_batch1_ms']:.3f} ms, "
        f"{fp32['throughput_img_s']:.0f} img/s at batch 500.",
        "",
        "| weights | range | calibration | test acc % | drop pp | fidelity disagreements | mean abs dlogit | max abs int8 weight | worst-case vpmaddubsw pair (limit 32,767) | bytes | size vs fp32 | batch-1 time vs fp32 | throughput vs fp32 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["alternatives"]:
        s = r["settings"]
        mark = " **(chosen)**" if s == result["chosen"] else ""
        pair = r.get("vpmaddubsw_pair_max")
        pair_text = (
            "?" if pair is None else f"{pair:,}{' (can saturate without VNNI)' if pair > VPMADDUBSW_MAX else ''}"
        )
        lines.append(
            f"| {'per-channel' if s['per_channel'] else 'per-tensor'}{mark} | {'7-bit (reduce_range)' if s['reduce_range'] else '8-bit'} | {s['method']} | "
            f"{r['test_accuracy'] * 100:.2f} | {r['accuracy_drop_pp']:+.2f} | {r['fidelity_disagreements']} | {r['fidelity_mean_abs_logit_diff']} | "
            f"{r.get('max_abs_int8_weight', '?')} | {pair_text} | "
            f"{r['bytes']:,} | {r['size_ratio'] * 100:.1f} % | {r['latency_ratio']:.2f}× | {r['throughput_ratio']:.2f}× |"
        )
    if machine.get("u8s8_can_saturate"):
        here = "This measuring machine has no VNNI, so the 8-bit rows above already include any saturation."
    elif machine.get("vnni"):
        here = (
            "This measuring machine has VNNI (it reports "
            + ", ".join(f for f in machine["flags"] if f in ("avx512_vnni", "avx_vnni", "amx_int8"))
            + "), so onnxruntime accumulates U8S8 products in 32 bits here and cannot show that saturation: the 8-bit "
            "rows are what a VNNI CPU computes, not necessarily what the deployment CPU would. That is why the rule "
            "prefers 7-bit weights instead of waiting for a measurement to show a loss."
        )
    else:
        here = (
            "Whether this measuring machine could show that saturation is unknown (no x86 AVX2 flags read), so the "
            "rule prefers 7-bit weights instead of waiting for a measurement to show a loss."
        )
    lines += [
        "",
        "## Why 7-bit weights are preferred",
        "",
        "On x86-64 with AVX2 or AVX-512 but no VNNI, onnxruntime computes U8S8 products with `vpmaddubsw`, which adds "
        "two u8×s8 products into a 16-bit integer and clamps anything above 32,767. The worst pair is 2 × 255 × max |w|: "
        "64,770 for 8-bit weights (|w| up to 127) but at most 32,640 for 7-bit weights (|w| <= 64), so with "
        "`reduce_range` nothing can saturate and the accuracy figures above hold on the deployment CPU as measured. "
        f'onnxruntime\'s quantization guide ({ORT_GUIDE}, "When to use reduce-range and per-channel quantization?") says '
        'reduce-range "is designed for the U8S8 format on AVX2 and AVX512 (non-VNNI) machines to mitigate saturation '
        'issues" and that with per-channel weights on AVX2/AVX-512 machines "you will generally need to enable '
        'reduce-range as well"; the `quantize_static` docstring of onnxruntime 1.32 recommends `reduce_range=True` '
        "for x86/x64 CPUs without VNNI.",
        "",
        here,
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
