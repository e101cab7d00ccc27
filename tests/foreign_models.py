"""ONNX files shaped like third-party MNIST models, made from the shipped CNN so the tests need no ../shared.

A model from elsewhere (the ONNX Model Zoo's MNIST, say) carries none of digitkit's metadata: its
normalisation is inside the graph, its input may be declared for batch 1 only, and it may want pixels
in 0..255 (saying so in ONNX's standard ``Image.NominalPixelRange`` key). These files have exactly those
traits around the shipped network's weights, so they are as accurate as the shipped model and the
runtime must find out how to feed them from the file alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digitkit.runtime.model_spec import ModelSpec
from digitkit.runtime.recognizer import shipped_model_path


def foreign_model(path: Path, *, batch_one: bool = False, pixels_0_255: bool = False) -> Path:
    """Write the shipped fp32 CNN to ``path`` as a third-party file would hold it; returns ``path``."""
    onnx = pytest.importorskip("onnx", reason="building test models needs onnx (the train extra)")
    from onnx import helper, numpy_helper

    model = onnx.load(str(shipped_model_path("cnn", "fp32")))
    spec = ModelSpec.from_metadata({p.key: p.value for p in model.metadata_props})
    del model.metadata_props[:]
    graph = model.graph
    inner = graph.input[0].name
    raw = inner + "_raw"
    # raw pixels -> raw / (scale · std) − mean / std, the shipped network's input, as a 1×1 convolution (an
    # operator every runtime covers)
    scale = 255.0 if pixels_0_255 else 1.0
    weight = np.full((1, 1, 1, 1), 1.0 / (scale * spec.std), np.float32)
    bias = np.full(1, -spec.mean / spec.std, np.float32)
    graph.initializer.extend([numpy_helper.from_array(weight, "k_weight"), numpy_helper.from_array(bias, "k_bias")])
    graph.node.insert(0, helper.make_node("Conv", [raw, "k_weight", "k_bias"], [inner], kernel_shape=[1, 1]))
    batch = 1 if batch_one else "N"
    new_input = helper.make_tensor_value_info(raw, onnx.TensorProto.FLOAT, [batch, 1, spec.height, spec.width])
    graph.input.remove(graph.input[0])
    graph.input.insert(0, new_input)
    if batch_one:
        graph.output[0].type.tensor_type.shape.dim[0].dim_value = 1
    if pixels_0_255:
        helper.set_model_props(model, {"Image.NominalPixelRange": "NominalRange_0_255"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
