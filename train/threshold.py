"""The "not sure" gate's threshold (``runtime.recognizer.DEFAULT_MIN_CONFIDENCE``), chosen on real digits no model
trained on and on non-digits drawn for calibration; never on an evaluation set.

    python -m digitkit.train.threshold [--keep 0.99] [--out benchmarks/results]

The digits: MNIST train[50000:] (which the guard never saw) and CVL valid (60 European writers neither the
classifier nor the guard trained on; ``cvl.py``), each through the runtime as ``predict`` sees them. The
non-digits: drawn with another seed than the evaluation's and in four of the eight fonts
(``nondigits.CALIBRATION_FONTS``). Prints the trade-off and writes ``calibration.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from digitkit.train.foreign_data import REPO

CALIBRATION_SEED = 7  # non-digits for calibration (other pictures than the evaluation's seed)


def _predictions(recognizer, pictures: list, chunk: int = 256) -> list:
    out = []
    for i in range(0, len(pictures), chunk):
        out.extend(recognizer.predict_batch(pictures[i : i + chunk]))
    return out


def calibrate(model=None, precision: str = "int8", keep: float = 0.99, per_kind: int = 300) -> dict:
    """Choose the threshold that keeps ``keep`` of each set of real digits the models never trained on; show the
    trade-off against non-digits drawn for calibration.

    The digits: MNIST train[50000:] (which the guard never saw) and CVL valid (60 European writers whom neither
    the classifier nor the guard trained on; train/cvl.py), each through the runtime as ``predict`` sees them.
    """
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train import nondigits
    from digitkit.train.cvl import load_cvl
    from digitkit.train.mnist import load_mnist

    recognizer = Recognizer(model, precision=precision, threads=1, min_confidence=0.0)
    m = load_mnist(log=lambda _m: None)
    cvl = load_cvl("valid")
    real = {
        "MNIST train[50000:]": list(np.array(m.train_images[50_000:])),
        "CVL valid": list(cvl.images.astype(np.float32) / 255.0),
    }
    digit_conf = {
        "MNIST train[50000:]": np.array([p.confidence for p in _predictions(recognizer, real["MNIST train[50000:]"])]),
        "CVL valid": np.array([p.confidence for p in recognizer.predict_mnist(real["CVL valid"], on_page=False)]),
    }
    sets = nondigits.non_digits(per_kind, CALIBRATION_SEED, fonts=nondigits.CALIBRATION_FONTS)
    other = {kind: np.array([p.confidence for p in _predictions(recognizer, v)]) for kind, v in sets.items()}
    threshold = float(min(np.quantile(c, 1 - keep) for c in digit_conf.values()))
    curve = []
    for t in sorted({0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(threshold, 4)}):
        row = {
            "threshold": t,
            "digits_kept": {name: float(np.mean(c >= t)) for name, c in digit_conf.items()},
            "non_digits_answered": float(np.mean([np.mean(c >= t) for c in other.values()])),
            "by_kind": {kind: float(np.mean(c >= t)) for kind, c in other.items()},
        }
        curve.append(row)
        print(
            f"  t={t:.4f}: kept "
            + ", ".join(f"{k} {v:.2%}" for k, v in row["digits_kept"].items())
            + f"; non-digits answered {row['non_digits_answered']:.2%} ("
            + ", ".join(f"{k} {v:.1%}" for k, v in row["by_kind"].items())
            + ")"
        )
    print(f"threshold keeping {keep:.1%} of each set of real digits: {threshold:.4f}")
    return {"threshold": threshold, "keep": keep, "model": recognizer.model_path.name, "curve": curve}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose the 'not sure' threshold and show the trade-off.")
    parser.add_argument("--keep", type=float, default=0.99, help="share of each set of real digits kept (0.99)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="folder for calibration.json")
    args = parser.parse_args(argv)
    from digitkit.runtime.files import atomic_write_json

    atomic_write_json(args.out / "calibration.json", calibrate(keep=args.keep))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
