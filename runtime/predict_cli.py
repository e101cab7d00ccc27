"""Subcommands ``predict`` (one digit per picture) and ``read`` (a number in a picture).

argparse only at import time; numpy, OpenCV and onnxruntime are imported when
a handler runs, so ``digitkit --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from digitkit.runtime.arguments import fraction, int_range, threads

MAX_TOP = 10
BUG_HINT = "(a bug in digitkit; run again with --debug for the traceback)"


def _picture_path(text: str) -> Path:
    """A picture argument: a file name, or - for standard input; never empty (Path('') would be the current folder)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty file name")
    return Path(text)


def shown(path: object) -> str:
    """A file name as it may be printed on one line: control characters (a newline in a name) escaped."""
    text = str(path)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=None, help="an ONNX file, or 'cnn' / 'tiny' for a shipped model (default: cnn)"
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "int8"),
        default=None,
        help="fp32 (default) or int8: the shipped model's variant, or for --model x.onnx its twin x.int8.onnx",
    )
    parser.add_argument(
        "--provider", default="auto", help="auto (CUDA if it works, else CPU), cpu, cuda, or another onnxruntime one"
    )
    parser.add_argument(
        "--threads", type=threads, default=None, help="onnxruntime intra-op threads (at most the usable cores)"
    )
    parser.add_argument(
        "--min-confidence",
        type=fraction,
        default=None,
        help="below this probability answer 'not sure' (default: the calibrated DEFAULT_MIN_CONFIDENCE)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output (one JSON document)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log which execution provider was chosen")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="recognise the digit in each picture")
    p.add_argument(
        "images", nargs="+", type=_picture_path, metavar="IMG", help="picture files (PNG, JPEG, ...); - reads stdin"
    )
    p.add_argument(
        "--top",
        type=int_range(1, MAX_TOP),
        default=1,
        metavar="K",
        help=f"also show the K most likely digits (1-{MAX_TOP})",
    )
    _model_options(p)
    p.set_defaults(handler=_predict)

    p = sub.add_parser("read", help="read the digits written in a picture (a number, rows of digits, a page)")
    p.add_argument(
        "images",
        nargs="+",
        type=_picture_path,
        metavar="IMG",
        help="picture files, each read on its own; - reads stdin",
    )
    p.add_argument(
        "--annotate",
        type=Path,
        default=None,
        metavar="OUT",
        help="also write the picture with boxes, digits and confidences drawn on it (PNG or JPEG; one picture only)",
    )
    p.add_argument(
        "--upright",
        action="store_true",
        help="read the picture as it stands (EXIF applied); default: when the reading is weak, also try it turned",
    )
    p.add_argument(
        "--stages",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write each stage's picture (ink, pieces, candidates, rows, the 28x28s) to DIR, one picture only",
    )
    _model_options(p)
    p.set_defaults(handler=_read)


def _recognizer(args: argparse.Namespace):
    import logging

    from digitkit.runtime.app.models import model_for
    from digitkit.runtime.recognizer import DEFAULT_MIN_CONFIDENCE, Recognizer

    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    threshold = DEFAULT_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence
    precision = args.precision or "fp32"
    # --model x.onnx --precision int8 means x.int8.onnx (as in the app), never a silently ignored option
    model = model_for(args.model, precision)
    return Recognizer(
        model, precision=precision, provider=args.provider, threads=args.threads, min_confidence=threshold
    )


