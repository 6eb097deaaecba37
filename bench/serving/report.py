"""Summarises bench/serving/run.sh as the markdown table of
docs/benchmarks.md: per generated token of the decode steps (averaged) and
for the prefill, P0's online bytes with P1 (sent + received), rounds and
seconds, the dealer's bytes and the client's bytes, in the two-party mode
(the client is P0) and in the outsourced mode (a thin client and serving
P0, P1 and dealer); then the wall time of a session and the tokens per
second of one client and of two at once over one deployment.

  /usr/bin/python3 bench/serving/report.py WORK_DIR
"""
import glob
import json
import os
import re
import sys


def steps(path):
    return json.load(open(path))["steps"]


def wall(work, name):
    return float(open(os.path.join(work, f"{name}.wall")).read().split()[1])


def session_of(work, tag):
    m = re.search(r"session ([0-9a-f]{8})", open(os.path.join(work, f"{tag}.log")).read())
    return m.group(1)


def costs(p0, dealer, client=None):
    """Prefill and mean decode-step costs; P0's bytes with P1 exclude its
    traffic with the client (the client's sent, and one share per reveal)."""
    def one(k):
        c = client[k] if client else None
        with_client = 0
        if c:
            with_client = c["online_bytes_sent"] + c["online_bytes_received"] // 2
        return {"bytes": p0[k]["online_bytes_sent"] + p0[k]["online_bytes_received"] - with_client,
                "rounds": p0[k]["rounds"], "seconds": p0[k]["seconds"],
                "dealer": dealer[k]["dealer_bytes"],
                "client": (c["online_bytes_sent"] + c["online_bytes_received"]) if c else 0}
    pre = one(0)
    dec = [one(k) for k in range(1, len(p0))]
    mean = {key: sum(d[key] for d in dec) / len(dec) for key in dec[0]}
    return pre, mean


def main(work):
    tp = costs(steps(f"{work}/two-party.p0.json"), steps(f"{work}/two-party.dealer.json"))
    sid = session_of(work, "one")
    out = costs(steps(f"{work}/serve.p0.{sid}.json"), steps(f"{work}/serve.dealer.{sid}.json"),
                steps(f"{work}/one.json"))
    n = len(steps(f"{work}/one.json"))
    rows = [("prefill (16 tokens)", tp[0], out[0]), ("decode step (mean of 15)", tp[1], out[1])]
    print("| per token | mode | P0-P1 online bytes | rounds | seconds | dealer bytes | client bytes |")
    print("|---|---|---|---|---|---|---|")
    for name, a, b in rows:
        for mode, r in (("two-party", a), ("outsourced", b)):
            print(f"| {name} | {mode} | {r['bytes']:,.0f} | {r['rounds']:.0f} | "
                  f"{r['seconds']:.3f} | {r['dealer']:,.0f} | {r['client']:,.0f} |")
    print()
    one, two = wall(work, "one"), wall(work, "two")
    two_party = wall(work, "two-party")
    print("| sessions | wall seconds | tokens per second |")
    print("|---|---|---|")
    print(f"| two-party, one session (--local: connects and deploys) | {two_party:.2f} | "
          f"{n / two_party:.1f} |")
    print(f"| outsourced, one client (deployment already made) | {one:.2f} | {n / one:.1f} |")
    print(f"| outsourced, two clients at once | {two:.2f} | {2 * n / two:.1f} |")
    dep = [l for l in open(f"{work}/p0.log") if "deployed in" in l][0].strip()
    print(f"\nServers' one deployment: {dep}")


if __name__ == "__main__":
    main(sys.argv[1])
