"""The shipped models on real writing they never trained on (../shared: CVL valid's 60 writers, USPS, Semeion),
through the public API as a user's scans reach it (``predict_batch``, the guard and the threshold included).

The floors are the figures the shipped files reach (runtime/models/handwriting.json, MODEL_CARD.md), so that a
retrained model that reads real writing worse fails here; the evaluation sets are never trained on."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.runtime import Recognizer
from digitkit.train.calibration import expected_calibration_error
from digitkit.train.cvl import cvl_dir, load_cvl_raw

FLOORS = {  # set: (top-1, answered right, not answered at most, expected calibration error at most)
    "CVL valid": (0.92, 0.91, 0.02, 0.03),
    "USPS test": (0.97, 0.94, 0.045, 0.03),
    "Semeion": (0.90, 0.84, 0.09, 0.045),
}


@pytest.fixture(scope="module")
def real_sets(shared_dir) -> dict[str, tuple[list[np.ndarray], np.ndarray]]:
    """Each set as pictures a scanner would give: dark ink on white, enlarged 4x."""
    import cv2

    from digitkit.train.foreign_data import load_semeion, load_usps

    sets = {}
    for name, loader in (("USPS test", load_usps), ("Semeion", load_semeion)):
        images, labels = loader(shared_dir)
        sets[name] = ([cv2.resize(255 - im, (64, 64), interpolation=cv2.INTER_LINEAR) for im in images], labels)
    if (cvl_dir() / "cvl_valid.npz").is_file():
        images, labels, _ = load_cvl_raw("valid")
        sets["CVL valid"] = ([cv2.resize(im, (112, 112), interpolation=cv2.INTER_LINEAR) for im in images], labels)
    return sets


@pytest.fixture(scope="module")
def answers(real_sets):
    recognizer = Recognizer(threads=1)
    return {name: (recognizer.predict_batch(pictures), labels) for name, (pictures, labels) in real_sets.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FLOORS))
def test_real_writing_is_read_and_answered(answers, name):
    if name not in answers:
        pytest.skip(f"{name}: its files are not in ../shared")
    predictions, labels = answers[name]
    top1_floor, right_floor, unanswered_ceiling, ece_ceiling = FLOORS[name]
    top1 = np.array([p.top(1)[0][0] if p.mnist is not None else -1 for p in predictions])
    answered = np.array([-1 if p.digit is None else p.digit for p in predictions])
    assert np.mean(top1 == labels) >= top1_floor
    assert np.mean(answered == labels) >= right_floor
    assert np.mean(answered < 0) <= unanswered_ceiling
    found = [i for i, p in enumerate(predictions) if p.mnist is not None]
    probabilities = np.stack([predictions[i].probabilities for i in found])
    assert expected_calibration_error(probabilities, labels[found]) <= ece_ceiling
