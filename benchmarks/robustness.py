"""Does the runtime hold up on pictures that are not clean MNIST? (``digitkit bench robustness``)

    python -m digitkit.benchmarks.robustness [--subset N] [--non-digits N]

Measures, through the shipped int8 model and ``vision.to_mnist`` (the one picture path every caller uses):
  * accuracy on MNIST test images transformed the way real pictures differ (``train/pictures.py``: inverted,
    off-centre, scaled, thick and thin strokes, uneven light, squared paper, a sheet on a table), next to the
    third-party zoo model fed with a naive resize, as a peer;
  * accuracy on real handwriting that is not MNIST (USPS, Semeion, ../shared);
  * refusal of non-digits (blank, noise, scribbles, lines, circles, letters) at the default ``min_confidence``,
    and the share of MNIST digits kept.
Writes benchmarks/results/robustness.json and robustness.md. Latency and cold start are ``digitkit bench``'s;
the gate's threshold is chosen by ``python -m digitkit.train.threshold``, on other pictures than these.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from digitkit.train.foreign_data import REPO, SHARED, load_mnist_test, load_semeion, load_usps, upscale16
from digitkit.train.pictures import TRANSFORMS, transformed

RESULTS = REPO / "benchmarks" / "results"
ZOO = SHARED / "models" / "third_party" / "mnist-zoo-opset8-batch.onnx"
EVAL_SEED = 2026  # non-digits for evaluation


# --- evaluation -----------------------------------------------------------------------------------
def runtime_predictions(recognizer, pictures, chunk: int = 256) -> list:
    out = []
    for i in range(0, len(pictures), chunk):
        out.extend(recognizer.predict_batch(pictures[i : i + chunk]))
    return out


def accuracy(predictions, labels) -> float:
    return float(np.mean([p.digit == y for p, y in zip(predictions, labels, strict=True)]))


def forced_accuracy(predictions, labels) -> float:
    """Accuracy when every found digit is answered (top class), whatever the confidence."""
    hits = [
        p.mnist is not None and int(np.argmax(p.probabilities)) == y for p, y in zip(predictions, labels, strict=True)
    ]
    return float(np.mean(hits))


def naive_peer(pictures, labels, model: Path = ZOO) -> float:
    """The zoo model fed the way a quick script would: grey, resize to 28×28, scale to [0, 1]."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    hits = 0
    for picture, label in zip(pictures, labels, strict=True):
        grey = picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
        x = cv2.resize(grey, (28, 28), interpolation=cv2.INTER_AREA).astype(np.float32)[None, None] / 255
        hits += int(np.argmax(session.run(None, {name: x})[0])) == label
    return hits / len(labels)


def robustness_table(recognizer, images, labels, zoo_recognizer=None) -> list[dict]:
    rows = []
    for name in TRANSFORMS:
        pictures = transformed(images, name)
        start = time.perf_counter()
        predictions = runtime_predictions(recognizer, pictures)
        seconds = time.perf_counter() - start
        row = {
            "transform": name,
            "n": len(labels),
            "digitkit": forced_accuracy(predictions, labels),
            "no_digit": int(sum(p.mnist is None for p in predictions)),
            "ms_per_picture": 1000 * seconds / len(labels),
            "zoo_naive": naive_peer(pictures, labels) if ZOO.is_file() else None,
        }
        if zoo_recognizer is not None:
            row["zoo_with_to_mnist"] = forced_accuracy(runtime_predictions(zoo_recognizer, pictures), labels)
        rows.append(row)
        print(
            f"  {name:28s} digitkit {row['digitkit']:.2%}  zoo naive {row['zoo_naive'] or 0:.2%}"
            + (f"  zoo+to_mnist {row['zoo_with_to_mnist']:.2%}" if "zoo_with_to_mnist" in row else ""),
            flush=True,
        )
    return rows


def foreign_handwriting(recognizer, zoo_recognizer=None) -> list[dict]:
    rows = []
    for name, loader in (("USPS test", load_usps), ("Semeion", load_semeion)):
        images, labels = loader()
        pictures = upscale16(images)
        predictions = runtime_predictions(recognizer, pictures)
        row = {
            "set": name,
            "n": len(labels),
            "accuracy": forced_accuracy(predictions, labels),
            "kept_at_default": float(np.mean([p.digit is not None for p in predictions])),
            "accuracy_of_kept": float(
                np.mean([p.digit == y for p, y in zip(predictions, labels, strict=True) if p.digit is not None] or [0])
            ),
            "zoo_naive": naive_peer(pictures, labels) if ZOO.is_file() else None,
        }
        if zoo_recognizer is not None:
            row["zoo_with_to_mnist"] = forced_accuracy(runtime_predictions(zoo_recognizer, pictures), labels)
        rows.append(row)
        print(f"  {name:10s} accuracy {row['accuracy']:.2%} (kept at default threshold {row['kept_at_default']:.1%})")
    return rows


