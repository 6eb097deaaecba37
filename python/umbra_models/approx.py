"""MPC-friendly approximations of the non-linear ops, as torch forms.

The compiler pass ``mpc-approximate`` (``mpc-compile --approx=SPEC``)
replaces GeLU/SiLU, the attention softmax and the norms of an exported model
by cheaper forms (Liu & Liu 2023, MPCFormer, PUMA). This module computes the
same forms in torch, so that a model can be evaluated and fine-tuned with
them (umbra_models.finetune) and its compiled program compared with torch.
The formulas and their constants are read from the one definition the
compiler compiles in, ``lib/Utils/Approximation/strategies.json``; none is
copied here.

SPEC grammar (the compiler's): comma-separated ``OP:STRATEGY`` or
``OP:STRATEGY@FIRST-LAST`` (inclusive layer range; ``@3``: layer 3 alone).
OP is gelu, silu (family "activation"), softmax ("softmax"), layer_norm or
rms_norm ("norm"); STRATEGY a key of that family's strategies. Later
entries override earlier ones; an entry without a range applies to every
layer and to the ops outside the layers (the final norm ``ln_f``).

  spec = parse_spec("gelu:relu,softmax:relu-norm,layer_norm:affine")
  apply_approximations(model, spec)      # model.blocks[i] is layer i
  ...                                    # train / evaluate
  export_onnx(model, "m.onnx", 32)       # the ORIGINAL graph, with the
                                         # metadata umbra.approximations=SPEC
  apply_approximations(model, "")        # back to the original ops

Parameters are never renamed: the state_dict of an approximated model has
the keys (and the Parameter objects) of the original one.

CLI (export a fine-tuned fixture, its approx.json giving the spec):
  /usr/bin/python3 -m umbra_models.approx --model fixtures/gpt2-l4-d256-approx \
      --seq 32 --out m.onnx [--dump-dir ref --text-file scripts/demo_prompt.txt]
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

STRATEGIES_JSON = Path(__file__).resolve().parents[2] / "lib" / "Utils" / "Approximation" / "strategies.json"
METADATA_KEY = "umbra.approximations"
FAMILIES = ("activation", "softmax", "norm")
APPROX_JSON = "approx.json"


# ---- the strategies -----------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def strategies(path=None) -> dict:
    """The parsed strategies.json (families activation, softmax, norm)."""
    return _load(str(path or STRATEGIES_JSON))


def op_family() -> Dict[str, str]:
    """{op: family} from the JSON's "ops" lists."""
    s = strategies()
    return {op: fam for fam in FAMILIES for op in s[fam]["ops"]}


def constants(family: str, strategy: str) -> dict:
    """The JSON entry of one strategy (its constants and formula)."""
    fam = strategies()[family]["strategies"]
    if strategy not in fam:
        raise ValueError(f"unknown {family} strategy {strategy!r}; one of {', '.join(fam)}")
    return fam[strategy]


# ---- SPEC ---------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    op: str
    strategy: str
    first: Optional[int] = None  # None: every layer and the ops outside layers
    last: Optional[int] = None

    def matches(self, layer: Optional[int]) -> bool:
        if self.first is None:
            return True
        return layer is not None and self.first <= layer <= self.last

    def __str__(self):
        if self.first is None:
            return f"{self.op}:{self.strategy}"
        rng = f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"
        return f"{self.op}:{self.strategy}@{rng}"


