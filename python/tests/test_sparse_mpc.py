"""Comet's predicted sparsity end to end (issue 13): the trained OPT-style
fixture with its committed activation predictors
(fixtures/opt-l4-d256/predictors.npz, no training here) is exported to ONNX
with the predictors as initializers, compiled with
``mpc-compile --sparsity=predicted`` and run with ``mpc-run --local`` (the
dealer, P0 and P1 as processes on loopback). The client's logits must be
those of the torch model that computes only the predicted blocks
(``predictor.predicted_blocks``), within the bound the dense end-to-end
tests use, with the same top-1 at every position; the sparse program must
move fewer online bytes than the same model compiled dense; and the masks
are per token. Then the per-inference leakage policy and merged blocks
(``--sparsity-block 32``: two predictor blocks per block, torch's
``group=2``), and the compiler's refusals. Each variant is compiled and run
once; 10-20 s in all on 2 cores."""
import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest
import torch

from conftest import PYDIR, fixture_dir
from umbra_models import predictor as P
from umbra_models import reference
from umbra_models.export import export_onnx
from umbra_models.tokenizer import tokenizer_of

T = 32  # prompt tokens
PROMPT = os.path.join(os.path.dirname(PYDIR), "scripts", "demo_prompt.txt")
# The bound of the dense end-to-end tests (test/Tools/mpc-compile/Inputs/
# e2e_decoders.py): max |logit_mpc - logit_torch|. The dense compiled
# fixture measures 0.022 on this prompt (fixed point and the protocols'
# exp, 1/x and 1/sqrt(x); the runtime's reference executor, exact in
# those, is within 1e-5 of torch); the sparse program adds no approximation
# (the masks are comparisons, the skipped blocks exact zeros), so it is
# held to the same bound. The smallest top-2 gap of torch's logits on this
# prompt is 0.021, and the programs' error in it is ~0.002 (stable from run
# to run): the top-1 comparison is not at a tie.
TOL = 0.05


def tools():
    try:
        return reference.tool("mpc-compile"), reference.tool("mpc-run")
    except FileNotFoundError as e:
        pytest.skip(str(e))


def compile_(onnx_path, art, *args):
    reference.run_tool([tools()[0], onnx_path, "-o", art, *args])
    return art


def run_local(art, ids_path, work, tag):
    """mpc-run --local: (logits at the client, P0's stats, wall seconds)."""
    out, stats = work / f"out-{tag}", work / f"stats-{tag}.json"
    t0 = time.monotonic()
    reference.run_tool([tools()[1], art, "--local", "-i", f"input_ids={ids_path}", "-o",
                        str(out), "--stats", str(stats), "--timeout", "300"])
    wall = time.monotonic() - t0
    p0 = json.load(open(work / f"stats-{tag}.p0.json"))
    return np.load(out / "logits.npy"), p0, wall


def online_bytes(p0):
    inf = p0["phases"]["inference"]
    return inf["bytes_sent"] + inf["bytes_recv"]


def live_blocks(p0, dense_p0, block):
    """Per FFN, the number of (token, block) pairs the program computed,
    read from P0's bytes for the FFN's ReLU: the sparse ReLU evaluates the
    live blocks only, the dense one all T x F neurons."""
    def relus(stats):
        return [i["bytes_sent"] for i in stats["instructions"]
                if i["phase"] == "inference" and i["op"] == "relu"
                and "/mlp/" in i["name"]]
    dense = relus(dense_p0)
    per_neuron = dense[0] / (T * 1024)
    return [int(round(b / per_neuron / block)) for b in relus(p0)]


