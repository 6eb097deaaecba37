"""Prints the total size in bytes of an ONNX model's initializers."""
import sys

import numpy as np
import onnx

model = onnx.load(sys.argv[1])
total = 0
for t in model.graph.initializer:
    n = int(np.prod(t.dims)) if len(t.dims) else 1
    total += n * onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.data_type].itemsize
print(total)
