"""The edge check's verdicts (edge/compare.py) and the device profile's per-process figures can fail.

``make edge-check`` itself needs root, QEMU and ~15 minutes (docs/edge.md); these check that what it
concludes from its outputs is right: a flipped digit, a drift beyond tolerance or a different model
file fails it, and the profile's peak RSS is that of the one process it ran.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EDGE = Path(__file__).resolve().parents[1] / "edge"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"edge_{name}", EDGE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = _load("compare")


def _outputs(path: Path, machine: str, logits: dict[str, np.ndarray], sha: str = "abc") -> Path:
    arrays = {"machine": np.array(machine)}
    for key, value in logits.items():
        arrays[key] = value
        arrays[f"{key}.sha256"] = np.array(sha)
    np.savez(path, **arrays)
    return path


@pytest.fixture
def reference(tmp_path):
    rng = np.random.default_rng(0)
    logits = {"cnn-fp32": rng.normal(0, 5, (500, 10)).astype(np.float32)}
    logits["cnn-int8"] = logits["cnn-fp32"].copy()
    return logits, _outputs(tmp_path / "x86.npz", "x86_64", logits)


def test_identical_outputs_pass(tmp_path, reference):
    logits, host = reference
    assert compare.compare(host, _outputs(tmp_path / "arm.npz", "aarch64", logits))


def test_fp32_drift_within_tolerance_passes_and_beyond_fails(tmp_path, reference):
    logits, host = reference
    near = {k: v + (5e-4 if k.endswith("fp32") else 0) for k, v in logits.items()}
    assert compare.compare(host, _outputs(tmp_path / "near.npz", "aarch64", near))
    far = {k: v + (5e-3 if k.endswith("fp32") else 0) for k, v in logits.items()}
    assert not compare.compare(host, _outputs(tmp_path / "far.npz", "aarch64", far))


def test_one_flipped_digit_fails(tmp_path, reference):
    logits, host = reference
    flipped = {k: v.copy() for k, v in logits.items()}
    row = flipped["cnn-int8"][7]
    row[np.argsort(row)[-2]] = row.max() + 0.01  # the runner-up wins by less than the int8 tolerance
    assert not compare.compare(host, _outputs(tmp_path / "flip.npz", "aarch64", flipped))


def test_a_different_model_file_fails(tmp_path, reference):
    logits, host = reference
    assert not compare.compare(host, _outputs(tmp_path / "other.npz", "aarch64", logits, sha="def"))


def test_readings_compare_digits_not_confidences(tmp_path):
    def predict(path: Path, digit: int, confidence: float) -> Path:
        result = {"file": "in/single-0.png", "digit": digit, "status": "ok", "confidence": confidence}
        path.write_text(json.dumps({"model": "m", "results": [result]}))
        return path

    host = predict(tmp_path / "h.json", 7, 0.99601)
    assert compare.same_readings([(host, predict(tmp_path / "a.json", 7, 0.99602))], "fp32")
    assert not compare.same_readings([(host, predict(tmp_path / "b.json", 1, 0.99601))], "fp32")


def test_profile_reports_the_peak_memory_of_the_process_it_ran():
    # measured from a fresh, small process: a child's ru_maxrss starts at its parent's peak, and this pytest
    # process may have peaked at gigabytes (torch, the whole suite) by now
    script = (
        "import json, sys; from digitkit.benchmarks.device_profile import measured; "
        "small = measured([sys.executable, '-c', 'print(1)']); "
        "large = measured([sys.executable, '-c', \"b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
        'print(2)"]); '
        "print(json.dumps([small.out, large.out, small.peak_rss_mib, large.peak_rss_mib, small.wall_s, small.cpu_s]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    small_out, large_out, small_peak, large_peak, wall, cpu = json.loads(done.stdout)
    assert small_out.strip() == "1" and large_out.strip() == "2"
    assert large_peak - small_peak > 150
    assert wall > 0 and 0 < cpu < 10