@pytest.fixture(scope="module")
def opt(tmp_path_factory):
    """The permuted fixture, its predictors, the prompt, the ONNX files (with
    and without predictors) and the dense compiled run."""
    d = fixture_dir("opt-l4-d256")
    try:
        model, preds = P.load_predictor_fixture(d)
    except FileNotFoundError as e:
        pytest.skip(str(e))
    tools()
    work = tmp_path_factory.mktemp("sparse")
    tok = tokenizer_of(d)
    ids = np.asarray(tok.encode(open(PROMPT, "rb").read())[:T], dtype=np.int64)[None]
    assert ids.shape == (1, T)
    ids_path = str(work / "ids.npy")
    np.save(ids_path, ids)
    plain = str(work / "plain.onnx")
    export_onnx(model, plain, T)
    with_preds = str(work / "model.onnx")
    shutil.copyfile(plain, with_preds)
    P.add_predictors(with_preds, preds)
    with torch.no_grad():
        want_dense = model(torch.from_numpy(ids)).numpy()
    # The same file compiled without --sparsity: the predictors are ignored.
    art = compile_(with_preds, str(work / "dense.umbra"))
    got, p0, wall = run_local(art, ids_path, work, "dense")
    dense = {"logits": got, "p0": p0, "wall": wall, "torch": want_dense,
             "err": float(np.abs(got - want_dense).max())}
    print(f"\ndense: max|mpc - torch| {dense['err']:.4f} (max |logit| "
          f"{np.abs(want_dense).max():.2f}), online {online_bytes(p0)} B, "
          f"{p0['phases']['inference']['rounds']} rounds, {wall:.1f} s")
    return {"model": model, "preds": preds, "ids": ids, "ids_path": ids_path, "work": work,
            "plain": plain, "onnx": with_preds, "dense": dense, "runs": {}}


def torch_predicted(opt, group):
    """The torch model computing only the predicted blocks: logits, and per
    FFN the block masks [T, F/(16 group)] and the scores [T, F/16]."""
    model, preds = opt["model"], opt["preds"]
    ctx = P.predicted_blocks(model, preds, group)
    with ctx, torch.no_grad():
        logits = model(torch.from_numpy(opt["ids"])).numpy()
    return (logits, [f.last_mask[0].numpy() for f in ctx.ffns],
            [f.last_scores[0].numpy() for f in ctx.ffns])


