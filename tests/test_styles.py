"""The writing-style training data (issue #12): drawn variants, MNIST digits given a flag/bar/slash, elastic
distortion, the preset hook, and the per-style table of the shipped models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from digitkit.train import style_table
from digitkit.train.augment import MAX_WIDEN, augment_batch, random_affine, widen
from digitkit.train.config import DRAWN_STYLES, preset
from digitkit.train.elastic import displacement
from digitkit.train.mnist_styles import with_crossbar, with_flag, with_slash
from digitkit.train.strokes import VARIANTS
from digitkit.train.style_data import with_style_digits
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


def _stem(height: int = 80) -> np.ndarray:
    picture = np.zeros((160, 160), np.uint8)
    picture[40 : 40 + height, 76:84] = 255
    return picture


def test_flag_rises_from_the_left_to_the_top_of_the_stem():
    stem = _stem()
    flagged = with_flag(stem, np.random.default_rng(0))
    added = (flagged > 128) & (stem == 0)
    ys, xs = np.nonzero(added)
    assert added.sum() > 100
    assert xs.max() < 90 and xs.min() < 60  # to the left of the stem (its round cap aside), reaching away from it
    assert ys.min() <= 45 and ys.max() < 40 + 80 * 0.6  # from the top, not below 60 % of the height


def test_crossbar_crosses_the_stem_and_slash_passes_the_box():
    stem = _stem()
    barred = with_crossbar(stem, np.random.default_rng(0))
    ys, xs = np.nonzero((barred > 128) & (stem == 0))
    assert xs.min() < 76 and xs.max() > 84 and 40 + 80 * 0.4 < ys.mean() < 40 + 80 * 0.65
    slashed = with_slash(stem, np.random.default_rng(0))
    ys, xs = np.nonzero(slashed > 128)
    assert ys.max() >= 119 and ys.min() <= 40  # bottom-left to top-right, at least corner to corner


def test_elastic_field_has_simards_scale():
    field = displacement(256, 28, alpha=34.0, sigma=4.0, generator=torch.Generator().manual_seed(0))
    assert field.shape == (256, 28, 28, 2)
    mean_shift = float(field.abs().mean())
    assert 0.5 < mean_shift < 2.0  # pixels: bends strokes, does not scramble them
    assert float(displacement(4, 28, alpha=0.0, sigma=4.0).abs().max()) == 0.0


def test_augment_batch_is_random_affine_with_styles_off_and_differs_with_them_on():
    images = torch.rand(16, 1, 28, 28)
    quick = preset("quick")
    plain = random_affine(images, quick, torch.Generator().manual_seed(3))
    assert torch.equal(augment_batch(images, quick, torch.Generator().manual_seed(3)), plain)
    styled = augment_batch(images, preset("full", **DRAWN_STYLES), torch.Generator().manual_seed(3))
    assert styled.shape == images.shape and not torch.allclose(styled, plain)


def _ink_box(image: torch.Tensor) -> tuple[int, int]:
    ys, xs = torch.nonzero(image[0] > 0.3, as_tuple=True)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def test_widening_stretches_the_shorter_side_toward_a_square_about_the_ink():
    images = torch.zeros(3, 1, 28, 28)
    images[0, 0, 4:24, 12:16] = 1.0  # an upright 1: 4 wide, 20 tall
    images[1, 0, 10:18, 4:24] = 1.0  # a flat mark: 20 wide, 8 tall
    images[2, 0, 4:24, 4:24] = 1.0  # already square
    cfg = dataclasses.replace(preset("quick"), rotate_deg=0.0, shear_deg=0.0, shift_px=0.0, scale=(1.0, 1.0))
    plain = augment_batch(images, cfg)
    stretch = widen(images, 1.0, torch.Generator().manual_seed(0))
    assert stretch is not None and widen(images, 0.0) is None
    sx, sy, _, _ = stretch
    assert 1.0 < float(sx[0]) <= MAX_WIDEN and float(sy[0]) == 1.0  # the 1 gets wider, never taller
    assert float(sx[1]) == 1.0 and float(sy[1]) > 1.0  # the flat mark gets taller
    assert float(sx[2]) == float(sy[2]) == 1.0
    wide = augment_batch(images, dataclasses.replace(cfg, widen_share=1.0), torch.Generator().manual_seed(0))
    (w0, h0), (w1, h1) = _ink_box(wide[0]), _ink_box(wide[1])
    assert w0 > _ink_box(plain[0])[0] and abs(h0 - 20) <= 1  # about the ink's own centre: still in the picture
    assert h1 > _ink_box(plain[1])[1] and abs(w1 - 20) <= 1
    assert torch.allclose(wide[2], plain[2], atol=1e-5)


def test_style_presets_train_on_styles_and_the_shipped_recipes_do_not():
    for name in ("full", "tiny"):
        styled, shipped = preset(f"{name}-styles"), preset(name)
        assert styled.mnist_style_per_digit > 0 and styled.widen_share > 0
        assert (styled.arch, styled.widths) == (shipped.arch, shipped.widths)  # the same network: the same latency
    for name in ("quick", "full", "tiny"):
        cfg = preset(name)
        assert cfg.style_per_variant == cfg.mnist_style_per_digit == 0 and cfg.elastic_share == cfg.stroke_share == 0
        assert cfg.widen_share == 0


def test_training_set_grows_by_the_preset_style_digits():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 2, (40, 28, 28), dtype=np.uint8) * 255)
    images[:, :4] = 0  # keep a border of paper
    labels = torch.arange(40) % 10
    cfg = dataclasses.replace(preset("full-styles"), style_per_variant=1, mnist_style_per_digit=0)
    grown, grown_labels = with_style_digits(images, labels, cfg)
    assert torch.equal(grown[:40], images) and len(grown) == 40 + len(VARIANTS) == len(grown_labels)
    assert sorted(grown_labels[40:].tolist()) == sorted(d for d, _ in VARIANTS.values())
    off = dataclasses.replace(cfg, style_per_variant=0)
    assert with_style_digits(images, labels, off)[0] is images


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
    reason="the shipped digitkit-cnn predates the style data (European 1 read right 60 %, slashed 0 86 %); "
    "no style recipe tried (three, docs/styles.md) read real foreign writing better; nothing new was shipped",
)
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
