"""The ways to run the model that the benchmark compares.

Each backend says why it cannot run here (a missing package, no GPU, no
int8 file...) or loads the model for a thread count and returns a function
from the input tensor to the logits. A backend that cannot run is listed in
the results as skipped with that reason, never left out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitkit.benchmarks.models import ModelFiles, ModelInput
from digitkit.runtime.errors import DigitkitError

TRAIN_EXTRA = "pip install 'digitkit[train]'"
BASELINE = "pytorch-eager-fp32"  # every speed-up is measured against it
EMPTY = "onnxruntime-cpu-empty"  # a graph without layers: what an onnxruntime call costs by itself


class BackendUnavailable(Exception):
    """Raised while loading when a backend turns out not to work here; the message is the reason."""


@dataclass
class Context:
    """What every backend may need: the model files, how to feed them, the machine's GPUs and providers."""

    models: ModelFiles
    model_input: ModelInput
    providers: list[str]
    gpus: list[str]
    checkpoints: list[Path] = field(default_factory=list)  # candidates for the eager baseline, best first
    checkpoint_explicit: bool = False  # given by the user: a mismatch is reported, not silently replaced
    tiny_checkpoints: list[Path] = field(default_factory=list)  # the same, for the tiny model
    quick: bool = False
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


@dataclass
class Runner:
    """A loaded backend: run(x) -> logits; prepare() sets process-wide thread counts before a measurement."""

    run: Callable[[np.ndarray], np.ndarray]
    prepare: Callable[[], None] = lambda: None
    note: str = ""  # what was loaded, e.g. where the PyTorch weights came from
    device: str = "cpu"


@dataclass(frozen=True)
class Backend:
    name: str
    model: str  # "cnn" (the shipped model) or "tiny"
    precision: str
    description: str
    why_not: Callable[[Context], str | None]  # None when it can run
    load: Callable[[Context, int], Runner]


# ---------------------------------------------------------------- onnxruntime


def _ort_session(path: Path, threads: int, providers: list, ctx: Context):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(path), options, providers=providers)
    wanted = providers[0][0] if isinstance(providers[0], tuple) else providers[0]
    if session.get_providers()[0] != wanted:
        raise BackendUnavailable(f"onnxruntime fell back to {session.get_providers()[0]} instead of {wanted}")
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def _ort_cpu(key: str) -> Callable[[Context, int], Runner]:
    def load(ctx: Context, threads: int) -> Runner:
        path = getattr(ctx.models, key)
        return Runner(_ort_session(path, threads, ["CPUExecutionProvider"], ctx), note=path.name)

    return load


def _empty_graph(ctx: Context, threads: int) -> Runner:
    """onnxruntime running a graph with no model in it (the input flattened, ten numbers kept): what a call costs
    before any layer runs, the floor every onnxruntime row stands on."""
    import onnx
    from onnx import TensorProto, helper

    first_ten = [
        helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in (("start", 0), ("end", 10), ("axis", 1))
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["x"], ["flat"]),
            helper.make_node("Slice", ["flat", "start", "end", "axis"], ["y"]),
        ],
        "empty",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        first_ten,
    )
    path = ctx.workdir / "empty.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), str(path))
    return Runner(_ort_session(path, threads, ["CPUExecutionProvider"], ctx), note="no layers")


def _file_missing(key: str, what: str) -> Callable[[Context], str | None]:
    def why_not(ctx: Context) -> str | None:
        if getattr(ctx.models, key) is None:
            return f"no {what} beside {ctx.models.fp32.name} in {ctx.models.fp32.parent} (digitkit export writes it)"
        return None

    return why_not


def cuda_unavailable_reason(
    providers: list[str], gpus: list[str], provider: str = "CUDAExecutionProvider"
) -> str | None:
    """Why onnxruntime cannot run on an NVIDIA GPU here, or None when it can."""
    if provider not in providers:
        gpu = f"a GPU is present ({gpus[0]})" if gpus else "and no NVIDIA GPU was found (no nvidia-smi)"
        build = (
            "the CPU-only onnxruntime package is installed"
            if "CPUExecutionProvider" in providers
            else "onnxruntime is not installed"
        )
        return f"onnxruntime has no {provider}: {build}, {gpu}; on a machine with an NVIDIA GPU: pip install onnxruntime-gpu"
    if not gpus:
        return f"onnxruntime has {provider} but no NVIDIA GPU was found (nvidia-smi lists none)"
    return None


