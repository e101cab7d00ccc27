"""Fine-tuning (train/init_weights.py, the trainer's ``init`` and ``distill``): a run starts from a checkpoint or an
exported ONNX model, keeps BatchNorm frozen, distills its starting model, and records where it started."""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from digitkit.runtime.errors import DigitkitError  # noqa: E402
from digitkit.runtime.files import sha256_file  # noqa: E402
from digitkit.train.config import TrainConfig  # noqa: E402

SMALL = TrainConfig(arch="separable", widths=(8, 16, 16), epochs=3, subset=6000, max_lr=1e-2, seed=3)


@pytest.fixture(scope="module")
def start(tmp_path_factory, mnist):
    """A small separable model trained briefly on real MNIST, as a checkpoint and exported to ONNX (fp32, int8)."""
    from digitkit.export.onnx_export import export_checkpoint
    from digitkit.export.quantize import quantize_model
    from digitkit.train.trainer import train

    out = tmp_path_factory.mktemp("start")
    assert train(SMALL, out, threads=1, progress=False)["accuracy"] > 0.7  # a real, if weak, model
    onnx_path = export_checkpoint(out / "checkpoint.pt", out / "start.onnx").path
    return {"checkpoint": out / "checkpoint.pt", "onnx": onnx_path, "int8": quantize_model(onnx_path).path}


def _batch(mnist, n: int = 256) -> torch.Tensor:
    from digitkit.train.trainer import to_input

    return to_input(torch.from_numpy(np.array(mnist.test_images[:n])))


