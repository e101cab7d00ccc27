"""The ``bench`` subcommand. argparse only at import time; the benchmark is imported when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = Path("benchmarks") / "results"
QUICK_OUT = Path("runs") / "bench-quick"
DEFAULT_CHECKPOINT = Path("runs") / "full" / "checkpoint.pt"
DEFAULT_TINY_CHECKPOINT = Path("runs") / "tiny" / "checkpoint.pt"
MAX_BATCH = 10_000


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _threads(text: str) -> tuple[int, ...]:
    """Thread counts, each capped at the usable cores (more only measures contention), with a note when capped."""
    import sys

    from digitkit.runtime.cores import usable_cores

    cores = usable_cores()
    asked = _int_list(",".join(str(cores) if v.strip() == "all" else v for v in text.split(",")))
    capped = tuple(dict.fromkeys(min(v, cores) for v in asked))
    if max(asked) > cores:
        print(f"digitkit: --threads {text} capped at the {cores} usable CPU cores", file=sys.stderr)
    return capped


def _batch_sizes(text: str) -> tuple[int, ...]:
    values = _int_list(text)
    if max(values) > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"batch sizes go up to {MAX_BATCH} (the MNIST test set), got {max(values)}")
    return values


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure the shipped models on every backend here (latency, throughput, cold start, sizes)",
        description="Measure the models on onnxruntime (CPU fp32/int8, CUDA, TensorRT), OpenVINO, OpenCV DNN and "
        "PyTorch eager/compile; write results.json, table.md and PNG plots. Backends that cannot run here are "
        "listed as skipped, with the reason.",
    )
    p.add_argument(
        "--quick", action="store_true", help="seconds instead of minutes: batches 1 and 64, one thread, one round"
    )
    p.add_argument(
        "--out", type=Path, default=None, help=f"results folder (default: {DEFAULT_OUT}, or {QUICK_OUT} with --quick)"
    )
    p.add_argument(
        "--model", type=Path, default=None, help="an fp32 ONNX file (its .int8.onnx / .ort siblings are used too)"
    )
    p.add_argument(
        "--models-dir", type=Path, default=None, help="folder with digitkit-cnn*.onnx (default: the shipped models)"
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help=f"the PyTorch checkpoint of the model, for the eager baseline (default: {DEFAULT_CHECKPOINT} if it holds "
        "the same weights, else the network is rebuilt in torch from the ONNX file's weights)",
    )
    p.add_argument(
        "--tiny-checkpoint",
        type=Path,
        default=DEFAULT_TINY_CHECKPOINT,
        help="the same for the tiny model (used only if it holds the tiny ONNX file's weights; default: %(default)s)",
    )
    p.add_argument("--backends", default=None, help="comma-separated backend names (default: all)")
    p.add_argument(
        "--batch-sizes", type=_batch_sizes, default=None, help="comma-separated (default 1,8,64,256; --quick 1,64)"
    )
    p.add_argument(
        "--threads",
        type=_threads,
        default=None,
        help="comma-separated thread counts, 'all' = every usable core (default 1,all)",
    )
    p.add_argument("--no-cold-start", action="store_true", help="skip the fresh-process measurements")
    p.add_argument("--no-pipeline", action="store_true", help="skip the picture -> digit path")
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    p.add_argument(
        "--browser",
        action="store_true",
        help="also time the web page's models in headless Chromium (WebAssembly; needs make web-deps, make web)",
    )
    p.set_defaults(handler=_bench)
    parts = p.add_subparsers(dest="part", metavar="PART", title="the other benchmarks (default: the backends table)")
    for name, (_, help_text) in PARTS.items():
        # every option after PART is the module's own (its --help too): no prefix characters, all positional
        part = parts.add_parser(name, help=help_text, add_help=False, prefix_chars="\0")
        part.add_argument("options", nargs="*", help=argparse.SUPPRESS)
        part.set_defaults(handler=_part)


# `digitkit bench PART [options]`: one module each, also runnable as `python -m digitkit.benchmarks.MODULE`
PARTS = {
    "robustness": ("robustness", "transformed MNIST, USPS and Semeion, non-digits (the acceptance figures)"),
    "photos": ("photos", "the development photos in ../shared/data/photos (pages, single digits, screen drawings)"),
    "pictures": ("vision_speed", "picture -> digits speed on one thread: a drawing, a camera frame, a page"),
    "browser": ("browser", "the web page in headless Chromium: parity with Python, latency, page weight"),
    "device": ("device_profile", "cold start, peak memory and installed size of fresh installs (make device-profile)"),
}


def _part(args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(f"digitkit.benchmarks.{PARTS[args.part][0]}")
    return int(module.main(args.options) or 0)


def _bench(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from digitkit.benchmarks.models import find_models
    from digitkit.benchmarks.run import BenchConfig, quick_config, run_benchmark

    config = quick_config() if args.quick else BenchConfig()
    overrides = {
        "batch_sizes": args.batch_sizes,
        "threads": args.threads,
        "backends": tuple(n.strip() for n in args.backends.split(",") if n.strip()) if args.backends else None,
    }
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    config = replace(
        config,
        cold_start=not args.no_cold_start,
        pipeline=not args.no_pipeline,
        plots=not args.no_plots,
        browser=args.browser,
    )
    models = find_models(args.model, args.models_dir)
    out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    checkpoints = [args.checkpoint] if args.checkpoint else [DEFAULT_CHECKPOINT]
    results = run_benchmark(
        config,
        models,
        out,
        checkpoints=checkpoints,
        checkpoint_explicit=args.checkpoint is not None,
        tiny_checkpoints=[args.tiny_checkpoint],
    )
    print((out / "table.md").read_text(encoding="utf-8"))
    plots = results.get("plots") or {}
    written = ", ".join(str(out / name) for key, name in plots.items() if key != "skipped")
    print(f"results: {out / 'results.json'}, {out / 'table.md'}" + (f"; plots: {written}" if written else ""))
    if "skipped" in plots:
        print(f"no plots: {plots['skipped']}")
    return 0