def _one_blas_thread() -> None:
    """Before numpy loads: the picture path does no matrix products worth a thread pool, and starting
    OpenBLAS's threads costs a one-picture command ~50 ms (docs/edge.md); a user's own setting wins."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _each_picture(paths: list[Path], answer, show, command: str, quiet: bool, debug: bool) -> tuple[list[dict], int]:
    """``answer(path) -> dict`` for every picture, each shown by ``show(entry)`` unless ``quiet``; a picture that
    fails is reported and the batch goes on (a failure to write the output stops it).

    Returns the entries (a failed picture's is ``{"file", "error"}``) and the exit code: 0, 1 when a picture
    was bad, 70 when one met a bug. A broken model stops the batch (no picture could be answered).
    """
    from digitkit.runtime.errors import EXIT_FAILURE, EXIT_INTERNAL, DigitkitError
    from digitkit.runtime.recognizer import ModelError

    results, status = [], 0
    for path in paths:
        try:
            entry = answer(path)
        except (ModelError, BrokenPipeError):
            raise
        except DigitkitError as exc:
            message, code = (str(exc) if str(path) in str(exc) else f"{path}: {exc}"), EXIT_FAILURE
        except (MemoryError, RecursionError) as exc:
            message, code = f"{path}: too large to read ({type(exc).__name__})", EXIT_FAILURE
        except Exception as exc:  # a bug: this picture gets no answer, the others still do
            if debug:
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            message, code = f"{path}: {type(exc).__name__}: {first}", EXIT_INTERNAL
        else:
            results.append(entry)
            if not quiet:
                show(entry)
            continue
        status = max(status, code)
        results.append({"file": str(path), "error": message})
        if code == EXIT_INTERNAL:  # said even under --json: a bug report needs it
            print(f"digitkit {command}: internal error: {shown(message)} {BUG_HINT}", file=sys.stderr)
        elif not quiet:
            print(f"digitkit {command}: error: {shown(message)}", file=sys.stderr)
    return results, status


def _predict(args: argparse.Namespace) -> int:
    _one_blas_thread()
    recognizer = _recognizer(args)

    def answer(path: Path) -> dict:
        prediction = recognizer.predict(path)
        top = prediction.top(args.top) if prediction.mnist is not None else []
        return {
            "file": str(path),
            "digit": prediction.digit,
            "confidence": round(prediction.confidence, 6),
            "status": prediction.status,
            "digit_likeness": round(prediction.digit_likeness, 6),
            "digits_seen": 0 if prediction.mnist is None else 1 + prediction.digits_beside,
            "top": [{"digit": d, "probability": round(p, 6)} for d, p in top],
        }

    results, status = _each_picture(
        args.images,
        answer,
        lambda entry: print(_describe(entry, args.top)),
        "predict",
        args.json,
        bool(getattr(args, "debug", False)),
    )
    if args.json:
        document = {"model": recognizer.model_path.name, "provider": recognizer.provider, "results": results}
        print(json.dumps(document, allow_nan=False))
    return status


def _percent(fraction_: float) -> str:
    """A probability as a percentage rounded down: 0.99996 is 99.9 %, never the 100.0 % a threshold of 1 refuses."""
    return f"{math.floor(fraction_ * 1000) / 10:.1f}%"


def _describe(entry: dict, top: int) -> str:
    name = shown(entry["file"])
    if entry["status"] == "no digit":
        return f"{name}: no digit"
    if entry["digits_seen"] > 1:
        text = f"{name}: not sure: the picture holds {entry['digits_seen']} digits (digitkit read reads them all)"
    elif entry["status"] == "ok":
        text = f"{name}: {entry['digit']} ({_percent(entry['confidence'])})"
    elif entry["digit_likeness"] < 0.5:
        text = f"{name}: not a digit (looks like a digit: {_percent(entry['digit_likeness'])})"
    else:
        best = entry["top"][0]["digit"] if entry["top"] else "?"
        text = f"{name}: not sure (best guess {best}, confidence {_percent(entry['confidence'])})"
    if top > 1:
        text += "  top: " + ", ".join(f"{t['digit']} {_percent(t['probability'])}" for t in entry["top"])
    return text


def _read(args: argparse.Namespace) -> int:
    _one_blas_thread()
    from digitkit.runtime.errors import UsageError
    from digitkit.runtime.files import same_file
    from digitkit.runtime.images import load_picture
    from digitkit.runtime.reading import read_number

    if args.annotate is not None:
        if args.annotate.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise UsageError(f"--annotate {shown(args.annotate)}: write a .png or .jpg file")
        if len(args.images) > 1:
            raise UsageError("--annotate takes one picture (it writes one annotated file)")
        if str(args.images[0]) != "-" and same_file(args.annotate, args.images[0]):
            raise UsageError(f"--annotate {shown(args.annotate)}: is the picture being read; write another file")
    if args.stages is not None:
        if len(args.images) > 1:
            raise UsageError("--stages takes one picture (it writes that picture's stages)")
        if args.stages.exists() and not args.stages.is_dir():
            raise UsageError(f"--stages {shown(args.stages)}: is a file; name a folder")
    recognizer = _recognizer(args)

    def answer(path: Path) -> dict:
        picture = load_picture(path)  # once: stdin (-) cannot be read twice for --annotate
        if args.stages is None:
            reading = read_number(picture, recognizer, orient=not args.upright)
        else:
            reading = _read_with_stages(picture, recognizer, not args.upright, args.stages)
        if reading.turned:
            print(
                f"{shown(path)}: read turned {reading.turned}° clockwise (--upright reads it as it stands)",
                file=sys.stderr,
            )
        if args.annotate is not None:
            _write_annotation(picture, reading, args.annotate)
        digits = [
            {"box": list(d.where), "row": d.row, "digit": d.digit, "confidence": round(d.confidence, 6)}
            for d in reading.digits
        ]
        return {"file": str(path), "text": reading.text, "turned": reading.turned, "digits": digits}

    def show(entry: dict) -> None:
        if not entry["digits"]:
            print(f"{shown(entry['file'])}: no digits found")
        else:
            print(f"{shown(entry['file'])}: {entry['text']}" if len(args.images) > 1 else entry["text"])

    results, status = _each_picture(args.images, answer, show, "read", args.json, bool(getattr(args, "debug", False)))
    if args.json:
        document = results[0] if len(results) == 1 else {"results": results}
        print(json.dumps(document, allow_nan=False))
    return status


def _read_with_stages(picture, recognizer, orient: bool, folder: Path):
    """read_number, writing each stage's picture to ``folder`` (numbered PNGs, each written whole)."""
    from digitkit.runtime.errors import DigitkitError
    from digitkit.runtime.files import atomic_write_bytes
    from digitkit.runtime.reading import read_number
    from digitkit.runtime.vision import stages

    with stages.recording() as log:
        reading = read_number(picture, recognizer, orient=orient)
    try:
        written = stages.write_stages(log, folder, atomic_write_bytes)
    except OSError as exc:
        raise DigitkitError(f"{shown(folder)}: cannot write the stages ({exc.strerror or exc})") from None
    print(f"{len(written)} stage pictures in {shown(folder)}", file=sys.stderr)
    return reading


def _write_annotation(image, reading, out: Path) -> None:
    """The annotated picture, written whole or not at all."""
    import cv2

    from digitkit.runtime.annotate import annotate
    from digitkit.runtime.errors import DigitkitError
    from digitkit.runtime.files import atomic_write_bytes

    ok, encoded = cv2.imencode(out.suffix.lower(), annotate(image, reading))
    if not ok:
        raise DigitkitError(f"{out}: could not encode the annotated picture")
    try:
        atomic_write_bytes(out, encoded.tobytes())
    except OSError as exc:
        raise DigitkitError(f"{out}: cannot write the annotated picture ({exc.strerror or exc})") from None
