"""The tables of bench/marill/run.sh: bench/marill/report.py WORK T [T ...]

Per T: each variant's online bytes (P0 sent + received), rounds and seconds
of the inference phase (P0's --stats; seconds: median over the runs, min
in brackets), dealer material, the ratios standard / variant, the MPC
logits' max error against torch and top-1 agreement; then the quality on
the shifted task (bpb, top-1 on the whole test split; the gain over the
base and its share of standard fine-tuning's gain). Marill's targets for
the combination: >= 3.6x faster, >= 2.4x less online communication, >= 90 %
of standard fine-tuning's quality gain."""
import glob
import json
import os
import statistics
import sys

import numpy as np


def load(p):
    with open(p) as f:
        return json.load(f)


def mpc(d):
    runs = sorted(glob.glob(os.path.join(d, "stats-*.p0.json")))
    if not runs:
        return None
    st = [load(r) for r in runs]
    inf = [s["phases"]["inference"] for s in st]
    secs = [i["seconds"] for i in inf]
    out = {"bytes": inf[0]["bytes_sent"] + inf[0]["bytes_recv"], "rounds": inf[0]["rounds"],
           "seconds": statistics.median(secs), "seconds_min": min(secs), "runs": len(secs),
           "dealer": inf[0]["dealer_bytes"],
           "bytes_same": len({i["bytes_sent"] + i["bytes_recv"] for i in inf}) == 1}
    got = os.path.join(d, "out", "logits.npy")
    want = os.path.join(d, "torch.npy")
    if os.path.exists(got) and os.path.exists(want):
        g, w = np.load(got), np.load(want)
        out["err"] = float(np.abs(g - w).max())
        out["top1"] = f"{int((g.argmax(-1) == w.argmax(-1)).sum())}/{g.shape[1]}"
        bad = np.nonzero(g[0].argmax(-1) != w[0].argmax(-1))[0]
        if bad.size:  # torch's top-2 gap where MPC's top-1 differs: a near tie?
            srt = np.sort(w[0, bad], -1)
            out["top1"] += f" (torch top-2 gap there: {float((srt[:, -1] - srt[:, -2]).max()):.3f})"
    pub = 0
    leak = os.path.join(d, "leakage.txt")
    if os.path.exists(leak):
        for line in open(leak):
            if line.startswith("public weights the user marked public:"):
                pub = int(line.split(":")[1])
    out["public"] = pub
    return out


def main():
    work, Ts = sys.argv[1], sys.argv[2:]
    runs = os.path.join(work, "runs")
    names = [n for n in ["standard", "frozen", "lora", "merge", "combo", "combo-sum"]
             if os.path.isdir(os.path.join(runs, n))]
    names += sorted(n for n in os.listdir(runs) if os.path.isdir(os.path.join(runs, n))
                    and n not in names)
    met = {n: load(os.path.join(runs, n, "metrics.json")) for n in names}
    flags = {n: open(os.path.join(runs, n + ".flags")).read().strip()
             if os.path.exists(os.path.join(runs, n + ".flags")) else "" for n in names}
    std = met.get("standard")
    out = []
    w = out.append
    commit = open(os.path.join(work, "commit.txt")).read().strip() \
        if os.path.exists(os.path.join(work, "commit.txt")) else "?"
    some = next(iter(met.values()))
    w(f"# Marill fine-tuning of gpt2-l4-d256 (commit {commit})\n")
    targs = load(os.path.join(runs, names[0], "train_log.json"))["args"]
    w(f"Every variant: {targs['steps']} steps x {targs['batch']} x {targs['seq']} tokens, lr "
      f"{targs['lr']} (warmup {targs['warmup']}, cosine), seed {targs['seed']}, from "
      f"fixtures/gpt2-l4-d256, on the train split of {targs['shift_root']} (*.py; corpus split "
      f"rule). Quality: bits/byte and top-1 on its whole test split "
      f"({some['base']['shift_test']['bytes']} bytes, windows of "
      f"{some['base']['shift_test']['seq']} tokens).\n")
    w("## Quality on the shifted task\n")
    w("| variant | options | heads | trained params | delta (fp16) | bpb | top-1 | gain (bpb) | "
      "% of standard gain | stdlib bpb |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    b = some["base"]
    w(f"| base | (public) | 4,4,4,4 | 0 | 0 | {b['shift_test']['bpb']:.4f} | "
      f"{b['shift_test']['top1']:.4f} | 0 | 0 % | {b.get('stdlib_test_subset', {}).get('bpb', float('nan')):.4f} |")
    for n in names:
        m = met[n]
        f = m["finetuned"]
        share = 100 * m["gain_bpb"] / std["gain_bpb"] if std else float("nan")
        delta = os.path.getsize(os.path.join(runs, n, "delta.npz"))
        w(f"| {n} | `{flags[n] or '(all weights)'}` | {','.join(map(str, m['heads']))} | "
          f"{m['trained_parameters']} | {delta / 1e6:.2f} MB | {f['shift_test']['bpb']:.4f} | "
          f"{f['shift_test']['top1']:.4f} | {m['gain_bpb']:.4f} | {share:.1f} % | "
          f"{f.get('stdlib_test_subset', {}).get('bpb', float('nan')):.4f} |")
    w("")
    for T in Ts:
        d = os.path.join(work, f"T{T}")
        rows = {n: mpc(os.path.join(d, n)) for n in ["base"] + names}
        ref = rows.get("standard") or rows.get("base")
        w(f"## Under 2PC, T = {T} tokens (mpc-run --local, P0's inference phase)\n")
        w("| variant | public weights | online bytes | rounds | seconds (median [min]) | dealer "
          "material | bytes std/x | rounds std/x | time std/x | max err | top-1 |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, r in rows.items():
            if r is None:
                continue
            note = "" if r["bytes_same"] else " (varies)"
            label = "base (every weight the owner's)" if n == "base" else n
            w(f"| {label} | {r['public']} | "
              f"{r['bytes'] / 1e6:.2f} MB{note} | {r['rounds']} | {r['seconds']:.3f} "
              f"[{r['seconds_min']:.3f}] | {r['dealer'] / 1e6:.1f} MB | "
              f"{ref['bytes'] / r['bytes']:.2f}x | {ref['rounds'] / r['rounds']:.2f}x | "
              f"{ref['seconds'] / r['seconds']:.2f}x | {r.get('err', float('nan')):.4f} | "
              f"{r.get('top1', '?')} |")
        w("")
        for c in [n for n in names if n.startswith("combo")]:
            if rows.get(c) and std:
                r = rows[c]
                share = 100 * met[c]["gain_bpb"] / std["gain_bpb"]
                w(f"Marill's targets, {c} at T = {T}: time {ref['seconds'] / r['seconds']:.2f}x "
                  f"(target >= 3.6x: {'met' if ref['seconds'] / r['seconds'] >= 3.6 else 'not met'}), "
                  f"online bytes {ref['bytes'] / r['bytes']:.2f}x (target >= 2.4x: "
                  f"{'met' if ref['bytes'] / r['bytes'] >= 2.4 else 'not met'}), quality gain kept "
                  f"{share:.1f} % (target >= 90 %: {'met' if share >= 90 else 'not met'}).\n")
    lp = os.path.join(work, "load.txt")
    if os.path.exists(lp):
        loads = [float(l.split(":")[1].split()[0]) for l in open(lp) if ":" in l]
        if loads:
            w(f"Load average (1 min) during the runs: {min(loads):.2f} to {max(loads):.2f} "
              f"(seconds are wall time of a shared machine; bytes and rounds are exact).")
    print("\n".join(out))


if __name__ == "__main__":
    main()