class ApproxSpec:
    """A parsed SPEC: ``strategy(op, layer)`` gives the strategy of an op in
    a layer (None: outside the layers); "accurate" where no entry applies."""

    def __init__(self, entries=()):
        self.entries: Tuple[Entry, ...] = tuple(entries)

    def strategy(self, op: str, layer: Optional[int]) -> str:
        if op not in op_family():
            raise ValueError(f"unknown op {op!r}; one of {', '.join(op_family())}")
        s = "accurate"
        for e in self.entries:
            if e.op == op and e.matches(layer):
                s = e.strategy
        return s

    def table(self, n_layer: int) -> Dict[Tuple[str, Optional[int]], str]:
        """{(op, layer): strategy} for layers 0..n_layer-1 and None."""
        return {(op, l): self.strategy(op, l) for op in op_family()
                for l in list(range(n_layer)) + [None]}

    def restricted(self, layers, n_layer: int) -> "ApproxSpec":
        """This spec on ``layers`` only (layer indices, None for the ops
        outside the layers), accurate elsewhere: what layer-wise
        fine-tuning applies stage by stage."""
        layers = set(layers)
        out = []
        for op in op_family():
            base = self.strategy(op, None) if None in layers else "accurate"
            if base != "accurate":
                out.append(Entry(op, base))
            for l in range(n_layer):
                want = self.strategy(op, l) if l in layers else "accurate"
                if want != base:
                    out.append(Entry(op, want, l, l))
        return ApproxSpec(out)

    def ops(self):
        return {e.op for e in self.entries}

    def is_identity(self) -> bool:
        return all(e.strategy == "accurate" for e in self.entries)

    def __str__(self):
        return ",".join(str(e) for e in self.entries)

    def __repr__(self):
        return f"ApproxSpec({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, ApproxSpec) and self.entries == other.entries

    def __hash__(self):
        return hash(self.entries)


_ENTRY = re.compile(r"^([A-Za-z_]+):([A-Za-z0-9_-]+?)(?:@(\d+)(?:-(\d+))?)?$")


def parse_spec(spec) -> ApproxSpec:
    """Parses "OP:STRATEGY[@FIRST[-LAST]],..." (see the module docstring);
    raises ValueError naming the bad entry. "" or None: no approximation."""
    if isinstance(spec, ApproxSpec):
        return spec
    if spec is None:
        return ApproxSpec()
    if not isinstance(spec, str):
        raise ValueError(f"approximation spec must be a string, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        return ApproxSpec()
    fam_of = op_family()
    entries = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise ValueError(f"empty entry in approximation spec {spec!r}")
        m = _ENTRY.match(item)
        if not m:
            raise ValueError(f"bad approximation entry {item!r}: expected OP:STRATEGY or "
                             f"OP:STRATEGY@FIRST-LAST (e.g. gelu:relu@0-1)")
        op, strat, first, last = m.groups()
        if op not in fam_of:
            raise ValueError(f"unknown op {op!r} in {item!r}; one of {', '.join(fam_of)}")
        fam = fam_of[op]
        known = strategies()[fam]["strategies"]
        if strat not in known:
            raise ValueError(f"unknown strategy {strat!r} for {op} in {item!r}; "
                             f"{fam} strategies: {', '.join(known)}")
        if first is not None:
            first = int(first)
            last = int(last) if last is not None else first
            if last < first:
                raise ValueError(f"bad layer range in {item!r}: FIRST {first} > LAST {last}")
        entries.append(Entry(op, strat, first, last))
    return ApproxSpec(entries)


# ---- the compiler's report ------------------------------------------------------

def load_report(path) -> dict:
    """The JSON of ``mpc-compile ... --approx-report FILE``:
    {"approximations": [{"op", "kind", "layer", "strategy", "max_error",
    "domain", "pieces": [{"lo", "hi", "center", "half_width",
    "coefficients"}]}]}."""
    with open(path) as f:
        r = json.load(f)
    if not isinstance(r, dict) or not isinstance(r.get("approximations"), list):
        raise ValueError(f"{path}: not an approximation report (no \"approximations\" list)")
    return r


def report_pieces(report, kind: str) -> Optional[List[dict]]:
    """The fitted pieces of the first poly entry of ``kind`` (gelu/silu)."""
    if report is None:
        return None
    for a in report.get("approximations", []):
        if a.get("kind") == kind and a.get("strategy") == "poly" and a.get("pieces"):
            return a["pieces"]
    return None


# ---- torch forms ------------------------------------------------------------------

def poly_eval(coefficients, u):
    """sum_k c_k u^k (Horner)."""
    y = torch.zeros_like(u)
    for c in reversed(list(coefficients)):
        y = y * u + float(c)
    return y


def activation_form(kind: str, strategy: str, pieces=None):
    """A function x -> y: the activation ``kind`` (gelu/silu) under
    ``strategy``."""
    if strategy == "accurate":
        return (lambda x: F.gelu(x)) if kind == "gelu" else F.silu
    c = constants("activation", strategy)
    if strategy == "relu":
        return torch.relu
    if strategy == "quad":
        co = [float(v) for v in c["coefficients"]]
        return lambda x: poly_eval(co, x)
    if strategy == "poly":
        if not pieces:
            raise ValueError(f"{kind}:poly needs the compiler's fitted pieces: pass the report "
                             f"of mpc-compile --approx-report (load_report) to apply_approximations")
        ps = [(float(p["lo"]), float(p["hi"]), float(p["center"]), float(p["half_width"]),
               [float(v) for v in p["coefficients"]]) for p in pieces]
        hi = max(p[1] for p in ps)

        def poly(x):
            y = torch.where(x >= hi, x, torch.zeros_like(x))
            for a, b, ctr, hw, co in ps:
                inside = (x >= a) & (x < b)
                y = torch.where(inside, poly_eval(co, (x - ctr) / hw), y)
            return y
        return poly
    raise ValueError(f"no torch form for activation strategy {strategy!r}")


class ApproxActivation(nn.Module):
    """Replaces ``mlp.act`` (no parameters)."""

    def __init__(self, kind, strategy, pieces=None):
        super().__init__()
        self.kind, self.strategy = kind, strategy
        self.fn = activation_form(kind, strategy, pieces)

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self):
        return f"{self.kind}:{self.strategy}"


