"""The float oracle for exported models: compile with ``mpc-compile`` and run
the artifact with the runtime's reference executor (``mpc-run --reference``:
the compiled program in double precision with ideal non-linear kernels, see
docs/runtime.md). Python code does not interpret ONNX or IR itself.

The tools are taken from ``$UMBRA_BUILD_DIR`` (``bin/mpc-compile``,
``runtime/mpc-run``; ctest sets it) or else from ``PATH``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np


class ToolError(RuntimeError):
    """A tool failed; the message holds its command line and stderr, and
    ``stderr`` the tool's diagnostics alone."""

    def __init__(self, msg, stderr=""):
        super().__init__(msg)
        self.stderr = stderr


def tool(name):
    build = os.environ.get("UMBRA_BUILD_DIR")
    if build:
        for sub in ("bin", "runtime"):
            p = os.path.join(build, sub, name)
            if os.path.exists(p):
                return p
    p = shutil.which(name)
    if p is None:
        raise FileNotFoundError(
            f"{name} not found (set UMBRA_BUILD_DIR to a build tree or put it on PATH)")
    return p


def run_tool(cmd, timeout=600):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    if r.returncode != 0:
        raise ToolError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.strip()}",
                        r.stderr)
    return r


def compile_onnx(onnx_path, artifact, args=()):
    run_tool([tool("mpc-compile"), onnx_path, "-o", artifact, *args])
    return artifact


def run_reference(artifact, inputs, out_dir, drop_unused=False):
    """Runs ``mpc-run ARTIFACT --reference`` on ``inputs`` ({slot name:
    array}); returns {output name: float64 array} read from ``out_dir``.
    With ``drop_unused``, an input the program does not read (it has no
    slot: CastLike's ``like``, whose type alone matters) is left out."""
    os.makedirs(out_dir, exist_ok=True)
    feed = dict(inputs)
    while True:
        cmd = [tool("mpc-run"), artifact, "--reference", "-o", out_dir]
        for name, x in feed.items():
            p = os.path.join(out_dir, f"input-{name}.npy")
            np.save(p, np.asarray(x))
            cmd += ["-i", f"{name}={p}"]
        try:
            run_tool(cmd)
            break
        except ToolError as e:
            unused = [n for n in feed
                      if f"program has no slot named '{n}'" in e.stderr]
            if not (drop_unused and unused):
                raise
            del feed[unused[0]]
    return {f[:-len(".npy")]: np.load(os.path.join(out_dir, f))
            for f in sorted(os.listdir(out_dir))
            if f.endswith(".npy") and not f.startswith("input-")}


def reference_logits(onnx_path, ids, work=None, compile_args=()):
    """The reference executor's logits of an exported decoder for token ids
    [1, T] (int64)."""
    own = work is None
    work = work or tempfile.mkdtemp(prefix="umbra-ref-")
    os.makedirs(work, exist_ok=True)
    try:
        art = compile_onnx(onnx_path, os.path.join(work, "model.umbra"), compile_args)
        out = run_reference(art, {"input_ids": np.asarray(ids, dtype=np.int64)},
                            os.path.join(work, "ref"))
        return out["logits"]
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
