import json
import os

import numpy as np
import onnx
import pytest
import torch

from conftest import PYDIR, fixture_dir
from umbra_models.config import preset
from umbra_models.export import check_onnx, io_signature
from umbra_models.generate import (DecodeStep, Prefill, cache_names, choose_token,
                                   export_generation, generate_tokens, greedy_generate,
                                   gumbel_generate, gumbel_noise, main, scale_noise)
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
        logits, *cache = Prefill(m).logits(ids[:, :T])
        ref = m(ids[:, :T], next_token=True)
        assert logits.shape == (1, 1, cfg.vocab_size)
        assert torch.allclose(logits, ref, atol=1e-6, rtol=0)
        assert len(cache) == 2 * cfg.n_layer
        assert all(c.shape == (1, cfg.n_head, T, cfg.head_dim) for c in cache)
        got = DecodeStep(m).logits(ids[:, T:], torch.tensor([[T]]), *cache)
        want = Prefill(m).logits(ids)
    assert len(got) == len(want) == 1 + 2 * cfg.n_layer
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert torch.allclose(g, w, atol=1e-5, rtol=0), (g - w).abs().max()


@pytest.mark.parametrize("fam", ["gpt2", "opt", "llama"])
@pytest.mark.parametrize("tied", [True, False])
def test_next_token_is_argmax_of_logits(fam, tied):
    """forward outputs (next_token int64 [1, 1], *cache): the argmax of the
    logits path's logits ("greedy") or of logits + noise ("gumbel"), and the
    same cache as logits()."""
    m = tiny(fam, tied)
    cfg = m.cfg
    V, T = cfg.vocab_size, 7
    ids = torch.from_numpy(prompt(m, T + 1))
    pos = torch.tensor([[T]])
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        logits, *cache = Prefill(m).logits(ids[:, :T])
        step_logits, *step_cache = DecodeStep(m).logits(ids[:, T:], pos, *cache)
        for sampling in ("greedy", "gumbel"):
            noise = [torch.randn(1, 1, V, generator=g) * 3] if sampling == "gumbel" else []
            add = noise[0] if noise else 0
            tok, *c = Prefill(m, sampling)(ids[:, :T], *noise)
            assert tok.dtype == torch.int64 and tok.shape == (1, 1)
            assert int(tok) == int(np.argmax((logits + add).numpy().ravel()))
            assert all(torch.equal(a, b) for a, b in zip(c, cache))
            tok, *c = DecodeStep(m, sampling)(ids[:, T:], pos, *cache, *noise)
            assert tok.dtype == torch.int64 and tok.shape == (1, 1)
            assert int(tok) == int(np.argmax((step_logits + add).numpy().ravel()))
            assert all(torch.equal(a, b) for a, b in zip(c, step_cache))
        # the noise decides: argmax of a big one-hot noise is its hot index
        big = torch.zeros(1, 1, V)
        big[0, 0, 5] = 1e4
        assert int(Prefill(m, "gumbel")(ids[:, :T], big)[0]) == 5
        assert int(DecodeStep(m, "gumbel")(ids[:, T:], pos, *cache, big)[0]) == 5
    # ties go to the first maximum, as ONNX ArgMax with select_last_index=0
    assert choose_token(torch.tensor([[[1.0, 3.0, 0.0, 3.0]]])).tolist() == [[1]]
    with pytest.raises(ValueError):
        Prefill(m, "topk")
    with pytest.raises(ValueError):  # the noise is missing
        DecodeStep(m, "gumbel")(ids[:, T:], pos, *cache)
    with pytest.raises(ValueError):
        Prefill(m, "gumbel")(ids[:, :T], torch.zeros(1, V))


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
    with pytest.raises(ValueError):
        gumbel_generate(m, prompt(m, 4), 3, np.zeros((3, m.cfg.vocab_size)), temperature=0)
    with pytest.raises(ValueError):  # the graphs' noise is float32
        generate_tokens(m, prompt(m, 4), 3, np.zeros((3, m.cfg.vocab_size)))


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
    # step i adds row i of temperature * noise, in float32: the graphs' input
    scaled = scale_noise(noise, 0.5)
    assert scaled.dtype == np.float32 and np.array_equal(scaled, np.float32(0.5) * noise)
    assert a == [int(i) for i in (la + scaled).argmax(axis=1)]
    assert generate_tokens(m, ids, n, scaled) == a
    assert np.array_equal(scale_noise(noise, 1.0), noise)
    assert gumbel_generate(m, ids, n, np.zeros((n, V))) == greedy_generate(m, ids, n)
    # the random-init logits are nearly flat: the noise decides the tokens
    assert a != greedy_generate(m, ids, n)
    assert a != gumbel_generate(m, ids, n, gumbel_noise(4, n, V), temperature=0.5)


