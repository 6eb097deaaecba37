"""RNN, GRU and LSTM features the ONNX node tests do not cover (reverse and
bidirectional directions, constant sequence_lens of different lengths, the
batch-major layout, clip, peepholes, linear_before_reset, absent initial
states and biases), checked against a numpy transcription of the ONNX
equations, end to end under 2PC (mpc-compile --outsourced, mpc-run
--local). Usage: recurrent_numerics.py WORK_DIR (tools from PATH).
Prints one line per case, OK when max |error| < 4e-4 (conformance's
mpc.poly tolerance; measured up to 1.2e-4 after 3 steps)."""
import os, subprocess, sys
import numpy as np
import onnx
from onnx import helper, TensorProto

WORK = sys.argv[1]
rng = np.random.default_rng(0)
sig = lambda x: 1 / (1 + np.exp(-x))
FUNCS = {
    "Sigmoid": lambda x, a, b: sig(x),
    "Tanh": lambda x, a, b: np.tanh(x),
    "Relu": lambda x, a, b: np.maximum(x, 0),
    "LeakyRelu": lambda x, a, b: np.where(x >= 0, x, a * x),
    "HardSigmoid": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "Affine": lambda x, a, b: a * x + b,
    "ScaledTanh": lambda x, a, b: a * np.tanh(b * x),
}

def ref(op, X, W, R, Bv, lens, h0, c0, P, H, direction, layout, lbr, clip,
        acts):
    if layout: X = X.transpose(1, 0, 2)
    T, Bn, _ = X.shape
    D = 2 if direction == "bidirectional" else 1
    if layout:
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    lens = np.full(Bn, T) if lens is None else lens
    Y = np.zeros((T, D, Bn, H)); Yh = np.zeros((D, Bn, H)); Yc = np.zeros((D, Bn, H))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    for d in range(D):
        rev = direction == "reverse" or d == 1
        f, g, hf = [(lambda v, fn=fn, a=a, b=b: FUNCS[fn](v, a, b))
                    for fn, a, b in acts[d]] + [None] * (3 - len(acts[d]))
        w, r = W[d], R[d]
        wb = Bv[d, :G*H] if Bv is not None else np.zeros(G*H)
        rb = Bv[d, G*H:] if Bv is not None else np.zeros(G*H)
        for b in range(Bn):
            h = h0[d, b] if h0 is not None else np.zeros(H)
            c = c0[d, b] if c0 is not None else np.zeros(H)
            L = lens[b]
            order = range(L - 1, -1, -1) if rev else range(L)
            for t in order:
                x = X[t, b]
                if op == "RNN":
                    h = f(cl(x @ w.T + h @ r.T + wb + rb))
                elif op == "GRU":
                    gx = x @ w.T + wb
                    z = f(cl(gx[:H] + h @ r[:H].T + rb[:H]))
                    rr = f(cl(gx[H:2*H] + h @ r[H:2*H].T + rb[H:2*H]))
                    if lbr:
                        hh = g(cl(gx[2*H:] + rr * (h @ r[2*H:].T + rb[2*H:])))
                    else:
                        hh = g(cl(gx[2*H:] + (rr * h) @ r[2*H:].T + rb[2*H:]))
                    h = (1 - z) * hh + z * h
                else:
                    gs = x @ w.T + h @ r.T + wb + rb
                    p = P[d] if P is not None else np.zeros(3*H)
                    i = f(cl(gs[:H] + p[:H] * c))
                    fg = f(cl(gs[2*H:3*H] + p[2*H:] * c))
                    cc = g(cl(gs[3*H:]))
                    c = fg * c + i * cc
                    o = f(cl(gs[H:2*H] + p[H:2*H] * c))
                    h = o * hf(c)
                Y[t, d, b] = h
            Yh[d, b] = h; Yc[d, b] = c
    if layout:
        return Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return Y, Yh, Yc

