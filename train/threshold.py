"""The "not sure" gate's threshold (``runtime.recognizer.DEFAULT_MIN_CONFIDENCE``), chosen on real digits no model
trained on and on non-digits drawn for calibration; never on an evaluation set.

    python -m digitkit.train.threshold [--keep 0.99] [--max-non-digits 0.01] [--out benchmarks/results]

The digits: MNIST train[50000:] (which the guard never saw) and CVL valid (60 European writers neither the
classifier nor the guard trained on; ``cvl.py``), each through the runtime as ``predict`` sees them. The
non-digits: drawn with another seed than the evaluation's and in four of the eight fonts
(``nondigits.CALIBRATION_FONTS``). Prints the trade-off and writes ``calibration.json``.

The rule (``choose_threshold``) weighs both: the lowest threshold at which at most ``max_non_digits`` of the
calibration non-digits are answered (mean over their kinds), so that as many real digits as that allows are
answered; never above the threshold that still keeps ``keep`` of each set of digits, which wins when the two
disagree. The budget, 1 %, is half of the 2 % the non-digit benchmark may answer: room for the fonts and
pictures the calibration set does not draw.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from digitkit.train.foreign_data import REPO

CALIBRATION_SEED = 7  # non-digits for calibration (other pictures than the evaluation's seed)


def _predictions(recognizer, pictures: list, chunk: int = 256) -> list:
    out = []
    for i in range(0, len(pictures), chunk):
        out.extend(recognizer.predict_batch(pictures[i : i + chunk]))
    return out


def non_digits_answered(non_digit_conf: dict[str, np.ndarray], threshold: float) -> float:
    """The share of non-digits answered at ``threshold``: the mean over kinds of each kind's share."""
    return float(np.mean([np.mean(c >= threshold) for c in non_digit_conf.values()]))


def choose_threshold(
    digit_conf: dict[str, np.ndarray], non_digit_conf: dict[str, np.ndarray], keep: float, max_non_digits: float
) -> tuple[float, bool]:
    """(threshold, whether the non-digit budget set it): the lowest threshold answering at most ``max_non_digits`` of
    the non-digits, unless that is above the highest one keeping ``keep`` of each set of digits (then that one)."""
    keeping = float(min(np.quantile(c, 1 - keep) for c in digit_conf.values()))
    # answered means confidence >= threshold, so just above a non-digit's confidence refuses it
    candidates = np.concatenate([[0.0], np.nextafter(np.unique(np.concatenate(list(non_digit_conf.values()))), 2.0)])
    within = [float(t) for t in candidates if non_digits_answered(non_digit_conf, t) <= max_non_digits]
    lowest = min(within) if within else float("inf")
    return (lowest, True) if lowest <= keeping else (keeping, False)


def calibrate(
    model=None, precision: str = "int8", keep: float = 0.99, max_non_digits: float = 0.01, per_kind: int = 300
) -> dict:
    """Choose the threshold by ``choose_threshold`` on real digits the models never trained on and on non-digits
    drawn for calibration; show the trade-off.

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
    threshold, by_budget = choose_threshold(digit_conf, other, keep, max_non_digits)
    rule = (
        f"non-digits answered at most {max_non_digits:.1%}"
        if by_budget
        else f"{keep:.1%} of each set of digits kept (non-digits over {max_non_digits:.1%})"
    )
    # to two places for the runtime's constant: up when the non-digit budget set it (so that it holds), down when the
    # share of digits kept did
    places = round(threshold * 100, 6)
    shipped = (math.ceil(places) if by_budget else math.floor(places)) / 100
    curve = []
    for t in sorted({0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(threshold, 4), shipped}):
        row = {
            "threshold": t,
            "digits_kept": {name: float(np.mean(c >= t)) for name, c in digit_conf.items()},
            "non_digits_answered": non_digits_answered(other, t),
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
    print(f"threshold by the rule ({rule}): {threshold:.4f}; recognizer.DEFAULT_MIN_CONFIDENCE = {shipped:.2f}")
    return {
        "threshold": threshold,
        "rule": rule,
        "keep": keep,
        "max_non_digits": max_non_digits,
        "model": recognizer.model_path.name,
        "curve": curve,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose the 'not sure' threshold and show the trade-off.")
    parser.add_argument("--keep", type=float, default=0.99, help="share of each set of real digits kept (0.99)")
    parser.add_argument(
        "--max-non-digits", type=float, default=0.01, help="share of calibration non-digits answered at most (0.01)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="folder for calibration.json")
    args = parser.parse_args(argv)
    from digitkit.runtime.files import atomic_write_json

    atomic_write_json(args.out / "calibration.json", calibrate(keep=args.keep, max_non_digits=args.max_non_digits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
