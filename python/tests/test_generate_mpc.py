"""Private generation end to end (issue 12): torch exports the prefill and
the decode step, mpc-compile makes one generation artifact, and
mpc-run --local --generate N runs the dealer, P0 (the client) and P1 (the
model owner) as separate processes on loopback. The tokens P0 receives must
equal torch's greedy (or Gumbel-max) generation token for token; the key/value
cache stays secret-shared between the steps and is never revealed."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from conftest import PYDIR, fixture_dir
from umbra_models import reference
from umbra_models.config import preset
from umbra_models.generate import (export_generation, greedy_generate, gumbel_generate,
                                   gumbel_noise)
from umbra_models.model import build_model, load_model_dir
from umbra_models.tokenizer import tokenizer_of

T, N = 16, 16  # prompt tokens, generated tokens
PROMPT = os.path.join(os.path.dirname(PYDIR), "scripts", "demo_prompt.txt")


def tools():
    try:
        return reference.tool("mpc-compile"), reference.tool("mpc-run")
    except FileNotFoundError as e:
        pytest.skip(str(e))


def model_and_prompt(case):
    """The trained GPT-2- and OPT-style fixtures with a real text prompt, or
    a random LLaMA-style tiny model (untied, so that its tokens vary)."""
    if case == "llama":
        torch.manual_seed(0)
        m = build_model(preset("llama-tiny", tie_embeddings=False)).eval()
        ids = np.random.default_rng(3).integers(0, m.cfg.vocab_size, (1, T), dtype=np.int64)
        return m, ids, None
    d = fixture_dir(f"{case}-l4-d256")
    tok = tokenizer_of(d)
    ids = np.asarray(tok.encode(open(PROMPT, "rb").read())[:T], dtype=np.int64)[None]
    return load_model_dir(d), ids, os.path.join(d, "tokenizer.json")


def compile_generation(model, work, sampling="greedy", max_seq=T + N):
    compile_, _ = tools()
    pre, dec, _ = export_generation(model, str(work), T, sampling=sampling)
    art = str(work / "gen.umbra")
    reference.run_tool([compile_, pre, "--decode-step", dec, "--max-seq", str(max_seq),
                        "-o", art])
    return art


def run_generation(art, work, ids, n=N, extra=(), tokenizer=None):
    _, run = tools()
    np.save(work / "prompt.npy", ids)
    cmd = [run, art, "--local", "--generate", str(n), "-i", f"input_ids={work / 'prompt.npy'}",
           "-o", str(work / "out"), "--stats", str(work / "stats.json"), *extra]
    if tokenizer:
        cmd += ["--tokenizer", tokenizer]
    r = reference.run_tool(cmd, timeout=600)
    return np.load(work / "out" / "tokens.npy"), r


@pytest.mark.parametrize("case", ["gpt2", "opt", "llama"])
def test_greedy_generation_equals_torch(case, tmp_path):
    model, ids, tok = model_and_prompt(case)
    want = greedy_generate(model, ids, N)
    assert len(set(want)) > 2, want  # a continuation, not one token repeated
    art = compile_generation(model, tmp_path)
    got, r = run_generation(art, tmp_path, ids, tokenizer=tok)
    assert got.tolist() == want
    # Streamed: one line per token at P0 as soon as it is revealed.
    lines = [l for l in r.stdout.splitlines() if l.startswith("token ")]
    assert len(lines) == N and lines[0].startswith(f"token 1/{N}: {want[0]}")
    # Per-token costs: the prefill, then N - 1 decode steps at contexts
    # T .. T + N - 2, with far fewer online bytes than the prefill. Rounds:
    # the same layers, except that each softmax's maximum is a tree over
    # the P + 1 positions a step attends to (ceil(log2(P + 1)) levels of one
    # round with DCF comparisons) rather than the prompt's T. (The public
    # position picks its embedding row from a table shared at deployment:
    # no round.)
    steps = json.load(open(tmp_path / "stats.p0.json"))["steps"]
    assert [s["program"] for s in steps] == ["prefill"] + ["decode"] * (N - 1)
    assert [s["context"] for s in steps[1:]] == list(range(T, T + N - 1))
    pre, dec = steps[0], steps[1:]
    levels = lambda n: int(np.ceil(np.log2(n)))  # noqa: E731
    for s in dec:
        more = model.cfg.n_layer * (levels(s["context"] + 1) - levels(T))
        assert s["rounds"] == pre["rounds"] + more, (s, pre["rounds"])
    assert all(s["online_bytes_sent"] < pre["online_bytes_sent"] / 5 for s in dec)
    # One deployment per session: the decode step takes over the prefill's
    # (the owner's weights shared and the matmul masks opened once) and
    # deploys only what the prefill does not have (the whole position
    # table, shared for the public position's lookup), once.
    assert pre["deploy_bytes_sent"] > 0
    assert dec[0]["deploy_bytes_sent"] < pre["deploy_bytes_sent"] / 10
    assert all(s["deploy_bytes_sent"] == 0 and s["deploy_bytes_received"] == 0 for s in dec[1:])
    # The cache grows by one position a step: so do the attention's bytes.
    assert dec[-1]["online_bytes_sent"] > dec[0]["online_bytes_sent"]


def test_gumbel_sampling_equals_torch(tmp_path):
    """Gumbel-max sampling with the client's noise (P0's input, shared into
    the computation): the same draws give torch's tokens."""
    model, ids, tok = model_and_prompt("gpt2")
    t = 0.8
    g = gumbel_noise(1234, N, model.cfg.vocab_size)
    want = gumbel_generate(model, ids, N, g, temperature=t)
    assert want != greedy_generate(model, ids, N)  # the noise matters here
    art = compile_generation(model, tmp_path, sampling="gumbel")
    np.save(tmp_path / "noise.npy", (t * g).astype(np.float32))
    got, _ = run_generation(art, tmp_path, ids, extra=["-i", f"noise={tmp_path / 'noise.npy'}"])
    assert got.tolist() == want


