#!/usr/bin/python3
"""Regenerates the seed corpora of the fuzz targets (fuzz/corpus/<target>).

Usage: /usr/bin/python3 fuzz/make_corpus.py BUILD_DIR

  onnx/      the lit tests' textual ONNX models converted to binary
             protobuf (plus three left textual), and tiny decoders of the
             model zoo (GPT-2, OPT, LLaMA styles; 1 layer, hidden 16)
             exported by torch.
  artifact/  artifacts compiled by BUILD_DIR/bin/mpc-compile from some of
             those models and a generation artifact (gpt2-tiny's prefill
             and decode step), and the stripped copies mpc-run makes.
  npy/       numpy's own .npy files: every dtype the reader takes, some it
             refuses, header versions 1 and 2, 0-d and empty arrays.
  frame/     byte streams of frames as a peer sends them, laid out for the
             frame target's receive schedule (first byte), with the
             protocol's real payloads (the Hello handshake, seeds, material
             words, openings), and some malformed ones.

Reproducible: fixed seeds, no time stamps. Run it with Debian's python3
(torch, onnx, numpy). Crash reproducers committed by hand (named
crash-*) are left alone.
"""
import glob
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def clean(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("crash-"):
            os.remove(os.path.join(d, f))
    return d


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# --- onnx ------------------------------------------------------------------

TEXT_SOURCES = (glob.glob(os.path.join(ROOT, "test/Target/ONNX/*.onnxtext")) +
                glob.glob(os.path.join(ROOT, "test/Target/ONNX/Inputs/*.onnxtext")) +
                glob.glob(os.path.join(ROOT, "test/Tools/mpc-compile/Inputs/*.onnxtext")) +
                glob.glob(os.path.join(ROOT, "test/Conformance/Inputs/*.onnxtext")))
KEEP_TEXTUAL = {"tiny", "roles", "causal-mask"}
TINY = dict(layers=1, hidden=16, heads=2, ffn=32, vocab=32, positions=8)


def onnx_corpus(out):
    import onnx
    import onnx.parser
    for src in sorted(TEXT_SOURCES):
        name = os.path.splitext(os.path.basename(src))[0]
        text = open(src).read()
        # lit's RUN/CHECK lines are comments; the model is the rest.
        body = "\n".join(l for l in text.splitlines()
                         if not l.lstrip().startswith("#"))
        if name in KEEP_TEXTUAL:
            write(os.path.join(out, name + ".onnxtext"), body.encode() + b"\n")
        try:
            model = onnx.parser.parse_model(body)
        except Exception:  # the error-* tests include unparsable models
            continue
        write(os.path.join(out, name + ".onnx"), model.SerializeToString())

    import torch
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from umbra_models import zoo
    from umbra_models.export import export_onnx
    for style in ("gpt2", "opt", "llama"):
        torch.manual_seed(0)
        model = zoo.build(style, **TINY)
        export_onnx(model, os.path.join(out, "zoo-%s.onnx" % style), 4, opset=17)


# --- artifact --------------------------------------------------------------

def artifact_corpus(out, onnx_dir, build):
    compile_ = os.path.join(build, "bin", "mpc-compile")
    run = os.path.join(build, "bin", "mpc-run")
    if not os.path.exists(run):
        run = os.path.join(build, "runtime", "mpc-run")
    models = [("tiny.onnx", ["--input-shape=x=2x4"]),
              ("embedding.onnx", []),
              ("normalization.onnx", []),
              ("roles.onnx", []),
              ("softmax-opset11.onnx", []),
              ("zoo-gpt2.onnx", []),
              ("zoo-llama.onnx", ["--public-weight-names=.*norm.*"])]
    # A generation artifact (prefill + nested decode step) from torch.
    gen = tempfile.mkdtemp()
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    subprocess.run([sys.executable, "-m", "umbra_models.generate", "--preset", "gpt2-tiny",
                    "--prompt-len", "4", "--tokens", "2", "--out-dir", gen], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    subprocess.run([compile_, os.path.join(gen, "prefill.onnx"), "--decode-step",
                    os.path.join(gen, "decode.onnx"), "--max-seq", "8", "-o",
                    os.path.join(out, "generation.umbra")], check=True)
    subprocess.run([run, os.path.join(out, "generation.umbra"), "--strip-owner-weights",
                    os.path.join(out, "generation.stripped.umbra")], check=True,
                   stdout=subprocess.DEVNULL)
    os.remove(os.path.join(out, "generation.umbra"))  # 600 kB of weights; the copy has all else
    shutil.rmtree(gen)
    for src, extra in models:
        name = os.path.splitext(src)[0]
        art = os.path.join(out, name + ".umbra")
        subprocess.run([compile_, os.path.join(onnx_dir, src), "-o", art] + extra,
                       check=True)
        subprocess.run([run, art, "--strip-owner-weights",
                        os.path.join(out, name + ".stripped.umbra")], check=True,
                       stdout=subprocess.DEVNULL)


# --- npy -------------------------------------------------------------------

def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a, allow_pickle=False)
    else:
        np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def npy_corpus(out):
    rng = np.random.default_rng(0)
    arrays = {
        "ids-i64": rng.integers(0, 128, (1, 16), dtype=np.int64),
        "ids-i32": rng.integers(0, 128, (1, 16), dtype=np.int32),
        "x-f32": rng.standard_normal((2, 4)).astype(np.float32),
        "x-f64": rng.standard_normal((3, 2, 2)),
        "u8": np.arange(12, dtype=np.uint8).reshape(3, 4),
        "i8": np.arange(-4, 4, dtype=np.int8),
        "u64": np.array([0, 1, 2**63], dtype=np.uint64),
        "bool": np.array([[True, False], [False, True]]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "special": np.array([np.nan, np.inf, -np.inf, -0.0, 1e300]),
        # Refused by the reader: dtypes it does not take, Fortran order.
        "f16": np.ones((2, 2), dtype=np.float16),
        "big-endian": np.ones(3, dtype=">f4"),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    }
    for name, a in arrays.items():
        write(os.path.join(out, name + ".npy"), npy_bytes(a))
    write(os.path.join(out, "v2-f32.npy"),
          npy_bytes(np.ones((2, 3), dtype=np.float32), version=(2, 0)))
    write(os.path.join(out, "v3-f64.npy"),
          npy_bytes(np.arange(4.0), version=(3, 0)))


# --- frame -----------------------------------------------------------------

MAGIC = 0x464d4255
HELLO, OPEN, MATERIAL, SHARE, REVEAL, DONE, SEED = range(1, 8)


def frame(kind, payload, magic=MAGIC, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IIQ", magic, kind, n) + payload


def hello(role):
    # Session.cpp's Hello: magic, protocol, isa, frac, role, program hash,
    # cmp, runs (the session length).
    return (b"UMBRAHS1" + struct.pack("<IIii", 3, 4, 16, role) +
            bytes(range(32)) + struct.pack("<ii", 0, 1))


def schedule(plan, payloads):
    """Frames for the target's schedule: step i receives kind
    1 + (plan/4 + i) % 7 with operation (plan + i) % 4 (exact 16 bytes, any
    length up to 4096, words up to 512, an exchange of 8 bytes)."""
    out = bytes([plan])
    for i, p in enumerate(payloads):
        kind = 1 + (plan // 4 + i) % 7
        op = (plan + i) % 4
        if op == 0:
            p = (p + bytes(16))[:16]
        elif op == 2:
            p = p[:len(p) // 8 * 8]
        elif op == 3:
            p = (p + bytes(8))[:8]
        out += frame(kind, p)
    return out


def frame_corpus(out):
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**63, 24, dtype=np.uint64).tobytes()
    seed = bytes(rng.integers(0, 256, 16, dtype=np.uint8))
    # plan 1 starts with recvFrame of a Hello: the real 60-byte handshake.
    seeds = {
        "hello-then-all": schedule(1, [hello(0), words[:64], words, seed,
                                       seed, b"\x01", words[:8], seed]),
        "exact-first": schedule(0, [seed, words[:32], words, words[:8]] * 4),
        "words-first": schedule(2, [words, words[:8], seed, words[:40]] * 4),
        "exchange-first": schedule(3, [words[:8], seed, words[:16], words] * 4),
        "kinds-shifted": schedule(4 * 5 + 1, [hello(2), words, seed, words[:8]]),
        "empty-frames": schedule(1, [b"", b"", b"", b""]),
        # Malformed: bad magic, wrong kind, oversized, not whole words,
        # truncated header and payload.
        "bad-magic": bytes([1]) + frame(HELLO, hello(1), magic=0x46424d55),
        "wrong-kind": bytes([1]) + frame(DONE, b"\x01"),
        "oversized": bytes([1]) + frame(HELLO, b"", length=1 << 40),
        "odd-words": bytes([2]) + frame(HELLO, words[:13]),
        "truncated-header": bytes([0]) + frame(HELLO, seed)[:9],
        "truncated-payload": bytes([1]) + frame(HELLO, hello(1), length=600),
    }
    for name, data in seeds.items():
        write(os.path.join(out, name + ".bin"), data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    onnx_dir = clean("onnx")
    onnx_corpus(onnx_dir)
    artifact_corpus(clean("artifact"), onnx_dir, build)
    npy_corpus(clean("npy"))
    frame_corpus(clean("frame"))
    total = 0
    for d in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, d))
        size = sum(os.path.getsize(os.path.join(CORPUS, d, f)) for f in files)
        total += size
        print("%-9s %3d files %8d bytes" % (d, len(files), size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
