"""Error and cost of the loss and log-domain lowerings under 2PC.

Usage:
  measure-losses.py --mpc-compile PATH --mpc-run PATH [--rows 256]
                    [--classes 10] [--markdown]

Each model reads the client's scores x ([rows, classes], uniform in
[-8, 8]) plus the model owner's zeros (so the op runs on secret-shared
data), and for the losses the client's labels (one-hot rows built by the
client) and the owner's class weights (uniform in [0.5, 2]); it is
compiled at 16 fractional bits and run with a dealer (mpc-run --local, DCF
comparisons) through scripts/measure-lowerings.py's runner. Prints the max
absolute error against numpy in float64 and the cost per element of x
(online bytes of both parties, rounds, dealer bytes) minus the same model
without the op. Run with Debian's /usr/bin/python3 (onnx, numpy).
"""
import argparse
import importlib.util
import os
import tempfile

import numpy as np
from onnx import TensorProto, helper

_spec = importlib.util.spec_from_file_location(
    "measure_lowerings",
    os.path.join(os.path.dirname(os.path.abspath(__file__)),
                 "measure-lowerings.py"))
ml = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ml)


def log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def nll(lp, t, w, reduction):
    picked = -lp[np.arange(len(t)), t] * w[t]
    if reduction == "sum":
        return picked.sum()
    return picked.sum() / w[t].sum()


# name: (node op, attributes, uses labels, uses weights, output shape,
#        reference(x, t, w))
CASES = {
    "LogSoftmax": ("LogSoftmax", {"axis": 1}, False, False, "same",
                   lambda x, t, w: log_softmax(x)),
    "ReduceLogSumExp": ("ReduceLogSumExp", {"axes": [1]}, False, False, "row",
                        lambda x, t, w: np.log(np.exp(x).sum(1, keepdims=True))),
    "NLL sum": ("NegativeLogLikelihoodLoss", {"reduction": "sum"}, True,
                True, "scalar", lambda x, t, w: nll(x, t, w, "sum")),
    "NLL weighted mean": ("NegativeLogLikelihoodLoss", {}, True, True,
                          "scalar", lambda x, t, w: nll(x, t, w, "mean")),
    "SCE weighted mean": ("SoftmaxCrossEntropyLoss", {}, True, True, "scalar",
                          lambda x, t, w: nll(log_softmax(x), t, w, "mean")),
    "GatherElements (client indices)": (
        "GatherElements", {"axis": 1}, True, False, "col",
        lambda x, t, w: x[np.arange(len(t)), t][:, None]),
}


def model(name, rows, classes, weights, with_op=True):
    op, attrs, labels, weighted, out, _ = CASES[name]
    shape = {"same": [rows, classes], "row": [rows, 1], "scalar": [],
             "col": [rows, 1]}[out]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, classes])
    inputs = [x]
    inits = [helper.make_tensor("zeros", TensorProto.FLOAT, [rows, classes],
                                np.zeros(rows * classes, np.float32))]
    if not with_op:
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                          [rows, classes])
        g = helper.make_graph([helper.make_node("Add", ["x", "zeros"], ["y"])],
                              "g", inputs, [y], inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    nodes = [helper.make_node("Add", ["x", "zeros"], ["s"])]
    args = ["s"]
    if labels:
        tshape = [rows, 1] if op == "GatherElements" else [rows]
        inputs.append(helper.make_tensor_value_info("t", TensorProto.INT64,
                                                    tshape))
        args.append("t")
    if weighted:
        inits.append(helper.make_tensor("w", TensorProto.FLOAT, [classes],
                                        weights.astype(np.float32)))
        args.append("w")
    nodes.append(helper.make_node(op, args, ["y"], **attrs))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    g = helper.make_graph(nodes, "g", inputs, [y], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mpc-compile", required=True)
    p.add_argument("--mpc-run", required=True)
    p.add_argument("--rows", type=int, default=256)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args()
    rng = np.random.default_rng(7)
    r, c = a.rows, a.classes
    x = rng.uniform(-8, 8, (r, c))
    x = np.round(x * 2.0 ** ml.FRAC_BITS) / 2.0 ** ml.FRAC_BITS
    t = rng.integers(0, c, r)
    w = np.round(rng.uniform(0.5, 2, c) * 2.0 ** 10) / 2.0 ** 10
    rows = []
    with tempfile.TemporaryDirectory() as work:
        _, on0, rnd0, dl0 = ml.run(a, model("LogSoftmax", r, c, w, False),
                                   {"x": x}, work, "base")
        for k, name in enumerate(CASES):
            labels = CASES[name][2]
            inputs = {"x": x}
            if labels:
                inputs["t"] = t[:, None] if "Gather" in name else t
            got, on, rnd, dl = ml.run(a, model(name, r, c, w), inputs, work,
                                      f"case{k}")
            want = CASES[name][5](x, t, w)
            err = float(np.abs(np.asarray(got, np.float64).reshape(
                np.shape(want)) - want).max())
            rows.append((name, err, (on - on0) / (r * c), rnd - rnd0,
                         (dl - dl0) / (r * c)))
    if a.markdown:
        print("| op | max abs error | online B/elem | rounds | dealer B/elem |")
        print("|---|---|---|---|---|")
        for n, e, on, rnd, dl in rows:
            print(f"| {n} | {e:.2g} | {on:.0f} | {rnd} | {dl:.0f} |")
    else:
        for n, e, on, rnd, dl in rows:
            print(f"{n}: max |error| {e:.3g}, online {on:.0f} B/elem, "
                  f"{rnd} rounds, dealer {dl:.0f} B/elem")


if __name__ == "__main__":
    main()
