"""Evaluation: bits per byte and top-1 next-token accuracy.

The split's token stream (files concatenated in path order) is cut into
windows of ``seq`` targets: inputs ids[s:s+seq], targets ids[s+1:s+seq+1].
Default: non-overlapping (s = 0, seq, 2*seq, ...), so a target has between
0 and seq-1 tokens of context. With --stride k < seq, windows start every k
tokens and only targets not scored before count, so every target after the
first window has at least seq-k tokens of context. Either way every token
but the first is scored exactly once.
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


def windows(n, seq, stride=None):
    """(start, length, first scored offset) triples covering targets 1..n once."""
    stride = stride or seq
    if not 0 < stride <= seq:
        raise ValueError("need 0 < stride <= seq")
    out, covered, s = [], 0, 0
    while covered < n:
        L = min(seq, n - s)
        off = covered - s  # targets s+1..s+off already scored
        out.append((s, L, off))
        covered = s + L
        s += stride
    return out


@torch.no_grad()
def evaluate(model, ids, tok_lens, seq=None, batch=8, max_tokens=None, progress=None, stride=None):
    """Returns dict(bpb, top1, nll_bits, bytes, tokens, windows).

    stride=None: non-overlapping windows. stride < seq: windows start every
    ``stride`` tokens and only targets not scored by an earlier window count
    (each scored target then has at least seq - stride tokens of context)."""
    model.eval()
    seq = seq or model.cfg.max_seq
    ids = np.asarray(ids, dtype=np.int64)
    if max_tokens is not None:
        ids = ids[: max_tokens + 1]
    n = ids.size - 1
    if n < 1:
        raise ValueError("evaluate: need at least two tokens")
    wins = windows(n, seq, stride)
    groups = {}
    for w in wins:
        groups.setdefault(w[1], []).append(w)
    tot_bits, tot_bytes, tot_correct, tot_tok = 0.0, 0, 0, 0
    t0, done = time.time(), 0
    for L, ws in groups.items():
        for bi in range(0, len(ws), batch):
            chunk = ws[bi: bi + batch]
            x = torch.from_numpy(np.stack([ids[s: s + L] for s, _, _ in chunk]))
            y = torch.from_numpy(np.stack([ids[s + 1: s + L + 1] for s, _, _ in chunk]))
            logp = torch.log_softmax(model(x).float(), dim=-1)
            nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)  # [B, L]
            correct = logp.argmax(-1) == y
            keep = torch.zeros_like(y, dtype=torch.bool)
            for r, (_, _, off) in enumerate(chunk):
                keep[r, off:] = True
            tot_bits += nll[keep].sum().item() / math.log(2)
            tot_correct += correct[keep].sum().item()
            tot_tok += int(keep.sum().item())
            tot_bytes += int(tok_lens[y[keep].numpy()].sum())
            done += len(chunk)
            if progress:
                progress(done, len(wins), time.time() - t0)
    assert tot_tok == n
    return {"bpb": tot_bits / tot_bytes, "top1": tot_correct / tot_tok,
            "nll_bits": tot_bits, "bytes": tot_bytes, "tokens": tot_tok,
            "bits_per_token": tot_bits / tot_tok, "windows": len(wins), "seq": seq,
            "stride": stride or seq}


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
    ap.add_argument("--stride", type=int, default=None, help="sliding windows (default: non-overlapping)")
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
    r = evaluate(model, ids, token_lengths(tok), a.seq, a.batch, progress=prog, stride=a.stride)
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
