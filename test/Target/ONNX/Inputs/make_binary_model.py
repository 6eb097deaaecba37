"""Writes a small binary ONNX model (MatMul by a 16x32 raw_data weight)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(
    np.arange(16 * 32, dtype=np.float32).reshape(16, 32) / 512.0, name="W")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["Y"], name="proj")],
    "binary",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 16])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 32])],
    initializer=[w])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(model, sys.argv[1])
