"""Export each study model to ONNX and time it through onnxruntime.

Torch models go through torch.onnx (with digitkit's ModelSpec metadata, so the
runtime's Recognizer can load them); the scikit-learn pipelines through
skl2onnx. Every model is then timed the way an application would run it: one
onnxruntime session, one thread, the whole test set in batches (throughput)
and single images (latency). Where digitkit.runtime.recognizer exists, torch
models are timed through ``Recognizer.classify_mnist`` instead, so the number
includes the runtime's own normalisation.
"""

from __future__ import annotations

import itertools
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from digitkit.runtime.files import atomic_write_bytes
from digitkit.runtime.model_spec import ModelSpec
from digitkit.timing import median_ms
from digitkit.train.checkpoint import MNIST_MEAN, MNIST_STD

OPSET = 18
SKL_OPSET = {"": 17, "ai.onnx.ml": 3}
BATCH = 1000
LATENCY_IMAGES = 200


def _session(model: str | Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def export_torch(model: Any, path: Path, description: str) -> Path:
    """(N, 1, 28, 28) normalised input -> (N, 10) logits, dynamic batch, ModelSpec metadata."""
    import torch

    model = model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model,
            (torch.zeros(2, 1, 28, 28),),
            dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            input_names=["input"],
            output_names=["logits"],
            opset_version=OPSET,
            optimize=True,
            verbose=False,
        )
    proto = program.model_proto
    spec = ModelSpec(mean=MNIST_MEAN, std=MNIST_STD, output="logits", extra={"description": description})
    for key, value in spec.to_metadata().items():
        proto.metadata_props.add(key=key, value=value)
    atomic_write_bytes(path, proto.SerializeToString())
    onnx.checker.check_model(str(path))
    return path


def export_sklearn(pipeline: Any, path: Path, n_features: int = 784) -> Path:
    """(N, 784) float32 features -> label (N,) int64 and scores (N, 10)."""
    from skl2onnx import to_onnx
    from sklearn.svm import SVC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skl2onnx reads SVC's deprecated probA_/probB_
        proto = to_onnx(
            pipeline, np.zeros((1, n_features), np.float32), options={SVC: {"zipmap": False}}, target_opset=SKL_OPSET
        )
    atomic_write_bytes(path, proto.SerializeToString())
    return path


def time_torch_onnx(path: Path, images_u8: np.ndarray, threads: int = 1) -> dict[str, Any]:
    """Predictions, throughput and latency of a torch-exported model on uint8 (N, 28, 28) images."""
    from digitkit.runtime.recognizer import Recognizer

    pixels = images_u8.astype(np.float32) / 255.0
    recognizer = Recognizer(path, threads=threads, guard=False)  # classify_mnist needs no guard model
    runner, via = recognizer.classify_mnist, "digitkit Recognizer.classify_mnist"
    return _measure(lambda batch: np.argmax(runner(batch), axis=1), pixels, via, path)


def time_sklearn_onnx(path: Path, images_u8: np.ndarray, featurize: Any, threads: int = 1) -> dict[str, Any]:
    """As time_torch_onnx, for an skl2onnx model fed by ``featurize`` (uint8 images -> (N, 784) float32)."""
    session = _session(path, threads)
    name = session.get_inputs()[0].name

    def runner(batch: np.ndarray) -> np.ndarray:
        return session.run(["label"], {name: featurize(batch)})[0]

    return _measure(runner, images_u8, "onnxruntime InferenceSession (features in numpy)", path)


def _measure(predict: Any, images: np.ndarray, via: str, path: Path) -> dict[str, Any]:
    predict(images[:2])  # warm-up: first-run allocations are not the model's speed
    started = time.perf_counter()
    predicted = np.concatenate([predict(images[i : i + BATCH]) for i in range(0, len(images), BATCH)])
    seconds = time.perf_counter() - started
    singles = itertools.cycle(images[: min(LATENCY_IMAGES, len(images))])  # a new image each call: nothing cached
    latency_ms = median_ms(lambda: predict(next(singles)[None]), min(LATENCY_IMAGES, len(images)))
    return {
        "runtime": via,
        "path": str(path),
        "bytes": path.stat().st_size,
        "images": len(images),
        "batch": BATCH,
        "seconds": seconds,
        "ms_per_image": 1000 * seconds / len(images),
        "latency_ms_median": latency_ms,
        "predicted": predicted.astype(np.int64),
    }
