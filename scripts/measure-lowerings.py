"""Error and cost of the lowerings of float ops on secret data.

Usage:
  measure-lowerings.py --mpc-compile PATH --mpc-run PATH [--n 4096]
                       [--ops sigmoid,tanh,...] [--check] [--markdown]

For each op: a one-node ONNX model whose input is the client's x plus the
model owner's zeros (so the op runs on secret-shared data, not at one
party in plaintext), compiled with `mpc-compile` at 16 fractional bits and
run under 2PC with a dealer (`mpc-run --local`, DCF comparisons) on n
points spread over the op's domain (uniform, or log-uniform for positive
domains). The error is against f at the encoded input (the encoding's own
rounding, <= 2^-17, is the format's), absolute where |f| <= 1 and relative
above. Prints, per op: its max, the bias (its mean, signed), the largest
absolute error, and the cost per element
measured by mpc-run (online bytes sent by both parties, rounds, dealer
bytes), minus the cost of the same model without the op (sharing the
input, revealing the output). With --check, exits 1 if an error exceeds the
bound documented in docs/import.md ("Lowerings of ops on secret data",
BOUNDS below). Run with Debian's /usr/bin/python3 (onnx, numpy).
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

FRAC_BITS = 16


def erf(x):
    return np.vectorize(math.erf)(x)


def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def gelu(x):
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


# name: (ONNX node builder args, domain, sampling, reference, exponent)
#   node: (op_type, attributes); a second input "y" (Div: the divisor on its
#   own domain; Pow: a public constant exponent) when given.
OPS = {
    "sigmoid": (("Sigmoid", {}), (-16, 16), "uniform", lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (("Tanh", {}), (-8, 8), "uniform", np.tanh),
    "erf": (("Erf", {}), (-6, 6), "uniform", erf),
    "softplus": (("Softplus", {}), (-16, 16), "uniform", softplus),
    "abs": (("Abs", {}), (-100, 100), "uniform", np.abs),
    "leakyrelu": (("LeakyRelu", {"alpha": 0.1}), (-100, 100), "uniform",
                  lambda x: np.where(x >= 0, x, 0.1 * x)),
    "hardsigmoid": (("HardSigmoid", {}), (-8, 8), "uniform",
                    lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    "clip": (("Clip", {"bounds": (-1.0, 2.0)}), (-8, 8), "uniform",
             lambda x: np.clip(x, -1, 2)),
    "exp": (("Exp", {}), (-16, 10), "uniform", np.exp),
    "log": (("Log", {}), (1e-4, 1e4), "log", np.log),
    "sqrt": (("Sqrt", {}), (1e-4, 1e4), "log", np.sqrt),
    "reciprocal": (("Reciprocal", {}), (1e-4, 1e4), "signed-log",
                   lambda x: 1 / x),
    "div": (("Div", {"y": (0.01, 100)}), (-100, 100), "uniform", None),
    "pow2": (("Pow", {"p": 2.0}), (-100, 100), "uniform", lambda x: x * x),
    "pow3": (("Pow", {"p": 3.0}), (-20, 20), "uniform", lambda x: x ** 3),
    "pow-1": (("Pow", {"p": -1.0}), (1e-2, 1e2), "signed-log", lambda x: 1 / x),
    "pow0.5": (("Pow", {"p": 0.5}), (1e-4, 1e4), "log", np.sqrt),
    "pow-0.5": (("Pow", {"p": -0.5}), (1e-4, 1e4), "log", lambda x: x ** -0.5),
    "pow1.5": (("Pow", {"p": 1.5}), (1e-4, 100), "log", lambda x: x ** 1.5),
    "pow2.7": (("Pow", {"p": 2.7}), (1e-2, 20), "log", lambda x: x ** 2.7),
    # Elementwise functions (FunctionLowerings.cpp, FunctionOps.cpp).
    "floor": (("Floor", {}), (-1000, 1000), "uniform", np.floor),
    "ceil": (("Ceil", {}), (-1000, 1000), "uniform", np.ceil),
    "round": (("Round", {}), (-1000, 1000), "uniform", np.round),
    "sign": (("Sign", {}), (-10, 10), "uniform", np.sign),
    "sin": (("Sin", {}), (-100, 100), "uniform", np.sin),
    "cos": (("Cos", {}), (-100, 100), "uniform", np.cos),
    "tan": (("Tan", {}), (-1.4, 1.4), "uniform", np.tan),
    "atan": (("Atan", {}), (1e-4, 1e4), "signed-log", np.arctan),
    "asin": (("Asin", {}), (-1, 1), "uniform", np.arcsin),
    "acos": (("Acos", {}), (-1, 1), "uniform", np.arccos),
    "sinh": (("Sinh", {}), (-10, 10), "uniform", np.sinh),
    "cosh": (("Cosh", {}), (-10, 10), "uniform", np.cosh),
    "asinh": (("Asinh", {}), (-99, 99), "uniform", np.arcsinh),
    "acosh": (("Acosh", {}), (1, 99), "log", np.arccosh),
    "atanh": (("Atanh", {}), (-0.9999, 0.9999), "uniform", np.arctanh),
    "elu": (("Elu", {}), (-16, 16), "uniform",
            lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (("Selu", {}), (-16, 16), "uniform",
             lambda x: 1.0507009873554805 * np.where(
                 x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "celu": (("Celu", {"alpha": 2.0}), (-16, 16), "uniform",
             lambda x: np.maximum(x, 0) + np.minimum(0, 2 * np.expm1(x / 2))),
    "thresholdedrelu": (("ThresholdedRelu", {"alpha": 1.5}), (-8, 8),
                        "uniform", lambda x: np.where(x > 1.5, x, 0)),
    "softsign": (("Softsign", {}), (-1000, 1000), "uniform",
                 lambda x: x / (1 + np.abs(x))),
    "shrink": (("Shrink", {"lambd": 1.5, "bias": 0.5}), (-8, 8), "uniform",
               lambda x: np.where(x < -1.5, x + 0.5,
                                  np.where(x > 1.5, x - 0.5, 0))),
    "hardswish": (("HardSwish", {}), (-8, 8), "uniform",
                  lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
}

# Documented bounds (docs/import.md): max |error| <= atol + rtol |expected|.
BOUNDS = {
    "sigmoid": (1e-4, 0),
    "tanh": (2e-4, 0),
    "erf": (1e-4, 0),
    "softplus": (2e-4, 0),
    "abs": (2e-5, 0),
    "leakyrelu": (2e-5, 1e-5),
    "hardsigmoid": (5e-5, 0),
    "clip": (2e-5, 0),
    "exp": (1e-4, 1e-4),
    "log": (1e-4, 0),
    "sqrt": (3e-5, 3e-5),
    "reciprocal": (3e-5, 3e-5),
    "div": (3e-5, 3e-5),
    "pow2": (3e-5, 3e-5),
    "pow3": (3e-5, 3e-5),
    "pow-1": (3e-5, 3e-5),
    "pow0.5": (3e-5, 3e-5),
    "pow-0.5": (3e-5, 3e-5),
    "pow1.5": (3e-5, 3e-5),
    "pow2.7": (3e-4, 3e-4),
    "floor": (0, 0),
    "ceil": (0, 0),
    "round": (0, 0),
    "sign": (0, 0),
    "sin": (2e-4, 0),
    "cos": (2e-4, 0),
    "tan": (1e-4, 1e-3),
    "atan": (1e-4, 0),
    "asin": (1e-4, 0),
    "acos": (1e-4, 0),
    "sinh": (1e-4, 1e-4),
    "cosh": (1e-4, 1e-4),
    "asinh": (1e-4, 0),
    "acosh": (1e-4, 0),
    "atanh": (1e-4, 0),
    "elu": (1e-4, 0),
    "selu": (2e-4, 1e-5),
    "celu": (2e-4, 0),
    "thresholdedrelu": (2e-5, 0),
    "softsign": (3e-5, 0),
    "shrink": (2e-5, 0),
    "hardswish": (5e-5, 1e-5),
}


def samples(domain, how, n, rng):
    lo, hi = domain
    if how == "uniform":
        return np.linspace(lo, hi, n)
    logs = np.linspace(math.log(lo), math.log(hi), n)
    x = np.exp(logs)
    if how == "signed-log":
        x = x * np.where(np.arange(n) % 2 == 0, 1, -1)
    return x


def model(op, attrs, n, with_op=True):
    """y = op(x + zeros): the zeros are the owner's, so x + zeros is shared."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])
    inputs, inits = [x], [helper.make_tensor(
        "zeros", TensorProto.FLOAT, [n], np.zeros(n, np.float32))]
    nodes = [helper.make_node("Add", ["x", "zeros"], ["s" if with_op else "y"])]
    if not with_op:
        pass
    elif op == "Div":
        inputs.append(helper.make_tensor_value_info("d", TensorProto.FLOAT, [n]))
        nodes.append(helper.make_node("Add", ["d", "zeros"], ["ds"]))
        nodes.append(helper.make_node("Div", ["s", "ds"], ["y"]))
    elif op == "Pow":
        nodes.append(helper.make_node(
            "Constant", [], ["p"], value=helper.make_tensor(
                "p", TensorProto.FLOAT, [], [attrs["p"]])))
        nodes.append(helper.make_node("Pow", ["s", "p"], ["y"]))
    elif op == "Clip":
        lo, hi = attrs["bounds"]
        for nm, v in (("lo", lo), ("hi", hi)):
            nodes.append(helper.make_node(
                "Constant", [], [nm], value=helper.make_tensor(
                    nm, TensorProto.FLOAT, [], [v])))
        nodes.append(helper.make_node("Clip", ["s", "lo", "hi"], ["y"]))
    else:
        nodes.append(helper.make_node(op, ["s"], ["y"], **attrs))
    opset = {"Gelu": 20, "HardSwish": 14}.get(op, 13)
    g = helper.make_graph(nodes, "g", inputs, [y], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


STAT = re.compile(r"\[(p0|p1|dealer)\] done in .*online sent (\d+) B, received "
                  r"\d+ B, (\d+) rounds, dealer material (\d+) B")


def run(a, m, inputs, work, tag):
    path = os.path.join(work, tag + ".onnx")
    onnx.save(m, path)
    art = os.path.join(work, tag + ".umbra")
    r = subprocess.run([a.mpc_compile, path, "--frac-bits", str(FRAC_BITS),
                        "-o", art], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{tag}: mpc-compile: {r.stderr.strip()}")
    cmd = [a.mpc_run, art, "--local", "-o", os.path.join(work, tag),
           "--connect-timeout", "60", "--comparison", "dcf"]
    for name, x in inputs.items():
        p = os.path.join(work, f"{tag}-{name}.npy")
        np.save(p, x)
        cmd += ["-i", f"{name}={p}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{tag}: mpc-run: {r.stderr.strip()[-400:]}")
    online = rounds = dealer = 0
    for role, sent, rnd, mat in STAT.findall(r.stderr):
        if role == "dealer":
            dealer = int(mat)
        else:
            online += int(sent)
            rounds = max(rounds, int(rnd))
    y = np.load(os.path.join(work, tag, "y.npy"))
    return y, online, rounds, dealer


def measure(a, name, work, rng):
    (op, attrs), domain, how, ref = OPS[name]
    n = a.n
    x = samples(domain, how, n, rng)
    inputs = {"x": x}
    # The reference is f at the encoded inputs: the encoding's rounding
    # (<= 2^-17) is the fixed-point format's, not the lowering's.
    enc = lambda v: np.round(v * 2.0 ** FRAC_BITS) / 2.0 ** FRAC_BITS
    if op == "Div":
        d = samples(attrs["y"], "signed-log", n, rng)
        rng.shuffle(d)
        inputs["d"] = d
        want = enc(x) / enc(d)
    else:
        want = ref(enc(x))
    got, on, rnd, dl = run(a, model(op, attrs, n), inputs, work, name)
    base_in = {"x": x}
    _, on0, rnd0, dl0 = run(a, model(op, attrs, n, with_op=False), base_in,
                            work, name + "-base")
    err = got - want
    atol, rtol = BOUNDS[name]
    ok = bool(np.all(np.abs(err) <= atol + rtol * np.abs(want)))
    # Absolute error where |f| <= 1, relative above.
    e = err / np.maximum(1.0, np.abs(want))
    return {
        "op": name, "domain": domain, "max_abs": float(np.abs(err).max()),
        "max_err": float(np.abs(e).max()), "bias": float(e.mean()),
        "online": (on - on0) / n, "rounds": rnd - rnd0,
        "dealer": (dl - dl0) / n, "ok": ok, "bound": (atol, rtol)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--work")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="lowerings-")
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    failed = []
    rows = []
    for name in a.ops.split(","):
        r = measure(a, name, work, rng)
        rows.append(r)
        if not r["ok"]:
            failed.append(name)
    if a.markdown:
        print("| op | domain | max error | bias | "
              "online B/elem | rounds | dealer B/elem |")
        print("|---|---|---|---|---|---|---|")
    for r in rows:
        dom = f"[{r['domain'][0]:g}, {r['domain'][1]:g}]"
        if a.markdown:
            print(f"| {r['op']} | {dom} | {r['max_err']:.2g} | "
                  f"{r['bias']:+.1e} | "
                  f"{r['online']:.0f} | {r['rounds']} | {r['dealer']:.0f} |")
        else:
            print(f"{r['op']:12s} {'ok ' if r['ok'] else 'BAD'} domain {dom} "
                  f"max_abs {r['max_abs']:.3g} max_err {r['max_err']:.3g} "
                  f"bias {r['bias']:+.2e} online {r['online']:.0f} B/elem "
                  f"rounds {r['rounds']} dealer {r['dealer']:.0f} B/elem")
    if a.check and failed:
        print("exceeds its documented bound: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
