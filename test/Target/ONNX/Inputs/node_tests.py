"""Shared helpers for the ONNX backend node tests shipped by Debian's
libonnx-testdata: where they are, which tests the importer supports, and
how to read a test's model, inputs and expected outputs.

Used by import_node_tests.py (import checks), check_node_tests.py (numerics
through mpc-run --reference) and
test/Conformance/conformance.py (end to end under 2PC).
"""
import glob
import os

DATA_DIR = "/usr/share/libonnx-testdata/data/node"
LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "onnx-node-tests.txt")


def all_tests(data=DATA_DIR):
    """Every node test directory (sorted) that holds a model.onnx."""
    return [n for n in sorted(os.listdir(data))
            if os.path.exists(os.path.join(data, n, "model.onnx"))]


def read_list(listing=LIST):
    """The tests the importer supports (one name per line)."""
    return [l.strip() for l in open(listing) if l.strip()]


def load_pb(pb):
    """A TensorProto file as a numpy array."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(pb, "rb") as f:
        t.ParseFromString(f.read())
    a = numpy_helper.to_array(t)
    if t.data_type == onnx.TensorProto.BFLOAT16:
        # numpy has no bfloat16 and onnx returns its raw bits: a bfloat16
        # is the high half of a float32.
        a = (a.astype(np.uint32) << 16).view(np.float32)
    return a


def load_model(test_dir):
    import onnx
    return onnx.load(os.path.join(test_dir, "model.onnx"),
                     load_external_data=False)


def runtime_inputs(model):
    """Names of the graph inputs that are not initializers, in order (what
    the importer makes function arguments)."""
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def data_sets(test_dir):
    return sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))


def load_data_set(model, ds):
    """(input names, inputs, expected outputs) of one test_data_set_N."""
    names = runtime_inputs(model)
    inputs = [load_pb(os.path.join(ds, f"input_{k}.pb"))
              for k in range(len(names))]
    outputs = [load_pb(os.path.join(ds, f"output_{k}.pb"))
               for k in range(len(model.graph.output))]
    return names, inputs, outputs
