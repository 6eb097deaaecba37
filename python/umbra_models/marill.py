"""MPC-minimising fine-tuning (Marill et al., "MPC-Minimized Secure LLM
Inference", 2024) of a public base model.

The model owner fine-tunes a *public* base (a committed fixture, here
fixtures/gpt2-l4-d256) on its own task and keeps only the fine-tuning
private. Three training-time choices (and the head's treatment) make the private part cheap under MPC;
each can be used alone or combined:

  --frozen-prefix K  the token and position embeddings and blocks 0..K-1 stay
                     exactly the base's (not trained). Their weights are
                     public, so the client computes them in plaintext
                     (``mpc-compile --public-weight-names REGEX``, applied by
                     mpc-assign-roles; mpc-relocate moves the work). The LM
                     head is tied to tok_emb: with the embeddings frozen it is
                     public too, and its product with the secret final
                     activation is a local operation.
  --lora R           low-rank adaptation of ``--lora-targets`` (default: the
                     attention qkv/proj and the MLP up/down of every trained
                     block): x (W + s B A) computed as x W + s (x A^T) B^T
                     with W (and its bias) the base's, frozen and public, and
                     A [R, in], B [out, R] trained (B starts at 0). Nothing
                     else of those blocks is trained (with --train-norms also
                     their layer norms and ln_f). In the exported graph W is
                     kept apart from A and B (``--lora-export factored``,
                     the default: MatMul(x, W^T) + MatMul(MatMul(x, A^T), B^T))
                     so that the compiler multiplies by the public W without
                     MPC; ``--lora-export sum`` writes x (W + B A) instead and
                     leaves the distribution to mpc-relocate. The scale s is
                     folded into B before export and in the stored delta.
  --merge-heads M    in the trained blocks (K..n-1), groups of M adjacent
                     heads become one head of M*head_dim (n_head/M heads per
                     block; weights keep their shapes, the scores are scaled
                     by 1/sqrt(M*head_dim)), then trained: fewer, larger
                     softmaxes. Frozen blocks keep the base's heads.
  --head H           the LM head, tied to tok_emb in the base: "tied" (the
                     default; trained with tok_emb in standard fine-tuning,
                     public when the embeddings are frozen), "private" (an
                     untied copy of tok_emb, trained: the owner's) or "lora"
                     (the public tok_emb plus a LoRA delta).

Without any of them, every weight is trained: the standard fine-tuned model
the others are compared with.

The shifted task. The base was trained on the Python 3.11 standard library
(umbra_models.corpus: /usr/lib/python3.11). The fine-tuning task is NumPy's
own Python sources, ``/usr/lib/python3/dist-packages/numpy/**/*.py`` from
Debian 12's python3-numpy (1:1.24.2, a package scripts/setup.sh installs),
with the corpus' rule and tokenizer: files sorted by path relative to that
root, split by sha256(relpath) % 100 (< 90 train, < 95 valid, else test:
433 / 25 / 24 files, 7.76 MB / 631 kB / 276 kB), each file tokenized on its
own. Training draws random windows from the train split (seeded); quality
is bits/byte and top-1 (umbra_models.eval, non-overlapping windows of
--seq tokens) on the whole test split, for the base and the fine-tuned
model; the quality gain is bpb(base) - bpb(fine-tuned).

A fine-tuned model is stored as a delta over its base:
  config.json    the base's ModelConfig plus "marill": the options
                 (frozen_prefix, lora_rank, lora_alpha, lora_targets,
                 lora_export, merge_heads, train_norms, head), the per-block head
                 counts "heads", the base directory (relative) and the
                 sha256 of its weights.npz;
  tokenizer.json the base's;
  delta.npz      fp16: exactly the parameters that differ from the base (the
                 owner's private weights; LoRA's B with the scale folded);
  public.json    {"public_weight_names": REGEX}: a full-match regex that
                 names exactly the public initializers (the base's, frozen)
                 of the model exported with keep_names, and no private one;
  metrics.json   base and fine-tuned bpb/top-1 on the shifted test split, on
                 its first whole files up to SUBSET_BYTES (what the fast test
                 recomputes) and on the first 100 kB of the stdlib test split
                 (the base's task), the gain;
  reference.npz  the trained model's logits (private weights rounded to
                 fp16, as stored) on the first 32 tokens of
                 scripts/demo_prompt.txt and on the first 32 of the shifted
                 test split: the loader must reproduce them;
  train_log.json the arguments and the loss curve.
``load_marill_dir(path)`` rebuilds the torch model from the base and the
delta; ``export_marill_onnx`` exports it with the initializer names kept.

The committed fixture fixtures/gpt2-l4-d256-marill is the CLI example below
(K = 3, LoRA rank 32 with alpha 512 on block 3, its 4 heads merged into one,
a private untied head; 400 steps x 8 x 128, lr 1e-3, seed 1234, trained
with the dnnl shim in 1 min): shifted test bpb 2.259 -> 1.908 (standard
fine-tuning with the same budget: 1.808, so 78 % of its gain). Measured
costs, all variants and K = 2: bench/marill/run.sh.

CLI (train with a nice level and one thread on a shared machine; with the
dnnl BLAS shim of docs/models.md preloaded it is ~20x faster):
  nice -n 10 /usr/bin/python3 -m umbra_models.marill train \
      --base fixtures/gpt2-l4-d256 --out runs/marill-combo --frozen-prefix 3 \
      --lora 32 --lora-alpha 512 --merge-heads 4 --head private \
      [--steps 400 --seq 128 --batch 8 --lr 1e-3 --seed 1234 --threads 1]
  /usr/bin/python3 -m umbra_models.marill package --run runs/marill-combo \
      --out fixtures/gpt2-l4-d256-marill      # base path made relative to it
  /usr/bin/python3 -m umbra_models.marill export --model runs/marill-combo \
      --seq 32 --out combo.onnx [--dump-dir D --text-file F]
  mpc-compile combo.onnx -o combo.umbra \
      --public-weight-names "$(jq -r .public_weight_names runs/marill-combo/public.json)"
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .model import Attention, Decoder, load_model_dir

SHIFT_ROOT = "/usr/lib/python3/dist-packages/numpy"
DEFAULT_TARGETS = ("attn.qkv", "attn.proj", "mlp.up", "mlp.down")
STDLIB_SUBSET_BYTES = 100000
SUBSET_BYTES = 3000  # shift_test_subset (2 files, ~1.5k tokens): what the fast test recomputes
PROMPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "scripts", "demo_prompt.txt")


# ---- options ----------------------------------------------------------------

@dataclass
class MarillOptions:
    frozen_prefix: int = 0
    lora_rank: int = 0
    lora_alpha: float = 0.0  # 0: 2 * rank (scale 2)
    lora_targets: List[str] = field(default_factory=lambda: list(DEFAULT_TARGETS))
    lora_export: str = "factored"  # or "sum": x (W + B A)
    merge_heads: int = 1
    train_norms: bool = False  # with LoRA: also the trained blocks' norms and ln_f
    head: str = "tied"  # "private": an untied copy of tok_emb, trained; "lora": LoRA on it

    def validate(self, cfg: ModelConfig):
        if cfg.family not in ("gpt2", "opt"):
            raise ValueError("marill: only the gpt2/opt families (learned positions) are supported")
        if not 0 <= self.frozen_prefix <= cfg.n_layer:
            raise ValueError(f"frozen_prefix {self.frozen_prefix} not in 0..{cfg.n_layer}")
        if self.merge_heads < 1 or cfg.n_head % self.merge_heads:
            raise ValueError(f"merge_heads {self.merge_heads} must divide n_head {cfg.n_head}")
        if self.lora_rank < 0:
            raise ValueError("lora_rank must be >= 0")
        bad = [t for t in self.lora_targets if t not in DEFAULT_TARGETS]
        if bad:
            raise ValueError(f"unknown lora targets {bad}; choose from {list(DEFAULT_TARGETS)}")
        if self.lora_export not in ("factored", "sum"):
            raise ValueError("lora_export: factored or sum")
        if self.head not in ("tied", "private", "lora"):
            raise ValueError("head: tied, private or lora")
        if self.head == "lora" and not self.lora_rank:
            raise ValueError("head=lora needs lora_rank")
        if self.head != "tied" and not cfg.tie_embeddings:
            raise ValueError("head: the base's LM head is not tied")

    @property
    def alpha(self) -> float:
        return self.lora_alpha or 2.0 * self.lora_rank

    def heads(self, cfg: ModelConfig) -> List[int]:
        """Heads per block: the base's in the frozen prefix, n_head/M after."""
        return [cfg.n_head if i < self.frozen_prefix else cfg.n_head // self.merge_heads
                for i in range(cfg.n_layer)]

    def tag(self) -> str:
        parts = []
        if self.frozen_prefix:
            parts.append(f"K{self.frozen_prefix}")
        if self.lora_rank:
            parts.append(f"R{self.lora_rank}")
        if self.merge_heads > 1:
            parts.append(f"M{self.merge_heads}")
        if self.head != "tied":
            parts.append(f"head-{self.head}")
        return "+".join(parts) or "standard"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lora_targets"] = list(self.lora_targets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MarillOptions":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# ---- modules ----------------------------------------------------------------

