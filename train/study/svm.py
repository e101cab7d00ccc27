"""The two SVMs of the study: the textbook ``SVC()`` on raw pixels, and the tuned pipeline.

The tuned one is deskew -> PCA -> RBF SVC. Deskewing happens in numpy
(features.py) before the scikit-learn pipeline, so the pipeline and its ONNX
export both take (N, 784) float32 pixels in [0, 1] of the *deskewed* image.
PCA to a few dozen components keeps almost all of the variance of the digits
and makes every kernel evaluation ~15x cheaper, which is where the fit-time
gain over the plain SVC comes from. The choice (deskew or not, how many
components, C) was made by measurement on a validation split of the training
set: see svm_search.py and docs/study/svm_search.json.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from tqdm import tqdm

from digitkit.train.study.data import Split


@dataclass(frozen=True)
class SvmChoice:
    deskew: bool = True
    pca_components: int | None = 50
    C: float = 10.0
    gamma: str | float = "scale"

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        parts = ["deskew" if self.deskew else "raw"]
        if self.pca_components:
            parts.append(f"PCA {self.pca_components}")
        parts.append(f"RBF SVC C={self.C:g}")
        return " + ".join(parts)


# chosen by svm_search.py (validation split of the training set); see the report
TUNED = SvmChoice(deskew=True, pca_components=60, C=10.0)
PLAIN = SvmChoice(deskew=False, pca_components=None, C=1.0)  # == SVC() on raw pixels


def build_pipeline(choice: SvmChoice, seed: int = 0) -> Pipeline:
    steps = []
    if choice.pca_components:
        steps.append(("pca", PCA(n_components=choice.pca_components, random_state=seed)))
    steps.append(("svc", SVC(C=choice.C, gamma=choice.gamma)))
    return Pipeline(steps)


def run_svm(
    key: str,
    name: str,
    choice: SvmChoice,
    split: Split,
    work: Path,
    threads: int = 1,
    progress: bool = True,
    position: int = 0,
) -> dict[str, Any]:
    """Fit, evaluate, export to ONNX and time one SVM; returns its result record.

    Test time counts the deskewing too: it is part of what the model needs per image.
    """
    from functools import partial

    from threadpoolctl import threadpool_limits

    from digitkit.train.study import onnx_timing
    from digitkit.train.study.features import svm_features
    from digitkit.train.study.timing import Stopwatch, evaluation

    featurize = partial(svm_features, use_deskew=choice.deskew)
    steps = ["features", "fit", "predict", "ONNX export", "ONNX timing"]
    bar = tqdm(total=len(steps), desc=f"{name}", unit="step", disable=not progress, position=position, file=sys.stderr)
    with threadpool_limits(threads):
        bar.set_postfix_str(steps[0])
        train_clock = Stopwatch()
        with train_clock:
            x = featurize(split.train_images)
        bar.update()
        bar.set_postfix_str(f"fit on {len(x):,} images")
        pipeline = build_pipeline(choice)
        with train_clock:
            pipeline.fit(x, split.train_labels)
        bar.update()
        bar.set_postfix_str("predict")
        test_clock = Stopwatch()
        with test_clock:
            predicted = pipeline.predict(featurize(split.test_images))
        bar.update()
        record = {
            "key": key, "name": name, "family": "SVM", "description": choice.label(), "config": choice.to_dict(),
            "train_seconds": train_clock.seconds, **evaluation(predicted, split.test_labels, test_clock.seconds),
            "support_vectors": int(pipeline[-1].n_support_.sum()),
            "native_bytes": len(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)),
        }  # fmt: skip
        svc = pipeline[-1]
        record["parameters"] = int(svc.support_vectors_.size + svc.dual_coef_.size + svc.intercept_.size)
        if choice.pca_components:
            pca = pipeline[0]
            record["parameters"] += int(pca.components_.size + pca.mean_.size)
        bar.set_postfix_str(steps[3])
        path = onnx_timing.export_sklearn(pipeline, work / f"{key}.onnx")
        bar.update()
        bar.set_postfix_str(steps[4])
        timing = onnx_timing.time_sklearn_onnx(path, split.onnx_images(), featurize, threads)
        bar.update()
    bar.close()
    onnx_predicted = timing.pop("predicted")
    timing["agreement"] = float((onnx_predicted == predicted[: len(onnx_predicted)]).mean())
    record["onnx"] = timing
    return record
