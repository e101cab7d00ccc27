"""onnxruntime sessions: which execution provider runs a model, and how a session is called on it.

``open_session`` tries the providers asked for (``auto``: CUDA, then the CPU) and says which one loaded and
why; ``run_in_blocks`` calls a session on the CUDA provider in batches of one shape.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.runtime.errors import DigitkitError

log = logging.getLogger("digitkit.runtime")

PROVIDER_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "xnnpack": "XnnpackExecutionProvider",
    "qnn": "QNNExecutionProvider",
    "azure": "AzureExecutionProvider",
}
AUTO_ORDER = ("cuda", "cpu")  # tried in this order by provider="auto"


class ModelError(DigitkitError):
    """A model file that is missing, not ONNX, or not shaped like a digit classifier."""


class ProviderError(DigitkitError):
    """An execution provider that was asked for and cannot be used."""


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider.lower(), provider)


def short_name(provider_name: str) -> str:
    for short, full in PROVIDER_NAMES.items():
        if full == provider_name:
            return short
    return provider_name


def open_session(path: Path, provider: str, threads: int | None, quiet: bool = False) -> tuple[Any, str, str]:
    """Create the session; ``auto`` walks AUTO_ORDER and keeps the first provider that really loads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: a failed CUDA load is reported through our log instead
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    available = ort.get_available_providers()
    if provider == "auto":
        candidates = [provider_name(p) for p in AUTO_ORDER]
    else:
        name = provider_name(provider)
        if name not in available:
            raise ProviderError(
                f"execution provider {provider!r} is not available in this onnxruntime build "
                f"(available: {', '.join(short_name(p) for p in available)})"
            )
        candidates = [name]
    reasons = []
    for name in candidates:
        if name not in available:
            reasons.append(f"{short_name(name)}: not in this onnxruntime build")
            continue
        chain = [name] if name == "CPUExecutionProvider" else [name, "CPUExecutionProvider"]
        session = _create(ort, path, options, chain)
        if session.get_providers()[0] != name:
            reasons.append(f"{short_name(name)}: failed to initialise (driver or library missing)")
            continue
        reason = "requested" if provider != "auto" else "first that works in order " + " → ".join(AUTO_ORDER)
        if reasons:
            reason += " (" + "; ".join(reasons) + ")"
        if not quiet:
            log.info("%s runs on %s: %s", path.name, short_name(name), reason)
        return session, short_name(name), reason
    raise ProviderError(f"no execution provider could run {path.name}: " + "; ".join(reasons))


def _create(ort, path: Path, options, providers: list[str]):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a provider that is not there is reported through our log instead
            return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for a bad file
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a loadable ONNX model ({message})") from None


# On the CUDA provider every call holds CUDA_BLOCK digits (blanks pad it; longer batches go in blocks of it):
# onnxruntime's CUDA convolution keeps its cuDNN algorithm for the last input shape only, and searches again
# (exhaustively, by default) whenever the batch size changes. A 40-digit page's calls (3, 5, 7 and 40 digits)
# took 1.3 s against 59 ms on one CPU thread (NVIDIA H200, onnxruntime-gpu 1.31.1).
CUDA_BLOCK = 64


def run_in_blocks(run: Callable[[np.ndarray], np.ndarray], tensor: np.ndarray) -> np.ndarray:
    """``run`` on ``tensor`` in blocks of exactly CUDA_BLOCK rows, the last one padded with zeros."""
    if len(tensor) == 0:
        return run(tensor)
    out = []
    for start in range(0, len(tensor), CUDA_BLOCK):
        part = tensor[start : start + CUDA_BLOCK]
        rows = len(part)
        if rows < CUDA_BLOCK:
            part = np.concatenate([part, np.zeros((CUDA_BLOCK - rows, *part.shape[1:]), part.dtype)])
        out.append(run(part)[:rows])
    return np.concatenate(out)