class LoRALinear(nn.Module):
    """y = x W^T + b + s (x A^T) B^T with the base ``nn.Linear`` (W, b)
    frozen, A [r, in] (Kaiming-uniform, as in LoRA) and B [out, r] (zeros)
    trained. Parameter names: ``base.weight``, ``base.bias``, ``lora_a``,
    ``lora_b``. ``export_sum`` makes the forward x (W + s B A)^T + b (one
    product with the summed weight)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, export_sum: bool = False):
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = float(alpha) / rank
        self.export_sum = export_sum
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def delta_weight(self):
        return self.scale * (self.lora_b @ self.lora_a)

    def forward(self, x):
        if self.export_sum:
            return F.linear(x, self.base.weight + self.delta_weight(), self.base.bias)
        d = F.linear(F.linear(x, self.lora_a), self.lora_b)
        if self.scale != 1.0:
            d = d * self.scale
        return self.base(x) + d

    @torch.no_grad()
    def fold_scale(self):
        """B <- s B, s <- 1 (same function; no scalar Mul in the export)."""
        self.lora_b.mul_(self.scale)
        self.scale = 1.0


def merged_attention(attn: Attention, n_head: int) -> Attention:
    """``attn`` (same weights) computing ``n_head`` heads of
    d_model/n_head each: adjacent heads of the original are concatenated."""
    if n_head == attn.cfg.n_head:
        return attn
    new = Attention(attn.cfg.replace(n_head=n_head))
    new.load_state_dict(attn.state_dict())
    new.train(attn.training)
    return new


def _resolve(block: nn.Module, target: str):
    parent_name, attr = target.split(".")
    return getattr(block, parent_name), attr


def build_marill(base: Decoder, opts: MarillOptions) -> Decoder:
    """A copy of ``base`` with the options' structure (merged heads, LoRA
    wrappers) and ``requires_grad`` set on exactly the trained parameters.
    The copy computes the base's function except where heads are merged."""
    cfg = base.cfg
    opts.validate(cfg)
    model = copy.deepcopy(base)  # keeps the tied LM head tied
    heads = opts.heads(cfg)
    for i, blk in enumerate(model.blocks):
        blk.attn = merged_attention(blk.attn, heads[i])
    K = opts.frozen_prefix
    if opts.lora_rank:
        for blk in model.blocks[K:]:
            for t in opts.lora_targets:
                parent, attr = _resolve(blk, t)
                setattr(parent, attr, LoRALinear(getattr(parent, attr), opts.lora_rank, opts.alpha,
                                                 export_sum=opts.lora_export == "sum"))
    if opts.head == "private":
        head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        with torch.no_grad():
            head.weight.copy_(model.tok_emb.weight)
        model.lm_head = head
    elif opts.head == "lora":  # the base stays the (public) tok_emb
        model.lm_head = LoRALinear(model.lm_head, opts.lora_rank, opts.alpha,
                                   export_sum=opts.lora_export == "sum")
    private = set(private_names(model, opts))
    for n, p in model.named_parameters():
        p.requires_grad_(n in private)
    model.marill = opts
    model.heads = heads
    return model


