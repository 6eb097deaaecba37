"""A small numpy reference interpreter for the ONNX graphs this package
exports (opset 17): enough ops for GPT-2/OPT/LLaMA-style decoders. It is a
readable oracle for the compiler, not a fast runtime. Computes in float64
by default (``dtype``) so it also serves as a high-precision reference.
"""
from __future__ import annotations

import math

import numpy as np
from onnx import numpy_helper

try:  # scipy is optional
    from scipy.special import erf as _erf
except Exception:  # pragma: no cover
    _erf = np.vectorize(math.erf)


def _attrs(node):
    import onnx
    out = {}
    for a in node.attribute:
        out[a.name] = onnx.helper.get_attribute_value(a)
    return out


def _layernorm(x, scale, bias=None, axis=-1, epsilon=1e-5, **_):
    axes = tuple(range(axis % x.ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + epsilon) * scale
    return y + bias if bias is not None else y


def _softmax(x, axis=-1, **_):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def _slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else [int(a) % x.ndim for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    sl = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        sl[a] = slice(int(s), int(e), int(st))
    return x[tuple(sl)]


def _split(x, split=None, axis=0, num_outputs=None, n_out=1):
    if split is None:
        return np.split(x, n_out, axis=axis)
    idx = np.cumsum(split)[:-1]
    return np.split(x, idx, axis=axis)


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0, **_):
    a = a.T if transA else a
    b = b.T if transB else b
    y = alpha * (a @ b)
    return y + beta * c if c is not None else y


def _reduce_mean(x, axes=None, keepdims=1, **_):
    return x.mean(axis=tuple(axes) if axes is not None else None, keepdims=bool(keepdims))


def _cast(x, to, **_):
    from onnx import helper
    return x.astype(helper.tensor_dtype_to_np_dtype(to))


class OnnxRef:
    def __init__(self, model_or_path, dtype=np.float64):
        import onnx
        m = onnx.load(model_or_path) if isinstance(model_or_path, str) else model_or_path
        self.model = m
        self.dtype = dtype
        self.init = {}
        for t in m.graph.initializer:
            a = numpy_helper.to_array(t)
            self.init[t.name] = a.astype(dtype) if a.dtype.kind == "f" else a

    def _f(self, a):
        return a.astype(self.dtype) if a.dtype.kind == "f" else a

    def run(self, feeds: dict, keep=False):
        env = dict(self.init)
        for k, v in feeds.items():
            env[k] = v
        for node in self.model.graph.node:
            ins = [env[n] if n else None for n in node.input]
            at = _attrs(node)
            op = node.op_type
            outs = self._op(op, ins, at, node)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            for name, v in zip(node.output, outs):
                env[name] = v
        res = {o.name: env[o.name] for o in self.model.graph.output}
        return (res, env) if keep else res

    def _op(self, op, x, at, node):
        f = self._f
        if op == "Constant":
            return f(numpy_helper.to_array(at["value"]))
        if op == "Identity":
            return x[0]
        if op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "And", "Or"):
            fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
                  "Pow": np.power, "Equal": np.equal, "Less": np.less, "Greater": np.greater,
                  "And": np.logical_and, "Or": np.logical_or}[op]
            return fn(x[0], x[1])
        if op == "MatMul":
            return np.matmul(x[0], x[1])
        if op == "Gemm":
            return _gemm(*x, **at)
        if op == "Gather":
            return np.take(x[0], x[1].astype(np.int64), axis=at.get("axis", 0))
        if op == "LayerNormalization":
            return _layernorm(*x, **at)
        if op == "Erf":
            return _erf(x[0])
        if op == "Relu":
            return np.maximum(x[0], 0)
        if op == "Sigmoid":
            return 1.0 / (1.0 + np.exp(-x[0]))
        if op == "Tanh":
            return np.tanh(x[0])
        if op == "Exp":
            return np.exp(x[0])
        if op == "Sqrt":
            return np.sqrt(x[0])
        if op == "Neg":
            return -x[0]
        if op == "Not":
            return np.logical_not(x[0])
        if op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            return x[0].reshape(shape)
        if op == "Transpose":
            return np.transpose(x[0], at.get("perm"))
        if op == "Softmax":
            return _softmax(x[0], **at)
        if op == "Split":
            sp = x[1] if len(x) > 1 and x[1] is not None else at.get("split")
            return _split(x[0], sp, at.get("axis", 0), n_out=len(node.output))
        if op == "Where":
            return np.where(x[0], x[1], x[2])
        if op == "Slice":
            return _slice(x[0], *[v for v in x[1:]] + [None] * (5 - len(x)))
        if op == "Concat":
            return np.concatenate(x, axis=at["axis"])
        if op == "ReduceMean":
            axes = at.get("axes") if len(x) < 2 or x[1] is None else list(x[1])
            return _reduce_mean(x[0], axes, at.get("keepdims", 1))
        if op == "Cast":
            return _cast(x[0], **at)
        if op == "Unsqueeze":
            y = x[0]
            for a in sorted(int(v) % (y.ndim + len(x[1])) for v in x[1]):
                y = np.expand_dims(y, a)
            return y
        if op == "Squeeze":
            return np.squeeze(x[0], axis=tuple(int(v) for v in x[1]) if len(x) > 1 else None)
        if op == "Shape":
            return np.array(x[0].shape, dtype=np.int64)
        if op == "Expand":
            return x[0] * np.ones([int(s) for s in x[1]], dtype=x[0].dtype)
        if op == "ConstantOfShape":
            v = numpy_helper.to_array(at["value"]) if "value" in at else np.zeros(1, np.float32)
            return f(np.full([int(s) for s in x[0]], v.reshape(-1)[0], dtype=v.dtype))
        if op == "Range":
            return np.arange(x[0], x[1], x[2])
        raise NotImplementedError(f"onnx_ref: op {op} not implemented")


def run_onnx(path, input_ids, dtype=np.float64):
    """Logits (float32) of an exported model for int64 input_ids [1, T]."""
    r = OnnxRef(path, dtype).run({"input_ids": np.asarray(input_ids, dtype=np.int64)})
    return r["logits"].astype(np.float32)
