"""End to end for the zoo's architecture variants: torch -> ONNX ->
mpc-compile -> mpc-run --local, compared with torch.

Usage: e2e_styles.py OUT_DIR --mpc-compile PATH --mpc-run PATH
       --variants NAME[,NAME] [--frac-bits 16] [--max-rel 0.02]
       [--min-gap 0.01]

Each variant is an entry of umbra_models.zoo.ARCH_VARIANTS (python/
umbra_models/architectures.py: decoders written with the idioms of the
Hugging Face code of LLaMA-2 GQA/MQA, Mistral, Falcon, GPT-NeoX, GPT-J, Phi
and OPT-350m; random weights, seed 0, 2 layers, hidden 64, 4 heads, vocab
128) at its own batch size and sequence length. It is exported by torch's
exporter (opset 17, static shapes), compiled by mpc-compile, run with the
dealer, P0 and P1 as separate processes on loopback (mpc-run --local) on a
random prompt without near ties (the first seed whose top-2 gap is at least
--min-gap at every position, so that a top-1 disagreement is an error, not a
tie), and the logits revealed to the client are compared with torch's
float32 logits. The runtime's float reference executor runs the same
artifact, which separates the error of the approximations (reference vs
torch) from that of fixed point and the protocols (MPC vs reference).

A variant passes when max |mpc - torch| <= max-rel * max |torch| and the
top-1 token agrees at every position of every batch row. One line per
variant; the exit status is 1 if any failed (a failed command prints its
diagnostics and counts as FAIL, the other variants still run).
Run with Debian's /usr/bin/python3 (python3-torch 1.13, numpy).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
from umbra_models import zoo  # noqa: E402
from umbra_models.export import export_onnx  # noqa: E402


class CommandFailed(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise CommandFailed("command failed (%d): %s\n%s%s" % (
            p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


def pick_prompt(model, batch, seq, vocab, min_gap):
    """The first prompt (seed 1, 2, ...) without near ties, and its logits."""
    for seed in range(1, 1000):
        gen = torch.Generator().manual_seed(seed)
        ids = torch.randint(0, vocab, (batch, seq), generator=gen)
        with torch.no_grad():
            want = model(ids).numpy().astype(np.float64)
        srt = np.sort(want, axis=-1)
        if (srt[..., -1] - srt[..., -2]).min() >= min_gap:
            break
    return seed, ids, want


def run_variant(name, a):
    style, batch, seq = zoo.ARCH_VARIANTS[name]
    torch.manual_seed(0)
    model = zoo.build(style)
    onnx_path = os.path.join(a.out, name + ".onnx")
    export_onnx(model, onnx_path, seq, opset=17, batch=batch)
    seed, ids, want = pick_prompt(model, batch, seq, zoo.DIMS["vocab"], a.min_gap)
    ids_path = os.path.join(a.out, name + "-ids.npy")
    np.save(ids_path, ids.numpy().astype(np.int64))
    np.save(os.path.join(a.out, name + "-torch.npy"), want)

    art = os.path.join(a.out, name + ".umbra")
    c = run([a.mpc_compile, onnx_path, "-o", art, "--frac-bits", str(a.frac_bits),
             "--leakage-report"])
    reveals = re.findall(r"reason: \"([^\"]*)\"", c.stdout)
    ref_dir = os.path.join(a.out, name + "-ref")
    run([a.mpc_run, art, "--reference", "-i", "input_ids=" + ids_path, "-o", ref_dir])
    mpc_dir = os.path.join(a.out, name + "-mpc")
    r = run([a.mpc_run, art, "--local", "-i", "input_ids=" + ids_path, "-o", mpc_dir,
             "--timeout", "300", "--connect-timeout", "60"])
    ref = np.load(os.path.join(ref_dir, "logits.npy")).reshape(want.shape)
    got = np.load(os.path.join(mpc_dir, "logits.npy")).reshape(want.shape)

    scale = float(np.abs(want).max())
    err = float(np.abs(got - want).max())
    err_ref = float(np.abs(ref - want).max())
    err_fix = float(np.abs(got - ref).max())
    top_want = want.argmax(-1).ravel()
    agree = int((got.argmax(-1).ravel() == top_want).sum())
    srt = np.sort(want, axis=-1)
    margin = float((srt[..., -1] - srt[..., -2]).min())
    m = re.search(r"\[p0\] done in ([0-9.]+) s: online sent (\d+) B, "
                  r"received (\d+) B, (\d+) rounds", r.stderr)
    comm = ("p0: %s s, sent %s B, received %s B, %s rounds" % m.groups()
            if m else "p0: (no summary)")
    passed = err <= a.max_rel * scale and agree == top_want.size
    print("%s: %s batch=%d seq=%d frac=%d prompt seed %d rel=%.3g%% "
          "max|mpc-torch|=%.4g max|ref-torch|=%.4g max|mpc-ref|=%.4g max|torch|=%.3g "
          "top1=%d/%d (min top-2 gap %.3g) reveals=%s; %s" %
          (name, "PASS" if passed else "FAIL", batch, seq, a.frac_bits, seed,
           100 * err / scale, err, err_ref, err_fix, scale, agree, top_want.size,
           margin, json.dumps(reveals), comm))
    return passed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--variants", required=True,
                    help="comma-separated names of zoo.ARCH_VARIANTS")
    ap.add_argument("--frac-bits", type=int, default=16)
    ap.add_argument("--max-rel", type=float, default=0.02)
    ap.add_argument("--min-gap", type=float, default=0.01)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    ok = True
    for name in a.variants.split(","):
        if name not in zoo.ARCH_VARIANTS:
            ap.error("unknown variant %r; one of %s" % (name, list(zoo.ARCH_VARIANTS)))
        try:
            passed = run_variant(name, a)
        except CommandFailed as e:
            print("%s: FAIL %s" % (name, str(e).splitlines()[0]))
            sys.stderr.write(str(e))
            passed = False
        sys.stdout.flush()
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
