"""Summarises bench/generation/run.sh's statistics as the markdown table of
docs/benchmarks.md: per token, online bytes (P0's sent + received on the
P0-P1 link), rounds, seconds at P0 and dealer bytes, for the prefill of 32
tokens, decode steps at contexts 64 and 128, and the same token recomputed
from the whole prefix (a forward over 65 and 129 tokens), with both
comparison protocols, and a projection of the online latency to a LAN and a
WAN from the measured bytes and rounds:
    seconds + rounds * one-way latency + bytes / bandwidth
(the measured loopback seconds stand for the computation).

  /usr/bin/python3 bench/generation/report.py WORK_DIR
"""
import json
import os
import sys

NETS = {"LAN (1 ms, 1 Gbit/s)": (1e-3, 1e9 / 8), "WAN (40 ms, 100 Mbit/s)": (40e-3, 100e6 / 8)}


def steps(path):
    return json.load(open(path))["steps"]


def row(s):
    return {"bytes": s["online_bytes_sent"] + s["online_bytes_received"], "rounds": s["rounds"],
            "seconds": s["seconds"], "dealer": s["dealer_bytes"]}


def main(work):
    out = []
    for cmp in ("bits", "dcf"):
        p0 = steps(os.path.join(work, "gen", f"stats-{cmp}.p0.json"))
        dealer = steps(os.path.join(work, "gen", f"stats-{cmp}.dealer.json"))
        by_ctx = {s["context"]: (s, d) for s, d in zip(p0[1:], dealer[1:])}
        def with_dealer(s, d):
            r = row(s)
            r["dealer"] = d["dealer_bytes"]
            return r
        rows = [("prefill, 32 tokens", with_dealer(p0[0], dealer[0]))]
        for ctx, rec in ((64, "recompute65"), (128, "recompute129")):
            rows.append((f"decode step, context {ctx}", with_dealer(*by_ctx[ctx])))
            rp = steps(os.path.join(work, rec, f"stats-{cmp}.p0.json"))[0]
            rd = steps(os.path.join(work, rec, f"stats-{cmp}.dealer.json"))[0]
            rows.append((f"recompute the prefix ({ctx + 1} tokens)", with_dealer(rp, rd)))
        out.append(f"\n**{cmp} comparisons**\n")
        head = "| per token | online bytes | rounds | seconds (loopback) | dealer bytes | " + \
            " | ".join(f"projected s, {n}" for n in NETS) + " |"
        out.append(head)
        out.append("|" + "---|" * (5 + len(NETS)))
        for name, r in rows:
            proj = [r["seconds"] + r["rounds"] * lat + r["bytes"] / bw for lat, bw in NETS.values()]
            out.append(f"| {name} | {r['bytes'] / 1e6:,.1f} MB | {r['rounds']:,} | {r['seconds']:.2f} | "
                       f"{r['dealer'] / 1e6:,.0f} MB | " + " | ".join(f"{p:.2f}" for p in proj) + " |")
        for ctx in (64, 128):
            d = dict(rows)[f"decode step, context {ctx}"]
            rc = dict(rows)[f"recompute the prefix ({ctx + 1} tokens)"]
            out.append(f"\ncontext {ctx}: recomputing costs {rc['bytes'] / d['bytes']:.1f}x the "
                       f"online bytes, {rc['rounds'] / d['rounds']:.2f}x the rounds, "
                       f"{rc['seconds'] / d['seconds']:.1f}x the seconds and "
                       f"{rc['dealer'] / d['dealer']:.1f}x the dealer bytes of a decode step")
        pre = dict(rows)["prefill, 32 tokens"]
        worst = max(r["rounds"] for s, r in zip(p0[1:], p0[1:]) for r in [row(s)])
        out.append(f"rounds: prefill {pre['rounds']:,}; decode steps {min(row(s)['rounds'] for s in p0[1:]):,}"
                   f" to {worst:,} (contexts {p0[1]['context']} to {p0[-1]['context']})")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/umbra-bench-generation")
