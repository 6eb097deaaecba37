"""Writes a ReLU FFN as ONNX with an activation predictor as initializers
umbra.predictor.0.{u,v,bias,threshold,recall_table}; with --bad-part, an
initializer umbra.predictor.0.w that is no predictor part.

Usage: sparse_onnx.py OUT.onnx [--bad-part]"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out, bad = sys.argv[1], "--bad-part" in sys.argv
    rng = np.random.default_rng(0)
    inits = {
        "w1": rng.normal(0, 0.3, (8, 16)), "b1": np.zeros(16), "w2": rng.normal(0, 0.3, (16, 8)),
        "umbra.predictor.0.u": rng.normal(0, 0.3, (8, 2)),
        "umbra.predictor.0.v": rng.normal(0, 0.3, (2, 4)),
        "umbra.predictor.0.bias": np.zeros(4),
        "umbra.predictor.0.threshold": np.zeros(1),
        "umbra.predictor.0.recall_table": np.array([[0.9, 0.2], [0.99, -0.1]]),
    }
    if bad:
        inits["umbra.predictor.0.w"] = np.zeros(3)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h0"]),
             helper.make_node("Add", ["h0", "b1"], ["h"]),
             helper.make_node("Relu", ["h"], ["a"]),
             helper.make_node("MatMul", ["a", "w2"], ["y"])]
    g = helper.make_graph(
        nodes, "ffn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), out)


if __name__ == "__main__":
    main()
