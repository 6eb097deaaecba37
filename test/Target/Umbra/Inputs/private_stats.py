"""Checks a run of export-private.mlir: what private instructions cost and
what P1 receives of the client's data, from mpc-run --stats; the results
against numpy.

Usage: private_stats.py DUMP.json X.npy OUT_DIR STATS_PREFIX
(DUMP.json as written by mpc-run PROGRAM --dump --json, the only way Python
reads an artifact; STATS_PREFIX.{p0,p1,dealer}.json as written by mpc-run
--local --stats).
"""
import json
import os
import sys

import numpy as np


def main():
    dump_path, x_path, out_dir, stats = sys.argv[1:5]
    dump = json.load(open(dump_path))
    instrs = dump["instructions"]
    vis = {i["index"]: i["visibility"] for i in instrs}
    op = {i["index"]: i["op"] for i in instrs}
    inputs = {i["index"]: i["inputs"] for i in instrs}
    slot_vis = {s["index"]: s["visibility"] for s in dump["slots"]}
    roles = ("p0", "p1", "dealer")
    runs = {r: json.load(open("%s.%s.json" % (stats[:-5] if
                                               stats.endswith(".json")
                                               else stats, r)))
            for r in roles}
    for holder in ("client", "owner"):
        for r in roles:
            mine = [s for s in runs[r]["instructions"]
                    if s["index"] >= 0 and s["op"] != "matmul-mask" and
                    vis[s["index"]] == holder]
            phases = sorted(set(s["phase"] for s in mine))
            print("%s %s: %d instructions%s, %d bytes, %d rounds, "
                  "%d dealer bytes" %
                  (holder, r, len(mine),
                   " (deploy)" if phases == ["deploy"] else "",
                   sum(s["bytes_sent"] + s["bytes_recv"] for s in mine),
                   sum(s["rounds"] for s in mine),
                   sum(s["dealer_bytes"] for s in mine)))
    shares = [s["bytes_recv"] for s in runs["p1"]["instructions"]
              if s["index"] >= 0 and op[s["index"]] == "share" and
              slot_vis[inputs[s["index"]][0]] == "client"]
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