def test_generation_errors(tmp_path):
    """Requests the artifact cannot serve are refused before any connection,
    with a message naming the problem."""
    compile_, run = tools()
    torch.manual_seed(0)
    m = build_model(preset("gpt2-tiny")).eval()
    ids = np.zeros((1, T), dtype=np.int64)
    art = compile_generation(m, tmp_path, max_seq=T + 4)
    np.save(tmp_path / "prompt.npy", ids)

    def fails(args, needle):
        r = subprocess.run([run, art, "--local", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
        assert r.returncode != 0 and needle in r.stderr, r.stderr

    fails(["--generate", "6", "-i", f"input_ids={tmp_path / 'prompt.npy'}"],
          "exceed the artifact's maximum sequence")
    fails(["--generate", "2"], "missing input 'input_ids'")
    np.save(tmp_path / "short.npy", ids[:, :T - 2])
    fails(["--generate", "2", "-i", f"input_ids={tmp_path / 'short.npy'}"],
          "fewer than the prefill's")
    fails(["--generate", "2", "-i", f"input_ids={tmp_path / 'prompt.npy'}",
           "-i", f"past_key_0={tmp_path / 'prompt.npy'}"], "not an input")
    # A one-shot artifact cannot generate; --max-seq is required.
    one = str(tmp_path / "one.umbra")
    reference.run_tool([compile_, str(tmp_path / "prefill.onnx"), "-o", one])
    r = subprocess.run([run, one, "--local", "--generate", "2"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode != 0 and "needs a generation artifact" in r.stderr
    r = subprocess.run([compile_, str(tmp_path / "prefill.onnx"), "--decode-step",
                        str(tmp_path / "decode.onnx"), "-o", str(tmp_path / "x.umbra")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode != 0 and "needs --max-seq" in r.stderr


def testing_tool():
    run = tools()[1]
    t = os.path.join(os.path.dirname(run), "mpc-run-testing")
    if not os.path.exists(t):
        pytest.skip("mpc-run-testing not built")
    return t


def run_with_shares(art, work, ids, n, tag):
    """mpc-run-testing --local --generate n --dump-shares: each party's share
    of every cache tensor after each token, and what P1 received from P0
    during each token."""
    np.save(work / f"prompt-{tag}.npy", ids)
    dump = work / f"shares-{tag}"
    reference.run_tool([testing_tool(), art, "--local", "--generate", str(n),
                        "-i", f"input_ids={work / f'prompt-{tag}.npy'}", "-o",
                        str(work / f"out-{tag}"), "--dump-shares", str(dump)])

    def words(name):
        raw = (dump / name).read_bytes()
        return np.frombuffer(raw[1:], dtype=np.uint64)

    return words, np.load(work / f"out-{tag}" / "tokens.npy")


def test_cache_is_appended_and_matches_torch(tmp_path):
    """The parties' cache shares reconstruct, after the prefill and after
    every decode step, to torch's keys and values within the fixed-point
    tolerance; each step appends one position and leaves the shares of the
    earlier positions untouched (the cache is carried, not recomputed)."""
    from umbra_models.generate import DecodeStep, Prefill, cache_names
    model, ids, _ = model_and_prompt("gpt2")
    n = 4
    art = compile_generation(model, tmp_path, max_seq=T + n)
    words, toks = run_with_shares(art, tmp_path, ids, n, "a")
    names = cache_names(model.cfg.n_layer, "past")
    with torch.no_grad():
        _, *cache = Prefill(model).logits(torch.from_numpy(ids))
        want = [cache]
        step = DecodeStep(model)
        for k in range(1, n):
            tok = torch.tensor([[int(toks[k - 1])]])
            pos = torch.tensor([[T + k - 1]])
            _, *cache = step.logits(tok, pos, *cache)
            want.append(cache)
    worst = 0.0
    for k in range(n):
        for i, name in enumerate(names):
            s0, s1 = words(f"p0_cache_{k}_{name}.bin"), words(f"p1_cache_{k}_{name}.bin")
            got = ((s0 + s1).view(np.int64) / 2.0 ** 16).reshape(want[k][i].shape)
            err = np.abs(got - want[k][i].numpy())
            worst = max(worst, float(err.max()) / float(np.abs(want[k][i].numpy()).max()))
            # no bias: the mean error is far below the largest
            assert abs(float((got - want[k][i].numpy()).mean())) < 2e-4, (k, name)
            if k:
                prev0 = words(f"p0_cache_{k - 1}_{name}.bin").reshape(1, -1, T + k - 1, 64)
                assert np.array_equal(s0.reshape(1, -1, T + k, 64)[:, :, :-1], prev0), (k, name)
    assert worst < 2e-3, worst  # relative to the tensor's largest entry


def test_p1_view_of_a_decode_step_is_uniform(tmp_path):
    """What P1 receives from P0 during a decode step (masked openings and
    shares) is uniform on the top byte whatever the prompt, and the views of
    two different prompts are indistinguishable (two-sample chi-square, 255
    degrees of freedom, < 400 ~ p 1e-8)."""
    model, ids, _ = model_and_prompt("gpt2")
    other = np.random.default_rng(9).integers(0, model.cfg.vocab_size, ids.shape, dtype=np.int64)
    n = 3
    art = compile_generation(model, tmp_path, max_seq=T + n)
    views = []
    for tag, prompt in (("a", ids), ("b", other)):
        words, _ = run_with_shares(art, tmp_path, prompt, n, tag)
        views.append([words(f"p1_view_{k}.bin") for k in range(1, n)])

    def chi2(*samples):
        hs = [np.bincount((s >> np.uint64(56)).astype(np.int64), minlength=256) for s in samples]
        if len(hs) == 1:
            e = len(samples[0]) / 256
            return float(((hs[0] - e) ** 2 / e).sum())
        a, b = hs
        tot = a + b
        m = tot > 0
        na, nb = a.sum(), b.sum()
        return float((((a * np.sqrt(nb / na) - b * np.sqrt(na / nb)) ** 2)[m] / tot[m]).sum())

    for k in range(n - 1):
        va, vb = views[0][k], views[1][k]
        assert len(va) == len(vb) > 100000
        assert chi2(va) < 400 and chi2(vb) < 400
        assert chi2(va, vb) < 400


def test_gumbel_top_k_sampling_equals_torch(tmp_path):
    """Gumbel-max restricted to the k most likely tokens (TopK, a comparison
    with the k-th logit and Where, all under MPC) gives torch's tokens."""
    model, ids, _ = model_and_prompt("gpt2")
    k, t = 5, 1.5
    g = gumbel_noise(77, N, model.cfg.vocab_size)
    want = gumbel_generate(model, ids, N, g, temperature=t, top_k=k)
    # the restriction matters: unrestricted sampling with this noise differs
    assert want != gumbel_generate(model, ids, N, g, temperature=t)
    compile_, _ = tools()
    pre, dec, _ = export_generation(model, str(tmp_path), T, sampling="gumbel", top_k=k)
    art = str(tmp_path / "gen.umbra")
    reference.run_tool([compile_, pre, "--decode-step", dec, "--max-seq", str(T + N), "-o", art])
    np.save(tmp_path / "noise.npy", (np.float32(t) * g).astype(np.float32))
    got, _ = run_generation(art, tmp_path, ids, extra=["-i", f"noise={tmp_path / 'noise.npy'}"])
    assert got.tolist() == want


def test_end_of_sequence_stop(tmp_path):
    """The opt-in stop: the graphs also output stop = (token == eos), which
    the compiler reveals to every role (a declared reveal in the leakage
    report); the run ends after that token at every role, the dealer too,
    and the client has torch's tokens up to and including it."""
    model, ids, _ = model_and_prompt("gpt2")
    full = greedy_generate(model, ids, N)
    at = next(i for i in range(3, N) if full[i] not in full[:i])
    eos = full[at]
    compile_, _ = tools()
    pre, dec, _ = export_generation(model, str(tmp_path), T, eos_token=eos)
    art = str(tmp_path / "gen.umbra")
    r = reference.run_tool([compile_, pre, "--decode-step", dec, "--max-seq", str(T + N),
                            "-o", art, "--leakage-report"])
    assert r.stdout.count("reveal #1 to all: 1x1") == 2, r.stdout  # both programs
    assert "output declared public" in r.stdout
    got, run = run_generation(art, tmp_path, ids)
    assert got.tolist() == full[:at + 1]
    assert run.stderr.count("stopped: the end-of-sequence token") == 3  # every role
    stats = json.load(open(tmp_path / "stats.dealer.json"))
    assert stats["stopped"] and len(stats["steps"]) == at + 1


def test_hugging_face_cache_names(tmp_path):
    """A decode step whose cache is named as Hugging Face's exporter names
    it (past_key_values.0.key in, present.0.key out) is found and carried
    the same way; LLaMA-style, so the rotary rows come from the public
    position."""
    model, ids, _ = model_and_prompt("llama")
    n = 6
    want = greedy_generate(model, ids, n)
    compile_, _ = tools()
    pre, dec, _ = export_generation(model, str(tmp_path), T, naming="hf")
    art = str(tmp_path / "gen.umbra")
    reference.run_tool([compile_, pre, "--decode-step", dec, "--max-seq", str(T + n), "-o", art])
    dump = reference.run_tool([tools()[1], art, "--dump"]).stdout
    assert "cache past_key_values.0.key [1x2x16x32]" in dump, dump[-2000:]
    got, _ = run_generation(art, tmp_path, ids, n=n)
    assert got.tolist() == want


def test_prompt_longer_than_the_prefill(tmp_path):
    """One artifact serves every prompt at least as long as its prefill's:
    the tokens after the first T are fed by decode steps (teacher-forced;
    their choices are not generated tokens), then generation goes on. The
    prompt's length is public (P0 announces it; P1 and the dealer check it
    fits). The tokens are torch's for the whole prompt."""
    model, _, _ = model_and_prompt("gpt2")
    d = fixture_dir("gpt2-l4-d256")
    long_ids = np.asarray(tokenizer_of(d).encode(open(PROMPT, "rb").read())[:T + 5],
                          dtype=np.int64)[None]
    n = 6
    want = greedy_generate(model, long_ids, n)
    art = compile_generation(model, tmp_path, max_seq=T + 5 + n)
    got, r = run_generation(art, tmp_path, long_ids, n=n)
    assert got.tolist() == want
    steps = json.load(open(tmp_path / "stats.p1.json"))["steps"]
    assert [s["program"] for s in steps] == ["prefill"] + ["prompt"] * 4 + ["decode"] * n
    assert [s["token"] for s in steps] == [-1] * 5 + list(range(n))
    # too long for the artifact: refused before any connection
    too = tmp_path / "too.npy"
    np.save(too, np.zeros((1, T + 5 + n), dtype=np.int64))
    _, run = tools()
    p = subprocess.run([run, art, "--local", "--generate", str(n), "-i", f"input_ids={too}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode != 0 and "exceed the artifact's maximum sequence" in p.stderr


@pytest.mark.parametrize("who", ["p0", "p1", "dealer"])
def test_a_role_that_disappears_mid_generation(who, tmp_path):
    """A role that exits before the third decode step: every other role
    ends with an error that names the lost peer, within the timeout, and
    nothing hangs."""
    model, ids, _ = model_and_prompt("gpt2")
    art = compile_generation(model, tmp_path, max_seq=T + 8)
    np.save(tmp_path / "prompt.npy", ids)
    r = subprocess.run([testing_tool(), art, "--local", "--generate", "8", "--timeout", "10",
                        "-i", f"input_ids={tmp_path / 'prompt.npy'}",
                        "--fault", f"{who}:exit-run:3"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert r.returncode != 0
    assert f"{who} exited with status 3" in r.stderr, r.stderr
    others = [x for x in ("p0", "p1", "dealer") if x != who]
    for x in others:
        assert f"{x} exited with status 1" in r.stderr, r.stderr
    # the tokens before the loss reached the client (streamed)
    if who != "p0":
        assert "token 3/8" in r.stdout and "token 4/8" not in r.stdout, r.stdout