class ApproxSoftmax:
    """``Attention.softmax``: (masked scores, bool mask or None) -> weights
    over the last axis. k(x) = (x + shift)^2 (2quad) or max(x + shift, 0)
    (relu-norm), 0 at masked keys (whatever the masked score), y = k /
    (sum k + epsilon). The compiled program's reciprocal holds for scores
    within +-score_bound (not modelled here: max_abs_scores measures it)."""

    def __init__(self, strategy):
        c = constants("softmax", strategy)
        if strategy not in ("2quad", "relu-norm"):
            raise ValueError(f"no torch form for softmax strategy {strategy!r}")
        self.strategy = strategy
        self.epsilon = float(c["epsilon"])
        self.shift = float(c.get("shift", 0.0))
        self.score_bound = c.get("score_bound")  # where the compiled reciprocal holds

    def kernel(self, x):
        if self.strategy == "2quad":
            return (x + self.shift) ** 2
        return torch.relu(x + self.shift)

    def __call__(self, scores, mask):
        k = self.kernel(scores)
        if mask is not None:
            k = torch.where(mask, k, torch.zeros_like(k))
        return k / (k.sum(-1, keepdim=True) + self.epsilon)

    def __repr__(self):
        return f"ApproxSoftmax({self.strategy})"


class AffineNorm(nn.Module):
    """The norm ``affine`` form, holding the original norm's Parameter
    objects under the same names: LayerNorm -> (x - mean(x)) * weight + bias,
    RMSNorm -> x * weight."""

    def __init__(self, orig: nn.Module, kind: str):
        super().__init__()
        self.kind = kind
        self.eps = float(orig.eps)  # the accurate norm's (calibration only)
        self.weight = orig.weight
        if kind == "layer_norm":
            self.bias = orig.bias

    def forward(self, x):
        if self.kind == "layer_norm":
            y = (x - x.mean(-1, keepdim=True)) * self.weight
            return y + self.bias if self.bias is not None else y
        return x * self.weight

    def extra_repr(self):
        return f"{self.kind}:affine"


# ---- switching a Decoder --------------------------------------------------------

def _norm_kind(m):
    from .model import RMSNorm
    if isinstance(m, RMSNorm):
        return "rms_norm"
    if isinstance(m, nn.LayerNorm):
        return "layer_norm"
    return None


def _act_kind(m):
    if isinstance(m, nn.GELU) and getattr(m, "approximate", "none") == "none":
        return "gelu"
    if isinstance(m, nn.SiLU):
        return "silu"
    return None  # ReLU (OPT): nothing to approximate


