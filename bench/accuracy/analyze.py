"""Accuracy of MPC logits against torch's: relative error (max |MPC - torch|
/ max |torch|), systematic bias (the least-squares slope of MPC - torch
against torch, and the mean error), top-1 agreement per position.

  analyze.py --ref torch/logits.npy --mpc mpc/logits.npy [--name NAME]
      [--max-rel R] [--max-slope S] [--min-top1 K]

With the --max-*/--min-* bounds it exits 1 when one is not met (the ctest
check uses them); it always prints one line per model.
"""
import argparse
import sys

import numpy as np


def measure(ref, mpc):
    ref = ref.astype(np.float64)
    mpc = mpc.astype(np.float64).reshape(ref.shape)
    err = mpc - ref
    t = ref.ravel() - ref.mean()
    slope = float((t * (err.ravel() - err.mean())).sum() / (t * t).sum())
    rows = ref.reshape(-1, ref.shape[-1])
    top_ref = rows.argmax(-1)
    top_mpc = mpc.reshape(rows.shape).argmax(-1)
    return {
        "rel": float(np.abs(err).max() / np.abs(ref).max()),
        "max_abs": float(np.abs(err).max()),
        "max_logit": float(np.abs(ref).max()),
        "slope": slope,
        "mean_err": float(err.mean()),
        "top1": int((top_ref == top_mpc).sum()),
        "positions": int(len(top_ref)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--mpc", required=True)
    ap.add_argument("--name", default="model")
    ap.add_argument("--max-rel", type=float)
    ap.add_argument("--max-slope", type=float)
    ap.add_argument("--min-top1", type=int, help="-1: every position")
    a = ap.parse_args()
    m = measure(np.load(a.ref), np.load(a.mpc))
    print("%-28s rel error %.3e (max |err| %.4g, max |logit| %.4g)  slope %+.2e  "
          "mean err %+.2e  top-1 %d/%d" % (a.name, m["rel"], m["max_abs"], m["max_logit"],
                                           m["slope"], m["mean_err"], m["top1"], m["positions"]))
    bad = []
    if a.max_rel is not None and not m["rel"] <= a.max_rel:
        bad.append("rel error %.3e > %.3e" % (m["rel"], a.max_rel))
    if a.max_slope is not None and not abs(m["slope"]) <= a.max_slope:
        bad.append("|slope| %.2e > %.2e" % (abs(m["slope"]), a.max_slope))
    if a.min_top1 is not None:
        need = m["positions"] if a.min_top1 < 0 else a.min_top1
        if m["top1"] < need:
            bad.append("top-1 %d/%d < %d" % (m["top1"], m["positions"], need))
    for b in bad:
        print("FAIL %s: %s" % (a.name, b), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
