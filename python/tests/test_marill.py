"""Marill's MPC-minimising fine-tuning (umbra_models.marill) and the
committed fixture fixtures/gpt2-l4-d256-marill: the public base
fixtures/gpt2-l4-d256 fine-tuned on NumPy's sources with a frozen public
prefix (embeddings and blocks 0-2), LoRA (rank 32) on the public base
weights of block 3, whose 4 heads are merged into one, and an untied
private LM head, stored as a delta over the base.

Unit checks (torch only): the delta loader reproduces the trained model
(reference logits stored at training time) and its metrics; the frozen
parts are the base's exactly; LoRA computes x (W + B A)^T + b in both export
forms; merged heads compute attention with n_head/M heads of M*head_dim;
public.json's regex names exactly the public initializers of the exported
ONNX. End to end (skipped without the tools): the fixture compiled with
``--public-weight-names`` and run with ``mpc-run --local`` gives torch's
logits (within the dense end-to-end bound, same top-1 everywhere), the
frozen prefix runs at the client, and it moves fewer online bytes than the
base compiled with every weight the owner's. About 20-30 s on 2 cores."""
import json
import os
import re
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import FIXTURES, fixture_dir
from umbra_models import marill as M
from umbra_models import reference
from umbra_models.export import check_onnx, export_onnx
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of

NAME = "gpt2-l4-d256-marill"
T = 32
# The bound of the dense end-to-end tests (see test_sparse_mpc.py). The
# fixture measures max |mpc - torch| 0.006 on the prompt and the smallest
# top-2 gap of torch's logits is 0.11: the top-1 comparison is not at a tie.
TOL = 0.05


def marill_dir():
    d = os.path.join(FIXTURES, NAME)
    if not os.path.exists(os.path.join(d, "delta.npz")):
        pytest.skip(f"fixture {NAME} not present")
    fixture_dir("gpt2-l4-d256")
    return d


def tools():
    try:
        return reference.tool("mpc-compile"), reference.tool("mpc-run")
    except FileNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def fx():
    d = marill_dir()
    base = load_model_dir(os.path.join(FIXTURES, "gpt2-l4-d256"))
    model = M.load_marill_dir(d)
    return {"dir": d, "base": base, "model": model, "opts": model.marill,
            "tok": tokenizer_of(d), "regex": json.load(open(os.path.join(d, "public.json")))[
                "public_weight_names"]}


@pytest.fixture(scope="module")
def onnx_path(fx, tmp_path_factory):
    work = tmp_path_factory.mktemp("marill")
    p = str(work / "marill.onnx")
    M.export_marill_onnx(fx["model"], p, T)
    check_onnx(p)
    return p


# ---- the stored model --------------------------------------------------------

