"""Summarises bench/sparsity/run.sh as the markdown tables of
docs/benchmarks.md ("Predicted sparsity (Comet)") and checks the issue's
targets.

Every instruction of a run is attributed by its name (the names the
compiler gives, visible in the --stats JSON):
  block FFN    /blocks.<k>/mlp/...           the FFN's products, ReLU, truncations
                                             (dense: the whole FFN)
  predictor    umbra.predictor.<k>           scores (x U) V + c and the block mask
  permutation  umbra.predictor.<k>.permutation
                                             deployment: the shuffle of the FFN's
                                             blocks; online: mask x shared permutation
                                             matrix and the reveal of the permuted mask
Online bytes are P0's sent + received (P0-P1 link), rounds and seconds are
P0's, dealer bytes are the dealer's (material for P0 and P1). The block
density of a run is the sparse ReLU's opened bytes over the dense one's
(the ReLU runs on live blocks only).

  /usr/bin/python3 bench/sparsity/report.py WORK_DIR
"""
import json
import os
import re
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from reportlib import fb, fmt, fs, print_provenance, ratio  # noqa: E402

import numpy as np

KEYS = ("bytes", "rounds", "seconds", "dealer")
PART_NAMES = {"ffn": "block FFN", "predictor": "predictor", "permutation": "permutation"}


def category(name):
    m = re.match(r"^umbra\.predictor\.(\d+)(\.permutation)?$", name)
    if m:
        return ("permutation" if m.group(2) else "predictor"), int(m.group(1))
    m = re.match(r"^/blocks\.(\d+)/mlp/", name)
    if m:
        return "ffn", int(m.group(1))
    return "other", None


def zero():
    return dict.fromkeys(KEYS, 0.0)


def add(a, b, scale=1.0):
    return {k: a[k] + scale * b[k] for k in KEYS}


class Run:
    def __init__(self, work, name):
        self.name = name
        self.roles = {r: json.load(open(os.path.join(work, f"{name}.{r}.json")))
                      for r in ("p0", "p1", "dealer")}
        self.parts = defaultdict(zero)  # (phase, part, layer) -> costs
        self.relu = defaultdict(float)  # layer -> P0 online bytes of its ReLU
        for i in self.roles["p0"]["instructions"]:
            part, k = category(i["name"])
            c = self.parts[(i["phase"], part, k)]
            b = i["bytes_sent"] + i["bytes_recv"]
            c["bytes"] += b
            c["rounds"] += i["rounds"]
            c["seconds"] += i["seconds"]
            if part == "ffn" and i["op"] == "relu" and i["phase"] == "inference":
                self.relu[k] += b
        for i in self.roles["dealer"]["instructions"]:
            part, k = category(i["name"])
            self.parts[(i["phase"], part, k)]["dealer"] += i["dealer_bytes"]
        self.layers = sorted({k for (ph, part, k) in self.parts if part == "ffn"})
        self.wall, self.rss = read_pair(work, f"{name}.wall")
        comp = open(os.path.join(work, f"{name}.compile")).read().split()
        self.compile_s, self.compile_rss, self.size = float(comp[0]), int(comp[1]), int(comp[2])
        self.logits = np.load(os.path.join(work, f"out-{name}", "logits.npy"))

    def part(self, part, k, phase="inference"):
        return self.parts.get((phase, part, k), zero())

    def phase(self, phase):
        p0 = self.roles["p0"]["phases"][phase]
        return {"bytes": p0["bytes_sent"] + p0["bytes_recv"], "rounds": p0["rounds"],
                "seconds": p0["seconds"],
                "dealer": self.roles["dealer"]["phases"][phase]["dealer_bytes"]}


def read_pair(work, fname):
    s = open(os.path.join(work, fname)).read().split()
    return float(s[0]), int(s[1])


class Compare:
    """A dense and a sparse run of the same model; densities per layer."""

    def __init__(self, dense, sparse, densities=None):
        self.dense, self.sparse = dense, sparse
        self.layers = dense.layers
        # Measured from the run: live ReLU elements over all of them.
        self.run_density = {k: ratio(sparse.relu[k], dense.relu[k]) for k in self.layers}
        self.density = densities or self.run_density

    def costs(self, layers):
        d, s = self.dense, self.sparse
        out = {"dense": zero(), "ffn": zero(), "predictor": zero(), "permutation": zero(),
               "ideal_blocks": zero(), "deploy_permutation": zero()}
        for k in layers:
            out["dense"] = add(out["dense"], d.part("ffn", k))
            out["ideal_blocks"] = add(out["ideal_blocks"], d.part("ffn", k), self.density[k])
            for p in ("ffn", "predictor", "permutation"):
                out[p] = add(out[p], s.part(p, k))
            out["deploy_permutation"] = add(out["deploy_permutation"],
                                            s.part("permutation", k, "deploy"))
        out["overhead"] = add(out["predictor"], out["permutation"])
        out["total"] = add(out["ffn"], out["overhead"])
        out["ideal"] = add(out["ideal_blocks"], out["overhead"])
        return out


