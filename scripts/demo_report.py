"""Prints what the Umbra demo measured: the prompt, the next tokens predicted
under MPC beside the plaintext model's, the logit error, and a table of time,
online bytes and rounds per op kind (from mpc-run's per-instruction stats).

  demo_report.py --model-dir DIR --dump-dir DIR --mpc-logits FILE --stats P0.json
  demo_report.py --model-dir DIR --generation GEN_DIR   (mpc-run --generate)
"""
import argparse
import collections
import json
import os
import sys

import numpy as np


def load_tokenizer(model_dir):
    path = os.path.join(model_dir or "", "tokenizer.json")
    if not model_dir or not os.path.exists(path):
        return None
    from umbra_models.tokenizer import load_tokenizer as load
    return load(path)


def show(tok, ids):
    if tok is None:
        return " ".join(str(i) for i in ids)
    return tok.decode(ids).decode("utf-8", "replace")


def generation_report(gen_dir, tok):
    """The continuation generated under MPC beside torch's, and each token's
    online cost at the client (P0) and the dealer's material."""
    prompt = np.load(os.path.join(gen_dir, "prompt_ids.npy"))[0].tolist()
    want = np.load(os.path.join(gen_dir, "expected_tokens.npy")).tolist()
    got = np.load(os.path.join(gen_dir, "mpc", "tokens.npy")).tolist()
    steps = json.load(open(os.path.join(gen_dir, "stats.p0.json")))["steps"]
    dealer = json.load(open(os.path.join(gen_dir, "stats.dealer.json")))["steps"]
    print("prompt (%d tokens):  %r" % (len(prompt), show(tok, prompt)))
    print("continuation under MPC (%d tokens):  %r" % (len(got), show(tok, got)))
    print("continuation by torch (greedy):      %r" % show(tok, want))
    print("token for token equal: %s (%d/%d)" %
          ("yes" if got == want else "NO", sum(a == b for a, b in zip(got, want)), len(want)))
    print()
    print("%-8s %8s %10s %12s %8s %14s" %
          ("token", "program", "context", "online MB", "rounds", "seconds (P0)"))
    for s in steps:
        print("%-8d %8s %10d %12.2f %8d %14.3f" %
              (s["token"] + 1, s["program"], s["context"],
               (s["online_bytes_sent"] + s["online_bytes_received"]) / 1e6, s["rounds"],
               s["seconds"]))
    dec = steps[1:]
    if dec:
        print("decode steps: %.2f MB and %d rounds on average, %.1fx fewer online bytes than "
              "the prefill; dealer material %.1f MB per decode step" %
              (sum(s["online_bytes_sent"] + s["online_bytes_received"] for s in dec) / len(dec) / 1e6,
               round(sum(s["rounds"] for s in dec) / len(dec)),
               (steps[0]["online_bytes_sent"] + steps[0]["online_bytes_received"]) /
               (sum(s["online_bytes_sent"] + s["online_bytes_received"] for s in dec) / len(dec)),
               sum(d["dealer_bytes"] for d in dealer[1:]) / len(dec) / 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--generation", default=None,
                    help="report a generation run (mpc-run --generate) in this directory")
    ap.add_argument("--dump-dir")
    ap.add_argument("--mpc-logits")
    ap.add_argument("--stats")
    ap.add_argument("--dealer-stats", default=None)
    ap.add_argument("--brief", action="store_true",
                    help="no prompt and no per-position table")
    a = ap.parse_args()

    tok = load_tokenizer(a.model_dir)
    if a.generation:
        return generation_report(a.generation, tok)
    if not (a.dump_dir and a.mpc_logits and a.stats):
        ap.error("--dump-dir, --mpc-logits and --stats are required without --generation")
    ids = np.load(os.path.join(a.dump_dir, "input_ids.npy"))[0]
    ref = np.load(os.path.join(a.dump_dir, "logits.npy"))[0]
    mpc = np.load(a.mpc_logits).reshape(ref.shape)
    top_ref, top_mpc = ref.argmax(-1), mpc.argmax(-1)

    if not a.brief:
        print("prompt (%d tokens):" % len(ids))
        print("    " + show(tok, ids.tolist()).replace("\n", "\n    "))
        print()
    print("next token after the prompt:  MPC %r   plaintext %r" %
          (show(tok, [int(top_mpc[-1])]), show(tok, [int(top_ref[-1])])))
    # One row per position with logits (one with a next-token-only export).
    print("top-1 agreement over all %d positions with logits: %d/%d" %
          (len(top_ref), int((top_ref == top_mpc).sum()), len(top_ref)))
    print("max |logit MPC - plaintext| = %.4f (max |logit| %.1f)" %
          (float(np.abs(mpc - ref).max()), float(np.abs(ref).max())))
    for p in range(0 if a.brief else len(top_ref)):
        if p == 0:
            print()
            print("predicted next token at each position (MPC | plaintext):")
        mark = " " if top_ref[p] == top_mpc[p] else "*"
        print("  %2d %-12r %-12r %s" % (p, show(tok, [int(top_mpc[p])]),
                                        show(tok, [int(top_ref[p])]), mark))

    stats = json.load(open(a.stats))
    kinds = collections.OrderedDict()
    for ins in stats["instructions"]:
        if ins["phase"] != "inference":
            continue
        k = kinds.setdefault(ins["op"], [0, 0.0, 0, 0, 0])
        k[0] += 1
        k[1] += ins["seconds"]
        k[2] += ins["bytes_sent"] + ins["bytes_recv"]
        k[3] += ins["rounds"]
        k[4] += ins["dealer_bytes"]
    print()
    print("online phase at P0, per op kind (bytes = sent + received; dealer ="
          " correlated randomness P0 received for it):")
    print("  %-12s %6s %10s %14s %7s %14s" % ("op", "count", "seconds", "bytes",
                                            "rounds", "dealer bytes"))
    for op, (n, sec, by, rd, de) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
        print("  %-12s %6d %10.3f %14d %7d %14d" % (op, n, sec, by, rd, de))
    for phase, p in stats["phases"].items():
        print("  phase %-9s %.3f s, %d B sent, %d B received, %d rounds, "
              "dealer material %d B" % (phase, p["seconds"], p["bytes_sent"],
                                        p["bytes_recv"], p["rounds"], p["dealer_bytes"]))
    if a.dealer_stats and os.path.exists(a.dealer_stats):
        d = json.load(open(a.dealer_stats))
        total = sum(p["dealer_bytes"] for p in d["phases"].values())
        print("  dealer produced %d B of correlated randomness (offline)" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
