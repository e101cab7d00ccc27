"""Shrink a quantized ONNX graph without changing what it computes.

onnxruntime's quantizer names every tensor after its source plus suffixes
(``onnx::Conv_66_quantized_zero_point``), stores an explicit all-zero int8 /
int32 zero point for every weight and bias, and keeps shape annotations. For
the 8k-parameter tiny model that bookkeeping outweighs the int8 weights
themselves (38 kB for 8 kB of weights). This pass gives tensors short names,
drops zero points that are all zero on DequantizeLinear of Conv weights and
biases (0 is the ONNX default, and the quantized tensor carries the type;
onnxruntime still fuses them into QLinearConv), and removes
shape annotations, unused initializers and unused opset imports.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def _drop_zero_zero_points(graph: onnx.GraphProto) -> None:
    inits = {t.name: t for t in graph.initializer}
    feeds_conv = {name for node in graph.node if node.op_type == "Conv" for name in node.input}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) < 3 or node.input[0] not in inits:
            continue
        if node.output[0] not in feeds_conv:  # onnxruntime fuses Gemm to QGemm only with explicit zero points
            continue
        zp = inits.get(node.input[2])
        if zp is not None and not np.any(numpy_helper.to_array(zp)):
            del node.input[2]


def _short_names(graph: onnx.GraphProto) -> None:
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    names: dict[str, str] = {}

    def short(name: str) -> str:
        if not name or name in keep:
            return name
        return names.setdefault(name, format(len(names), "x"))

    for init in graph.initializer:
        init.name = short(init.name)
    for i, node in enumerate(graph.node):
        node.name = f"n{i:x}"
        node.doc_string = ""
        for j, name in enumerate(node.input):
            node.input[j] = short(name)
        for j, name in enumerate(node.output):
            node.output[j] = short(name)


def _drop_unused(model: onnx.ModelProto) -> None:
    graph = model.graph
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    domains = {node.domain for node in graph.node}
    kept_opsets = [o for o in model.opset_import if o.domain in domains or o.domain in ("", "ai.onnx")]
    del model.opset_import[:]
    model.opset_import.extend(kept_opsets)


def compact(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a smaller copy of ``model`` that computes the same outputs."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.value_info[:]
    _drop_zero_zero_points(out.graph)
    _drop_unused(out)
    _short_names(out.graph)
    return out