def rejection(recognizer, images, labels, per_kind: int, seed: int = EVAL_SEED, fonts=None) -> dict:
    from digitkit.train import nondigits

    sets = nondigits.non_digits(per_kind, seed, fonts=fonts or nondigits.EVALUATION_FONTS)
    kinds = {}
    for kind, pictures in sets.items():
        predictions = runtime_predictions(recognizer, pictures)
        kinds[kind] = float(np.mean([p.digit is not None for p in predictions]))
    digits = runtime_predictions(recognizer, list(images))
    answered = [p.digit is not None for p in digits]
    result = {
        "min_confidence": recognizer.min_confidence,
        "guard": recognizer.guard_path.name if recognizer.guard_path else None,
        "non_digits_per_kind": per_kind,
        "answered_as_digit": kinds,
        "answered_as_digit_overall": float(np.mean(list(kinds.values()))),
        "mnist_kept": float(np.mean(answered)),
        "mnist_accuracy_of_kept": float(
            np.mean([p.digit == y for p, y in zip(digits, labels, strict=True) if p.digit is not None])
        ),
        "mnist_n": len(labels),
    }
    print(
        "  non-digits answered as a digit: "
        + ", ".join(f"{k} {v:.1%}" for k, v in kinds.items())
        + f"; overall {result['answered_as_digit_overall']:.2%}; MNIST kept {result['mnist_kept']:.2%}"
    )
    return result


def _host() -> str:
    """The CPU by name, its cores, the versions and the load when measured: timings compare on one host only."""
    from digitkit.benchmarks.machine import describe_machine, one_line

    return one_line(describe_machine())  # names the load average at the start


# --- report ---------------------------------------------------------------------------------------
def markdown(results: dict) -> str:
    lines = ["# Runtime robustness", ""]
    lines.append(
        f"Model: `{results['model']}` (int8), shared preprocessing `vision.to_mnist`; peer: third-party zoo MNIST model fed a naive resize."
    )
    lines += ["", f"## Transformed MNIST test images (n = {results['robustness'][0]['n']} each)", ""]
    has_zoo_pp = "zoo_with_to_mnist" in results["robustness"][0]
    header = "| transform | digitkit int8 | zoo, naive resize |" + (" zoo + to_mnist |" if has_zoo_pp else "")
    lines += [header, "|---|---:|---:|" + ("---:|" if has_zoo_pp else "")]
    for row in results["robustness"]:
        cells = [
            row["transform"],
            f"{row['digitkit']:.2%}",
            f"{row['zoo_naive']:.2%}" if row["zoo_naive"] is not None else "–",
        ]
        if has_zoo_pp:
            cells.append(f"{row['zoo_with_to_mnist']:.2%}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Real handwriting that is not MNIST (16×16 scans, upscaled ×4)", ""]
    lines += [
        "| set | n | digitkit int8 | kept at default threshold | zoo, naive resize |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in results["foreign"]:
        lines.append(
            f"| {row['set']} | {row['n']} | {row['accuracy']:.2%} | {row['kept_at_default']:.1%} | "
            + (f"{row['zoo_naive']:.2%}" if row["zoo_naive"] is not None else "–")
            + " |"
        )
    rej = results.get("rejection")
    if rej:
        lines += ["", f"## Non-digits (default min_confidence {rej['min_confidence']}, guard: {rej['guard']})", ""]
        lines += ["| kind | answered as a digit |", "|---|---:|"]
        for kind, share in rej["answered_as_digit"].items():
            lines.append(f"| {kind} | {share:.1%} |")
        lines.append(f"| **all non-digits** | **{rej['answered_as_digit_overall']:.2%}** |")
        lines.append(
            f"\nMNIST test digits kept: {rej['mnist_kept']:.2%} (accuracy of those kept {rej['mnist_accuracy_of_kept']:.2%}, n = {rej['mnist_n']})."
        )
    lines += ["", f"Machine: {results['machine']}. Command: `{results['command']}`.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Robustness: transformed MNIST, foreign handwriting, non-digits.")
    parser.add_argument("--subset", type=int, default=None, help="first N MNIST test images only (default: all 10,000)")
    parser.add_argument("--non-digits", type=int, default=500, help="non-digit pictures per kind (default 500)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from digitkit.runtime.files import atomic_write_json, atomic_write_text
    from digitkit.runtime.recognizer import Recognizer

    images, labels = load_mnist_test(args.subset)
    recognizer = Recognizer(precision="int8", threads=1, min_confidence=0.0)
    zoo = Recognizer(ZOO, threads=1, min_confidence=0.0) if ZOO.is_file() else None
    results: dict = {
        "model": recognizer.model_path.name,
        "machine": _host(),
        "command": " ".join(
            ["python -m digitkit.benchmarks.robustness", *(argv if argv is not None else sys.argv[1:])]
        ),
    }
    print("transformed MNIST test images:")
    results["robustness"] = robustness_table(recognizer, images, labels, zoo)
    print("foreign handwriting:")
    results["foreign"] = foreign_handwriting(Recognizer(precision="int8", threads=1), zoo)
    print("non-digits:")
    results["rejection"] = rejection(Recognizer(precision="int8", threads=1), images, labels, args.non_digits)
    atomic_write_json(args.out / "robustness.json", results)
    atomic_write_text(args.out / "robustness.md", markdown(results))
    print(f"wrote {args.out / 'robustness.json'} and robustness.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
