"""The ``digitkit app`` subcommand (argparse only; OpenCV is imported when it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from digitkit.runtime.arguments import float_range, fraction, positive_int, threads


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 760x480, not {text!r}") from None
    if not (56 <= width <= 4000 and 56 <= height <= 4000):
        raise argparse.ArgumentTypeError(f"canvas size {text} out of range (56..4000 pixels a side)")
    return width, height


_seconds = float_range(0.0, 86400.0, "seconds")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app",
        help="interactive window: draw digits, or read them from a camera, video or image",
        description="Recognise handwritten digits live. Draw mode (default) reads what you draw with the mouse; "
        "a camera index, video file or image file finds and reads the digits on paper in each frame.",
    )
    p.add_argument(
        "--source", default="draw", help="draw (default), a camera index such as 0, a video file, or an image file"
    )
    p.add_argument("--headless", action="store_true", help="no window; draw mode then reads strokes from stdin")
    p.add_argument(
        "--log", default=None, metavar="FILE", help="append one JSON line per prediction event ('-' for stdout)"
    )
    p.add_argument("--model", default=None, help="ONNX model (default: the shipped digitkit model)")
    p.add_argument("--precision", choices=("fp32", "int8"), default="fp32", help="model to start with ([m] switches)")
    p.add_argument("--min-confidence", type=fraction, default=None, help="below this a digit is 'not sure' / rejected")
    p.add_argument("--threads", type=threads, default=1, help="inference threads (default 1, at most the usable cores)")
    p.add_argument("--provider", default="auto", help="onnxruntime execution provider (default auto)")
    p.add_argument("--save-dir", type=Path, default=Path("drawings"), help="where [s] saves drawings (draw mode)")
    p.add_argument("--canvas-size", type=_size, default=(760, 480), metavar="WxH", help="draw-mode canvas (760x480)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="stop after this many frames (camera/video)")
    p.add_argument(
        "--retry-for",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="how long to retry a lost camera before giving up (default: 10 s headless, forever with a window)",
    )
    p.set_defaults(handler=_app)


def _app(args: argparse.Namespace) -> int:
    from digitkit.runtime.files import same_file

    if args.log not in (None, "-") and same_file(args.log, args.source):
        from digitkit.runtime.errors import UsageError

        raise UsageError(f"--log {args.log}: is the --source being read; log to another file")
    from .main import run

    return run(args)
