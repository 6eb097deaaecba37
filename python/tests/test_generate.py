import json
import os

import numpy as np
import onnx
import pytest
import torch

from conftest import PYDIR, fixture_dir
from umbra_models.config import preset
from umbra_models.export import check_onnx, io_signature
from umbra_models.generate import (DecodeStep, Prefill, cache_names, export_generation,
                                   greedy_generate, gumbel_generate, gumbel_noise, main)
from umbra_models.model import build_model, load_model_dir

FLOAT, INT64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64


def tiny(fam, tied=True):
    """A random-weight tiny preset. Tied, its greedy output echoes the last
    token over and over (the residual stream is mostly that token's own
    embedding); untied, the tokens vary from step to step."""
    torch.manual_seed(0)
    return build_model(preset(f"{fam}-tiny", tie_embeddings=tied)).eval()


def prompt(model, T, seed=1):
    return np.random.default_rng(seed).integers(0, model.cfg.vocab_size, (1, T), dtype=np.int64)


@pytest.mark.parametrize("fam", ["gpt2", "opt", "llama"])
def test_prefill_and_step_match_decoder(fam):
    """Prefill's logits are the decoder's next-token logits; one decode step
    on Prefill(ids[:T]) gives Prefill(ids[:T+1]): the same logits and the
    same cache, the new row appended."""
    m = tiny(fam)
    cfg = m.cfg
    T = 9
    ids = torch.from_numpy(prompt(m, T + 1))
    with torch.no_grad():
        logits, *cache = Prefill(m)(ids[:, :T])
        ref = m(ids[:, :T], next_token=True)
        assert logits.shape == (1, 1, cfg.vocab_size)
        assert torch.allclose(logits, ref, atol=1e-6, rtol=0)
        assert len(cache) == 2 * cfg.n_layer
        assert all(c.shape == (1, cfg.n_head, T, cfg.head_dim) for c in cache)
        got = DecodeStep(m)(ids[:, T:], torch.tensor([[T]]), *cache)
        want = Prefill(m)(ids)
    assert len(got) == len(want) == 1 + 2 * cfg.n_layer
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert torch.allclose(g, w, atol=1e-5, rtol=0), (g - w).abs().max()


def models():
    for fam in ("gpt2", "opt", "llama"):
        yield pytest.param(lambda fam=fam: tiny(fam, tied=False), 8, id=f"{fam}-tiny")
    for name in ("gpt2-l4-d256", "opt-l4-d256"):
        yield pytest.param(lambda name=name: load_model_dir(fixture_dir(name)), 16, id=name)


@pytest.mark.parametrize("make,T", list(models()))
def test_cache_equals_recompute(make, T):
    """Prefill + decode steps give the tokens and, at every step, the logits
    of the full decoder recomputed on the growing sequence."""
    m = make()
    ids = prompt(m, T)
    n = 16
    a, la = greedy_generate(m, ids, n, use_cache=True, return_logits=True)
    b, lb = greedy_generate(m, ids, n, use_cache=False, return_logits=True)
    assert len(a) == n and a == b
    assert len(set(a)) > 3, a  # the steps feed different tokens
    assert la.shape == (n, m.cfg.vocab_size)
    assert np.abs(la - lb).max() < 1e-4, np.abs(la - lb).max(axis=1)
    assert a == [int(i) for i in la.argmax(axis=1)]
    assert greedy_generate(m, ids[0].tolist(), n) == a  # a flat prompt is accepted


def test_generate_bounds():
    m = tiny("gpt2")
    S = m.cfg.max_seq
    greedy_generate(m, prompt(m, S - 3), 4)  # the last fed token sits at S - 1
    with pytest.raises(ValueError):
        greedy_generate(m, prompt(m, S - 3), 5)
    with pytest.raises(ValueError):
        gumbel_generate(m, prompt(m, 4), 3, np.zeros((2, m.cfg.vocab_size)))


def test_gumbel_noise():
    g = gumbel_noise(7, 400, 256)
    assert g.shape == (400, 256) and g.dtype == np.float32 and np.isfinite(g).all()
    assert np.array_equal(g, gumbel_noise(7, 400, 256))
    assert not np.array_equal(g, gumbel_noise(8, 400, 256))
    # Gumbel(0, 1): mean = Euler's gamma, variance = pi^2 / 6
    assert abs(g.mean() - 0.5772) < 0.01 and abs(g.var() - np.pi ** 2 / 6) < 0.05
    u = np.random.default_rng(7).random((400, 256))
    assert np.allclose(g, -np.log(-np.log(u)), atol=1e-5)


@pytest.mark.parametrize("fam", ["gpt2", "llama"])
def test_gumbel_generate(fam):
    m = tiny(fam, tied=False)
    V, n = m.cfg.vocab_size, 12
    ids = prompt(m, 8)
    noise = gumbel_noise(3, n, V)
    a, la = gumbel_generate(m, ids, n, noise, temperature=0.5, return_logits=True)
    b = gumbel_generate(m, ids, n, noise, temperature=0.5, use_cache=False)
    assert a == b
    assert a == [int(i) for i in (la / 0.5 + noise).argmax(axis=1)]  # step i adds row i
    assert gumbel_generate(m, ids, n, np.zeros((n, V))) == greedy_generate(m, ids, n)
    # the random-init logits are nearly flat: the noise decides the tokens
    assert a != greedy_generate(m, ids, n)
    assert a != gumbel_generate(m, ids, n, gumbel_noise(4, n, V), temperature=0.5)


