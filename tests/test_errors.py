"""Issue #13: every bad input and fault gets one line, the documented exit code, no wrong answer, nothing lost.

One test (or one parameter) per case of the hardening issue (#13); docs/errors.md is the table of them. Over 400
lines on purpose: it is that table's one executable copy, and split by command it would scatter the shared
subprocess and monkeypatching helpers each case uses. Most run ``main()``
in-process (cheap); the ones about real pipes, signals and /dev/full run the command in a subprocess.
Full disks and read-only folders are simulated by monkeypatching the write to raise the OSError the kernel
would (ENOSPC, EROFS), except /dev/full, which is real.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from printed import digit_video

from digitkit.runtime.cli import main
from digitkit.runtime.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
)

SHIPPED_CNN = Path(__file__).resolve().parents[1] / "runtime" / "models" / "digitkit-cnn.onnx"


# -- helpers -------------------------------------------------------------------------------------
def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``digitkit ARGS`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


def run(*args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digitkit.runtime.cli", *args], input=stdin, capture_output=True, timeout=timeout
    )


def one_line(err: str) -> str:
    """The stderr of a failed command: exactly one line, and no traceback."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory) -> Path:
    """A clear handwritten-like 3, dark on white, drawn here (no data set needed)."""
    image = np.zeros((28, 28), np.uint8)
    cv2.putText(image, "3", (6, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    path = tmp_path_factory.mktemp("pictures") / "three.png"
    cv2.imwrite(str(path), 255 - cv2.resize(image, (140, 140)))
    return path


@pytest.fixture(scope="module")
def nan_model(tmp_path_factory) -> Path:
    """The shipped CNN with one weight tensor set to NaN: it loads and runs, and answers nonsense."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = onnx.load(str(SHIPPED_CNN))
    tensor = model.graph.initializer[0]
    weights = numpy_helper.to_array(tensor).copy()
    weights[...] = np.nan
    tensor.CopyFrom(numpy_helper.from_array(weights, tensor.name))
    path = tmp_path_factory.mktemp("models") / "cnn_nan.onnx"
    onnx.save(model, str(path))
    return path


def _linear_model(path: Path, classes: int, batch: int | str = "N") -> Path:
    """A one-layer model on [batch, 1, 28, 28] with ``classes`` outputs (for the wrong-shape cases)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.random.default_rng(0).normal(size=(784, classes)).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["input"], ["flat"]), helper.make_node("MatMul", ["flat", "W"], ["logits"])],
        "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, classes])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained but well-formed quick-preset checkpoint (weights hash included)."""
    torch = pytest.importorskip("torch")
    from digitkit.train.checkpoint import save_checkpoint
    from digitkit.train.config import preset
    from digitkit.train.model import build_model

    cfg = preset("quick")
    torch.manual_seed(0)
    model = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout)
    path = tmp_path_factory.mktemp("checkpoints") / "ck.pt"
    save_checkpoint(path, {"config": cfg.to_dict(), "model": model.state_dict(), "epoch": 0})
    return path


# -- wrong answers -------------------------------------------------------------------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_nan_weights_are_an_error_naming_the_model_not_a_digit(capsys, digit_png, nan_model, as_json):
    code, out, err = cli(capsys, "predict", str(digit_png), "--model", str(nan_model), *(["--json"] if as_json else []))
    assert code == EXIT_FAILURE
    assert str(nan_model) in one_line(err) and "non-finite" in err
    assert out == "" and "NaN" not in out  # no "0 (nan%)", no bare NaN in JSON


def test_nan_weights_in_the_app_log_no_digit(capsys, tmp_path, nan_model, monkeypatch):
    log = tmp_path / "events.jsonl"
    monkeypatch.setattr(sys, "stdin", _Lines(["[[100, 100], [100, 300]]"]))
    code, _, err = cli(capsys, "app", "--headless", "--model", str(nan_model), "--log", str(log))
    assert code == EXIT_FAILURE and "non-finite" in one_line(err)
    assert not log.exists() or log.read_text() == ""


def test_nan_weights_on_a_video_stop_the_app_instead_of_reading_nothing(capsys, tmp_path, nan_model, cut_video):
    log = tmp_path / "events.jsonl"
    code, _, err = cli(
        capsys, "app", "--headless", "--source", str(cut_video), "--model", str(nan_model), "--log", str(log)
    )
    assert code == EXIT_FAILURE and "non-finite" in one_line(err)
    assert not log.exists() or log.read_text() == ""


