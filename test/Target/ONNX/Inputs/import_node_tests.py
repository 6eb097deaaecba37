"""Imports ONNX backend node-test models shipped by libonnx-testdata.

Usage: import_node_tests.py MPC_TRANSLATE LIST [DATA_DIR]

Every test named in LIST must import (mpc-translate --import-onnx
--import-only exits 0); every other test must fail with a diagnostic and a
non-zero exit, never crash. Prints one line per unexpected result and a
summary; exits 1 if there was any.
"""
import concurrent.futures
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import node_tests  # noqa: E402


def main():
    tool, listing = sys.argv[1], sys.argv[2]
    data = sys.argv[3] if len(sys.argv) > 3 else node_tests.DATA_DIR
    expected = set(node_tests.read_list(listing))
    bad = 0
    ok = 0
    rejected = 0
    names = node_tests.all_tests(data)

    def run(name):
        model = os.path.join(data, name, "model.onnx")
        return name, subprocess.run(
            [tool, "--import-onnx", "--import-only", model],
            capture_output=True, text=True, timeout=120)

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        results = list(pool.map(run, names))
    for name, r in results:
        if r.returncode == 0:
            ok += 1
            if name not in expected:
                print(f"NEWLY IMPORTS: {name} (add it to the list)")
        elif r.returncode == 1 and "error:" in r.stderr:
            rejected += 1
            if name in expected:
                bad += 1
                print(f"FAILS: {name}: {r.stderr.strip().splitlines()[0]}")
        else:
            bad += 1
            print(f"CRASH: {name}: exit {r.returncode}: {r.stderr[-500:]}")
    print(f"imported {ok}, rejected with a diagnostic {rejected}, "
          f"unexpected {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
