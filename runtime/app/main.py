"""Wire the command line to the sessions: pick the source, the models, window or headless."""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import cast

from digitkit.runtime.errors import EXIT_FAILURE, DigitkitError

from . import sources
from .canvas import Canvas
from .draw import DrawSession, run_script
from .events import EventLog
from .models import ModelSwitch, recognizer_factory
from .stream import StreamSession


def run(args: argparse.Namespace) -> int:
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise DigitkitError(f"--min-confidence must be between 0 and 1, not {args.min_confidence}")
    if args.max_frames is not None and args.max_frames < 1:
        raise DigitkitError("--max-frames must be at least 1")
    spec = sources.parse(args.source)
    retry_for = args.retry_for if args.retry_for is not None else (10.0 if args.headless else None)
    # open the source before loading models: a bad source fails fast
    source = None if spec.kind == "draw" else sources.open(spec, give_up_after=retry_for)
    factory = recognizer_factory(
        args.model, threads=args.threads, provider=args.provider, min_confidence=args.min_confidence
    )
    models = ModelSwitch(factory, args.precision)
    log_target = args.log if args.log is not None else ("-" if args.headless else None)
    with EventLog(log_target) as log:
        if source is None:
            return _draw(args, models, log)
        return _stream(args, spec, source, models, log)


def _draw(args: argparse.Namespace, models: ModelSwitch, log: EventLog) -> int:
    """Draw mode: the mouse in a window, or strokes from stdin with --headless."""
    width, height = args.canvas_size
    session = DrawSession(models, canvas=Canvas(width, height), log=log, save_dir=args.save_dir)
    if args.headless:
        if sys.stdin.isatty():
            print('reading strokes from stdin: one [[x, y], ...] or {"key": "c"} per line', file=sys.stderr)
        run_script(session, sys.stdin)
    else:
        from .window import run_draw

        run_draw(session)
    if session.save_errors:  # already on screen and in the log; the exit code says it too
        count = len(session.save_errors)
        print(
            f"digitkit app: error: {count} drawing{'s' if count > 1 else ''} not saved ({session.save_errors[0]})",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def _stream(args: argparse.Namespace, spec: sources.SourceSpec, source, models: ModelSwitch, log: EventLog) -> int:
    """A camera, a video or a still image: every frame read, in a window or with --headless."""
    source_fps = float(getattr(source, "fps", 0.0) or 0.0) if spec.kind == "video" else 0.0
    frames = source if args.max_frames is None else itertools.islice(source, args.max_frames)
    session = StreamSession(
        models,
        source=spec.name,
        label=sources.describe(spec),
        log=log,
        min_confidence=args.min_confidence,
        show_fps=spec.kind != "image",
    )
    if args.headless:
        for item in frames:
            session.step(item)
            if item.message:
                print(f"digitkit app: {item.message}", file=sys.stderr)
    else:
        from .window import run_stream

        run_stream(session, frames, fps_limit=source_fps)
    missing = getattr(source, "missing", 0)
    if missing:  # a video cut midway: what was read is logged, but the run is not complete; one line says both
        print(
            f"digitkit app: error: {spec.name}: {session.totals.summary()}, then {missing} of its "
            f"{cast(sources.VideoFrames, source).frame_count} frames could not be read (the file is cut or damaged)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    print(f"digitkit app: {spec.name}: {session.totals.summary()}", file=sys.stderr)
    return 0