def case(name, op, T=3, Bn=2, I=3, H=2, direction="forward", layout=0, lbr=0,
         clip=None, bias=True, lens=None, init=True, peep=False,
         activations=None, alphas=None, betas=None):
    D = 2 if direction == "bidirectional" else 1
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    X = rng.normal(size=(Bn, T, I) if layout else (T, Bn, I))
    W = rng.normal(size=(D, G*H, I)) * 0.7
    R = rng.normal(size=(D, G*H, H)) * 0.7
    Bv = rng.normal(size=(D, 2*G*H)) if bias else None
    st = (Bn, D, H) if layout else (D, Bn, H)
    h0 = rng.normal(size=st) if init else None
    c0 = rng.normal(size=st) if init and op == "LSTM" else None
    P = rng.normal(size=(D, 3*H)) if peep else None
    ins = [("X", X), ("W", W), ("R", R), ("B", Bv)]
    inits = []
    if lens is not None:
        inits.append(helper.make_tensor("lens", TensorProto.INT32, [Bn], lens))
    names = ["X", "W", "R", "B" if bias else "", "lens" if lens is not None else "",
             "h0" if init else ""]
    if op == "LSTM":
        names += ["c0" if init else "", "P" if peep else ""]
    ins += [("h0", h0), ("c0", c0), ("P", P)]
    ins = [(n, v) for n, v in ins if v is not None]
    while names and names[-1] == "": names.pop()
    attrs = dict(hidden_size=H, direction=direction, layout=layout)
    if op == "GRU": attrs["linear_before_reset"] = lbr
    if clip: attrs["clip"] = clip
    defaults = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"],
                "LSTM": ["Sigmoid", "Tanh", "Tanh"]}[op] * D
    names_act = activations or defaults
    if activations:
        attrs["activations"] = activations
    if alphas: attrs["activation_alpha"] = alphas
    if betas: attrs["activation_beta"] = betas
    # alpha/beta consumed in order by the activations that take them.
    al, be, acts = list(alphas or []), list(betas or []), []
    for fn in names_act:
        a, b = {"LeakyRelu": (0.01, 0), "HardSigmoid": (0.2, 0.5),
                "Affine": (1, 0), "ScaledTanh": (1, 1)}.get(fn, (0, 0))
        if fn in ("LeakyRelu", "HardSigmoid", "Affine", "ScaledTanh") and al:
            a = al.pop(0)
        if fn in ("HardSigmoid", "Affine", "ScaledTanh") and be:
            b = be.pop(0)
        acts.append((fn, a, b))
    per = len(names_act) // D
    acts = [acts[d * per:(d + 1) * per] for d in range(D)]
    outs = ["Y", "Yh"] + (["Yc"] if op == "LSTM" else [])
    node = helper.make_node(op, names, outs, **attrs)
    Y, Yh, Yc = ref(op, X, W, R, Bv, None if lens is None else np.array(lens), h0, c0, P, H, direction, layout, lbr, clip, acts)
    exp = {"Y": Y, "Yh": Yh, "Yc": Yc}
    g = helper.make_graph([node], name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, v.shape) for n, v in ins],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, exp[o].shape) for o in outs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    d = os.path.join(WORK, name); os.makedirs(d, exist_ok=True)
    onnx.save(m, f"{d}/model.onnx")
    r = subprocess.run(["mpc-compile", f"{d}/model.onnx", "--compile-to=artifact", "--frac-bits", "16", "--outsourced", "-o", f"{d}/a.umbra"], capture_output=True, text=True)
    if r.returncode: print(name, "COMPILE", r.stderr[-400:]); return
    cmd = ["mpc-run", f"{d}/a.umbra", "--local", "-o", f"{d}/out", "--connect-timeout", "60"]
    for n, v in ins:
        np.save(f"{d}/{n}.npy", v); cmd += ["-i", f"{n}={d}/{n}.npy"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode: print(name, "RUN", r.stderr[-400:]); return
    worst = max(float(np.abs(np.load(f"{d}/out/{o}.npy").reshape(exp[o].shape) - exp[o]).max()) for o in outs)
    print(f"{name}: max |err| {worst:.2e}", "OK" if worst < 4e-4 else "BAD")

case("rnn_bidi_lens", "RNN", direction="bidirectional", lens=[3, 1])
case("rnn_rev_layout", "RNN", direction="reverse", layout=1, lens=[2, 3], clip=1.5)
case("gru_bidi_lbr", "GRU", direction="bidirectional", lbr=1, lens=[1, 3])
case("gru_rev_noinit", "GRU", direction="reverse", init=False, lbr=0)
case("gru_lbr_nobias_noinit", "GRU", lbr=1, bias=False, init=False)
case("lstm_bidi_peep_lens", "LSTM", direction="bidirectional", peep=True, lens=[2, 3])
case("lstm_rev_layout_clip", "LSTM", direction="reverse", layout=1, clip=2.0, peep=True, lens=[3, 1])
case("lstm_noinit_peep", "LSTM", init=False, peep=True)
case("rnn_bidi_activations", "RNN", direction="bidirectional",
     activations=["Relu", "LeakyRelu"], alphas=[0.2])
case("gru_activations", "GRU", activations=["HardSigmoid", "Affine"],
     alphas=[0.3, 0.5], betas=[0.4, 0.1])
case("lstm_activations", "LSTM", activations=["Sigmoid", "ScaledTanh", "Tanh"],
     alphas=[0.9], betas=[1.1])
