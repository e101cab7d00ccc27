"""How a model reads handwriting that is not MNIST's: USPS, Semeion and CVL valid through ``to_mnist``, and the styles.

    python -m digitkit.train.handwriting [--models runtime/models] [--out runtime/models/handwriting.json]

USPS (envelopes) and Semeion (~80 Italian writers) live in ``../shared/data``:
evaluation only, read with the robustness benchmark's own loaders, never copied
here, never trained on, never used to choose a recipe. CVL valid (60 European
writers, ``train/cvl.py``) is the held-out half of the one real set the
shipped models train on: they train on CVL train, whose writers are others. Each 16×16 scan is
enlarged as the benchmark does and passed through the runtime's ``to_mnist``,
so every model (the shipped ones here, the study's SVM, MLP and CNN) is scored
on exactly what the runtime would feed it. The JSON this writes beside the
models is what ``export/model_card.py`` quotes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float in [0, 1] -> (N, 10) scores
REPORT_NAME = "handwriting.json"


def foreign_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"USPS test": (uint8 (N, 28, 28) as to_mnist makes them, labels), "Semeion": ..., "CVL valid": ...}.

    A set whose files are absent (no ../shared) is left out. A digit in which the runtime found nothing is an
    all-black 28×28 (to_mnist never makes one): scored as whatever the model says of blank, and as not answered.
    """
    from digitkit.runtime.errors import DigitkitError
    from digitkit.train.cvl import load_cvl
    from digitkit.train.foreign_data import load_semeion, load_usps, upscale16
    from digitkit.train.styles import as_model_input

    sets = {}
    for name, loader in (("USPS test", load_usps), ("Semeion", load_semeion)):
        try:
            images, labels = loader()
        except OSError:  # ../shared absent: nothing to measure
            continue
        inputs = [as_model_input(p) for p in upscale16(images)]
        blank = np.zeros((28, 28), np.uint8)
        sets[name] = (np.stack([blank if x is None else x for x in inputs]), labels)
    try:  # writers the shipped models never trained on (they train on CVL train): train/cvl.py
        cvl = load_cvl("valid")
        sets["CVL valid"] = (cvl.images, cvl.labels)
    except DigitkitError:
        pass
    return sets


def gate(recognizer, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """What a user gets for each digit on its own (``predict``): answered right, answered wrong, not answered."""
    found = images.reshape(len(images), -1).max(axis=1) > 0
    digits = [x.astype(np.float32) / 255.0 if f else None for x, f in zip(images, found, strict=True)]
    answers = np.array([-1 if p.digit is None else p.digit for p in recognizer.predict_mnist(digits, on_page=False)])
    return {
        "answered_right": float(np.mean(answers == labels)),
        "answered_wrong": float(np.mean((answers != labels) & (answers >= 0))),
        "not_answered": float(np.mean(answers < 0)),
    }


def score(predicted: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy and the most common confusions (true -> read)."""
    wrong = Counter((int(t), int(p)) for t, p in zip(labels, predicted, strict=True) if t != p)
    return {
        "n": len(labels),
        "accuracy": float(np.mean(predicted == labels)),
        "confusions": [[t, p, c] for (t, p), c in wrong.most_common(4)],
    }


def measure(classify: Classify, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, Any]]:
    """Per set: accuracy, confusions and the expected calibration error of the model's probabilities."""
    from digitkit.train.calibration import expected_calibration_error

    out = {}
    for name, (x, y) in sets.items():
        probabilities = classify(x.astype(np.float32) / 255.0)
        out[name] = {**score(probabilities.argmax(axis=1), y), "ece": expected_calibration_error(probabilities, y)}
    return out


def classifier_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("digitkit-*.onnx") if "guard" not in p.name)


def report(folder: Path, per_variant: int) -> dict[str, Any]:
    from digitkit.runtime.files import sha256_file
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.style_table import held_out_styles, style_table

    sets, styles = foreign_sets(), held_out_styles(per_variant)
    models = {}
    for path in classifier_files(folder):
        classify = Recognizer(path, guard=False).classify_mnist
        answering = Recognizer(path)  # with the guard and the threshold, as predict answers
        models[path.name] = {
            "sha256": sha256_file(path),  # the model card quotes these figures only for this very file
            "sets": measure(classify, sets),
            "gate": {name: gate(answering, x, y) for name, (x, y) in sets.items()},
            "styles": style_table(classify, styles),
        }
        line = ", ".join(
            f"{n} {r['accuracy']:.2%} (not answered {models[path.name]['gate'][n]['not_answered']:.1%})"
            for n, r in models[path.name]["sets"].items()
        )
        worst = min(models[path.name]["styles"], key=lambda r: r["read_right"])
        print(f"{path.name}: {line}; weakest style {worst['variant']} {worst['read_right']:.1%}")
    return {"per_variant": per_variant, "models": models}


def main(argv: list[str] | None = None) -> int:
    from digitkit.runtime.files import atomic_write_json
    from digitkit.runtime.recognizer import MODELS_DIR

    parser = argparse.ArgumentParser(prog="python -m digitkit.train.handwriting", description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=MODELS_DIR)
    parser.add_argument("--out", type=Path, help=f"default: MODELS/{REPORT_NAME}")
    parser.add_argument("--per-variant", type=int, default=100)
    parser.add_argument(
        "--reliability", type=Path, help="also draw the fp32 CNN's reliability diagram on CVL valid and USPS (PNG)"
    )
    args = parser.parse_args(argv)
    atomic_write_json(args.out or args.models / REPORT_NAME, report(args.models, args.per_variant))
    if args.reliability:
        reliability_diagram(args.models / "digitkit-cnn.onnx", args.reliability)
    return 0


def reliability_diagram(model: Path, out: Path) -> None:
    """The model's calibrated probabilities against how often it is right, on CVL valid and USPS."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.calibration import draw_reliability

    classify = Recognizer(model, guard=False).classify_mnist
    sets = {k: v for k, v in foreign_sets().items() if k in ("CVL valid", "USPS test")}
    probabilities = {name: (classify(x.astype(np.float32) / 255.0), y) for name, (x, y) in sets.items()}
    draw_reliability(probabilities, out, f"{model.name}: confidence as the runtime reports it (temperature scaled)")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
