"""Package a finished training run as a committed fixture.

  /usr/bin/python3 -m umbra_models.fixture --run runs/opt-l4-d256 --out fixtures/opt-l4-d256

Copies config.json, tokenizer.json, weights.npz (fp16), loss.png and
train_log.json, then computes, with the fp16 weights as stored:
  metrics.json  -- bits/byte and top-1 on the full test split with
                   non-overlapping windows ("test") and with windows every
                   128 tokens ("test_stride128"), on the first whole test
                   files up to SUBSET_BYTES (what the fast test recomputes),
                   and with --valid on the valid split;
  sparsity.json -- umbra_models.stats on the test split (+ sparsity.png).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import torch

SUBSET_BYTES = 8000


def compute_metrics(model_dir, root, log=print, valid=False, stride=128):
    from .corpus import encode_split
    from .eval import evaluate, token_lengths
    from .model import load_model_dir
    from .tokenizer import load_tokenizer
    model = load_model_dir(model_dir)
    tok = load_tokenizer(os.path.join(model_dir, "tokenizer.json"))
    tl = token_lengths(tok)
    out = {"note": "non-overlapping windows of max_seq tokens; bpb = sum(-log2 p) / bytes of predicted tokens; "
                   "top1 per token; weights fp16 widened to fp32"}
    jobs = [("test", "test", None, None), (f"test_stride{stride}", "test", None, stride),
            ("test_subset", "test", SUBSET_BYTES, None)]
    if valid:
        jobs.append(("valid", "valid", None, None))
    for name, split, mb, st in jobs:
        ids, nbytes = encode_split(tok, split, root, mb)
        r = evaluate(model, ids, tl, batch=8, stride=st)
        r.update({"split": split, "max_bytes": mb, "split_bytes": nbytes})
        out[name] = r
        log(f"{model_dir} {name}: bpb {r['bpb']:.4f} top1 {r['top1']:.4f} ({r['tokens']} tokens, {r['bytes']} bytes)")
    return out


def main(argv=None):
    from .corpus import DEFAULT_ROOT
    from . import stats
    ap = argparse.ArgumentParser(prog="umbra_models.fixture", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--valid", action="store_true", help="also evaluate the (3x larger) valid split")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    for fn in ("config.json", "tokenizer.json", "weights.npz", "loss.png", "train_log.json"):
        shutil.copy(os.path.join(a.run, fn), os.path.join(a.out, fn))
    m = compute_metrics(a.out, a.root, valid=a.valid)
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(m, f, indent=1, sort_keys=True)
        f.write("\n")
    stats.main(["--model", a.out, "--root", a.root, "--windows", str(a.windows),
                "--threads", str(a.threads), "--out", os.path.join(a.out, "sparsity.json"), "--plot", os.path.join(a.out, "sparsity.png")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
