"""Corpus from the Python standard library sources shipped by Debian 12.

Files: every ``*.py`` under ``/usr/lib/python3.11`` (``__pycache__`` and
symlinked directories skipped), sorted by their path relative to that root.
Split by file: ``h = int(sha256(relpath).hexdigest()[:8], 16) % 100``;
h < 90 -> train, 90 <= h < 95 -> valid, h >= 95 -> test. The split depends
only on the relative path, so it is stable when Debian updates file contents.
Within a split, files are concatenated in path order; each file is tokenized
separately (no tokens cross a file boundary) and no separator is inserted.

CLI:
  /usr/bin/python3 -m umbra_models.corpus --out runs/corpus --merges 1280
writes tokenizer.json, manifest.json and {train,valid,test}.npy (uint16 ids).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

DEFAULT_ROOT = "/usr/lib/python3.11"
SPLITS = ("train", "valid", "test")


def split_of(relpath: str) -> str:
    h = int(hashlib.sha256(relpath.encode("utf-8")).hexdigest()[:8], 16) % 100
    if h < 90:
        return "train"
    if h < 95:
        return "valid"
    return "test"


def list_files(root: str = DEFAULT_ROOT):
    """Sorted relative paths of all *.py files under root."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for fn in files:
            if fn.endswith(".py"):
                out.append(os.path.relpath(os.path.join(d, fn), root))
    return sorted(out)


def split_files(root: str = DEFAULT_ROOT):
    res = {s: [] for s in SPLITS}
    for rp in list_files(root):
        res[split_of(rp)].append(rp)
    return res


def read_split(split: str, root: str = DEFAULT_ROOT):
    """List of (relpath, bytes) for one split, in path order."""
    out = []
    for rp in split_files(root)[split]:
        with open(os.path.join(root, rp), "rb") as f:
            out.append((rp, f.read()))
    return out


def encode_split(tok, split: str, root: str = DEFAULT_ROOT, max_bytes=None):
    """Token ids (np.uint16/int32) and byte count for a split.

    With max_bytes, only whole files are taken (in path order) until the
    total reaches max_bytes (used by the fast tests)."""
    ids, nbytes = [], 0
    for _, data in read_split(split, root):
        ids.extend(tok.encode(data))
        nbytes += len(data)
        if max_bytes is not None and nbytes >= max_bytes:
            break
    dt = np.uint16 if tok.vocab_size <= 65536 else np.int32
    return np.asarray(ids, dtype=dt), nbytes


def build(out_dir, root=DEFAULT_ROOT, tokenizer="bpe", merges=1280, log=print):
    from .tokenizer import BPETokenizer, ByteTokenizer
    os.makedirs(out_dir, exist_ok=True)
    sp = split_files(root)
    data = {s: read_split(s, root) for s in SPLITS}
    t0 = time.time()
    if tokenizer == "byte":
        tok = ByteTokenizer()
    else:
        train_bytes = b"".join(d for _, d in data["train"])
        tok = BPETokenizer.train(train_bytes, merges, log=log)
        log(f"bpe trained: {len(tok.merges)} merges in {time.time() - t0:.1f}s")
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    manifest = {"root": root, "split_rule": "sha256(relpath)[:8] % 100: <90 train, <95 valid, else test",
                "tokenizer": tok.to_dict()["type"], "vocab_size": tok.vocab_size, "splits": {}}
    for s in SPLITS:
        ids = []
        files = []
        for rp, d in data[s]:
            ids.extend(tok.encode(d))
            files.append({"path": rp, "bytes": len(d), "sha256": hashlib.sha256(d).hexdigest()})
        arr = np.asarray(ids, dtype=np.uint16)
        np.save(os.path.join(out_dir, f"{s}.npy"), arr)
        nb = sum(f["bytes"] for f in files)
        manifest["splits"][s] = {"files": len(files), "bytes": nb, "tokens": int(arr.size),
                                 "bytes_per_token": nb / max(1, arr.size), "file_list": files}
        log(f"{s}: {len(files)} files, {nb} bytes, {arr.size} tokens, {nb / max(1, arr.size):.3f} bytes/token")
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return tok, manifest


def load_split(corpus_dir, split):
    """(token ids, byte count) from a directory written by build()."""
    with open(os.path.join(corpus_dir, "manifest.json")) as f:
        m = json.load(f)
    return np.load(os.path.join(corpus_dir, f"{split}.npy")), m["splits"][split]["bytes"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="umbra_models.corpus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--out", default="runs/corpus")
    ap.add_argument("--tokenizer", choices=["bpe", "byte"], default="bpe")
    ap.add_argument("--merges", type=int, default=1280)
    ap.add_argument("--list", action="store_true", help="only print the split file lists")
    a = ap.parse_args(argv)
    if a.list:
        for s, fs in split_files(a.root).items():
            for rp in fs:
                print(s, rp)
        return 0
    build(a.out, a.root, a.tokenizer, a.merges, log=lambda m: print(m, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
