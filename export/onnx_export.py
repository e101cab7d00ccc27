"""Checkpoint -> one self-contained fp32 ONNX file that says how to feed it.

Why opset 20 and the TorchScript exporter (``dynamo=False``), measured
(runtime/models/MODEL_CARD.md, "Opset"):

* The installed onnxruntime 1.32, OpenCV 5.0 and the ORT mobile checker accept
  every opset up to 28, so they do not bind. Our *floors* do: the runtime
  declares ``onnxruntime>=1.17`` and ``opencv-python>=4.8``. onnxruntime 1.17
  refuses opset 21+ ("official support for domain ai.onnx is till opset 20")
  and IR version 10; so 20 is the highest opset every supported runtime loads.
* The dynamo exporter stamps IR 10 (refused by onnxruntime 1.17) and writes
  global average pooling as ``ReduceMean`` with an ``axes`` input, which
  OpenCV 4.8 loads but computes wrongly (max |Δlogit| 6.5) and the CoreML
  NeuralNetwork EP does not support. The TorchScript exporter at opset 20
  writes IR 9 and ``GlobalAveragePool``/``Flatten``/``Gemm``, which all of them
  run, and it folds BatchNorm into the convolutions in eval mode.

The batch axis is dynamic (exported with a batch of 2 and ``dynamic_axes``);
weights are embedded (no external data); the test accuracy is measured
through onnxruntime on the exported bytes before they are written.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch

from digitkit import __version__
from digitkit.export.evaluation import model_input, ort_logits, session, summary
from digitkit.export.temperature import fit_on_cvl
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes, sha256_file
from digitkit.runtime.model_spec import ModelSpec
from digitkit.train.checkpoint import MNIST_MEAN, MNIST_STD, CheckpointError, model_from_checkpoint
from digitkit.train.cvl import held_out_split
from digitkit.train.mnist import load_mnist
from digitkit.train.model import count_parameters

OPSET = 20
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
BATCH_AXIS = "N"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    accuracy: float
    errors: int
    parameters: int
    bytes: int
    temperature: float = 1.0


def _one_line(message: str) -> str:
    """torch's unpickling errors run to a dozen lines; keep the first, and only the exception type of a cut reason."""
    first = message.splitlines()[0].rstrip()
    if first.count("(") > first.count(")"):
        head, _, reason = first.partition("(")
        first = f"{head}({reason.split(':')[0]})"
    return first


def default_output(checkpoint: str | os.PathLike[str]) -> Path:
    """runs/full/checkpoint.pt -> runs/full/model.onnx"""
    return Path(checkpoint).with_name("model.onnx")


def to_onnx_bytes(model: torch.nn.Module, opset: int = OPSET) -> bytes:
    """Serialise an eval-mode model: BatchNorm folded, batch axis dynamic, weights inline."""
    model.eval()
    example = torch.zeros(2, 1, 28, 28)  # a batch of 1 would let the exporter freeze the axis
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: BATCH_AXIS}, OUTPUT_NAME: {0: BATCH_AXIS}},
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    return buffer.getvalue()


def export_checkpoint(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    opset: int = OPSET,
    data_dir: str | os.PathLike[str] | None = None,
    threads: int = 1,
    temperature: str | float = "auto",
) -> ExportResult:
    """Write ``out`` (default: model.onnx beside the checkpoint); nothing is written if any step fails."""
    try:
        model, state = model_from_checkpoint(checkpoint)
    except CheckpointError as exc:  # missing / corrupt / not ours
        raise CheckpointError(_one_line(str(exc))) from None
    out = Path(out) if out is not None else default_output(checkpoint)
    if out.suffix != ".onnx":
        raise DigitkitError(f"{out}: the output name must end in .onnx")
    torch.set_num_threads(threads)
    proto = onnx.load_from_string(to_onnx_bytes(model, opset))

    norm = state.get("normalization", {"mean": MNIST_MEAN, "std": MNIST_STD})
    mnist = load_mnist(data_dir, log=lambda _m: None)
    spec = ModelSpec(pixel_scale=1.0, mean=float(norm["mean"]), std=float(norm["std"]))
    logits = ort_logits(session(proto.SerializeToString(), threads), model_input(mnist.test_images, spec))
    measured = summary(logits, mnist.test_labels.astype("int64"))

    cfg = state.get("config", {})
    parameters = count_parameters(model)
    t, calibration = choose_temperature(temperature, cfg, proto.SerializeToString(), spec, threads)
    spec = ModelSpec(
        pixel_scale=spec.pixel_scale,
        mean=spec.mean,
        std=spec.std,
        temperature=t,
        extra={
            **calibration,
            "precision": "fp32",
            "test_accuracy": f"{measured['accuracy']:.4f}",
            "test_errors": str(measured["errors"]),
            "test_set": "MNIST test, 10000 images",
            "checkpoint_sha256": sha256_file(checkpoint),
            "architecture": str(cfg.get("arch", "?")),
            "parameters": str(parameters),
            "train_config": json.dumps(cfg, sort_keys=True),
            "epochs_trained": str(state.get("epoch", "?")),
            **(
                {"started_from": json.dumps(state["started_from"], sort_keys=True)} if state.get("started_from") else {}
            ),
            **({"taught_by": json.dumps(state["taught_by"], sort_keys=True)} if state.get("taught_by") else {}),
        },
    )
    onnx.helper.set_model_props(proto, spec.to_metadata())
    proto.producer_name, proto.producer_version = "digitkit", __version__
    proto.doc_string = (
        "Handwritten digit classifier (MNIST). Input float32 [N,1,28,28], white ink on black, "
        f"(pixel/255 - {spec.mean}) / {spec.std}. Output: 10 logits for the digits 0-9. See digitkit.* metadata."
    )
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    atomic_write_bytes(out, data)
    return ExportResult(out, measured["accuracy"], measured["errors"], parameters, len(data), t)


def choose_temperature(
    temperature: str | float, train_config: dict, model_bytes: bytes, spec: ModelSpec, threads: int = 1
) -> tuple[float, dict[str, str]]:
    """The softmax temperature to record, and metadata saying where it came from.

    ``"auto"``: fitted on the CVL split whose writers the checkpoint never trained on, when it trained on
    CVL (held-out real writing; export/temperature.py); 1 for an MNIST-only checkpoint (``digitkit
    calibrate`` fits one afterwards). ``"none"``: 1. A number: that temperature.
    """
    if temperature == "none":
        return 1.0, {}
    if temperature != "auto":
        return float(temperature), {"temperature_fitted_on": "given at export"}
    trained_on = tuple(train_config.get("cvl_splits") or ())
    held_out = held_out_split(trained_on) if trained_on else None
    if held_out is None:
        return 1.0, {}
    result, extra = fit_on_cvl(model_bytes, spec, held_out, threads)
    return result.temperature, extra
