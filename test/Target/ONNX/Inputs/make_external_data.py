"""Writes small models whose weights are ONNX external data (side files),
as onnx.external_data_helper stores every model over 2 GB, and broken
variants of them.

  make_external_data.py DIR MODE

writes DIR/model.onnx (and its data files), DIR/x.npy (an input) and
DIR/want.npy (X @ W + B in float64). MODE:
  one-file     all tensors in DIR/weights.bin (convert_model_to_external_data)
  per-tensor   one file per tensor under DIR/data/ (as torch.onnx.export
               writes a >2 GB model)
  dotdot       W's location is '../outside.bin' (a file that exists)
  absolute     W's location is the absolute path of an existing file
  symlink      W's location is a link in DIR pointing out of it
  missing      W's location names no file
  short        weights.bin is cut short of W's bytes
  offset       W's offset points past the end of weights.bin
  length       W's length disagrees with its shape
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, external_data_helper, helper, numpy_helper

out, mode = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
w = (rng.standard_normal((16, 32)) / 4).astype(np.float32)
bias = (rng.standard_normal(32) / 4).astype(np.float32)
x = (rng.standard_normal((2, 16)) / 2).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["XW"], name="proj"),
     helper.make_node("Add", ["XW", "B"], ["Y"], name="bias")],
    "external",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 16])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 32])],
    initializer=[numpy_helper.from_array(w, "W"),
                 numpy_helper.from_array(bias, "B")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
np.save(os.path.join(out, "x.npy"), x)
np.save(os.path.join(out, "want.npy"),
        x.astype(np.float64) @ w.astype(np.float64) + bias)

if mode == "per-tensor":
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for t in model.graph.initializer:
        external_data_helper.set_external_data(t, "data/" + t.name + ".bin")
    external_data_helper.write_external_data_tensors(model, out)
    onnx.save(model, os.path.join(out, "model.onnx"))
    sys.exit(0)

external_data_helper.convert_model_to_external_data(
    model, all_tensors_to_one_file=True, location="weights.bin",
    size_threshold=0)
onnx.save(model, os.path.join(out, "model.onnx"))
if mode == "one-file":
    sys.exit(0)


def set_w(**kv):
    t = next(t for t in model.graph.initializer if t.name == "W")
    entries = {e.key: e.value for e in t.external_data}
    entries.update({k: str(v) for k, v in kv.items()})
    del t.external_data[:]
    for k, v in entries.items():
        e = t.external_data.add()
        e.key, e.value = k, v
    # Save the proto alone: onnx.save would try to write the data again.
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())


outside = os.path.join(os.path.dirname(os.path.abspath(out)), "outside.bin")
with open(outside, "wb") as f:
    f.write(w.tobytes())
if mode == "dotdot":
    set_w(location="../outside.bin", offset=0)
elif mode == "absolute":
    set_w(location=outside, offset=0)
elif mode == "symlink":
    link = os.path.join(out, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(outside, link)
    set_w(location="link.bin", offset=0)
elif mode == "missing":
    set_w(location="no-such-file.bin")
elif mode == "short":
    with open(os.path.join(out, "weights.bin"), "r+b") as f:
        f.truncate(1000)
elif mode == "offset":
    set_w(offset=1 << 20)
elif mode == "length":
    set_w(length=100)
else:
    sys.exit("unknown mode " + mode)
