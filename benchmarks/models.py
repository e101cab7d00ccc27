"""Which model files a benchmark measures, and how to feed them.

By default the models the runtime ships (``digitkit/runtime/models``); a
folder or a single fp32 ONNX file can be given instead. The benchmark feeds
every backend the same float tensor, normalised the way the model's own
metadata says (digitkit.runtime.model_spec), so the backends differ only in
how they run the graph.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.model_spec import ModelSpec

MAIN = "digitkit-cnn"
TINY = "digitkit-tiny"


class BenchModelError(DigitkitError):
    """No model to measure, or a model file that cannot be read."""


def shipped_models_dir() -> Path:
    import digitkit.runtime

    return Path(digitkit.runtime.__file__).resolve().parent / "models"


@dataclass
class ModelFiles:
    """The variants of the model under test found on disk (None: not there)."""

    fp32: Path
    int8: Path | None = None
    ort: Path | None = None  # fp32 in onnxruntime's .ort format
    int8_ort: Path | None = None
    tiny: Path | None = None
    tiny_int8: Path | None = None
    tiny_ort: Path | None = None
    tiny_int8_ort: Path | None = None
    source: str = ""

    def sizes(self) -> list[dict]:
        rows = []
        for label, path in self.labelled().items():
            if path is not None and path.is_file():
                row = {"model": label, "file": path.name, "bytes": path.stat().st_size}
                rows.append(row | {"test_accuracy": _recorded_accuracy(path)})
        by_label = {r["model"]: r["test_accuracy"] for r in rows}
        for r in rows:  # an .ort file is its .onnx converted losslessly: the same accuracy
            if r["model"].endswith("(.ort)"):
                r["test_accuracy"] = by_label.get(r["model"].replace("(.ort)", "(.onnx)"))
        return rows

    def labelled(self) -> dict[str, Path | None]:
        return {
            "cnn fp32 (.onnx)": self.fp32,
            "cnn int8 (.onnx)": self.int8,
            "cnn fp32 (.ort)": self.ort,
            "cnn int8 (.ort)": self.int8_ort,
            "tiny fp32 (.onnx)": self.tiny,
            "tiny int8 (.onnx)": self.tiny_int8,
            "tiny fp32 (.ort)": self.tiny_ort,
            "tiny int8 (.ort)": self.tiny_int8_ort,
        }


def _recorded_accuracy(path: Path) -> float | None:
    """The MNIST test accuracy the export stage wrote into the model's metadata (None if it did not)."""
    if path.suffix != ".onnx":
        return None
    try:
        import onnxruntime

        props = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
        return float(props.custom_metadata_map["digitkit.test_accuracy"])
    except Exception:  # no metadata, or not readable: the size still stands
        return None


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _variants(folder: Path, stem: str) -> dict[str, Path | None]:
    return {
        "fp32": _existing(folder / f"{stem}.onnx"),
        "int8": _existing(folder / f"{stem}.int8.onnx"),
        "ort": _existing(folder / f"{stem}.ort"),
        "int8_ort": _existing(folder / f"{stem}.int8.ort"),
    }


def find_models(model: str | os.PathLike | None = None, models_dir: str | os.PathLike | None = None) -> ModelFiles:
    """The fp32 model (required) and whichever int8 / .ort / tiny variants sit beside it."""
    if model is not None:
        fp32 = Path(model)
        if not fp32.is_file():
            raise BenchModelError(f"{fp32}: no such model file")
        stem = fp32.name.removesuffix(".onnx")
        v = _variants(fp32.parent, stem)
        tiny = _variants(fp32.parent, TINY) if stem == MAIN else {}
        return ModelFiles(
            fp32=fp32,
            int8=v["int8"],
            ort=v["ort"],
            int8_ort=v["int8_ort"],
            tiny=tiny.get("fp32"),
            tiny_int8=tiny.get("int8"),
            tiny_ort=tiny.get("ort"),
            tiny_int8_ort=tiny.get("int8_ort"),
            source=str(fp32),
        )
    folder = Path(models_dir) if models_dir is not None else shipped_models_dir()
    v = _variants(folder, MAIN)
    if v["fp32"] is None:
        hint = "run `digitkit export` first, or pass --model PATH.onnx"
        raise BenchModelError(f"no {MAIN}.onnx in {folder}: {hint}")
    tiny = _variants(folder, TINY)
    return ModelFiles(
        fp32=v["fp32"],
        int8=v["int8"],
        ort=v["ort"],
        int8_ort=v["int8_ort"],
        tiny=tiny["fp32"],
        tiny_int8=tiny["int8"],
        tiny_ort=tiny["ort"],
        tiny_int8_ort=tiny["int8_ort"],
        source=str(folder),
    )


@dataclass
class ModelInput:
    """The model's input name, spec and whether it takes a batch larger than one."""

    name: str
    spec: ModelSpec
    fixed_batch: int | None  # 1 for a batch-1-only model, None for a dynamic batch
    metadata: dict[str, str] = field(default_factory=dict)


def read_model_input(path: Path) -> ModelInput:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for unreadable files
        raise BenchModelError(f"{path}: onnxruntime cannot load it ({type(exc).__name__}: {exc})") from None
    inp = session.get_inputs()[0]
    props = dict(session.get_modelmeta().custom_metadata_map)
    batch = inp.shape[0]
    return ModelInput(
        name=inp.name,
        spec=ModelSpec.from_metadata(props),
        fixed_batch=batch if isinstance(batch, int) and batch > 0 else None,
        metadata=props,
    )


def normalise(pixels01: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """(N,28,28) pixels in [0,1], white ink on black -> the (N,1,28,28) float32 tensor the model expects."""
    x = pixels01.astype(np.float32)
    if spec.polarity == "black-on-white":
        x = 1.0 - x
    x = x * np.float32(spec.pixel_scale)
    x = (x - np.float32(spec.mean)) / np.float32(spec.std)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)
