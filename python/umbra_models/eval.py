"""Evaluation: bits per byte and top-1 next-token accuracy.

The split's token stream (files concatenated in path order) is cut into
non-overlapping windows of ``seq`` targets: inputs ids[s:s+seq], targets
ids[s+1:s+seq+1] for s = 0, seq, 2*seq, ... Every token but the first is
predicted exactly once, with between 0 and seq-1 tokens of context.
bits/byte = sum(-log2 p(target)) / sum(bytes of the target tokens), so it is
comparable across tokenizers. top-1 is per token.

CLI:
  /usr/bin/python3 -m umbra_models.eval --model fixtures/opt-l4-d256 [--split test]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def token_lengths(tok) -> np.ndarray:
    return np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)], dtype=np.int64)


@torch.no_grad()
def evaluate(model, ids, tok_lens, seq=None, batch=8, max_tokens=None, progress=None):
    """Returns dict(bpb, top1, nll_bits, bytes, tokens, windows)."""
    model.eval()
    seq = seq or model.cfg.max_seq
    ids = np.asarray(ids, dtype=np.int64)
    if max_tokens is not None:
        ids = ids[: max_tokens + 1]
    n = ids.size - 1
    if n < 1:
        raise ValueError("evaluate: need at least two tokens")
    starts = list(range(0, n, seq))
    tot_bits, tot_bytes, tot_correct, tot_tok = 0.0, 0, 0, 0
    t0 = time.time()
    for bi in range(0, len(starts), batch):
        group = starts[bi: bi + batch]
        # pad the last (short) window group: evaluate short windows separately
        full = [s for s in group if s + seq <= n]
        short = [s for s in group if s + seq > n]
        for chunk, L in ((full, seq), *(([s], n - s) for s in short)):
            if not chunk:
                continue
            x = torch.from_numpy(np.stack([ids[s: s + L] for s in chunk]))
            y = torch.from_numpy(np.stack([ids[s + 1: s + L + 1] for s in chunk]))
            logits = model(x).float()
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
            tot_bits += nll.item() / math.log(2)
            tot_correct += (logits.argmax(-1) == y).sum().item()
            tot_tok += y.numel()
            tot_bytes += int(tok_lens[y.numpy()].sum())
        if progress:
            progress(min(bi + batch, len(starts)), len(starts), time.time() - t0)
    return {"bpb": tot_bits / tot_bytes, "top1": tot_correct / tot_tok,
            "nll_bits": tot_bits, "bytes": tot_bytes, "tokens": tot_tok,
            "bits_per_token": tot_bits / tot_tok, "windows": len(starts), "seq": seq}


def main(argv=None):
    from .corpus import DEFAULT_ROOT, encode_split
    from .model import load_model_dir
    from .tokenizer import load_tokenizer
    ap = argparse.ArgumentParser(prog="umbra_models.eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="directory with config.json, weights.npz, tokenizer.json")
    ap.add_argument("--split", default="test", choices=["train", "valid", "test"])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--seq", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-bytes", type=int, default=None, help="only the first whole files up to this many bytes")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write metrics JSON here")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = load_model_dir(a.model)
    tok = load_tokenizer(os.path.join(a.model, "tokenizer.json"))
    ids, nbytes = encode_split(tok, a.split, a.root, a.max_bytes)

    def prog(i, n, dt):
        print(f"\reval {i}/{n} windows {dt:.0f}s", end="", file=sys.stderr, flush=True)
    r = evaluate(model, ids, token_lengths(tok), a.seq, a.batch, progress=prog)
    print(file=sys.stderr)
    r.update({"split": a.split, "split_bytes": nbytes, "max_bytes": a.max_bytes})
    s = json.dumps(r, indent=2, sort_keys=True)
    print(s)
    if a.out:
        with open(a.out, "w") as f:
            f.write(s + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
