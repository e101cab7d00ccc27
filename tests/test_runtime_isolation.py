"""The runtime runs on numpy + onnxruntime (+ OpenCV, Pillow): never torch, torchvision, sklearn, matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ZOO_MODEL

from digitkit.runtime.recognizer import shipped_model_path

HEAVY = ("torch", "torchvision", "sklearn", "matplotlib", "digitkit.train", "digitkit.export")

SCRIPT = """
import json, sys
import numpy as np
import digitkit.runtime
from digitkit.runtime import Recognizer, read_number, to_mnist, load_picture
model = sys.argv[1] if sys.argv[1] != "shipped" else None
r = Recognizer(model, precision="int8", threads=1)
picture = np.full((280, 280), 255, np.uint8)
picture[60:220, 130:150] = 0  # a 1
p = r.predict(picture)
batch = r.predict_batch([picture, picture])
reading = read_number(np.hstack([picture, picture]), r)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "torchvision", "sklearn", "matplotlib"}
               or m.startswith(("digitkit.train", "digitkit.export")))
print(json.dumps({"digit": p.digit, "status": p.status, "text": reading.text, "heavy": heavy}))
"""


def _run(model: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT, model], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_predicting_imports_no_training_stack(shared_dir):
    model = "shipped" if shipped_model_path("cnn", "int8").is_file() else str(ZOO_MODEL)
    result = _run(model)
    assert result["heavy"] == []
    assert result["status"] in ("ok", "not sure")


def test_importing_the_package_is_light():
    code = "import sys, digitkit.runtime; print(sorted(m for m in ('numpy', 'cv2', 'onnxruntime', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # names load on first use
