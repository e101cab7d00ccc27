"""Subcommands of the export stage: ``export``, ``quantize``, ``verify``.

argparse only at import time; torch, onnx and onnxruntime's tools are
imported when a handler runs. ``export`` and ``quantize`` finish by writing
the ORT-format copy, the mobile usability report and the verify report, so a
model file never ships without its evidence: every file of a step is staged
and moved into place together (``staging.py``), or none is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from digitkit.runtime.arguments import folder_path, fraction, int_range, threads

# 13: the lowest with per-channel QuantizeLinear (quantize needs it); 20: the highest that every supported runtime
# loads and the TorchScript exporter writes (export/onnx_export.py)
MIN_OPSET, MAX_OPSET = 13, 20
MNIST_TRAIN_IMAGES = 60_000
# the sibling files a step writes beside NAME.onnx (staged together; stale ones of an older model are removed)
EVIDENCE = (".ort", ".mobile.json", ".verify.json")


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of percentage points, not {text!r}") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100 (got {text})")
    return value


def _temperature(text: str) -> str | float:
    if text in ("auto", "none"):
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto, none or a positive number, not {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text})")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads", type=threads, default=1, help="CPU threads for measuring (default 1, at most the usable cores)"
    )
    parser.add_argument(
        "--data-dir", type=folder_path, default=None, help="where MNIST lives (default: the data cache)"
    )


def _after(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-mobile", action="store_true", help="skip the .ort conversion and mobile usability check")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification at the end")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="checkpoint -> single-file fp32 ONNX with metadata (+ .ort, verify report)")
    p.add_argument("checkpoint", type=Path)
    p.add_argument(
        "--out", type=Path, default=None, help="the .onnx file to write (default: model.onnx beside the checkpoint)"
    )
    p.add_argument(
        "--opset",
        type=int_range(MIN_OPSET, MAX_OPSET),
        default=None,
        help=f"ONNX opset, {MIN_OPSET}-{MAX_OPSET} (default {MAX_OPSET}: the highest every supported runtime loads)",
    )
    p.add_argument(
        "--temperature",
        type=_temperature,
        default="auto",
        help="softmax temperature: auto (fitted on the CVL writers the checkpoint did not train on, "
        "1 for an MNIST-only checkpoint), none (1), or a positive number",
    )
    _after(p)
    _common(p)
    p.set_defaults(handler=_export)

    p = sub.add_parser(
        "quantize", help="fp32 ONNX -> int8 ONNX (onnxruntime static QDQ, calibrated on training images)"
    )
    p.add_argument("model", type=Path)
    p.add_argument("--out", type=Path, default=None, help="the .onnx file to write (default: NAME.int8.onnx beside it)")
    p.add_argument(
        "--choose", action="store_true", help="measure all alternatives, record them beside the output, use the best"
    )
    p.add_argument(
        "--per-channel",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="per-channel weight scales (default: the measured choice)",
    )
    p.add_argument(
        "--reduce-range",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="7-bit weights (default: the measured choice)",
    )
    p.add_argument("--calibration", choices=["MinMax", "Entropy", "Percentile"], default=None)
    p.add_argument(
        "--calibration-images",
        type=int_range(1, MNIST_TRAIN_IMAGES),
        default=None,
        help="training images to calibrate on (default 1000)",
    )
    _after(p)
    _common(p)
    p.set_defaults(handler=_quantize)

    p = sub.add_parser(
        "calibrate", help="fit each model's softmax temperature on CVL writers it never trained on (in its metadata)"
    )
    p.add_argument("models", type=Path, nargs="+", help="ONNX files, rewritten in place with their evidence")
    p.add_argument("--split", choices=("valid", "train"), default="valid", help="the CVL split to fit on")
    p.add_argument("--checkpoint", type=Path, default=None, help="an fp32 model's source, for its verify report")
    _after(p)
    _common(p)
    p.set_defaults(handler=_calibrate)

    p = sub.add_parser("verify", help="check ONNX models on all 10,000 test images; write NAME.verify.json beside each")
    p.add_argument("models", type=Path, nargs="+")
    p.add_argument("--checkpoint", type=Path, default=None, help="source checkpoint, for the fp32-vs-PyTorch check")
    p.add_argument(
        "--reference", type=Path, default=None, help="fp32 model to compare an int8 one with (default: its sibling)"
    )
    p.add_argument(
        "--min-accuracy", type=fraction, default=None, help="fail below this onnxruntime test accuracy (0-1)"
    )
    p.add_argument(
        "--max-int8-drop", type=_points, default=None, help="fail if int8 loses more than this many points (0-100)"
    )
    p.add_argument("--model-card", type=Path, default=None, help="also write this MODEL_CARD.md from the reports")
    _common(p)
    p.set_defaults(handler=_verify)


def _say(message: str) -> None:
    print(message, flush=True)


def _mobile(model: Path, say=_say) -> None:
    from digitkit.export.mobile import mobile_artifacts

    result = mobile_artifacts(model)
    verdicts = [v.removeprefix("Model should perform well with ") for v in result["usability"]["verdicts"]]
    say(f"  {result['ort_file']}: {result['ort_bytes']:,} bytes; mobile check: {'; '.join(verdicts[:2])}")


def _check_output(out: Path) -> None:
    from digitkit.runtime.errors import UsageError

    if out.suffix != ".onnx":
        raise UsageError(f"--out {out}: the output name must end in .onnx")
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give the .onnx file to write")


def _verify_one(model: Path, args: argparse.Namespace, say=_say, **kwargs) -> None:
    from digitkit.export.verify import report_path, verify_model

    report = verify_model(model, data_dir=args.data_dir, threads=args.threads, **kwargs)
    parts = [f"onnxruntime {report['onnxruntime']['accuracy'] * 100:.2f}%"]
    if "pytorch" in report:
        p = report["pytorch"]
        parts.append(
            f"vs PyTorch {p['torch_argmax_agreement'] * 100:.2f}% argmax, max |Δ| {p['torch_max_abs_logit_diff']:.1e}"
        )
    if "opencv" in report:
        parts.append(f"OpenCV agrees {report['opencv']['opencv_argmax_agreement'] * 100:.2f}%")
    if "fp32_reference" in report:
        f = report["fp32_reference"]
        parts.append(f"{f['accuracy_drop_pp']:+.2f} pp vs fp32, {f['size_ratio'] * 100:.1f}% of its bytes")
    say(f"  verified {model.name}: {', '.join(parts)}; report {report_path(model).name}")


def _export(args: argparse.Namespace) -> int:
    from digitkit.export.onnx_export import OPSET, default_output, export_checkpoint
    from digitkit.export.staging import staged_outputs

    out = args.out or default_output(args.checkpoint)
    _check_output(out)
    lines: list[str] = []  # said once every file is in place
    with staged_outputs(out, EVIDENCE) as staged:
        result = export_checkpoint(
            args.checkpoint,
            staged,
            opset=args.opset or OPSET,
            data_dir=args.data_dir,
            threads=args.threads,
            temperature=args.temperature,
        )
        lines.append(
            f"wrote {out}: {result.bytes:,} bytes, {result.parameters:,} parameters, "
            f"test accuracy {result.accuracy * 100:.2f}% through onnxruntime"
            + (f", softmax temperature {result.temperature:.3f}" if result.temperature != 1.0 else "")
        )
        _evidence(staged, args, lines, checkpoint=args.checkpoint)
    for line in lines:
        _say(line)
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from digitkit.export.quantize import CALIBRATION_IMAGES, DEFAULT, QuantSettings, default_output, quantize_model

    settings = QuantSettings(
        per_channel=DEFAULT.per_channel if args.per_channel is None else args.per_channel,
        reduce_range=DEFAULT.reduce_range if args.reduce_range is None else args.reduce_range,
        method=args.calibration or DEFAULT.method,
    )
    from digitkit.export.staging import staged_outputs

    out = args.out or default_output(args.model)
    _check_output(out)
    from digitkit.runtime.files import same_file

    if same_file(out, args.model):
        from digitkit.runtime.errors import UsageError

        raise UsageError(f"--out {out}: is the fp32 model being quantized; write the int8 model to another file")
    stem = out.name.removesuffix(".int8.onnx").removesuffix(".onnx")
    lines: list[str] = []  # said once every file is in place
    with staged_outputs(out, EVIDENCE) as staged:
        if args.choose:
            from digitkit.export.evaluation import load_onnx
            from digitkit.export.quantization_choice import measure_alternatives, write_choice
            from digitkit.export.quantize import check_quantizable

            check_quantizable(load_onnx(args.model), str(args.model))
            result = measure_alternatives(
                args.model, data_dir=args.data_dir, threads=args.threads, log=lambda m: _say(f"  {m}")
            )
            md, _ = write_choice(result, staged.parent, stem)
            settings = QuantSettings(**result["chosen"])
            lines.append(f"  chose {settings.name} ({out.parent / md.name})")
        result = quantize_model(
            args.model,
            staged,
            settings=settings,
            calibration_images=args.calibration_images or CALIBRATION_IMAGES,
            data_dir=args.data_dir,
            threads=args.threads,
        )
        lines.append(
            f"wrote {out}: {result.bytes:,} bytes ({settings.name}), "
            f"test accuracy {result.accuracy * 100:.2f}% through onnxruntime"
        )
        _evidence(staged, args, lines, reference=args.model)
    for line in lines:
        _say(line)
    return 0


def _evidence(staged: Path, args: argparse.Namespace, lines: list[str], **against: Any) -> None:
    """The .ort file and mobile report, and the verify report, beside a staged model (unless turned off)."""
    if not args.no_mobile:
        _mobile(staged, lines.append)
    if not args.no_verify:
        _verify_one(staged, args, lines.append, **against)


def _calibrate(args: argparse.Namespace) -> int:
    from digitkit.export.staging import staged_outputs
    from digitkit.export.temperature import calibrated_model
    from digitkit.runtime.files import atomic_write_bytes

    for model in args.models:
        _check_output(model)
        data, result = calibrated_model(model, args.split, args.threads)
        lines = [
            f"{model}: temperature {result.temperature:.3f} on CVL {args.split} ({result.digits:,} digits, "
            f"{result.writers} writers); expected calibration error {result.ece_before:.2%} -> {result.ece_after:.2%}"
        ]
        with staged_outputs(model, EVIDENCE) as staged:
            atomic_write_bytes(staged, data)
            fp32 = model.with_name(model.name.replace(".int8.onnx", ".onnx"))
            against = {"reference": fp32} if fp32 != model else {"checkpoint": args.checkpoint}
            _evidence(staged, args, lines, **against)
        for line in lines:
            _say(line)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from digitkit.export.verify import VerificationFailed

    failures = []
    for model in args.models:
        try:
            _verify_one(
                model,
                args,
                checkpoint=args.checkpoint,
                reference=args.reference,
                min_accuracy=args.min_accuracy,
                max_int8_drop_pp=args.max_int8_drop,
            )
        except VerificationFailed as exc:
            failures.append(str(exc))
            print(f"  {exc}", file=sys.stderr)
    if args.model_card:
        from digitkit.export.model_card import write_model_card

        _say(f"wrote {write_model_card(args.models[0].parent, args.model_card)}")
    if failures:
        raise VerificationFailed(f"{len(failures)} of {len(args.models)} models failed verification (reports written)")
    return 0
