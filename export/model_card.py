"""MODEL_CARD.md for the shipped models, written from the files' own evidence.

Every figure comes from a report that ``digitkit verify``/``export``/
``quantize`` wrote beside the model (``*.verify.json``, ``*.mobile.json``,
``*.quantization-choice.json``) or from the model's metadata, so the card
cannot drift from the files it describes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from digitkit.export.onnx_export import OPSET
from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_text
from digitkit.train.config import ARCH_ALIASES
from digitkit.train.printed_digits import TRAINING_FONTS

OPSET_NOTE = f"""Opset {OPSET}, IR version 9, written by PyTorch's TorchScript exporter (`dynamo=False`). Measured:
the installed onnxruntime 1.32, OpenCV 5.0 and onnxruntime's mobile checker accept every opset up to
28, so the binding limits are the oldest versions digitkit supports (`onnxruntime>=1.17`,
`opencv-python>=4.8`): onnxruntime 1.17 refuses opset 21+ ("official support for domain ai.onnx is
till opset 20") and IR version 10. The dynamo exporter (opset 18+) stamps IR 10 and writes global
average pooling as `ReduceMean` with an `axes` input, which OpenCV 4.8 loads but computes wrongly
(max |Δlogit| 6.5) and the CoreML NeuralNetwork EP does not support; the TorchScript exporter writes
`GlobalAveragePool`, which all of them run. So opset {OPSET} is the highest opset that every supported
runtime loads and computes correctly."""

REDUCE_RANGE_NOTE = """7-bit weights (`reduce_range`) are preferred whenever they are as faithful to fp32 as the best variant
(the rule is in each `*.quantization-choice.md`): the deployment target is an x86-64 CPU with AVX2 and no
VNNI, where onnxruntime runs uint8×int8 products through `vpmaddubsw`, which sums two products into 16 bits
and saturates above 32,767. With 7-bit weights the worst pair is 2 × 255 × 64 = 32,640, so nothing saturates
and the accuracy measured here holds there; with 8-bit weights it can reach 64,770. onnxruntime's
quantization guide recommends reduce-range for U8S8 on AVX2/AVX-512 machines without VNNI. The machine that
measured these figures is named in each quantization-choice report; if it has VNNI (or AMX) it cannot show
that saturation, which is why the rule does not wait for a measurement to show it."""


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _model_rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for report_file in sorted(folder.glob("*.verify.json")):
        report = _load(report_file)
        stem = report_file.name.removesuffix(".verify.json")
        report["mobile"] = _load(folder / f"{stem}.mobile.json")
        rows.append(report)
    if not rows:
        raise DigitkitError(f"{folder}: no *.verify.json reports; run digitkit verify on the models first")
    return rows


def _recipe(meta: dict[str, str]) -> str:
    cfg = json.loads(meta.get("digitkit.train_config", "{}"))
    if not cfg:
        return "(no training configuration recorded)"
    start = json.loads(meta.get("digitkit.started_from", "null"))
    taught = json.loads(meta.get("digitkit.taught_by", "null"))
    if taught is not None:
        return (
            f"{_run(cfg)} The loss adds a distillation term (weight {cfg.get('distill')}, temperature 2) toward the "
            f"answers of a larger trained model (`{taught.get('file')}`, SHA-256 `{taught.get('sha256')}`) on every "
            "training image."
        )
    if start is None:
        return _run(cfg)
    before = start.get("train_config")
    distill = (
        f" The loss adds a distillation term (weight {cfg['distill']}, temperature 2) toward the starting model's "
        "answers on MNIST's digits, so the model keeps what it read there."
        if cfg.get("distill")
        else ""
    )
    return (
        f"first trained: {_run(before) if before else '(its recipe is not recorded)'} Then fine-tuned from that model "
        f"(`{start.get('file')}`, SHA-256 `{start.get('sha256')}`), BatchNorm frozen: {_run(cfg)}{distill}"
    )


def _run(cfg: dict[str, Any]) -> str:
    """One training run's recipe in a sentence or two."""
    arch = ARCH_ALIASES.get(cfg.get("arch"), cfg.get("arch"))
    return (
        f"`{arch}` widths {tuple(cfg.get('widths', ()))}, head `{cfg.get('head')}`, dropout {cfg.get('dropout')}; "
        f"{cfg.get('epochs')} epochs of AdamW (batch {cfg.get('batch_size')}, one-cycle LR max {cfg.get('max_lr')}, "
        f"weight decay {cfg.get('weight_decay')}, label smoothing {cfg.get('label_smoothing')}) on the {cfg.get('subset') or 60_000:,} MNIST training images "
        f"with random affine augmentation (±{cfg.get('rotate_deg')}°, scale {tuple(cfg.get('scale', ()))}, shift ±{cfg.get('shift_px')} px, "
        f"shear ±{cfg.get('shear_deg')}°{_elastic(cfg)}), seed {cfg.get('seed')}." + _cvl_recipe(cfg)
    )


def _elastic(cfg: dict[str, Any]) -> str:
    pixels = cfg.get("elastic_px") or 0
    return f", elastic distortion up to {pixels} px" if pixels else ""


def _cvl_recipe(cfg: dict[str, Any]) -> str:
    """The real-handwriting part of a recipe, when the run had one (train/cvl.py)."""
    splits = cfg.get("cvl_splits") or []
    if not splits:
        return ""
    names = " + ".join(f"CVL {s}" for s in splits)
    printed = cfg.get("printed_digits") or 0
    fonts = f" and {printed:,} digits printed in the Hershey fonts {', '.join(TRAINING_FONTS)}" if printed else ""
    return (
        f" Added: {names} ({7_000 * len(splits):,} digits by European writers, each repeated {cfg.get('cvl_repeat')}× "
        f"per epoch){fonts}, through the runtime's `to_mnist`. CVL Single Digit set, Computer Vision Lab, TU Wien; research "
        'use; Diem et al., "ICDAR 2013 Competition on Handwritten Digit Recognition (HDRC 2013)", ICDAR 2013.'
    )


def _limits(rows: list[dict[str, Any]]) -> list[str]:
    real = any(json.loads(r["metadata"].get("digitkit.train_config", "{}")).get("cvl_splits") for r in rows)
    if not real:
        return [
            "Trained on MNIST only: one centred digit per image, MNIST-like strokes. Other handwriting styles",
            "(e.g. USPS, Semeion) and real photos depend on the preprocessing; a low softmax confidence means",
            '"not sure", not a different digit.',
        ]
    return [
        "Trained on MNIST (American writers) and CVL (European writers), and on printed digits where the recipe",
        "says so: one centred digit per image. Styles neither set holds are still read as the nearest one they",
        "know (the drawn European 1 with a long flag is read 7 a third of the time). The confidence is calibrated (softmax",
        "temperature fitted on CVL writers the model never saw); below the runtime's threshold the answer is",
        '"not sure", not a different digit.',
    ]


def _calibration_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The softmax temperature of each file (``digitkit.temperature``), where it was fitted, its ECE before and after."""
    calibrated = [r for r in rows if "digitkit.temperature" in r["metadata"]]
    if not calibrated:
        return []
    lines = [
        "",
        "## Confidence calibration",
        "",
        "The runtime divides the logits by the file's `digitkit.temperature` before softmax (temperature scaling,",
        "Guo et al. 2017): the digit read never changes, the confidence says how often it is right. Fitted at",
        "export by maximum likelihood on real writers the checkpoint never trained on (`digitkit export`,",
        "`train/calibration.py`); expected calibration error (15 bins) there, with the plain softmax and with the temperature:",
        "",
    ]
    for r in calibrated:
        meta = r["metadata"]
        before, after = meta.get("digitkit.ece_before"), meta.get("digitkit.ece_after")
        ece = f"; ECE {float(before):.2%} plain, {float(after):.2%} with it" if before and after else ""
        lines.append(
            f"- `{r['model']}`: temperature {float(meta['digitkit.temperature']):.3f}, fitted on "
            f"{meta.get('digitkit.temperature_fitted_on', '?')}{ece}."
        )
    return lines


def _handwriting_lines(folder: Path) -> list[str]:
    """USPS, Semeion and the per-style table, from ``handwriting.json`` (``python -m digitkit.train.handwriting``)."""
    report = _load(folder / "handwriting.json")
    if not report:
        return []
    models = report["models"]
    sets = list(next(iter(models.values()))["sets"])
    lines = [
        "",
        "## Handwriting that is not MNIST",
        "",
        "Each scan enlarged 4× and passed through `to_mnist`, as any picture is (USPS and Semeion, `../shared/data`:",
        "evaluation only, never trained on nor used to choose anything; CVL valid: 60 European writers the models",
        "never trained on, on which the temperature and the threshold were fitted); the style variants drawn with held-out pens",
        f"and seed ({report['per_variant']} of each). Per set: top-1 accuracy, and in brackets what `predict` gives",
        "(the guard and the threshold included): not answered, and the expected calibration error. Measured by",
        "`python -m digitkit.train.handwriting` (`handwriting.json`).",
        "",
        "| model | " + " | ".join(sets) + " | weakest drawn style |",
        "|---|" + "---:|" * len(sets) + "---|",
    ]
    from digitkit.runtime.files import sha256_file

    for name, m in models.items():
        if not (folder / name).is_file() or m.get("sha256") != sha256_file(folder / name):
            lines.append(f"| `{name}` | " + " | ".join("—" for _ in sets) + " | stale: measured on another file |")
            continue
        weakest = min(m["styles"], key=lambda r: r["read_right"])
        cells = [
            f"{m['sets'][s]['accuracy'] * 100:.2f} %"
            + (f" ({m['gate'][s]['not_answered']:.1%} / {m['sets'][s]['ece']:.1%})" if "gate" in m else "")
            for s in sets
        ]
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {weakest['variant']} {weakest['read_right']:.0%} |")
    return lines


def _speed(choice_json: Path) -> str:
    choice = _load(choice_json)
    if not choice:
        return ""
    row = next((r for r in choice["alternatives"] if r["settings"] == choice["chosen"]), None)
    if row is None:
        return ""
    machine = choice.get("machine")
    where = (
        f"{machine['cpu']}, {', '.join(machine['flags']) or 'no int8 flags read'}" if machine else "CPU not recorded"
    )
    return (
        f" Batch-1 latency on the measuring CPU ({where}; 1 thread): {row['latency_batch1_ms']:.3f} ms vs "
        f"{choice['fp32']['latency_batch1_ms']:.3f} ms fp32 ({row['latency_ratio']:.2f}× the fp32 time)."
    )


def _guard_lines(folder: Path) -> list[str]:
    """The digit guard: not a classifier, so it has no verify report; its file and metadata say what it is."""
    import onnx
    from onnx import numpy_helper

    from digitkit.runtime.files import sha256_file

    lines = []
    for path in sorted(folder.glob("*-guard.onnx")):
        proto = onnx.load(str(path))
        meta = {p.key: p.value for p in proto.metadata_props}
        parameters = sum(numpy_helper.to_array(t).size for t in proto.graph.initializer)
        lines.append(
            f"- `{path.name}` ({parameters:,} parameters, {path.stat().st_size:,} bytes, SHA-256 `{sha256_file(path)}`): "
            f"input {meta.get('digitkit.input', '?')}; output {meta.get('digitkit.output', '?')}"
            f"{'; ' + meta['digitkit.members'] if 'digitkit.members' in meta else ''}. "
            f"Trained on {meta.get('digitkit.trained_on', '?')} by `python -m digitkit.train.guard`."
        )
    if not lines:
        return []
    return [
        "",
        "## Digit guard",
        "",
        "A classifier's softmax is sure of things that are not digits (an H is a sure 4), so the runtime asks a",
        "second, small network (or the mean of several) whether the 28×28 input is a digit at all and multiplies",
        "its P(digit) into the confidence (`Recognizer(guard=False)` turns it off). Its rejection figures are in",
        "`benchmarks/results/robustness.md`.",
        "",
        *lines,
    ]


def model_card(folder: str | os.PathLike[str]) -> str:
    folder = Path(folder)
    rows = _model_rows(folder)
    lines = [
        "# digitkit models",
        "",
        "Handwritten digit classifiers (0-9) trained on MNIST, shipped inside the `digitkit` runtime package.",
        '`Recognizer()` loads `digitkit-cnn.onnx` (or `.int8.onnx` with `precision="int8"`); the tiny model',
        "(under 10,000 parameters) is for microcontroller-class devices.",
        "",
        "**Input**: float32 `[N,1,28,28]`, one MNIST-style digit per image (white ink on black, ink fitted in",
        "20×20, centred by mass in 28×28; `digitkit.runtime.vision.to_mnist` makes it from any picture),",
        "pixel/255 then `(x - mean) / std` with mean and std from the metadata. **Output**: 10 logits.",
        "Everything a runtime needs is in each file's `metadata_props` (`digitkit.*`).",
        "",
        "## Files",
        "",
        "| file | precision | parameters | test accuracy (onnxruntime) | errors /10,000 | bytes | .ort bytes | SHA-256 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        meta, mobile = r["metadata"], r.get("mobile") or {}
        lines.append(
            f"| `{r['model']}` | {r['precision']} | {int(meta.get('digitkit.parameters', 0)):,} | "
            f"{r['onnxruntime']['accuracy'] * 100:.2f} % | {r['onnxruntime']['errors']} | {r['bytes']:,} | "
            f"{mobile.get('ort_bytes', 0):,} | `{r['sha256']}` |"
        )
    lines += ["", "## Verification (all 10,000 MNIST test images; `digitkit verify`)", ""]
    for r in rows:
        parts = []
        if "pytorch" in r:
            p = r["pytorch"]
            parts.append(
                f"argmax agreement with PyTorch {p['torch_argmax_agreement'] * 100:.2f} %, max |Δlogit| {p['torch_max_abs_logit_diff']:.1e}"
            )
        if "opencv" in r:
            parts.append(f"OpenCV DNN agrees with onnxruntime on {r['opencv']['opencv_argmax_agreement'] * 100:.2f} %")
        if "fp32_reference" in r:
            f = r["fp32_reference"]
            parts.append(
                f"accuracy drop vs fp32 {f['accuracy_drop_pp']:+.2f} pp, {f['size_ratio'] * 100:.1f} % of the fp32 bytes, "
                f"argmax agreement with fp32 {f['fp32_argmax_agreement'] * 100:.2f} %"
            )
        status = "all checks passed" if r.get("passed") else "SOME CHECKS FAILED"
        lines.append(f"- `{r['model']}`: {'; '.join(parts) or 'onnxruntime only'} ({status}).")
    lines += ["", "## Training recipe", ""]
    seen = set()
    for r in rows:
        meta = r["metadata"]
        key = meta.get("digitkit.checkpoint_sha256")
        if key in seen:
            continue
        seen.add(key)
        family = r["model"].split(".")[0]
        lines.append(f"- `{family}`: {_recipe(meta)} Source checkpoint SHA-256 `{key}`.")
    lines += _calibration_lines(rows)
    lines += ["", "## Quantization", ""]
    for r in rows:
        if r["precision"] != "int8":
            continue
        q = json.loads(r["metadata"].get("digitkit.quantization", "{}"))
        stem = r["model"].removesuffix(".int8.onnx")
        choice = folder / f"{stem}.quantization-choice.md"
        lines.append(
            f"- `{r['model']}`: onnxruntime static quantization, {q.get('format')} format, {q.get('activations')} activations, "
            f"{q.get('weights')} weights, {'per-channel' if q.get('per_channel') else 'per-tensor'}, "
            f"{'7-bit weights (reduce_range)' if q.get('reduce_range') else 'full 8-bit range'}, {q.get('method')} calibration on "
            f"{r['metadata'].get('digitkit.calibration', '?')}; after `quant_pre_process`."
            + (f" Alternatives measured: `{choice.name}`." if choice.is_file() else "")
            + _speed(folder / f"{stem}.quantization-choice.json")
        )
    lines += ["", REDUCE_RANGE_NOTE, "", "## Opset", "", OPSET_NOTE, "", "## Mobile", ""]
    for r in rows:
        mobile = r.get("mobile")
        if mobile:
            verdicts = "; ".join(
                v.removeprefix("Model should perform well with ") for v in mobile["usability"]["verdicts"]
            )
            lines.append(f"- `{r['model']}` → `{mobile['ort_file']}`; usability checker: {verdicts}.")
    lines += [
        "",
        "The batch axis is dynamic; NNAPI and CoreML want fixed shapes "
        "(`python -m onnxruntime.tools.make_dynamic_shape_fixed --input_name input --input_shape 1,1,28,28`).",
        "",
        "## Limits",
        "",
        *_limits(rows),
    ]
    lines += _handwriting_lines(folder)
    lines += _guard_lines(folder)
    lines.append("")
    return "\n".join(lines)


def write_model_card(folder: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    target = Path(out) if out is not None else Path(folder) / "MODEL_CARD.md"
    atomic_write_text(target, model_card(folder))
    return target
