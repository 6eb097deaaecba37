"""The outsourced mode and the serving mode (issue 12, docs/serving.md).

P0, P1 and the dealer run `mpc-run --serve` as three long-running
processes: they connect and deploy the owner's weights once, then serve thin
clients (`mpc-run --role client`), each of which secret-shares its prompt to
P0 and P1 and alone receives its tokens. Sessions run one after another and
side by side, each with its own links, seeds, material streams and cache."""
import glob
import os
import socket
import subprocess
import time

import numpy as np
import pytest
import torch

from conftest import PYDIR, fixture_dir
from test_generate_mpc import testing_tool as hooks_binary, tools
from umbra_models import reference
from umbra_models.generate import export_generation, greedy_generate
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of

T, N = 16, 8
PROMPT = os.path.join(os.path.dirname(PYDIR), "scripts", "demo_prompt.txt")
MAKE_CERTS = os.path.join(os.path.dirname(PYDIR), "scripts", "make-certs.sh")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    """The trained GPT-2-style fixture compiled for generation, and three
    prompts: two slices of the demo text and a random one."""
    work = tmp_path_factory.mktemp("serve")
    d = fixture_dir("gpt2-l4-d256")
    model = load_model_dir(d)
    ids = np.asarray(tokenizer_of(d).encode(open(PROMPT, "rb").read()), dtype=np.int64)
    prompts = [ids[None, :T], ids[None, 40:40 + T],
               np.random.default_rng(5).integers(0, model.cfg.vocab_size, (1, T), dtype=np.int64)]
    pre, dec, _ = export_generation(model, str(work), T)
    art = str(work / "gen.umbra")
    reference.run_tool([tools()[0], pre, "--decode-step", dec, "--max-seq", str(T + N),
                        "-o", art])
    want = [greedy_generate(model, p, N) for p in prompts]
    return art, prompts, want


class Servers:
    """P0, P1 and the dealer serving `sessions` sessions (or until stopped)."""

    def __init__(self, tool, art, work, sessions=None, extra=(), public=None):
        p0, dealer, p1 = free_ports(3)
        self.addrs = ["--p0", f"127.0.0.1:{p0}", "--dealer", f"127.0.0.1:{dealer}",
                      "--p1", f"127.0.0.1:{p1}"]
        self.p1_port = p1
        # `public`: the stripped copy, for the dealer, P0 and the clients.
        self.tool, self.art, self.work = tool, public or art, work
        self.procs, self.logs = {}, {}
        for role in ("dealer", "p0", "p1"):
            self.logs[role] = work / f"{role}.log"
            cmd = [tool, art if role == "p1" else self.art, "--serve", "--role", role,
                   *self.addrs, "--timeout", "20", "--connect-timeout", "5",
                   *extra]
            if sessions:
                cmd += ["--sessions", str(sessions)]
            self.procs[role] = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=open(self.logs[role], "w"),
                universal_newlines=True)
        deadline = time.time() + 120
        while not all("serving" in self.log(r) for r in self.procs):
            for r, p in self.procs.items():
                assert p.poll() is None, f"{r} ended: {self.log(r)}"
            assert time.time() < deadline, {r: self.log(r) for r in self.procs}
            time.sleep(0.1)

    def log(self, role):
        return open(self.logs[role]).read()

    def client(self, ids, tag, tool=None, extra=()):
        """Starts a thin client generating N tokens from `ids`."""
        np.save(self.work / f"prompt-{tag}.npy", ids)
        cmd = [tool or self.tool, self.art, "--role", "client", *self.addrs, "--generate",
               str(N), "-i", f"input_ids={self.work / f'prompt-{tag}.npy'}",
               "-o", str(self.work / f"out-{tag}"), "--timeout", "20", *extra]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)

    def tokens(self, tag):
        return np.load(self.work / f"out-{tag}" / "tokens.npy").tolist()

    def wait(self):
        """Waits for the servers to end (after --sessions) and returns their
        stdout by role."""
        out = {r: p.communicate(timeout=120)[0] for r, p in self.procs.items()}
        for r, p in self.procs.items():
            assert p.returncode == 0, (r, self.log(r))
        return out

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def finish(client):
    out, err = client.communicate(timeout=300)
    return client.returncode, out, err


