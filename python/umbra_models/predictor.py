"""Comet's activation predictors (issue 13): which FFN blocks will be active.

For every FFN of a ReLU model (OPT-style; the gated form works the same on
silu(gate)*up), the FFN input x (what ``mlp.up`` reads) and the hidden
activation a (what ``mlp.down`` reads) are recorded on windows of the
**train** split. Neurons are cut into contiguous blocks of B; a (token,
block) pair is *active* if any of its neurons has a != 0 (|a| > tol). A
low-rank predictor per FFN,

    score = (x U) V + c          U: [d, r], V: [r, F/B], c: [F/B]

is trained (binary cross-entropy, positives weighted by their rarity) on
the first 80 % of the recorded tokens, and its threshold is the largest one
whose block recall on the remaining 20 % reaches the target: block b is
computed for a token iff score_b > threshold. The same held-out tokens give
each predictor's *recall table*: for each of ``RECALL_TARGETS`` the
threshold (chosen the same way) and the recall it measures, so that the
compiler can pick another operating point (``--sparsity-recall``).

Before that, each FFN's neurons are permuted by activation rate (most
active first). An FFN is a sum over its neurons, so permuting the rows of
``up`` (and ``gate``) and the columns of ``down`` together changes nothing
in the model's function; it moves dead and rare neurons into the same
blocks, which are then almost never active (docs/models.md, "Activation
sparsity"). The permutation is applied to the model's weights.

What the compiled program computes is ``PredictedFFN``: the FFN with the
hidden activation of predicted-inactive blocks set to zero,

    h = act(up(x)) * expand(score > threshold);  y = down(h)

(``evaluate_sparse`` runs the model with it: bits per byte and top-1).
With ``group`` g > 1 (the compiler's ``--sparsity-block g*B``), g
consecutive predictor blocks form one block, active iff any of its parts is.

Export (the form ``mpc-insert-predictors`` reads): the ONNX file of the
(permuted) model gets, for the k-th FFN in layer order, the initializers

    umbra.predictor.<k>.u             float32 [d, r]
    umbra.predictor.<k>.v             float32 [r, F/B]
    umbra.predictor.<k>.bias          float32 [F/B]
    umbra.predictor.<k>.threshold     float32 []
    umbra.predictor.<k>.recall_table  float32 [n, 2]  (optional)

The block size is F / (F/B). A recall table row is (recall, threshold):
the recall on held-out tokens of blocks with score > threshold (rounded up
to float32, so that a row measured at recall >= R compares >= R), rows in
increasing recall and so decreasing threshold. ``read_predictors`` reads
them back.

Predictor fixture (``save_predictor_fixture`` / ``load_predictor_fixture``):
``<model dir>/predictors.npz`` holds, per FFN k, ``perm.<k>`` (the neuron
permutation fit() applied: new position j holds old neuron perm[j]),
``u.<k>``, ``v.<k>``, ``bias.<k>``, ``threshold.<k>`` and
``recall_table.<k>`` (float32, the arrays above), and
``predictors.json`` the fit's report. Tests load the permuted model and its
predictors from it without training.

CLI:
  /usr/bin/python3 -m umbra_models.predictor --model fixtures/opt-l4-d256 \\
      --block 16 --rank 32 --recall 0.95 --out report.json [--onnx model.onnx --seq 32]
  # regenerate the committed fixture (predictors.npz + predictors.json; 15 min)
  /usr/bin/python3 -m umbra_models.predictor --model fixtures/opt-l4-d256 \\
      --block 16 --rank 32 --recall 0.95 --eval-bytes 100000 --groups 1,2 --save-fixture
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

PREFIX = "umbra.predictor."
# The target recalls of a predictor's recall table.
RECALL_TARGETS = (0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.99, 0.995)
FIXTURE_NPZ, FIXTURE_JSON = "predictors.npz", "predictors.json"


@torch.no_grad()
def record_ffn_io(model, ids, seq=None, windows=64, batch=8, inputs=True):
    """Per layer (x [tokens, d], a [tokens, F]) as float32 arrays: the FFN's
    input and hidden activation on `windows` evenly spaced windows (x None
    without `inputs`)."""
    model.eval()
    seq = seq or model.cfg.max_seq
    ids = np.asarray(ids, dtype=np.int64)
    n = (ids.size - 1) // seq
    starts = np.linspace(0, (n - 1) * seq, num=min(windows, n)).astype(np.int64)
    xs = [[] for _ in model.blocks]
    acts = [[] for _ in model.blocks]
    hooks = []
    for i, blk in enumerate(model.blocks):
        def on_x(mod, inp, i=i):
            xs[i].append(inp[0].reshape(-1, inp[0].shape[-1]).float().numpy().copy())

        def on_a(mod, inp, i=i):
            acts[i].append(inp[0].reshape(-1, inp[0].shape[-1]).float().numpy().copy())
        if inputs:
            hooks.append(blk.mlp.register_forward_pre_hook(on_x))
        hooks.append(blk.mlp.down.register_forward_pre_hook(on_a))
    try:
        for b in range(0, len(starts), batch):
            model(torch.from_numpy(np.stack([ids[s: s + seq] for s in starts[b: b + batch]])))
    finally:
        for h in hooks:
            h.remove()
    return [(np.concatenate(x, 0) if inputs else None, np.concatenate(a, 0))
            for x, a in zip(xs, acts)]


@torch.no_grad()
def permute_neurons(model, perms):
    """Permutes each FFN's neurons (perms[k]: new position j holds old
    neuron perms[k][j]): the rows of up (and gate) and the columns of down.
    The model computes the same function."""
    for blk, p in zip(model.blocks, perms):
        p = torch.as_tensor(p, dtype=torch.long)
        mlp = blk.mlp
        for lin in [mlp.up] + ([mlp.gate] if hasattr(mlp, "gate") else []):
            lin.weight.copy_(lin.weight[p])
            if lin.bias is not None:
                lin.bias.copy_(lin.bias[p])
        mlp.down.weight.copy_(mlp.down.weight[:, p])


def block_labels(a, block, tol=0.0):
    """bool [tokens, F/B]: the block has a neuron with |a| > tol."""
    n, f = a.shape
    return (np.abs(a) > tol).reshape(n, f // block, block).any(-1)


class BlockPredictor(nn.Module):
    """score = (x U) V + c: one score per block of neurons.

    ``threshold``: a block is predicted active iff its score exceeds it;
    ``recall_table``: None or float32 [n, 2] rows (recall, threshold)
    measured on held-out tokens; ``permutation``: None or the neuron
    permutation fit() applied to the FFN this predictor is for."""

    def __init__(self, d, rank, blocks):
        super().__init__()
        self.u = nn.Linear(d, rank, bias=False)
        self.v = nn.Linear(rank, blocks, bias=True)
        self.threshold = 0.0
        self.recall_table = None
        self.permutation = None

    def forward(self, x):
        return self.v(self.u(x))

    def mask(self, x, group=1, bucket=0):
        """bool [..., F/B/group]: the blocks predicted active; with group
        g > 1, g consecutive blocks merged (active iff any part is); with
        bucket b > 0, each row's count padded up to a multiple of b with its
        lowest-numbered unselected blocks (mpc-compile --sparsity-bucket)."""
        m = self.forward(x) > self.threshold
        if group != 1:
            nb = m.shape[-1]
            if group < 1 or nb % group:
                raise ValueError(f"group {group} does not divide the {nb} predictor blocks")
            m = m.reshape(*m.shape[:-1], nb // group, group).any(-1)
        if bucket:
            return pad_to_bucket(m, bucket)
        return m


def pad_to_bucket(m, bucket):
    """m (bool [..., n]) with each row's count k raised to
    bucket * ceil(k / bucket) by its first unselected blocks."""
    n = m.shape[-1]
    if bucket < 1 or n % bucket:
        raise ValueError(f"bucket {bucket} does not divide the {n} blocks")
    k = m.sum(-1, keepdim=True)
    room = (k + bucket - 1) // bucket * bucket - k
    unselected_so_far = (~m).cumsum(-1)
    return m | (~m & (unselected_so_far <= room))


def train_predictor(x, labels, rank, steps=400, lr=3e-3, seed=0, batch=4096):
    """Fits a BlockPredictor to (x, labels) with weighted binary cross-entropy."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    p = BlockPredictor(x.shape[1], rank, labels.shape[1])
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(labels.astype(np.float32))
    pos = yt.mean(0).clamp(1e-3, 1 - 1e-3)
    # Positives are the rarer class in sparse layers: weight them by rarity
    # (capped), so that high recall is reachable with a tight threshold.
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=((1 - pos) / pos).clamp(max=20.0))
    opt = torch.optim.Adam(p.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, xt.shape[0], (min(batch, xt.shape[0]),), generator=g)
        opt.zero_grad()
        loss = loss_fn(p(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    return p


@torch.no_grad()
def threshold_for_recall(scores, labels, recall):
    """The largest threshold t with recall(score > t) >= `recall` over all
    (token, block) pairs (blocks that are never active do not count)."""
    pos = scores[labels]
    if pos.size == 0:
        return float(scores.max())
    # recall(t) = mean(pos > t): t just below the (1 - recall) quantile.
    q = np.quantile(pos, 1.0 - recall, method="lower")
    return float(np.nextafter(np.float32(q), np.float32(-np.inf)))


def recall_table(scores, labels, targets=RECALL_TARGETS):
    """float32 [len(targets), 2]: for each target recall, (the recall
    measured with score > t, rounded up to float32; t) with t chosen by
    threshold_for_recall on (scores, labels)."""
    rows = []
    for r in targets:
        t = np.float32(threshold_for_recall(scores, labels, r))
        rows.append((_round_up32(metrics(scores > t, labels)["recall"]), t))
    return np.asarray(rows, dtype=np.float32).reshape(len(targets), 2)


def _round_up32(x):
    """The smallest float32 >= x."""
    f = np.float32(x)
    return np.nextafter(f, np.float32(np.inf)) if float(f) < x else f


def metrics(mask, labels):
    tp = float((mask & labels).sum())
    return {"density_true": float(labels.mean()), "density_predicted": float(mask.mean()),
            "recall": tp / max(float(labels.sum()), 1.0),
            "precision": tp / max(float(mask.sum()), 1.0)}


def fit(model, train_ids, block=16, rank=32, recall=0.95, windows=64, tol=0.0, steps=400,
        sort=True, targets=RECALL_TARGETS, log=print):
    """Permutes the model's neurons by rate (if `sort`), then trains one
    predictor per FFN; returns (predictors, per-layer report). Each
    predictor keeps the permutation applied to its FFN (``permutation``,
    None without `sort`) and its recall table for `targets`."""
    io = record_ffn_io(model, train_ids, windows=windows)
    perms = [None] * len(io)
    if sort:
        perms = [np.argsort(-(np.abs(a) > tol).mean(0), kind="stable") for _, a in io]
        permute_neurons(model, perms)
        io = [(x, a[:, p]) for (x, a), p in zip(io, perms)]
    preds, report = [], []
    for k, (x, a) in enumerate(io):
        if a.shape[1] % block:
            raise ValueError(f"FFN {k}: {a.shape[1]} neurons are not a multiple of block {block}")
        labels = block_labels(a, block, tol)
        cut = int(0.8 * len(x))
        p = train_predictor(x[:cut], labels[:cut], rank, steps=steps, seed=k)
        with torch.no_grad():
            held = p(torch.from_numpy(x[cut:])).numpy()
        p.threshold = threshold_for_recall(held, labels[cut:], recall)
        p.recall_table = recall_table(held, labels[cut:], targets)
        p.permutation = perms[k]
        m = metrics(held > p.threshold, labels[cut:])
        m.update({"layer": k, "blocks": labels.shape[1], "block": block, "rank": rank,
                  "threshold": p.threshold, "held_out_tokens": len(x) - cut,
                  "recall_table": p.recall_table.tolist()})
        report.append(m)
        log(f"FFN {k}: blocks active {m['density_true']:.3f}, predicted {m['density_predicted']:.3f}, "
            f"recall {m['recall']:.3f}, precision {m['precision']:.3f}")
        preds.append(p)
    return preds, report


class PredictedFFN(nn.Module):
    """An FFN that computes only its predicted-active blocks: exactly what
    the compiled sparse program computes (in real arithmetic). With `group`
    g, g consecutive predictor blocks form one block (mpc-compile's
    --sparsity-block g*B). ``last_mask`` is the block mask of the last call
    (bool [..., F/(g*B)]) and ``last_scores`` its scores."""

    def __init__(self, mlp, predictor, group=1, bucket=0):
        super().__init__()
        self.mlp, self.predictor, self.group, self.bucket = mlp, predictor, group, bucket
        nb = predictor.v.out_features
        if group < 1 or nb % group:
            raise ValueError(f"group {group} does not divide the {nb} predictor blocks")
        self.block = mlp.down.in_features // nb * group
        self.last_mask = self.last_scores = None

    def forward(self, x):
        m = self.mlp
        h = m.act(m.gate(x)) * m.up(x) if hasattr(m, "gate") else m.act(m.up(x))
        self.last_scores = self.predictor(x).detach()
        self.last_mask = self.predictor.mask(x, self.group, self.bucket).detach()
        keep = self.last_mask.repeat_interleave(self.block, dim=-1)
        return m.down(h * keep.to(h.dtype))


class predicted_blocks:
    """with predicted_blocks(model, preds[, group, bucket]): the model's FFNs
    compute only their predicted-active blocks (the context manager's
    ``ffns``: each layer's PredictedFFN, for its ``last_mask``)."""

    def __init__(self, model, preds, group=1, bucket=0):
        self.model, self.preds, self.group, self.bucket = model, preds, group, bucket

    def __enter__(self):
        self.saved = [blk.mlp for blk in self.model.blocks]
        self.ffns = []
        for blk, p in zip(self.model.blocks, self.preds):
            blk.mlp = PredictedFFN(blk.mlp, p, self.group, self.bucket)
            self.ffns.append(blk.mlp)
        return self.model

    def __exit__(self, *exc):
        for blk, m in zip(self.model.blocks, self.saved):
            blk.mlp = m


def evaluate_sparse(model, preds, ids, tok_lens, group=1, **kw):
    """bits per byte and top-1, dense and with only predicted blocks
    (`group` predictor blocks merged into one)."""
    from .eval import evaluate
    dense = evaluate(model, ids, tok_lens, **kw)
    with predicted_blocks(model, preds, group):
        sparse = evaluate(model, ids, tok_lens, **kw)
    return dense, sparse


def predictor_arrays(p):
    """{u [d, r], v [r, nb], bias [nb], threshold [], recall_table [n, 2]
    (if any)}: a predictor as float32 arrays (the export's form)."""
    arrays = {"u": p.u.weight.detach().numpy().T, "v": p.v.weight.detach().numpy().T,
              "bias": p.v.bias.detach().numpy(),
              "threshold": np.asarray(p.threshold, dtype=np.float32)}
    if p.recall_table is not None:
        arrays["recall_table"] = np.asarray(p.recall_table, dtype=np.float32).reshape(-1, 2)
    # (np.array, not np.ascontiguousarray: that makes the scalar [1].)
    return {k: np.array(a, dtype=np.float32, order="C") for k, a in arrays.items()}


def predictor_from_arrays(arrays):
    """The BlockPredictor of predictor_arrays' form (recall_table optional)."""
    u, v = np.asarray(arrays["u"]), np.asarray(arrays["v"])
    p = BlockPredictor(u.shape[0], u.shape[1], v.shape[1])
    with torch.no_grad():
        p.u.weight.copy_(torch.from_numpy(np.array(u.T, dtype=np.float32)))
        p.v.weight.copy_(torch.from_numpy(np.array(v.T, dtype=np.float32)))
        p.v.bias.copy_(torch.from_numpy(np.array(arrays["bias"], dtype=np.float32)))
    p.threshold = float(np.float32(arrays["threshold"]))
    if arrays.get("recall_table") is not None:
        p.recall_table = np.array(arrays["recall_table"], dtype=np.float32).reshape(-1, 2)
    return p


def add_predictors(onnx_path, preds):
    """Adds the predictors to an exported ONNX file as initializers named
    umbra.predictor.<k>.{u,v,bias,threshold[,recall_table]} (see the
    module's docstring)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    for k, p in enumerate(preds):
        for name, arr in predictor_arrays(p).items():
            m.graph.initializer.append(numpy_helper.from_array(arr, f"{PREFIX}{k}.{name}"))
    onnx.save(m, onnx_path)


def read_predictors(onnx_path):
    """The predictors of an ONNX file, in FFN order: BlockPredictor each
    (with its recall table when the file has one)."""
    import onnx
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer
             if i.name.startswith(PREFIX)}
    preds = []
    while f"{PREFIX}{len(preds)}.u" in inits:
        k = f"{PREFIX}{len(preds)}."
        preds.append(predictor_from_arrays(
            {part: inits.get(k + part) for part in ("u", "v", "bias", "threshold",
                                                    "recall_table")}))
    return preds


def save_predictor_fixture(model_dir, preds, report=None):
    """Writes <model_dir>/predictors.npz (each FFN's neuron permutation and
    predictor, float32; see the module's docstring) and, with `report`,
    predictors.json."""
    arrays = {}
    for k, p in enumerate(preds):
        if p.permutation is None:
            raise ValueError(f"predictor {k} has no neuron permutation (fit with sort=True)")
        arrays[f"perm.{k}"] = np.asarray(p.permutation, dtype=np.int32)
        for name, arr in predictor_arrays(p).items():
            arrays[f"{name}.{k}"] = arr
    np.savez_compressed(os.path.join(model_dir, FIXTURE_NPZ), **arrays)
    if report is not None:
        with open(os.path.join(model_dir, FIXTURE_JSON), "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")


def load_predictor_fixture(model_dir, model=None):
    """(model, preds) from a model directory's predictors.npz: the model
    (loaded from `model_dir`, or the one given, which must be in its stored
    neuron order) with its neurons permuted in place as fit() permuted them,
    and its predictors. FileNotFoundError when there is no fixture."""
    path = os.path.join(model_dir, FIXTURE_NPZ)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found (regenerate it with python3 -m "
                                "umbra_models.predictor --model DIR --save-fixture)")
    if model is None:
        from .model import load_model_dir
        model = load_model_dir(model_dir)
    with np.load(path) as z:
        n = len(model.blocks)
        missing = [f"{part}.{k}" for k in range(n) for part in ("perm", "u", "v", "bias",
                                                                 "threshold")
                   if f"{part}.{k}" not in z.files]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        perms = [z[f"perm.{k}"].astype(np.int64) for k in range(n)]
        preds = []
        for k in range(n):
            p = predictor_from_arrays({part: z[f"{part}.{k}"] if f"{part}.{k}" in z.files
                                       else None
                                       for part in ("u", "v", "bias", "threshold",
                                                    "recall_table")})
            p.permutation = perms[k]
            preds.append(p)
    permute_neurons(model, perms)
    return model, preds


def main(argv=None):
    import time
    from .corpus import DEFAULT_ROOT, encode_split
    from .eval import evaluate, token_lengths
    from .model import load_model_dir
    from .tokenizer import load_tokenizer
    ap = argparse.ArgumentParser(prog="umbra_models.predictor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--block", type=int, default=16)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--recall", type=float, default=0.95)
    ap.add_argument("--windows", type=int, default=64, help="train windows recorded")
    ap.add_argument("--train-bytes", type=int, default=2_000_000,
                    help="record from the first bytes of the train split (whole files)")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--no-sort", action="store_true", help="keep the stored neuron order")
    ap.add_argument("--eval-bytes", type=int, default=None,
                    help="evaluate on the first bytes of the test split only")
    ap.add_argument("--groups", default="1",
                    help="also evaluate with g predictor blocks merged (comma list, e.g. 1,2: "
                         "mpc-compile --sparsity-block g*B)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="report JSON")
    ap.add_argument("--save-fixture", nargs="?", const="", metavar="DIR",
                    help="write predictors.npz (permutations and predictors) and "
                         "predictors.json (the report) to DIR (default: the --model directory)")
    ap.add_argument("--onnx", help="also export the permuted model with its predictors here")
    ap.add_argument("--seq", type=int, default=32, help="with --onnx: the exported length")
    a = ap.parse_args(argv)
    if a.save_fixture is not None and a.no_sort:
        ap.error("--save-fixture needs the neuron permutation (drop --no-sort)")
    groups = [int(g) for g in a.groups.split(",")]
    torch.set_num_threads(a.threads)
    t0 = time.time()
    model = load_model_dir(a.model)
    tok = load_tokenizer(os.path.join(a.model, "tokenizer.json"))
    train, train_bytes = encode_split(tok, "train", a.root, a.train_bytes)
    preds, layers = fit(model, train, a.block, a.rank, a.recall, a.windows, steps=a.steps,
                        sort=not a.no_sort, log=lambda s: print(s, file=sys.stderr))
    t_fit = time.time() - t0
    test, test_bytes = encode_split(tok, "test", a.root, a.eval_bytes)
    lens = token_lengths(tok)
    dense = evaluate(model, test, lens, batch=8)
    evals = {}
    for g in groups:
        with predicted_blocks(model, preds, g):
            evals[g] = evaluate(model, test, lens, batch=8)
    sparse = evals[groups[0]]
    rep = {"model": os.path.basename(os.path.normpath(a.model)), "block": a.block,
           "rank": a.rank, "target_recall": a.recall, "recall_targets": list(RECALL_TARGETS),
           "sorted_neurons": not a.no_sort, "windows": a.windows, "steps": a.steps,
           "train_bytes": train_bytes, "train_tokens": int(train.size),
           "eval": {"split": "test", "eval_bytes": a.eval_bytes, "split_bytes": test_bytes,
                    "bytes": dense["bytes"],
                    "tokens": dense["tokens"], "seq": model.cfg.max_seq},
           "layers": layers,
           "dense": {"bpb": dense["bpb"], "top1": dense["top1"]},
           "predicted": {"bpb": sparse["bpb"], "top1": sparse["top1"], "group": groups[0]},
           "bpb_relative_change": sparse["bpb"] / dense["bpb"] - 1}
    if len(groups) > 1:
        rep["predicted_by_group"] = {
            str(g): {"block": g * a.block, "bpb": e["bpb"], "top1": e["top1"],
                     "bpb_relative_change": e["bpb"] / dense["bpb"] - 1}
            for g, e in evals.items()}
    rep["seconds"] = {"fit": round(t_fit, 1), "total": round(time.time() - t0, 1)}
    for g, e in evals.items():
        print(f"dense bpb {dense['bpb']:.4f} top1 {dense['top1']:.4f}; predicted blocks only "
              f"(block {g * a.block}): bpb {e['bpb']:.4f} "
              f"({100 * (e['bpb'] / dense['bpb'] - 1):+.2f} %) top1 {e['top1']:.4f}",
              file=sys.stderr)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rep, f, indent=1)
            f.write("\n")
    if a.save_fixture is not None:
        save_predictor_fixture(a.save_fixture or a.model, preds, rep)
    if a.onnx:
        from .export import export_onnx
        export_onnx(model, a.onnx, a.seq)
        add_predictors(a.onnx, preds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