def private_names(model: Decoder, opts: MarillOptions) -> List[str]:
    """Names (named_parameters, tied head deduplicated) of the parameters the
    fine-tuning trains: the owner's private weights, in model order."""
    K, n = opts.frozen_prefix, model.cfg.n_layer
    trained_blocks = tuple(f"blocks.{i}." for i in range(K, n))
    out = []
    for name, _ in model.named_parameters():
        if name.startswith("lm_head."):  # untied: "private" or "lora"
            if name in ("lm_head.weight", "lm_head.lora_a", "lm_head.lora_b"):
                out.append(name)
        elif opts.lora_rank:
            if name.startswith(trained_blocks) and name.endswith((".lora_a", ".lora_b")):
                out.append(name)
            elif opts.train_norms and (name.startswith("ln_f.") or (
                    name.startswith(trained_blocks) and (".ln1." in name or ".ln2." in name))):
                out.append(name)
        else:
            if name.startswith(("tok_emb.", "pos_emb.")):
                if K == 0:
                    out.append(name)
            elif name.startswith("blocks."):
                if name.startswith(trained_blocks):
                    out.append(name)
            else:  # ln_f
                out.append(name)
    return out


def public_names(model: Decoder) -> List[str]:
    return [n for n, _ in model.named_parameters() if n not in set(private_names(model, model.marill))]


