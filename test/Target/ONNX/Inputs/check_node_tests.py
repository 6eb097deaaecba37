"""Numerically checks imported ONNX backend node tests.

Usage: check_node_tests.py MPC_TRANSLATE LIST [DATA_DIR]

For every test in LIST: import model.onnx, evaluate the tfm IR with
tfm_eval.py on test_data_set_0's inputs and compare with its expected
outputs (rtol 1e-4, atol 1e-5). Prints one line per mismatch and a summary.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import node_tests  # noqa: E402
import tfm_eval  # noqa: E402


def main():
    tool, listing = sys.argv[1], sys.argv[2]
    data = sys.argv[3] if len(sys.argv) > 3 else node_tests.DATA_DIR
    names = node_tests.read_list(listing)
    bad = checked = skipped = 0
    for name in names:
        if "BFLOAT16" in name:
            skipped += 1  # numpy has no bfloat16
            continue
        d = os.path.join(data, name)
        ds = os.path.join(d, "test_data_set_0")
        model = node_tests.load_model(d)
        _, inputs, outputs = node_tests.load_data_set(model, ds)
        r = subprocess.run([tool, "--import-onnx", os.path.join(d, "model.onnx")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            bad += 1
            print(f"IMPORT FAILED: {name}: {r.stderr.strip()[:200]}")
            continue
        try:
            with torch.no_grad():
                got = tfm_eval.evaluate(r.stdout,
                                        [torch.from_numpy(np.array(x)) for x in inputs])
        except (SystemExit, Exception) as e:  # noqa: BLE001
            bad += 1
            print(f"EVAL FAILED: {name}: {e}")
            continue
        checked += 1
        for k, (g, w) in enumerate(zip(got, outputs)):
            g = g.numpy()
            if g.shape != w.shape or not np.allclose(
                    g.astype(np.float64), w.astype(np.float64), rtol=1e-4,
                    atol=1e-5, equal_nan=True):
                bad += 1
                diff = np.max(np.abs(g.astype(np.float64) - w)) \
                    if g.shape == w.shape else f"shape {g.shape} vs {w.shape}"
                print(f"MISMATCH: {name} output {k}: {diff}")
                break
    print(f"checked {checked} of {len(names)} (skipped {skipped} bfloat16), "
          f"failures {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
