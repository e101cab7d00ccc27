"""The torch-free runtime: numpy + onnxruntime (+ OpenCV / Pillow for pictures).

    from digitkit.runtime import Recognizer, read_number
    Recognizer().predict("digit.png").digit

Importing this package imports nothing heavy: the names below load their
modules on first use, so ``digitkit --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_picture": "images",
    "PictureError": "images",
    "to_mnist": "vision",
    "find_digits": "vision",
    "find_rows": "vision",
    "Digit": "vision",
    "Page": "vision",
    "VisionConfig": "vision",
    "annotate": "annotate",
    "Recognizer": "recognizer",
    "Prediction": "recognizer",
    "ModelError": "recognizer",
    "ProviderError": "recognizer",
    "DEFAULT_MIN_CONFIDENCE": "recognizer",
    "read_number": "reading",
    "NumberReading": "reading",
    "ModelSpec": "model_spec",
    "DigitkitError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'digitkit.runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"digitkit.runtime.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
