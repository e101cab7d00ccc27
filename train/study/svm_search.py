"""Choose the SVM's feature pipeline by measurement, never on the test set.

Fits each candidate on the first ``fit_size`` training images and scores it
on the last 10,000 training images (a validation split the candidates never
see). Writes a JSON table the report shows. Run it with
``python -m digitkit.train.study.svm_search --out docs/study`` (minutes, one core).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from digitkit.runtime.files import atomic_write_json
from digitkit.train.mnist import load_mnist
from digitkit.train.study.features import svm_features
from digitkit.train.study.svm import SvmChoice, build_pipeline

VALIDATION = 10_000


def search(
    fit_size: int = 20_000,
    deskews: tuple[bool, ...] = (False, True),
    components: tuple[int, ...] = (30, 50, 80),
    cs: tuple[float, ...] = (5.0, 10.0),
) -> list[dict]:
    data = load_mnist(log=lambda _m: None)
    images, labels = np.array(data.train_images), np.array(data.train_labels, dtype=np.int64)
    fit_x, fit_y = images[:fit_size], labels[:fit_size]
    val_x, val_y = images[-VALIDATION:], labels[-VALIDATION:]
    rows = []
    for use_deskew in deskews:
        fx, vx = svm_features(fit_x, use_deskew), svm_features(val_x, use_deskew)
        for n, c in itertools.product(components, cs):
            choice = SvmChoice(deskew=use_deskew, pca_components=n, C=c)
            model = build_pipeline(choice)
            started = time.perf_counter()
            model.fit(fx, fit_y)
            fit_s = time.perf_counter() - started
            started = time.perf_counter()
            accuracy = float((model.predict(vx) == val_y).mean())
            predict_s = time.perf_counter() - started
            row = {**choice.to_dict(), "label": choice.label(), "fit_size": fit_size, "validation_size": VALIDATION,
                   "validation_accuracy": accuracy, "fit_seconds": round(fit_s, 2), "predict_seconds": round(predict_s, 2),
                   "support_vectors": int(model[-1].n_support_.sum())}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/study"))
    parser.add_argument("--fit-size", type=int, default=20_000)
    parser.add_argument("--components", type=int, nargs="+", default=[30, 50, 80])
    parser.add_argument("--C", type=float, nargs="+", default=[5.0, 10.0])
    parser.add_argument("--raw", action="store_true", help="also try without deskewing")
    args = parser.parse_args()
    with threadpool_limits(1):
        rows = search(args.fit_size, (False, True) if args.raw else (True,), tuple(args.components), tuple(args.C))
    path = args.out / f"svm_search_{args.fit_size}.json"
    atomic_write_json(path, rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
