"""Load runs that the hardening (issue #13) must not break: many processes at once, many predictions in one.

* 4 ``digitkit predict`` processes at the same time, 2,000 pictures each: every one exits 0 and gives
  exactly the answers a single process gives (nothing shared between processes can interfere).
* 5,000 predictions in one process: the resident memory after warm-up stays flat (no leak per call).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

PROCESSES = 4
PICTURES = 2_000
PREDICTIONS = 5_000
WARM_UP = 500
MAX_GROWTH_MIB = 16  # after warm-up; a leak of even 4 KiB a prediction would show 18 MiB here


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, mnist_test_u8) -> list[Path]:
    images, _ = mnist_test_u8
    folder = tmp_path_factory.mktemp("soak")
    paths = []
    for i in range(PICTURES):
        path = folder / f"{i:04d}.png"
        cv2.imwrite(str(path), 255 - cv2.resize(images[i], (84, 84)))  # dark on white, not MNIST's format
        paths.append(path)
    return paths


def _predict(paths: list[Path]) -> subprocess.Popen:
    command = [sys.executable, "-m", "digitkit.runtime.cli", "predict", "--json", "--threads", "1", *map(str, paths)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_four_processes_at_once_give_the_single_process_answers(pictures):
    reference = _predict(pictures[:200])
    ref_out, ref_err = reference.communicate(timeout=600)
    assert reference.returncode == 0, ref_err
    processes = [_predict(pictures) for _ in range(PROCESSES)]
    outputs = [p.communicate(timeout=900) for p in processes]
    expected = [(r["digit"], r["status"]) for r in json.loads(ref_out)["results"]]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        results = json.loads(out)["results"]
        assert len(results) == PICTURES and not any("error" in r for r in results)
        assert [(r["digit"], r["status"]) for r in results[:200]] == expected
    assert len({out for out, _ in outputs}) == 1  # all four identical, to the last digit of every confidence


@pytest.mark.slow
def test_resident_memory_is_flat_over_5000_predictions(mnist_test_u8):
    from digitkit.runtime.recognizer import Recognizer

    images, _ = mnist_test_u8
    recognizer = Recognizer(threads=1)
    pictures = [255 - cv2.resize(images[i % len(images)], (84, 84)) for i in range(64)]
    after_warm_up = None
    for i in range(PREDICTIONS):
        prediction = recognizer.predict(pictures[i % len(pictures)])
        assert np.isfinite(prediction.confidence)
        if i + 1 == WARM_UP:
            after_warm_up = _rss_mib()
    growth = _rss_mib() - after_warm_up
    print(
        f"RSS after {WARM_UP} predictions {after_warm_up:.1f} MiB, growth over the next {PREDICTIONS - WARM_UP}: {growth:+.1f} MiB"
    )
    assert growth < MAX_GROWTH_MIB
