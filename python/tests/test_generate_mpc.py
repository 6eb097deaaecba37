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
    # round with DCF comparisons) rather than the prompt's T, and one more
    # round shares the owner's position-embedding row (the prefill shares
    # its rows at deployment).
    steps = json.load(open(tmp_path / "stats.p0.json"))["steps"]
    assert [s["program"] for s in steps] == ["prefill"] + ["decode"] * (N - 1)
    assert [s["context"] for s in steps[1:]] == list(range(T, T + N - 1))
    pre, dec = steps[0], steps[1:]
    levels = lambda n: int(np.ceil(np.log2(n)))  # noqa: E731
    extra_pos = 0 if case == "llama" else 1  # llama: public rotary rows
    for s in dec:
        more = model.cfg.n_layer * (levels(s["context"] + 1) - levels(T)) + extra_pos
        assert s["rounds"] == pre["rounds"] + more, (s, pre["rounds"])
    assert all(s["online_bytes_sent"] < pre["online_bytes_sent"] / 5 for s in dec)
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
