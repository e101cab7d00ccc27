"""Models whose metadata lies are checked against what they do, or refused in one line (docs/errors.md, "Models")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from digitkit.runtime.recognizer import ModelError, Recognizer, shipped_model_path  # noqa: E402


def _cnn_with(tmp_path: Path, name: str = "m.onnx", **props: str) -> Path:
    """The shipped CNN with some ``digitkit.*`` metadata replaced."""
    proto = onnx.load(shipped_model_path("cnn"))
    kept = {p.key: p.value for p in proto.metadata_props}
    kept.update({f"digitkit.{k}": v for k, v in props.items()})
    onnx.helper.set_model_props(proto, kept)
    path = tmp_path / name
    onnx.save(proto, path)
    return path


@pytest.fixture(scope="module")
def digits(mnist) -> tuple[np.ndarray, np.ndarray]:
    return np.array(mnist.test_images[:200], np.float32) / 255.0, np.array(mnist.test_labels[:200])


def test_logits_declared_as_probabilities_are_refused(tmp_path, digits):
    recognizer = Recognizer(_cnn_with(tmp_path, output="probabilities"), guard=False)
    with pytest.raises(ModelError, match="says the model outputs probabilities, but its outputs are not") as refused:
        recognizer.classify_mnist(digits[0])
    assert "\n" not in str(refused.value)


def test_permuted_labels_are_followed_consistently(tmp_path, digits):
    reversed_labels = json.dumps([str(9 - d) for d in range(10)])
    plain = Recognizer(guard=False)
    flipped = Recognizer(_cnn_with(tmp_path, labels=reversed_labels), guard=False)
    expected = 9 - plain.classify_mnist(digits[0]).argmax(1)
    for prediction, want in zip(flipped.predict_mnist(list(digits[0][:20]), on_page=False), expected, strict=False):
        assert prediction.digit in (None, want) and prediction.top(1)[0][0] == want


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"labels": json.dumps([str(d) for d in range(9)] + ["10"])}, "are not the digits 0-9 once each"),
        ({"labels": json.dumps(["0"] * 10)}, "are not the digits 0-9 once each"),
        ({"std": "-0.3"}, "scale and std must be positive"),
        ({"input_shape": "N,1,0,28"}, "is not a digit's size"),
        ({"input_shape": "N,1,-5,28"}, "is not a digit's size"),
        ({"input_shape": "N,1,30000,30000"}, "is not a digit's size"),
        ({"output": "softmaxed"}, "neither 'logits' nor 'probabilities'"),
    ],
)
def test_impossible_metadata_is_refused_in_one_line(tmp_path, props, words):
    with pytest.raises(ModelError, match=words) as refused:
        Recognizer(_cnn_with(tmp_path, **props))
    assert "\n" not in str(refused.value) and str(tmp_path) in str(refused.value)


def _guard_with_outputs(path: Path, outputs: int, activation: str = "Sigmoid") -> Path:
    weights = numpy_helper.from_array(np.random.default_rng(0).normal(size=(784, outputs)).astype(np.float32), "W")
    nodes = [
        helper.make_node("Flatten", ["digit"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["raw"]),
        helper.make_node(activation, ["raw"], ["p_digit"]),
    ]
    graph = helper.make_graph(
        nodes,
        "guard",
        [helper.make_tensor_value_info("digit", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("p_digit", TensorProto.FLOAT, ["N", outputs])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(("outputs", "activation", "words"), [(5, "Sigmoid", "5 outputs"), (1, "Neg", "outside")])
def test_a_guard_that_is_no_guard_is_refused(tmp_path, digits, outputs, activation, words):
    guard = _guard_with_outputs(tmp_path / "g.onnx", outputs, activation)
    recognizer = Recognizer(guard=guard)
    with pytest.raises(ModelError, match=words):
        recognizer.predict_mnist(list(digits[0][:8]), on_page=False)


def test_verify_never_says_verified_at_chance(capsys, tmp_path):
    from digitkit.runtime.cli import main

    shifted = json.dumps([str((d + 1) % 10) for d in range(10)])  # every answer one digit off
    model = _cnn_with(tmp_path, labels=shifted)
    code = main(["verify", str(model)])
    captured = capsys.readouterr()
    assert code == 1 and "verified" not in captured.out
    assert "verification failed: onnxruntime test accuracy" in captured.err


def test_evaluate_refuses_a_checkpoint_with_nan_weights(capsys, tmp_path):
    pytest.importorskip("torch")
    from digitkit.runtime.cli import main
    from digitkit.train.checkpoint import save_checkpoint
    from digitkit.train.config import preset
    from digitkit.train.model import build_model

    cfg = preset("quick")
    model = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout)
    weights = model.state_dict()
    next(iter(weights.values())).fill_(float("nan"))
    path = tmp_path / "nan.pt"
    save_checkpoint(path, {"config": cfg.to_dict(), "model": weights, "epoch": 1})
    assert main(["evaluate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "non-finite weights" in err and err.count("\n") == 1


def test_quantize_refuses_nan_weights_and_a_non_float_input(capsys, tmp_path):
    from digitkit.runtime.cli import main

    nan = onnx.load(shipped_model_path("cnn"))
    tensor = nan.graph.initializer[0]
    weights = numpy_helper.to_array(tensor).copy()
    weights[...] = np.nan
    tensor.CopyFrom(numpy_helper.from_array(weights, tensor.name))
    onnx.save(nan, tmp_path / "nan.onnx")
    u8 = onnx.load(shipped_model_path("cnn"))
    u8.graph.input[0].type.tensor_type.elem_type = TensorProto.UINT8
    onnx.save(u8, tmp_path / "u8.onnx")
    for name, words in (("nan", "non-finite weights"), ("u8", "its input is uint8, not float32")):
        code = main(["quantize", str(tmp_path / f"{name}.onnx"), "--no-mobile", "--no-verify"])
        err = capsys.readouterr().err
        assert code == 1 and words in err and err.count("\n") == 1
        assert not (tmp_path / f"{name}.int8.onnx").exists()