def run_modules(m, ids, n, sampling="greedy", noise=None):
    """The exported graphs' computation step by step in torch: Prefill then
    DecodeStep, each fed the token the previous one output (and row i of
    the noise); returns the tokens."""
    V = m.cfg.vocab_size
    feed = lambda i: [] if noise is None else [torch.from_numpy(noise[i]).view(1, 1, V)]  # noqa: E731
    ids = torch.from_numpy(np.asarray(ids))
    T = ids.shape[1]
    with torch.no_grad():
        tok, *cache = Prefill(m, sampling)(ids, *feed(0))
        toks = [int(tok)]
        step = DecodeStep(m, sampling)
        for i in range(1, n):
            tok, *cache = step(tok, torch.tensor([[T + i - 1]]), *cache, *feed(i))
            toks.append(int(tok))
    return toks


@pytest.mark.parametrize("fam", ["gpt2", "opt", "llama"])
def test_modules_give_reference_tokens(fam):
    """Feeding each module's next_token output back gives the references'
    tokens: greedy_generate, and gumbel_generate with scale_noise rows."""
    m = tiny(fam, tied=False)
    V, n = m.cfg.vocab_size, 10
    ids = prompt(m, 6)
    assert run_modules(m, ids, n) == greedy_generate(m, ids, n)
    g = gumbel_noise(2, n, V)
    want = gumbel_generate(m, ids, n, g, temperature=0.7)
    assert run_modules(m, ids, n, "gumbel", scale_noise(g, 0.7)) == want
    assert want != greedy_generate(m, ids, n)


@pytest.mark.parametrize("sampling", ["greedy", "gumbel"])
@pytest.mark.parametrize("fam", ["gpt2", "llama"])
def test_export_generation(fam, sampling, tmp_path):
    m = tiny(fam)
    cfg = m.cfg
    L, H, hd, V, T = cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size, 8
    pre, dec, meta = export_generation(m, str(tmp_path), T, sampling=sampling)
    past, present = cache_names(L, "past"), cache_names(L, "present")
    noise = [("noise", FLOAT, [1, 1, V])] if sampling == "gumbel" else []

    def argmax_node(g):
        """The one ArgMax makes next_token: [1, V] -> [1, 1] with keepdims,
        the first maximum; no output of the graph is the logits."""
        (node,) = [n for n in g.node if n.op_type == "ArgMax"]
        assert list(node.output) == ["next_token"]
        attrs = {a.name: a.i for a in node.attribute}
        assert attrs == {"axis": 1, "keepdims": 1, "select_last_index": 0}, attrs
        vi = {v.name: v for v in g.value_info}
        dims = [d.dim_value for d in vi[node.input[0]].type.tensor_type.shape.dim]
        assert dims == [1, V]
        if sampling == "gumbel":  # noise is added to the logits right before
            (add,) = [n for n in g.node if "noise" in n.input]
            assert add.op_type == "Add"

    pm, pops = check_onnx(pre)
    assert pm.opset_import[0].version == 17
    ins, outs = io_signature(pm)
    assert ins == [("input_ids", INT64, [1, T])] + noise
    assert outs == [("next_token", INT64, [1, 1])] + [(n, FLOAT, [1, H, T, hd]) for n in present]
    assert not any(i.data_type == onnx.TensorProto.FLOAT16 for i in pm.graph.initializer)
    argmax_node(pm.graph)

    dm, dops = check_onnx(dec)
    ins, outs = io_signature(dm)
    assert ins == ([("input_ids", INT64, [1, 1]), ("position", INT64, [1, 1])]
                   + [(n, FLOAT, [1, H, "past", hd]) for n in past] + noise)
    assert outs == [("next_token", INT64, [1, 1])] + [(n, FLOAT, [1, H, "past_plus_1", hd])
                                                       for n in present]
    argmax_node(dm.graph)
    # nothing reads the cache length; no mask for the single query
    assert "Shape" not in dops and "Where" not in dops, dops
    assert dops["Concat"] >= 2 * L and dops["Softmax"] == L and dops["ArgMax"] == 1
    # the position is an input of the graph, not a constant of the trace
    assert any("position" in node.input for node in dm.graph.node)
    print(f"\n{fam}-tiny {sampling} decode.onnx ops: {dops}")

    with open(meta) as f:
        j = json.load(f)
    assert j == {"prompt_len": T, "max_seq": cfg.max_seq, "layers": L, "heads": H,
                 "head_dim": hd, "vocab": V, "sampling": sampling, "top_k": 0,
                 "eos_token": None, "next_token": "next_token",
                 "cache": [[a, b] for a, b in zip(past, present)]}
    assert j["cache"][:2] == [["past_key_0", "present_key_0"], ["past_value_0", "present_value_0"]]


