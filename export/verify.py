"""Prove an exported model does what the checkpoint did, on all 10,000 test images.

Checks, each recorded with its figure and threshold in ``<model>.verify.json``:

* ``onnx.checker`` full check (with shape inference), one self-contained file,
  input [N,1,28,28] with a free batch axis that really runs at 1 and 7;
* accuracy through onnxruntime, fed only from the file's metadata;
* fp32: argmax agreement and max |Δlogit| against PyTorch on the source
  checkpoint (whose SHA-256 must match the metadata), and OpenCV's DNN module
  as a second, independent runtime, agreeing with onnxruntime;
* int8: accuracy drop and size ratio against the fp32 model beside it.

A model that is not a digit model (missing, not ONNX, wrong input shape) is a
``DigitkitError`` and leaves no report behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from digitkit.export.evaluation import (
    BATCH,
    check_digit_input,
    load_onnx,
    model_input,
    model_spec,
    ort_logits,
    session,
    summary,
)
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_json, remove_stale_temporaries, sha256_file
from digitkit.train.mnist import load_mnist

TORCH_MIN_AGREEMENT = 1.0
TORCH_MAX_ABS_LOGIT_DIFF = 1e-3
OPENCV_MIN_AGREEMENT = 0.999
# below this on MNIST's test set a file is no working digit model (chance, or a broken or mislabelled one, reads
# about 10 %; a minute of training on 1,000 images already reads over 50 %): never "verified", whatever
# --min-accuracy says
DIGIT_MODEL_FLOOR = 0.5
ACCURACY_RECORD_TOLERANCE = 5e-5  # metadata's test_accuracy is rounded to 4 places


class VerificationFailed(DigitkitError):
    """The model loaded but missed a threshold; the report says which."""


def report_path(model_path: str | os.PathLike[str]) -> Path:
    """digitkit-cnn.int8.onnx -> digitkit-cnn.int8.verify.json"""
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".onnx") + ".verify.json")


def fp32_sibling(model_path: str | os.PathLike[str]) -> Path | None:
    path = Path(model_path)
    if not path.name.endswith(".int8.onnx"):
        return None
    candidate = path.with_name(path.name.removesuffix(".int8.onnx") + ".onnx")
    return candidate if candidate.is_file() else None


def _check(checks: list[dict[str, Any]], name: str, value: Any, threshold: str, ok: bool) -> None:
    checks.append({"check": name, "value": value, "threshold": threshold, "ok": bool(ok)})


def _torch_logits(checkpoint: str | os.PathLike[str], images_u8: np.ndarray, threads: int) -> np.ndarray:
    import torch

    from digitkit.train.checkpoint import model_from_checkpoint
    from digitkit.train.trainer import predict_logits

    torch.set_num_threads(threads)
    model, _ = model_from_checkpoint(checkpoint)
    return predict_logits(model, torch.from_numpy(np.array(images_u8))).numpy()


def _opencv_logits(model_path: str | os.PathLike[str], x: np.ndarray, batch: int = 500) -> np.ndarray:
    import cv2

    cv2.setNumThreads(1)
    net = cv2.dnn.readNetFromONNX(os.fspath(model_path))
    outs = []
    for i in range(0, len(x), batch):
        net.setInput(x[i : i + batch])
        outs.append(np.asarray(net.forward()).reshape(len(x[i : i + batch]), -1))
    return np.concatenate(outs)


def _compare(name: str, logits: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    agree = float((logits.argmax(1) == reference.argmax(1)).mean())
    return {
        f"{name}_argmax_agreement": round(agree, 6),
        f"{name}_max_abs_logit_diff": float(np.abs(logits - reference).max()),
    }


def verify_model(
    model_path: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    reference: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    threads: int = 1,
    min_accuracy: float | None = None,
    max_int8_drop_pp: float | None = None,
    write_report: bool = True,
) -> dict[str, Any]:
    """Run every check, write the report beside the model, raise VerificationFailed if one missed."""
    where = os.fspath(model_path)
    model = load_onnx(model_path)
    check_digit_input(model, where)
    try:
        onnx.checker.check_model(where, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise DigitkitError(f"{where}: fails onnx.checker ({str(exc).splitlines()[0]})") from None
    spec = model_spec(model)
    precision = spec.extra.get("precision", "fp32")
    checks: list[dict[str, Any]] = []
    report: dict[str, Any] = {
        "model": Path(model_path).name,
        "sha256": sha256_file(model_path),
        "bytes": os.path.getsize(model_path),
        "precision": precision,
        "opset": next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None),
        "ir_version": model.ir_version,
        "metadata": {p.key: p.value for p in model.metadata_props},
        "checks": checks,
    }
    _check(checks, "onnx.checker full_check", "passed", "passes", True)
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    _check(checks, "single file (no external data)", len(external) == 0, "true", not external)

    mnist = load_mnist(data_dir, log=lambda _m: None)
    images, labels = mnist.test_images, mnist.test_labels.astype(np.int64)
    x = model_input(images, spec)
    batch_one = _fixed_batch_one(model)  # e.g. the ONNX Model Zoo's MNIST model; the runtime loops over such
    report["batch"] = "fixed at 1" if batch_one else "dynamic"
    try:
        columns = spec.digit_columns()
    except ValueError as exc:
        raise DigitkitError(f"{where}: metadata {exc}") from None
    sess, logits = _run_all(model_path, x, threads, batch_one)
    measured = summary(logits[:, columns], labels)  # the digit each column stands for, as the runtime reads it
    report["onnxruntime"] = measured
    floor = max(DIGIT_MODEL_FLOOR, min_accuracy or 0.0)
    _check(checks, "onnxruntime test accuracy", measured["accuracy"], f">= {floor}", measured["accuracy"] >= floor)
    recorded = spec.extra.get("test_accuracy")
    if recorded is not None:
        diff = abs(float(recorded) - measured["accuracy"])
        _check(checks, "metadata test_accuracy matches", recorded, "within 5e-5", diff <= ACCURACY_RECORD_TOLERANCE)
    if not batch_one:
        small = [sess.run(None, {sess.get_inputs()[0].name: x[:n]})[0] for n in (1, 7)]
        batch_ok = all(
            s.shape == (n, 10) and np.allclose(s, logits[:n], atol=1e-4) for s, n in zip(small, (1, 7), strict=True)
        )
        _check(checks, "dynamic batch (1 and 7)", batch_ok, "same logits as batch 500", batch_ok)

    if precision == "fp32":
        _verify_fp32(model_path, spec, checkpoint, images, x, logits, report, threads)
    else:
        _verify_int8(model_path, reference, images, logits, measured, labels, report, threads, max_int8_drop_pp)

    report["passed"] = all(c["ok"] for c in checks)
    if write_report:
        target = report_path(model_path)
        remove_stale_temporaries(target.parent, target.name)  # left by a verify that was killed while writing
        atomic_write_json(target, report)
    failed = [c for c in checks if not c["ok"]]
    if failed:
        what = "; ".join(f"{c['check']}: {c['value']} (needs {c['threshold']})" for c in failed)
        raise VerificationFailed(f"{where}: verification failed: {what}")
    return report


def _fixed_batch_one(model: onnx.ModelProto) -> bool:
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    first = inputs[0].type.tensor_type.shape.dim[0]
    return first.HasField("dim_value") and first.dim_value == 1


def _run_all(model_path, x: np.ndarray, threads: int, batch_one: bool):
    """The session and its logits for all test images: one clear error if it cannot run or is not a 10-digit model."""
    where = os.fspath(model_path)
    try:
        sess = session(model_path, threads)
        logits = ort_logits(sess, x, batch=1 if batch_one else BATCH)
    except Exception as exc:  # onnxruntime's own error types, with a multi-line message
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DigitkitError(f"{where}: onnxruntime cannot run it ({reason})") from None
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != 10:
        classes = logits.shape[1] if logits.ndim == 2 else f"shape {list(logits.shape[1:])} of"
        raise DigitkitError(f"{where}: gives {classes} scores per image; a digit model gives 10 (one per digit 0-9)")
    if not np.isfinite(logits).all():
        raise DigitkitError(f"{where}: gives non-finite scores (NaN or infinity): its weights are broken")
    return sess, logits


def _verify_fp32(model_path, spec, checkpoint, images, x, logits, report, threads) -> None:
    checks = report["checks"]
    if checkpoint is not None:
        want = spec.extra.get("checkpoint_sha256")
        have = sha256_file(checkpoint) if Path(checkpoint).is_file() else None
        if have is None:
            raise DigitkitError(f"{checkpoint}: no such checkpoint file")
        if want and want != have:
            raise DigitkitError(
                f"{checkpoint} is not this model's source (SHA-256 {have[:12]}…, metadata says {want[:12]}…)"
            )
        torch_cmp = _compare("torch", logits, _torch_logits(checkpoint, images, threads))
        report["pytorch"] = torch_cmp
        agree, diff = torch_cmp["torch_argmax_agreement"], torch_cmp["torch_max_abs_logit_diff"]
        _check(
            checks, "argmax agreement with PyTorch", agree, f">= {TORCH_MIN_AGREEMENT}", agree >= TORCH_MIN_AGREEMENT
        )
        _check(
            checks, "max |Δlogit| vs PyTorch", diff, f"< {TORCH_MAX_ABS_LOGIT_DIFF}", diff < TORCH_MAX_ABS_LOGIT_DIFF
        )
    try:
        cv = _opencv_logits(model_path, x, batch=1 if report.get("batch") == "fixed at 1" else BATCH)
    except Exception as exc:  # cv2.error carries a multi-line C++ trace
        _check(checks, "OpenCV DNN loads the model", str(exc).strip().splitlines()[-1], "loads", False)
        return
    opencv_cmp = _compare("opencv", cv, logits)
    report["opencv"] = opencv_cmp
    agree = opencv_cmp["opencv_argmax_agreement"]
    _check(
        checks,
        "OpenCV DNN argmax agreement with onnxruntime",
        agree,
        f">= {OPENCV_MIN_AGREEMENT}",
        agree >= OPENCV_MIN_AGREEMENT,
    )


def _verify_int8(model_path, reference, images, logits, measured, labels, report, threads, max_drop_pp) -> None:
    reference = reference or fp32_sibling(model_path)
    if reference is None:
        return
    ref_model = load_onnx(reference)
    ref_logits = ort_logits(session(reference, threads), model_input(images, model_spec(ref_model)))
    ref = summary(ref_logits, labels)
    drop_pp = round((ref["accuracy"] - measured["accuracy"]) * 100, 4)
    size_ratio = round(os.path.getsize(model_path) / os.path.getsize(reference), 4)
    report["fp32_reference"] = {
        "model": Path(reference).name,
        "accuracy": ref["accuracy"],
        "accuracy_drop_pp": drop_pp,
        "size_ratio": size_ratio,
        **_compare("fp32", logits, ref_logits),
    }
    if max_drop_pp is not None:
        _check(
            report["checks"], "int8 accuracy drop vs fp32 (pp)", drop_pp, f"<= {max_drop_pp}", drop_pp <= max_drop_pp
        )
