"""End to end: a decoder written the way users write it, with the idioms of
issue 11 (masks and constants outside the fixed-point range, norms with the
weight applied first), exported by torch, compiled by mpc-compile and run
under 2PC (mpc-run --local).

Usage: e2e_masks.py OUT_DIR --mpc-compile PATH --mpc-run PATH
       [--tolerance 0.05] [--seq 12]

The model (random weights, seed 0, vocab 64, hidden 32, 2 heads, 2 layers):
- RMSNorm as `w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)`
  (the weight multiplied before the normalisation), and the final norm as
  `x * (mean(x^2) + eps) ** -0.5 * w`;
- in layer 1, LayerNorm by hand with the weight first:
  `w * (x - mu) / torch.sqrt(var + eps) + b`;
- attention scores + an additive causal mask of torch.finfo(float32).min
  (built in forward as HF LLaMA did), then the "safe softmax" clamp
  `torch.max(scores, torch.tensor(torch.finfo(torch.float32).min))`;
  softmax by F.softmax in layer 0 and by hand (exp(s - amax) / sum) in
  layer 1;
- a SwiGLU MLP.

Passes when max |logit_mpc - logit_torch| <= tolerance and the top-1 next
token agrees at every position; prints the figures and the fusions the
compiler reported. Run with Debian's /usr/bin/python3 (torch 1.13).
"""
import argparse
import os
import subprocess
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FMIN = torch.finfo(torch.float32).min


def rms_norm_weight_first(x, w, eps=1e-6):
    return w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def rms_norm_pow(x, w, eps=1e-6):
    return x * (x.pow(2).mean(-1, keepdim=True) + eps) ** -0.5 * w


def layer_norm_weight_first(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return w * (x - mu) / torch.sqrt(var + eps) + b


class Block(nn.Module):
    def __init__(self, d, heads, layer):
        super().__init__()
        self.layer, self.heads, self.hd = layer, heads, d // heads
        self.norm1 = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.norm1_b = nn.Parameter(0.1 * torch.randn(d))
        self.norm2 = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate = nn.Linear(d, 2 * d, bias=False)
        self.up = nn.Linear(d, 2 * d, bias=False)
        self.down = nn.Linear(2 * d, d, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        if self.layer == 0:
            h = rms_norm_weight_first(x, self.norm1)
        else:
            h = layer_norm_weight_first(x, self.norm1, self.norm1_b)
        q, k, v = self.qkv(h).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.heads, self.hd).transpose(1, 2)
                   for z in (q, k, v))
        scores = q @ k.transpose(-1, -2) / (self.hd ** 0.5)
        # HF LLaMA (transformers 4.2x): an additive mask of finfo.min above
        # the diagonal, then a clamp so that -inf never appears.
        mask = torch.full((t, t), FMIN)
        cond = torch.arange(t)
        mask = mask.masked_fill(cond < (cond + 1).view(t, 1), 0.0)
        scores = scores + mask[None, None]
        scores = torch.max(scores, torch.tensor(FMIN))
        if self.layer == 0:
            p = F.softmax(scores, dim=-1)
        else:
            e = torch.exp(scores - scores.amax(-1, keepdim=True))
            p = e / e.sum(-1, keepdim=True)
        a = (p @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(a)
        h = rms_norm_weight_first(x, self.norm2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(nn.Module):
    def __init__(self, vocab=64, d=32, heads=2, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, i) for i in range(layers))
        self.norm = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids):
        x = self.emb(ids)
        for blk in self.blocks:
            x = blk(x)
        return self.head(rms_norm_pow(x, self.norm))


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--seq", type=int, default=12)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = Decoder().eval()
    ids = torch.randint(0, 64, (1, a.seq), generator=torch.Generator()
                        .manual_seed(1))
    onnx_path = os.path.join(a.out, "model.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ids,), onnx_path, opset_version=17,
                          input_names=["input_ids"], output_names=["logits"])
    with torch.no_grad():
        want = model(ids).numpy().astype(np.float64)
    ids_path = os.path.join(a.out, "ids.npy")
    np.save(ids_path, ids.numpy().astype(np.int64))

    # The fused form: what tfm-fuse raised, and nothing left that only a
    # generic lowering could run (pow, sqrt, a division, a max).
    tfm = run([a.mpc_compile, onnx_path, "--compile-to=tfm", "-o", "-"]).stdout
    counts = {op: tfm.count("tfm." + op + " ")
              for op in ("rms_norm", "layer_norm", "softmax", "causal_mask",
                         "silu", "pow", "sqrt", "div", "max", "reciprocal")}
    print("fused: " + " ".join("%s=%d" % kv for kv in counts.items()))

    art = os.path.join(a.out, "model.umbra")
    run([a.mpc_compile, onnx_path, "-o", art])
    out = os.path.join(a.out, "mpc")
    run([a.mpc_run, art, "--local", "-i", "input_ids=" + ids_path, "-o", out,
         "--timeout", "300", "--connect-timeout", "60"])
    got = np.load(os.path.join(out, "logits.npy")).reshape(want.shape)
    err = float(np.abs(got - want).max())
    agree = int((got.argmax(-1) == want.argmax(-1)).sum())
    passed = err <= a.tolerance and agree == a.seq
    print("masks: %s max|mpc-torch|=%.4g max|torch|=%.3g top1=%d/%d" %
          ("PASS" if passed else "FAIL", err, float(np.abs(want).max()),
           agree, a.seq))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
