"""The runtime runs on numpy + onnxruntime (+ OpenCV, Pillow): never torch, torchvision, sklearn, matplotlib.

OpenCV only for pictures: the model-only path runs in an install without it (docs/edge.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "torchvision", "sklearn", "matplotlib", "digitkit.train", "digitkit.export")

SCRIPT = """
import json, sys
import numpy as np
import digitkit.runtime
from digitkit.runtime import Recognizer, read_number, to_mnist, load_picture
r = Recognizer(precision="int8", threads=1)
picture = np.full((280, 280), 255, np.uint8)
picture[60:220, 130:150] = 0  # a 1
p = r.predict(picture)
batch = r.predict_batch([picture, picture])
reading = read_number(np.hstack([picture, picture]), r)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "torchvision", "sklearn", "matplotlib"}
               or m.startswith(("digitkit.train", "digitkit.export")))
print(json.dumps({"digit": p.digit, "status": p.status, "text": reading.text, "heavy": heavy}))
"""


def _run() -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_predicting_imports_no_training_stack():
    result = _run()
    assert result["heavy"] == []
    assert (result["digit"], result["status"], result["text"]) == (1, "ok", "11")


def test_importing_the_package_is_light():
    code = "import sys, digitkit.runtime; print(sorted(m for m in ('numpy', 'cv2', 'onnxruntime', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # names load on first use


MODEL_ONLY = """
import json, sys
import numpy as np
from digitkit.runtime import Recognizer
r = Recognizer(precision="int8", threads=1)
digits = np.zeros((2, 28, 28), np.float32)
digits[:, 4:24, 13:15] = 1.0  # a 1
probs = r.classify_mnist(digits)
p = r.predict_mnist(list(digits), on_page=False)[0]
print(json.dumps({"shape": list(probs.shape), "sums": probs.sum(axis=1).tolist(), "status": p.status,
                  "cv2": "cv2" in sys.modules, "vision": "digitkit.runtime.vision" in sys.modules}))
"""


def test_the_model_only_path_never_imports_opencv():
    # A device that feeds 28×28 arrays installs `pip install digitkit` (no OpenCV): this must keep working there.
    out = subprocess.run([sys.executable, "-c", MODEL_ONLY], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["shape"] == [2, 10]
    assert all(abs(s - 1) < 1e-4 for s in result["sums"])
    assert result["status"] in ("ok", "not sure")
    assert result["cv2"] is False and result["vision"] is False


WITHOUT_OPENCV = """
import sys
sys.modules["cv2"] = None  # as in an install without either OpenCV wheel: `import cv2` fails
from digitkit.runtime.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_picture_without_opencv_names_both_installs(tmp_path):
    from PIL import Image

    picture = tmp_path / "digit.png"
    Image.new("L", (64, 64), 255).save(picture)
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_OPENCV, "predict", str(picture)], capture_output=True, text=True
    )
    assert proc.returncode != 0, proc.stderr  # predict reports it per file (exit 1), or as a missing extra (3)
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "digitkit[headless]" in message and "digitkit[app]" in message


def test_each_install_has_exactly_one_opencv_wheel():
    # Two OpenCV wheels in one environment both own cv2/: whichever pip wrote last wins. So the plain
    # install has none, the headless and app extras one each, and no other extra brings a second.
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]

    def opencv(requirements: list[str]) -> list[str]:
        return sorted(r.split(">")[0].split("=")[0].strip() for r in requirements if r.startswith("opencv"))

    extras = project["optional-dependencies"]
    assert opencv(project["dependencies"]) == []
    assert opencv(extras["headless"]) == ["opencv-python-headless"]
    assert opencv(extras["app"]) == ["opencv-python"]
    assert all(opencv(reqs) == [] for name, reqs in extras.items() if name not in ("headless", "app"))


def test_the_app_says_which_install_gives_it_a_window(monkeypatch):
    # When opencv-python-headless's files own cv2/, the app names the fix instead of a cryptic cv2.error.
    window = pytest.importorskip("digitkit.runtime.app.window")
    from digitkit.runtime.errors import DigitkitError

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(window, "_local_display_reachable", lambda _display: True)
    monkeypatch.setattr(window.cv2, "getBuildInformation", lambda: "  Video I/O:\n  GUI:    NONE\n")
    assert window.gui_backend() == "NONE"
    with pytest.raises(DigitkitError, match=r"headless build.*digitkit\[app\]"):
        window.open_window("digitkit-test")