def test_fixture_options_and_files(fx):
    opts, cfg = fx["opts"], fx["model"].cfg
    d = fx["dir"]
    for fn in ("config.json", "tokenizer.json", "delta.npz", "public.json", "metrics.json",
               "reference.npz", "train_log.json"):
        assert os.path.exists(os.path.join(d, fn)), fn
    assert not os.path.exists(os.path.join(d, "weights.npz"))  # only the delta
    # The combination: a frozen prefix, LoRA and merged heads.
    assert 0 < opts.frozen_prefix < cfg.n_layer and opts.lora_rank > 0 and opts.merge_heads > 1
    assert fx["model"].heads == [cfg.n_head] * opts.frozen_prefix + \
        [cfg.n_head // opts.merge_heads] * (cfg.n_layer - opts.frozen_prefix)
    z = np.load(os.path.join(d, "delta.npz"))
    assert all(z[k].dtype == np.float16 for k in z.files)
    assert sorted(z.files) == sorted(M.private_names(fx["model"], opts))
    # In the trained blocks the delta holds LoRA factors only, [R, in] and
    # [out, R], no full matrix; the whole delta is a fraction of the base.
    for k in z.files:
        if k.startswith("blocks."):
            assert k.endswith((".lora_a", ".lora_b")) or z[k].ndim == 1, k
            assert opts.lora_rank in z[k].shape or z[k].ndim == 1, k
    n_delta = sum(z[k].size for k in z.files)
    assert n_delta < 0.25 * fx["base"].num_params()
    met = json.load(open(os.path.join(d, "metrics.json")))
    assert met["gain_bpb"] > 0.1
    assert met["finetuned"]["shift_test"]["bpb"] < met["base"]["shift_test"]["bpb"]


def test_delta_loader_reproduces_the_trained_model(fx):
    """Logits recorded from the trained model in memory (its private
    parameters rounded to fp16, as stored) are reproduced by the loader."""
    ref = np.load(os.path.join(fx["dir"], "reference.npz"))
    model = fx["model"]
    with torch.no_grad():
        for k in ("prompt", "shift"):
            if f"ids_{k}" not in ref.files:
                continue
            got = model(torch.from_numpy(ref[f"ids_{k}"])).numpy()
            assert np.abs(got - ref[f"logits_{k}"]).max() < 1e-4, k
            # and it is not the base model
            base = fx["base"](torch.from_numpy(ref[f"ids_{k}"])).numpy()
            assert np.abs(base - ref[f"logits_{k}"]).max() > 0.5, k


def test_metrics_subset_recomputed(fx):
    """bpb/top-1 of metrics.json on the first whole shifted test files
    (SUBSET_BYTES), recomputed for the base and the fine-tuned model."""
    from umbra_models.eval import evaluate, token_lengths
    if not os.path.isdir(M.SHIFT_ROOT):
        pytest.skip(f"{M.SHIFT_ROOT} not present")
    met = json.load(open(os.path.join(fx["dir"], "metrics.json")))
    ids, _ = M.shift_split(fx["tok"], "test", max_bytes=M.SUBSET_BYTES)
    tl = token_lengths(fx["tok"])
    for key, model in (("base", fx["base"]), ("finetuned", fx["model"])):
        want = met[key]["shift_test_subset"]
        r = evaluate(model, ids, tl, seq=want["seq"], batch=8)
        assert r["tokens"] == want["tokens"]
        assert abs(r["bpb"] - want["bpb"]) < 1e-3, (key, r["bpb"], want["bpb"])
        assert abs(r["top1"] - want["top1"]) < 2e-3, key


def test_frozen_parts_equal_the_base(fx):
    """Every public parameter is the base's parameter, bit for bit: the
    embeddings (and the tied head), blocks 0..K-1, and the base weights
    under LoRA; the base's value of each LoRA'd linear sits under
    ``<name>.base``."""
    model, base = fx["model"], fx["base"]
    bp = dict(base.named_parameters())
    pub = M.public_names(model)
    assert (model.lm_head.weight is model.tok_emb.weight) == (fx["opts"].head == "tied")
    for n, p in model.named_parameters():
        if n not in pub:
            continue
        bn = n.replace(".base.", ".")
        assert torch.equal(p, bp[bn]), n
    K = fx["opts"].frozen_prefix
    for i in range(K):
        for n, p in model.blocks[i].named_parameters():
            assert n in {x.split(f"blocks.{i}.", 1)[1] for x in pub if x.startswith(f"blocks.{i}.")}
    # The trained blocks differ from the base only through LoRA (and merging).
    priv = set(M.private_names(model, fx["opts"]))
    assert all(n.startswith(tuple(f"blocks.{i}." for i in range(K, model.cfg.n_layer)))
               for n in priv if n.endswith((".lora_a", ".lora_b")))
    assert any(float(p.abs().max()) > 0 for n, p in model.named_parameters() if n.endswith(".lora_b"))


# ---- LoRA and merged heads ------------------------------------------------------

@pytest.mark.parametrize("export_sum", [False, True])
def test_lora_forward(export_sum):
    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 24)
    lo = M.LoRALinear(lin, 4, 8.0, export_sum=export_sum)
    with torch.no_grad():
        lo.lora_b.normal_()
    x = torch.randn(2, 5, 16)
    W = lin.weight + 2.0 * lo.lora_b @ lo.lora_a
    want = x @ W.t() + lin.bias
    assert torch.allclose(lo(x), want, atol=1e-5)
    assert torch.allclose(lo(x), lin(x) + 2.0 * (x @ lo.lora_a.t()) @ lo.lora_b.t(), atol=1e-5)
    lo.fold_scale()
    assert lo.scale == 1.0 and torch.allclose(lo(x), want, atol=1e-5)
    # A fresh adapter (B = 0) is the base linear.
    fresh = M.LoRALinear(torch.nn.Linear(16, 24), 4, 8.0)
    assert torch.equal(fresh(x), fresh.base(x))


