"""Which model the app tests run: the shipped digitkit model.

The app is tested through the runtime's ``Recognizer`` exactly as users run it.
A model without an int8 twin (the [m] key's failure) is made by ``foreign_models.foreign_model``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "runtime" / "models" / "digitkit-cnn.onnx"
SHIPPED_INT8 = REPO / "runtime" / "models" / "digitkit-cnn.int8.onnx"


def plumbing_model() -> str | None:
    """None: the shipped default, which the plumbing tests run; skips, saying so, in a tree without it."""
    if not SHIPPED.is_file():
        pytest.skip(f"the shipped model {SHIPPED.name} is missing from runtime/models/")
    return None


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
