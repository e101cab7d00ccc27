"""The ``digitkit`` command.

It lives with the runtime because the runtime is in every install. Each
stage contributes its subcommands through a light ``cli`` module (argparse
only); the stage's real code, and its heavy dependencies, are imported only
when its subcommand runs. A subcommand whose extra is not installed says
which extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from digitkit import __version__
from digitkit.runtime.errors import DigitkitError, MissingExtraError

# module that registers the subcommands -> the extra its handlers need
STAGES = {
    "digitkit.train.cli": "train",
    "digitkit.train.study.cli": "train",
    "digitkit.export.cli": "train",
    "digitkit.runtime.predict_cli": None,
    "digitkit.runtime.app.cli": None,
    "digitkit.benchmarks.cli": None,
}

# top-level modules that only an extra installs -> that extra
EXTRA_OF_MODULE = {
    "torch": "train", "torchvision": "train", "onnx": "train", "onnxscript": "train", "sklearn": "train",
    "skl2onnx": "train", "matplotlib": "train", "tqdm": "train", "pytest": "dev",
    "cv2": "headless",  # pictures; the desktop app wants the other OpenCV extra, "app" (docs/edge.md)
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitkit", description="Handwritten digit recognition from training to the edge."
    )
    parser.add_argument("--version", action="version", version=f"digitkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # stage not written yet
                continue
            raise
        module.register(sub)
    return parser


def missing_extra(exc: ModuleNotFoundError) -> MissingExtraError | None:
    root = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(root)
    if extra is None:
        return None
    return MissingExtraError(
        f"this command needs {root}, from the '{extra}' extra: pip install 'digitkit[{extra}]' (or: pip install -e '.[{extra}]' in a clone)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        result = args.handler(args)
    except ModuleNotFoundError as exc:
        error = missing_extra(exc)
        if error is None:
            raise
        print(f"digitkit {args.command}: {error}", file=sys.stderr)
        return 3
    except DigitkitError as exc:
        print(f"digitkit {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"digitkit {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
