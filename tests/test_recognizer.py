"""Recognizer: loading any ONNX digit model, providers, batching, refusing, and clear errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from conftest import ZOO_MODEL, ZOO_MODEL_BATCH
from foreign_models import foreign_model

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import (
    DEFAULT_MIN_CONFIDENCE,
    ModelError,
    Prediction,
    ProviderError,
    Recognizer,
    shipped_model_path,
)

onnx = pytest.importorskip("onnx")


def _shipped_or_skip(precision: str = "int8"):
    path = shipped_model_path("cnn", precision)
    if not path.is_file():
        pytest.skip(f"shipped model {path.name} not exported yet")
    return path


@pytest.fixture(scope="module")
def shipped():
    _shipped_or_skip("int8")
    return Recognizer(precision="int8", threads=1)


@pytest.fixture(scope="module")
def foreign_files(tmp_path_factory):
    """Third-party-style files: batch 1 with pixels 0..255 (as the zoo's opset-7 model), and a plain one."""
    folder = tmp_path_factory.mktemp("foreign")
    return (
        foreign_model(folder / "batch-one-0-255.onnx", batch_one=True, pixels_0_255=True),
        foreign_model(folder / "plain.onnx"),
    )


@pytest.fixture(scope="module")
def foreign(foreign_files):
    return Recognizer(foreign_files[0], threads=1, min_confidence=0.0, guard=False)


@pytest.fixture(scope="module")
def plain_model(foreign_files):
    return foreign_files[1]


@pytest.fixture(scope="module")
def test_digits(mnist_test_u8):
    images, labels = mnist_test_u8
    return images[:1000], labels[:1000]


def test_a_batch_one_only_model_is_looped(foreign, test_digits):
    images, labels = test_digits
    assert foreign._batch_one  # its input is declared [1, 1, 28, 28]
    probs = foreign.classify_mnist(images[:300].astype(np.float32) / 255)
    assert probs.shape == (300, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert np.mean(probs.argmax(axis=1) == labels[:300]) >= 0.97


def test_standard_image_metadata_is_read(foreign, plain_model):
    # NominalRange_0_255 in ONNX's standard image metadata (as the zoo's opset-7 file): fed 0..255, not 0..1
    assert foreign.spec.pixel_scale == 255.0
    other = Recognizer(plain_model, threads=1, guard=False)
    assert other.spec.pixel_scale == 1.0  # no metadata: the conventional defaults


def test_both_foreign_files_agree_with_the_shipped_model(foreign, plain_model, test_digits):
    x = test_digits[0][:50].astype(np.float32) / 255
    other = Recognizer(plain_model, threads=1, guard=False)
    shipped = Recognizer(threads=1, guard=False)
    assert np.array_equal(foreign.classify_mnist(x).argmax(1), other.classify_mnist(x).argmax(1))
    # the same logits; the shipped file's metadata adds its temperature, the foreign one knows none
    np.testing.assert_allclose(foreign.scores(x), shipped.scores(x), atol=1e-3)
    assert np.array_equal(foreign.classify_mnist(x).argmax(1), shipped.classify_mnist(x).argmax(1))


def test_the_real_zoo_files_load_and_agree(shared_dir, test_digits):
    """The ONNX Model Zoo's MNIST files themselves (../shared): opset 7 with metadata, opset 8 without."""
    zoo = Recognizer(ZOO_MODEL, threads=1, guard=False)
    other = Recognizer(ZOO_MODEL_BATCH, threads=1, guard=False)
    assert zoo._batch_one and zoo.spec.pixel_scale == 255.0 and other.spec.pixel_scale == 1.0
    x = test_digits[0][:300].astype(np.float32) / 255
    assert np.array_equal(zoo.classify_mnist(x[:50]).argmax(1), other.classify_mnist(x[:50]).argmax(1))
    assert np.mean(zoo.classify_mnist(x).argmax(1) == test_digits[1][:300]) >= 0.97


def test_predict_pictures_with_a_third_party_model(foreign, test_digits):
    images, labels = test_digits
    pictures = [255 - np.kron(x, np.ones((4, 4), np.uint8)) for x in images[:200]]  # black on white, 112×112
    predictions = foreign.predict_batch(pictures)
    assert np.mean([p.digit == y for p, y in zip(predictions, labels[:200], strict=True)]) >= 0.96


def test_shipped_models_are_accurate_through_the_picture_path(shipped, test_digits):
    images, labels = test_digits
    predictions = shipped.predict_batch(list(images))
    forced = np.mean([int(np.argmax(p.probabilities)) == y for p, y in zip(predictions, labels, strict=True)])
    assert forced >= 0.99
    kept = [p for p in predictions if p.status == "ok"]
    assert len(kept) >= 0.97 * len(images)


def test_fp32_and_int8_agree(test_digits):
    _shipped_or_skip("fp32")
    _shipped_or_skip("int8")
    x = test_digits[0][:500].astype(np.float32) / 255
    fp32 = Recognizer(precision="fp32", threads=1).classify_mnist(x).argmax(1)
    int8 = Recognizer(precision="int8", threads=1).classify_mnist(x).argmax(1)
    assert np.mean(fp32 == int8) >= 0.99


def test_prediction_fields(foreign, test_digits):
    p = foreign.predict(test_digits[0][0])
    assert isinstance(p, Prediction) and p.status == "ok" and p.digit == int(test_digits[1][0])
    assert p.probabilities.shape == (10,) and p.mnist.shape == (28, 28)
    assert p.confidence == pytest.approx(float(p.probabilities.max()))
    assert p.top(3)[0] == (p.digit, pytest.approx(p.confidence))


def test_blank_picture_is_no_digit(foreign):
    p = foreign.predict(np.full((100, 100), 255, np.uint8))
    assert p.status == "no digit" and p.digit is None and p.mnist is None and p.confidence == 0.0


def test_min_confidence_refuses_instead_of_guessing(plain_model, test_digits):
    strict = Recognizer(plain_model, threads=1, min_confidence=0.999, guard=False)
    predictions = strict.predict_batch(list(test_digits[0][:200]))
    unsure = [p for p in predictions if p.status == "not sure"]
    assert unsure, "some MNIST digit should fall under 99.9% confidence"
    for p in predictions:
        if p.confidence < 0.999:
            assert p.status == "not sure" and p.digit is None and p.mnist is not None
        else:
            assert p.status == "ok" and p.digit == int(np.argmax(p.probabilities))


def test_default_min_confidence_is_a_probability():
    assert 0.0 < DEFAULT_MIN_CONFIDENCE < 1.0


def test_predict_batch_keeps_order_and_blanks(foreign, test_digits):
    images, labels = test_digits
    batch = [images[0], np.zeros((28, 28), np.uint8), images[1]]
    out = foreign.predict_batch(batch)
    assert [p.status for p in out] == ["ok", "no digit", "ok"]
    assert out[0].digit == labels[0] and out[2].digit == labels[1]


def test_cpu_provider_and_threads():
    r = Recognizer(provider="cpu", threads=1, guard=False)
    assert r.provider == "cpu" and r.threads == 1


def test_auto_provider_logs_its_choice(caplog):
    with caplog.at_level(logging.INFO, logger="digitkit.runtime"):
        r = Recognizer(guard=False)
    assert r.provider in ("cuda", "cpu")
    assert any(r.provider in rec.getMessage() and "cuda" in rec.getMessage() for rec in caplog.records)


def test_unavailable_provider_is_a_clear_error():
    with pytest.raises(ProviderError, match="not available.*available: "):
        Recognizer(provider="tensorrt-imaginary", guard=False)


def test_missing_model(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        Recognizer(tmp_path / "none.onnx")


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "fake.onnx"
    path.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Recognizer(path, guard=False)


def _model_with_shapes(path, input_shape, output_classes):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", output_classes])
    flat = helper.make_node("Flatten", ["x"], ["f"])
    weight = helper.make_tensor(
        "w",
        TensorProto.FLOAT,
        [int(np.prod(input_shape[1:])), output_classes],
        np.zeros(int(np.prod(input_shape[1:])) * output_classes, np.float32),
    )
    matmul = helper.make_node("MatMul", ["f", "w"], ["y"])
    graph = helper.make_graph([flat, matmul], "g", [x], [y], initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("shape", "classes", "message"),
    [
        (["N", 3, 32, 32], 10, "does not fit a 28×28 grey digit"),
        (["N", 784], 10, "expected 4 dimensions"),
        (["N", 1, 28, 28], 7, "has 7 classes"),
    ],
)
def test_wrong_shaped_model_is_named(tmp_path, shape, classes, message):
    path = _model_with_shapes(tmp_path / "wrong.onnx", shape, classes)
    with pytest.raises(ModelError, match=message):
        Recognizer(path, guard=False)


def test_a_well_shaped_generic_model_loads(tmp_path):
    path = _model_with_shapes(tmp_path / "ok.onnx", ["N", 1, 28, 28], 10)
    r = Recognizer(path, guard=False, min_confidence=0.0)
    assert r.classify_mnist(np.zeros((3, 28, 28), np.float32)).shape == (3, 10)


def test_classify_mnist_checks_its_input(foreign):
    with pytest.raises(DigitkitError, match="expects \\(N, 28, 28\\)"):
        foreign.classify_mnist(np.zeros((2, 32, 32), np.float32))


def test_bad_arguments():
    with pytest.raises(DigitkitError, match="precision"):
        Recognizer(precision="int4")
    with pytest.raises(DigitkitError, match="threads"):
        Recognizer(threads=0)
    with pytest.raises(DigitkitError, match="min_confidence"):
        Recognizer(min_confidence=1.5)


def test_auto_falls_back_to_cpu_when_cuda_does_not_start(monkeypatch, caplog):
    """A CUDA build whose driver is missing: onnxruntime lists CUDA but the session runs on CPU."""
    import onnxruntime

    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    with caplog.at_level(logging.INFO, logger="digitkit.runtime"):
        r = Recognizer(guard=False)
    assert r.provider == "cpu"
    assert "cuda: failed to initialise" in r.provider_reason
    assert any("cuda: failed to initialise" in rec.getMessage() for rec in caplog.records)


def test_on_a_page_the_guard_only_vetoes(shipped, test_digits):
    """Crops from find_digit_rows keep odd real digits; letters stay refused; single pictures keep the full product."""
    from digitkit.runtime.recognizer import PAGE_GUARD_SURE
    from digitkit.runtime.vision import to_mnist
    from digitkit.train import nondigits

    if shipped.guard_path is None:
        pytest.skip("no digit guard shipped")
    rng = np.random.default_rng(11)
    letters = [m for m in (to_mnist(nondigits.letter(rng, 56)) for _ in range(100)) if m is not None]
    digits = list(test_digits[0].astype(np.float32) / 255)
    alone = shipped.predict_mnist(digits + letters, on_page=False)
    page = shipped.predict_mnist(digits + letters)
    for a, b in zip(alone, page, strict=True):
        top = float(a.probabilities.max())
        assert a.confidence == pytest.approx(top * a.digit_likeness, rel=1e-5)
        assert b.confidence == pytest.approx(top * min(1.0, b.digit_likeness / PAGE_GUARD_SURE), rel=1e-5)
    n = len(digits)
    kept_alone = np.mean([p.status == "ok" for p in alone[:n]])
    kept_page = np.mean([p.status == "ok" for p in page[:n]])
    assert kept_page >= max(kept_alone, 0.99)
    assert np.mean([p.status == "ok" for p in page[n:]]) <= 0.25  # letters: most still refused


def test_top_and_best_break_ties_towards_the_lower_digit():
    probabilities = np.array([0.1, 0.3, 0.0, 0.3, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0], np.float32)
    unsure = Prediction(None, 0.3, probabilities, None, "not sure")
    expected = [(1, pytest.approx(0.3)), (3, pytest.approx(0.3)), (7, pytest.approx(0.3)), (0, pytest.approx(0.1))]
    assert unsure.top(4) == expected and unsure.best == 1 and not unsure.sure


def test_scores_are_the_raw_model_outputs_behind_the_probabilities(foreign, test_digits):
    x = test_digits[0][:20].astype(np.float32) / 255
    shipped = Recognizer(threads=1, guard=False)
    logits = shipped.scores(x)
    assert logits.shape == (20, 10) and not np.allclose(logits.sum(axis=1), 1)
    scaled = logits / shipped.spec.temperature  # the file's softmax temperature (digitkit calibrate)
    np.testing.assert_allclose(
        shipped.classify_mnist(x), np.exp(scaled) / np.exp(scaled).sum(1, keepdims=True), rtol=1e-5
    )
    np.testing.assert_array_equal(logits, shipped.run_model(shipped.model_input(x)))
    tensor = foreign.model_input(x)  # a batch-1 model: run_model loops, one call per digit
    assert tensor.shape == (20, 1, 28, 28) and tensor.max() > 1  # fed 0..255, as its metadata asks
    np.testing.assert_allclose(foreign.run_model(tensor), logits, atol=1e-3)


def test_cuda_calls_keep_one_batch_shape():
    """On the CUDA provider every model call holds CUDA_BLOCK digits: onnxruntime's CUDA convolution searches
    its cuDNN algorithm again at every new batch size (a page's calls took 1.3 s instead of 48 ms on an H200)."""
    from digitkit.runtime.sessions import CUDA_BLOCK, run_in_blocks

    shapes = []

    def run(t: np.ndarray) -> np.ndarray:
        shapes.append(t.shape)
        return t.reshape(len(t), -1).sum(axis=1, keepdims=True)

    for n in (1, 3, CUDA_BLOCK, CUDA_BLOCK + 5, 3 * CUDA_BLOCK - 1):
        tensor = np.random.default_rng(n).random((n, 1, 28, 28)).astype(np.float32)
        out = run_in_blocks(run, tensor)
        assert out.shape == (n, 1)
        np.testing.assert_allclose(out[:, 0], tensor.reshape(n, -1).sum(axis=1), rtol=1e-6)
    assert {s[0] for s in shapes} == {CUDA_BLOCK}
