"""The PyTorch eager baseline without a checkpoint: the network ``train.model`` builds from the architecture an
ONNX file records (``digitkit.train_config``), holding the file's weights.

Checkpoints are not shipped, so the benchmark's baseline is rebuilt from the shipped file. The exporter folds
each BatchNorm into the convolution before it; the rebuilt network keeps its BatchNorms (the trained network's
layers, so eager pays for them as it would) set to pass the folded bias through: scale 1, mean 0, variance
1 - eps.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch
from torch import nn


class NoArchitecture(Exception):
    """The ONNX file records no digitkit architecture, or its weights do not fit it."""


def torch_from_onnx(path: str | os.PathLike[str]) -> nn.Module:
    """The eval-mode network of a digitkit ONNX file, computing what the file computes."""
    import onnx
    from onnx import numpy_helper

    from digitkit.train.config import TrainConfig
    from digitkit.train.model import build_model

    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    if "digitkit.train_config" not in meta:
        raise NoArchitecture(f"{os.fspath(path)} records no digitkit architecture (digitkit.train_config)")
    cfg = TrainConfig.from_dict(json.loads(meta["digitkit.train_config"]))
    net = build_model(cfg.arch, cfg.widths, cfg.head, cfg.dropout).eval()
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    layers = [node for node in model.graph.node if node.op_type in ("Conv", "Gemm")]
    modules = list(net.modules())
    targets = [(i, m) for i, m in enumerate(modules) if isinstance(m, (nn.Conv2d, nn.Linear))]
    if len(layers) != len(targets):
        raise NoArchitecture(f"{len(layers)} weighted layers in the file, {len(targets)} in {cfg.arch} {cfg.widths}")
    with torch.no_grad():
        for node, (index, module) in zip(layers, targets, strict=True):
            weight = weights[node.input[1]]
            bias = weights[node.input[2]] if len(node.input) > 2 else np.zeros(weight.shape[0], np.float32)
            if tuple(weight.shape) != tuple(module.weight.shape):
                raise NoArchitecture(f"a {node.op_type} of shape {weight.shape} where the network has {module}")
            module.weight.copy_(torch.tensor(weight))
            following = modules[index + 1] if index + 1 < len(modules) else None
            if module.bias is not None:
                module.bias.copy_(torch.tensor(bias))
            elif isinstance(following, nn.BatchNorm2d):
                following.weight.fill_(1.0)
                following.bias.copy_(torch.tensor(bias))
                following.running_mean.zero_()
                following.running_var.fill_(1.0 - following.eps)
            else:
                raise NoArchitecture(f"{module} has no bias and no BatchNorm to carry the file's")
    return net