def ffn_table(title, comp, rows, metrics=("bytes", "rounds", "seconds", "dealer")):
    """rows: [(label, layers, scale)]: per-FFN costs (scale 1/n: mean)."""
    print(title)
    print()
    print("| FFN | | dense FFN | sparse: block FFN | predictor | permutation | "
          "sparse total | total / dense | overhead / dense |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, layers, scale in rows:
        c = comp.costs(layers)
        for key in metrics:
            v = {p: c[p][key] * scale for p in c}
            print(f"| {label} | {dict(bytes='online bytes', rounds='rounds', seconds='online s', dealer='dealer bytes')[key]} | "
                  f"{fmt(key, v['dense'])} | {fmt(key, v['ffn'])} | {fmt(key, v['predictor'])} | "
                  f"{fmt(key, v['permutation'])} | {fmt(key, v['total'])} | "
                  f"{ratio(v['total'], v['dense']):.2f} | {ratio(v['overhead'], v['dense']):.2f} |")
    print()


def deploy_table(title, comp, rows):
    """Deployment (once per deployment, before any inference) per FFN."""
    d, s = comp.dense, comp.sparse
    print(title)
    print()
    print("| FFN | dense: FFN weights' masks opened | sparse: FFN weights' masks opened | "
          "shuffle of the blocks (permutation) | its rounds | its dealer bytes | "
          "predictor's weights |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, layers, scale in rows:
        def tot(run, part, key):
            return scale * sum(run.part(part, k, "deploy")[key] for k in layers)
        print(f"| {label} | {fb(tot(d, 'ffn', 'bytes'))}, {fs(tot(d, 'ffn', 'seconds'))} | "
              f"{fb(tot(s, 'ffn', 'bytes'))}, {fs(tot(s, 'ffn', 'seconds'))} | "
              f"{fb(tot(s, 'permutation', 'bytes'))}, {fs(tot(s, 'permutation', 'seconds'))} | "
              f"{tot(s, 'permutation', 'rounds'):.0f} | {fb(tot(s, 'permutation', 'dealer'))} | "
              f"{fb(tot(s, 'predictor', 'bytes'))}, {fs(tot(s, 'predictor', 'seconds'))} |")
    print()


def whole_table(title, runs, refs):
    print(title)
    print()
    print("| | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    dense = runs[0][1]

    def row(name, f):
        print(f"| {name} | " + " | ".join(f(r) for _, r in runs) + " |")
    for key, name in (("bytes", "online bytes (P0 sent + received)"), ("rounds", "online rounds"),
                      ("seconds", "online seconds (P0)"), ("dealer", "dealer bytes per inference")):
        row(name, lambda r, key=key: fmt(key, r.phase("inference")[key]) + (
            "" if r is dense else f" ({ratio(r.phase('inference')[key], dense.phase('inference')[key]):.2f}x)"))
    row("of which FFNs (block FFN + predictor + permutation), bytes",
        lambda r: fb(sum(r.part(p, k)["bytes"] for k in r.layers
                         for p in ("ffn", "predictor", "permutation"))))
    row("of which FFNs, seconds",
        lambda r: fs(sum(r.part(p, k)["seconds"] for k in r.layers
                         for p in ("ffn", "predictor", "permutation"))))
    row("the rest of the model, seconds",
        lambda r: fs(r.phase("inference")["seconds"] -
                     sum(r.part(p, k)["seconds"] for k in r.layers
                         for p in ("ffn", "predictor", "permutation"))))
    for key, name in (("bytes", "deployment bytes (P0)"), ("rounds", "deployment rounds"),
                      ("seconds", "deployment seconds (P0)"), ("dealer", "deployment dealer bytes")):
        row(name, lambda r, key=key: fmt(key, r.phase("deploy")[key]))
    for key, name in (("bytes", "of which the shuffles (bytes)"), ("rounds", "of which the shuffles (rounds)"),
                      ("seconds", "of which the shuffles (seconds)"),
                      ("dealer", "of which the shuffles (dealer bytes)")):
        row(name, lambda r, key=key: fmt(key, sum(r.part("permutation", k, "deploy")[key]
                                                  for k in r.layers)))
    row("mpc-run --local wall / peak RSS (largest role)",
        lambda r: f"{r.wall:.1f} s / {r.rss / 2**20:.1f} GiB")
    row("mpc-compile wall / artifact", lambda r: f"{r.compile_s:.1f} s / {fb(r.size)}")
    row("max \\|logit − torch\\| / top-1 agreement",
        lambda r: "{:.3f} / {}/{}".format(*refs[r.name]))
    print()


def logit_check(work, run, ref):
    t = np.load(os.path.join(work, ref))
    m = run.logits
    return float(np.abs(m - t).max()), int((m.argmax(-1) == t.argmax(-1)).sum()), m.shape[1]


def target_rows(label, comp, layers):
    c = comp.costs(layers)
    rows = []
    per_layer = [comp.costs([k]) for k in layers]
    for key, unit in (("bytes", "bytes"), ("seconds", "seconds")):
        r = ratio(c["total"][key], c["ideal"][key])
        worst = max(ratio(p["total"][key], p["ideal"][key]) for p in per_layer)
        strict = ratio(c["ffn"][key], c["ideal_blocks"][key])
        rows.append(("FFN within 1.3x of density x dense + overhead", label, unit,
                     f"{r:.2f}x (worst FFN {worst:.2f}x; block FFN alone vs density x dense: "
                     f"{strict:.2f}x)", r <= 1.3))
    for key, unit in (("bytes", "bytes"), ("seconds", "seconds")):
        r = ratio(c["overhead"][key], c["dense"][key])
        worst = max(ratio(p["overhead"][key], p["dense"][key]) for p in per_layer)
        rows.append(("overhead <= 15 % of the dense FFN", label, unit,
                     f"{100 * r:.1f} % (worst FFN {100 * worst:.1f} %)", r <= 0.15))
    return rows


def main(work):
    rep = json.load(open(os.path.join(work, "opt-report.json")))
    prompt = json.load(open(os.path.join(work, "opt-prompt.json")))
    od, osp = Run(work, "opt-dense"), Run(work, "opt-sparse")
    opt = Compare(od, osp)
    refs = {"opt-dense": logit_check(work, od, "opt-torch-dense.npy"),
            "opt-sparse": logit_check(work, osp, "opt-torch-sparse.npy")}

    print(f"### OPT-style fixture (T = {prompt['T']} tokens of scripts/demo_prompt.txt; "
          f"block {rep['block']}, rank {rep['rank']}, target recall {rep['target_recall']})")
    print()
    print("Block density per FFN (fraction of (token, block) pairs): held out = the "
          "predictor's report (20 % of the recorded train tokens); prompt = torch on the "
          "benchmark's 32 tokens with predicted blocks only; run = the sparse program's "
          "live ReLU elements over the dense one's.")
    print()
    print("| FFN | active, held out | predicted, held out | recall | precision | "
          "active, prompt | predicted, prompt | recall, prompt | predicted, run |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for l, p in zip(rep["layers"], prompt["layers"]):
        k = l["layer"]
        print(f"| {k} | {l['density_true']:.3f} | {l['density_predicted']:.3f} | "
              f"{l['recall']:.3f} | {l['precision']:.3f} | {p['density_true']:.3f} | "
              f"{p['density_predicted']:.3f} | {p['recall']:.3f} | {opt.run_density[k]:.3f} |")
    print()
    print(f"Quality (first 60 KB of the test split): bits per byte {rep['dense']['bpb']:.4f} dense, "
          f"{rep['predicted']['bpb']:.4f} predicted blocks only "
          f"({100 * rep['bpb_relative_change']:+.2f} %); top-1 {rep['dense']['top1']:.4f} → "
          f"{rep['predicted']['top1']:.4f}.")
    print()
    rows = [(str(k), [k], 1.0) for k in opt.layers] + [("all", opt.layers, 1.0)]
    ffn_table("Online cost per FFN, dense against sparse (the same ONNX compiled without and "
              "with --sparsity=predicted):", opt, rows)
    deploy_table("Deployment per FFN (P0's bytes sent + received and seconds; the dealer's "
                 "bytes):", opt, rows)
    whole_table("Whole model (dense / sparse; ratio sparse / dense):",
                [("dense", od), ("sparse", osp)], refs)

    forced = json.load(open(os.path.join(work, "small-forced.json")))
    sd = Run(work, "small-dense")
    refs["small-dense"] = logit_check(work, sd, "small-torch-dense.npy")
    smalls = []
    for tag, rec in forced["densities"].items():
        r = Run(work, f"small-d{tag}")
        refs[r.name] = logit_check(work, r, f"small-torch-d{tag}.npy")
        smalls.append((tag, rec, Compare(sd, r, dict.fromkeys(sd.layers, rec["density"]))))
    n = len(sd.layers)
    detail = sd.layers[n // 2]
    print(f"### GPT-2-small-shaped ReLU decoder (`opt-small`, random weights; T = {forced['T']} "
          f"random ids; block {forced['block']}, predictors of rank {forced['rank']} forced to a "
          f"density)")
    print()
    print("Measured density (run) per forced density: " + "; ".join(
        f"{rec['live']}/{rec['blocks']} = {rec['density']:.3f} → "
        f"{min(c.run_density.values()):.3f}–{max(c.run_density.values()):.3f}"
        for tag, rec, c in smalls) + ".")
    print()
    print(f"Online cost per FFN, mean of the {n} FFNs:")
    print()
    print("| density | | dense FFN | sparse: block FFN | predictor | permutation | "
          "sparse total | total / dense | density x dense + overhead | total / that |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tag, rec, c in smalls:
        cc = c.costs(sd.layers)
        for key in KEYS:
            v = {p: cc[p][key] / n for p in cc}
            print(f"| {rec['density']:.3f} | {dict(bytes='online bytes', rounds='rounds', seconds='online s', dealer='dealer bytes')[key]} | "
                  f"{fmt(key, v['dense'])} | {fmt(key, v['ffn'])} | {fmt(key, v['predictor'])} | "
                  f"{fmt(key, v['permutation'])} | {fmt(key, v['total'])} | "
                  f"{ratio(v['total'], v['dense']):.2f} | {fmt(key, v['ideal'])} | "
                  f"{ratio(v['total'], v['ideal']):.2f} |")
    print()
    print(f"FFN {detail} in detail:")
    print()
    print("| density | | dense FFN | sparse: block FFN | predictor | permutation | "
          "sparse total | total / dense | overhead / dense |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for tag, rec, c in smalls:
        cc = c.costs([detail])
        for key in KEYS:
            v = {p: cc[p][key] for p in cc}
            print(f"| {rec['density']:.3f} | {dict(bytes='online bytes', rounds='rounds', seconds='online s', dealer='dealer bytes')[key]} | "
                  f"{fmt(key, v['dense'])} | {fmt(key, v['ffn'])} | {fmt(key, v['predictor'])} | "
                  f"{fmt(key, v['permutation'])} | {fmt(key, v['total'])} | "
                  f"{ratio(v['total'], v['dense']):.2f} | {ratio(v['overhead'], v['dense']):.2f} |")
    print()
    for tag, rec, c in smalls[:1]:
        deploy_table(f"Deployment per FFN, mean of the {n} FFNs (the same for every density; "
                     f"measured in the {rec['density']:.3f} run):", c, [("mean", sd.layers, 1 / n)])
    whole_table("Whole model (ratio sparse / dense):",
                [("dense", sd)] + [(f"{rec['density']:.3f}", c.sparse) for tag, rec, c in smalls],
                refs)

    print("### Targets")
    print()
    print("| target | configuration | measure | measured | |")
    print("|---|---|---|---|---|")
    rows = []
    for k in opt.layers:
        rows += target_rows(f"OPT fixture FFN {k} (run density {opt.run_density[k]:.3f})", opt, [k])
    rows += target_rows("OPT fixture, all FFNs", opt, opt.layers)
    for tag, rec, c in smalls:
        rows += target_rows(f"opt-small, density {rec['density']:.3f} (all {n} FFNs)", c,
                            sd.layers)
    rows.sort(key=lambda r: r[0])
    for t, label, unit, text, ok in rows:
        print(f"| {t} | {label} | {unit} | {text} | {'met' if ok else '**missed**'} |")
    di, si = od.phase("inference"), osp.phase("inference")
    c = opt.costs(opt.layers)
    for key, want, name in (("bytes", 1.3, "online bytes"), ("seconds", 1.5, "online time")):
        r = ratio(di[key], si[key])
        # What the FFNs could give at most: their blocks at the run density, no overhead.
        best = ratio(di[key], di[key] - c["dense"][key] + c["ideal_blocks"][key])
        print(f"| end to end >= {want}x less {name} | OPT fixture at its run density | {key} | "
              f"{r:.2f}x ({fmt(key, di[key])} → {fmt(key, si[key])}; FFNs at density x dense "
              f"with no overhead would give {best:.2f}x) | {'met' if r >= want else '**missed**'} |")
    print()
    print_provenance(work)

if __name__ == "__main__":
    main(sys.argv[1])
