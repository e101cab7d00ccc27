"""The study's cross-dataset figures (train/study/foreign.py): each exported model scored on non-MNIST sets."""

from __future__ import annotations

import shutil

import numpy as np

from digitkit.runtime.recognizer import shipped_model_path
from digitkit.train.study import foreign
from digitkit.train.styles import style_digits


def test_cross_dataset_scores_each_exported_model_and_tabulates(tmp_path, monkeypatch):
    drawn = style_digits(4, seed=3)
    garbled = drawn.images[:, ::-1].copy()  # upside down: a 6 is no 6 any more
    monkeypatch.setattr(
        foreign, "foreign_sets", lambda: {"drawn": (drawn.images, drawn.labels), "flipped": (garbled, drawn.labels)}
    )
    shutil.copy(shipped_model_path("cnn"), tmp_path / "cnn.onnx")
    models = [
        {"key": "cnn", "name": "CNN", "family": "CNN", "accuracy": 0.99},
        {"key": "absent", "name": "MLP", "family": "MLP", "accuracy": 0.98},
    ]
    scores = foreign.cross_dataset(models, tmp_path)
    assert set(scores) == {"drawn", "flipped"} and set(scores["drawn"]) == {"cnn"}
    drawn_score, flipped_score = scores["drawn"]["cnn"], scores["flipped"]["cnn"]
    assert drawn_score["n"] == len(drawn.labels) and drawn_score["accuracy"] > 0.8
    assert flipped_score["accuracy"] < drawn_score["accuracy"] - 0.2
    true, read, count = flipped_score["confusions"][0]
    assert true != read and count >= 1
    table = foreign.table({"models": models, "foreign": scores})
    assert f"| CNN | 99.00% | {drawn_score['accuracy']:.2%} | {flipped_score['accuracy']:.2%} |" in table
    assert "| MLP | 98.00% | — | — |" in table
    assert foreign.table({"models": models, "foreign": {}}) == ""
    assert np.isfinite(flipped_score["accuracy"])
