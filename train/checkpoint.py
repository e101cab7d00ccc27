"""Checkpoints: what a run needs to resume, and what export needs to ship.

Saved atomically (temporary file, then rename), loaded with
``weights_only=True`` so a checkpoint can never run code, and checked for the
keys digitkit writes so a stray ``.pt`` file gets a clear error.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes
from digitkit.train.config import TrainConfig
from digitkit.train.model import build_model

FORMAT = "digitkit-checkpoint-1"
MNIST_MEAN = 0.1307  # of the training pixels scaled to [0, 1]
MNIST_STD = 0.3081


class CheckpointError(DigitkitError):
    """A file that is not a usable digitkit checkpoint."""


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {first_line})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a digitkit checkpoint (missing format tag {FORMAT!r})")
    return state


def model_from_checkpoint(path: str | os.PathLike[str]) -> tuple[torch.nn.Module, dict[str, Any]]:
    state = load_checkpoint(path)
    cfg = TrainConfig.from_dict(state["config"])
    model = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the recorded architecture ({exc})") from None
    model.eval()
    return model, state
