"""Does the CNN's lead hold on handwriting that is not MNIST? Each study model on USPS, Semeion and CVL valid.

Every model the study exported (``WORK/<key>.onnx``) is run on USPS (envelopes),
Semeion (~80 Italian writers) and CVL valid (60 European writers) from ``../shared/data``, each scan passed
through the runtime's ``to_mnist`` first, as every picture is
(``train/handwriting.py``): the same 28×28 inputs for the SVM, the MLPs and the
CNN. Evaluation only; without ``../shared`` the study simply has no such
figures. The SVMs are fed their own features (deskewing, raw pixels), as on
MNIST's test set.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.train.handwriting import foreign_sets, score


def _predict(record: dict[str, Any], path: Path, images_u8: np.ndarray, threads: int) -> np.ndarray:
    from digitkit.train.study import onnx_timing

    if record["family"] == "SVM":
        from digitkit.train.study.features import svm_features

        featurize = partial(svm_features, use_deskew=record["config"].get("deskew", False))
        session = onnx_timing._session(path, threads)
        name = session.get_inputs()[0].name
        return np.concatenate(
            [
                session.run(["label"], {name: featurize(images_u8[i : i + 1000])})[0]
                for i in range(0, len(images_u8), 1000)
            ]
        ).astype(np.int64)
    from digitkit.runtime.recognizer import Recognizer

    recognizer = Recognizer(path, threads=threads, guard=False)  # classify_mnist needs no guard model
    return recognizer.classify_mnist(images_u8.astype(np.float32) / 255.0).argmax(axis=1)


def cross_dataset(models: list[dict[str, Any]], work: Path, threads: int = 1) -> dict[str, dict[str, Any]]:
    """{set name: {model key: score}} for every model whose ONNX file is in ``work``; {} without ../shared."""
    sets = foreign_sets()
    out: dict[str, dict[str, Any]] = {}
    for set_name, (images, labels) in sets.items():
        out[set_name] = {}
        for record in models:
            path = work / f"{record['key']}.onnx"
            if path.is_file():
                out[set_name][record["key"]] = score(_predict(record, path, images, threads), labels)
    return out


def table(results: dict[str, Any]) -> str:
    """Markdown: one row per model, MNIST test next to each foreign set, and the confusions of each."""
    foreign = results.get("foreign") or {}
    if not foreign:
        return ""
    names = list(foreign)
    lines = [
        "| model | MNIST test | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for record in results["models"]:
        cells = [f"{foreign[n][record['key']]['accuracy']:.2%}" if record["key"] in foreign[n] else "—" for n in names]
        lines.append(f"| {record['name']} | {record['accuracy']:.2%} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
