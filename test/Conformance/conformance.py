"""ONNX backend node tests end to end under 2PC (issue 4, conformance).

Usage:
  conformance.py --mpc-compile PATH --mpc-run PATH --mpc-translate PATH
                 [--data DIR] [--work DIR] [--tests a,b,...] [--jobs 2]
                 [--json results.json] [--write-doc docs/conformance.md]

For every node test of Debian's libonnx-testdata (default
/usr/share/libonnx-testdata/data/node): decide whether it is applicable,
and if it is, compile model.onnx with `mpc-compile --compile-to=artifact
--outsourced` (graph inputs are the client's private inputs, secret-shared
to P0 and P1 at once, so that every op runs under the 2PC protocols rather
than in the client's plaintext), write each data set's
inputs as .npy, run `mpc-run --local` (dealer, P0 and P1 as processes on
loopback; mpc-run picks free ports itself) and compare the outputs revealed
to the client with the stored outputs:

    |got - expected| <= atol + rtol * |expected|   (elementwise)

with atol and rtol from TOLERANCE below (see docs/conformance.md for why);
integer and bool outputs (ring elements at 0 fractional bits, written by
mpc-run with their ONNX type) must be equal, with the same dtype.
Each test is PASS, FAIL (with the error) or N/A (with the reason). Prints
one line per test and a summary; exits 1 if any applicable test fails.
With --write-doc, writes the table (the whole data dir must have been run).
Run with Debian's /usr/bin/python3 (python3-onnx 1.12, numpy).
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Target", "ONNX", "Inputs"))
import node_tests  # noqa: E402

FRAC_BITS = 16
ULP = 2.0 ** -FRAC_BITS

# Default tolerance: atol = 16 ulp (2.4e-4) covers the encoding of each
# input (<= 0.5 ulp), each probabilistic truncation after a product (< 1
# ulp, docs/protocols.md) and their accumulation through a handful of
# fixed-point operations on O(1) data; rtol = 2^-12 (2.4e-4) covers the
# relative error of rounding products of larger values and of the stored
# float32/float16 outputs.
DEFAULT_TOL = (16 * ULP, 2.0 ** -12)
# Programs that use an approximation get its documented bound
# (docs/protocols.md, Fixed-point functions), keyed by the mpc op in the
# compiled program (`mpc-compile --compile-to=mpc`), so that a decomposed
# ONNX softmax that tfm-fuse raises gets the softmax bound too:
#  - mpc.exp (only inside softmax): absolute error <= 0.006 on [-20, 0] for
#    exp; with the reciprocal of the row sum on [0.5, n] (relative error
#    < 1e-3) a softmax output is off by at most about 0.006 + 1e-3 * p:
#    atol 0.01, rtol 2e-3.
#  - mpc.rsqrt (norms): relative error < 2e-3 on its range, times the
#    centred input: atol 0.01, rtol 4e-3.
#  - mpc.poly (GeLU, SiLU, and the lowerings of sigmoid, tanh, erf,
#    softplus, exp, log and pow by a general exponent: docs/import.md,
#    "Lowerings of ops on secret data"): measured under 2PC over their
#    domains, max error <= 1.6e-4 absolute (|f| <= 1) and relative (above);
#    GeLU's fit 2.2e-4: atol 4e-4, rtol 4e-4.
APPROX_TOL = {
    "mpc.poly": (4e-4, 4e-4),
    "mpc.exp": (0.01, 2e-3),
    "mpc.reciprocal": (0.01, 2e-3),
    "mpc.rsqrt": (0.01, 4e-3),
}
# A float16 expected output is itself rounded to float16 (relative error
# up to 2^-11), which the fixed-point result is not.
FLOAT16_RTOL = 2.0 ** -10
# A bfloat16 one has 8 significant bits; ONNX's generator may truncate
# rather than round (relative error below 2^-7).
BFLOAT16_RTOL = 2.0 ** -6

# Compiler diagnostics that state a documented limitation of the lowering
# (the op or this use of it has no MPC form): the test is not applicable,
# and the reason is the diagnostic.
NO_MPC_FORM = [
    (re.compile(r"'tfm\.(\w+)' op has no MPC lowering"),
     lambda m: f"tfm.{m.group(1)} has no MPC lowering"),
]


# Tests whose stored outputs do not follow from their model (checked by hand
# against the operator's reference formula).
UPSTREAM_DATA_ERRORS = {
    "test_adam_multiple": (
        "stored outputs computed with epsilon = 1e-2, which the model's Adam "
        "node does not carry (its default is 1e-6): an error of the ONNX test "
        "generator; test_adam checks Adam"),
    "test_dynamicquantizelinear": (
        "stored y[3] = 26 rounds x / scale = -2.5 / (5 / 255) = -127.5, an "
        "exact tie, toward zero through float32's error in scale; ONNX's "
        "round half to even of the quotient gives -128 (y = 25), which is "
        "what the exact lowering computes (y[5] = 179 is a tie the float32 "
        "reference rounds to even): the _max_adjusted and _min_adjusted "
        "tests check the op"),
    "test_dynamicquantizelinear_expanded": (
        "the data of test_dynamicquantizelinear through the expanded "
        "function: the stored y[3] breaks the tie -127.5 by float32's error "
        "in scale, not half to even"),
}

# Tests whose client inputs lose, in their fixed-point encoding (2^-16),
# precision that exact integer outputs need (checked by running the same
# model with those inputs as public constants, which are encoded with the
# bits they need: then the outputs are exact).
ENCODING_LIMITS = {
    "test_qlinearconv": (
        "the client's scales 0.0037, 0.0017 and 0.0016, encoded at 2^-16, "
        "carry up to 0.4% relative error, which moves 19 of the 49 uint8 "
        "outputs by one; with the scales as public constants (the deployed "
        "form, mpc-compile --const-input) all 49 are exact"),
}

def first_error(text):
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else "(no message)"


def tensor_kind(elem_type):
    import onnx
    name = onnx.TensorProto.DataType.Name(elem_type)
    if name in ("FLOAT", "DOUBLE", "FLOAT16"):
        return "float"
    if name == "BFLOAT16":
        return "bfloat16"
    if name == "BOOL":
        return "bool"
    if name == "STRING":
        return "string"
    return "integer"


def tolerance(mpc_ir, float16_out, bfloat16_out=False):
    atol, rtol = DEFAULT_TOL
    used = []
    for op, (at, rt) in APPROX_TOL.items():
        if re.search(re.escape(op) + r"\b", mpc_ir):
            used.append(op)
            atol, rtol = max(atol, at), max(rtol, rt)
    if float16_out:
        rtol = max(rtol, FLOAT16_RTOL)
    if bfloat16_out:
        rtol = max(rtol, BFLOAT16_RTOL)
    return atol, rtol, used


def used_inputs(mpc_ir):
    """ONNX names of the arguments the compiled program reads (the artifact
    has no slot for an unused one, and mpc-run rejects unknown inputs)."""
    lines = mpc_ir.splitlines()
    at = next((k for k, l in enumerate(lines) if "func.func @" in l), 0)
    sig, body = lines[at] if lines else "", "\n".join(lines[at + 1:])
    used = set()
    for arg, name in re.findall(
            r"(%arg\d+): [^{,]*\{[^}]*\bonnx\.name = \"([^\"]*)\"", sig):
        if re.search(re.escape(arg) + r"\b", body):
            used.add(name)
    return used


def import_error(tool, model_path, const_args=()):
    r = subprocess.run([tool, "--import-onnx", "--import-only", model_path,
                        *const_args],
                       capture_output=True, text=True, timeout=120)
    return None if r.returncode == 0 else first_error(r.stderr)


def const_input_args(work, tag, names, inputs, structural):
    """`--const-input name=file.npy` for the inputs in `structural` (a
    shape, axes, starts, a split or a k input: structure the deployment
    knows and the importer needs as a constant, not private data), written
    as .npy files under `work`."""
    args = []
    for n, x in zip(names, inputs):
        if n in structural:
            p = os.path.join(work, f"{tag}-const-{len(args) // 2}.npy")
            np.save(p, x)
            args += ["--const-input", f"{n}={p}"]
    return args


def import_na(msg):
    """The not-applicable reason for an importer diagnostic."""
    m = re.match(r"unsupported operator '([^']+)'(?: \(node '[^']*', "
                 r"domain '([^']*)')?", msg)
    if m:
        dom = m.group(2)
        op = m.group(1) if not dom or dom == "ai.onnx" else \
            f"{dom}.{m.group(1)}"
        if "its output shape depends on the input values" in msg:
            return (f"{op}: its output shape depends on the input values "
                    "(a program on secret data has static shapes)")
        return f"{op} is not supported by the importer"
    m = re.match(r"unsupported opset version (\d+) of the default ONNX "
                 r"domain; supported versions are (\d+) to (\d+)", msg)
    if m:
        return (f"opset {m.group(1)} (the importer supports opsets "
                f"{m.group(2)} to {m.group(3)})")
    if "draws a random mask" in msg:
        # Training-mode Dropout with a non-zero ratio: a sampler.
        return RANDOM_REASON
    m = re.match(r"'(\w+)' node '[^']*' \(opset \d+\): (.*)", msg)
    if m:
        return f"importer: {m.group(1)}: {m.group(2)}"
    return "importer: " + msg


# Samplers: their outputs are random draws, which the node tests compare
# with numpy's seeded draws (no MPC sampler reproduces numpy's stream).
RANDOM_OPS = {"RandomNormal", "RandomUniform", "RandomNormalLike",
              "RandomUniformLike", "Bernoulli", "Multinomial"}
RANDOM_REASON = ("random output: the node test compares against numpy's "
                 "seeded draws")
NOT_TENSOR_REASON = ("{} is not a tensor (sequences and optionals have no "
                     "MPC form: the protocols share tensors only)")


def graph_ops(graph):
    """The op types of `graph` and of its subgraphs (If, Loop, Scan)."""
    ops = set()
    for n in graph.node:
        ops.add(n.op_type)
        for at in n.attribute:
            if at.HasField("g"):
                ops |= graph_ops(at.g)
            for g in at.graphs:
                ops |= graph_ops(g)
    return ops


def secret_control_flow(graph):
    """The first If/Loop whose condition or trip count is computed from the
    graph's float inputs (the client's secret data), or None."""
    secret = {v.name for v in graph.input
              if v.type.HasField("tensor_type") and
              tensor_kind(v.type.tensor_type.elem_type) == "float"}
    secret -= {t.name for t in graph.initializer}
    for n in graph.node:
        control = {"If": n.input[:1], "Loop": n.input[:2]}.get(n.op_type, [])
        if any(i in secret for i in control):
            return n.op_type
        if any(i in secret for i in n.input):
            secret.update(o for o in n.output if o)
    return None


def outputs_na(model):
    """Why a test is out of scope from its declared types, or None."""
    if graph_ops(model.graph) & RANDOM_OPS:
        return RANDOM_REASON
    op = secret_control_flow(model.graph)
    if op:
        return (f"{op} whose {'condition' if op == 'If' else 'trip count or condition'} "
                "is computed from the client's data: control flow on a "
                "secret has no MPC form")
    for v in model.graph.input:
        if not v.type.HasField("tensor_type"):
            return NOT_TENSOR_REASON.format("input")
    for v in model.graph.output:
        kind = tensor_kind(v.type.tensor_type.elem_type)
        if not v.type.HasField("tensor_type"):
            return NOT_TENSOR_REASON.format("output")
        if kind == "string":
            return "string output (strings have no ring encoding)"
    return None


def run_test(name, a, supported):
    """(status, detail, extra) for one test."""
    d = os.path.join(a.data, name)
    model = node_tests.load_model(d)
    work = os.path.join(a.work, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    model_path = os.path.join(d, "model.onnx")
    # Out of scope by type first (random outputs, control flow on a secret,
    # sequences, strings), whatever the importer supports.
    why = (outputs_na(model) or UPSTREAM_DATA_ERRORS.get(name)
           or ENCODING_LIMITS.get(name))
    if why:
        return "N/A", why, {}
    if name not in supported:
        msg = import_error(a.mpc_translate, model_path)
        if msg is None:
            return "FAIL", ("imports, but is missing from "
                            "test/Target/ONNX/Inputs/onnx-node-tests.txt"), {}
        structural = re.search(r"must be (a )?constants?\b", msg)
        if not structural:
            return "N/A", import_na(msg), {}
    sets = node_tests.data_sets(d)
    if not sets:
        return "N/A", "no test data set", {}
    # (data set, --const-input arguments, runtime input names, inputs,
    # outputs)
    runs = []
    baked = []
    for ds in sets:
        names, inputs, outputs = node_tests.load_data_set(model, ds)
        path = ()
        if name not in supported:
            # Inputs the importer needs as constants (shapes, axes, k,
            # ...) are given to the compiler with the test's value
            # (--const-input): an input the diagnostic names ("the scales
            # input 'scales' must be a constant", float ones included),
            # else the fewest non-float inputs, from the last one (ONNX
            # puts such inputs after the data); the others, integer data
            # included, stay the client's private inputs.
            pending = [n for n, x in zip(reversed(names), reversed(inputs))
                       if not np.issubdtype(x.dtype, np.floating)]
            baked = []
            while True:
                path = tuple(const_input_args(work, os.path.basename(ds),
                                              names, inputs, set(baked)))
                msg = import_error(a.mpc_translate, model_path, path)
                if msg is None:
                    break
                m = re.search(r"input '([^']+)' must be (a )?constants?\b",
                              msg)
                if m and m.group(1) in names and m.group(1) not in baked:
                    baked.append(m.group(1))
                    pending = [n for n in pending if n != m.group(1)]
                elif pending:
                    baked.append(pending.pop(0))
                else:
                    return "N/A", import_na(msg), {}
            keep = [n for n in names if n not in baked]
            inputs = [x for n, x in zip(names, inputs) if n in keep]
            names = keep
        for x in inputs + outputs:
            if not np.issubdtype(x.dtype, np.floating):
                continue
            if not np.all(np.isfinite(x)):
                return "N/A", ("non-finite data (inf/NaN has no fixed-point "
                               "form)"), {}
            # Products of two values are computed at 2f fractional bits in
            # the 64-bit ring and must stay below 2^62 (docs/protocols.md,
            # Truncation): |x| < 2^(31-f) for every factor.
            if x.size and np.abs(x).max() >= 2.0 ** (31 - FRAC_BITS):
                return "N/A", ("data outside the fixed-point range "
                               f"(|x| >= 2^{31 - FRAC_BITS} at f = "
                               f"{FRAC_BITS})"), {}
        runs.append((ds, path, names, inputs, outputs))
    # A float16 or bfloat16 expected output is itself rounded (bfloat16
    # data arrive as float32: node_tests.load_pb).
    float16_out = any(o.dtype == np.float16 for o in runs[0][4])
    bfloat16_out = any(tensor_kind(v.type.tensor_type.elem_type) == "bfloat16"
                       for v in model.graph.output)
    worst = 0.0  # max of |err| / (atol + rtol |expected|)
    maxerr = 0.0
    compiled = {}
    for ds, path, names, inputs, outputs in runs:
        if path not in compiled:
            art = os.path.join(work, os.path.basename(ds) + ".umbra")
            r = subprocess.run([a.mpc_compile, model_path, *path,
                                "--compile-to=artifact",
                                "--frac-bits", str(FRAC_BITS), "--outsourced",
                                "-o", art],
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                msg = first_error(r.stderr)
                for pat, why in NO_MPC_FORM:
                    m = pat.search(msg)
                    if m:
                        return "N/A", why(m), {}
                return "FAIL", "mpc-compile: " + msg, {}
            ir = subprocess.run([a.mpc_compile, model_path, *path,
                                 "--compile-to=mpc",
                                 "--frac-bits", str(FRAC_BITS), "--outsourced",
                                 "-o", "-"],
                                capture_output=True, text=True, timeout=300)
            compiled[path] = (art, tolerance(ir.stdout, float16_out,
                                                    bfloat16_out),
                              used_inputs(ir.stdout))
        art, (atol, rtol, approx), used = compiled[path]
        out_dir = os.path.join(work, os.path.basename(ds))
        cmd = [a.mpc_run, art, "--local", "-o", out_dir, "--timeout", "120",
               "--connect-timeout", "60"]
        for k, (n, x) in enumerate(zip(names, inputs)):
            if n not in used:
                continue  # e.g. CastLike's `like`: only its type matters
            p = os.path.join(work, f"{os.path.basename(ds)}-input_{k}.npy")
            np.save(p, x.astype(np.float64 if np.issubdtype(
                x.dtype, np.floating) else np.int64))
            cmd += ["-i", f"{n}={p}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            # The root cause, not a peer's "connection lost" after it.
            errs = [l for l in r.stderr.splitlines() if "error" in l.lower()
                    and not re.search(r"connection to \S+ .*lost", l)]
            msg = errs[0].strip() if errs else first_error(r.stderr)
            return "FAIL", "mpc-run: " + msg, {}
        for v, want in zip(model.graph.output, outputs):
            p = os.path.join(out_dir, v.name + ".npy")
            if not os.path.exists(p):
                return "FAIL", f"mpc-run wrote no output '{v.name}'", {}
            got = np.load(p)
            if got.size != want.size:
                return "FAIL", (f"output '{v.name}' has {got.size} values, "
                                f"expected {want.shape}"), {}
            if tensor_kind(v.type.tensor_type.elem_type) in ("integer",
                                                             "bool"):
                # Integers and bools are exact: same type, same values.
                if got.dtype != want.dtype:
                    return "FAIL", (f"output '{v.name}' has dtype "
                                    f"{got.dtype}, expected {want.dtype}"), {}
                wrong = int(np.sum(got.reshape(want.shape) != want))
                if wrong:
                    return "FAIL", (f"output '{v.name}': {wrong} of "
                                    f"{want.size} integer values differ"), {}
                continue
            got = got.astype(np.float64).reshape(want.shape)
            want = want.astype(np.float64)
            err = np.abs(got - want)
            bound = atol + rtol * np.abs(want)
            if err.size:
                maxerr = max(maxerr, float(err.max()))
                worst = max(worst, float((err / bound).max()))
    extra = {"max_err": maxerr, "atol": atol, "rtol": rtol,
             "ratio": worst, "approx": approx, "baked": baked}
    note = ""
    if baked:
        note += "; constant " + ", ".join(baked)
    if not any(compiled[p][2] for p in compiled):
        note += "; no runtime input left: the output is a compile-time constant"
    if approx:
        note += "; tolerance of " + ", ".join(approx)
    if worst > 1.0:
        return "FAIL", (f"max |error| {maxerr:.3g} exceeds the tolerance "
                        f"(atol {atol:.3g}, rtol {rtol:.3g}; "
                        f"{worst:.3g}x the bound){note}"), extra
    shutil.rmtree(work, ignore_errors=True)
    return "PASS", f"max |error| {maxerr:.3g}{note}", extra


def write_doc(path, results, a, seconds):
    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("PASS", "FAIL", "N/A")}
    groups = {}
    for r in results.values():
        if r["status"] == "N/A":
            key = r["detail"]
            key = re.sub(r"^\S+ is not supported by the importer$",
                         "op not supported by the importer", key)
            groups[key] = groups.get(key, 0) + 1
    L = []
    L.append("# ONNX backend node tests under 2PC (conformance)\n")
    L.append("Generated by `test/Conformance/conformance.py --write-doc "
             "docs/conformance.md` (see `test/Conformance/README.md`); do "
             "not edit by hand.\n")
    L.append("Every node test of Debian's `libonnx-testdata` "
             f"(`{a.data}`, {len(results)} tests) is either run end to end "
             "(ONNX import, `mpc-compile --compile-to=artifact "
             "--outsourced`, `mpc-run --local`: dealer, P0 and P1 as "
             "processes on loopback, the test's inputs as the client's "
             "private inputs, secret-shared at once so that every op runs "
             "under the 2PC protocols, the outputs revealed to the client) "
             "and compared with the stored outputs, or not applicable for "
             "the reason given.\n")
    L.append("## Tolerance\n")
    L.append(f"Fixed point with f = {FRAC_BITS} fractional bits "
             f"(resolution 2^-{FRAC_BITS} = {ULP:.3g}). A test passes when "
             "every output element satisfies\n")
    L.append("    |mpc - expected| <= atol + rtol * |expected|\n")
    L.append(f"- default: atol = 16 * 2^-16 = {DEFAULT_TOL[0]:.3g}, rtol = "
             f"2^-12 = {DEFAULT_TOL[1]:.3g}. Encoding an input rounds it to "
             "the nearest multiple of 2^-16 (<= 0.5 ulp); each fixed-point "
             "product is truncated with an error below 1 ulp "
             "(`docs/protocols.md`, Truncation); a node test chains at most "
             "a handful of such steps on O(1) data, so 16 ulp bounds the "
             "absolute error with margin, and rtol covers the error that "
             "grows with the magnitude of the operands (an operand's "
             "encoding error times the other operand) and float32 rounding "
             "of the stored outputs.")
    L.append("- programs that contain an approximation get its documented "
             "bound (`docs/protocols.md`, Fixed-point functions), found in "
             "the compiled mpc IR (`mpc-compile --compile-to=mpc`), so a "
             "decomposed softmax that `tfm-fuse` raises gets it too:")
    L.append("  `mpc.exp` and `mpc.reciprocal` (softmax): atol = 0.01, rtol "
             "= 2e-3 (exp has absolute error <= 0.006 on [-20, 0], the "
             "reciprocal of the row sum on [0.5, n] relative error < 1e-3); "
             "`mpc.rsqrt` (norms): atol = 0.01, rtol = 4e-3 (relative error "
             "< 2e-3, times the centred input); `mpc.poly` (GeLU, SiLU and "
             "the lowerings of sigmoid, tanh, erf, softplus, exp, log and "
             "pow: `docs/import.md`, \"Lowerings of ops on secret data\"): "
             "atol = rtol = 4e-4 (measured error <= 2.2e-4).")
    L.append("- integer and bool outputs (ring elements at 0 fractional "
             "bits, written by mpc-run with their ONNX type): equal, dtype "
             "included.")
    L.append(f"- float16 expected outputs: rtol at least 2^-10 = "
             f"{FLOAT16_RTOL:.3g} (the stored output is itself rounded to "
             "float16, relative error up to 2^-11).")
    L.append("\nThe table shows the largest absolute error over all "
             "outputs and data sets of each test. \"constant X\" means the "
             "importer needed input X as a constant (a shape, axes, starts, "
             "split sizes, a window size): it was given to the compiler with "
             "the test's value (`--const-input X=file.npy`, as a deployment "
             "that knows its structure would), the float inputs stayed the "
             "client's.\n")
    L.append("## Fixes this suite led to\n")
    L.append("Regression tests: `test/Conformance/regressions.test`, "
             "`test/Dialect/Tfm/Transforms/tfm-fuse.mlir` "
             "(`bias_computed_later`), `test/Conversion/TfmToMpc/basic.mlir` "
             "(`inv_std_dev_max_cast`, `reduce_max_axes`, "
             "`gather_constant`), `test/Target/ONNX/windows.onnxtext` and "
             "`reductions-pools.onnxtext` (pools).\n")
    L.append("- `tfm-fuse`: a bias or scale computed after the matmul/norm "
             "that absorbs it (Gemm with beta: `beta * C` comes after the "
             "product) produced IR that failed verification (\"operand does "
             "not dominate this use\"); the absorbing op now moves down to "
             "the add/mul (test_gemm_*).")
    L.append("- `convert-tfm-to-mpc`: elementwise Max as `b + relu(a - b)` "
             "(Max, and Min imported as `-max(-a, -b)`); Cast between float "
             "types as the identity on fixed-point values; `1 / sqrt(mean(d "
             "* d) + eps)` (LayerNormalization's InvStdDev output) as one "
             "rsqrt on the norms' range; ReduceMax over several axes as one "
             "row maximum per axis; Gather by constant indices (Slice with "
             "negative steps) as slices and a concat.")
    L.append("- export: an output that is the client's input up to a view "
             "(Identity, Dropout, a no-op Transpose, Reshape/Squeeze, float "
             "Cast) was rejected (\"nothing to compute\"); it is now shared "
             "and opened back to the client like any client value computed "
             "under MPC.")
    L.append("- runtime: an empty output (0 elements) was never written, "
             "because an empty reveal result meant \"revealed to another "
             "party\" (test_slice_start_out_of_bounds, "
             "test_reshape_allowzero_reordered).")
    L.append("- importer: AveragePool without padding (one public 1/count "
             "for every window) multiplied by 0: the scalar was read after "
             "the tensor holding it was replaced (test_averagepool_*).\n")
    L.append("## Counts\n")
    L.append(f"| pass | fail | not applicable | total |\n|---|---|---|---|\n"
             f"| {counts['PASS']} | {counts['FAIL']} | {counts['N/A']} | "
             f"{len(results)} |\n")
    L.append(f"Wall time of the full run: {seconds:.0f} s with "
             f"{a.jobs} job(s) on a shared, loaded 2-core machine.\n")
    L.append("Not applicable, by reason:\n")
    L.append("| reason | tests |\n|---|---|")
    for k, v in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
        L.append(f"| {k.replace('|', chr(92) + '|')} | {v} |")
    L.append("")
    L.append("## Tests\n")
    L.append("| test | ops | result | detail |\n|---|---|---|---|")
    for name in sorted(results):
        r = results[name]
        st = {"PASS": "pass", "FAIL": "**fail**",
              "N/A": "not applicable"}[r["status"]]
        det = r["detail"].replace("|", "\\|")
        L.append(f"| {name} | {' '.join(r['ops'])} | {st} | {det} |")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--mpc-translate", required=True)
    ap.add_argument("--data", default=node_tests.DATA_DIR)
    ap.add_argument("--list", default=node_tests.LIST)
    ap.add_argument("--work")
    ap.add_argument("--tests", help="comma-separated names or @file")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--write-doc")
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        print(f"SKIPPED: no ONNX node tests at {a.data} (install "
              "libonnx-testdata)")
        return 77
    if not a.work:
        a.work = tempfile.mkdtemp(prefix="umbra-conformance-")
    os.makedirs(a.work, exist_ok=True)
    supported = set(node_tests.read_list(a.list))
    names = node_tests.all_tests(a.data)
    if a.tests:
        sel = open(a.tests[1:]).read().split() if a.tests.startswith("@") \
            else a.tests.split(",")
        names = [n for n in names if n in set(sel)]
    start = time.time()

    def one(name):
        t0 = time.time()
        try:
            st, det, extra = run_test(name, a, supported)
        except Exception as e:  # noqa: BLE001
            st, det, extra = "FAIL", f"runner: {type(e).__name__}: {e}", {}
        ops = sorted({n.op_type for n in
                      node_tests.load_model(os.path.join(a.data, name))
                      .graph.node})
        if st == "N/A" and name.startswith("test_layer_normalization") \
                and name.endswith("_expanded") and det.startswith("tfm.sqrt"):
            det = ("the expanded LayerNormalization's Y is raised to "
                   "layer_norm by tfm-fuse, but its InvStdDev output is "
                   "Reciprocal(Sqrt(E[x^2] - E[x]^2 + eps)) of a computed "
                   "value (" + det + ")")
        if st != "FAIL":
            shutil.rmtree(os.path.join(a.work, name), ignore_errors=True)
        return name, dict(status=st, detail=det, ops=ops,
                          seconds=round(time.time() - t0, 2), **extra)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
        for name, r in pool.map(one, names):
            results[name] = r
            if r["status"] != "N/A" or a.tests:
                print(f"{r['status']}: {name}: {r['detail']}")
                sys.stdout.flush()
    seconds = time.time() - start
    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("PASS", "FAIL", "N/A")}
    print(f"conformance: pass {counts['PASS']}, fail {counts['FAIL']}, "
          f"not applicable {counts['N/A']}, total {len(results)} "
          f"({seconds:.0f} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if a.write_doc:
        write_doc(a.write_doc, results, a, seconds)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