def test_two_concurrent_clients_then_a_third_over_tls(gpt2, tmp_path):
    """Two thin clients generate concurrently against one deployment, then
    a third after them: each gets torch's greedy tokens for its own prompt.
    All links are mutual TLS 1.3 with each role's certificate (the client's
    bound to role client). The dealer, P0 and the clients have the copy
    without the owner's weights. The servers deploy once and learn no
    token."""
    art, prompts, want = gpt2
    certs = tmp_path / "certs"
    subprocess.run(["bash", MAKE_CERTS, str(certs)], check=True, capture_output=True)
    tls = ["--tls-dir", str(certs)]
    public = str(tmp_path / "gen-public.umbra")
    reference.run_tool([tools()[1], art, "--strip-owner-weights", public])
    s = Servers(tools()[1], art, tmp_path, sessions=3, extra=tls, public=public)
    try:
        a, b = s.client(prompts[0], "a", extra=tls), s.client(prompts[1], "b", extra=tls)
        ra, rb = finish(a), finish(b)
        assert ra[0] == 0 and rb[0] == 0, (ra[2], rb[2])
        c = finish(s.client(prompts[2], "c", extra=tls))
        assert c[0] == 0, c[2]
        out = s.wait()
    finally:
        s.stop()
    assert [s.tokens(t) for t in "abc"] == want
    # Streamed to the client as each is revealed.
    lines = [l for l in ra[1].splitlines() if l.startswith("token ")]
    assert len(lines) == N and lines[0] == f"token 1/{N}: {want[0][0]}"
    assert "TLS 1.3" in ra[2] and "peer p1 verified" in ra[2]
    for role in ("dealer", "p0", "p1"):
        log = s.log(role)
        assert log.count("deployed in") == 1, log  # the weights shared once
        assert "served 3 sessions (0 failed)" in log, log
        assert "plaintext" not in log
        assert out[role] == ""  # no token line at a server
        for t in want[0]:  # no token id in a server's log
            assert f": {t}\n" not in log
    # The three sessions ran on their own links (their ids in the log).
    sessions = {l.split("session ")[1][:8] for l in s.log("p0").splitlines()
                if l.startswith("[p0 session ")}
    assert len(sessions) == 3


def test_a_client_that_disconnects_ends_only_its_session(gpt2, tmp_path):
    """A client that disappears before its third decode step ends its own
    session at every server (with an error naming the lost link); a
    stranger on P1's client port is refused; the servers keep serving, and
    the next client gets its tokens."""
    art, prompts, want = gpt2
    s = Servers(hooks_binary(), art, tmp_path, sessions=2)
    try:
        gone = finish(s.client(prompts[0], "gone", extra=["--fault", "exit-run:3"]))
        assert gone[0] == 3
        # The tokens before the disappearance reached the client.
        assert [l for l in gone[1].splitlines() if l.startswith("token ")][:3] == \
            [f"token {k + 1}/{N}: {want[0][k]}" for k in range(3)]
        with socket.create_connection(("127.0.0.1", s.p1_port)) as k:
            k.sendall(b"GET / HTTP/1.0\r\n\r\n")
        # A client that reaches P0 but not P1 (a wrong --p1): it fails with
        # a message, and P0 drops its half-made session after the connect
        # timeout.
        np.save(tmp_path / "half.npy", prompts[0])
        wrong = s.addrs[:-1] + [f"127.0.0.1:{free_ports(1)[0]}"]
        half = subprocess.run([hooks_binary(), art, "--role", "client", *wrong, "--generate",
                               str(N), "-i", f"input_ids={tmp_path / 'half.npy'}",
                               "--connect-timeout", "1"],
                              capture_output=True, text=True, timeout=60)
        assert half.returncode == 1 and "cannot connect to p1" in half.stderr, half.stderr
        deadline = time.time() + 30
        while "dropped its client link" not in s.log("p0"):
            assert time.time() < deadline, s.log("p0")
            time.sleep(0.2)
        ok = finish(s.client(prompts[1], "ok"))
        assert ok[0] == 0, ok[2]
        s.wait()
    finally:
        s.stop()
    assert s.tokens("ok") == want[1]
    for role in ("dealer", "p0", "p1"):
        assert "served 2 sessions (1 failed)" in s.log(role), s.log(role)
    assert "lost" in s.log("p0") and "ended with an error" in s.log("p0")
    assert "refused connection from" in s.log("p1") and "bad frame magic" in s.log("p1")


