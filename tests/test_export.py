"""Export stage: checkpoint -> ONNX fp32 -> int8, verified on real MNIST.

A small CNN is trained for two epochs on 4,000 real training images once per
session; every test exports / quantizes / verifies that real model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from digitkit.runtime.cli import main  # noqa: E402
from digitkit.runtime.files import sha256_file  # noqa: E402
from digitkit.runtime.model_spec import ModelSpec  # noqa: E402


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory, mnist):
    from digitkit.train.config import TrainConfig
    from digitkit.train.trainer import train

    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(widths=(8, 16, 16), epochs=2, subset=4000)
    metrics = train(cfg, out, threads=1, progress=False)
    assert metrics["accuracy"] > 0.5  # a real, if weak, model
    return out / "checkpoint.pt"


@pytest.fixture(scope="session")
def exported(checkpoint, tmp_path_factory):
    from digitkit.export.onnx_export import export_checkpoint

    result = export_checkpoint(checkpoint, tmp_path_factory.mktemp("export") / "m.onnx")
    return result


@pytest.fixture(scope="session")
def quantized(exported):
    from digitkit.export.quantize import quantize_model

    return quantize_model(exported.path)


def _run(model_path, x):
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _input(images_u8, spec: ModelSpec):
    return ((images_u8[:, None].astype(np.float32) / 255.0 - spec.mean) / spec.std).astype(np.float32)


def test_export_is_one_file_with_dynamic_batch_and_metadata(exported, checkpoint, mnist_test_u8):
    model = onnx.load(str(exported.path))
    assert list(exported.path.parent.iterdir()) == [exported.path]  # no external data, no temp files
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch axis
    assert not any(n.op_type == "BatchNormalization" for n in model.graph.node)  # folded into Conv
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [20]
    assert model.ir_version <= 9  # onnxruntime 1.17 reads IR <= 9

    props = {p.key: p.value for p in model.metadata_props}
    spec = ModelSpec.from_metadata(props)
    assert (spec.layout, spec.height, spec.width, spec.pixel_scale) == ("NCHW", 28, 28, 1.0)
    assert spec.mean == pytest.approx(0.1307) and spec.std == pytest.approx(0.3081)
    assert spec.labels == tuple("0123456789") and spec.preprocess_version >= 1
    assert spec.extra["checkpoint_sha256"] == sha256_file(checkpoint)
    assert float(spec.extra["test_accuracy"]) == pytest.approx(exported.accuracy, abs=5e-5)

    images, _ = mnist_test_u8
    for n in (1, 7):
        assert _run(exported.path, _input(images[:n], spec)).shape == (n, 10)


def test_onnx_agrees_with_pytorch(exported, checkpoint, mnist_test_u8):
    from digitkit.train.checkpoint import model_from_checkpoint

    images, labels = mnist_test_u8
    spec = ModelSpec.from_metadata({p.key: p.value for p in onnx.load(str(exported.path)).metadata_props})
    x = _input(images[:1000], spec)
    model, _ = model_from_checkpoint(checkpoint)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = _run(exported.path, x)
    assert (got.argmax(1) == expected.argmax(1)).all()
    assert np.abs(got - expected).max() < 1e-3
    assert (got.argmax(1) == labels[:1000]).mean() > 0.5


def test_quantize_writes_smaller_int8_model_close_to_fp32(exported, quantized):
    assert quantized.path.name == "m.int8.onnx"
    assert quantized.bytes == quantized.path.stat().st_size < 0.6 * exported.bytes
    assert abs(quantized.accuracy - exported.accuracy) < 0.01
    model = onnx.load(str(quantized.path))
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)  # QDQ format
    props = {p.key: p.value for p in model.metadata_props}
    assert props["digitkit.precision"] == "int8" and "never the test set" in props["digitkit.calibration"]
    fp32_props = {p.key: p.value for p in onnx.load(str(exported.path)).metadata_props}
    assert props["digitkit.checkpoint_sha256"] == fp32_props["digitkit.checkpoint_sha256"]


def test_default_quantization_has_7bit_weights_that_cannot_saturate_vpmaddubsw(quantized):
    from digitkit.export.quantization_choice import VPMADDUBSW_MAX, max_abs_int8_weight

    largest = max_abs_int8_weight(quantized.path.read_bytes())
    assert 0 < largest <= 64 and 2 * 255 * largest <= VPMADDUBSW_MAX
    props = {p.key: p.value for p in onnx.load(str(quantized.path)).metadata_props}
    assert json.loads(props["digitkit.quantization"])["reduce_range"] is True


def _choice_row(reduce_range: bool, disagreements: int, dlogit: float, size: int = 1000) -> dict:
    return {
        "settings": {"per_channel": True, "reduce_range": reduce_range, "method": "MinMax"},
        "fidelity_disagreements": disagreements,
        "fidelity_mean_abs_logit_diff": dlogit,
        "bytes": size,
    }


def test_choice_rule_prefers_7bit_weights_only_within_the_fidelity_tolerance():
    from digitkit.export.quantization_choice import FIDELITY_TOLERANCE, choose

    eight = _choice_row(False, 0, 0.07)
    seven_close = _choice_row(True, FIDELITY_TOLERANCE, 0.09)
    seven_far = _choice_row(True, FIDELITY_TOLERANCE + 1, 0.09)
    assert choose([eight, seven_close]) is seven_close
    assert choose([eight, seven_far]) is eight  # costs measurable fidelity: keep 8-bit
    # among equally faithful 7-bit variants the finer measure (mean |Δlogit|) decides, then size
    finer = _choice_row(True, 1, 0.086, size=1001)
    assert choose([_choice_row(True, 0, 0.097), finer]) is finer
    assert choose([finer, _choice_row(True, 1, 0.086, size=1000)])["bytes"] == 1000


def test_cpu_description_comes_from_the_cpu(tmp_path):
    from pathlib import Path

    from digitkit.export.cpu import INT8_FLAGS, VNNI_FLAGS, describe_cpu, read_cpu

    real = Path("/proc/cpuinfo")
    lines = real.read_text().splitlines() if real.is_file() else []
    flag_line = next((line for line in lines if line.startswith("flags")), None)
    if flag_line is not None:
        flags = set(flag_line.partition(":")[2].split())
        cpu = read_cpu()
        assert set(cpu["flags"]) == flags & set(INT8_FLAGS)
        assert cpu["vnni"] == bool(flags & set(VNNI_FLAGS))
        assert ("cannot saturate on this machine" in describe_cpu(cpu)) == cpu["vnni"]
    old = tmp_path / "cpuinfo"
    old.write_text("processor\t: 0\nmodel name\t: Old Core i5\nflags\t\t: fpu sse2 avx avx2 fma\n")
    cpu = read_cpu(old)
    assert cpu["flags"] == ["avx2"] and not cpu["vnni"] and cpu["u8s8_can_saturate"]
    assert describe_cpu(cpu).startswith("Old Core i5") and "no VNNI" in describe_cpu(cpu)
    missing = read_cpu(tmp_path / "none")
    assert not missing["flags_read"] and "unknown" in describe_cpu(missing)


def test_calibration_reads_training_images_only(mnist):
    from digitkit.export.quantize import MnistCalibrationReader, calibration_sample

    sample = calibration_sample(mnist.train_images, 300)
    train_rows = {row.tobytes() for row in mnist.train_images[:50_000]}
    test_rows = {row.tobytes() for row in mnist.test_images}
    assert all(img.tobytes() in train_rows and img.tobytes() not in test_rows for img in sample)
    reader = MnistCalibrationReader(sample, ModelSpec(mean=0.1307, std=0.3081), "input", batch=100)
    batches = list(iter(reader.get_next, None))
    assert [b["input"].shape for b in batches] == [(100, 1, 28, 28)] * 3
    reader.rewind()
    assert reader.get_next()["input"].shape == (100, 1, 28, 28)


def test_verify_writes_a_passing_report(exported, quantized, checkpoint):
    from digitkit.export.verify import report_path, verify_model

    report = verify_model(exported.path, checkpoint=checkpoint)
    assert report["passed"] and report_path(exported.path).is_file()
    assert report["pytorch"]["torch_argmax_agreement"] == 1.0
    assert report["opencv"]["opencv_argmax_agreement"] >= 0.999
    report = verify_model(quantized.path)
    assert report["fp32_reference"]["model"] == "m.onnx"
    assert json.loads(report_path(quantized.path).read_text())["precision"] == "int8"


def test_compact_leaves_outputs_unchanged(quantized, mnist_test_u8):
    from digitkit.export.compact import compact

    model = onnx.load(str(quantized.path))
    bigger = onnx.ModelProto()
    bigger.CopyFrom(model)
    assert compact(bigger).ByteSize() <= model.ByteSize()
    x = _input(mnist_test_u8[0][:50], ModelSpec(mean=0.1307, std=0.3081))
    sess = ort.InferenceSession(compact(model).SerializeToString(), providers=["CPUExecutionProvider"])
    assert np.array_equal(sess.run(None, {"input": x})[0], _run(quantized.path, x))


# -- bad input: one line, exit 1, nothing written ---------------------------------------------


def _bad_onnx(path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 784])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    onnx.save(model, str(path))


@pytest.mark.parametrize(
    "case",
    ["export-missing", "export-corrupt", "export-truncated", "quantize-not-onnx", "verify-wrong-shape"],
)
def test_bad_input_is_one_line_error_and_leaves_no_file(case, tmp_path, capsys):
    if case == "export-corrupt":
        (tmp_path / "c.pt").write_bytes(b"this is not a checkpoint\n" * 10)
        argv, needle = ["export", str(tmp_path / "c.pt"), "--out", str(tmp_path / "o.onnx")], "not a readable"
    elif case == "export-truncated":
        data = torch.nn.Linear(3, 3).state_dict()
        torch.save(data, tmp_path / "full.pt")
        (tmp_path / "t.pt").write_bytes((tmp_path / "full.pt").read_bytes()[:200])
        (tmp_path / "full.pt").unlink()
        argv, needle = ["export", str(tmp_path / "t.pt")], "not a readable"
    elif case == "export-missing":
        argv, needle = ["export", str(tmp_path / "none.pt"), "--out", str(tmp_path / "o.onnx")], "no such checkpoint"
    elif case == "quantize-not-onnx":
        (tmp_path / "m.onnx").write_bytes(b"\x89PNG\r\n\x1a\n not a model")
        argv, needle = ["quantize", str(tmp_path / "m.onnx")], "not an ONNX model"
    else:
        _bad_onnx(tmp_path / "m.onnx")
        argv, needle = ["verify", str(tmp_path / "m.onnx")], "expected [N,1,28,28]"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.slow
def test_cli_export_quantize_verify_with_mobile_artifacts(checkpoint, tmp_path, capsys):
    out = tmp_path / "cnn.onnx"
    assert main(["export", str(checkpoint), "--out", str(out)]) == 0
    assert main(["quantize", str(out)]) == 0
    assert main(["verify", str(out), str(tmp_path / "cnn.int8.onnx"), "--checkpoint", str(checkpoint)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    for stem in ("cnn", "cnn.int8"):
        assert {f"{stem}.onnx", f"{stem}.ort", f"{stem}.verify.json", f"{stem}.mobile.json"} <= names
        mobile = json.loads((tmp_path / f"{stem}.mobile.json").read_text())
        assert mobile["required_operators"] and mobile["usability"]["verdicts"]
        sess = ort.InferenceSession(str(tmp_path / f"{stem}.ort"), providers=["CPUExecutionProvider"])
        assert sess.run(None, {"input": np.zeros((3, 1, 28, 28), np.float32)})[0].shape == (3, 10)
    assert not [n for n in names if n.startswith(".")]  # no temp files left
    assert "verified cnn.int8.onnx" in capsys.readouterr().out
