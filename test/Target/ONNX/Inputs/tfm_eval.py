"""A small reference evaluator for printed tfm IR, for import tests.

Usage: tfm_eval.py MODULE.mlir PREFIX [--tol 1e-4]

Evaluates the `func.func @main` of MODULE.mlir (as printed by
mpc-translate / mpc-opt: generic enough for the ops the importer and
tfm-fuse produce) with torch on the inputs saved as PREFIX.in<k>.npy and
compares its results with PREFIX.out<k>.npy (written by
export_decoders.py --save-reference). Prints the max abs difference per
result and exits 1 if one exceeds the tolerance. Needs /usr/bin/python3
(torch, numpy).
"""
import argparse
import math
import re
import sys

import numpy as np
import torch

DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16,
          "i64": torch.int64, "i32": torch.int32, "i8": torch.int8,
          "i16": torch.int16, "i1": torch.bool}
NP_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16,
             "i64": np.int64, "i32": np.int32, "i8": np.int8, "i16": np.int16}


def parse_type(text):
    """'tensor<1x16xf32>' -> (shape, elem)."""
    m = re.fullmatch(r"tensor<(.*)>", text.strip())
    parts = m.group(1).split("x")
    return [int(p) for p in parts[:-1]], parts[-1]


def result_type(line):
    types = re.findall(r"tensor<[^>]*>", line)
    return parse_type(types[-1])


def parse_attrs(line):
    m = re.search(r"\{(.*)\}\s*:", line)
    attrs = {}
    if not m:
        return attrs
    for key, val in re.findall(r"(\w+) = (array<i64(?::[^>]*)?>|[^,{}]+?)(?=, \w+ = |$)",
                               m.group(1)):
        val = val.strip()
        if val.startswith("array<i64"):
            nums = val[len("array<i64"):].strip(":> ")
            attrs[key] = [int(x) for x in nums.split(",")] if nums else []
        elif val in ("true", "false"):
            attrs[key] = val == "true"
        elif "gelu_approximation" in val:
            attrs[key] = val.split("<")[-1].rstrip(">")
        else:
            attrs[key] = float(val.split(":")[0]) if "." in val or "E" in val \
                else int(val.split(":")[0])
    return attrs


def decode_dense(lit, shape, elem):
    n = int(np.prod(shape)) if shape else 1
    if lit.startswith('"0x'):
        raw = bytes.fromhex(lit[3:-1])
        if elem == "i1":
            bits = np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")
            arr = bits[:n].astype(bool) if len(raw) * 8 >= n else \
                np.repeat(bits[:1].astype(bool), n)
        else:
            arr = np.frombuffer(raw, NP_DTYPES[elem])
            if arr.size == 1:
                arr = np.repeat(arr, n)
        return torch.from_numpy(arr.copy().reshape(shape))
    lit = lit.replace("true", "True").replace("false", "False")
    lit = lit.replace("0x7F800000", "float('inf')").replace("0xFF800000", "-float('inf')")
    val = eval(lit, {"inf": math.inf, "nan": math.nan})
    arr = np.array(val, dtype=bool if elem == "i1" else NP_DTYPES[elem])
    if arr.ndim == 0 or arr.size == 1 and n != 1:
        arr = np.full(shape, arr.reshape(-1)[0])
    return torch.from_numpy(arr.reshape(shape).copy())


def broadcast_mask_fill(x):
    q, k = x.shape[-2], x.shape[-1]
    i = torch.arange(q).unsqueeze(1)
    j = torch.arange(k).unsqueeze(0)
    keep = j <= i + (k - q)
    return torch.where(keep, x, torch.tensor(-math.inf, dtype=x.dtype))