def test_export_generation_rejects():
    m = tiny("gpt2")
    with pytest.raises(ValueError):
        export_generation(m, "/nonexistent/never", 8, sampling="topk")
    with pytest.raises(ValueError):
        export_generation(m, "/nonexistent/never", m.cfg.max_seq)


@pytest.mark.parametrize("sampling", ["greedy", "gumbel"])
@pytest.mark.parametrize("fam", ["gpt2", "llama"])
def test_traced_step_any_cache_length(fam, sampling):
    """The exporter's trace of the decode step (made at P = 8) gives the eager
    results at other cache lengths and positions: none was baked into it."""
    m = tiny(fam, tied=False)
    step = DecodeStep(m, sampling)
    H, hd, V = m.cfg.n_head, m.cfg.head_dim, m.cfg.vocab_size
    cache = lambda P: [torch.randn(1, H, P, hd) for _ in range(2 * m.cfg.n_layer)]  # noqa: E731
    noise = lambda: [torch.randn(1, 1, V)] if sampling == "gumbel" else []  # noqa: E731
    tok = torch.tensor([[5]])
    with torch.no_grad():
        traced = torch.jit.trace(step, (tok, torch.tensor([[8]]), *cache(8), *noise()))
        toks = set()
        for P in (3, 20, 41):
            c, z = cache(P), noise()
            got = traced(tok, torch.tensor([[P]]), *c, *z)
            want = step(tok, torch.tensor([[P]]), *c, *z)
            assert got[0].dtype == torch.int64 and got[0].shape == (1, 1)
            assert got[1].shape == (1, H, P + 1, hd)
            assert torch.equal(got[0], want[0])
            toks.add(int(got[0]))
            for g, w in zip(got[1:], want[1:]):
                assert torch.allclose(g, w, atol=1e-6)
        assert len(toks) > 1, toks  # the token is computed, not a constant of the trace


def need_tools():
    from umbra_models import reference
    try:
        reference.tool("mpc-compile"), reference.tool("mpc-run")
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return reference


def reference_models():
    yield pytest.param(lambda: tiny("llama", tied=False), id="llama-tiny")
    yield pytest.param(lambda: load_model_dir(fixture_dir("gpt2-l4-d256")), id="gpt2-l4-d256")


