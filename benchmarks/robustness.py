"""Does the runtime hold up on pictures that are not clean MNIST?

    python -m digitkit.benchmarks.robustness [--subset N] [--skip-timing]
    python -m digitkit.benchmarks.robustness --calibrate     # choose DEFAULT_MIN_CONFIDENCE

Measures, through the shipped int8 model and ``vision.to_mnist`` (the one
picture path every caller uses):
  * accuracy on MNIST test images transformed the way real pictures differ
    (inverted, off-centre in a larger canvas, scaled ×0.5 and ×3, thick and
    thin strokes, dark ink on grey paper with uneven light), next to the
    third-party zoo model fed with a naive resize, as a peer;
  * accuracy on real handwriting that is not MNIST (USPS, Semeion, ../shared);
  * refusal of non-digits (blank, noise, scribbles, lines, circles, letters)
    at the default ``min_confidence``, and the share of MNIST digits kept;
  * picture -> digit latency for a 280×280 drawing on one thread, and the
    model's batch-1 latency next to PyTorch eager on the same CNN;
  * cold start (fresh process: import, load, first prediction) and peak RSS,
    next to the same through PyTorch.
Writes benchmarks/results/robustness.json and robustness.md.

The pictures it scores come from ``train/pictures.py`` and ``train/foreign_data.py``; what is left here
(evaluation, calibration, latency, the report) is one report's runner, about 400 lines on purpose: each part
is short and only this report uses it; cold start is measured by ``benchmarks/cold_start.py``, the same
fresh-process measurer ``digitkit bench`` uses.

MNIST test images are used only here, for evaluation; ``--calibrate`` uses
training images (train[50000:], which the guard never saw), CVL valid (real
writers no model trained on) and non-digits drawn with other seeds and only
four of the eight fonts.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from digitkit.timing import median_ms
from digitkit.train.foreign_data import REPO, SHARED, load_mnist_test, load_semeion, load_usps, upscale16
from digitkit.train.pictures import TRANSFORMS, drawing_280, transformed

RESULTS = REPO / "benchmarks" / "results"
ZOO = SHARED / "models" / "third_party" / "mnist-zoo-opset8-batch.onnx"
EVAL_SEED = 2026  # non-digits for evaluation
CALIBRATION_SEED = 7  # non-digits for calibration (different pictures, four fonts only)


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


# --- calibration ----------------------------------------------------------------------------------
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
        "MNIST train[50000:]": np.array(
            [p.confidence for p in runtime_predictions(recognizer, real["MNIST train[50000:]"])]
        ),
        "CVL valid": np.array([p.confidence for p in recognizer.predict_mnist(real["CVL valid"], on_page=False)]),
    }
    sets = nondigits.non_digits(per_kind, CALIBRATION_SEED, fonts=nondigits.CALIBRATION_FONTS)
    other = {kind: np.array([p.confidence for p in runtime_predictions(recognizer, v)]) for kind, v in sets.items()}
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


# --- speed ----------------------------------------------------------------------------------------
def _cycling(fn, items):
    """A no-argument call that feeds ``fn`` the next item each time (so no result is cached)."""
    cycle = itertools.cycle(items)
    return lambda: fn(next(cycle))


def latency(images: np.ndarray, checkpoint: Path | None, rounds: int = 5, calls: int = 200) -> dict:
    """Medians over interleaved rounds, all on one thread, in this one process (side by side)."""
    from digitkit.runtime import vision
    from digitkit.runtime.recognizer import Recognizer

    cv2.setNumThreads(1)
    int8 = Recognizer(precision="int8", threads=1)
    fp32 = Recognizer(precision="fp32", threads=1)
    drawings = drawing_280(images)
    torch_model = _torch_model(checkpoint, fp32.model_path)
    x = np.zeros((1, 28, 28), np.float32)
    x[0] = vision.to_mnist(drawings[0])
    cells = {
        "picture->digit int8 (280×280)": _cycling(int8.predict, drawings),
        "picture->digit fp32 (280×280)": _cycling(fp32.predict, drawings),
        "to_mnist only (280×280)": _cycling(vision.to_mnist, drawings),
        "classify_mnist int8, batch 1 (normalise + model + softmax)": lambda: int8.classify_mnist(x),
        "model only int8, batch 1": _session_call(int8, x),
        "model only fp32, batch 1": _session_call(fp32, x),
    }
    if torch_model is not None:
        import torch

        from digitkit.train.checkpoint import MNIST_MEAN, MNIST_STD

        torch.set_num_threads(1)
        tensor = torch.from_numpy(((x - MNIST_MEAN) / MNIST_STD)[:, None])

        def torch_call():
            with torch.inference_mode():
                return torch_model(tensor)

        cells["model only PyTorch eager fp32, batch 1"] = torch_call
    samples: dict[str, list[float]] = {k: [] for k in cells}
    for _ in range(rounds):
        for name, fn in cells.items():
            samples[name].append(median_ms(fn, calls, warmup_calls=10))
    result = {name: float(np.median(v)) for name, v in samples.items()}
    if torch_model is not None:
        eager = result["model only PyTorch eager fp32, batch 1"]
        result["speed-up int8 vs PyTorch eager"] = eager / result["model only int8, batch 1"]
        result["speed-up fp32 vs PyTorch eager"] = eager / result["model only fp32, batch 1"]
    for name, value in result.items():
        print(f"  {name:40s} {value:8.3f}" + ("×" if "speed-up" in name else " ms"))
    return result


def _session_call(recognizer, x: np.ndarray):
    """The model alone on an already-prepared tensor: the model's own latency."""
    tensor = recognizer.model_input(x)
    return lambda: recognizer.run_model(tensor)


