"""fp32 ONNX -> int8 ONNX by onnxruntime static quantization (QDQ format).

The steps onnxruntime's quantization guide prescribes: ``quant_pre_process``
(shape inference + graph optimisation), then ``quantize_static`` with a
calibration data reader. Calibration sees only *training* images (a fixed,
seeded sample), fed through the same metadata-driven normalisation a runtime
uses; the test set is only ever used to report accuracy afterwards. The
result goes through ``compact`` (short names, no redundant zero points),
which halves the tiny model's file without changing a single output.

``DEFAULT`` is what ``export/quantization_choice.py``'s rule picked for both
shipped models (runtime/models/*.quantization-choice.md has the figures):
per-channel 7-bit weights (``reduce_range``), MinMax calibration. 7-bit
weights cannot saturate onnxruntime's U8S8 ``vpmaddubsw`` kernels on the
deployment CPU (x86-64 AVX2 without VNNI), at no measured accuracy cost.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quant_pre_process,
    quantize_static,
)

from digitkit.export.compact import compact
from digitkit.export.evaluation import (
    check_digit_input,
    load_onnx,
    model_input,
    model_spec,
    ort_logits,
    session,
    summary,
)
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes
from digitkit.runtime.model_spec import ModelSpec
from digitkit.train.mnist import load_mnist

CALIBRATION_IMAGES = 1000
CALIBRATION_BATCH = 100
CALIBRATION_SEED = 0


@dataclass(frozen=True)
class QuantSettings:
    per_channel: bool
    reduce_range: bool
    method: str  # a CalibrationMethod name: MinMax, Entropy, Percentile

    @property
    def name(self) -> str:
        return f"{'per-channel' if self.per_channel else 'per-tensor'}, {'reduce_range' if self.reduce_range else 'full range'}, {self.method}"


DEFAULT = QuantSettings(per_channel=True, reduce_range=True, method="MinMax")


@dataclass(frozen=True)
class QuantizeResult:
    path: Path
    accuracy: float
    errors: int
    bytes: int
    settings: QuantSettings


class MnistCalibrationReader(CalibrationDataReader):
    """Feeds calibration batches of training images, normalised as the model's metadata says."""

    def __init__(self, images_u8: np.ndarray, spec: ModelSpec, input_name: str, batch: int = CALIBRATION_BATCH):
        self._x = model_input(images_u8, spec)
        self._input_name = input_name
        self._batch = batch
        self._next = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= len(self._x):
            return None
        batch = self._x[self._next : self._next + self._batch]
        self._next += self._batch
        return {self._input_name: batch}

    def rewind(self) -> None:
        self._next = 0


def calibration_sample(
    train_images: np.ndarray, n: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED
) -> np.ndarray:
    """A fixed random sample of the first 50,000 training images (the last 10,000 stay unseen for fidelity checks)."""
    rng = np.random.default_rng(seed)
    return train_images[np.sort(rng.choice(50_000, size=n, replace=False))]


def check_quantizable(model: onnx.ModelProto, where: str) -> None:
    """An fp32 digit model with finite weights: what static quantization can calibrate."""
    check_digit_input(model, where)
    if any(n.op_type in {"QuantizeLinear", "DequantizeLinear", "QLinearConv"} for n in model.graph.node):
        raise DigitkitError(f"{where}: already quantized; give the fp32 model")
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    kind = inputs[0].type.tensor_type.elem_type
    if kind != onnx.TensorProto.FLOAT:
        raise DigitkitError(
            f"{where}: its input is {onnx.TensorProto.DataType.Name(kind).lower()}, not float32; quantize takes an fp32 model"
        )
    for tensor in model.graph.initializer:
        values = onnx.numpy_helper.to_array(tensor)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise DigitkitError(f"{where}: non-finite weights (NaN or infinity) in {tensor.name}: nothing to quantize")


def quantize_bytes(
    fp32_path: str | os.PathLike[str],
    calibration_u8: np.ndarray,
    settings: QuantSettings = DEFAULT,
) -> bytes:
    """quant_pre_process + quantize_static (QDQ, uint8 activations, int8 weights) in a scratch folder."""
    model = load_onnx(fp32_path)
    check_quantizable(model, os.fspath(fp32_path))
    spec = model_spec(model)
    with tempfile.TemporaryDirectory(prefix="digitkit-quantize-") as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "quantized.onnx"
        quant_pre_process(os.fspath(fp32_path), os.fspath(prepared), skip_symbolic_shape=True)
        reader = MnistCalibrationReader(calibration_u8, spec, model.graph.input[0].name)
        with contextlib.redirect_stdout(io.StringIO()):  # the calibrators print progress
            quantize_static(
                os.fspath(prepared),
                os.fspath(quantized),
                reader,
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=settings.per_channel,
                reduce_range=settings.reduce_range,
                calibrate_method=CalibrationMethod[settings.method],
            )
        result = compact(onnx.load(os.fspath(quantized)))
    # carry the fp32 metadata over; say what changed
    spec = model_spec(model)
    extra = {k: v for k, v in spec.extra.items() if k not in {"test_accuracy", "test_errors"}}
    extra.update(
        precision="int8",
        quantization=json.dumps({"format": "QDQ", "activations": "uint8", "weights": "int8", **asdict(settings)}),
        calibration=f"{len(calibration_u8)} MNIST training images (seed {CALIBRATION_SEED}), never the test set",
    )
    onnx.helper.set_model_props(result, replace(spec, extra=extra).to_metadata())
    result.producer_name, result.doc_string = model.producer_name, model.doc_string + " int8 (QDQ)."
    return result.SerializeToString()


def default_output(model_path: str | os.PathLike[str]) -> Path:
    """digitkit-cnn.onnx -> digitkit-cnn.int8.onnx"""
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".onnx") + ".int8.onnx")


def quantize_model(
    model_path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    settings: QuantSettings = DEFAULT,
    calibration_images: int = CALIBRATION_IMAGES,
    data_dir: str | os.PathLike[str] | None = None,
    threads: int = 1,
) -> QuantizeResult:
    """Quantize, measure the int8 test accuracy, write ``out`` atomically (nothing on failure)."""
    load_and_check = load_onnx(model_path)  # clear error for a missing / non-ONNX file before loading MNIST
    check_quantizable(load_and_check, os.fspath(model_path))
    out = Path(out) if out is not None else default_output(model_path)
    mnist = load_mnist(data_dir, log=lambda _m: None)
    data = quantize_bytes(model_path, calibration_sample(mnist.train_images, calibration_images), settings)
    result = onnx.load_from_string(data)
    measured = summary(
        ort_logits(session(data, threads), model_input(mnist.test_images, model_spec(result))),
        mnist.test_labels.astype(np.int64),
    )
    onnx.helper.set_model_props(
        result,
        {
            **{p.key: p.value for p in result.metadata_props},
            "digitkit.test_accuracy": f"{measured['accuracy']:.4f}",
            "digitkit.test_errors": str(measured["errors"]),
        },
    )
    data = result.SerializeToString()
    atomic_write_bytes(out, data)
    return QuantizeResult(out, measured["accuracy"], measured["errors"], len(data), settings)