def test_servers_see_only_masked_shares_of_the_client(gpt2, tmp_path):
    """What P0 receives from the client (its prompt's and tokens' one-hot
    rows, masked) is uniform on the top byte, for two different prompts,
    and the two views are indistinguishable (chi-square, 255 degrees of
    freedom, < 400 ~ p 1e-8); P1 receives from the client only the mask
    stream's 16-byte seed. The cache shares of both concurrent sessions
    reconstruct to different caches (each session its own)."""
    art, prompts, want = gpt2
    dump = tmp_path / "dump"
    s = Servers(hooks_binary(), art, tmp_path, sessions=2, extra=["--dump-shares", str(dump)])
    try:
        a, b = s.client(prompts[0], "a"), s.client(prompts[1], "b")
        ra, rb = finish(a), finish(b)
        assert ra[0] == 0 and rb[0] == 0, (ra[2], rb[2])
        s.wait()
    finally:
        s.stop()
    assert [s.tokens("a"), s.tokens("b")] == want[:2]

    def chi2(*samples):
        hs = [np.bincount((x >> np.uint64(56)).astype(np.int64), minlength=256) for x in samples]
        if len(hs) == 1:
            e = len(samples[0]) / 256
            return float(((hs[0] - e) ** 2 / e).sum())
        tot = hs[0] + hs[1]
        keep = tot > 0
        n0, n1 = hs[0].sum(), hs[1].sum()
        e0, e1 = tot * n0 / (n0 + n1), tot * n1 / (n0 + n1)
        return float((((hs[0] - e0) ** 2 / e0 + (hs[1] - e1) ** 2 / e1)[keep]).sum())

    def view(sid):
        words = []
        for f in sorted(glob.glob(str(dump / f"{sid}_p0_view_*.bin"))):
            words.append(np.fromfile(f, dtype=np.uint8)[1:].view(np.uint64))
        return np.concatenate(words)

    sids = sorted({os.path.basename(f)[:8] for f in glob.glob(str(dump / "*_p0_view_0.bin"))})
    assert len(sids) == 2
    va, vb = view(sids[0]), view(sids[1])
    # The public length of the prompt's tail beyond the prefill (0 here),
    # then one masked one-hot row of the vocabulary per token.
    vocab = 1536
    assert len(va) == len(vb) == 1 + (T + N - 1) * vocab and va[0] == vb[0] == 0
    va, vb = va[1:], vb[1:]
    assert chi2(va) < 400 and chi2(vb) < 400 and chi2(va, vb) < 400
    # Each session its own cache: the two sessions' reconstructed caches
    # differ (their prompts do) and each is complete.
    def cache(sid):
        f0 = sorted(glob.glob(str(dump / f"{sid}_p0_cache_0_*.bin")))
        assert f0
        return [np.fromfile(f, dtype=np.uint8)[1:].view(np.uint64) +
                np.fromfile(f.replace("_p0_", "_p1_"), dtype=np.uint8)[1:].view(np.uint64)
                for f in f0]
    ca, cb = cache(sids[0]), cache(sids[1])
    assert all(x.shape == y.shape and not np.array_equal(x, y) for x, y in zip(ca, cb))
    # P1's traffic with each client: the seed and its shares of the tokens.
    for log in (ra[2], rb[2]):
        p1 = [l for l in log.splitlines() if "traffic with p1" in l][0]
        assert " 128 B sent" in p1, p1  # hello (80 + 16) and seed (16 + 16)