def _torch_model(checkpoint: Path | None, onnx_path: Path):
    try:
        import torch

        torch.set_num_threads(1)
        if checkpoint is not None and checkpoint.is_file():
            from digitkit.train.checkpoint import model_from_checkpoint

            return model_from_checkpoint(checkpoint)[0].eval()
        from digitkit.benchmarks.torch_baseline import torch_from_onnx

        return torch_from_onnx(str(onnx_path)).eval()
    except Exception as exc:  # the baseline is optional: say why it is missing
        print(f"  (no PyTorch baseline: {type(exc).__name__}: {exc})")
        return None


def cold_start(checkpoint: Path | None, repeats: int = 3) -> dict:
    """Fresh interpreters (``cold_start.measure_median``): the runtime from import to its first 280×280 drawing
    read, beside PyTorch eager from import to its first prediction from the training checkpoint."""
    from digitkit.benchmarks.cold_start import measure_median
    from digitkit.runtime.recognizer import Recognizer

    kinds = {"digitkit runtime (onnxruntime int8)": ("recognizer", Recognizer(precision="int8").model_path)}
    if checkpoint is not None and checkpoint.is_file():
        kinds["PyTorch eager (checkpoint, model only)"] = ("torch-checkpoint", checkpoint)
    result = {}
    for name, (kind, model) in kinds.items():
        r = result[name] = measure_median(kind, model, repeats)
        print(
            f"  {name:38s} process {r['process_wall_s']:.2f} s (import {r['import_s']:.2f}, load {r['load_s']:.3f}, "
            f"first {r['first_prediction_s'] * 1000:.1f} ms), peak RSS {r['peak_rss_mib']:.0f} MiB"
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
    if results.get("latency"):
        lines += ["", "## Latency (one thread, medians, measured side by side in one process)", ""]
        lines += ["| what | value |", "|---|---:|"]
        for name, value in results["latency"].items():
            lines.append(f"| {name} | {value:.2f}× |" if "speed-up" in name else f"| {name} | {value:.3f} ms |")
    if results.get("cold_start"):
        lines += ["", "## Cold start (fresh process: import, load, first prediction of a 280×280 drawing)", ""]
        lines += [
            "| path | process wall | import | load | first prediction | peak RSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, r in results["cold_start"].items():
            lines.append(
                f"| {name} | {r['process_wall_s']:.2f} s | {r['import_s']:.2f} s | {r['load_s'] * 1000:.0f} ms | "
                f"{r['first_prediction_s'] * 1000:.1f} ms | {r['peak_rss_mib']:.0f} MiB |"
            )
    lines += ["", f"Machine: {results['machine']}. Command: `{results['command']}`.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Robustness, foreign handwriting, non-digits, latency, cold start.")
    parser.add_argument("--subset", type=int, default=None, help="first N MNIST test images only (default: all 10,000)")
    parser.add_argument("--non-digits", type=int, default=500, help="non-digit pictures per kind (default 500)")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="PyTorch checkpoint of the shipped CNN, for the baselines"
    )
    parser.add_argument("--skip-timing", action="store_true", help="no latency or cold-start measurements")
    parser.add_argument(
        "--calibrate", action="store_true", help="only choose DEFAULT_MIN_CONFIDENCE and show the trade-off"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from digitkit.runtime.files import atomic_write_json, atomic_write_text
    from digitkit.runtime.recognizer import Recognizer

    if args.calibrate:
        atomic_write_json(args.out / "calibration.json", calibrate())
        return 0
    images, labels = load_mnist_test(args.subset)
    recognizer = Recognizer(precision="int8", threads=1, min_confidence=0.0)
    zoo = Recognizer(ZOO, threads=1, min_confidence=0.0) if ZOO.is_file() else None
    results: dict = {
        "model": recognizer.model_path.name,
        "machine": _host(),
        "command": "python -m digitkit.benchmarks.robustness " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    print("transformed MNIST test images:")
    results["robustness"] = robustness_table(recognizer, images, labels, zoo)
    print("foreign handwriting:")
    results["foreign"] = foreign_handwriting(Recognizer(precision="int8", threads=1), zoo)
    print("non-digits:")
    results["rejection"] = rejection(Recognizer(precision="int8", threads=1), images, labels, args.non_digits)
    if not args.skip_timing:
        print("latency:")
        results["latency"] = latency(images, args.checkpoint)
        print("cold start:")
        results["cold_start"] = cold_start(args.checkpoint)
    atomic_write_json(args.out / "robustness.json", results)
    atomic_write_text(args.out / "robustness.md", markdown(results))
    print(f"wrote {args.out / 'robustness.json'} and robustness.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
