"""Checks against the committed fixtures (python/fixtures/*).

Evaluation here uses the first whole test files up to fixture.SUBSET_BYTES
(fixture.SUBSET_BYTES = 8000, i.e. the first 2 files, 14 kB) so the suite stays fast; the full-test-split numbers in
metrics.json are checked for the <= 1.6 bits/byte target only."""
import json
import os

import numpy as np
import pytest
import torch

from conftest import fixture_dir, need_stdlib
from umbra_models import check
from umbra_models.corpus import encode_split
from umbra_models.eval import evaluate, token_lengths
from umbra_models.export import check_onnx, export_onnx
from umbra_models.fixture import SUBSET_BYTES
from umbra_models.model import load_model_dir
from umbra_models.reference import reference_logits
from umbra_models.stats import activation_stats
from umbra_models.tokenizer import load_tokenizer

NAMES = ["gpt2-l4-d256", "opt-l4-d256"]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_files_and_targets(name):
    d = fixture_dir(name)
    for fn in ("config.json", "tokenizer.json", "weights.npz", "metrics.json", "loss.png",
               "sparsity.json", "train_log.json"):
        assert os.path.exists(os.path.join(d, fn)), fn
    z = np.load(os.path.join(d, "weights.npz"))
    assert all(z[k].dtype == np.float16 for k in z.files)
    m = load_model_dir(d)
    assert m.cfg.n_layer >= 4 and m.cfg.d_model >= 256
    assert m.cfg.family == name.split("-")[0]
    met = json.load(open(os.path.join(d, "metrics.json")))
    assert met["test"]["bpb"] <= 1.6
    assert met["test"]["bytes"] > 200000


@pytest.mark.parametrize("name", NAMES)
def test_eval_reproduces_committed_metrics(name):
    need_stdlib()
    d = fixture_dir(name)
    met = json.load(open(os.path.join(d, "metrics.json")))["test_subset"]
    assert met["max_bytes"] == SUBSET_BYTES
    model = load_model_dir(d)
    tok = load_tokenizer(os.path.join(d, "tokenizer.json"))
    ids, _ = encode_split(tok, "test", max_bytes=SUBSET_BYTES)
    r = evaluate(model, ids, token_lengths(tok), batch=8)
    assert r["tokens"] == met["tokens"] and r["bytes"] == met["bytes"]
    assert abs(r["bpb"] - met["bpb"]) < 2e-3
    assert abs(r["top1"] - met["top1"]) < 2e-3


def test_sparsity_stats_opt():
    need_stdlib()
    d = fixture_dir("opt-l4-d256")
    model = load_model_dir(d)
    tok = load_tokenizer(os.path.join(d, "tokenizer.json"))
    ids, _ = encode_split(tok, "test", max_bytes=SUBSET_BYTES)
    st = activation_stats(model, ids, thresholds=(0.0, 0.1), windows=4)
    committed = json.load(open(os.path.join(d, "sparsity.json")))
    assert len(st["layers"]) == model.cfg.n_layer == len(committed["layers"])
    for l, c in zip(st["layers"], committed["layers"]):
        z = l["inactive_frac"]["0"]
        assert 0.5 < z < 1.0  # ReLU FFNs are mostly zero
        assert abs(z - c["inactive_frac"]["0"]) < 0.1
        assert l["inactive_frac"]["0.1"] >= z
        b = l["blocks"]["0"]
        assert set(b) == {"8", "16", "32", "64"}
        for bs in ("8", "16", "32", "64"):
            e = b[bs]
            assert 0 <= e["empty_frac"] <= 1 and 0 <= e["empty_frac_sorted"] <= 1
            assert 0 <= e["indep_per_neuron"] <= 1
        # bigger blocks are empty less often
        assert b["8"]["empty_frac"] >= b["64"]["empty_frac"]


def test_loader_comparison_opt(tmp_path):
    """Export the OPT fixture, compile it and run it with the runtime's float
    reference executor, compare with torch; then exercise the .npy
    comparison CLI."""
    d = fixture_dir("opt-l4-d256")
    model = load_model_dir(d)
    T = 32
    p = str(tmp_path / "opt.onnx")
    export_onnx(model, p, T)
    _, ops = check_onnx(p)
    assert "Relu" in ops and "Erf" not in ops
    tok = load_tokenizer(os.path.join(d, "tokenizer.json"))
    ids = np.asarray(tok.encode(b"import os\nimport sys\n\n\ndef main(argv=None):\n    parser = argparse."
                                b"ArgumentParser(description=__doc__)\n    parser.add_argument(")[:T],
                     dtype=np.int64)[None]
    assert ids.shape == (1, T)
    with torch.no_grad():
        ref = model(torch.from_numpy(ids)).numpy()
    got = reference_logits(p, ids, str(tmp_path / "ref"))
    r = check.compare_logits(ref, got)
    assert r["max_abs"] < 1e-3 and r["top1_agree"] == 1.0
    np.save(tmp_path / "ids.npy", ids)
    np.save(tmp_path / "logits.npy", got)
    args = ["compare", "--model", d, "--input-ids", str(tmp_path / "ids.npy"), "--logits",
            str(tmp_path / "logits.npy")]
    assert check.main(args + ["--max-abs", "1e-3", "--min-top1", "1.0"]) == 0
    np.save(tmp_path / "bad.npy", got + np.random.default_rng(0).normal(0, 5, got.shape).astype(np.float32))
    args[-1] = str(tmp_path / "bad.npy")
    assert check.main(args + ["--min-top1", "0.99"]) == 1