def test_lora_forward_of_the_fixture(fx):
    """In the fixture, each LoRA'd linear computes x (W + B A)^T + b with W, b
    the base's (B holds the folded scale)."""
    model = fx["model"]
    x = torch.randn(1, 7, model.cfg.d_model)
    found = 0
    for name, m in model.named_modules():
        if isinstance(m, M.LoRALinear):
            found += 1
            assert m.scale == 1.0
            xin = x if m.base.in_features == x.shape[-1] else torch.randn(1, 7, m.base.in_features)
            W = m.base.weight + m.lora_b @ m.lora_a
            with torch.no_grad():
                assert torch.allclose(m(xin), F.linear(xin, W, m.base.bias), atol=1e-4), name
    K, n = fx["opts"].frozen_prefix, model.cfg.n_layer
    assert found == len(fx["opts"].lora_targets) * (n - K)


def reference_attention(attn, x, H):
    """Causal attention of ``attn``'s weights with H heads, written out."""
    B, T_, D = x.shape
    hd = D // H
    q, k, v = attn.qkv(x).split(D, dim=2)
    q, k, v = (t.view(B, T_, H, hd).transpose(1, 2) for t in (q, k, v))
    s = q @ k.transpose(-2, -1) / np.sqrt(hd)
    s = s.masked_fill(~torch.tril(torch.ones(T_, T_, dtype=torch.bool)), float("-inf"))
    y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T_, D)
    return attn.proj(y)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_merged_heads(m):
    from umbra_models.config import preset
    from umbra_models.model import build_model
    torch.manual_seed(1)
    base = build_model(preset("gpt2-tiny", n_head=4, d_model=64, max_seq=16))
    with torch.no_grad():  # sharp attention: merging heads makes a difference
        for p in base.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    attn = base.blocks[0].attn
    merged = M.merged_attention(attn, 4 // m)
    assert (merged is attn) == (m == 1)
    assert merged.cfg.n_head == 4 // m and merged.cfg.head_dim == 16 * m
    for a, b in zip(attn.parameters(), merged.parameters()):  # same weights, same shapes
        assert torch.equal(a, b)
    x = torch.randn(2, 9, 64)
    with torch.no_grad():
        y = merged(x)
        assert y.shape == x.shape
        assert torch.allclose(y, reference_attention(attn, x, 4 // m), atol=1e-5)
        if m > 1:  # a different function than the base's heads
            assert not torch.allclose(y, attn(x), atol=1e-3)
    # In a model: frozen blocks keep the base's heads.
    mod = M.build_marill(base, M.MarillOptions(frozen_prefix=1, merge_heads=m))
    assert mod.heads == [4, 4 // m]
    assert mod.blocks[0].attn.cfg.n_head == 4 and mod.blocks[1].attn.cfg.n_head == 4 // m
    with torch.no_grad():
        ids = torch.randint(0, base.cfg.vocab_size, (1, 12))
        h0 = base.blocks[0](base.tok_emb(ids) + base.pos_emb(base.pos_ids[:, :12]))
        assert torch.equal(mod.blocks[0](mod.tok_emb(ids) + mod.pos_emb(mod.pos_ids[:, :12])), h0)
        assert mod(ids).shape == (1, 12, base.cfg.vocab_size)
        if m == 1:
            assert torch.equal(mod(ids), base(ids))


def test_trained_sets_of_each_variant():
    """What each option trains (requires_grad) and leaves public."""
    from umbra_models.config import preset
    from umbra_models.model import build_model
    base = build_model(preset("gpt2-tiny", n_layer=3, n_head=4, max_seq=16))

    def trained(**kw):
        m = M.build_marill(base, M.MarillOptions(**kw))
        names = {n for n, p in m.named_parameters() if p.requires_grad}
        assert names == set(M.private_names(m, m.marill))
        rx = M.public_regex(m)
        for n, _ in m.named_parameters():
            assert bool(rx and re.fullmatch(rx, n)) == (n not in names), (kw, n)
        return names, rx

    names, rx = trained()
    assert len(names) == len(list(base.parameters())) and rx == ""
    names, rx = trained(frozen_prefix=2)
    assert not any(n.startswith(("tok_emb", "pos_emb", "blocks.0.", "blocks.1.")) for n in names)
    assert "blocks.2.attn.qkv.weight" in names and "ln_f.weight" in names
    names, _ = trained(lora_rank=4)
    assert names == {f"blocks.{i}.{t}.{ab}" for i in range(3) for t in M.DEFAULT_TARGETS
                     for ab in ("lora_a", "lora_b")}
    names, _ = trained(frozen_prefix=1, lora_rank=4, lora_targets=["attn.qkv"], train_norms=True)
    assert names == {"blocks.1.attn.qkv.lora_a", "blocks.1.attn.qkv.lora_b",
                     "blocks.2.attn.qkv.lora_a", "blocks.2.attn.qkv.lora_b", "ln_f.weight",
                     "ln_f.bias"} | {f"blocks.{i}.{ln}.{w}" for i in (1, 2) for ln in ("ln1", "ln2")
                                     for w in ("weight", "bias")}


# ---- the exported ONNX ---------------------------------------------------------

def test_public_regex_names_exactly_the_public_initializers(fx, onnx_path):
    names = M.onnx_initializer_names(onnx_path)
    pub = set(M.public_names(fx["model"]))
    priv = set(M.private_names(fx["model"], fx["opts"]))
    assert set(names) == pub | priv  # every initializer is a parameter, by name
    rx = re.compile(fx["regex"])
    assert {n for n in names if rx.fullmatch(n)} == pub
    assert not any(rx.fullmatch(n) for n in priv)
    # LoRA: the base weight and the factors are separate initializers.
    assert any(n.endswith(".base.weight") for n in pub)
    assert all(n.endswith((".lora_a", ".lora_b")) or n == "lm_head.weight" or
               n.startswith("ln_f.") or ".ln1." in n or ".ln2." in n for n in priv), priv


# ---- end to end under MPC --------------------------------------------------------

def run_local(art, ids_path, work, tag):
    out, stats = os.path.join(work, f"out-{tag}"), os.path.join(work, f"stats-{tag}.json")
    reference.run_tool([tools()[1], art, "--local", "-i", f"input_ids={ids_path}", "-o", out,
                        "--stats", stats, "--timeout", "300"])
    p0 = json.load(open(os.path.join(work, f"stats-{tag}.p0.json")))
    return np.load(os.path.join(out, "logits.npy")), p0


def online_bytes(p0):
    inf = p0["phases"]["inference"]
    return inf["bytes_sent"] + inf["bytes_recv"]


@pytest.fixture(scope="module")
def e2e(fx, onnx_path, tmp_path_factory):
    comp, run = tools()
    work = str(tmp_path_factory.mktemp("marill-e2e"))
    ref = np.load(os.path.join(fx["dir"], "reference.npz"))
    if "ids_prompt" not in ref.files:
        pytest.skip("no prompt in reference.npz")
    ids = ref["ids_prompt"]
    assert ids.shape == (1, T)
    ids_path = os.path.join(work, "ids.npy")
    np.save(ids_path, ids)
    art = os.path.join(work, "marill.umbra")
    r = reference.run_tool([comp, onnx_path, "-o", art, "--public-weight-names", fx["regex"],
                            "--leakage-report"])
    t0 = time.monotonic()
    got, p0 = run_local(art, ids_path, work, "marill")
    wall = time.monotonic() - t0
    dump = json.loads(reference.run_tool([run, art, "--dump", "--json"]).stdout)
    # The public base, every weight the owner's: what the fixture would
    # cost without Marill's choices (and with standard fine-tuning).
    base_onnx = os.path.join(work, "base.onnx")
    export_onnx(fx["base"], base_onnx, T)
    base_art = reference.compile_onnx(base_onnx, os.path.join(work, "base.umbra"))
    _, base_p0 = run_local(base_art, ids_path, work, "base")
    with torch.no_grad():
        want = fx["model"](torch.from_numpy(ids)).numpy()
    srt = np.sort(want, -1)
    print(f"\nmarill: max|mpc - torch| {np.abs(got - want).max():.4f}, min top-2 gap "
          f"{float((srt[..., -1] - srt[..., -2]).min()):.3f}, online {online_bytes(p0)} B, "
          f"{p0['phases']['inference']['rounds']} rounds, {wall:.1f} s; base with owner "
          f"weights: {online_bytes(base_p0)} B, {base_p0['phases']['inference']['rounds']} rounds")
    return {"got": got, "want": want, "p0": p0, "base_p0": base_p0, "report": r.stdout,
            "dump": dump}


def test_end_to_end_logits(e2e):
    got, want = e2e["got"], e2e["want"]
    assert got.shape == want.shape
    assert float(np.abs(got - want).max()) <= TOL
    assert (got.argmax(-1) == want.argmax(-1)).all()


def test_prefix_runs_at_the_client(fx, e2e):
    """The leakage report reveals the logits only and lists the public
    weights; every instruction of the embeddings and the frozen blocks is
    the client's (plaintext: no bytes, no rounds), and the first trained
    block is where the owner's weights meet shared data."""
    rep = e2e["report"]
    assert "leakage report: 1 reveal" in rep and "'logits'" in rep
    m = re.search(r"public weights the user marked public: (\d+)", rep)
    assert m, rep
    listed = re.findall(r"from (\S+) \(--public-weight-names\)", rep)
    assert set(listed) == set(M.public_names(fx["model"]))
    K = fx["opts"].frozen_prefix
    prefix = ("/tok_emb/", "/pos_emb/") + tuple(f"/blocks.{i}/" for i in range(K))
    # (The client's result enters MPC by a ``share`` instruction named after
    # the op that produced it: the end of block K-1.)
    ins = [i for i in e2e["dump"]["instructions"] if i["name"].startswith(prefix)]
    assert ins and all(i["visibility"] in ("client", "public") for i in ins if i["op"] != "share"), \
        {(i["name"], i["op"], i["visibility"]) for i in ins
         if i["op"] != "share" and i["visibility"] not in ("client", "public")}
    shares = [i["name"] for i in ins if i["op"] == "share"]
    assert shares == [f"/blocks.{K - 1}/Add_1"], shares
    stats = [i for i in e2e["p0"]["instructions"]
             if i["phase"] == "inference" and i["name"].startswith(prefix) and i["op"] != "share"]
    assert stats and all(i["bytes_sent"] + i["bytes_recv"] == 0 and i["rounds"] == 0
                         for i in stats)
    first = [i for i in e2e["dump"]["instructions"] if i["name"].startswith(f"/blocks.{K}/")]
    assert any(i["visibility"] == "shared" for i in first)
    # Under LoRA the product with the public base weight is the client's
    # (block K) or local on shares (later blocks): never a Beaver product.
    for i in e2e["p0"]["instructions"]:
        if i["phase"] == "inference" and i["op"] == "matmul" and "/base/MatMul" in i["name"]:
            assert i["bytes_sent"] + i["bytes_recv"] == 0, i["name"]


def test_fewer_online_bytes_than_the_private_base(e2e):
    b, base = online_bytes(e2e["p0"]), online_bytes(e2e["base_p0"])
    assert b < base, (b, base)
    assert e2e["p0"]["phases"]["inference"]["rounds"] < \
        e2e["base_p0"]["phases"]["inference"]["rounds"]
