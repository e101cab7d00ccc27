"""Temperature scaling (train/calibration.py), the runtime reading ``digitkit.temperature``, and export's option."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from digitkit.runtime.recognizer import ModelError, Recognizer, shipped_model_path
from digitkit.train import calibration


def _sampled(temperature: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits / temperature): a model whose right temperature is known."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (n, 10))
    p = calibration.softmax(logits, temperature)
    labels = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_with(true_t):
    logits, labels = _sampled(true_t)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.05)


def test_ece_is_small_when_calibrated_and_large_when_overconfident():
    logits, labels = _sampled(2.0)
    right = calibration.expected_calibration_error(calibration.softmax(logits, 2.0), labels)
    overconfident = calibration.expected_calibration_error(calibration.softmax(logits, 0.5), labels)
    assert right < 0.02 and overconfident > 0.15
    rows = calibration.reliability(calibration.softmax(logits, 2.0), labels)
    assert sum(rows["share"]) == pytest.approx(1.0) and len(rows["accuracy"]) == calibration.BINS


def test_reliability_diagram_is_a_png(tmp_path):
    logits, labels = _sampled(1.0, n=500)
    out = tmp_path / "reliability.png"
    calibration.draw_reliability({"a": (calibration.softmax(logits), labels)}, out, "test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _with_metadata(tmp_path, **props: str):
    proto = onnx.load(shipped_model_path("cnn"))
    kept = {p.key: p.value for p in proto.metadata_props}
    kept.update({f"digitkit.{k}": v for k, v in props.items()})
    onnx.helper.set_model_props(proto, kept)
    path = tmp_path / "model.onnx"
    onnx.save(proto, path)
    return path


def test_the_runtime_divides_the_logits_by_the_files_temperature(tmp_path, mnist_test_u8):
    digits = mnist_test_u8[0][:64].astype(np.float32) / 255.0
    plain = Recognizer(_with_metadata(tmp_path, temperature="1.0"), guard=False)
    scores = plain.scores(digits)
    warm = Recognizer(_with_metadata(tmp_path, temperature="3.0"), guard=False).classify_mnist(digits)
    assert np.allclose(warm, calibration.softmax(scores, 3.0), atol=1e-5)
    assert (warm.argmax(1) == scores.argmax(1)).all() and warm.max(1).mean() < plain.classify_mnist(digits).max(
        1
    ).mean()


@pytest.mark.parametrize("bad", ["0", "-1", "nan"])
def test_a_temperature_that_is_not_positive_is_refused_in_one_line(tmp_path, bad):
    with pytest.raises(ModelError, match="temperature") as refused:
        Recognizer(_with_metadata(tmp_path, temperature=bad))
    assert "\n" not in str(refused.value)


def test_shipped_models_carry_a_temperature_fitted_on_held_out_writers():
    for precision in ("fp32", "int8"):
        meta = onnx.load(shipped_model_path("cnn", precision)).metadata_props
        props = {p.key: p.value for p in meta}
        assert float(props["digitkit.temperature"]) > 0
        assert "not trained on" in props["digitkit.temperature_fitted_on"]


def test_calibrate_fits_and_records_a_temperature_on_held_out_writers(tmp_path, monkeypatch, capsys):
    from test_cvl import _write_split

    from digitkit.runtime.cli import main

    monkeypatch.setenv("DIGITKIT_CVL_DIR", str(tmp_path))
    _write_split(tmp_path, "valid", [3, 4, 5, 6], per_writer=10)
    model = _with_metadata(tmp_path)
    assert main(["calibrate", str(model), "--no-mobile", "--no-verify"]) == 0
    out = capsys.readouterr().out
    props = {p.key: p.value for p in onnx.load(model).metadata_props}
    assert "temperature" in out and float(props["digitkit.temperature"]) > 0
    assert props["digitkit.temperature_fitted_on"] == "CVL valid, 40 digits by 4 writers not trained on"
    trained = _with_metadata(tmp_path, train_config='{"cvl_splits": ["valid"]}')
    assert main(["calibrate", str(trained), "--no-mobile", "--no-verify"]) == 1
    assert "trained on CVL valid" in capsys.readouterr().err
