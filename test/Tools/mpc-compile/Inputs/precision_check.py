"""Precision of constants and norm statistics, end to end (ctest's fast
check; bench/accuracy measures the GPT-2-small-sized models).

Usage: precision_check.py OUT_DIR --mpc-compile PATH --mpc-run PATH
       --analyze bench/accuracy/analyze.py [--max-rel R] [--max-slope S]

Two small decoders whose shapes expose the two failure modes of issue 11:
  * gpt2-d96: GPT-2 style, hidden 96 (1/96 is not a dyadic constant: with
    16 fractional bits it was encoded 0.39 % low, so every LayerNorm scaled
    its output up), torch's default initialisation (N(0, 1) embeddings,
    tied head: large logits);
  * llama-d96: LLaMA style (RMSNorm, SwiGLU, rotary) with the zoo's
    initialisation (embeddings ~0.02, as real LLaMA embeddings are: the
    mean of squares ~4e-4 lost ~4 % at 16 fractional bits).
2 layers, 3 heads, vocab 128, 16 tokens, random weights (seed 0). Each is
exported by torch, compiled by mpc-compile, run by mpc-run --local, and its
logits are compared with torch's by analyze.py: relative error (max |err| /
max |logit|), least-squares slope of MPC - torch against torch (the bias),
top-1 at every position.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
from umbra_models.config import ModelConfig  # noqa: E402
from umbra_models.export import export_onnx, torch_default_init  # noqa: E402
from umbra_models.model import build_model  # noqa: E402

MODELS = {
    "gpt2-d96": (dict(family="gpt2", d_model=96, d_ff=384), "torch"),
    "llama-d96": (dict(family="llama", d_model=96, d_ff=256), "zoo"),
}


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--analyze", required=True)
    ap.add_argument("--max-rel", type=float, default=2e-3)
    ap.add_argument("--max-slope", type=float, default=2e-4)
    ap.add_argument("--seq", type=int, default=16)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    failed = 0
    for name, (kw, init) in MODELS.items():
        torch.manual_seed(0)
        cfg = ModelConfig(name=name, n_layer=2, n_head=3, vocab_size=128, max_seq=64, **kw)
        model = build_model(cfg)
        if init == "torch":
            torch_default_init(model)
        model.eval()
        base = os.path.join(a.out, name)
        export_onnx(model, base + ".onnx", a.seq)
        ids = torch.randint(0, cfg.vocab_size, (1, a.seq),
                            generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            np.save(base + "-torch.npy", model(ids).numpy())
        np.save(base + "-ids.npy", ids.numpy())
        steps = [
            [a.mpc_compile, base + ".onnx", "-o", base + ".umbra"],
            [a.mpc_run, base + ".umbra", "--local", "-i",
             "input_ids=" + base + "-ids.npy", "-o", base + "-mpc"],
        ]
        if any(run(c).returncode for c in steps):
            failed += 1
            continue
        p = run([sys.executable, a.analyze, "--name", name + " (" + init + " init)",
                 "--ref", base + "-torch.npy", "--mpc", os.path.join(base + "-mpc", "logits.npy"),
                 "--max-rel", str(a.max_rel), "--max-slope", str(a.max_slope),
                 "--min-top1", "-1"])
        sys.stdout.write(p.stdout)
        failed += p.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
