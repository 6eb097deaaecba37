"""Writes a one-node model (Relu) whose input and output have the given
names: names the text format cannot spell ('../../evil', 'a/b', NUL...)."""
import sys

import onnx
from onnx import TensorProto, helper

out, in_name, out_name = sys.argv[1], sys.argv[2], sys.argv[3]
# Escapes let the test spell NUL and backslash.
in_name = in_name.encode().decode("unicode_escape")
out_name = out_name.encode().decode("unicode_escape")
graph = helper.make_graph(
    [helper.make_node("Relu", [in_name], [out_name])], "g",
    [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [2])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
open(out, "wb").write(model.SerializeToString())