@pytest.mark.parametrize("sampling", ["greedy", "gumbel"])
@pytest.mark.parametrize("make", list(reference_models()))
def test_graphs_on_reference_executor(make, sampling, tmp_path):
    """The exported graphs themselves choose the torch references' tokens:
    prefill.onnx and decode.onnx (its "past" axis fixed at T by
    --input-shape, fed the prefill's present_* outputs) compiled with
    mpc-compile and run by mpc-run --reference output next_token, int64
    [1, 1]. The executor computes in fixed point (~1e-4 on the logits): a
    token may differ from torch's only where the top two scores are that
    close."""
    ref = need_tools()
    m = make()
    cfg = m.cfg
    L, H, hd, V, T, n = cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size, 8, 2
    ids = prompt(m, T)
    noise = scale_noise(gumbel_noise(9, n, V), 0.8) if sampling == "gumbel" else None
    toks, logits = generate_tokens(m, ids, n, noise, return_logits=True)
    scores = logits + (0 if noise is None else noise)
    pre, dec, _ = export_generation(m, str(tmp_path), T, sampling=sampling)
    feed = lambda i: {} if noise is None else {"noise": noise[i].reshape(1, 1, V)}  # noqa: E731

    def check(out, i):
        tok = out["next_token"]
        assert tok.shape == (1, 1) and np.issubdtype(tok.dtype, np.integer), (tok.shape, tok.dtype)
        t = int(tok[0, 0])
        top2 = np.sort(scores[i])[-2:]
        assert scores[i][t] >= top2[1] - 1e-3, (t, toks[i], scores[i][t], top2)
        if top2[1] - top2[0] > 1e-2:
            assert t == toks[i]
        print(f"step {i}: next_token {t}, torch {toks[i]}, top-2 margin {top2[1] - top2[0]:.3g}")

    art = ref.compile_onnx(pre, str(tmp_path / "pre.umbra"))
    out = ref.run_reference(art, {"input_ids": ids, **feed(0)}, str(tmp_path / "pre"))
    check(out, 0)
    past = {p: out[q].astype(np.float32) for p, q in zip(cache_names(L, "past"),
                                                          cache_names(L, "present"))}
    assert all(v.shape == (1, H, T, hd) for v in past.values())
    shapes = [f"--input-shape={p}=1x{H}x{T}x{hd}" for p in past]
    art = ref.compile_onnx(dec, str(tmp_path / "dec.umbra"), shapes)
    # the step is fed torch's token 0 (the executor's, but for a near tie)
    out = ref.run_reference(art, {"input_ids": np.array([[toks[0]]], dtype=np.int64),
                                  "position": np.array([[T]], dtype=np.int64), **past, **feed(1)},
                            str(tmp_path / "dec"))
    check(out, 1)
    assert out["present_key_0"].shape == (1, H, T + 1, hd)


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
    assert not (out / "noise.npy").exists()
    assert json.load(open(out / "generation.json"))["sampling"] == "greedy"
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
    noise = np.load(out / "noise.npy")
    V = m.cfg.vocab_size
    assert noise.dtype == np.float32 and noise.shape == (n, V)
    assert np.array_equal(noise, np.float32(0.8) * gumbel_noise(5, n, V))
    toks = np.load(out / "expected_tokens.npy").tolist()
    assert toks == gumbel_generate(m, ids, n, gumbel_noise(5, n, V), 0.8)
    assert toks == generate_tokens(m, ids, n, noise)
    assert toks == run_modules(m, ids, n, "gumbel", noise)  # the graphs' computation
    assert json.load(open(out / "generation.json"))["sampling"] == "gumbel"
    pm, _ = check_onnx(str(out / "prefill.onnx"))
    dm, _ = check_onnx(str(out / "decode.onnx"))
    for g in (pm, dm):
        ins, outs = io_signature(g)
        assert ins[-1] == ("noise", FLOAT, [1, 1, V]) and outs[0] == ("next_token", INT64, [1, 1])
    with pytest.raises(SystemExit):  # a temperature without noise does nothing: refused
        main(["--model", d, "--out-dir", str(tmp_path / "x"), "--temperature", "0.5"])
    with pytest.raises(SystemExit):
        main(["--model", d, "--out-dir", str(tmp_path / "x"), "--gumbel-seed", "1",
              "--temperature", "0"])


def test_top_k_export_and_reference(tmp_path):
    """Gumbel top-k: both graphs take the k-th largest logit by TopK and keep
    the tokens at or above it (GreaterOrEqual, Where); the decode step still
    reads nothing of the cache length; the modules choose what the reference
    chooses, always among the k most likely tokens."""
    m = tiny("gpt2", tied=False)
    V, k = m.cfg.vocab_size, 3
    pre, dec, meta = export_generation(m, str(tmp_path), 8, sampling="gumbel", top_k=k)
    for path in (pre, dec):
        _, ops = check_onnx(path)
        assert ops.get("TopK") == 1 and ops.get("GreaterOrEqual") == 1, ops
        assert "Shape" not in ops, ops
    assert json.load(open(meta))["top_k"] == k
    ids = prompt(m, 8)
    g = gumbel_noise(3, 6, V)
    toks, rows = gumbel_generate(m, ids, 6, g, temperature=5.0, top_k=k, return_logits=True)
    for t, r in zip(toks, rows):
        assert t in np.argsort(r)[-k:]
    with pytest.raises(ValueError):
        export_generation(m, str(tmp_path), 8, sampling="greedy", top_k=k)
