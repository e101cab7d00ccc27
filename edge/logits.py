"""The shipped models' raw outputs (logits) on the 10,000 MNIST test digits, as *this* machine computes them.

Runs twice in one ``make edge-check``: with the x86 host's venv and with the aarch64 venv inside the
emulated board, on the same ``.npy`` of digits, so that ``edge/compare.py`` can say whether the
board gives the same answers. It feeds the models exactly as ``Recognizer`` does (its metadata's
normalisation) and reads the scores before softmax, where a difference is not squashed away.
It needs only ``digitkit`` (no extra): numpy and onnxruntime.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("cnn-fp32", "cnn-int8", "tiny-fp32", "tiny-int8")  # the shipped models, as name-precision
CHUNK = 1000  # digits per session.run: large enough to be quick, small enough for a board's memory


def model_outputs(digits_u8: np.ndarray, name: str, precision: str) -> tuple[np.ndarray, str, float]:
    """(N, 28, 28) uint8 -> ((N, 10) float32 logits, the model file's SHA-256, seconds taken)."""
    from digitkit.runtime.recognizer import Recognizer

    recognizer = Recognizer(name, precision=precision, threads=1, guard=False)
    digest = hashlib.sha256(recognizer.model_path.read_bytes()).hexdigest()
    start = time.perf_counter()
    out = []
    for i in range(0, len(digits_u8), CHUNK):  # the model's own outputs (logits): softmax would hide differences
        out.append(recognizer.scores(digits_u8[i : i + CHUNK].astype(np.float32) / 255.0))
    return np.concatenate(out).astype(np.float32), digest, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digits", type=Path, help=".npy of (N, 28, 28) uint8 digits")
    parser.add_argument("out", type=Path, help=".npz to write: logits and model SHA-256 per model")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, metavar="NAME-PRECISION")
    args = parser.parse_args(argv)

    import onnxruntime

    digits = np.load(args.digits)
    machine = platform.machine()
    print(f"logits: {machine}, Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, "
          f"numpy {np.__version__}, {sys.executable}")  # fmt: skip
    arrays: dict[str, np.ndarray] = {"machine": np.array(machine)}
    for key in args.models:
        name, precision = key.split("-")
        logits, digest, seconds = model_outputs(digits, name, precision)
        arrays[f"{name}-{precision}"] = logits
        arrays[f"{name}-{precision}.sha256"] = np.array(digest)
        print(f"  {name} {precision}: {len(logits)} digits, model {digest[:12]}, {seconds:.1f} s on {machine}")
    np.savez(args.out, **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
