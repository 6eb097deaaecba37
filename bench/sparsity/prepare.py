"""Inputs and torch references of bench/sparsity/run.sh.

  prepare.py opt FIXTURE PROMPT ONNX WORK T
      The OPT-style fixture whose neurons umbra_models.predictor permuted and
      whose predictors it exported to ONNX: the first T tokens of PROMPT
      (WORK/opt-ids.npy); the permutation, recovered by matching the ONNX
      file's up-projection columns with the fixture's rows; then on those
      tokens, in torch, the dense logits and the logits with predicted
      blocks only (umbra_models.predictor.PredictedFFN, what the sparse
      program computes), and per FFN the true and predicted block density,
      recall and precision of the sparse model's own FFN inputs
      (WORK/opt-prompt.json, WORK/opt-torch-{dense,sparse}.npy).

  prepare.py forced WORK T BLOCK RANK DENSITY...
      The GPT-2-small-shaped ReLU decoder (`opt-small`: 12 layers, hidden
      768, FFN 3072, vocabulary 50272, random weights, seed 0): WORK/small.onnx
      (dense), T random token ids (WORK/small-ids.npy) and, per DENSITY, a
      copy WORK/small-d<percent>.onnx whose predictors select that fraction
      of every FFN's blocks for every token: U and V zero (rank RANK, so the
      predictor costs what a trained one of that rank costs), bias +1 on a
      random subset of round(DENSITY * blocks) blocks per FFN and -1
      elsewhere, threshold 0. Torch logits of each (WORK/small-torch-*.npy)
      and WORK/small-forced.json.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

from umbra_models.config import preset
from umbra_models.export import export_onnx
from umbra_models.model import build_model, load_model_dir
from umbra_models.predictor import (BlockPredictor, add_predictors, block_labels, metrics,
                                    permute_neurons, predicted_blocks, read_predictors)
from umbra_models.tokenizer import tokenizer_of


def up_weights(onnx_path, n_layer):
    """[d, F] weight of each FFN's up projection, by ONNX node name."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    inits = {i.name: i for i in m.graph.initializer}
    out = []
    for k in range(n_layer):
        node = next(n for n in m.graph.node if n.name == f"/blocks.{k}/mlp/up/MatMul")
        out.append(numpy_helper.to_array(inits[node.input[1]]))
    return out


def recover_permutation(model, onnx_path):
    perms = []
    for blk, w in zip(model.blocks, up_weights(onnx_path, len(model.blocks))):
        rows = {}
        for i, r in enumerate(blk.mlp.up.weight.detach().numpy().astype(np.float32)):
            rows.setdefault(r.tobytes(), []).append(i)
        perms.append([rows[c.tobytes()].pop(0) for c in np.ascontiguousarray(w.T)])
    return perms


@torch.no_grad()
def run_recording(model, ids, preds=None):
    """Logits and per layer (FFN input x, hidden activation before the mask)."""
    xs, acts, hooks = {}, {}, []
    for k, blk in enumerate(model.blocks):
        hooks.append(blk.mlp.up.register_forward_pre_hook(
            lambda mod, inp, k=k: xs.__setitem__(k, inp[0].reshape(-1, inp[0].shape[-1]).numpy())))
        hooks.append(blk.mlp.act.register_forward_hook(
            lambda mod, inp, out, k=k: acts.__setitem__(k, out.reshape(-1, out.shape[-1]).numpy())))
    try:
        if preds is None:
            logits = model(torch.from_numpy(ids))
        else:
            with predicted_blocks(model, preds):
                logits = model(torch.from_numpy(ids))
    finally:
        for h in hooks:
            h.remove()
    return logits.numpy(), [xs[k] for k in range(len(model.blocks))], \
        [acts[k] for k in range(len(model.blocks))]