def _fp16_model(ctx: Context) -> Path:
    """The fp32 model converted to fp16 weights and activations (inputs and outputs stay fp32)."""
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
    except ImportError as exc:
        raise BackendUnavailable(f"fp16 conversion needs {exc.name} ({TRAIN_EXTRA})") from None
    out = ctx.workdir / (ctx.models.fp32.name.removesuffix(".onnx") + ".fp16.onnx")
    if not out.is_file():
        model = convert_float_to_float16(onnx.load(str(ctx.models.fp32)), keep_io_types=True)
        onnx.save(model, str(out))
    return out


def _ort_cuda(fp16: bool, tensorrt: bool = False) -> Callable[[Context, int], Runner]:
    def load(ctx: Context, threads: int) -> Runner:
        path = _fp16_model(ctx) if fp16 else ctx.models.fp32
        providers: list = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        if tensorrt:
            trt_options = {
                "trt_fp16_enable": fp16,
                "trt_engine_cache_enable": True,
                "trt_engine_cache_path": str(ctx.workdir),
            }
            providers = [("TensorrtExecutionProvider", trt_options), *providers]
        return Runner(_ort_session(path, threads, providers, ctx), note=path.name, device="cuda")

    return load


def _why_not_cuda(ctx: Context) -> str | None:
    return cuda_unavailable_reason(ctx.providers, ctx.gpus)


def _why_not_tensorrt(ctx: Context) -> str | None:
    return cuda_unavailable_reason(ctx.providers, ctx.gpus, "TensorrtExecutionProvider")


# ---------------------------------------------------------------- OpenVINO


def _why_not_openvino(key: str, precision: str = "f32") -> Callable[[Context], str | None]:
    def why_not(ctx: Context) -> str | None:
        try:
            import openvino
        except ImportError:
            return "openvino not installed (pip install openvino; its own runtime, beside onnxruntime)"
        if precision == "bf16":
            capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
            if "BF16" not in capabilities:
                return f"this CPU has no native bf16 (AVX512_BF16/AMX); OpenVINO lists {', '.join(capabilities)}"
        return _file_missing(key, "int8 model")(ctx) if key != "fp32" else None

    return why_not


def _openvino(key: str, precision: str = "f32") -> Callable[[Context, int], Runner]:
    """OpenVINO's CPU plugin. ``precision`` is its inference precision hint: f32 keeps fp32 arithmetic
    (on a CPU with AMX or AVX512_BF16 the plugin's default is bf16, a different accuracy/speed trade)."""

    def load(ctx: Context, threads: int) -> Runner:
        import openvino

        path = getattr(ctx.models, key)
        core = openvino.Core()
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
        compiled = core.compile_model(str(path), "CPU", config | {"INFERENCE_PRECISION_HINT": precision})
        request = compiled.create_infer_request()
        output = compiled.output(0)

        def run(x: np.ndarray) -> np.ndarray:
            return request.infer({0: x})[output]

        return Runner(run, note=path.name)

    return load


# ---------------------------------------------------------------- OpenCV DNN


def _why_not_opencv(ctx: Context) -> str | None:
    try:
        import cv2
    except ImportError:
        return "opencv-python not installed"
    return None if hasattr(cv2, "dnn") else "this OpenCV build has no dnn module"


def _opencv(ctx: Context, threads: int) -> Runner:
    import cv2

    try:
        net = cv2.dnn.readNetFromONNX(str(ctx.models.fp32))
    except cv2.error as exc:
        raise BackendUnavailable(f"OpenCV DNN cannot read the model ({str(exc).strip().splitlines()[-1]})") from None
    # the defaults: OpenCV's own CPU backend (OpenCV 5's graph engine warns when a target is set explicitly)

    def run(x: np.ndarray) -> np.ndarray:
        net.setInput(x)
        return net.forward()

    return Runner(run, prepare=lambda: cv2.setNumThreads(threads), note=ctx.models.fp32.name)


