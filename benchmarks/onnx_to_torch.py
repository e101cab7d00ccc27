"""Rebuild a PyTorch module from an ONNX file's weights, for the eager baseline.

The speed-up of each backend is measured against PyTorch eager on the same
weights. The best baseline is the trained checkpoint itself, but checkpoints
are not shipped (nor committed), so without one the benchmark rebuilds the
network from the ONNX graph: each node becomes the equivalent ``torch.nn``
module (Conv2d, ReLU, MaxPool2d, Linear...) holding the file's own tensors.
It covers the operators digitkit's CNNs and the zoo's MNIST model use; any
other operator raises :class:`UnsupportedGraph` and the baseline is skipped
with that reason. (onnx2torch would do this generally; it is not a
dependency digitkit wants for one benchmark row.)
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn


class UnsupportedGraph(Exception):
    """The ONNX graph uses an operator or attribute this rebuild does not cover."""


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads_2d(pads: list[int]) -> tuple[int, int]:
    top, left, bottom, right = pads
    if top != bottom or left != right:
        raise UnsupportedGraph(f"asymmetric padding {pads}")
    return top, left


class _Gemm(nn.Module):
    def __init__(self, weight: np.ndarray, bias: np.ndarray | None, trans_b: bool, alpha: float, beta: float):
        super().__init__()
        w = weight if trans_b else weight.T
        self.linear = nn.Linear(w.shape[1], w.shape[0], bias=bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)) * alpha)
            if bias is not None:
                self.linear.bias.copy_(torch.from_numpy(bias.reshape(-1)) * beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class _Flatten(nn.Module):
    def __init__(self, axis: int):
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x, self.axis) if self.axis > 0 else x.reshape(1, -1)


class _Reshape(nn.Module):
    def __init__(self, shape: np.ndarray):
        super().__init__()
        shape = [int(s) for s in shape]
        if shape and shape[0] == 1:
            shape[0] = -1 if -1 not in shape else shape[0]  # the zoo's batch-1 reshape: keep the batch free
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = tuple(x.shape[i] if s == 0 else s for i, s in enumerate(self.shape))
        return x.reshape(shape)


class _AddConst(nn.Module):
    def __init__(self, value: np.ndarray):
        super().__init__()
        self.register_buffer("value", torch.from_numpy(np.array(value, np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.value


class _MatMulConst(nn.Module):
    def __init__(self, value: np.ndarray):
        super().__init__()
        self.register_buffer("value", torch.from_numpy(np.array(value, np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.value


class _Softmax(nn.Module):
    def __init__(self, axis: int):
        super().__init__()
        self.axis = axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, self.axis)


def _module_for(node, weights: dict[str, np.ndarray]) -> tuple[nn.Module, list[str]]:
    """The torch module for one node, and the node inputs it takes at run time (the rest are weights)."""
    op, a = node.op_type, _attrs(node)
    ins = list(node.input)
    const = [i in weights for i in ins]
    if op == "Conv":
        w = weights[ins[1]]
        b = weights[ins[2]] if len(ins) > 2 and ins[2] else None
        groups = int(a.get("group", 1))
        padding = _pads_2d(list(a.get("pads", (0, 0, 0, 0))))
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            if tuple(a.get("strides", (1, 1))) != (1, 1) or any(k % 2 == 0 for k in w.shape[2:]):
                raise UnsupportedGraph(f"Conv auto_pad={auto_pad} with strides or an even kernel")
            padding = tuple(k // 2 for k in w.shape[2:])
        elif auto_pad not in ("NOTSET", "VALID"):
            raise UnsupportedGraph(f"Conv auto_pad={auto_pad}")
        conv = nn.Conv2d(
            w.shape[1] * groups,
            w.shape[0],
            tuple(w.shape[2:]),
            stride=tuple(a.get("strides", (1, 1))),
            padding=padding,
            dilation=tuple(a.get("dilations", (1, 1))),
            groups=groups,
            bias=b is not None,
        )
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
            if b is not None:
                conv.bias.copy_(torch.from_numpy(b))
        return conv, ins[:1]
    if op == "BatchNormalization":
        scale, bias, mean, var = (weights[i] for i in ins[1:5])
        bn = nn.BatchNorm2d(len(scale), eps=float(a.get("epsilon", 1e-5)))
        with torch.no_grad():
            bn.weight.copy_(torch.from_numpy(scale))
            bn.bias.copy_(torch.from_numpy(bias))
            bn.running_mean.copy_(torch.from_numpy(mean))
            bn.running_var.copy_(torch.from_numpy(var))
        return bn.eval(), ins[:1]
    if op == "Relu":
        return nn.ReLU(), ins
    if op == "MaxPool":
        if a.get("ceil_mode", 0):
            raise UnsupportedGraph("MaxPool ceil_mode=1")
        return nn.MaxPool2d(
            tuple(a["kernel_shape"]),
            stride=tuple(a.get("strides", a["kernel_shape"])),
            padding=_pads_2d(list(a.get("pads", (0, 0, 0, 0)))),
        ), ins
    if op == "GlobalAveragePool":
        return nn.AdaptiveAvgPool2d(1), ins
    if op == "Flatten":
        return _Flatten(int(a.get("axis", 1))), ins
    if op == "Reshape" and const[1]:
        return _Reshape(weights[ins[1]]), ins[:1]
    if op == "Gemm" and const[1]:
        b = weights[ins[2]] if len(ins) > 2 and ins[2] else None
        if a.get("transA", 0):
            raise UnsupportedGraph("Gemm transA=1")
        return _Gemm(
            weights[ins[1]], b, bool(a.get("transB", 0)), float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        ), ins[:1]
    if op == "MatMul" and const[1] and not const[0]:
        return _MatMulConst(weights[ins[1]]), ins[:1]
    if op == "Add" and const[1] and not const[0]:
        return _AddConst(weights[ins[1]]), ins[:1]
    if op == "Add" and const[0] and not const[1]:
        return _AddConst(weights[ins[0]]), ins[1:]
    if op in ("Identity", "Dropout"):
        return nn.Identity(), ins[:1]
    if op == "Softmax":
        return _Softmax(int(a.get("axis", -1))), ins
    raise UnsupportedGraph(f"operator {op} (with inputs {'constant' if any(const) else 'computed'})")


class OnnxGraphModule(nn.Module):
    """The ONNX graph run node by node with torch modules (a single-input, single-output network)."""

    def __init__(self, steps: list[tuple[str, list[str], str]], modules: nn.ModuleDict, input_name: str, output: str):
        super().__init__()
        self.steps = steps  # (module key, run-time inputs, output name)
        self.layers = modules
        self.input_name = input_name
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env = {self.input_name: x}
        for key, ins, out in self.steps:
            env[out] = self.layers[key](*(env[i] for i in ins))
        return env[self.output]


def torch_from_onnx(path: str | os.PathLike) -> nn.Module:
    """An eval-mode torch module computing what the ONNX file computes, with its weights."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    weights = {t.name: np.array(numpy_helper.to_array(t)) for t in graph.initializer}
    for node in graph.node:  # constants, and identities of weights (the exporter's deduplicated biases)
        if node.op_type == "Constant":
            weights[node.output[0]] = np.array(numpy_helper.to_array(node.attribute[0].t))
        elif node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
        elif node.op_type == "Reshape" and all(i in weights for i in node.input):
            weights[node.output[0]] = weights[node.input[0]].reshape(weights[node.input[1]].astype(np.int64))
    inputs = [i.name for i in graph.input if i.name not in weights]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedGraph(f"{len(inputs)} inputs and {len(graph.output)} outputs (expected one of each)")
    steps, modules = [], nn.ModuleDict()
    for n, node in enumerate(graph.node):
        if node.output[0] in weights:  # folded above
            continue
        module, runtime_inputs = _module_for(node, weights)
        key = f"{n}_{node.op_type}"
        modules[key] = module
        steps.append((key, runtime_inputs, node.output[0]))
    return OnnxGraphModule(steps, modules, inputs[0], graph.output[0].name).eval()