def _check_decoder(model):
    from .model import Decoder
    if not isinstance(model, Decoder):
        raise TypeError(f"apply_approximations: a umbra_models.model.Decoder, got {type(model).__name__}")


def current_spec(model) -> ApproxSpec:
    """The spec applied to ``model`` (empty when none)."""
    return model.__dict__.get("_umbra_approx", ApproxSpec())


def _restore(model):
    saved = model.__dict__.pop("_umbra_approx_saved", None)
    if saved:
        for (parent, name), orig in saved.items():
            setattr(parent, name, orig)
    for blk in model.blocks:
        blk.attn.softmax = None
    model.__dict__.pop("_umbra_approx", None)


def apply_approximations(model, spec, report=None):
    """Switches a Decoder's ops to the torch forms of ``spec`` (string or
    ApproxSpec), replacing whatever was applied before; ``spec`` "" restores
    the original ops. ``report``: the compiler's approximation report (a
    dict from load_report or a path), needed for poly. Returns the model."""
    _check_decoder(model)
    spec = parse_spec(spec)
    if isinstance(report, (str, os.PathLike)):
        report = load_report(report)
    n = len(model.blocks)
    for e in spec.entries:
        if e.last is not None and e.last >= n:
            raise ValueError(f"layer range of {e} is outside the model's {n} layers (0-{n - 1})")
    _restore(model)
    if spec.is_identity():
        return model
    saved = {}

    def swap(parent, name, new):
        saved[(parent, name)] = getattr(parent, name)
        setattr(parent, name, new)

    def norm(parent, name, layer):
        m = getattr(parent, name)
        kind = _norm_kind(m)
        if kind is None:
            return
        st = spec.strategy(kind, layer)
        if st == "affine":
            swap(parent, name, AffineNorm(m, kind))
        elif st not in ("accurate", "rsqrt"):  # rsqrt: the accurate norm in torch
            raise ValueError(f"no torch form for norm strategy {st!r}")

    for i, blk in enumerate(model.blocks):
        norm(blk, "ln1", i)
        norm(blk, "ln2", i)
        kind = _act_kind(blk.mlp.act)
        if kind is not None:
            st = spec.strategy(kind, i)
            if st != "accurate":
                swap(blk.mlp, "act", ApproxActivation(kind, st, report_pieces(report, kind)))
        st = spec.strategy("softmax", i)
        if st != "accurate":
            blk.attn.softmax = ApproxSoftmax(st)
    norm(model, "ln_f", None)
    model.__dict__["_umbra_approx_saved"] = saved
    model.__dict__["_umbra_approx"] = spec
    model.__dict__["_umbra_approx_report"] = report
    return model


@contextlib.contextmanager
def approximated(model, spec, report=None):
    """with approximated(model, spec): ... -- then back to what was applied
    before."""
    before = current_spec(model)
    before_report = model.__dict__.get("_umbra_approx_report")
    apply_approximations(model, spec, report)
    try:
        yield model
    finally:
        apply_approximations(model, before, before_report)


@contextlib.contextmanager
def original_ops(model):
    """with original_ops(model): ... -- the original ops (for ONNX export),
    then the approximations again."""
    with approximated(model, "") as m:
        yield m


@torch.no_grad()
def attention_score_range(model, ids):
    """Per layer, (min, max) of the attention scores at the keys the mask
    keeps (what a kernel softmax's score_bound must cover) for token ids
    ``ids`` [B, T], with the model's current forms."""
    out = []
    saved = [blk.attn.softmax for blk in model.blocks]

    def recorder(inner):
        def f(scores, mask):
            keep = scores if mask is None else scores[mask.expand_as(scores)]
            out.append((float(keep.min()), float(keep.max())))
            return torch.softmax(scores, dim=-1) if inner is None else inner(scores, mask)
        return f
    try:
        for blk, sm in zip(model.blocks, saved):
            blk.attn.softmax = recorder(sm)
        model(torch.as_tensor(ids))
    finally:
        for blk, sm in zip(model.blocks, saved):
            blk.attn.softmax = sm
    return out


# ---- calibration of affine norms --------------------------------------------------