def test_flipped_bytes_in_a_checkpoints_weights_are_refused(capsys, tmp_path, checkpoint):
    torch = pytest.importorskip("torch")
    state = torch.load(checkpoint, weights_only=True)
    assert len(state["weights_sha256"]) == 64
    blob = bytearray(checkpoint.read_bytes())
    largest = max(state["model"].values(), key=lambda t: t.numel()).numpy().tobytes()
    at = blob.find(largest)
    assert at > 0
    blob[at + len(largest) // 2] ^= 0xFF
    flipped = tmp_path / "flipw.pt"
    flipped.write_bytes(bytes(blob))
    assert torch.load(flipped, weights_only=True)["model"] is not None  # torch itself loads it silently
    code, out, err = cli(capsys, "evaluate", str(flipped))
    assert code == EXIT_FAILURE and "weights are corrupt" in one_line(err) and out == ""


# -- hangs and silent losses ---------------------------------------------------------------------
def test_threads_are_capped_at_the_usable_cores_and_it_is_said(capsys, digit_png):
    from digitkit.runtime.cores import usable_cores
    from digitkit.runtime.recognizer import Recognizer

    assert Recognizer(threads=1000).threads == usable_cores()
    started = time.perf_counter()
    code, out, err = cli(capsys, "predict", str(digit_png), "--threads", "1000")
    assert code == 0 and out.startswith(f"{digit_png}: 3 (")
    assert f"capped at the {usable_cores()} usable CPU cores" in err
    assert time.perf_counter() - started < 30


class _Lines:
    """A stand-in for stdin: iterable lines, not a terminal."""

    def __init__(self, lines: list[str]):
        self._lines = [line + "\n" for line in lines]

    def __iter__(self):
        return iter(self._lines)

    def isatty(self) -> bool:
        return False


DRAW_AND_SAVE = ["[[100, 100], [100, 300]]", '{"key": "1"}', '{"key": "s"}']


def test_a_save_into_a_folder_that_cannot_exist_is_said_logged_and_fails(capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    log = tmp_path / "events.jsonl"
    monkeypatch.setattr(sys, "stdin", _Lines(DRAW_AND_SAVE))
    code, _, err = cli(capsys, "app", "--headless", "--save-dir", str(blocker / "sub"), "--log", str(log))
    assert code == EXIT_FAILURE and "1 drawing not saved" in one_line(err)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[-1]["event"] == "save_failed" and events[-1]["label"] == "1"
    assert "save" not in [e["event"] for e in events]


def test_a_save_onto_a_full_disk_is_said_logged_and_fails(capsys, tmp_path, monkeypatch):
    from digitkit.runtime.app import draw

    def full_disk(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(draw, "atomic_write_bytes", full_disk)
    log = tmp_path / "events.jsonl"
    monkeypatch.setattr(sys, "stdin", _Lines(DRAW_AND_SAVE))
    code, _, err = cli(capsys, "app", "--headless", "--save-dir", str(tmp_path / "d"), "--log", str(log))
    assert code == EXIT_FAILURE and "No space left on device" in one_line(err)
    assert json.loads(log.read_text().splitlines()[-1])["error"] == "No space left on device"
    assert not (tmp_path / "d").exists() or list((tmp_path / "d").iterdir()) == []


def test_data_removes_the_temporary_file_of_a_killed_run(tmp_path, mnist):
    from digitkit.train.mnist import FILES, ensure_mnist, raw_dir

    folder = raw_dir(tmp_path)
    folder.mkdir(parents=True)
    for spec in FILES:
        (folder / spec.name).symlink_to(raw_dir() / spec.name)
    stale = folder / ".train-images-idx3-ubyte.k1ll3d.tmp"
    stale.write_bytes(b"\0" * 1000)
    messages: list[str] = []
    ensure_mnist(tmp_path, offline=True, log=messages.append)
    assert not stale.exists()
    assert any("left by a run that was stopped" in m for m in messages)


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "drawings"
    folder.mkdir()
    stale = folder / ".1_20260101-000000-000000.png.k1ll3d.tmp"
    stale.write_bytes(b"half a png")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = folder / ".2_20260101-000000-000000.png.live.tmp"  # another app writing right now: left alone
    fresh.write_bytes(b"being written")
    monkeypatch.setattr(sys, "stdin", _Lines(DRAW_AND_SAVE))
    code, _, _ = cli(capsys, "app", "--headless", "--save-dir", str(folder), "--log", os.devnull)
    assert code == 0
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[0] == fresh.name and names[1].startswith("1_") and names[1].endswith(".png")


def test_export_onto_a_full_disk_writes_nothing(capsys, tmp_path, checkpoint, monkeypatch, mnist):
    from digitkit.export import mobile

    def full_disk(model_path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(model_path).with_suffix(".ort")))

    monkeypatch.setattr(mobile, "mobile_artifacts", full_disk)
    out = tmp_path / "out" / "m.onnx"
    code, stdout, err = cli(capsys, "export", str(checkpoint), "--out", str(out), "--no-verify")
    assert code == EXIT_FAILURE
    assert "nothing was written" in one_line(err) and str(out) in err
    assert list(out.parent.iterdir()) == []  # no .onnx without its .ort, no staging folder
    assert "wrote" not in stdout


def test_a_staging_folder_of_a_killed_export_is_removed_and_stale_evidence_too(tmp_path):
    from digitkit.export.staging import staged_outputs

    target = tmp_path / "m.onnx"
    killed = tmp_path / ".m.onnx.staging-abc123"
    killed.mkdir()
    (killed / "m.onnx").write_bytes(b"half")
    (tmp_path / "m.ort").write_bytes(b"from an older model")
    with staged_outputs(target, (".ort", ".verify.json")) as staged:
        staged.write_bytes(b"new model")
        staged.with_name("m.verify.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.verify.json"]
    assert target.read_bytes() == b"new model"


def test_an_interrupted_step_leaves_the_previous_outputs_as_they_were(tmp_path):
    from digitkit.export.staging import staged_outputs

    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), staged_outputs(target, (".ort",)) as staged:
        staged.write_bytes(b"new")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"] and target.read_bytes() == b"old"


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("video")
    whole = folder / "clip.avi"
    digit_video(whole, "MJPG", 40)
    cut = folder / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return cut


def test_a_video_cut_midway_says_frames_are_missing(capsys, cut_video):
    code, _, err = cli(capsys, "app", "--headless", "--source", str(cut_video), "--log", os.devnull)
    assert code == EXIT_FAILURE
    line = one_line(err)  # no FFmpeg chatter either
    assert line.startswith(f"digitkit app: error: {cut_video}: ") and "of its 40 frames could not be read" in line


# -- a message instead of a traceback ------------------------------------------------------------
def test_a_write_onto_a_full_disk_names_the_target_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    from digitkit.runtime import files
    from digitkit.runtime.cli import _describe_os_error

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full_disk)
    target = tmp_path / "checkpoint.pt"
    with pytest.raises(OSError) as caught:
        files.atomic_write_bytes(target, b"weights")
    assert _describe_os_error(caught.value) == f"{target}: No space left on device"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, option",
    [
        (["train", "--preset", "nonsense"], "--preset"),
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--threads", "-1"], "--threads"),
        (["train", "--threads", "0"], "--threads"),  # as predict: 0 is not "all cores"
        (["train", "--device", "nonsense"], "--device"),
        (["train", "--subset", "-5"], "--subset"),
        (["export", "ck.pt", "--opset", "99"], "--opset"),
        (["export", "ck.pt", "--opset", "5"], "--opset"),
        (["quantize", "m.onnx", "--calibration-images", "-5"], "--calibration-images"),
        (["verify", "m.onnx", "--min-accuracy", "nan"], "--min-accuracy"),
        (["predict", "x.png", "--threads", "0"], "--threads"),
        (["predict", "x.png", "--top", "0"], "--top"),
        (["predict", "x.png", "--min-confidence", "2"], "--min-confidence"),
        (["app", "--max-frames", "0"], "--max-frames"),
        (["bench", "--batch-sizes", "0"], "--batch-sizes"),
    ],
)
def test_out_of_range_arguments_are_one_usage_line(capsys, args, option):
    code, out, err = cli(capsys, *args)
    assert code == EXIT_USAGE and out == ""  # nothing ran: no torch IR dumped on stdout
    line = one_line(err)
    assert line.startswith(f"digitkit {args[0]}: error: argument {option}")


