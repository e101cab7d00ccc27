"""Run the whole SVM vs MLP vs CNN study and write results.json, figures and the report.

Scheduling: scikit-learn's SVC (libsvm) fits on one core and the plain SVC on
raw pixels is by far the longest job (~15 min on the full set), so it runs in
a separate process on one core while this process trains the tuned SVM, the
two MLPs and the CNN on the other. Each process is held to ``threads``
threads, so the two never fight over the same core.
"""

from __future__ import annotations

import multiprocessing
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_json

RESULTS_NAME = "results.json"
QUICK_EPOCHS = 8  # MLPs on 2,000 images: a few seconds, ~90 % test accuracy


@dataclass(frozen=True)
class StudyOptions:
    out: Path  # report, figures, results.json
    work: Path  # checkpoints and ONNX files (large; not for the docs folder)
    quick: bool = False
    train_size: int | None = None  # None: all 60,000 (quick: 2,000)
    test_size: int | None = None  # None: all 10,000 (quick: 1,000)
    onnx_limit_plain: int | None = None  # time the plain SVC's ONNX on the first N test images only
    threads: int = 1
    parallel: bool = True
    progress: bool = True

    def sizes(self) -> tuple[int | None, int | None]:
        if self.quick:
            return self.train_size or 2000, self.test_size or 1000
        return self.train_size, self.test_size


def _plain_svm_job(options: StudyOptions, started: float) -> dict[str, Any]:
    """Runs in its own process (spawned): the plain SVC() on raw pixels."""
    from digitkit.train.study.data import load_split
    from digitkit.train.study.svm import PLAIN, run_svm

    train_size, test_size = options.sizes()
    split = load_split(train_size, test_size, options.onnx_limit_plain)
    args = (PLAIN, split, options.work, options.threads, options.progress, 1)
    return _timed(run_svm, started, "svm worker", options.work, "svm_plain", "SVM, plain SVC()", *args)


def _timed(record_fn: Any, started: float, process: str, work: Path, *args: Any) -> dict[str, Any]:
    """Run one model's job; note when it ran, its CPU seconds, and save its record as soon as it is done.

    CPU seconds of a single-threaded job are what its wall time would be on an otherwise idle core,
    which is how the schedule is judged when other work shares the machine.
    """
    t0, cpu0 = time.time(), time.process_time()
    record = record_fn(*args)
    record["schedule"] = {"process": process, "start_s": t0 - started, "end_s": time.time() - started,
                          "cpu_seconds": time.process_time() - cpu0}  # fmt: skip
    atomic_write_json(work / f"{record['key']}.result.json", record)
    return record


def run_study(options: StudyOptions) -> dict[str, Any]:
    import torch
    from threadpoolctl import threadpool_limits

    from digitkit.train.study.cnn import run_cnn, study_config
    from digitkit.train.study.data import load_split
    from digitkit.train.study.mlp import MlpConfig, run_mlp
    from digitkit.train.study.report import write_report
    from digitkit.train.study.svm import TUNED, run_svm

    if options.threads < 1:
        raise DigitkitError(f"--threads must be at least 1, got {options.threads}")
    options.out.mkdir(parents=True, exist_ok=True)
    options.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    train_size, test_size = options.sizes()
    split = load_split(train_size, test_size)
    n_train = len(split.train_labels)
    mlp = MlpConfig(epochs=QUICK_EPOCHS) if options.quick else MlpConfig()
    torch.set_num_threads(options.threads)

    pool = future = None
    if options.parallel:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(_plain_svm_job, options, started)
    models: list[dict[str, Any]] = []
    try:
        if not options.parallel:
            models.append(_plain_svm_job(options, started))
        with threadpool_limits(options.threads):
            args = (split, options.work, options.threads, options.progress)
            main = (started, "main", options.work)
            models.append(_timed(run_svm, *main, "svm_tuned", "SVM, deskew + PCA + RBF", TUNED, *args))
            models.append(_timed(run_mlp, *main, "mlp", "MLP", mlp.with_(augment=False), *args))
            models.append(_timed(run_mlp, *main, "mlp_aug", "MLP + augmentation", mlp, *args))
            models.append(_timed(run_cnn, *main, "cnn", "CNN", study_config(options.quick, n_train), *args))
        if future is not None:
            models.insert(0, future.result())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    from digitkit.train.study.foreign import cross_dataset

    with threadpool_limits(options.threads):
        foreign = cross_dataset(models, options.work, options.threads)  # USPS and Semeion; {} without ../shared
    results = {
        "quick": options.quick,
        "train_images": n_train,
        "test_images": len(split.test_labels),
        "threads_per_process": options.threads,
        "processes": 2 if options.parallel else 1,
        "wall_seconds_training_and_evaluation": time.time() - started,
        "machine": _machine(),
        "models": models,
        "foreign": foreign,
    }
    search = options.out / "svm_search.json"
    if search.exists():
        import json

        results["svm_search"] = json.loads(search.read_text())
    atomic_write_json(options.out / RESULTS_NAME, results)
    write_report(results, options.out, split.test_images)
    results["wall_seconds_end_to_end"] = time.time() - started
    atomic_write_json(options.out / RESULTS_NAME, results)
    return results


def _machine() -> dict[str, Any]:
    import os

    import onnxruntime
    import sklearn
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "onnxruntime": onnxruntime.__version__,
        "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
