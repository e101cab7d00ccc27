"""Run an ONNX file on MNIST the way a runtime would: fed from its own metadata.

Export, quantize and verify all need "the model's logits on these images"
through onnxruntime. The input is built from the file's ``ModelSpec`` (not
from the training constants), so a wrong mean/std in the metadata shows up
as lost accuracy instead of being hidden by our own code.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.model_spec import ModelSpec

BATCH = 500


class ModelFileError(DigitkitError):
    """A file that is not a usable ONNX digit model."""


def load_onnx(path: str | os.PathLike[str]) -> onnx.ModelProto:
    """Load an ONNX file (weights included), or say clearly why it is not one."""
    if not os.path.isfile(path):
        raise ModelFileError(f"{path}: no such model file")
    try:
        model = onnx.load(os.fspath(path))
    except Exception as exc:  # protobuf raises DecodeError, RuntimeWarning, ...
        raise ModelFileError(f"{path}: not an ONNX model ({type(exc).__name__})") from None
    if not model.graph.node or not model.graph.input:
        raise ModelFileError(f"{path}: not an ONNX model (no graph)")
    return model


def model_spec(model: onnx.ModelProto) -> ModelSpec:
    return ModelSpec.from_metadata({p.key: p.value for p in model.metadata_props})


def check_digit_input(model: onnx.ModelProto, where: str) -> None:
    """The one input must be [N, 1, 28, 28] (N free or fixed); anything else is not a digit model."""
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if len(inputs) != 1:
        raise ModelFileError(f"{where}: expected one input [N,1,28,28], found {len(inputs)} inputs")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = [d.dim_param or (d.dim_value if d.HasField("dim_value") else "?") for d in dims]
    if len(dims) != 4 or [d.dim_value for d in dims[1:]] != [1, 28, 28]:
        raise ModelFileError(
            f"{where}: input {inputs[0].name!r} has shape [{','.join(map(str, shape))}], expected [N,1,28,28]"
        )


def session(model: str | os.PathLike[str] | bytes, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else os.fspath(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def model_input(images_u8: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) as the metadata says to feed the model."""
    x = images_u8.astype(np.float32)[:, None] * np.float32(spec.pixel_scale / 255.0)
    return ((x - np.float32(spec.mean)) / np.float32(spec.std)).astype(np.float32)


def ort_logits(sess: ort.InferenceSession, x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i : i + batch]})[0] for i in range(0, len(x), batch)])


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((logits.argmax(1) == labels).mean())


def summary(logits: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    acc = accuracy(logits, labels)
    return {"accuracy": round(acc, 6), "errors": int(round((1 - acc) * len(labels))), "n": int(len(labels))}