@pytest.mark.parametrize("fam", ["gpt2", "llama"])
def test_export_generation(fam, tmp_path):
    m = tiny(fam)
    cfg = m.cfg
    L, H, hd, V, T = cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size, 8
    pre, dec, meta = export_generation(m, str(tmp_path), T)
    past, present = cache_names(L, "past"), cache_names(L, "present")

    pm, pops = check_onnx(pre)
    assert pm.opset_import[0].version == 17
    ins, outs = io_signature(pm)
    assert ins == [("input_ids", INT64, [1, T])]
    assert outs == [("logits", FLOAT, [1, 1, V])] + [(n, FLOAT, [1, H, T, hd]) for n in present]
    assert not any(i.data_type == onnx.TensorProto.FLOAT16 for i in pm.graph.initializer)

    dm, dops = check_onnx(dec)
    ins, outs = io_signature(dm)
    assert ins == ([("input_ids", INT64, [1, 1]), ("position", INT64, [1, 1])]
                   + [(n, FLOAT, [1, H, "past", hd]) for n in past])
    assert outs == [("logits", FLOAT, [1, 1, V])] + [(n, FLOAT, [1, H, "past_plus_1", hd])
                                                      for n in present]
    # nothing reads the cache length; no mask for the single query
    assert "Shape" not in dops and "Where" not in dops, dops
    assert dops["Concat"] >= 2 * L and dops["Softmax"] == L
    # the position is an input of the graph, not a constant of the trace
    assert any("position" in node.input for node in dm.graph.node)
    print(f"\n{fam}-tiny decode.onnx ops: {dops}")

    with open(meta) as f:
        j = json.load(f)
    assert j == {"prompt_len": T, "max_seq": cfg.max_seq, "layers": L, "heads": H,
                 "head_dim": hd, "vocab": V, "cache": [[a, b] for a, b in zip(past, present)]}
    assert j["cache"][:2] == [["past_key_0", "present_key_0"], ["past_value_0", "present_value_0"]]


@pytest.mark.parametrize("fam", ["gpt2", "llama"])
def test_traced_step_any_cache_length(fam):
    """The exporter's trace of the decode step (made at P = 8) gives the eager
    results at other cache lengths and positions: none was baked into it."""
    m = tiny(fam)
    step = DecodeStep(m)
    H, hd = m.cfg.n_head, m.cfg.head_dim
    cache = lambda P: [torch.randn(1, H, P, hd) for _ in range(2 * m.cfg.n_layer)]  # noqa: E731
    tok = torch.tensor([[5]])
    with torch.no_grad():
        traced = torch.jit.trace(step, (tok, torch.tensor([[8]]), *cache(8)))
        for P in (3, 20):
            c = cache(P)
            got = traced(tok, torch.tensor([[P]]), *c)
            want = step(tok, torch.tensor([[P]]), *c)
            assert got[1].shape == (1, H, P + 1, hd)
            for g, w in zip(got, want):
                assert torch.allclose(g, w, atol=1e-6)


def test_cli(tmp_path, capsys):
    d = fixture_dir("gpt2-l4-d256")
    text = os.path.join(PYDIR, "umbra_models", "model.py")
    T, n = 16, 8
    out = tmp_path / "greedy"
    assert main(["--model", d, "--prompt-len", str(T), "--tokens", str(n), "--out-dir", str(out),
                 "--text-file", text]) == 0
    printed = capsys.readouterr().out
    for f in ("prefill.onnx", "decode.onnx", "generation.json", "prompt_ids.npy",
              "expected_tokens.npy"):
        assert (out / f).exists(), f
    assert not (out / "gumbel_noise.npy").exists()
    ids = np.load(out / "prompt_ids.npy")
    toks = np.load(out / "expected_tokens.npy")
    assert ids.shape == (1, T) and ids.dtype == np.int64 and toks.shape == (n,) and toks.dtype == np.int64
    m = load_model_dir(d)
    from umbra_models.tokenizer import load_tokenizer
    tok = load_tokenizer(os.path.join(d, "tokenizer.json"))
    assert tok.decode(ids[0]) == open(text, "rb").read()[:len(tok.decode(ids[0]))]
    assert toks.tolist() == greedy_generate(m, ids, n)
    assert "continuation: " in printed and "prompt: '\"\"\"Decoder-only" in printed

    out = tmp_path / "gumbel"
    assert main(["--model", d, "--prompt-len", str(T), "--tokens", str(n), "--out-dir", str(out),
                 "--seed", "3", "--gumbel-seed", "5", "--temperature", "0.8"]) == 0
    ids = np.load(out / "prompt_ids.npy")
    noise = np.load(out / "gumbel_noise.npy")
    assert np.array_equal(noise, gumbel_noise(5, n, m.cfg.vocab_size))
    assert np.load(out / "expected_tokens.npy").tolist() == gumbel_generate(m, ids, n, noise, 0.8)
