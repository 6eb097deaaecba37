"""The zoo's LLaMA-style decoder (rotary cos/sin buffers that torch folds
into initializers) compiled with and without --public-structure.

Usage: public_structure.py OUT_DIR --mpc-compile PATH --mpc-run PATH
       [--tolerance 0.05]

Prints, for each compilation: the rotary tables the leakage report made
public, the owner blobs of the artifact (mpc-run --dump), the number of
Beaver products (mul/matmul instructions of two shared operands), the
predicted online bytes and rounds (--cost-report), and the error of the
MPC logits (mpc-run --local) against torch's; then whether the logits of
the two compilations agree. Exits non-zero if a command fails.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
from umbra_models import zoo  # noqa: E402
from umbra_models.export import export_onnx  # noqa: E402


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.stderr.write("command failed (%d): %s\n%s%s" %
                         (p.returncode, " ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p


def beaver_products(dump):
    """mul/matmul instructions whose two operands are both shared."""
    vis, n = {}, 0
    for line in dump.splitlines():
        m = re.match(r"\s+slot (\d+): .* (public|client|owner|shared)\b", line)
        if m:
            vis[int(m.group(1))] = m.group(2)
        m = re.match(r"\s+instr \d+: (mul|matmul) \[(\d+), (\d+)\]", line)
        if m and vis.get(int(m.group(2))) == vis.get(int(m.group(3))) == "shared":
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mpc-compile", required=True)
    ap.add_argument("--mpc-run", required=True)
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--seq", type=int, default=16)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = zoo.build("llama", **zoo.DIMS)
    onnx_path = os.path.join(a.out, "llama.onnx")
    export_onnx(model, onnx_path, a.seq, opset=17)
    ids = torch.randint(0, zoo.DIMS["vocab"], (1, a.seq),
                        generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(ids).numpy().astype(np.float64)
    ids_path = os.path.join(a.out, "ids.npy")
    np.save(ids_path, ids.numpy().astype(np.int64))

    logits = {}
    for mode, flags in (("on", []), ("off", ["--no-public-structure"])):
        art = os.path.join(a.out, mode + ".umbra")
        c = run([a.mpc_compile, onnx_path, "-o", art, "--leakage-report",
                 "--cost-report"] + flags)
        for line in c.stdout.splitlines():
            if "rotary" in line:
                print("%s: public by structure:%s" % (mode, line.strip()[:1000]))
        total = re.search(r"^\s+total\s+\d+\s+(\d+)\s+(\d+)", c.stdout, re.M)
        dump = run([a.mpc_run, art, "--dump"]).stdout
        owner = sorted(set(re.findall(r"owner F32 .* origin owner from '([^']*)'",
                                      dump)))
        rotary_owner = [o for o in owner if o in ("onnx::Mul_327", "onnx::Mul_328")]
        out_dir = os.path.join(a.out, mode + "-mpc")
        run([a.mpc_run, art, "--local", "-i", "input_ids=" + ids_path, "-o",
             out_dir, "--timeout", "300", "--connect-timeout", "60"])
        got = np.load(os.path.join(out_dir, "logits.npy")).reshape(want.shape)
        logits[mode] = got
        err = float(np.abs(got - want).max())
        agree = int((got.argmax(-1) == want.argmax(-1)).sum())
        print("%s: owner blobs %d, rotary owner blobs %s, beaver products %d, "
              "online bytes %s, rounds %s, max|mpc-torch| %s %.4g, top1 %d/%d" %
              (mode, len(owner), rotary_owner or "none", beaver_products(dump),
               total.group(1), total.group(2),
               "<=" if err <= a.tolerance else ">", err, agree, a.seq))
    diff = float(np.abs(logits["on"] - logits["off"]).max())
    print("max|on-off| %s %.4g" % ("<=" if diff <= a.tolerance else ">", diff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
