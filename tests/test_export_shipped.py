"""The models shipped in the runtime package reach their targets on the MNIST test set.

This is the proof behind MODEL_CARD.md: the files are found the way an
installed package finds them (``importlib.resources``), fed from their own
metadata, and run through onnxruntime (and OpenCV for the fp32 CNN) on all
10,000 test images.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from digitkit.runtime.model_spec import ModelSpec  # noqa: E402

MODELS = Path(str(importlib.resources.files("digitkit.runtime") / "models"))


def _need(*names: str) -> None:
    missing = [n for n in names if not (MODELS / n).is_file()]
    if missing:
        pytest.skip(f"not exported yet: {', '.join(missing)}")


def _logits(path: Path, images_u8: np.ndarray) -> np.ndarray:
    model = onnx.load(str(path))
    spec = ModelSpec.from_metadata({p.key: p.value for p in model.metadata_props})
    x = (images_u8[:, None].astype(np.float32) * (spec.pixel_scale / 255.0) - spec.mean) / spec.std
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate(
        [sess.run(None, {name: x[i : i + 1000].astype(np.float32)})[0] for i in range(0, len(x), 1000)]
    )


def _accuracy(path: Path, mnist_test_u8) -> float:
    images, labels = mnist_test_u8
    return float((_logits(path, images).argmax(1) == labels).mean())


@pytest.mark.slow
def test_shipped_cnn_fp32_and_int8_reach_their_targets(mnist_test_u8):
    _need("digitkit-cnn.onnx", "digitkit-cnn.int8.onnx")
    fp32, int8 = MODELS / "digitkit-cnn.onnx", MODELS / "digitkit-cnn.int8.onnx"
    acc32, acc8 = _accuracy(fp32, mnist_test_u8), _accuracy(int8, mnist_test_u8)
    assert acc32 >= 0.9965
    assert acc32 - acc8 <= 0.0010 + 1e-9  # within 0.10 percentage points
    assert int8.stat().st_size <= 0.35 * fp32.stat().st_size


@pytest.mark.slow
def test_shipped_cnn_runs_the_same_in_opencv(mnist_test_u8):
    cv2 = pytest.importorskip("cv2")
    _need("digitkit-cnn.onnx")
    path = MODELS / "digitkit-cnn.onnx"
    images, _ = mnist_test_u8
    spec = ModelSpec.from_metadata({p.key: p.value for p in onnx.load(str(path)).metadata_props})
    x = ((images[:, None].astype(np.float32) / 255.0 - spec.mean) / spec.std).astype(np.float32)
    net = cv2.dnn.readNetFromONNX(str(path))
    outs = []
    for i in range(0, len(x), 1000):
        net.setInput(x[i : i + 1000])
        outs.append(np.asarray(net.forward()).reshape(-1, 10))
    agree = (np.concatenate(outs).argmax(1) == _logits(path, images).argmax(1)).mean()
    assert agree >= 0.999


def test_shipped_tiny_model_is_small_and_accurate(mnist_test_u8):
    _need("digitkit-tiny.onnx", "digitkit-tiny.int8.onnx")
    fp32, int8 = MODELS / "digitkit-tiny.onnx", MODELS / "digitkit-tiny.int8.onnx"
    params = int({p.key: p.value for p in onnx.load(str(fp32)).metadata_props}["digitkit.parameters"])
    assert params <= 10_000
    assert _accuracy(fp32, mnist_test_u8) >= 0.993
    assert int8.stat().st_size <= 20_000
    assert _accuracy(int8, mnist_test_u8) >= 0.99


def test_shipped_models_carry_their_evidence():
    _need("MODEL_CARD.md")
    for name in ("digitkit-cnn", "digitkit-cnn.int8", "digitkit-tiny", "digitkit-tiny.int8"):
        if not (MODELS / f"{name}.onnx").is_file():
            continue
        assert (MODELS / f"{name}.ort").is_file()
        report = json.loads((MODELS / f"{name}.verify.json").read_text())
        assert report["passed"] and report["onnxruntime"]["n"] == 10_000
    card = (MODELS / "MODEL_CARD.md").read_text()
    assert "SHA-256" in card and "digitkit-cnn.int8.onnx" in card
    from digitkit.export.model_card import model_card

    assert card == model_card(MODELS), "MODEL_CARD.md is stale: digitkit verify ... --model-card rewrites it"
    guard = MODELS / "digitkit-guard.onnx"
    if guard.is_file():
        assert hashlib.sha256(guard.read_bytes()).hexdigest() in card


def test_shipped_int8_models_follow_the_quantization_rule():
    from digitkit.export.cpu import describe_cpu
    from digitkit.export.quantization_choice import VPMADDUBSW_MAX, choose, max_abs_int8_weight

    for stem in ("digitkit-cnn", "digitkit-tiny"):
        _need(f"{stem}.int8.onnx", f"{stem}.quantization-choice.json", f"{stem}.quantization-choice.md")
        choice = json.loads((MODELS / f"{stem}.quantization-choice.json").read_text())
        assert choose(choice["alternatives"])["settings"] == choice["chosen"]
        data = (MODELS / f"{stem}.int8.onnx").read_bytes()
        props = {p.key: p.value for p in onnx.load_from_string(data).metadata_props}
        settings = json.loads(props["digitkit.quantization"])
        assert {k: settings[k] for k in choice["chosen"]} == choice["chosen"]
        if settings["reduce_range"]:  # 7-bit weights: no vpmaddubsw pair can pass the int16 limit
            assert 2 * 255 * max_abs_int8_weight(data) <= VPMADDUBSW_MAX
        # the report names the CPU it was measured on as that CPU reported itself
        assert describe_cpu(choice["machine"]) in (MODELS / f"{stem}.quantization-choice.md").read_text()