@torch.no_grad()
def calibrate_affine_norms(model, x, only=None):
    """For each AffineNorm of ``model`` (in forward order; ``only``: a set of
    the norm modules to touch), scales its weight by 1 / median over tokens
    of sqrt(var + eps) of its input (what the accurate norm divided by), so
    that the affine form starts near the original's scale. x: token ids."""
    order = []
    for blk in model.blocks:
        order += [blk.ln1, blk.ln2]
    order.append(model.ln_f)
    scales = []
    for m in order:
        if not isinstance(m, AffineNorm) or (only is not None and m not in only):
            continue
        got = {}
        h = m.register_forward_pre_hook(lambda mod, inp: got.__setitem__("x", inp[0]))
        was = model.training
        model.eval()
        try:
            model(x)
        finally:
            h.remove()
            model.train(was)
        v = got["x"]
        if m.kind == "layer_norm":
            var = v.var(-1, unbiased=False)
        else:
            var = v.pow(2).mean(-1)
        s = 1.0 / torch.sqrt(var + m.eps).median()
        m.weight.mul_(s)
        scales.append(float(s))
    return scales


# ---- export ---------------------------------------------------------------------------

def set_metadata(onnx_path, spec):
    """Sets the model metadata ``umbra.approximations`` = spec of an ONNX
    file (other metadata kept)."""
    import onnx
    m = onnx.load(onnx_path)
    props = {p.key: p.value for p in m.metadata_props}
    props[METADATA_KEY] = str(parse_spec(spec))
    onnx.helper.set_model_props(m, props)
    onnx.save(m, onnx_path)
    return onnx_path


def export_onnx(model, path, seq, spec=None, **kw):
    """umbra_models.export.export_onnx of the ORIGINAL graph (the compiler
    substitutes the ops), with the metadata ``umbra.approximations`` =
    ``spec`` (default: the spec applied to the model; none if empty)."""
    from .export import export_onnx as export_plain
    spec = parse_spec(spec) if spec is not None else current_spec(model)
    with original_ops(model):
        export_plain(model, path, seq, **kw)
    if spec.entries:
        set_metadata(path, spec)
    return path


def read_approx_json(model_dir):
    """(spec, report or None) from a fine-tuned model directory's approx.json."""
    with open(os.path.join(model_dir, APPROX_JSON)) as f:
        a = json.load(f)
    return parse_spec(a["spec"]), a.get("report")


def load_approx_model_dir(model_dir, spec=None, report=None):
    """load_model_dir (fp16 weights widened) with the approximations of its
    approx.json (or ``spec``/``report``) applied."""
    from .model import load_model_dir
    model = load_model_dir(model_dir)
    s, r = (None, None)
    if os.path.exists(os.path.join(model_dir, APPROX_JSON)):
        s, r = read_approx_json(model_dir)
    return apply_approximations(model, spec if spec is not None else s or "",
                                report if report is not None else r)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="umbra_models.approx", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory (approx.json optional)")
    ap.add_argument("--approx", default=None, help="SPEC (default: the directory's approx.json)")
    ap.add_argument("--approx-report", default=None, help="the compiler's report (for poly)")
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dump-dir", default=None,
                    help="write input_ids.npy and logits.npy of the approximated torch model")
    ap.add_argument("--text-file", default=None)
    ap.add_argument("--keep-names", action="store_true")
    ap.add_argument("--list", action="store_true", help="print the per (op, layer) strategies")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    from .export import dump_reference
    from .tokenizer import tokenizer_of
    model = load_approx_model_dir(a.model, a.approx, a.approx_report)
    if a.list:
        for (op, l), s in sorted(current_spec(model).table(len(model.blocks)).items(),
                                 key=lambda t: (t[0][0], -1 if t[0][1] is None else t[0][1])):
            print(f"{op:<11} {'-' if l is None else l:>3} {s}")
    export_onnx(model, a.out, a.seq, keep_names=a.keep_names)
    print(f"wrote {a.out} ({METADATA_KEY}={str(current_spec(model))!r})")
    if a.dump_dir:
        dump_reference(model, a.dump_dir, a.seq, tokenizer_of(a.model), a.text_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
