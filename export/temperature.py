"""Fit a model file's softmax temperature on real writers it never trained on, and record it in its metadata.

    digitkit calibrate runtime/models/digitkit-cnn.onnx runtime/models/digitkit-cnn.int8.onnx

Each file gets its own temperature, fitted by maximum likelihood on its own logits for a CVL split
(``train/cvl.py``; default ``valid``, 60 writers) that its training configuration does not list: the
digit it reads never changes, its confidence then says how often it is right (train/calibration.py).
``digitkit export --temperature auto`` does the same from a checkpoint that trained on CVL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import onnx

from digitkit.export.evaluation import load_onnx, model_input, model_spec, ort_logits, session
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.model_spec import PREFIX
from digitkit.train.calibration import expected_calibration_error, fit_temperature, softmax
from digitkit.train.cvl import load_cvl


@dataclass(frozen=True)
class Calibrated:
    temperature: float
    ece_before: float
    ece_after: float
    digits: int
    writers: int


def fit_on_cvl(model_bytes: bytes, spec, split: str, threads: int = 1) -> tuple[Calibrated, dict[str, str]]:
    """The temperature of a model (its serialised bytes and ``ModelSpec``) on a CVL split, and the metadata to
    record it."""
    if spec.output != "logits":
        raise DigitkitError("its outputs are probabilities: a temperature scales logits")
    cvl = load_cvl(split)
    logits = ort_logits(session(model_bytes, threads), model_input(cvl.images, spec))[:, spec.digit_columns()]
    t = fit_temperature(logits, cvl.labels)
    result = Calibrated(
        temperature=round(t, 4),
        ece_before=expected_calibration_error(softmax(logits), cvl.labels),
        ece_after=expected_calibration_error(softmax(logits, t), cvl.labels),
        digits=len(cvl.labels),
        writers=len(set(cvl.writers.tolist())),
    )
    return result, {
        "temperature": repr(result.temperature),
        "temperature_fitted_on": f"CVL {split}, {result.digits} digits by {result.writers} writers not trained on",
        "ece_before": f"{result.ece_before:.4f}",
        "ece_after": f"{result.ece_after:.4f}",
    }


def calibrated_model(path: str | os.PathLike[str], split: str = "valid", threads: int = 1) -> tuple[bytes, Calibrated]:
    """The model file's bytes with its fitted temperature in the metadata (nothing is written here)."""
    where = os.fspath(path)
    model = load_onnx(path)
    spec = model_spec(model)
    props = {p.key: p.value for p in model.metadata_props}
    trained_on = json.loads(props.get(PREFIX + "train_config", "{}")).get("cvl_splits") or []
    if split in trained_on:
        raise DigitkitError(f"{where}: trained on CVL {split}; fit its temperature on writers it never saw")
    try:
        result, extra = fit_on_cvl(model.SerializeToString(), spec, split, threads)
    except DigitkitError as exc:
        raise DigitkitError(f"{where}: {exc}") from None
    props.update({PREFIX + k: v for k, v in extra.items()})
    onnx.helper.set_model_props(model, props)
    if not np.isfinite(result.temperature):
        raise DigitkitError(f"{where}: no finite temperature fits it")
    return model.SerializeToString(), result