def test_an_exported_model_read_back_gives_the_same_logits(start, mnist):
    from digitkit.train.init_weights import starting_model

    model, origin = starting_model(start["onnx"], SMALL)
    x = _batch(mnist)
    with torch.no_grad():
        mine = model.eval()(x).numpy()
    session = ort.InferenceSession(str(start["onnx"]), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert np.abs(mine - theirs).max() < 1e-4
    assert origin["sha256"] == sha256_file(start["onnx"]) and origin["train_config"]["widths"] == [8, 16, 16]
    assert origin["checkpoint_sha256"] == sha256_file(start["checkpoint"])


def test_a_checkpoint_read_back_gives_the_same_logits_and_frozen_norm_keeps_them_in_train_mode(start, mnist):
    from digitkit.train.checkpoint import model_from_checkpoint
    from digitkit.train.init_weights import freeze_norm, starting_model

    model, origin = starting_model(start["checkpoint"], SMALL)
    reference, _ = model_from_checkpoint(start["checkpoint"])
    x = _batch(mnist)
    with torch.no_grad():
        expected = reference(x)
        assert torch.allclose(model.eval()(x), expected, atol=1e-5)
        assert not torch.allclose(copy.deepcopy(model).train()(x), expected, atol=1e-3)  # batch statistics
        model.train()
        freeze_norm(model)
        assert torch.allclose(model(x), expected, atol=1e-5)
    assert origin["train_config"]["seed"] == 3


@pytest.mark.parametrize(
    ("which", "match"),
    [
        ("missing", "no such file"),
        ("garbage", "not an ONNX model"),
        ("int8", "int8 model; fine-tune from the fp32"),
        ("other widths", re.escape("a separable (8, 16, 16) gap model; this preset trains separable (8, 16, 24) gap")),
    ],
)
def test_a_wrong_start_is_one_line_naming_it(start, tmp_path, which, match):
    from digitkit.train.init_weights import starting_model

    cfg, path = SMALL, start["onnx"]
    if which == "missing":
        path = tmp_path / "nothing.onnx"
    elif which == "garbage":
        path = tmp_path / "garbage.onnx"
        path.write_bytes(b"not a model")
    elif which == "int8":
        path = start["int8"]
    else:
        cfg = dataclasses.replace(SMALL, widths=(8, 16, 24))
    with pytest.raises(DigitkitError, match=match) as error:
        starting_model(path, cfg)
    assert "\n" not in str(error.value) and str(path.name) in str(error.value)


def test_distillation_is_zero_toward_itself_and_grows_as_the_answers_part():
    from digitkit.train.trainer import Distillation

    teacher = torch.nn.Linear(4, 10)
    x = torch.randn(32, 4)
    marked = torch.zeros(64, dtype=torch.bool)
    marked[:16] = True
    idx = torch.arange(32)
    same = Distillation(teacher, 1.0, marked)
    assert same.loss(teacher(x), x, idx).item() == pytest.approx(0.0, abs=1e-6)
    apart = same.loss(teacher(x) + torch.randn(32, 10), x, idx).item()
    assert apart > 0
    assert Distillation(teacher, 2.0, marked).loss(teacher(x) + 1e-3, x, idx + 32).item() == 0  # no marked rows
    further = same.loss(teacher(x) + 3 * torch.randn(32, 10), x, idx).item()
    assert further > apart


@pytest.mark.slow
def test_a_fine_tuning_run_records_its_start_through_export_to_the_model_card(start, tmp_path, mnist):
    import onnx

    from digitkit.export.model_card import _recipe
    from digitkit.export.onnx_export import export_checkpoint
    from digitkit.train.trainer import train

    cfg = dataclasses.replace(
        SMALL, epochs=1, init=str(start["onnx"]), distill=1.0, max_lr=1e-3, warmup=0.15, elastic_px=2.0
    )
    metrics = train(cfg, tmp_path / "tuned", threads=1, progress=False)
    assert metrics["started_from"]["sha256"] == sha256_file(start["onnx"])
    assert metrics["accuracy"] >= float(metrics["started_from"]["test_accuracy"]) - 0.02  # it kept what it knew
    exported = export_checkpoint(tmp_path / "tuned" / "checkpoint.pt", tmp_path / "tuned.onnx")
    meta = {p.key: p.value for p in onnx.load(str(exported.path)).metadata_props}
    assert json.loads(meta["digitkit.started_from"])["file"] == "start.onnx"
    recipe = _recipe(meta)
    assert recipe.startswith("first trained: `separable` widths (8, 16, 16)") and "Then fine-tuned from" in recipe
    assert sha256_file(start["onnx"]) in recipe and "distillation term (weight 1.0" in recipe
    assert (
        "elastic distortion up to 2.0 px" in recipe.split("Then fine-tuned")[1]
    )  # the fine-tuning run's, not the start's


def test_distill_without_a_start_is_one_line(tmp_path, mnist):
    from digitkit.train.trainer import train

    with pytest.raises(DigitkitError, match="distill needs init"):
        train(dataclasses.replace(SMALL, distill=1.0), tmp_path / "run", threads=1, progress=False)


def test_a_run_taught_by_another_model_learns_its_answers_and_the_card_names_it(start, tmp_path, mnist):
    """A smaller model trained from scratch with a teacher's answers in its loss: it learns, records which file
    taught it, and the model card says so (not as a fine-tuning: it started from nothing)."""
    import onnx

    from digitkit.export.model_card import _recipe
    from digitkit.export.onnx_export import export_checkpoint
    from digitkit.train.trainer import train

    cfg = dataclasses.replace(SMALL, widths=(8, 8, 16), distill=1.0, teacher=str(start["checkpoint"]))
    metrics = train(cfg, tmp_path / "student", threads=1, progress=False)
    assert metrics["taught_by"] == {"file": str(start["checkpoint"]), "sha256": sha256_file(start["checkpoint"])}
    assert metrics["accuracy"] > 0.6 and metrics["started_from"] is None
    exported = export_checkpoint(tmp_path / "student" / "checkpoint.pt", tmp_path / "student.onnx")
    recipe = _recipe({p.key: p.value for p in onnx.load(str(exported.path)).metadata_props})
    assert recipe.startswith("`separable` widths (8, 8, 16)") and "Then fine-tuned" not in recipe
    taught = (
        f"answers of a larger trained model (`{start['checkpoint']}`, SHA-256 `{sha256_file(start['checkpoint'])}`)"
    )
    assert taught in recipe


def test_a_missing_teacher_is_one_line_before_any_training(tmp_path, mnist):
    from digitkit.train.trainer import train

    cfg = dataclasses.replace(SMALL, distill=1.0, teacher=str(tmp_path / "none.pt"))
    with pytest.raises(DigitkitError, match=r"none.pt: no such file; the run distils its answers \(train that model"):
        train(cfg, tmp_path / "run", threads=1, progress=False)
    assert not (tmp_path / "run").exists()


def test_a_teacher_without_a_distillation_weight_is_one_line(tmp_path, mnist):
    """A teacher whose answers would weigh nothing is a mistake in the config, said before anything is written."""
    from digitkit.train.trainer import train

    cfg = dataclasses.replace(SMALL, distill=0.0, teacher=str(tmp_path / "teacher.pt"))
    with pytest.raises(
        DigitkitError, match=r"teacher .*teacher.pt needs a distillation weight above 0 \(distill is 0.0\)"
    ):
        train(cfg, tmp_path / "run", threads=1, progress=False)
    assert not (tmp_path / "run").exists()


def test_cli_init_that_is_missing_is_one_line(tmp_path, capsys):
    from digitkit.runtime.cli import main

    code = main(["train", "--preset", "smoke", "--init", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code != 0 and "none.onnx: no such file" in err and "Traceback" not in err


def test_cli_teacher_that_is_missing_is_one_line(tmp_path, capsys):
    from digitkit.runtime.cli import main

    code = main(["train", "--preset", "smoke", "--teacher", str(tmp_path / "none.pt"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code != 0 and "none.pt: no such file; the run distils its answers" in err and "Traceback" not in err


def test_printed_digits_are_mnist_like_and_leave_the_checking_fonts_out():
    from digitkit.train import nondigits
    from digitkit.train.printed_digits import TRAINING_FONTS, printed_digits

    images, labels = printed_digits(60, seed=5)
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28) and 50 <= len(images) == len(labels) <= 60
    assert set(labels.tolist()) == set(range(10))
    assert images[:, 0, :].max() < 128 and images[:, :, 0].max() < 128  # black paper, the ink inside
    assert images.reshape(len(images), -1).max(1).min() > 200  # every one holds white ink
    assert not set(TRAINING_FONTS) & set(nondigits.CALIBRATION_FONTS) and len(TRAINING_FONTS) == 4
    again, _ = printed_digits(60, seed=5)
    assert np.array_equal(images, again)