def test_train_out_that_is_a_file_is_one_line_and_trains_nothing(capsys, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from digitkit.train import trainer

    monkeypatch.setattr(trainer, "train", lambda *a, **k: pytest.fail("started training"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = cli(capsys, "train", "--out", str(afile))
    assert code == EXIT_FAILURE and "is a file" in one_line(err)


@pytest.mark.parametrize("case", ["no config", "unknown arch", "a folder", "missing"])
def test_evaluate_a_checkpoint_that_cannot_be_used(capsys, tmp_path, checkpoint, case):
    torch = pytest.importorskip("torch")
    state = torch.load(checkpoint, weights_only=True)
    path = tmp_path / "ck.pt"
    if case == "no config":
        del state["config"]
        torch.save(state, path)
    elif case == "unknown arch":
        state["config"]["arch"] = "nonsense"
        torch.save(state, path)
    elif case == "a folder":
        path = tmp_path
    else:
        path = tmp_path / "missing.pt"
    code, out, err = cli(capsys, "evaluate", str(path))
    expected = {
        "no config": "no 'config' entry",
        "unknown arch": "unknown architecture 'nonsense'",
        "a folder": "is a folder",
        "missing": "no such checkpoint file",
    }[case]
    assert code == EXIT_FAILURE and expected in one_line(err) and out == ""


def test_data_into_a_folder_that_cannot_be_created(capsys, tmp_path):
    pytest.importorskip("torch")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = cli(capsys, "data", "--data-dir", str(blocker), "--offline")
    assert code == EXIT_FAILURE and "cannot create the data folder" in one_line(err)


def test_data_into_a_read_only_folder(capsys, tmp_path, monkeypatch):
    """Read-only simulated: os.access says so (as root, a real read-only folder needs a mount)."""
    pytest.importorskip("torch")
    from digitkit.train import mnist

    monkeypatch.setattr(mnist.os, "access", lambda path, mode: False)
    monkeypatch.setattr(mnist, "_from_hub_wheel", lambda *a, **k: pytest.fail("fetched into a read-only folder"))
    code, _, err = cli(capsys, "data", "--data-dir", str(tmp_path), "--offline")
    assert code == EXIT_FAILURE and "cannot write MNIST into" in one_line(err) and "--data-dir" in err


def test_a_bad_file_in_a_read_only_folder_is_not_said_removed(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from digitkit.train import mnist

    folder = mnist.raw_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / mnist.FILES[3].name).write_bytes(b"not mnist")

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    messages: list[str] = []
    with pytest.raises(mnist.DataError, match="cannot be removed .Read-only file system"):
        mnist.check_files(tmp_path, messages.append)
    assert not any("removed" in m for m in messages)


def test_verify_runs_a_batch_one_model(capsys, tmp_path, mnist):
    model = _linear_model(tmp_path / "batch1.onnx", 10, batch=1)
    code, out, err = cli(capsys, "verify", str(model))
    # onnxruntime, OpenCV and the dynamic-batch check all run it one picture at a time; its random weights read
    # MNIST at chance, which verify never calls verified
    assert code == EXIT_FAILURE and "verified" not in out and "test accuracy" in err
    report = json.loads((tmp_path / "batch1.verify.json").read_text())
    assert report["batch"] == "fixed at 1" and report["onnxruntime"]["n"] == 10000
    assert [c["ok"] for c in report["checks"] if c["check"] != "onnxruntime test accuracy"] == [True] * (
        len(report["checks"]) - 1
    )


def test_verify_says_a_five_class_model_has_the_wrong_class_count(capsys, tmp_path, mnist):
    model = _linear_model(tmp_path / "five.onnx", 5)
    code, _, err = cli(capsys, "verify", str(model))
    assert code == EXIT_FAILURE and "gives 5 scores per image; a digit model gives 10" in one_line(err)


@pytest.mark.parametrize("stroke", ["[[NaN, 5], [1, 1]]", "[[Infinity, 5]]", "[[1e300, 5]]", "[[true, 5]]"])
def test_headless_strokes_that_are_not_numbers(capsys, monkeypatch, stroke):
    monkeypatch.setattr(sys, "stdin", _Lines([stroke]))
    code, _, err = cli(capsys, "app", "--headless", "--log", os.devnull)
    assert code == EXIT_FAILURE and "stdin line 1: a stroke is" in one_line(err)


def test_predict_into_a_closed_pipe_ends_quietly_with_141(digit_png):
    process = subprocess.Popen(
        [sys.executable, "-m", "digitkit.runtime.cli", "predict", *[str(digit_png)] * 40],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline()
    process.stdout.close()  # what `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert first.startswith(str(digit_png).encode()) and err == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_output_onto_a_full_device(digit_png):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "digitkit.runtime.cli", "predict", str(digit_png)],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert result.returncode == EXIT_FAILURE
    assert one_line(result.stderr.decode()).endswith(
        "cannot write the output (standard output): No space left on device"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_app_log_onto_a_full_device():
    result = run("app", "--headless", "--log", "/dev/full", stdin=b"[[100, 100], [100, 300]]\n")
    assert result.returncode == EXIT_FAILURE
    assert (
        one_line(result.stderr.decode())
        == "digitkit app: error: cannot write the log /dev/full: No space left on device"
    )


def test_ctrl_c_is_one_line_and_130():
    process = subprocess.Popen(
        [sys.executable, "-m", "digitkit.runtime.cli", "app", "--headless"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as in a terminal: a suite started in the background (`cmd &`) inherits SIGINT ignored, and Python
        # keeps an ignored SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    process.stdin.write(b"[[100, 100], [100, 300]]\n")
    process.stdin.flush()
    assert process.stdout.readline().startswith(b'{"time"')  # the models are loaded, it waits for stdin
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)  # stdin stays open: an end of input would let it stop cleanly before the signal lands
    err = process.stderr.read()
    process.stdin.close()
    assert process.returncode == EXIT_INTERRUPTED
    assert one_line(err.decode()) == "digitkit app: interrupted"


def test_a_bug_is_one_line_and_70_and_debug_shows_the_traceback(capsys, digit_png, monkeypatch):
    from digitkit.runtime import recognizer

    def bug(self, picture):
        raise RuntimeError("a bug\nwith a second line")

    monkeypatch.setattr(recognizer.Recognizer, "predict", bug)
    code, _, err = cli(capsys, "predict", str(digit_png))
    assert code == EXIT_INTERNAL
    assert one_line(err) == (
        f"digitkit predict: internal error: {digit_png}: RuntimeError: a bug "
        "(a bug in digitkit; run again with --debug for the traceback)"
    )
    code, _, err = cli(capsys, "predict", str(digit_png), "--debug")
    assert code == EXIT_INTERNAL and "Traceback (most recent call last)" in err and "RuntimeError: a bug" in err


# -- misleading ----------------------------------------------------------------------------------
def test_a_missing_int8_model_says_quantize_makes_it(tmp_path, monkeypatch):
    from digitkit.runtime import recognizer

    monkeypatch.setattr(recognizer, "MODELS_DIR", tmp_path)
    with pytest.raises(recognizer.ModelError, match=r"run: digitkit quantize\)"):
        recognizer.resolve_model(None, "int8")
    with pytest.raises(recognizer.ModelError, match=r"run: digitkit export\)"):
        recognizer.resolve_model(None, "fp32")


@pytest.mark.parametrize("key", ["ű", "ñ", "€"])
def test_headless_non_ascii_keys_are_refused_not_masked(capsys, monkeypatch, key):
    monkeypatch.setattr(sys, "stdin", _Lines([json.dumps({"key": key}), "[[100, 100], [100, 300]]"]))
    code, out, err = cli(capsys, "app", "--headless")
    assert code == EXIT_FAILURE and "is not one of the app's keys" in one_line(err)
    assert out == ""  # it neither quit early as "q" nor drew on


def test_precision_int8_with_a_model_file_uses_its_int8_twin(capsys, tmp_path, digit_png):
    model = tmp_path / "m.onnx"
    model.write_bytes(SHIPPED_CNN.read_bytes())
    code, _, err = cli(capsys, "predict", str(digit_png), "--model", str(model), "--precision", "int8")
    assert code == EXIT_FAILURE and "no int8 model next to" in one_line(err) and "m.int8.onnx" in err
    (tmp_path / "m.int8.onnx").write_bytes(SHIPPED_CNN.with_name("digitkit-cnn.int8.onnx").read_bytes())
    code, out, _ = cli(capsys, "predict", str(digit_png), "--model", str(model), "--precision", "int8", "--json")
    assert code == 0 and json.loads(out)["model"] == "m.int8.onnx"


def test_predict_and_read_take_a_picture_on_stdin(digit_png):
    for command in ("predict", "read"):
        result = run(command, "-", stdin=digit_png.read_bytes())
        assert result.returncode == 0, result.stderr
        expected = "-: 3 (" if command == "predict" else "3\n"
        assert result.stdout.decode().startswith(expected)
    empty = run("predict", "-", stdin=b"")
    assert empty.returncode == EXIT_FAILURE and "no picture on stdin" in empty.stderr.decode()
