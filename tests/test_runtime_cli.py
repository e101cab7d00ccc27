"""digitkit predict / digitkit read, end to end through the real command."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest


def _digitkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "digitkit.runtime.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory, mnist_test_u8):
    images, labels = mnist_test_u8
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for i in range(3):
        path = folder / f"digit{i}.png"
        cv2.imwrite(str(path), 255 - cv2.resize(images[i], (280, 280)))
        paths.append(path)
    number = np.full((140, 400), 255, np.uint8)
    for k, i in enumerate(range(3)):
        number[20:104, 20 + 120 * k : 104 + 120 * k] = 255 - cv2.resize(images[i], (84, 84))
    (folder / "number.png").write_bytes(cv2.imencode(".png", number)[1].tobytes())
    (folder / "broken.png").write_bytes(paths[0].read_bytes()[:200])
    return folder, paths, [int(v) for v in labels[:3]]


def test_predict_prints_digit_and_confidence(pictures):
    _, paths, labels = pictures
    out = _digitkit("predict", *map(str, paths), "--min-confidence", "0")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, path, label in zip(lines, paths, labels, strict=True):
        assert line.startswith(f"{path}: {label} (") and line.endswith("%)")


def test_predict_json_and_top(pictures):
    _, paths, labels = pictures
    out = _digitkit("predict", str(paths[0]), "--json", "--top", "3")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    result = doc["results"][0]
    assert doc["provider"] in ("cpu", "cuda") and result["digit"] in (labels[0], None)
    assert len(result["top"]) == 3 and result["top"][0]["digit"] == labels[0]
    assert result["top"][0]["probability"] >= result["top"][1]["probability"]


def test_predict_reports_bad_files_and_goes_on(pictures):
    folder, paths, _ = pictures
    out = _digitkit("predict", str(folder / "missing.png"), str(folder / "broken.png"), str(paths[1]))
    assert out.returncode == 1
    assert "missing.png: no such file" in out.stderr
    assert "broken.png: corrupt or truncated image" in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.strip().startswith(str(paths[1]))


def test_bad_model_is_one_line_error(tmp_path, pictures):
    _, paths, _ = pictures
    fake = tmp_path / "fake.onnx"
    fake.write_text("nope")
    out = _digitkit("predict", str(paths[0]), "--model", str(fake))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "fake.onnx: not a loadable ONNX model" in out.stderr


def test_read_prints_the_number(pictures):
    folder, _, labels = pictures
    out = _digitkit("read", str(folder / "number.png"), "--min-confidence", "0")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "".join(map(str, labels))
    doc = json.loads(_digitkit("read", str(folder / "number.png"), "--json", "--min-confidence", "0").stdout)
    assert doc["text"] == "".join(map(str, labels)) and len(doc["digits"]) == 3 and len(doc["digits"][0]["box"]) == 4


def test_read_stages_writes_each_stage_picture(pictures, tmp_path):
    """--stages DIR: the picture at each stage, numbered in order, and the 28×28s the model saw, one per digit."""
    folder, _, labels = pictures
    stages = tmp_path / "stages"
    out = _digitkit("read", str(folder / "number.png"), "--min-confidence", "0", "--stages", str(stages))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "".join(map(str, labels)), "the reading is the one without --stages"
    names = sorted(p.name for p in stages.iterdir())
    assert names[0] == "01-grey.png" and names[-1].endswith("-digits.png")
    assert {"ink", "pieces", "candidates", "rows"} <= {n.split("-", 1)[1][:-4] for n in names}
    grey = cv2.imread(str(stages / "01-grey.png"), cv2.IMREAD_UNCHANGED)
    assert grey.shape == (140, 400)
    digits = cv2.imread(str(stages / names[-1]), cv2.IMREAD_UNCHANGED)
    assert digits.shape[1] == 3 * digits.shape[0], "three 28×28 tiles side by side"
    assert f"{len(names)} stage pictures" in out.stderr


def test_read_stages_refuses_what_it_cannot_write(pictures, tmp_path):
    folder, paths, _ = pictures
    a_file = tmp_path / "file.png"
    a_file.write_bytes(b"x")
    out = _digitkit("read", str(folder / "number.png"), "--stages", str(a_file))
    assert out.returncode != 0 and "is a file; name a folder" in out.stderr and "Traceback" not in out.stderr
    out = _digitkit("read", str(paths[0]), str(paths[1]), "--stages", str(tmp_path / "s"))
    assert out.returncode != 0 and "--stages takes one picture" in out.stderr