def fold_lora(model: Decoder) -> Decoder:
    for m in model.modules():
        if isinstance(m, LoRALinear):
            m.fold_scale()
    return model


# ---- the public regex ---------------------------------------------------------

def public_regex(model: Decoder) -> str:
    """A full-match regex over the exported initializer names (the parameter
    names, export with keep_names) that names exactly the public ones: the
    frozen prefix as ``(tok_emb|pos_emb|blocks\\.(0|1))\\..*``, then the public
    parameters of the trained blocks (the same in each), then the rest by
    name. '' when nothing is public."""
    opts = model.marill
    pub = public_names(model)
    if not pub:
        return ""
    K = opts.frozen_prefix
    alts, covered = [], set()
    if K:
        blocks = "|".join(str(i) for i in range(K))
        alts.append(rf"(tok_emb|pos_emb|blocks\.({blocks}))\..*")
        pat = re.compile(alts[0])
        covered = {p for p in pub if pat.fullmatch(p)}
    rest = [p for p in pub if p not in covered]
    per_block: Dict[int, List[str]] = {}
    other = []
    for p in rest:
        m = re.fullmatch(r"blocks\.(\d+)\.(.*)", p)
        if m:
            per_block.setdefault(int(m.group(1)), []).append(m.group(2))
        else:
            other.append(p)
    if per_block:
        suffix_sets = {tuple(v) for v in per_block.values()}
        if len(suffix_sets) == 1:
            idx = "|".join(str(i) for i in sorted(per_block))
            sfx = "|".join(re.escape(s) for s in next(iter(suffix_sets)))
            alts.append(rf"blocks\.({idx})\.({sfx})")
        else:
            other += [f"blocks.{i}.{s}" for i, v in per_block.items() for s in v]
    alts += [re.escape(p) for p in other]
    regex = "|".join(f"({a})" for a in alts) if len(alts) > 1 else alts[0]
    pat = re.compile(regex)
    for name, _ in model.named_parameters():
        assert bool(pat.fullmatch(name)) == (name in pub), name
    return regex


# ---- the shifted task ---------------------------------------------------------

