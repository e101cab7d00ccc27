"""CNN training: shapes, a short real run, resume after a kill, checkpoint errors, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

torch = pytest.importorskip("torch")

from digitkit.train.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint  # noqa: E402
from digitkit.train.config import PRESETS, preset  # noqa: E402
from digitkit.train.model import build_model, count_parameters  # noqa: E402
from digitkit.train.trainer import train  # noqa: E402


@pytest.mark.parametrize("name", ["quick", "full", "tiny", "dense"])
def test_model_output_shapes(name):
    cfg = PRESETS[name]
    model = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout).eval()
    for batch in (1, 5):
        assert model(torch.zeros(batch, 1, 28, 28)).shape == (batch, 10)


def test_tiny_model_fits_a_microcontroller_budget():
    cfg = PRESETS["tiny"]
    assert count_parameters(build_model(cfg.arch, cfg.widths, cfg.head)) <= 10_000


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, mnist):
    out = tmp_path_factory.mktemp("smoke")
    metrics = train(preset("smoke", subset=4000), out, threads=2, progress=False)
    return out, metrics


@pytest.mark.slow  # trains (the smoke preset)
def test_short_training_on_a_subset_beats_a_floor(smoke_run):
    out, metrics = smoke_run
    # 2 epochs on 4,000 images: a working pipeline gets > 90 % on the 10,000 test images; a broken one ~10 %
    assert metrics["accuracy"] > 0.90, metrics["accuracy"]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n"] == 10000 and len(saved["confusion_matrix"]) == 10
    assert sum(map(sum, saved["confusion_matrix"])) == 10000
    assert saved["checkpoint_sha256"] and saved["parameters"] == count_parameters(
        model_from_checkpoint(out / "checkpoint.pt")[0]
    )
    assert [h["epoch"] for h in saved["history"]] == [1, 2]


@pytest.mark.slow
def test_evaluate_reproduces_the_training_metrics(smoke_run):
    from digitkit.train.trainer import evaluate_checkpoint

    out, metrics = smoke_run
    assert evaluate_checkpoint(out / "checkpoint.pt")["accuracy"] == pytest.approx(metrics["accuracy"])


@pytest.mark.slow
def test_corrupt_or_foreign_checkpoints_are_named(tmp_path, smoke_run):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes((smoke_run[0] / "checkpoint.pt").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(broken)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a digitkit checkpoint"):
        load_checkpoint(foreign)


def _digitkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "digitkit", *args]


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_checkpoint(tmp_path, mnist):
    out = tmp_path / "run"
    args = [
        "train",
        "--preset",
        "smoke",
        "--subset",
        "3000",
        "--epochs",
        "3",
        "--threads",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(_digitkit(*args), stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while not (out / "checkpoint.pt").exists():  # epoch 1 done; epoch 2 under way
        assert proc.poll() is None and time.time() < deadline, "training ended before its first checkpoint"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = load_checkpoint(out / "checkpoint.pt")["epoch"]
    assert killed_at < 3
    resumed = subprocess.run(_digitkit(*args, "--resume"), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {out / 'checkpoint.pt'} after epoch {killed_at}/3" in resumed.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    assert metrics["accuracy"] > 0.85
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "metrics.json"]


def test_cli_errors_are_one_line(tmp_path):
    result = subprocess.run(_digitkit("evaluate", str(tmp_path / "nope.pt")), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"digitkit evaluate: error: {tmp_path / 'nope.pt'}: no such checkpoint file"
    ]
    assert "Traceback" not in result.stderr


def test_every_subcommand_has_help():
    from digitkit.runtime.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"data", "train", "evaluate"} <= set(commands)
    for name in commands:
        result = subprocess.run(_digitkit(name, "--help"), capture_output=True, text=True)
        assert result.returncode == 0 and "usage: digitkit" in result.stdout, name


def test_missing_extra_is_named_not_raised():
    from digitkit.runtime.cli import missing_extra

    error = missing_extra(ModuleNotFoundError("No module named 'torch'", name="torch"))
    assert error is not None and "pip install 'digitkit[train]'" in str(error)
    assert missing_extra(ModuleNotFoundError("x", name="some_typo_module")) is None
