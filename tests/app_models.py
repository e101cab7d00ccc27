"""Which model the app tests run: the shipped digitkit model, else the third-party zoo model.

The app is tested through the runtime's ``Recognizer`` exactly as users run it.
Plumbing tests work with any decent MNIST model; the accuracy tests need the
shipped one (they skip, saying so, until it exists).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "runtime" / "models" / "digitkit-cnn.onnx"
SHIPPED_INT8 = REPO / "runtime" / "models" / "digitkit-cnn.int8.onnx"


def plumbing_model() -> str | None:
    """None (the shipped default) when it exists, else the zoo model's path; skips when neither does."""
    if SHIPPED.is_file():
        return None
    from conftest import ZOO_MODEL_BATCH

    if ZOO_MODEL_BATCH.is_file():
        return str(ZOO_MODEL_BATCH)
    pytest.skip("no model: neither the shipped digitkit-cnn.onnx nor the zoo model in ../shared")


def model_args(model: str | None) -> list[str]:
    return [] if model is None else ["--model", model]


def accuracy_model() -> str | None:
    """The model the accuracy tests judge: $DIGITKIT_APP_MODEL, else the shipped one (None); skips without."""
    chosen = os.environ.get("DIGITKIT_APP_MODEL")
    if chosen:
        return chosen
    if not SHIPPED.is_file():
        pytest.skip(f"the shipped model {SHIPPED.name} is not exported yet (runtime/models/)")
    return None