# ---------------------------------------------------------------- PyTorch


def _why_not_torch(ctx: Context) -> str | None:
    try:
        import torch  # noqa: F401
    except ImportError:
        return f"torch not installed ({TRAIN_EXTRA})"
    return None


def _why_not_tiny_torch(ctx: Context) -> str | None:
    return _file_missing("tiny", "tiny model")(ctx) or _why_not_torch(ctx)


def _why_not_compile(ctx: Context) -> str | None:
    reason = _why_not_torch(ctx)
    if reason:
        return reason
    if ctx.quick:
        return "left out of --quick: compiling takes tens of seconds per batch size (the default run measures it)"
    if not (shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")):
        return "torch.compile's inductor backend needs a C++ compiler on the CPU (none found: apt-get install g++)"
    return None


def torch_baseline_module(ctx: Context, model: str = "cnn"):
    """The eager PyTorch model on the ONNX file's weights, and where those weights came from.

    A digitkit checkpoint is preferred (the trained module as written, BatchNorm
    and all); it is used only if its outputs match the ONNX model's. Without one,
    the network is rebuilt from the ONNX file's own tensors.
    """
    import onnxruntime

    from digitkit.benchmarks.inputs import digit_batch
    from digitkit.benchmarks.models import normalise, read_model_input

    onnx_path = ctx.models.fp32 if model == "cnn" else ctx.models.tiny
    checkpoints = ctx.checkpoints if model == "cnn" else ctx.tiny_checkpoints
    explicit = ctx.checkpoint_explicit and model == "cnn"
    model_input = ctx.model_input if model == "cnn" else read_model_input(onnx_path)
    x = normalise(digit_batch(1 if model_input.fixed_batch else 16, seed=1)[0], model_input.spec)
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    reference = session.run(None, {model_input.name: x})[0]
    tolerance = 1e-3 * max(1.0, float(np.abs(reference).max()))
    rejected = []
    for path in checkpoints:
        if not path.is_file():
            if explicit:
                raise BackendUnavailable(f"checkpoint {path} not found")
            continue
        try:
            module, diff = _checkpoint_module(path, x, reference)
        except (DigitkitError, RuntimeError) as exc:  # not a digitkit checkpoint, or weights of another shape
            if explicit:
                raise BackendUnavailable(f"checkpoint {path} cannot be used: {exc}") from None
            rejected.append(f"checkpoint {path} cannot be used ({exc})")
            continue
        if diff <= tolerance:
            return module, f"checkpoint {path}"
        message = f"checkpoint {path} is not the ONNX model's weights (max logit difference {diff:.3g})"
        if explicit:
            raise BackendUnavailable(message)
        rejected.append(message)
    from digitkit.benchmarks.torch_baseline import NoArchitecture, torch_from_onnx

    try:
        module = torch_from_onnx(onnx_path)
    except NoArchitecture as exc:
        raise BackendUnavailable(f"no checkpoint, and the network cannot be rebuilt: {exc}") from None
    import torch

    with torch.inference_mode():
        diff = float(np.abs(module(torch.from_numpy(x)).numpy() - reference).max())
    if diff > tolerance:
        raise BackendUnavailable(
            f"the rebuilt torch model does not match the ONNX model (max logit difference {diff:.3g})"
        )
    note = f"train.model's network with {onnx_path.name}'s recorded architecture and weights"
    return module, note + ("; " + "; ".join(rejected) if rejected else "")


def _checkpoint_module(path: Path, x: np.ndarray, reference: np.ndarray):
    import torch

    from digitkit.train.checkpoint import model_from_checkpoint

    module, _ = model_from_checkpoint(path)
    with torch.inference_mode():
        out = module(torch.from_numpy(x)).numpy()
    return module, float(np.abs(out - reference).max())


def _torch(compiled: bool, model: str = "cnn") -> Callable[[Context, int], Runner]:
    cache: dict = {}

    def load(ctx: Context, threads: int) -> Runner:
        import torch

        if "module" not in cache:
            cache["module"], cache["note"] = torch_baseline_module(ctx, model)
        module = cache["module"]
        if compiled:
            if "compiled" not in cache:
                cache["compiled"] = torch.compile(module, dynamic=False)
            module = cache["compiled"]

        def run(x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return module(torch.from_numpy(x)).numpy()

        if compiled:
            try:
                torch.set_num_threads(threads)
                run(np.zeros((1, 1, ctx.model_input.spec.height, ctx.model_input.spec.width), np.float32))
            except Exception as exc:  # inductor fails in many ways (no compiler, unsupported op)
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise BackendUnavailable(f"torch.compile failed: {type(exc).__name__}: {first[:200]}") from None
        return Runner(run, prepare=lambda: torch.set_num_threads(threads), note=cache["note"])

    return load


# ---------------------------------------------------------------- the list


def all_backends() -> list[Backend]:
    """Every backend, in the order the table shows them."""
    no_int8 = _file_missing("int8", "int8 model")
    return [
        Backend("onnxruntime-cpu-fp32", "cnn", "fp32", "onnxruntime, CPU execution provider", lambda c: None, _ort_cpu("fp32")),
        Backend("onnxruntime-cpu-int8", "cnn", "int8", "onnxruntime, CPU, static int8 (QDQ) model", no_int8, _ort_cpu("int8")),
        Backend(EMPTY, "empty", "fp32", "onnxruntime, CPU, a graph without layers (a call's floor)", lambda c: None, _empty_graph),
        Backend("onnxruntime-cuda-fp32", "cnn", "fp32", "onnxruntime, CUDA execution provider", _why_not_cuda, _ort_cuda(False)),
        Backend("onnxruntime-cuda-fp16", "cnn", "fp16", "onnxruntime, CUDA, fp16 model", _why_not_cuda, _ort_cuda(True)),
        Backend("onnxruntime-tensorrt-fp16", "cnn", "fp16", "onnxruntime, TensorRT execution provider", _why_not_tensorrt, _ort_cuda(True, tensorrt=True)),
        Backend("openvino-cpu-fp32", "cnn", "fp32", "OpenVINO runtime, CPU plugin, f32 precision hint", _why_not_openvino("fp32"), _openvino("fp32")),
        Backend("openvino-cpu-bf16", "cnn", "bf16", "OpenVINO runtime, CPU plugin, bf16 (its default on AMX/AVX512_BF16 CPUs)", _why_not_openvino("fp32", "bf16"), _openvino("fp32", "bf16")),
        Backend("openvino-cpu-int8", "cnn", "int8", "OpenVINO runtime, CPU, the int8 QDQ model (f32 elsewhere)", _why_not_openvino("int8"), _openvino("int8")),
        Backend("opencv-dnn-fp32", "cnn", "fp32", "OpenCV DNN module, CPU", _why_not_opencv, _opencv),
        Backend("pytorch-eager-fp32", "cnn", "fp32", "PyTorch eager (the baseline), CPU", _why_not_torch, _torch(False)),
        Backend("pytorch-compile-fp32", "cnn", "fp32", "torch.compile (inductor), CPU", _why_not_compile, _torch(True)),
        Backend("onnxruntime-cpu-fp32", "tiny", "fp32", "onnxruntime, CPU, the tiny model", _file_missing("tiny", "tiny model"), _ort_cpu("tiny")),
        Backend("onnxruntime-cpu-int8", "tiny", "int8", "onnxruntime, CPU, the tiny int8 model", _file_missing("tiny_int8", "tiny int8 model"), _ort_cpu("tiny_int8")),
        Backend(BASELINE, "tiny", "fp32", "PyTorch eager (the baseline), the tiny model", _why_not_tiny_torch, _torch(False, "tiny")),
    ]  # fmt: skip
