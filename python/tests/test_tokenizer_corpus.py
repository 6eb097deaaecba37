import hashlib
import os

import numpy as np
import pytest

from conftest import FIXTURES, STDLIB, need_stdlib
from umbra_models import corpus
from umbra_models.tokenizer import BPETokenizer, ByteTokenizer, load_tokenizer

SAMPLE = (b"def foo(x):\n    return x + 1\n\n\nclass Bar:\n    def baz(self):\n        pass\n" * 20
          + "caf\u00e9 \u2603\n".encode() + bytes([0xff, 0xfe, 0x00, 0x80]) + b"\t\r\n  end")


def test_byte_roundtrip(tmp_path):
    t = ByteTokenizer()
    assert t.decode(t.encode(SAMPLE)) == SAMPLE
    t.save(tmp_path / "t.json")
    assert isinstance(load_tokenizer(tmp_path / "t.json"), ByteTokenizer)


def test_bpe_train_roundtrip(tmp_path):
    t = BPETokenizer.train(SAMPLE, 60)
    assert t.vocab_size == 256 + len(t.merges) and len(t.merges) > 10
    ids = t.encode(SAMPLE)
    assert len(ids) < len(SAMPLE) / 2
    assert t.decode(ids) == SAMPLE
    other = bytes(range(256)) + b"    return self"
    assert t.decode(t.encode(other)) == other
    t.save(tmp_path / "t.json")
    t2 = load_tokenizer(tmp_path / "t.json")
    assert t2.merges == t.merges and t2.encode(SAMPLE) == ids
    # deterministic training
    assert BPETokenizer.train(SAMPLE, 60).merges == t.merges


def test_fixture_tokenizer_roundtrip_on_stdlib():
    need_stdlib()
    p = os.path.join(FIXTURES, "opt-l4-d256", "tokenizer.json")
    if not os.path.exists(p):
        pytest.skip("fixture tokenizer missing")
    t = load_tokenizer(p)
    data = open(os.path.join(STDLIB, "argparse.py"), "rb").read()
    ids = t.encode(data)
    assert t.decode(ids) == data
    assert len(data) / len(ids) > 2.5  # BPE compresses Python source well


def test_split_rule_is_fixed():
    # the split depends only on sha256 of the relative path
    for rp in ["os.py", "json/decoder.py", "asyncio/tasks.py", "zipfile.py"]:
        h = int(hashlib.sha256(rp.encode()).hexdigest()[:8], 16) % 100
        want = "train" if h < 90 else "valid" if h < 95 else "test"
        assert corpus.split_of(rp) == want
    assert corpus.split_of("os.py") == corpus.split_of("os.py")


def test_split_deterministic_on_stdlib():
    need_stdlib()
    a = corpus.split_files()
    b = corpus.split_files()
    assert a == b
    files = corpus.list_files()
    assert files == sorted(files) and len(files) > 500
    assert sorted(a["train"] + a["valid"] + a["test"]) == files
    assert not set(a["train"]) & set(a["test"]) and not set(a["valid"]) & set(a["test"])
    n = len(files)
    assert 0.85 < len(a["train"]) / n < 0.95 and len(a["test"]) > 10