def shift_split(tok, split: str, root: str = SHIFT_ROOT, cache_dir: Optional[str] = None,
                max_bytes=None):
    """(token ids int64, byte count) of a split of the shifted task (see the
    module docstring), cached as ``cache_dir/shift-<split>.npz``."""
    from .corpus import encode_split
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root} not present (Debian's python3-numpy)")
    key = hashlib.sha256(json.dumps([root, split, max_bytes, tok.to_dict()]).encode()).hexdigest()[:16]
    path = os.path.join(cache_dir, f"shift-{split}-{key}.npz") if cache_dir else None
    if path and os.path.exists(path):
        z = np.load(path)
        return z["ids"].astype(np.int64), int(z["bytes"])
    ids, nbytes = encode_split(tok, split, root, max_bytes)
    ids = ids.astype(np.int64)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(path + ".tmp.npz", ids=ids.astype(np.uint16), bytes=nbytes)
        os.replace(path + ".tmp.npz", path)
    return ids, nbytes


def quality(model, tok, cache_dir=None, seq=128, root=SHIFT_ROOT, stdlib=True):
    """bpb/top-1 on the shifted test split and on the first stdlib test
    files up to STDLIB_SUBSET_BYTES (the base's own task: forgetting)."""
    from .corpus import DEFAULT_ROOT, encode_split
    from .eval import evaluate, token_lengths
    tl = token_lengths(tok)
    ids, nb = shift_split(tok, "test", root, cache_dir)
    r = evaluate(model, ids, tl, seq=seq, batch=8)
    keys = ("bpb", "top1", "tokens", "bytes", "seq")
    out = {"shift_test": {k: r[k] for k in keys}}
    out["shift_test"]["split_bytes"] = nb
    ids, nb = shift_split(tok, "test", root, cache_dir, SUBSET_BYTES)
    r = evaluate(model, ids, tl, seq=seq, batch=8)
    out["shift_test_subset"] = {**{k: r[k] for k in keys}, "max_bytes": SUBSET_BYTES}
    if stdlib and os.path.isdir(DEFAULT_ROOT):
        ids, nb = encode_split(tok, "test", DEFAULT_ROOT, STDLIB_SUBSET_BYTES)
        r = evaluate(model, ids.astype(np.int64), tl, seq=seq, batch=8)
        out["stdlib_test_subset"] = {**{k: r[k] for k in keys}, "max_bytes": STDLIB_SUBSET_BYTES}
    return out


# ---- training -------------------------------------------------------------------

def train(model: Decoder, train_ids, steps, batch, seq, lr, warmup=30, min_lr_frac=0.1,
          wd=0.0, grad_clip=1.0, seed=1234, log=print, log_every=20):
    """AdamW on the parameters with requires_grad, linear warmup then cosine
    to min_lr_frac * lr; random windows from train_ids (seeded: every
    variant sees the same batches). Returns the per-step losses."""
    from .train import lr_at
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(seed + 1)
    data = torch.from_numpy(np.asarray(train_ids, dtype=np.int64))
    off = torch.arange(seq + 1)
    losses = []
    t0 = time.time()
    model.train()
    for step in range(steps):
        cur = lr_at(step, steps, lr, warmup, min_lr_frac)
        for g in opt.param_groups:
            g["lr"] = cur
        ix = torch.randint(0, data.numel() - seq - 1, (batch,), generator=gen)
        w = data[ix[:, None] + off[None, :]]
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        losses.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            dt = time.time() - t0
            ema = float(np.mean(losses[-log_every:]))
            log(f"  step {step + 1}/{steps} loss {ema:.4f} lr {cur:.2e} "
                f"{(step + 1) / dt:.2f} it/s eta {(steps - step - 1) * dt / (step + 1) / 60:.1f} min")
    model.eval()
    return losses


# ---- storage --------------------------------------------------------------------

def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@torch.no_grad()
def round_private_fp16(model: Decoder):
    """The private parameters rounded to fp16 in place: the model as stored."""
    params = dict(model.named_parameters())
    for n in private_names(model, model.marill):
        params[n].copy_(params[n].half().float())
    return model


@torch.no_grad()
def reference_logits(model: Decoder, tok, cache_dir=None, root=SHIFT_ROOT, T=32, T_shift=32):
    """{ids_prompt, logits_prompt, ids_shift, logits_shift}: the model's
    logits on the first T tokens of scripts/demo_prompt.txt and on the first
    T_shift tokens of the shifted test split."""
    model.eval()
    out = {}
    if os.path.exists(PROMPT):
        ids = np.asarray(tok.encode(open(PROMPT, "rb").read())[:T], dtype=np.int64)[None]
        out["ids_prompt"] = ids
        out["logits_prompt"] = model(torch.from_numpy(ids)).numpy().astype(np.float32)
    ids, _ = shift_split(tok, "test", root, cache_dir, SUBSET_BYTES)
    ids = np.asarray(ids[:T_shift], dtype=np.int64)[None]
    out["ids_shift"] = ids
    out["logits_shift"] = model(torch.from_numpy(ids)).numpy().astype(np.float32)
    return out


def save_marill_dir(model: Decoder, out: str, base_dir: str, extra_metrics=None, train_log=None,
                    reference=None):
    """Writes config.json, tokenizer.json, delta.npz, public.json (and
    metrics/train_log/reference.npz when given). LoRA scales are folded
    first."""
    fold_lora(model)
    os.makedirs(out, exist_ok=True)
    opts = model.marill
    d = model.cfg.to_dict()
    d["marill"] = {**opts.to_dict(), "heads": list(model.heads),
                   "base": os.path.relpath(os.path.abspath(base_dir), os.path.abspath(out)),
                   "base_weights_sha256": _sha256(os.path.join(base_dir, "weights.npz")),
                   "lora_b_scale_folded": True}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.copy(os.path.join(base_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    params = dict(model.named_parameters())
    delta = {n: params[n].detach().cpu().numpy().astype(np.float16)
             for n in private_names(model, opts)}
    np.savez_compressed(os.path.join(out, "delta.npz"), **delta)
    with open(os.path.join(out, "public.json"), "w") as f:
        json.dump({"public_weight_names": public_regex(model)}, f, indent=1)
        f.write("\n")
    if extra_metrics is not None:
        with open(os.path.join(out, "metrics.json"), "w") as f:
            json.dump(extra_metrics, f, indent=1, sort_keys=True)
            f.write("\n")
    if reference is not None:
        np.savez_compressed(os.path.join(out, "reference.npz"), **reference)
    if train_log is not None:
        with open(os.path.join(out, "train_log.json"), "w") as f:
            json.dump(train_log, f, indent=1)
            f.write("\n")
    return out


def read_marill_config(path):
    with open(os.path.join(path, "config.json")) as f:
        d = json.load(f)
    marill = d.pop("marill")
    return ModelConfig.from_dict(d), marill


def load_marill_dir(path, base_dir=None, check_base=True) -> Decoder:
    """The fine-tuned model (eval mode, fp32) of a directory written by
    save_marill_dir: the base (``marill.base`` relative to ``path`` unless
    ``base_dir``) with the options' structure and the delta's parameters."""
    cfg, m = read_marill_config(path)
    base_dir = base_dir or os.path.normpath(os.path.join(path, m["base"]))
    if check_base and m.get("base_weights_sha256") and \
            _sha256(os.path.join(base_dir, "weights.npz")) != m["base_weights_sha256"]:
        raise ValueError(f"{base_dir}/weights.npz is not the base {path} was fine-tuned from")
    base = load_model_dir(base_dir)
    if base.cfg.to_dict() != cfg.to_dict():
        raise ValueError(f"{path}: config differs from the base's ({base_dir})")
    opts = MarillOptions.from_dict(m)
    model = build_marill(base, opts)
    if list(model.heads) != list(m["heads"]):
        raise ValueError(f"{path}: heads {m['heads']} != {model.heads}")
    for mod in model.modules():
        if isinstance(mod, LoRALinear) and m.get("lora_b_scale_folded"):
            mod.scale = 1.0
    z = np.load(os.path.join(path, "delta.npz"))
    want = private_names(model, opts)
    if sorted(z.files) != sorted(want):
        raise KeyError(f"delta.npz holds {sorted(z.files)}, the options need {sorted(want)}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for n in want:
            params[n].copy_(torch.from_numpy(z[n].astype(np.float32)))
    model.eval()
    return model


def export_marill_onnx(model: Decoder, path: str, seq: int, **kw):
    """ONNX with the parameter names as initializer names (keep_names)."""
    from .export import export_onnx
    return export_onnx(model, path, seq, keep_names=True, **kw)


def onnx_initializer_names(path) -> List[str]:
    import onnx
    return [i.name for i in onnx.load(path).graph.initializer]


# ---- CLI --------------------------------------------------------------------------

def cmd_train(a):
    from .tokenizer import load_tokenizer
    torch.set_num_threads(a.threads)
    opts = MarillOptions(frozen_prefix=a.frozen_prefix, lora_rank=a.lora, lora_alpha=a.lora_alpha,
                         lora_targets=[t for t in a.lora_targets.split(",") if t],
                         lora_export=a.lora_export, merge_heads=a.merge_heads,
                         train_norms=a.train_norms, head=a.head)
    os.makedirs(a.out, exist_ok=True)
    log_f = open(os.path.join(a.out, "train.log"), "a")

    def log(msg):
        print(msg, flush=True)
        log_f.write(msg + "\n")
        log_f.flush()
    base = load_model_dir(a.base)
    tok = load_tokenizer(os.path.join(a.base, "tokenizer.json"))
    cache = a.cache_dir
    train_ids, train_bytes = shift_split(tok, "train", a.shift_root, cache)
    base_key = _sha256(os.path.join(a.base, "weights.npz"))[:16]
    base_q_path = os.path.join(cache, f"base-quality-v3-{base_key}-seq{a.seq}-sub{SUBSET_BYTES}.json") if cache else None
    if base_q_path and os.path.exists(base_q_path):
        base_q = json.load(open(base_q_path))
    else:
        base_q = quality(base, tok, cache, a.seq, a.shift_root)
        if base_q_path:
            json.dump(base_q, open(base_q_path, "w"), indent=1)
    log(f"base: shifted test bpb {base_q['shift_test']['bpb']:.4f} top1 "
        f"{base_q['shift_test']['top1']:.4f}")
    torch.manual_seed(a.seed)
    model = build_marill(base, opts)
    n_tr = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log(f"marill {opts.tag()}: heads {model.heads}, {n_tr} trained parameters "
        f"({len(private_names(model, opts))} tensors), train split {train_ids.size} tokens "
        f"({train_bytes} bytes); {a.steps} steps x {a.batch} x {a.seq}, lr {a.lr}")
    t0 = time.time()
    losses = train(model, train_ids, a.steps, a.batch, a.seq, a.lr, a.warmup, a.min_lr_frac,
                   a.wd, a.grad_clip, a.seed, log)
    train_s = time.time() - t0
    tlog = {"args": vars(a), "options": opts.to_dict(), "heads": model.heads,
            "trained_parameters": n_tr, "train_seconds": train_s,
            "loss_every_10": [float(np.mean(losses[i:i + 10])) for i in range(0, len(losses), 10)]}
    fold_lora(model)
    round_private_fp16(model)  # the model as stored
    ref = reference_logits(model, tok, cache, a.shift_root)
    save_marill_dir(model, a.out, a.base, train_log=tlog, reference=ref)
    stored = load_marill_dir(a.out)
    again = reference_logits(stored, tok, cache, a.shift_root)
    diff = max(float(np.abs(again[k] - ref[k]).max()) for k in ref if k.startswith("logits"))
    if diff > 1e-4:
        raise RuntimeError(f"load_marill_dir does not reproduce the trained model: {diff}")
    q = quality(stored, tok, cache, a.seq, a.shift_root)
    gain = base_q["shift_test"]["bpb"] - q["shift_test"]["bpb"]
    metrics = {"note": "bits/byte and top-1, non-overlapping windows of seq tokens; shift_test: "
                       f"the test split of {a.shift_root} (*.py, corpus split rule); "
                       "stdlib_test_subset: first whole files of the stdlib test split up to "
                       f"{STDLIB_SUBSET_BYTES} bytes (the base's task); gain = base bpb - "
                       "fine-tuned bpb on shift_test; weights as stored (fp16)",
               "base": base_q, "finetuned": q, "gain_bpb": gain, "options": opts.to_dict(),
               "heads": model.heads, "trained_parameters": n_tr, "train_seconds": train_s}
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1, sort_keys=True)
        f.write("\n")
    log(f"done {a.out}: shifted test bpb {q['shift_test']['bpb']:.4f} (base "
        f"{base_q['shift_test']['bpb']:.4f}, gain {gain:.4f}) top1 {q['shift_test']['top1']:.4f}; "
        f"train {train_s / 60:.1f} min")
    return 0


def cmd_export(a):
    from .export import check_onnx, dump_reference
    from .tokenizer import tokenizer_of
    torch.set_num_threads(a.threads)
    model = load_marill_dir(a.model)
    export_marill_onnx(model, a.out, a.seq)
    check_onnx(a.out)
    pub = json.load(open(os.path.join(a.model, "public.json")))["public_weight_names"]
    names = onnx_initializer_names(a.out)
    pat = re.compile(pub) if pub else None
    n_pub = sum(1 for n in names if pat and pat.fullmatch(n))
    print(f"wrote {a.out}: {len(names)} initializers, {n_pub} public by public.json")
    if a.dump_dir:
        dump_reference(model, a.dump_dir, a.seq, tokenizer_of(a.model), a.text_file)
    return 0


def cmd_package(a):
    """Copies a trained directory (the bench's cache, say) to a fixture
    directory, with the base reference rewritten relative to it."""
    cfg, m = read_marill_config(a.run)
    base_dir = os.path.normpath(os.path.join(a.run, m["base"]))
    os.makedirs(a.out, exist_ok=True)
    for fn in ("tokenizer.json", "delta.npz", "public.json", "metrics.json", "reference.npz",
               "train_log.json"):
        shutil.copy(os.path.join(a.run, fn), os.path.join(a.out, fn))
    d = cfg.to_dict()
    d["marill"] = {**m, "base": os.path.relpath(os.path.abspath(base_dir), os.path.abspath(a.out))}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(d, f, indent=2, sort_keys=True)
        f.write("\n")
    ref = np.load(os.path.join(a.out, "reference.npz"))
    model = load_marill_dir(a.out)
    with torch.no_grad():
        for k in ("prompt", "shift"):
            if f"ids_{k}" in ref.files:
                got = model(torch.from_numpy(ref[f"ids_{k}"])).numpy()
                assert np.abs(got - ref[f"logits_{k}"]).max() < 1e-4, k
    print(f"packaged {a.run} -> {a.out} (base {d['marill']['base']})")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="umbra_models.marill", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="fine-tune the base on the shifted task")
    t.add_argument("--base", required=True, help="public base model directory")
    t.add_argument("--out", required=True)
    t.add_argument("--frozen-prefix", type=int, default=0)
    t.add_argument("--lora", type=int, default=0, help="LoRA rank (0: off)")
    t.add_argument("--lora-alpha", type=float, default=0.0, help="LoRA alpha (0: 2 * rank)")
    t.add_argument("--lora-targets", default=",".join(DEFAULT_TARGETS))
    t.add_argument("--lora-export", choices=["factored", "sum"], default="factored")
    t.add_argument("--merge-heads", type=int, default=1)
    t.add_argument("--train-norms", action="store_true",
                   help="with --lora: also train the trained blocks' layer norms and ln_f")
    t.add_argument("--head", choices=["tied", "private", "lora"], default="tied",
                   help="the LM head (tied to tok_emb in the base): tied (public when the "
                        "embeddings are frozen), private (an untied trained copy) or lora "
                        "(the public tok_emb plus a LoRA delta)")
    t.add_argument("--steps", type=int, default=400)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--seq", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--warmup", type=int, default=30)
    t.add_argument("--min-lr-frac", type=float, default=0.1)
    t.add_argument("--wd", type=float, default=0.0)
    t.add_argument("--grad-clip", type=float, default=1.0)
    t.add_argument("--seed", type=int, default=1234)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--shift-root", default=SHIFT_ROOT)
    t.add_argument("--cache-dir", default=None, help="cache the tokenized split and the base's quality")
    e = sub.add_parser("export", help="ONNX of a fine-tuned directory (initializer names kept)")
    e.add_argument("--model", required=True)
    e.add_argument("--seq", type=int, default=32)
    e.add_argument("--out", required=True)
    e.add_argument("--dump-dir", default=None)
    e.add_argument("--text-file", default=None)
    e.add_argument("--threads", type=int, default=1)
    k = sub.add_parser("package", help="copy a trained directory to a fixture directory")
    k.add_argument("--run", required=True)
    k.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    return {"train": cmd_train, "export": cmd_export, "package": cmd_package}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