def sparse_run(opt, leakage, block):
    """Compiles with --sparsity=predicted and runs one variant (once per
    module): the client's logits, P0's stats, the wall time and torch's
    reference."""
    key = (leakage, block)
    if key not in opt["runs"]:
        work = opt["work"]
        tag = f"{leakage}-{block}"
        args = ["--sparsity=predicted", f"--sparsity-leakage={leakage}"]
        if block != 16:
            args.append(f"--sparsity-block={block}")
        art = compile_(opt["onnx"], str(work / f"{tag}.umbra"), *args)
        got, p0, wall = run_local(art, opt["ids_path"], work, tag)
        want, masks, scores = torch_predicted(opt, block // 16)
        opt["runs"][key] = {"tag": tag, "logits": got, "p0": p0, "wall": wall, "want": want,
                            "masks": masks, "scores": scores}
    return opt["runs"][key]


def phase_bytes_of(p0, op, phase):
    return sum(i["bytes_sent"] + i["bytes_recv"] for i in p0["instructions"]
               if i["phase"] == phase and i["op"] == op)


VARIANTS = [("per-deployment", 16), ("per-inference", 16), ("per-deployment", 32)]
# A predictor score this close to its threshold may compare differently in
# fixed point (under MPC the scores carry the fixed-point error of the FFN's
# input); such blocks are ties, not errors. (Measured: the live blocks match
# torch's exactly, run after run, with a score 2.3e-4 from its threshold.)
SCORE_TIE = 2e-3


@pytest.mark.parametrize("leakage,block", VARIANTS)
def test_predicted_sparsity_equals_torch(opt, leakage, block):
    r = sparse_run(opt, leakage, block)
    dense, got, want, masks, p0 = opt["dense"], r["logits"], r["want"], r["masks"], r["p0"]
    thresholds = [p.threshold for p in opt["preds"]]
    err = float(np.abs(got - want).max())
    off_dense = float(np.abs(got - dense["torch"]).max())
    agree = int((got.argmax(-1) == want.argmax(-1)).sum())
    srt = np.sort(want, -1)
    gap = float((srt[..., -1] - srt[..., -2]).min())
    live = live_blocks(p0, dense["p0"], block)
    assert len(live) == len(masks)
    ties = [int((np.abs(s - t) < SCORE_TIE).sum()) for s, t in zip(r["scores"], thresholds)]
    margins = [float(np.abs(s - t).min()) for s, t in zip(r["scores"], thresholds)]
    print(f"\n{r['tag']}: max|mpc - torch predicted| {err:.4f}, max|mpc - torch dense| "
          f"{off_dense:.3f}, top-1 {agree}/{T} (min top-2 gap {gap:.3f}), predicted density "
          f"{[round(float(m.mean()), 3) for m in masks]}, distinct masks "
          f"{[len({row.tobytes() for row in m}) for m in masks]}, live blocks {live}, smallest "
          f"|score - threshold| {[round(m, 5) for m in margins]}, online {online_bytes(p0)} B "
          f"(dense {online_bytes(dense['p0'])} B), {p0['phases']['inference']['rounds']} "
          f"rounds (dense {dense['p0']['phases']['inference']['rounds']}), {r['wall']:.1f} s "
          f"(dense {dense['wall']:.1f} s)")

    # The client's logits are the predicted model's (within the dense
    # bound, same top-1 everywhere), and measurably not the dense model's.
    assert err <= TOL, err
    assert agree == T
    assert off_dense > 2 * TOL, off_dense
    # Under MPC the blocks torch predicts were computed: per FFN, the number
    # of live (token, block) pairs is torch's (up to ties).
    want_live = [int(m.sum()) for m in masks]
    assert all(abs(a - b) <= n for a, b, n in zip(live, want_live, ties)), (live, want_live)
    # Per-token sparsity: the masks differ from token to token (in the
    # sparse layers, tokens share a mask with few others), and the sparse
    # layers skip many blocks.
    for k, m in enumerate(masks):
        assert m.shape == (T, 1024 // block)
        rows = len({row.tobytes() for row in m})
        assert rows > 1, k
        if m.mean() < 0.8:
            assert rows >= T // 4, (k, rows)
    assert sum(m.mean() < 0.8 for m in masks) >= 3
    # The policy: per-inference draws a fresh permutation of the FFN's
    # blocks each inference, in the input-independent prepare phase (with
    # the opening of the freshly permuted weights); per-deployment shuffles
    # once, at deployment. Neither shuffles online.
    assert phase_bytes_of(p0, "shuffle", "inference") == 0
    assert (phase_bytes_of(p0, "shuffle", "prepare") > 0) == (leakage == "per-inference")
    assert (phase_bytes_of(p0, "shuffle", "deploy") > 0) == (leakage == "per-deployment")


@pytest.mark.parametrize("leakage,block", VARIANTS)
def test_sparse_online_bytes_below_dense(opt, leakage, block):
    """Fewer online bytes (P0 sent + received, inference phase) than the
    same model compiled dense; per-inference moves exactly as many online
    bytes as per-deployment (its reshuffle is input-independent prepare
    work, reported apart)."""
    r = sparse_run(opt, leakage, block)
    assert online_bytes(r["p0"]) < online_bytes(opt["dense"]["p0"]), (
        online_bytes(r["p0"]), online_bytes(opt["dense"]["p0"]))
    if leakage == "per-inference":
        same = sparse_run(opt, "per-deployment", block)
        assert online_bytes(r["p0"]) == online_bytes(same["p0"])
        assert r["p0"]["phases"]["prepare"]["rounds"] > 0


def test_sparsity_refusals(opt, tmp_path):
    """What mpc-compile refuses, each with a message naming the problem."""
    compile_bin = tools()[0]

    def fails(onnx_path, args, needle):
        r = subprocess.run([compile_bin, onnx_path, "-o", str(tmp_path / "x.umbra"), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=300)
        assert r.returncode != 0 and needle in r.stderr, r.stderr
        assert not (tmp_path / "x.umbra").exists()
        return r.stderr

    fails(opt["plain"], ["--sparsity=predicted"], "no activation predictors")
    # The table reaches 0.995 (measured recall at least that), not 0.9999.
    top = max(float(p.recall_table[:, 0].max()) for p in opt["preds"])
    assert 0.995 <= top < 0.9999
    fails(opt["onnx"], ["--sparsity=predicted", "--sparsity-recall=0.9999"],
          "in its recall table, not")
    fails(opt["onnx"], ["--sparsity=predicted", "--sparsity-block=24"],
          "must be a multiple of the predictor's block (16)")
    # A model whose predictors have no recall table: no target recall.
    no_table = str(tmp_path / "no-table.onnx")
    shutil.copyfile(opt["plain"], no_table)
    bare = [P.predictor_from_arrays({**P.predictor_arrays(p), "recall_table": None})
            for p in opt["preds"]]
    P.add_predictors(no_table, bare)
    fails(no_table, ["--sparsity=predicted", "--sparsity-recall=0.9"], "has no recall table")


def compiled_thresholds(art):
    """The threshold each predictor's mask compares with, read from the
    artifact's weights (mpc-run --dump --json), in FFN order."""
    dump = json.loads(reference.run_tool([tools()[1], art, "--dump", "--json"]).stdout)
    found = {}
    for w in dump["weights"]:
        slot = dump["slots"][w["slot"]]
        src = str(w.get("source"))
        if slot.get("shape") == [] and src.startswith("umbra.predictor.") and (
                src.endswith(".threshold") or src.endswith(".recall_table")):
            found[int(src.split(".")[2])] = float(w["values"][0])
    return [found[k] for k in sorted(found)]


def test_recall_table_selects_the_threshold(opt):
    """--sparsity-recall R: per predictor, the largest threshold of the
    table rows whose (held-out) recall is at least R; the target the
    fixture was fitted for gives the threshold it ships."""
    work, preds = opt["work"], opt["preds"]
    shipped = compiled_thresholds(compile_(opt["onnx"], str(work / "t-default.umbra"),
                                           "--sparsity=predicted"))
    assert shipped == [p.threshold for p in preds]
    for recall in (0.95, 0.9, 0.99):
        art = compile_(opt["onnx"], str(work / f"t-{recall}.umbra"), "--sparsity=predicted",
                       f"--sparsity-recall={recall}")
        want = [max(float(t) for r, t in p.recall_table if float(r) >= recall) for p in preds]
        assert compiled_thresholds(art) == want, recall
    assert want != shipped


def test_count_padded_to_a_bucket(opt):
    """--sparsity-bucket 4: each token's count of live blocks is padded up
    to a multiple of 4 with its lowest unselected blocks (so the opened mask
    reveals the bucket only), and the client gets the torch model computing
    exactly that padded block set."""
    work = opt["work"]
    art = compile_(opt["onnx"], str(work / "bucket.umbra"), "--sparsity=predicted",
                   "--sparsity-bucket=4")
    got, p0, _ = run_local(art, opt["ids_path"], work, "bucket")
    ctx = P.predicted_blocks(opt["model"], opt["preds"], 1, bucket=4)
    with ctx, torch.no_grad():
        want = opt["model"](torch.from_numpy(opt["ids"])).numpy()
    masks = [f.last_mask[0].numpy() for f in ctx.ffns]
    assert all((m.sum(-1) % 4 == 0).all() for m in masks)
    assert float(np.abs(got - want).max()) <= TOL
    assert (got.argmax(-1) == want.argmax(-1)).all()
    live = live_blocks(p0, opt["dense"]["p0"], 16)
    assert live == [int(m.sum()) for m in masks], live
