"""The SVM vs MLP vs CNN study (digitkit compare): features, ONNX agreement, CLI errors, a quick run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")

from digitkit.runtime.cli import main  # noqa: E402
from digitkit.train.study.features import deskew, flat_pixels  # noqa: E402
from digitkit.train.study.timing import evaluation, wilson_interval  # noqa: E402


def _slanted_bar(shear: float) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    for row in range(4, 24):
        col = int(round(14 + shear * (row - 14)))
        image[row, col - 1 : col + 2] = 255
    return image


def _column_spread(image: np.ndarray) -> float:
    cols = np.arange(28)
    per_row = [(image[r] * cols).sum() / image[r].sum() for r in range(28) if image[r].sum()]
    return float(np.ptp(per_row))


def test_deskew_straightens_a_slanted_stroke_and_keeps_blank_images():
    slanted = _slanted_bar(0.4)
    upright = deskew(slanted[None])[0]
    assert _column_spread(slanted) > 6
    assert _column_spread(upright) < 1.5
    assert upright.dtype == np.uint8 and upright.sum() > 0.8 * slanted.sum()
    blank = np.zeros((1, 28, 28), np.uint8)
    assert np.array_equal(deskew(blank), blank)


def test_deskew_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="28, 28"):
        deskew(np.zeros((3, 32, 32), np.uint8))


def test_flat_pixels_scale_to_unit_range(mnist_test_u8):
    images, _ = mnist_test_u8
    x = flat_pixels(images[:10])
    assert x.shape == (10, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


def test_evaluation_counts_errors_and_lists_them():
    labels = np.array([0, 1, 2, 3, 4])
    predicted = np.array([0, 1, 7, 3, 9])
    result = evaluation(predicted, labels, test_seconds=0.5)
    assert result["errors"] == 2 and result["accuracy"] == pytest.approx(0.6)
    assert result["misclassified"] == [[2, 7, 2], [4, 9, 4]]
    assert result["test_ms_per_image"] == pytest.approx(100.0)


def test_wilson_interval_brackets_the_accuracy_and_narrows_with_n():
    low, high = wilson_interval(995, 1000)
    assert low < 0.995 < high <= 1.0
    low_big, high_big = wilson_interval(9950, 10000)
    assert high_big - low_big < high - low


def test_svm_onnx_export_agrees_with_scikit_learn(mnist, mnist_test_u8, tmp_path):
    import onnxruntime as ort

    from digitkit.train.study.features import svm_features
    from digitkit.train.study.onnx_timing import export_sklearn
    from digitkit.train.study.svm import TUNED, build_pipeline

    train_x = svm_features(np.array(mnist.train_images[:1500]), TUNED.deskew)
    train_y = np.array(mnist.train_labels[:1500], dtype=np.int64)
    images, labels = mnist_test_u8
    test_x = svm_features(images[:500], TUNED.deskew)
    pipeline = build_pipeline(TUNED).fit(train_x, train_y)
    expected = pipeline.predict(test_x)
    assert (expected == labels[:500]).mean() > 0.88
    path = export_sklearn(pipeline, tmp_path / "svm.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["label"], {session.get_inputs()[0].name: test_x})[0]
    assert (got == expected).mean() >= 0.998


def test_compare_report_only_without_results_is_a_clear_error(tmp_path, capsys):
    assert main(["compare", "--report-only", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "results.json" in err and "Traceback" not in err


def test_compare_rejects_nonpositive_sizes(tmp_path, capsys):
    assert main(["compare", "--quick", "--train-size", "0", "--out", str(tmp_path)]) == 1
    assert "--train-size must be at least 1" in capsys.readouterr().err


# floors for the quick run (2,000 training / 1,000 test images); full-set numbers are in docs/study
QUICK_FLOORS = {"svm_plain": 0.88, "svm_tuned": 0.93, "mlp": 0.88, "mlp_aug": 0.86, "cnn": 0.80}


@pytest.mark.slow
def test_quick_study_writes_report_figures_and_results(tmp_path):
    from digitkit.train.study.run import StudyOptions, run_study

    out = tmp_path / "study"
    run_study(StudyOptions(out=out, work=tmp_path / "models", quick=True, progress=False))
    results = json.loads((out / "results.json").read_text())
    models = {m["key"]: m for m in results["models"]}
    assert set(models) == set(QUICK_FLOORS)
    assert results["train_images"] == 2000 and results["test_images"] == 1000
    for key, floor in QUICK_FLOORS.items():
        m = models[key]
        assert m["accuracy"] >= floor, (key, m["accuracy"])
        assert m["errors"] == len(m["misclassified"]) == round((1 - m["accuracy"]) * 1000)
        assert m["train_seconds"] > 0 and m["test_seconds"] > 0 and m["onnx"]["ms_per_image"] > 0
        assert (tmp_path / "models" / f"{key}.onnx").stat().st_size == m["onnx"]["bytes"]
    for key in ("svm_plain", "svm_tuned"):
        assert models[key]["onnx"]["agreement"] >= 0.998
    for key in ("mlp", "mlp_aug", "cnn"):
        assert models[key]["onnx"]["agreement"] >= 0.99
        assert len(models[key]["history"]) >= 2
    report = (out / "report.md").read_text()
    figures = sorted((out / "figures").glob("*.png"))
    assert len(figures) == 7 + len(QUICK_FLOORS)
    for figure in figures:
        assert figure.stat().st_size > 5000
        assert f"figures/{figure.name}" in report
    assert "97.91 %" in report and "seed paper" in report
    assert "| SVM, plain SVC() |" in (out / "readme_snippet.md").read_text()
