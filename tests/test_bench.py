"""`digitkit bench`: results, table and plots written; every backend listed, run or skipped with a reason."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest
from foreign_models import foreign_model

import digitkit.benchmarks
from digitkit.benchmarks.backends import BASELINE, all_backends, cuda_unavailable_reason
from digitkit.benchmarks.machine import describe_machine, onnxruntime_providers
from digitkit.runtime.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the legacy exporter, fine for a test model
torch = pytest.importorskip("torch", reason="the PyTorch baseline and the test model need the train extra")


def _export(model: torch.nn.Module, path, arch: str = "cnn") -> None:
    """A digitkit-style ONNX file: dynamic batch, MNIST normalisation and the architecture in the metadata."""
    import onnx

    from digitkit.runtime.model_spec import ModelSpec

    torch.onnx.export(
        model,
        (torch.zeros(1, 1, 28, 28),),
        str(path),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    proto = onnx.load(str(path))
    from digitkit.train.config import TrainConfig

    config = json.dumps(TrainConfig(arch=arch, widths=(8, 16, 16), epochs=1).to_dict())
    onnx.helper.set_model_props(
        proto, {**ModelSpec(mean=0.1307, std=0.3081).to_metadata(), "digitkit.train_config": config}
    )
    onnx.save(proto, str(path))


def _checkpoint(path, seed: int, arch: str = "cnn") -> torch.nn.Module:
    from digitkit.train.checkpoint import model_from_checkpoint, save_checkpoint
    from digitkit.train.config import TrainConfig
    from digitkit.train.model import build_model

    cfg = TrainConfig(arch=arch, widths=(8, 16, 16), epochs=1)
    torch.manual_seed(seed)
    model = build_model(cfg.arch, cfg.widths, cfg.head).eval()
    for m in model.modules():  # non-trivial BatchNorm statistics, so folding them is tested too
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_checkpoint(path, {"config": cfg.to_dict(), "model": model.state_dict()})
    return model_from_checkpoint(path)[0]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A small CNN (checkpoint, fp32 ONNX, static int8 ONNX) and a tiny one, named as the shipped models are."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from digitkit.benchmarks.inputs import digit_batch

    folder = tmp_path_factory.mktemp("bench-model")
    model = _checkpoint(folder / "checkpoint.pt", seed=0)
    fp32 = folder / "digitkit-cnn.onnx"
    _export(model, fp32)
    _export(_checkpoint(folder / "tiny.pt", seed=0, arch="separable"), folder / "digitkit-tiny.onnx", "separable")

    class Digits(CalibrationDataReader):
        def __init__(self):
            images = (digit_batch(32, seed=3)[0][:, None] - 0.1307) / 0.3081
            self.batches = iter([{"image": images[i : i + 8].astype(np.float32)} for i in range(0, 32, 8)])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(
        str(fp32),
        str(folder / "digitkit-cnn.int8.onnx"),
        Digits(),
        quant_format=QuantFormat.QDQ,
        weight_type=QuantType.QInt8,
    )
    return folder


@pytest.fixture(scope="module")
def quick_run(small_model):
    out = small_model / "results"
    argv = ["bench", "--quick", "--models-dir", str(small_model), "--checkpoint", str(small_model / "checkpoint.pt")]
    assert main([*argv, "--tiny-checkpoint", str(small_model / "tiny.pt"), "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_quick_run_writes_json_table_and_plots(quick_run, capsys):
    out, results = quick_run
    table = (out / "table.md").read_text()
    assert "## Model latency" in table and "## Cold start" in table and "## Model sizes on disk" in table
    for name in ("latency_by_batch", "throughput", "cold_start", "sizes"):
        picture = cv2.imread(str(out / f"{name}.png"))
        assert picture is not None and picture.shape[0] > 200 and picture.shape[1] > 400, name
    machine = results["machine"]
    assert machine["cpu"] and machine["usable_cores"] >= 1 and machine["libraries"]["onnxruntime"]
    assert ("avx2" in machine["cpu_flags"]) == ("avx2" in open("/proc/cpuinfo").read()), "flags read from the CPU"


def test_every_backend_is_listed_run_or_skipped_with_a_reason(quick_run):
    _, results = quick_run
    listed = {(e["backend"], e["model"]): e for e in results["backends"]}
    assert set(listed) == {(b.name, b.model) for b in all_backends()}
    for entry in listed.values():
        assert entry["status"] in ("ran", "skipped")
        if entry["status"] == "skipped":
            assert len(entry["reason"]) > 15, entry
    for name in ("onnxruntime-cpu-fp32", "onnxruntime-cpu-int8", "opencv-dnn-fp32", BASELINE):
        assert listed[(name, "cnn")]["status"] == "ran", listed[(name, "cnn")]
    assert "left out of --quick" in listed[("pytorch-compile-fp32", "cnn")]["reason"]
    assert listed[("onnxruntime-cpu-fp32", "tiny")]["status"] == "ran"
    assert "checkpoint" in listed[(BASELINE, "tiny")]["note"]
    assert "no tiny int8 model" in listed[("onnxruntime-cpu-int8", "tiny")]["reason"]


def test_backends_compute_the_same_function(quick_run):
    _, results = quick_run
    listed = {(e["backend"], e["model"]): e for e in results["backends"]}
    eager = listed[(BASELINE, "cnn")]
    assert "checkpoint" in eager["note"], "the given checkpoint is the baseline's weights"
    assert eager["top1_agreement"] == 1.0 and eager["max_abs_logit_diff"] < 1e-3
    assert listed[("opencv-dnn-fp32", "cnn")]["max_abs_logit_diff"] < 1e-3
    assert listed[("onnxruntime-cpu-int8", "cnn")]["top1_agreement"] >= 0.8  # int8 rounds, but mostly agrees


def test_latency_rows_and_ratios_to_eager(quick_run):
    _, results = quick_run
    rows = results["latency"]
    assert {r["batch"] for r in rows} == {1, 64} and {r["threads"] for r in rows} == {1}
    for r in rows:
        assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"], r
        assert r["images_per_s"] == pytest.approx(r["batch"] / (r["p50_ms"] / 1e3), rel=0.01)
        if r["model"] != "empty":  # the graph without layers has no eager twin
            assert r["speedup_vs_eager"] is not None and r["speedup_vs_eager"] > 0
    eager = [r for r in rows if r["backend"] == BASELINE]
    assert all(r["speedup_vs_eager"] == 1.0 for r in eager)
    summary = results["summary"]
    assert summary["ort_fp32_batch1_speedup_vs_eager_threads1"] > 1.0, "onnxruntime beats eager PyTorch at batch 1"
    assert summary["tiny_ort_fp32_batch1_speedup_vs_eager_threads1"] > 1.0
    assert summary["ort_int8_vs_fp32_speedup_batch1_threads1"] > 0
    assert any(r["model"] == "empty" and r["batch"] == 1 for r in rows)
    assert summary["ort_fp32_batch1_vs_empty_graph_threads1"] > 1.0, "a model costs more than a call without layers"


def test_cold_start_in_fresh_processes(quick_run):
    _, results = quick_run
    cold = {c["backend"]: c for c in results["cold_start"]}
    ort = cold["onnxruntime-cpu-fp32"]
    assert ort["status"] == "ran" and ort["output_shape"] == [1, 10]
    assert ort["process_wall_s"] > ort["import_s"] + ort["load_s"] > 0
    assert 10 < ort["peak_rss_mib"] < cold[BASELINE]["peak_rss_mib"], "torch costs more memory than onnxruntime"
    assert cold["onnxruntime-cpu-fp32 (.ort)"]["status"] == "skipped"  # no .ort file beside the test model


def test_cuda_is_skipped_with_a_clear_reason_without_a_gpu(quick_run):
    _, results = quick_run
    if "CUDAExecutionProvider" in onnxruntime_providers() and describe_machine()["gpus"]:
        pytest.skip("a GPU is here: test_cuda_backends_run_on_a_gpu covers it")
    listed = {(e["backend"], e["model"]): e for e in results["backends"]}
    for name in ("onnxruntime-cuda-fp32", "onnxruntime-cuda-fp16", "onnxruntime-tensorrt-fp16"):
        entry = listed[(name, "cnn")]
        assert entry["status"] == "skipped"
        assert "ExecutionProvider" in entry["reason"] and "GPU" in entry["reason"]


def test_cuda_reason_names_the_missing_piece():
    cpu_only = cuda_unavailable_reason(["CPUExecutionProvider"], [])
    assert "no CUDAExecutionProvider" in cpu_only and "onnxruntime-gpu" in cpu_only and "no NVIDIA GPU" in cpu_only
    no_gpu = cuda_unavailable_reason(["CUDAExecutionProvider", "CPUExecutionProvider"], [])
    assert "no NVIDIA GPU" in no_gpu
    assert cuda_unavailable_reason(["CUDAExecutionProvider"], ["NVIDIA H100, 80 GiB"]) is None


@pytest.mark.skipif(
    "CUDAExecutionProvider" not in onnxruntime_providers(), reason="no onnxruntime CUDA provider (onnxruntime-gpu) here"
)
def test_cuda_backends_run_on_a_gpu(small_model, tmp_path):
    out = tmp_path / "cuda"
    backends = "onnxruntime-cpu-fp32,onnxruntime-cuda-fp32,onnxruntime-cuda-fp16"
    argv = [
        "bench",
        "--quick",
        "--model",
        str(small_model / "digitkit-cnn.onnx"),
        "--backends",
        backends,
        "--no-cold-start",
    ]
    assert main([*argv, "--no-pipeline", "--no-plots", "--out", str(out)]) == 0
    listed = {
        e["backend"]: e for e in json.loads((out / "results.json").read_text())["backends"] if e["model"] == "cnn"
    }
    assert listed["onnxruntime-cuda-fp32"]["status"] == "ran", listed["onnxruntime-cuda-fp32"]
    assert listed["onnxruntime-cuda-fp32"]["max_abs_logit_diff"] < 1e-2


def test_without_the_train_extra_the_runtime_backends_still_run(monkeypatch, small_model, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError, as without the train extra
    monkeypatch.setitem(sys.modules, "openvino", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "digitkit.benchmarks.plots", raising=False)
    monkeypatch.delattr(digitkit.benchmarks, "plots", raising=False)  # so that the import runs again
    out = tmp_path / "no-torch"
    argv = ["bench", "--quick", "--model", str(small_model / "digitkit-cnn.onnx"), "--no-cold-start"]
    assert main([*argv, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert "matplotlib" in results["plots"]["skipped"] and (out / "table.md").is_file()
    listed = {(e["backend"], e["model"]): e for e in results["backends"]}
    assert listed[(BASELINE, "cnn")]["reason"] == "torch not installed (pip install 'digitkit[train]')"
    assert "openvino not installed" in listed[("openvino-cpu-fp32", "cnn")]["reason"]
    assert listed[("onnxruntime-cpu-fp32", "cnn")]["status"] == "ran"
    rows = json.loads((out / "results.json").read_text())["latency"]
    assert rows and all(r["speedup_vs_eager"] is None for r in rows), "no baseline, no made-up ratio"


def test_baseline_without_checkpoint_is_rebuilt_from_the_recorded_architecture(small_model, tmp_path, monkeypatch):
    """No checkpoint: the eager baseline is train.model's network with the file's architecture and weights."""
    monkeypatch.chdir(tmp_path)  # no runs/full/checkpoint.pt to find
    out = tmp_path / "ours"
    argv = ["bench", "--quick", "--model", str(small_model / "digitkit-cnn.onnx"), "--backends", BASELINE]
    assert main([*argv, "--no-cold-start", "--no-pipeline", "--no-plots", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    eager = {e["backend"]: e for e in results["backends"] if e["model"] == "cnn"}[BASELINE]
    assert eager["status"] == "ran" and "recorded architecture" in eager["note"]
    assert eager["max_abs_logit_diff"] < 1e-3


def test_a_third_party_model_has_no_eager_baseline_and_says_why(tmp_path, monkeypatch):
    """A model digitkit did not train (no recorded architecture, batch 1 only): the baseline is skipped."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "foreign"
    model = foreign_model(tmp_path / "foreign.onnx", batch_one=True)
    argv = ["bench", "--quick", "--model", str(model), "--backends", f"onnxruntime-cpu-fp32,{BASELINE}"]
    assert main([*argv, "--no-cold-start", "--no-pipeline", "--no-plots", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    eager = {e["backend"]: e for e in results["backends"] if e["model"] == "cnn"}[BASELINE]
    assert eager["status"] == "skipped" and "records no digitkit architecture" in eager["reason"]
    assert {r["batch"] for r in results["latency"]} == {1}, "a batch-1 model is measured at batch 1 only"


def test_a_checkpoint_with_other_weights_is_refused(small_model, tmp_path):
    _checkpoint(tmp_path / "other.pt", seed=1)
    out = tmp_path / "other"
    argv = [
        "bench",
        "--quick",
        "--model",
        str(small_model / "digitkit-cnn.onnx"),
        "--checkpoint",
        str(tmp_path / "other.pt"),
    ]
    argv += ["--backends", f"onnxruntime-cpu-fp32,{BASELINE}", "--no-cold-start", "--no-pipeline", "--no-plots"]
    assert main([*argv, "--out", str(out)]) == 0
    eager = {
        e["backend"]: e for e in json.loads((out / "results.json").read_text())["backends"] if e["model"] == "cnn"
    }[BASELINE]
    assert eager["status"] == "skipped" and "not the ONNX model's weights" in eager["reason"]


def test_bad_options_get_one_line_errors(small_model, tmp_path, capsys):
    assert main(["bench", "--quick", "--model", str(tmp_path / "none.onnx")]) == 1
    assert "no such model file" in capsys.readouterr().err
    argv = ["bench", "--quick", "--model", str(small_model / "digitkit-cnn.onnx"), "--backends", "onnxruntime-gpu-fp64"]
    assert main([*argv, "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "unknown backend" in err and "onnxruntime-cpu-fp32" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["cnn", "tiny"])
def test_rebuilt_torch_module_matches_onnxruntime(name):
    """The eager baseline without a checkpoint: train.model's network with the file's architecture and weights."""
    import onnxruntime

    from digitkit.benchmarks.inputs import digit_batch
    from digitkit.benchmarks.torch_baseline import torch_from_onnx
    from digitkit.runtime.recognizer import shipped_model_path

    path = shipped_model_path(name, "fp32")
    module = torch_from_onnx(path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = (digit_batch(5, seed=2)[0][:, None].astype(np.float32) - 0.1307) / 0.3081
    with torch.inference_mode():
        ours = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, session.run(None, {session.get_inputs()[0].name: x})[0], atol=1e-3)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules()) > 0  # the trained network's layers


def test_a_file_without_a_recorded_architecture_is_refused_with_the_reason(tmp_path):
    from digitkit.benchmarks.torch_baseline import NoArchitecture, torch_from_onnx

    path = foreign_model(tmp_path / "foreign.onnx", batch_one=True, pixels_0_255=True)
    with pytest.raises(NoArchitecture, match="records no digitkit architecture"):
        torch_from_onnx(path)


def test_shipped_models_are_found_with_sizes_and_accuracy():
    from digitkit.benchmarks.models import find_models, shipped_models_dir

    if not (shipped_models_dir() / "digitkit-cnn.onnx").is_file():
        pytest.skip("no shipped models yet (digitkit export writes them)")
    sizes = {s["model"]: s for s in find_models().sizes()}
    assert {"cnn fp32 (.onnx)", "cnn int8 (.onnx)", "tiny fp32 (.onnx)"} <= set(sizes)
    assert sizes["cnn int8 (.onnx)"]["bytes"] < sizes["cnn fp32 (.onnx)"]["bytes"] / 2, "int8 weights are a quarter"
    assert sizes["tiny fp32 (.onnx)"]["bytes"] < sizes["cnn fp32 (.onnx)"]["bytes"]
    assert sizes["cnn fp32 (.onnx)"]["test_accuracy"] >= 0.99


def test_int8_explanation_follows_the_cpu_flags():
    from digitkit.benchmarks.report import int8_reason

    avx2_only = int8_reason(["avx", "avx2", "fma"], [0.8, 0.9])
    assert "slower" in avx2_only and "no VNNI" in avx2_only
    vnni = int8_reason(["avx2", "avx512_vnni"], [2.1, 2.4])
    assert "faster" in vnni and "avx512_vnni" in vnni


@pytest.mark.parametrize("part", ["robustness", "photos", "pictures", "browser", "device"])
def test_each_benchmark_is_a_part_of_bench_with_its_own_options(part, capsys):
    """`digitkit bench PART [options]` runs the part's module; its options (and --help) are the module's own."""
    with pytest.raises(SystemExit) as exit_:
        main(["bench", part, "--help"])
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["bench", part, "--no-such-option"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "error:" in err and len(err.strip().splitlines()[-1]) < 200
