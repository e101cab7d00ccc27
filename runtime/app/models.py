"""The fp32 and int8 recognisers the app switches between with the [m] key.

Both are built lazily by the runtime's ``Recognizer`` (a model that fails to
load is reported as a message on screen, not a crash) and kept once loaded, so
switching back and forth is instant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.recognizer import PRECISIONS  # the [m] key switches between exactly these two


class ModelSwitch:
    """The current recogniser and the one the [m] key switches to."""

    def __init__(self, factory: Callable[[str], object], precision: str = "fp32"):
        if precision not in PRECISIONS:
            raise DigitkitError(f"precision must be fp32 or int8, not {precision!r}")
        self._factory = factory
        self._loaded: dict[str, object] = {}
        self.precision = precision
        self.recognizer = self._load(precision)  # the first model must load: its errors go to the user

    def _load(self, precision: str) -> object:
        if precision not in self._loaded:
            self._loaded[precision] = self._factory(precision)
        return self._loaded[precision]

    @property
    def shown_name(self) -> str:
        """What the screen calls the current model: its file's short name and the precision ("tiny int8")."""
        path = getattr(self.recognizer, "model_path", None)
        if path is None:
            return self.precision
        name = Path(path).name.removeprefix("digitkit-").split(".")[0]
        return f"{name[:16]} {self.precision}"

    def toggle(self) -> str:
        """Switch fp32 <-> int8; returns a message for the screen (the error, if it failed)."""
        other = PRECISIONS[1 - PRECISIONS.index(self.precision)]
        try:
            recognizer = self._load(other)
        except DigitkitError as exc:
            return f"{other} model unavailable: {exc}"
        self.precision, self.recognizer = other, recognizer
        return f"switched to the {other} model"


def recognizer_factory(
    model: str | None, *, threads: int | None = 1, provider: str = "auto", min_confidence: float | None = None
) -> Callable[[str], object]:
    """A function precision -> Recognizer with the command line's options."""

    def make(precision: str) -> object:
        from digitkit.runtime.recognizer import Recognizer

        options: dict[str, Any] = {"precision": precision, "provider": provider, "threads": threads}
        if min_confidence is not None:
            options["min_confidence"] = min_confidence
        return Recognizer(model_for(model, precision), **options)

    return make


def model_for(model: str | None, precision: str) -> str | None:
    """The model file for a precision: a given ``x.onnx`` has its int8 twin in ``x.int8.onnx``.

    None and the shipped names (``cnn``, ``tiny``) are resolved by the runtime itself.
    """
    if model is None or precision != "int8" or not str(model).endswith(".onnx") or str(model).endswith(".int8.onnx"):
        return model
    twin = Path(str(model)[: -len(".onnx")] + ".int8.onnx")
    if not twin.is_file():
        raise DigitkitError(f"no int8 model next to {model} (expected {twin.name})")
    return str(twin)
