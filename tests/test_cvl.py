"""The CVL loader (train/cvl.py) on files the tests write, the trainer's CVL hook, and the real files when present."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from digitkit.runtime.errors import DigitkitError
from digitkit.train import cvl


def _write_split(folder, split: str, writers: list[int], per_writer: int = 3) -> None:
    """Digits drawn dark on light grey paper, 20 px tall in 28×28, as the CVL files hold them."""
    images, labels, who = [], [], []
    for w in writers:
        for i in range(per_writer):
            digit = (w + i) % 10
            picture = np.full((28, 28), 245, np.uint8)
            cv2.putText(picture, str(digit), (7, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2, cv2.LINE_AA)
            images.append(picture)
            labels.append(digit)
            who.append(w)
    np.savez(
        folder / f"cvl_{split}.npz",
        images=np.stack(images),
        labels=np.array(labels, np.uint8),
        writers=np.array(who, np.int16),
        files=np.array([f"{d}-{w:04d}.png" for d, w in zip(labels, who, strict=True)]),
    )


@pytest.fixture
def cvl_folder(tmp_path, monkeypatch):
    _write_split(tmp_path, "train", [1, 2])
    _write_split(tmp_path, "valid", [3])
    monkeypatch.setenv(cvl.ENV_CVL_DIR, str(tmp_path))
    return tmp_path


def test_digits_come_out_white_on_black_and_centred_as_mnist(cvl_folder):
    digits = cvl.load_cvl("train")
    assert digits.images.shape == (6, 28, 28) and digits.images.dtype == np.uint8
    assert list(digits.writers) == [1, 1, 1, 2, 2, 2] and list(digits.labels) == [1, 2, 3, 2, 3, 4]
    for image in digits.images:
        assert image[0].max() == 0 and image[:, 0].max() == 0 and image.max() == 255  # paper black, ink white
        ys, xs = np.nonzero(image)
        mass = image[ys, xs].astype(float)
        assert abs(np.average(ys, weights=mass) - 13.5) < 1.5 and abs(np.average(xs, weights=mass) - 13.5) < 1.5


def test_missing_or_broken_files_are_one_line_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(cvl.ENV_CVL_DIR, str(tmp_path))
    with pytest.raises(DigitkitError, match="cvl_train.npz: CVL digits not found") as missing:
        cvl.load_cvl("train")
    assert "\n" not in str(missing.value) and cvl.ENV_CVL_DIR in str(missing.value)
    (tmp_path / "cvl_train.npz").write_bytes(b"not a zip")
    with pytest.raises(DigitkitError, match="not a CVL digits file"):
        cvl.load_cvl("train")
    with pytest.raises(DigitkitError, match="unknown CVL split"):
        cvl.load_cvl("test")


def test_the_check_says_in_one_line_whether_the_files_are_there(cvl_folder, capsys):
    """What `make ship` runs first: the counts when both files load, one error line and exit 1 when one is missing."""
    assert cvl.main() == 0
    assert capsys.readouterr().out == f"CVL digits in {cvl_folder}: train 6, valid 3\n"
    (cvl_folder / "cvl_valid.npz").unlink()
    assert cvl.main() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {cvl_folder / 'cvl_valid.npz'}: CVL digits not found; ")
    assert captured.err.count("\n") == 1 and cvl.ENV_CVL_DIR in captured.err


def test_held_out_split_and_repeats(cvl_folder):
    assert cvl.held_out_split(("train",)) == "valid" and cvl.held_out_split(("valid",)) == "train"
    assert cvl.held_out_split(("train", "valid")) is None
    mnist = np.zeros((4, 28, 28), np.uint8)
    images, labels = cvl.with_cvl_digits(mnist, np.zeros(4, np.int64), ("train",), 3)
    assert len(images) == 4 + 3 * 6 and list(labels[4:10]) == [1, 2, 3, 2, 3, 4] == list(labels[10:16])
    assert cvl.with_cvl_digits(mnist, np.zeros(4, np.int64), (), 3)[0] is mnist


@pytest.mark.slow
def test_a_run_on_mnist_and_cvl_reports_the_writers_it_did_not_train_on(cvl_folder, tmp_path, mnist):
    from digitkit.train.config import preset
    from digitkit.train.trainer import train

    cfg = dataclasses.replace(preset("smoke"), epochs=1, subset=1000, cvl_splits=("train",), cvl_repeat=2)
    metrics = train(cfg, tmp_path / "run", progress=False)
    held = metrics["cvl_held_out"]
    assert held["split"] == "valid" and held["n"] == 3 and 0 <= held["accuracy"] <= 1
    assert metrics["config"]["cvl_splits"] == ("train",)


def test_real_cvl_files_hold_disjoint_writers(shared_dir):
    if not (shared_dir / "data" / "cvl" / "cvl_train.npz").is_file():
        pytest.skip("../shared/data/cvl is not present")
    train, valid = (cvl.load_cvl_raw(s, shared_dir / "data" / "cvl") for s in cvl.SPLITS)
    assert len(train[0]) == len(valid[0]) == 7000
    assert not set(train[2].tolist()) & set(valid[2].tolist())
    assert np.bincount(train[1]).tolist() == [700] * 10
