"""The drawn writing styles (a flagged 1, a crossed 7, an open 4, ...): the held-out per-style table of the shipped
models and the guard, and the drawings themselves."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.train import style_table
from digitkit.train.strokes import VARIANTS
from digitkit.train.styles import HELD_OUT_PENS, TRAINING_PENS, style_digits

# Issue #12's goal for the shipped models: every drawn variant read right at least this often.
STYLE_GOAL = 0.95


def test_every_variant_is_drawn_and_found_by_the_runtime():
    styles = style_digits(3, seed=5)
    assert styles.images.shape == (3 * len(VARIANTS), 28, 28) and styles.images.dtype == np.uint8
    for index, name in enumerate(styles.names):
        mine = styles.variants == index
        assert mine.sum() == 3, name
        assert (styles.labels[mine] == VARIANTS[name][0]).all()
    # as to_mnist makes them: the ink fits 20x20 and the core is at full white
    rows, cols = np.nonzero(styles.images.max(axis=0) > 0)
    assert rows.min() >= 1 and cols.min() >= 1 and styles.images.max(axis=(1, 2)).min() == 255


def test_style_digits_are_seeded():
    a, b = style_digits(2, seed=1), style_digits(2, seed=1)
    assert np.array_equal(a.images, b.images)
    assert not np.array_equal(a.images, style_digits(2, seed=2).images)
    held_out = style_digits(2, seed=1, pens=HELD_OUT_PENS)
    assert HELD_OUT_PENS != TRAINING_PENS and not np.array_equal(a.images, held_out.images)


def test_style_table_names_every_variant_and_draws_its_grid(capsys, tmp_path):
    import cv2

    assert style_table.main(["--per-variant", "2", "--grid", str(tmp_path / "grid.png")]) == 0
    out = capsys.readouterr().out
    for name in VARIANTS:
        assert f"| {name} | 2 |" in out
    picture = cv2.imread(str(tmp_path / "grid.png"), cv2.IMREAD_GRAYSCALE)
    assert picture.shape == (len(VARIANTS) * 56, 12 * 56)  # a row per variant, 12 cells of 28x28 enlarged 2x
    assert picture[:, : 2 * 56].any() and not picture[:, 2 * 56 :].any()  # two drawings each, the rest blank


@pytest.mark.xfail(
    strict=True,
    reason="the shipped digitkit-cnn, fine-tuned on CVL's writers, still reads the drawn European 1 right 64 % "
    "(67 % int8) and the slashed 0 85 % (82 % int8) (docs/styles.md)",
)
@pytest.mark.slow  # an evaluation: 18 styles × held-out pens
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_shipped_cnn_reads_every_style(precision):
    from digitkit.runtime.recognizer import Recognizer

    recognizer = Recognizer(precision=precision, guard=False)
    rows = style_table.style_table(recognizer.classify_mnist, style_table.held_out_styles(40))
    weak = {r["variant"]: r["read_right"] for r in rows if r["read_right"] < STYLE_GOAL}
    assert not weak, f"styles read right under {STYLE_GOAL:.0%}: {weak}"


def test_model_card_quotes_handwriting_figures_only_for_the_file_measured(tmp_path):
    import json

    from digitkit.export.model_card import _handwriting_lines
    from digitkit.runtime.files import sha256_file

    (tmp_path / "digitkit-a.onnx").write_bytes(b"model a")
    (tmp_path / "digitkit-b.onnx").write_bytes(b"model b, retrained since")
    styles = [{"variant": "1 flag (European)", "digit": 1, "n": 10, "read_right": 0.9, "misread_as": [[7, 1]]}]
    figures = {"sets": {"Semeion": {"n": 5, "accuracy": 0.8, "confusions": []}}, "styles": styles}
    report = {
        "per_variant": 10,
        "models": {
            "digitkit-a.onnx": {"sha256": sha256_file(tmp_path / "digitkit-a.onnx"), **figures},
            "digitkit-b.onnx": {"sha256": "0" * 64, **figures},
        },
    }
    (tmp_path / "handwriting.json").write_text(json.dumps(report))
    lines = "\n".join(_handwriting_lines(tmp_path))
    assert "| `digitkit-a.onnx` | 80.00 % | 1 flag (European) 90% |" in lines
    assert "| `digitkit-b.onnx` | — | stale: measured on another file |" in lines
    assert _handwriting_lines(tmp_path / "absent") == []


def test_the_guard_answers_every_writing_style():
    """The digit-or-not guard must not find other people's writing odd: every drawn style, with pens it was not
    trained with, answered (with MNIST alone as its positives it refused 30 % of slashed zeros)."""
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.styles import HELD_OUT_SEED

    held_out = style_digits(10, seed=HELD_OUT_SEED, pens=HELD_OUT_PENS)
    predictions = Recognizer(threads=1).predict_mnist(list(held_out.images.astype(np.float32) / 255), on_page=False)
    answered = np.array([p.digit is not None for p in predictions])
    for v, name in enumerate(held_out.names):
        assert answered[held_out.variants == v].mean() >= 0.9, name
