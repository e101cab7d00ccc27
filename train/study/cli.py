"""``digitkit compare``: the SVM vs MLP vs CNN study (argparse only at import time)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="train and compare SVM, MLP and CNN on MNIST; writes a report with figures and results.json",
        description="Trains and evaluates an SVM (plain SVC() and a deskew+PCA pipeline), two MLPs (with and "
        "without augmentation) and the CNN on the 60,000/10,000 MNIST split, exports each to ONNX, times them "
        "and writes report.md, figures/ and results.json. Two single-threaded processes: the busier one "
        "needs about 16 min of CPU, so the full run takes about 17 min on an idle 2-core machine (32 min measured "
        "while other jobs shared the CPU).",
    )
    p.add_argument("--out", type=Path, default=None, help="report folder (default: runs/study, or runs/study-quick)")
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="checkpoints and ONNX files, ~100 MB (default: runs/study[-quick]/models)",
    )
    p.add_argument(
        "--quick", action="store_true", help="train on 2,000 images, test on 1,000, few epochs (about a minute)"
    )
    p.add_argument("--train-size", type=int, default=None, help="train on the first N training images")
    p.add_argument("--test-size", type=int, default=None, help="test on the first N test images")
    p.add_argument(
        "--plain-svc-onnx-images",
        type=int,
        default=None,
        help="time the plain SVC's ONNX model on the first N test images only (it is the slowest model)",
    )
    p.add_argument("--threads", type=int, default=1, help="threads per process (default 1; two processes run)")
    p.add_argument("--serial", action="store_true", help="one process: the plain SVC first, then the rest")
    p.add_argument("--report-only", action="store_true", help="redraw figures and report from <out>/results.json")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    from digitkit.runtime.errors import DigitkitError

    out = args.out or Path("runs/study-quick" if args.quick else "runs/study")
    for name in ("train_size", "test_size", "plain_svc_onnx_images"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise DigitkitError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.report_only:
        from digitkit.train.study.report import rewrite_report

        path = rewrite_report(out)
        print(f"report: {path}")
        return 0
    from digitkit.train.study.run import StudyOptions, run_study

    options = StudyOptions(
        out=out,
        work=args.work or Path("runs/study-quick/models" if args.quick else "runs/study/models"),
        quick=args.quick,
        train_size=args.train_size,
        test_size=args.test_size,
        onnx_limit_plain=args.plain_svc_onnx_images,
        threads=args.threads,
        parallel=not args.serial,
        progress=not args.no_progress,
    )
    results = run_study(options)
    for m in results["models"]:
        print(
            f"{m['name']:<28} {100 * m['accuracy']:6.2f} %  {m['errors']:4d} errors  train {m['train_seconds']:7.1f} s"
            f"  test {m['test_ms_per_image']:.3f} ms/image  ONNX {m['onnx']['ms_per_image']:.3f} ms/image"
        )
    print(f"report: {out / 'report.md'}  ({results['wall_seconds_end_to_end'] / 60:.1f} min end to end)")
    return 0