def evaluate(text, inputs):
    resources = dict(re.findall(r'^\s*([\w.$-]+): "0x([0-9A-Fa-f]*)"', text, re.M))
    env = {}
    func = re.search(r"func\.func @main\((.*?)\) ->", text, re.S)
    args = re.findall(r"(%\w+): tensor", func.group(1))
    for a, v in zip(args, inputs):
        env[a] = v
    outputs = None
    body = text[func.end():]
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("return"):
            names = re.findall(r"%[\w]+", line.split(":")[0])
            outputs = [env[n] for n in names]
            break
        m = re.match(r"(%[\w]+) = ([\w.]+) (.*)$", line)
        if not m:
            continue
        res, op, rest = m.groups()
        operands = re.findall(r"%[\w]+", rest.split("{")[0].split(" : ")[0])
        vals = [env[o] for o in operands]
        shape, elem = result_type(line)
        attrs = parse_attrs(line)
        if op == "arith.constant":
            if "dense_resource<" in rest:
                key = re.search(r"dense_resource<([^>]+)>", rest).group(1)
                raw = bytes.fromhex(resources[key])[4:]
                arr = np.frombuffer(raw, NP_DTYPES[elem]).reshape(shape)
                env[res] = torch.from_numpy(arr.copy())
            else:
                lit = re.search(r"dense<(.*)> : tensor", rest).group(1)
                env[res] = decode_dense(lit, shape, elem)
            continue
        name = op.split(".", 1)[1]
        x = vals[0] if vals else None
        if name in ("add", "sub", "mul", "div", "pow", "max", "equal", "less"):
            fn = {"add": torch.add, "sub": torch.sub, "mul": torch.mul,
                  "div": torch.div, "pow": torch.pow, "max": torch.maximum,
                  "equal": torch.eq, "less": torch.lt}[name]
            y = fn(vals[0], vals[1])
        elif name in ("neg", "sqrt", "reciprocal", "exp", "erf", "tanh",
                      "sigmoid", "relu"):
            y = getattr(torch, name)(x)
        elif name == "silu":
            y = torch.nn.functional.silu(x)
        elif name == "gelu":
            y = torch.nn.functional.gelu(x, approximate=attrs.get("approximation", "none"))
        elif name == "where":
            y = torch.where(vals[0], vals[1], vals[2])
        elif name == "cast":
            y = x.to(DTYPES[elem])
        elif name == "linear":
            y = torch.matmul(x, vals[1])
            if len(vals) > 2:
                y = y + vals[2]
        elif name == "matmul":
            y = torch.matmul(vals[0], vals[1])
        elif name == "softmax":
            y = torch.softmax(x, dim=attrs["axis"])
        elif name == "layer_norm":
            kw = dict(re.findall(r"(scale|bias) (%[\w]+)", rest))
            axis = attrs.get("axis", -1)
            axis = axis if axis >= 0 else x.dim() + axis
            dims = list(range(axis, x.dim()))
            mean = x.mean(dims, keepdim=True)
            var = ((x - mean) ** 2).mean(dims, keepdim=True)
            y = (x - mean) / torch.sqrt(var + attrs["epsilon"])
            if "scale" in kw:
                y = y * env[kw["scale"]]
            if "bias" in kw:
                y = y + env[kw["bias"]]
        elif name == "rms_norm":
            kw = dict(re.findall(r"(scale) (%[\w]+)", rest))
            y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + attrs["epsilon"])
            if "scale" in kw:
                y = y * env[kw["scale"]]
        elif name == "causal_mask":
            y = broadcast_mask_fill(x)
        elif name == "embedding":
            y = torch.nn.functional.embedding(vals[1], vals[0])
        elif name in ("reduce_sum", "reduce_mean", "reduce_max"):
            keep = attrs.get("keepdims", True)
            if name == "reduce_max":
                y = torch.amax(x, dim=attrs["axes"], keepdim=keep)
            else:
                y = getattr(torch, name.split("_")[1])(x, dim=attrs["axes"], keepdim=keep)
        elif name in ("reshape", "expand"):
            y = x.reshape(shape) if name == "reshape" else x.expand(shape)
        elif name == "transpose":
            y = x.permute(attrs["permutation"])
        elif name == "concat":
            y = torch.cat(vals, dim=attrs["axis"])
        elif name == "slice":
            idx = tuple(slice(o, o + s * (n - 1) + 1, s) if n else slice(0, 0)
                        for o, s, n in zip(attrs["offsets"], attrs["strides"], shape))
            y = x[idx]
        elif name == "gather":
            axis = attrs["axis"]
            idx = vals[1].reshape(-1).long()
            idx = torch.where(idx < 0, idx + x.shape[axis], idx)
            y = torch.index_select(x, axis, idx)
            y = y.reshape(list(x.shape[:axis]) + list(vals[1].shape) +
                          list(x.shape[axis + 1:]))
        else:
            raise SystemExit(f"tfm_eval.py: unsupported op {op}")
        if list(y.shape) != shape:
            raise SystemExit(f"tfm_eval.py: {res} ({op}) has shape "
                             f"{list(y.shape)}, type says {shape}")
        env[res] = y
    return outputs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("module")
    p.add_argument("prefix")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    text = open(a.module).read()
    inputs, expected = [], []
    k = 0
    while True:
        try:
            inputs.append(torch.from_numpy(np.load(f"{a.prefix}.in{k}.npy")))
        except FileNotFoundError:
            break
        k += 1
    k = 0
    while True:
        try:
            expected.append(np.load(f"{a.prefix}.out{k}.npy"))
        except FileNotFoundError:
            break
        k += 1
    with torch.no_grad():
        outputs = evaluate(text, inputs)
    worst = 0.0
    for k, (got, want) in enumerate(zip(outputs, expected)):
        diff = float(np.max(np.abs(got.numpy().astype(np.float64) - want)))
        print(f"result {k}: shape {list(got.shape)} max abs diff {diff:.3g}")
        worst = max(worst, diff)
    ok = len(outputs) == len(expected) and worst <= a.tol
    print("MATCH" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
