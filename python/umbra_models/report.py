"""Markdown tables from fixture metrics.json / sparsity.json (for docs/models.md).

  /usr/bin/python3 -m umbra_models.report fixtures/gpt2-l4-d256 fixtures/opt-l4-d256
"""
from __future__ import annotations

import json
import os
import sys


def metrics_table(dirs):
    rows = ["| model | params | test bits/byte | test top-1 | test bits/byte, stride 128 | test top-1, stride 128 | train time |",
            "|---|---|---|---|---|---|---|"]
    for d in dirs:
        m = json.load(open(os.path.join(d, "metrics.json")))
        c = json.load(open(os.path.join(d, "config.json")))
        tl = json.load(open(os.path.join(d, "train_log.json")))
        from .model import load_model_dir
        n = load_model_dir(d).num_params()
        rows.append(f"| {os.path.basename(d)} ({c['family']}) | {n / 1e6:.2f}M | {m['test']['bpb']:.3f} | "
                    f"{m['test']['top1']:.3f} | {m['test_stride128']['bpb']:.3f} | {m['test_stride128']['top1']:.3f} | "
                    f"{tl['elapsed_s'] / 60:.0f} min |")
    return "\n".join(rows)


def sparsity_table(d, key):
    s = json.load(open(os.path.join(d, "sparsity.json")))
    lab = "a == 0" if key == "0" else f"|a| < {key}"
    rows = [f"`{os.path.basename(d)}`, inactive = {lab}, {s['windows']} windows x {s['seq']} tokens of the "
            f"{s.get('split', 'test')} split. Block columns: measured empty fraction / independent "
            f"(per-neuron rates) / after sorting neurons by rate.", "",
            "| layer | inactive | dead neurons | b=8 | b=16 | b=32 | b=64 |", "|---|---|---|---|---|---|---|"]
    for l in s["layers"]:
        b = l["blocks"][key]
        cells = [f"{b[x]['empty_frac']:.3f} / {b[x]['indep_per_neuron']:.3f} / {b[x]['empty_frac_sorted']:.3f}"
                 for x in ("8", "16", "32", "64")]
        rows.append(f"| {l['layer']} | {l['inactive_frac'][key]:.3f} | {l['dead_frac'][key]:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None):
    dirs = (argv if argv is not None else sys.argv[1:])
    print(metrics_table(dirs))
    for d in dirs:
        s = json.load(open(os.path.join(d, "sparsity.json")))
        for key in s["layers"][0]["inactive_frac"]:
            print()
            print(sparsity_table(d, key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