def test_serving_mistakes(gpt2, tmp_path):
    """Clear refusals: a one-shot role given --serve inputs, a client
    without --p1, P1 serving without a client address."""
    art, prompts, _ = gpt2
    run = tools()[1]
    np.save(tmp_path / "p.npy", prompts[0])
    cases = [
        ([run, art, "--serve", "--role", "p0", "-i", f"input_ids={tmp_path / 'p.npy'}"],
         "takes no inputs"),
        ([run, art, "--serve", "--role", "p1"], "pass --p1"),
        ([run, art, "--serve", "--role", "client"], "--serve is for p0, p1 and the dealer"),
        ([run, art, "--role", "client", "--generate", "2", "-i",
          f"input_ids={tmp_path / 'p.npy'}"], "--role client is the thin client"),
        ([run, art, "--serve", "--local"], "does not combine"),
        ([run, art, "--role", "p0", "--sessions", "2"], "--sessions goes with --serve"),
    ]
    for cmd, msg in cases:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and msg in r.stderr, (cmd, r.stderr)


def serve_one_client(art, ids, work):
    """Servers for one session and one thin client: its tokens."""
    s = Servers(tools()[1], art, work, sessions=1)
    try:
        r = finish(s.client(ids, "one"))
        assert r[0] == 0, r[2]
        s.wait()
    finally:
        s.stop()
    return s.tokens("one")


def test_a_llama_style_model_serves_torch_tokens(tmp_path):
    """RMSNorm, SiLU-gated FFN, rotary positions (public tables of the
    position, computed from the deployment's constants in each session)."""
    from umbra_models.config import preset
    from umbra_models.model import build_model
    torch.manual_seed(0)
    model = build_model(preset("llama-tiny", tie_embeddings=False)).eval()
    ids = np.random.default_rng(3).integers(0, model.cfg.vocab_size, (1, T), dtype=np.int64)
    pre, dec, _ = export_generation(model, str(tmp_path), T)
    art = str(tmp_path / "gen.umbra")
    reference.run_tool([tools()[0], pre, "--decode-step", dec, "--max-seq", str(T + N), "-o", art])
    assert serve_one_client(art, ids, tmp_path) == greedy_generate(model, ids, N)


def test_a_sparse_model_serves_the_predicted_models_tokens(tmp_path):
    """Predicted sparsity (issue 13, docs/sparsity.md) in the outsourced
    serving mode: a ReLU decoder with activation predictors compiled with
    --sparsity=predicted; each step opens its permuted block masks to P0, P1
    and the dealer, and the thin client gets the tokens of the torch model
    that computes only the predicted blocks (not the dense model's)."""
    from umbra_models.config import preset
    from umbra_models.model import build_model
    from umbra_models.predictor import BlockPredictor, add_predictors, predicted_blocks
    torch.manual_seed(0)
    model = build_model(preset("opt-tiny", tie_embeddings=False)).eval()
    preds = []
    for _ in range(model.cfg.n_layer):
        p = BlockPredictor(model.cfg.d_model, 8, model.cfg.d_ff // 16)
        torch.nn.init.normal_(p.u.weight, 0, 0.5)
        torch.nn.init.normal_(p.v.weight, 0, 0.5)
        p.threshold = 0.0
        preds.append(p)
    ids = np.random.default_rng(3).integers(0, model.cfg.vocab_size, (1, T), dtype=np.int64)
    pre, dec, _ = export_generation(model, str(tmp_path), T)
    for f in (pre, dec):
        add_predictors(f, preds)
    art = str(tmp_path / "gen.umbra")
    reference.run_tool([tools()[0], pre, "--decode-step", dec, "--max-seq", str(T + N), "-o", art,
                        "--sparsity=predicted"])
    with predicted_blocks(model, preds):
        want = greedy_generate(model, ids, N)
    assert want != greedy_generate(model, ids, N)  # the sparsity matters here
    assert serve_one_client(art, ids, tmp_path) == want