def opt(fixture, prompt, onnx_path, work, T):
    tok = tokenizer_of(fixture)
    ids = np.asarray(tok.encode(open(prompt, "rb").read())[:T], dtype=np.int64)[None]
    np.save(os.path.join(work, "opt-ids.npy"), ids)
    model = load_model_dir(fixture)
    before, _, _ = run_recording(model, ids)
    permute_neurons(model, recover_permutation(model, onnx_path))
    preds = read_predictors(onnx_path)
    dense, _, _ = run_recording(model, ids)
    sparse, xs, acts = run_recording(model, ids, preds)
    block = model.blocks[0].mlp.down.in_features // preds[0].v.out_features
    layers = []
    for k, (x, a, p) in enumerate(zip(xs, acts, preds)):
        with torch.no_grad():
            mask = p.mask(torch.from_numpy(x)).numpy()
        m = metrics(mask, block_labels(a, block))
        m["layer"] = k
        layers.append(m)
    np.save(os.path.join(work, "opt-torch-dense.npy"), dense)
    np.save(os.path.join(work, "opt-torch-sparse.npy"), sparse)
    rep = {"T": T, "tokens": ids[0].tolist(), "block": block,
           "permutation_keeps_logits": float(np.abs(before - dense).max()), "layers": layers}
    with open(os.path.join(work, "opt-prompt.json"), "w") as f:
        json.dump(rep, f, indent=1)
    for m in layers:
        print(f"prompt FFN {m['layer']}: true {m['density_true']:.3f} predicted "
              f"{m['density_predicted']:.3f} recall {m['recall']:.3f}", file=sys.stderr)


def forced_predictors(n_layer, d, f, block, rank, density, seed):
    nb = f // block
    live = int(round(density * nb))
    rng = np.random.default_rng(seed)
    preds, chosen = [], []
    for _ in range(n_layer):
        p = BlockPredictor(d, rank, nb)
        bias = -np.ones(nb, dtype=np.float32)
        pick = np.sort(rng.choice(nb, size=live, replace=False))
        bias[pick] = 1.0
        with torch.no_grad():
            p.u.weight.zero_()
            p.v.weight.zero_()
            p.v.bias.copy_(torch.from_numpy(bias))
        p.threshold = 0.0
        preds.append(p)
        chosen.append(pick.tolist())
    return preds, {"blocks": nb, "live": live, "density": live / nb, "chosen": chosen}


def forced(work, T, block, rank, densities):
    torch.manual_seed(0)
    cfg = preset("opt-small")
    model = build_model(cfg).eval()
    dense = os.path.join(work, "small.onnx")
    export_onnx(model, dense, T)
    ids = np.random.default_rng(0).integers(0, cfg.vocab_size, (1, T), dtype=np.int64)
    np.save(os.path.join(work, "small-ids.npy"), ids)
    with torch.no_grad():
        np.save(os.path.join(work, "small-torch-dense.npy"), model(torch.from_numpy(ids)).numpy())
    info = {"preset": "opt-small", "T": T, "block": block, "rank": rank, "densities": {}}
    for k, dens in enumerate(densities):
        tag = str(round(100 * dens))
        preds, rec = forced_predictors(cfg.n_layer, cfg.d_model, cfg.d_ff, block, rank, dens,
                                       seed=1 + k)
        out = os.path.join(work, f"small-d{tag}.onnx")
        shutil.copyfile(dense, out)
        add_predictors(out, preds)
        with torch.no_grad(), predicted_blocks(model, preds):
            np.save(os.path.join(work, f"small-torch-d{tag}.npy"),
                    model(torch.from_numpy(ids)).numpy())
        info["densities"][tag] = rec
        print(f"wrote {out}: {rec['live']}/{rec['blocks']} blocks per FFN", file=sys.stderr)
    with open(os.path.join(work, "small-forced.json"), "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    torch.set_num_threads(2)
    if sys.argv[1] == "opt":
        opt(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "forced":
        forced(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
               [float(x) for x in sys.argv[6:]])
    else:
        sys.exit(__doc__)
