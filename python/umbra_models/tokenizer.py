"""Byte-level tokenizers.

* ``ByteTokenizer``: vocab 256, token = byte.
* ``BPETokenizer``: byte-level BPE. Text (bytes) is first split into chunks
  by a fixed regex (GPT-2 style, on bytes, so every byte sequence is
  encodable and decoding is exact), then merges are applied inside chunks in
  rank order. Token ids 0..255 are the bytes; id 256+k is merge k.
Saved as JSON: {"type": "bpe", "pattern": ..., "merges": [[a, b], ...]}.
"""
from __future__ import annotations

import collections
import json
import re
from typing import Dict, Iterable, List, Sequence, Tuple

# Words with one optional leading space, numbers, punctuation runs (any
# non-ASCII byte counts as punctuation), whitespace runs (the last space
# before a word is left to the word, as in GPT-2).
DEFAULT_PATTERN = rb" ?[A-Za-z_]+| ?[0-9]+| ?[^\sA-Za-z_0-9]+|\s+(?!\S)|\s+"


def merge_pair(word: Sequence[int], pair: Tuple[int, int], new_id: int) -> List[int]:
    """``word`` with every non-overlapping occurrence of ``pair`` (left to
    right) replaced by ``new_id``: one BPE merge, in training and encoding."""
    out, i, n = [], 0, len(word)
    while i < n:
        if i < n - 1 and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


class ByteTokenizer:
    type = "byte"
    vocab_size = 256

    def encode(self, data: bytes) -> List[int]:
        return list(data)

    def decode(self, ids: Iterable[int]) -> bytes:
        return bytes(int(i) for i in ids)

    def token_bytes(self, i: int) -> bytes:
        return bytes([i])

    def to_dict(self) -> dict:
        return {"type": "byte", "vocab_size": 256}

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.to_dict(), f)
            f.write("\n")


class BPETokenizer:
    type = "bpe"

    def __init__(self, merges: Sequence[Tuple[int, int]], pattern: bytes = DEFAULT_PATTERN):
        self.merges = [tuple(int(x) for x in m) for m in merges]
        self.pattern = pattern
        self._re = re.compile(pattern)
        self.ranks: Dict[Tuple[int, int], int] = {m: i for i, m in enumerate(self.merges)}
        self.vocab: List[bytes] = [bytes([i]) for i in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self._cache: Dict[bytes, Tuple[int, ...]] = {}

    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges)

    def token_bytes(self, i: int) -> bytes:
        return self.vocab[i]

    def _bpe(self, chunk: bytes) -> Tuple[int, ...]:
        r = self._cache.get(chunk)
        if r is not None:
            return r
        word = list(chunk)
        ranks = self.ranks
        while len(word) > 1:
            best, best_rank = None, None
            for p in zip(word, word[1:]):
                rk = ranks.get(p)
                if rk is not None and (best_rank is None or rk < best_rank):
                    best, best_rank = p, rk
            if best is None:
                break
            word = merge_pair(word, best, 256 + best_rank)
        r = tuple(word)
        if len(self._cache) < 1_000_000:
            self._cache[chunk] = r
        return r

    def encode(self, data: bytes) -> List[int]:
        if isinstance(data, str):
            data = data.encode("utf-8")
        ids: List[int] = []
        for ch in self._re.findall(data):
            ids.extend(self._bpe(ch))
        return ids

    def decode(self, ids: Iterable[int]) -> bytes:
        v = self.vocab
        return b"".join(v[int(i)] for i in ids)

    def to_dict(self) -> dict:
        return {"type": "bpe", "vocab_size": self.vocab_size,
                "pattern": self.pattern.decode("latin-1"),
                "merges": [list(m) for m in self.merges]}

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, separators=(",", ":"))
            f.write("\n")

    @classmethod
    def train(cls, data: bytes, num_merges: int, pattern: bytes = DEFAULT_PATTERN,
              log=None) -> "BPETokenizer":
        """Deterministic BPE training on ``data`` (ties: smallest pair)."""
        rx = re.compile(pattern)
        counts = collections.Counter(rx.findall(data))
        words = [list(w) for w in counts]
        freqs = [counts[w] for w in counts]
        pair_count: Dict[Tuple[int, int], int] = collections.defaultdict(int)
        where: Dict[Tuple[int, int], set] = collections.defaultdict(set)
        for wi, w in enumerate(words):
            f = freqs[wi]
            for p in zip(w, w[1:]):
                pair_count[p] += f
                where[p].add(wi)
        merges = []
        for k in range(num_merges):
            if not pair_count:
                break
            best = max(pair_count.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
            pair, cnt = best
            if cnt < 2:
                break
            new_id = 256 + k
            merges.append(pair)
            for wi in sorted(where.pop(pair, ())):
                w = words[wi]
                f = freqs[wi]
                for p in zip(w, w[1:]):
                    pair_count[p] -= f
                    if pair_count[p] <= 0:
                        del pair_count[p]
                out = merge_pair(w, pair, new_id)
                words[wi] = out
                for p in zip(out, out[1:]):
                    pair_count[p] += f
                    where[p].add(wi)
            pair_count.pop(pair, None)
            if log and (k + 1) % 256 == 0:
                log(f"bpe: {k + 1}/{num_merges} merges, last count {cnt}")
        return cls(merges, pattern)


def load_tokenizer(path):
    with open(path) as f:
        d = json.load(f)
    if d["type"] == "byte":
        return ByteTokenizer()
    if d["type"] == "bpe":
        return BPETokenizer(d["merges"], d["pattern"].encode("latin-1"))
    raise ValueError(f"unknown tokenizer type {d['type']!r}")


def tokenizer_of(model_dir):
    """The tokenizer of a model directory, or None when it has none (a
    preset exported with random weights)."""
    import os
    path = os.path.join(model_dir, "tokenizer.json")
    return load_tokenizer(path) if os.path.exists(path) else None
