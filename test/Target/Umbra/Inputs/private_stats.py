"""Checks a run of export-private.mlir: what private instructions cost and
what P1 receives of the client's data, from mpc-run --stats; the results
against numpy.

Usage: private_stats.py PROGRAM.umbra X.npy OUT_DIR STATS_PREFIX
(STATS_PREFIX.{p0,p1,dealer}.json as written by mpc-run --local --stats).
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    program, x_path, out_dir, stats = sys.argv[1:5]
    dump = subprocess.check_output(
        [sys.executable, os.path.join(HERE, "dump_umbra.py"), program],
        universal_newlines=True)
    vis, op, inputs = {}, {}, {}
    for m in re.finditer(r"^instr (\d+): (\w+) \[([\d, ]*)\] .* vis=(\w+)$",
                         dump, re.M):
        i = int(m.group(1))
        op[i], vis[i] = m.group(2), m.group(4)
        inputs[i] = [int(s) for s in m.group(3).split(",") if s.strip()]
    slot_vis = dict((int(m.group(1)), m.group(2)) for m in re.finditer(
        r"^slot (\d+): .* (Public|Client|Owner|Shared)", dump, re.M))
    roles = ("p0", "p1", "dealer")
    runs = {r: json.load(open("%s.%s.json" % (stats[:-5] if
                                               stats.endswith(".json")
                                               else stats, r)))
            for r in roles}
    for holder in ("Client", "Owner"):
        for r in roles:
            mine = [s for s in runs[r]["instructions"]
                    if s["index"] >= 0 and s["op"] != "matmul-mask" and
                    vis[s["index"]] == holder]
            phases = sorted(set(s["phase"] for s in mine))
            print("%s %s: %d instructions%s, %d bytes, %d rounds, "
                  "%d dealer bytes" %
                  (holder.lower(), r, len(mine),
                   " (deploy)" if phases == ["deploy"] else "",
                   sum(s["bytes_sent"] + s["bytes_recv"] for s in mine),
                   sum(s["rounds"] for s in mine),
                   sum(s["dealer_bytes"] for s in mine)))
    shares = [s["bytes_recv"] for s in runs["p1"]["instructions"]
              if s["index"] >= 0 and op[s["index"]] == "Share" and
              slot_vis[inputs[s["index"]][0]] == "Client"]
    print("p1 receives the client's shares: %s" % shares)

    x = np.load(x_path)
    p = np.array([[1, 0, .5, 0], [0, 1, 0, -.5], [.5, 0, 1, 0],
                  [0, .25, 0, 1]])
    w = np.array([[1, 2, 3, 4], [.5, -1, .25, 0], [-1, 0, 1, 2]])
    # The client's work in the ring: 3 * x (exact), a floor-truncated
    # product with the public matrix, ReLU.
    xq = np.round(x * 2**16).astype(np.int64)
    pq = np.round(p * 2**16).astype(np.int64)
    fq = np.maximum((3 * xq) @ pq >> 16, 0)
    got = np.load(os.path.join(out_dir, "feature.npy"))
    assert np.array_equal(got * 2**16, fq), (got * 2**16 - fq)
    print("feature: exact fixed point")
    feature = np.maximum(3 * x @ p, 0)
    y = feature @ w.T + x[:, :3]
    err = np.abs(np.load(os.path.join(out_dir, "y.npy")) - y).max()
    assert err < 1e-3, err
    print("y: max error %.2g" % err)


if __name__ == "__main__":
    main()
