"""FFN activation statistics: sparsity and block clustering.

For every layer, the FFN hidden activation (input of ``mlp.down``: ReLU/GeLU
output, or silu(gate)*up for LLaMA) is recorded on windows of a corpus split.
A neuron is *inactive* for a token if its activation is exactly zero
(``t = 0``) or if |a| < t. Reported per layer:

* ``inactive_frac[t]`` -- fraction of (token, neuron) pairs inactive;
* ``dead_frac[t]``     -- fraction of neurons inactive on every token seen;
* block clustering for block sizes 8/16/32/64 (contiguous neurons in the
  stored order): ``empty_frac`` = fraction of (token, block) pairs whose
  neurons are all inactive -- blocks a predicted-sparsity FFN can skip.
  Baselines for independent activations: ``indep_uniform`` = (1-p)^b with the
  layer's density p, and ``indep_per_neuron`` = mean over blocks of
  prod_j (1-p_j) with each neuron's own rate p_j. ``empty_frac_sorted`` is the
  empty fraction after permuting neurons by activation rate (a static
  reordering the compiler may apply for free); ``co_ratio`` = empty_frac /
  indep_per_neuron (> 1 means active neurons cluster in blocks).

CLI:
  /usr/bin/python3 -m umbra_models.stats --model fixtures/opt-l4-d256 --out sparsity.json --plot sparsity.png
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

BLOCKS = (8, 16, 32, 64)


def record_ffn_activations(model, ids, seq=None, windows=32, batch=8):
    """Returns list (per layer) of float32 arrays [tokens, d_ff]."""
    from .predictor import record_ffn_io
    return [a for _, a in record_ffn_io(model, ids, seq, windows, batch, inputs=False)]


def block_stats(inactive: np.ndarray, blocks=BLOCKS) -> dict:
    """inactive: bool [tokens, d_ff]."""
    active = ~inactive
    N, F = active.shape
    p = active.mean()
    pj = active.mean(0)
    order = np.argsort(-pj, kind="stable")
    out = {}
    for b in blocks:
        if F % b:
            continue
        nb = F // b
        empty = (~active.reshape(N, nb, b).any(-1)).mean()
        empty_sorted = (~active[:, order].reshape(N, nb, b).any(-1)).mean()
        indep_u = float((1 - p) ** b)
        indep_n = float(np.prod((1 - pj).reshape(nb, b), axis=1).mean())
        out[str(b)] = {"empty_frac": float(empty), "indep_uniform": indep_u,
                       "indep_per_neuron": indep_n, "empty_frac_sorted": float(empty_sorted),
                       "co_ratio": float(empty / indep_n) if indep_n > 0 else None,
                       "active_blocks_per_token": float((1 - empty) * nb), "blocks": nb}
    return out


def activation_stats(model, ids, thresholds=(0.0, 0.01, 0.1), windows=32, seq=None, blocks=BLOCKS):
    acts = record_ffn_activations(model, ids, seq=seq, windows=windows)
    layers = []
    for li, a in enumerate(acts):
        L = {"layer": li, "d_ff": int(a.shape[1]), "tokens": int(a.shape[0]),
             "mean_abs": float(np.abs(a).mean()),
             "inactive_frac": {}, "dead_frac": {}, "blocks": {}}
        for t in thresholds:
            inact = (a == 0) if t == 0 else (np.abs(a) < t)
            k = "0" if t == 0 else repr(float(t))
            L["inactive_frac"][k] = float(inact.mean())
            L["dead_frac"][k] = float(inact.all(0).mean())
            L["blocks"][k] = block_stats(inact, blocks)
        layers.append(L)
    return {"family": model.cfg.family, "thresholds": [float(t) for t in thresholds],
            "windows": windows, "seq": seq or model.cfg.max_seq, "layers": layers}


def plot_stats(st, path, key=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if key is None:
        key = "0" if st["family"] == "opt" else repr(float(st["thresholds"][-1]))
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    layers = st["layers"]
    x = np.arange(len(layers))
    axs[0].bar(x, [l["inactive_frac"][key] for l in layers], color="C0")
    axs[0].set_xlabel("layer")
    axs[0].set_ylabel("fraction inactive")
    axs[0].set_ylim(0, 1)
    axs[0].set_title(f"FFN neurons inactive ({'a == 0' if key == '0' else '|a| < ' + key})")
    for l in layers:
        bs = sorted(int(b) for b in l["blocks"][key])
        e = [l["blocks"][key][str(b)]["empty_frac"] for b in bs]
        ind = [l["blocks"][key][str(b)]["indep_per_neuron"] for b in bs]
        srt = [l["blocks"][key][str(b)]["empty_frac_sorted"] for b in bs]
        c = f"C{l['layer']}"
        axs[1].plot(bs, e, "o-", color=c, label=f"L{l['layer']} measured")
        axs[1].plot(bs, ind, "x:", color=c, label=f"L{l['layer']} independent")
        axs[1].plot(bs, srt, "s--", color=c, alpha=0.5, label=f"L{l['layer']} sorted by rate")
    axs[1].set_xscale("log", base=2)
    axs[1].set_xticks([8, 16, 32, 64])
    axs[1].set_xticklabels(["8", "16", "32", "64"])
    axs[1].set_xlabel("block size")
    axs[1].set_ylabel("fraction of blocks with no active neuron")
    axs[1].legend(fontsize=6, ncol=2)
    axs[1].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    from .corpus import DEFAULT_ROOT, encode_split
    from .model import load_model_dir
    from .tokenizer import load_tokenizer
    ap = argparse.ArgumentParser(prog="umbra_models.stats", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--windows", type=int, default=32)
    ap.add_argument("--thresholds", default="0,0.01,0.1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--plot", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = load_model_dir(a.model)
    tok = load_tokenizer(os.path.join(a.model, "tokenizer.json"))
    ids, _ = encode_split(tok, a.split, a.root)
    st = activation_stats(model, ids, [float(t) for t in a.thresholds.split(",")], a.windows)
    st["split"] = a.split
    s = json.dumps(st, indent=1, sort_keys=True)
    if a.out:
        with open(a.out, "w") as f:
            f.write(s + "\n")
    for l in st["layers"]:
        row = " ".join(f"t={k}: {v:.3f}" for k, v in l["inactive_frac"].items())
        print(f"layer {l['layer']}: inactive {row}", file=sys.stderr)
        for k, bl in l["blocks"].items():
            print("   t=%s empty blocks " % k + "  ".join(
                f"b{b}: {v['empty_frac']:.3f} (indep {v['indep_per_neuron']:.3f}, sorted {v['empty_frac_sorted']:.3f})"
                for b, v in bl.items()), file=sys.stderr)
    if a.plot:
        plot_stats(st, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
