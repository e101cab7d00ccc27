"""The weights a fine-tuning run starts from: a checkpoint, or a model digitkit exported to ONNX.

    model, origin = starting_model("runtime/models/digitkit-cnn.onnx", cfg)

An exported model is enough, so the shipped CNN can be fine-tuned from a clone that has no checkpoint. Export
folds each BatchNorm into the convolution before it; read back, the convolution gets its weights and the
BatchNorm becomes the identity carrying the folded bias (running mean 0, variance 1). Such a BatchNorm must not
learn batch statistics, so a fine-tuning run keeps every BatchNorm in eval mode (``freeze_norm``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import sha256_file
from digitkit.train.config import ARCH_ALIASES, TrainConfig
from digitkit.train.model import build_model


def starting_model(path: str | os.PathLike[str], cfg: TrainConfig) -> tuple[nn.Module, dict[str, Any]]:
    """A model of ``cfg``'s architecture holding the weights of ``path`` (``.pt`` checkpoint or ``.onnx``), and
    what it was: the file's name and SHA-256, and the recipe that trained it where the file records one."""
    source = check_start(path)
    model = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout)
    origin: dict[str, Any] = {"file": source.name, "sha256": sha256_file(source)}
    if source.suffix == ".onnx":
        origin.update(_load_onnx(model, source, cfg))
    else:
        from digitkit.train.checkpoint import model_from_checkpoint

        trained, state = model_from_checkpoint(source)
        _same_architecture(source, TrainConfig.from_dict(state["config"]), cfg)
        model.load_state_dict(trained.state_dict())
        origin["train_config"] = state["config"]
    return model, origin


def check_start(path: str | os.PathLike[str], role: str = "") -> Path:
    """The start's (or a teacher's: ``role``) path, or one line saying it is missing (called before a run loads its
    data, too)."""
    source = Path(path)
    if not source.is_file():
        why = role or "a fine-tuning run starts from it"
        how = "" if role else ", or give --init a checkpoint.pt or an exported .onnx"
        raise DigitkitError(f"{source}: no such file; {why} (train that model first{how})")
    return source


def freeze_norm(model: nn.Module) -> None:
    """Every BatchNorm in eval mode: it keeps the statistics it started with (call after ``model.train()``)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def _same_architecture(source: Path, found: TrainConfig, cfg: TrainConfig) -> None:
    mine = (ARCH_ALIASES.get(cfg.arch, cfg.arch), tuple(cfg.widths), cfg.head)
    theirs = (ARCH_ALIASES.get(found.arch, found.arch), tuple(found.widths), found.head)
    if mine != theirs:
        raise DigitkitError(
            f"{source}: a {' '.join(map(str, theirs))} model; this preset trains {' '.join(map(str, mine))}"
        )


def _load_onnx(model: nn.Module, source: Path, cfg: TrainConfig) -> dict[str, Any]:
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(source))
    except Exception as exc:  # onnx raises DecodeError, ValueError, OSError for a file that is not a model
        raise DigitkitError(f"{source}: not an ONNX model ({type(exc).__name__})") from None
    props = {p.key: p.value for p in graph.metadata_props}
    if props.get("digitkit.precision", "fp32") != "fp32":
        raise DigitkitError(f"{source}: a {props['digitkit.precision']} model; fine-tune from the fp32 one")
    if "digitkit.train_config" in props:
        _same_architecture(source, TrainConfig.from_dict(json.loads(props["digitkit.train_config"])), cfg)
    weights = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    onnx_convs = [node for node in graph.graph.node if node.op_type == "Conv"]
    gemms = [node for node in graph.graph.node if node.op_type == "Gemm"]
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    linears = [m for m in model.head if isinstance(m, nn.Linear)]
    if len(onnx_convs) != len(convs) or len(gemms) != 1 or len(linears) != 1:
        raise DigitkitError(f"{source}: its layers do not match the {cfg.arch} {tuple(cfg.widths)} model")
    try:
        with torch.no_grad():
            for node, conv, norm in zip(onnx_convs, convs, norms, strict=True):
                conv.weight.copy_(torch.from_numpy(weights[node.input[1]].copy()))
                norm.running_mean.zero_()
                norm.running_var.fill_(1.0)
                norm.weight.fill_(math.sqrt(1.0 + norm.eps))  # undoes the division by sqrt(var + eps)
                norm.bias.copy_(torch.from_numpy(weights[node.input[2]].copy()))
            linears[0].weight.copy_(torch.from_numpy(weights[gemms[0].input[1]].copy()))
            linears[0].bias.copy_(torch.from_numpy(weights[gemms[0].input[2]].copy()))
    except (KeyError, IndexError, RuntimeError) as exc:  # a weight missing or of another shape
        raise DigitkitError(
            f"{source}: its weights do not fit the {cfg.arch} {tuple(cfg.widths)} model ({exc})"
        ) from None
    recorded = {k: props["digitkit." + k] for k in ("checkpoint_sha256", "test_accuracy") if "digitkit." + k in props}
    if "digitkit.train_config" in props:
        recorded["train_config"] = json.loads(props["digitkit.train_config"])
    return recorded
