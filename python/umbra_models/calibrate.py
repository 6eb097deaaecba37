"""Calibration for the compiler's range analysis: per-node min/max of an
ONNX model's values on real inputs.

  /usr/bin/python3 -m umbra_models.calibrate model.onnx -o ranges.json \\
      [--ids ids.npy ...] [--random N --seq T --seed S] [--text FILE]

runs the exported ONNX graph node by node (torch kernels, float32, the
ops the zoo's exporters write), on the given prompts, and writes

  {"format": "umbra-calibration-1", "model": ..., "samples": N,
   "inputs": {name: [min, max]}, "nodes": {node name: [min, max]}}

with the min and max over all samples of every node's first float output,
keyed by the ONNX node name (the name `mpc-compile` gives the op it
imports). `mpc-compile --calibration ranges.json --range-report` then uses
the observed ranges in place of the static ones. The ranges come from the
owner's weights: the file is for the owner, who compiles.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

FORMAT = "umbra-calibration-1"


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def _dtype(to):
    return {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool,
            10: torch.float16, 11: torch.float64}[to]


def _constant(a):
    if "value" in a:
        return torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
    if "value_float" in a:
        return torch.tensor(a["value_float"], dtype=torch.float32)
    if "value_floats" in a:
        return torch.tensor(list(a["value_floats"]), dtype=torch.float32)
    if "value_int" in a:
        return torch.tensor(a["value_int"], dtype=torch.int64)
    if "value_ints" in a:
        return torch.tensor(list(a["value_ints"]), dtype=torch.int64)
    raise NotImplementedError("Constant without a tensor value")


def _slice(x, starts, ends, axes=None, steps=None):
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    idx = [slice(None)] * x.dim()
    for s, e, a, st in zip(starts, ends, axes, steps):
        if st != 1:
            raise NotImplementedError("Slice with a step other than 1")
        n = x.shape[a]
        s = max(0, min(n, s + n if s < 0 else s))
        e = max(0, min(n, e + n if e < 0 else e))
        idx[a] = slice(s, e)
    return x[tuple(idx)]


def _run_node(node, x, opset):
    """The outputs of one node on torch tensors `x` (None = missing input)."""
    a = _attrs(node)
    op = node.op_type
    f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul,
         "Pow": torch.pow, "Equal": torch.eq, "Less": torch.lt,
         "Max": torch.maximum, "Min": torch.minimum}
    if op in f:
        return [f[op](x[0], x[1])]
    if op == "Div":
        if x[0].is_floating_point() or x[1].is_floating_point():
            return [x[0] / x[1]]
        return [torch.div(x[0], x[1], rounding_mode="trunc")]
    g = {"Neg": torch.neg, "Sqrt": torch.sqrt, "Erf": torch.erf,
         "Relu": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh,
         "Exp": torch.exp, "Reciprocal": torch.reciprocal,
         "Identity": lambda t: t}
    if op in g:
        return [g[op](x[0])]
    if op == "Constant":
        return [_constant(a)]
    if op == "MatMul":
        return [torch.matmul(x[0], x[1])]
    if op == "Gemm":
        A = x[0].t() if a.get("transA", 0) else x[0]
        B = x[1].t() if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * (A @ B)
        if len(x) > 2 and x[2] is not None:
            y = y + a.get("beta", 1.0) * x[2]
        return [y]
    if op == "Softmax":
        return [torch.softmax(x[0], dim=a.get("axis", -1))]
    if op == "LayerNormalization":
        axis = a.get("axis", -1) % x[0].dim()
        shape = list(x[0].shape[axis:])
        bias = x[2] if len(x) > 2 else None
        return [torch.nn.functional.layer_norm(x[0], shape, x[1], bias,
                                               a.get("epsilon", 1e-5))]
    if op == "Gather":
        axis = a.get("axis", 0) % x[0].dim()
        idx = x[1].long()
        idx = torch.where(idx < 0, idx + x[0].shape[axis], idx)
        out = torch.index_select(x[0], axis, idx.reshape(-1))
        shape = list(x[0].shape[:axis]) + list(idx.shape) + list(x[0].shape[axis + 1:])
        return [out.reshape(shape)]
    if op == "Reshape":
        shape = _ints(x[1])
        shape = [x[0].shape[i] if s == 0 and not a.get("allowzero", 0) else s
                 for i, s in enumerate(shape)]
        return [x[0].reshape(shape)]
    if op == "Transpose":
        perm = a.get("perm", list(reversed(range(x[0].dim()))))
        return [x[0].permute(*perm)]
    if op == "Slice":
        return [_slice(x[0], _ints(x[1]), _ints(x[2]),
                       _ints(x[3]) if len(x) > 3 and x[3] is not None else None,
                       _ints(x[4]) if len(x) > 4 and x[4] is not None else None)]
    if op == "Concat":
        return [torch.cat(x, dim=a["axis"])]
    if op == "Split":
        axis = a.get("axis", 0)
        if len(x) > 1 and x[1] is not None:
            sizes = _ints(x[1])
        elif "split" in a:
            sizes = list(a["split"])
        else:
            n = a.get("num_outputs", len(node.output))
            sizes = [x[0].shape[axis] // n] * n
        return list(torch.split(x[0], sizes, dim=axis))
    if op == "Unsqueeze":
        axes = _ints(x[1]) if opset >= 13 else list(a["axes"])
        y = x[0]
        rank = y.dim() + len(axes)
        for ax in sorted(ax % rank for ax in axes):
            y = y.unsqueeze(ax)
        return [y]
    if op == "Squeeze":
        axes = (_ints(x[1]) if opset >= 13 and len(x) > 1
                else list(a.get("axes", [])))
        y = x[0]
        for ax in sorted((ax % y.dim() for ax in axes), reverse=True):
            y = y.squeeze(ax)
        return [y]
    if op == "Shape":
        return [torch.tensor(list(x[0].shape), dtype=torch.int64)]
    if op == "Cast":
        return [x[0].to(_dtype(a["to"]))]
    if op == "ConstantOfShape":
        v = (torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
             if "value" in a else torch.zeros(1))
        return [v.reshape(-1)[0].expand(_ints(x[0])).clone()]
    if op == "Expand":
        shape = torch.broadcast_shapes(tuple(x[0].shape), tuple(_ints(x[1])))
        return [x[0].expand(shape)]
    if op == "Where":
        return [torch.where(x[0].bool(), x[1], x[2])]
    if op == "CumSum":
        axis = int(x[1].reshape(-1)[0])
        y = x[0].flip(axis) if a.get("reverse", 0) else x[0]
        s = torch.cumsum(y, dim=axis)
        if a.get("exclusive", 0):
            s = s - y
        return [s.flip(axis) if a.get("reverse", 0) else s]
    if op == "Trilu":
        k = int(x[1].reshape(-1)[0]) if len(x) > 1 and x[1] is not None else 0
        return [torch.triu(x[0], k) if a.get("upper", 1) else torch.tril(x[0], k)]
    if op == "ReduceMean":
        axes = (list(a["axes"]) if "axes" in a
                else _ints(x[1]) if len(x) > 1 else list(range(x[0].dim())))
        return [x[0].mean(dim=axes, keepdim=bool(a.get("keepdims", 1)))]
    if op == "ReduceSum":
        axes = _ints(x[1]) if len(x) > 1 and x[1] is not None else list(range(x[0].dim()))
        return [x[0].sum(dim=axes, keepdim=bool(a.get("keepdims", 1)))]
    raise NotImplementedError(f"calibration has no kernel for ONNX op {op} "
                              f"(node '{node.name}')")


def node_name(node):
    """The name the importer gives the op of `node`."""
    return node.name or node.output[0]


def run_graph(model, feeds, observe=None):
    """Runs `model` (an onnx.ModelProto) on `feeds` (name -> array) and
    returns the graph outputs; calls observe(node, outputs) per node."""
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                default=17)
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
           for i in model.graph.initializer}
    for k, v in feeds.items():
        env[k] = torch.as_tensor(np.asarray(v))
    with torch.no_grad():
        for node in model.graph.node:
            ins = [env[n] if n else None for n in node.input]
            outs = _run_node(node, ins, opset)
            for name, t in zip(node.output, outs):
                env[name] = t
            if observe:
                observe(node, outs)
    return [env[o.name].numpy() for o in model.graph.output]


def calibrate(onnx_path, samples):
    """Per-node [min, max] over `samples` (a list of feeds: input name ->
    array), as the dict `mpc-compile --calibration` reads."""
    model = onnx.load(onnx_path)
    nodes, inputs = {}, {}

    def widen(table, key, t):
        if t is None or not t.is_floating_point() or t.numel() == 0:
            return
        lo, hi = float(t.min()), float(t.max())
        if key in table:
            lo, hi = min(lo, table[key][0]), max(hi, table[key][1])
        table[key] = [lo, hi]

    def observe(node, outs):
        widen(nodes, node_name(node), outs[0] if outs else None)

    for feeds in samples:
        for k, v in feeds.items():
            widen(inputs, k, torch.as_tensor(np.asarray(v)))
        run_graph(model, feeds, observe)
    return {"format": FORMAT, "model": str(onnx_path), "samples": len(samples),
            "inputs": inputs, "nodes": nodes}


def main(argv=None):
    p = argparse.ArgumentParser(prog="umbra_models.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--ids", nargs="*", default=[],
                   help=".npy token-id arrays (one prompt each)")
    p.add_argument("--random", type=int, default=0,
                   help="also N random prompts of --seq tokens below --vocab")
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--vocab", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input", default="input_ids")
    a = p.parse_args(argv)
    samples = [{a.input: np.load(f)} for f in a.ids]
    if a.random:
        if not a.vocab:
            p.error("--random needs --vocab")
        rng = np.random.default_rng(a.seed)
        samples += [{a.input: rng.integers(0, a.vocab, (1, a.seq), dtype=np.int64)}
                    for _ in range(a.random)]
    if not samples:
        p.error("no prompts: give --ids or --random")
    table = calibrate(a.model, samples)
    with open(a.out, "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
