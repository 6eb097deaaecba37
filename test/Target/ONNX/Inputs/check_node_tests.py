"""Numerically checks the imported ONNX backend node tests through the
runtime's float reference executor.

Usage: check_node_tests.py MPC_COMPILE MPC_RUN LIST [DATA_DIR]

For every test in LIST (the tests the importer supports): compile model.onnx
with `mpc-compile --frac-bits 16` (import, tfm-fuse, lowering, export; the
test's inputs are the client's), run the artifact with `mpc-run --reference`
on test_data_set_0's inputs and compare with its expected outputs:

    |ref - expected| <= ATOL + RTOL * |expected|   (elementwise)

ATOL = 4 * 2^-16: the reference executes the compiled program exactly in the
ring (inputs rounded to 2^-16, <= 0.5 ulp each; a truncation after a
product is a floor, < 1 ulp) and its non-linear kernels exactly (exp, 1/x,
1/sqrt x), so a node test's few steps on O(1) data stay within a few ulp;
RTOL = 2^-13 covers the encoding error times a large operand and float32 /
float16 rounding of the stored outputs (float16 outputs: 2^-10). A test
that mpc-compile rejects with a documented limitation of the lowering (the
op or this use of it has no MPC form; the same list as
test/Conformance/conformance.py) is counted, with its reason, as "no MPC
form"; any other compile or run error, or a mismatch, is a failure.
Prints one line per failure, the "no MPC form" reasons with their counts
and a summary.
"""
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Conformance"))
import node_tests  # noqa: E402
from conformance import NO_MPC_FORM, first_error  # noqa: E402

FRAC_BITS = 16
ATOL = 4 * 2.0 ** -FRAC_BITS
RTOL = 2.0 ** -13
FLOAT16_RTOL = 2.0 ** -10


def no_mpc_form(msg):
    for pat, why in NO_MPC_FORM:
        m = pat.search(msg)
        if m:
            return why(m)
    return None


def run_reference(tool, art, names, inputs, out_dir):
    """mpc-run --reference; an input the program does not read has no slot
    (CastLike's `like`: only its type matters) and is dropped."""
    feed = dict(zip(names, inputs))
    while True:
        cmd = [tool, art, "--reference", "-o", out_dir]
        for k, (n, x) in enumerate(feed.items()):
            p = os.path.join(out_dir, f"input_{k}.npy")
            np.save(p, x.astype(np.float64 if np.issubdtype(x.dtype, np.floating)
                                else np.int64))
            cmd += ["-i", f"{n}={p}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        unused = [n for n in feed if f"program has no slot named '{n}'" in r.stderr]
        if r.returncode == 0 or not unused:
            return r
        del feed[unused[0]]


def check(a_compile, a_run, name, d, work):
    """None if the test matches, else (kind, detail); kind is "no MPC form"
    or "FAIL"."""
    model = node_tests.load_model(d)
    names, inputs, outputs = node_tests.load_data_set(
        model, os.path.join(d, "test_data_set_0"))
    art = os.path.join(work, name + ".umbra")
    r = subprocess.run([a_compile, os.path.join(d, "model.onnx"), "--frac-bits",
                        str(FRAC_BITS), "-o", art], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        msg = first_error(r.stderr)
        why = no_mpc_form(msg)
        if why is None and "has no fixed-point form" in msg:
            why = "a non-real (integer or bool) output"
        return ("no MPC form", why) if why else ("FAIL", "mpc-compile: " + msg)
    out_dir = os.path.join(work, name)
    os.makedirs(out_dir)
    r = run_reference(a_run, art, names, inputs, out_dir)
    if r.returncode != 0:
        return "FAIL", "mpc-run --reference: " + first_error(r.stderr)
    for v, want in zip(model.graph.output, outputs):
        p = os.path.join(out_dir, v.name + ".npy")
        if not os.path.exists(p):
            return "FAIL", f"no output '{v.name}'"
        got = np.load(p).astype(np.float64)
        if got.size != want.size:
            return "FAIL", f"output '{v.name}': {got.shape} vs {want.shape}"
        rtol = FLOAT16_RTOL if want.dtype == np.float16 else RTOL
        want = want.astype(np.float64)
        err = np.abs(got.reshape(want.shape) - want)
        bound = ATOL + rtol * np.abs(want)
        if err.size and (err > bound).any():
            return "FAIL", (f"MISMATCH output '{v.name}': max |error| "
                            f"{err.max():.3g}, {(err / bound).max():.3g}x the bound")
    return None


def main():
    a_compile, a_run, listing = sys.argv[1:4]
    data = sys.argv[4] if len(sys.argv) > 4 else node_tests.DATA_DIR
    names = node_tests.read_list(listing)
    checked = skipped = bad = 0
    reasons = collections.Counter()
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            if "BFLOAT16" in name:
                skipped += 1  # numpy has no bfloat16
                continue
            res = check(a_compile, a_run, name, os.path.join(data, name), work)
            if res is None:
                checked += 1
            elif res[0] == "no MPC form":
                reasons[res[1]] += 1
            else:
                bad += 1
                print(f"FAILED: {name}: {res[1]}")
    for why, n in sorted(reasons.items()):
        print(f"no MPC form ({n}): {why}")
    print(f"checked {checked} of {len(names)} (no MPC form "
          f"{sum(reasons.values())}, skipped {skipped} bfloat16), failures {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
