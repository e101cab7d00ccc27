"""Subcommands ``predict`` (one digit per picture) and ``read`` (a number in a picture).

argparse only at import time; numpy, OpenCV and onnxruntime are imported when
a handler runs, so ``digitkit --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from digitkit.runtime.arguments import fraction, positive_int, threads


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
    p.add_argument("images", nargs="+", type=Path, metavar="IMG", help="picture files (PNG, JPEG, ...); - reads stdin")
    p.add_argument("--top", type=positive_int, default=1, metavar="K", help="also show the K most likely digits (1-10)")
    _model_options(p)
    p.set_defaults(handler=_predict)

    p = sub.add_parser("read", help="read the digits written in a picture (a number, rows of digits, a page)")
    p.add_argument("image", type=Path, metavar="IMG", help="a picture file; - reads stdin")
    p.add_argument(
        "--annotate",
        type=Path,
        default=None,
        metavar="OUT",
        help="also write the picture with boxes, digits and confidences drawn on it (PNG or JPEG)",
    )
    p.add_argument(
        "--upright",
        action="store_true",
        help="read the picture as it stands (EXIF applied); default: when the reading is weak, also try it turned",
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


def _predict(args: argparse.Namespace) -> int:
    _one_blas_thread()
    from digitkit.runtime.errors import DigitkitError
    from digitkit.runtime.recognizer import ModelError

    recognizer = _recognizer(args)
    results, failed = [], 0
    for path in args.images:
        try:
            prediction = recognizer.predict(path)
        except ModelError:  # the model, not this picture: no answer for any picture
            raise
        except DigitkitError as exc:
            failed += 1
            results.append({"file": str(path), "error": str(exc)})
            if not args.json:
                message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"  # the file named once
                print(f"digitkit predict: error: {message}", file=sys.stderr)
            continue
        top = prediction.top(args.top) if prediction.mnist is not None else []
        entry = {
            "file": str(path),
            "digit": prediction.digit,
            "confidence": round(prediction.confidence, 6),
            "status": prediction.status,
            "digit_likeness": round(prediction.digit_likeness, 6),
            "top": [{"digit": d, "probability": round(p, 6)} for d, p in top],
        }
        results.append(entry)
        if not args.json:
            print(_describe(entry, args.top))
    if args.json:
        document = {"model": recognizer.model_path.name, "provider": recognizer.provider, "results": results}
        print(json.dumps(document, allow_nan=False))
    return 1 if failed else 0


def _describe(entry: dict, top: int) -> str:
    if entry["status"] == "no digit":
        return f"{entry['file']}: no digit"
    if entry["status"] == "ok":
        text = f"{entry['file']}: {entry['digit']} ({entry['confidence']:.1%})"
    elif entry["digit_likeness"] < 0.5:
        text = f"{entry['file']}: not a digit (looks like a digit: {entry['digit_likeness']:.1%})"
    else:
        best = entry["top"][0]["digit"] if entry["top"] else "?"
        text = f"{entry['file']}: not sure (best guess {best}, confidence {entry['confidence']:.1%})"
    if top > 1:
        text += "  top: " + ", ".join(f"{t['digit']} {t['probability']:.1%}" for t in entry["top"])
    return text


def _read(args: argparse.Namespace) -> int:
    _one_blas_thread()
    from digitkit.runtime.reading import read_number

    if args.annotate is not None and args.annotate.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        from digitkit.runtime.errors import DigitkitError

        raise DigitkitError(f"--annotate {args.annotate}: write a .png or .jpg file")
    from digitkit.runtime.images import load_picture

    recognizer = _recognizer(args)
    picture = load_picture(args.image)  # once: stdin (-) cannot be read twice for --annotate
    reading = read_number(picture, recognizer, orient=not args.upright)
    if reading.turned:
        print(
            f"{args.image}: read turned {reading.turned}° clockwise (--upright reads it as it stands)", file=sys.stderr
        )
    if args.annotate is not None:
        _write_annotation(picture, reading, args.annotate)
    if args.json:
        digits = [
            {
                "box": list(d.box),
                "row": d.row,
                "digit": d.digit,
                "confidence": round(d.confidence, 6),
            }
            for d in reading.digits
        ]
        document = {"file": str(args.image), "text": reading.text, "turned": reading.turned, "digits": digits}
        print(json.dumps(document, allow_nan=False))
    elif not reading.digits:
        print(f"{args.image}: no digits found")
    else:
        print(reading.text)
    return 0


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
