"""Exports the GPT-2-small-shaped ReLU decoder of bench/sparsity/run.sh
(umbra_models' `opt-small` preset: 12 layers, hidden 768, FFN 3072,
vocabulary 50272, random weights) and, for each forced block density,
a copy with predictors whose mask selects that fraction of every FFN's
blocks for every token: U and V zero (rank `rank`, so the predictor still
costs what a trained one of that rank costs), bias +1 on a random subset
of round(density * blocks) blocks per layer and -1 elsewhere, threshold 0.

  /usr/bin/python3 bench/sparsity/forced.py WORK T BLOCK RANK DENSITY...

writes WORK/small.onnx (dense), WORK/small-d<percent>.onnx,
WORK/small-ids.npy (T random token ids, seed 0) and WORK/small-forced.json
(blocks selected per layer).
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

from umbra_models.config import preset
from umbra_models.export import export_onnx
from umbra_models.model import build_model
from umbra_models.predictor import BlockPredictor, add_predictors


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


def main(work, T, block, rank, densities):
    torch.manual_seed(0)
    cfg = preset("opt-small")
    model = build_model(cfg).eval()
    dense = os.path.join(work, "small.onnx")
    export_onnx(model, dense, T)
    ids = np.random.default_rng(0).integers(0, cfg.vocab_size, (1, T), dtype=np.int64)
    np.save(os.path.join(work, "small-ids.npy"), ids)
    info = {"preset": "opt-small", "T": T, "block": block, "rank": rank, "densities": {}}
    for k, dens in enumerate(densities):
        preds, rec = forced_predictors(cfg.n_layer, cfg.d_model, cfg.d_ff, block, rank, dens,
                                       seed=1 + k)
        out = os.path.join(work, f"small-d{round(100 * dens)}.onnx")
        shutil.copyfile(dense, out)
        add_predictors(out, preds)
        info["densities"][str(round(100 * dens))] = rec
        print(f"wrote {out}: {rec['live']}/{rec['blocks']} blocks per FFN", file=sys.stderr)
    with open(os.path.join(work, "small-forced.json"), "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
         [float(x) for x in sys.argv[5:]])
