"""ORT format (.ort) for onnxruntime minimal/mobile builds, and the mobile usability check.

Both are onnxruntime's own tools, run as its documentation describes:
``convert_onnx_models_to_ort`` (Fixed optimisation style, no target platform,
so the file stays portable between x86 and ARM) and
``check_onnx_model_mobile_usability`` (which execution providers - NNAPI,
CoreML - could take the graph). Their results are kept beside the model:
``<name>.ort`` and ``<name>.mobile.json`` (the checker's log, its verdict, and
the operator list a reduced onnxruntime build needs for this model).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pathlib
import tempfile
from pathlib import Path
from typing import Any

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes, atomic_write_json


def ort_path(model_path: str | os.PathLike[str]) -> Path:
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".onnx") + ".ort")


def mobile_report_path(model_path: str | os.PathLike[str]) -> Path:
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".onnx") + ".mobile.json")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(line.rstrip() for line in record.getMessage().splitlines() if line.strip())


def convert_to_ort(model_path: str | os.PathLike[str]) -> tuple[Path, list[str]]:
    """Write ``<name>.ort`` beside the model; return its path and the operators it needs."""
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    source = Path(model_path).resolve()
    with tempfile.TemporaryDirectory(prefix="digitkit-ort-") as tmp:
        log = io.StringIO()
        quiet = logging.getLogger("ort_format_model.utils")
        level = quiet.level
        quiet.setLevel(logging.WARNING)  # its "Created config in <tmp>" line is noise here
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                convert_onnx_models_to_ort(
                    pathlib.Path(source), output_dir=pathlib.Path(tmp), optimization_styles=[OptimizationStyle.Fixed]
                )
        except Exception as exc:
            raise DigitkitError(f"{model_path}: ORT format conversion failed ({exc})") from None
        finally:
            quiet.setLevel(level)
        converted = Path(tmp) / (source.stem + ".ort")
        if not converted.is_file():
            raise DigitkitError(
                f"{model_path}: ORT format conversion produced no file ({log.getvalue().strip()[-200:]})"
            )
        configs = list(Path(tmp).glob("*.config"))
        operators = [
            line
            for line in (configs[0].read_text().splitlines() if configs else [])
            if line and not line.startswith("#")
        ]
        target = ort_path(model_path)
        atomic_write_bytes(target, converted.read_bytes())
    return target, operators


def check_mobile_usability(model_path: str | os.PathLike[str]) -> dict[str, Any]:
    """onnxruntime's mobile usability checker, its log captured line by line."""
    from onnxruntime.tools.mobile_helpers import usability_checker

    logger = logging.getLogger("digitkit.mobile_usability")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = _Lines()
    logger.addHandler(handler)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            may_benefit = usability_checker.analyze_model(pathlib.Path(model_path), skip_optimize=False, logger=logger)
    finally:
        logger.removeHandler(handler)
    verdicts = [line for line in handler.lines if line.startswith("Model should perform well with")]
    return {"nnapi_or_coreml_may_help": bool(may_benefit), "verdicts": verdicts, "log": handler.lines}


def mobile_artifacts(model_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Convert to .ort and run the usability check; write ``<name>.mobile.json``; return its content."""
    ort_file, operators = convert_to_ort(model_path)
    result = {
        "model": Path(model_path).name,
        "ort_file": ort_file.name,
        "ort_bytes": ort_file.stat().st_size,
        "required_operators": operators,
        "usability": check_mobile_usability(model_path),
    }
    atomic_write_json(mobile_report_path(model_path), result)
    return result
