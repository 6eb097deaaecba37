"""Numerically checks the imported ONNX backend node tests through the
runtime's float reference executor.

Usage: check_node_tests.py LIST [DATA_DIR]

For every test in LIST (the tests the importer supports): compile model.onnx
with `mpc-compile --frac-bits 16` (import, tfm-fuse, lowering, export; the
test's inputs are the client's), run the artifact with `mpc-run --reference`
(both through python/umbra_models/reference.py: tools from $UMBRA_BUILD_DIR
or PATH) on test_data_set_0's inputs and compare with its expected outputs:

    |ref - expected| <= ATOL + RTOL * |expected|   (elementwise)

ATOL = 1e-5, RTOL = 1e-4, the tolerance of the float check this replaces;
4e-4 and 4e-4 for the ops lowered through approximations (APPROXIMATED).
The reference executes the compiled program exactly in the ring (inputs
rounded to 2^-16, a truncation after a product is a floor) and its
non-linear kernels exactly (exp, 1/x, 1/sqrt x); on these small O(1) tests
every listed test also passes at half an ulp (2^-17) + 2^-14 relative. A
float16 expected output went through float16 rounding, which the program's
Cast (the identity on fixed-point values) does not do: the result is rounded
to float16 before the comparison. A test
that mpc-compile rejects with a documented limitation of the lowering (the
op or this use of it has no MPC form; the same list as
test/Conformance/conformance.py) is counted, with its reason, as "no MPC
form"; any other compile or run error, or a mismatch, is a failure.
Prints one line per failure, the "no MPC form" reasons with their counts
and a summary.
"""
import collections
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Conformance"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
import node_tests  # noqa: E402
from conformance import (NO_MPC_FORM, UPSTREAM_DATA_ERRORS,  # noqa: E402
                         first_error)
from umbra_models.reference import ToolError, compile_onnx, run_reference  # noqa: E402

FRAC_BITS = 16
ATOL = 1e-5
RTOL = 1e-4
# Ops lowered through a fitted polynomial or a table of binades (docs/import.md,
# "Lowerings of ops on secret data"): the reference evaluates the same
# approximation exactly, whose documented error is below 2e-4 (absolute up
# to 1, relative above): the bound of test/Conformance/conformance.py.
APPROXIMATED = {"Sigmoid", "Tanh", "Erf", "Softplus", "Exp", "Log", "Pow",
                "Gelu", "Div", "Reciprocal", "Sqrt", "ReduceL2",
                # recurrent layers: sigmoid and tanh gates
                "RNN", "GRU", "LSTM"}
APPROX_ATOL, APPROX_RTOL = 4e-4, 4e-4
# Tests whose stored outputs are printed to fewer decimals than the check
# resolves: half a unit of the last stored decimal joins the absolute bound
# (test_gridsample_bicubic stores 5.1445 for the exact 5.14453125).
STORED_DECIMALS = {"test_gridsample_bicubic": 4,
                   "test_roialign_aligned_false": 4,
                   "test_roialign_aligned_true": 4}


def no_mpc_form(msg):
    for pat, why in NO_MPC_FORM:
        m = pat.search(msg)
        if m:
            return why(m)
    return None


def check(name, d, work):
    """None if the test matches, else (kind, detail); kind is "no MPC form"
    or "FAIL"."""
    model = node_tests.load_model(d)
    names, inputs, outputs = node_tests.load_data_set(
        model, os.path.join(d, "test_data_set_0"))
    if any(np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x))
           for x in inputs):
        return ("no MPC form", "non-finite data (inf/NaN has no fixed-point "
                "form)")
    art = os.path.join(work, name + ".umbra")
    try:
        compile_onnx(os.path.join(d, "model.onnx"), art,
                     ["--frac-bits", str(FRAC_BITS)])
    except ToolError as e:
        msg = first_error(e.stderr)
        why = no_mpc_form(msg)
        if why is None and "has no fixed-point form" in msg:
            why = "a non-real (integer or bool) output"
        if why is None and "cannot be used as a real value" in msg:
            why = "real arithmetic on an integer input"
        return ("no MPC form", why) if why else ("FAIL", "mpc-compile: " + msg)
    feed = {n: x.astype(np.float64 if np.issubdtype(x.dtype, np.floating)
                        else np.int64) for n, x in zip(names, inputs)}
    try:
        got_all = run_reference(art, feed, os.path.join(work, name),
                                drop_unused=True)
    except ToolError as e:
        msg = first_error(e.stderr)
        return "FAIL", "mpc-run --reference: " + msg
    for v, want in zip(model.graph.output, outputs):
        if v.name not in got_all:
            return "FAIL", f"no output '{v.name}'"
        got = got_all[v.name].astype(np.float64)
        if got.size != want.size:
            return "FAIL", f"output '{v.name}': {got.shape} vs {want.shape}"
        got = got.reshape(want.shape)
        if want.dtype == np.float16:
            # The program's Cast to float16 is the identity on fixed-point
            # values; the stored output went through float16 rounding.
            got = got.astype(np.float16)
        want = want.astype(np.float64)
        err = np.abs(got.astype(np.float64) - want)
        approx = any(n.op_type in APPROXIMATED for n in model.graph.node)
        atol, rtol = (APPROX_ATOL, APPROX_RTOL) if approx else (ATOL, RTOL)
        if name in STORED_DECIMALS:
            atol += 0.5 * 10.0 ** -STORED_DECIMALS[name]
        bound = atol + rtol * np.abs(want)
        if err.size and (err > bound).any():
            return "FAIL", (f"MISMATCH output '{v.name}': max |error| "
                            f"{err.max():.3g}, {(err / bound).max():.3g}x the bound")
    return None


def main():
    listing = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else node_tests.DATA_DIR
    names = node_tests.read_list(listing)
    checked = skipped = bad = 0
    reasons = collections.Counter()
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            if "BFLOAT16" in name:
                skipped += 1  # numpy has no bfloat16
                continue
            # Stored outputs that do not follow from the model (the
            # reason is conformance.py's) are counted with the reason.
            res = (("no MPC form", "stored outputs that do not follow from "
                    "the model (test/Conformance/conformance.py)")
                   if name in UPSTREAM_DATA_ERRORS else
                   check(name, os.path.join(data, name), work))
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
    return int(bad > 0)


if __name__ == "__main__":
    sys.exit(main())
