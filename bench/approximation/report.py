"""Summarises bench/approximation/run.sh as markdown tables and checks the
issue's targets.

Every instruction of P0's --stats JSON is attributed to a non-linear op by
its name (the ONNX node name of the tfm op it was lowered from, helper
instructions -- truncations, products, comparisons, the reciprocal -- included):
  activation  .../mlp/act/...          GeLU (torch's erf form: /mlp/act/Mul_1)
                                       or the OPT FFN's ReLU (/mlp/act/Relu)
  softmax     .../attn/Softmax, .../attn/Where
                                       the attention softmax; the causal mask
                                       (ONNX Where) is fused into it
  norm        ...LayerNormalization, RMSNorm, /ln1/, /ln2/, /ln_f/
everything else (matmuls and their truncations, the 1/sqrt(d) scaling of
the scores /attn/Mul, residual adds, embedding, reveal) is linear. A
non-linear protocol op (relu, drelu, max, exp, poly, rsqrt, reciprocal, ...)
left outside the three groups is reported as a warning.
Online bytes are P0's sent + received (its P0-P1 link), seconds P0's; the
runtime executes the instructions one after another, so the rounds of the
non-linear ops are the sum of their instructions' rounds (the sum over all
instructions equals the phase's rounds: checked). Dealer bytes are the
dealer's (the material of P0 and P1) per inference. Ratios are accurate / set
(5.0x: five times less than accurate).

  /usr/bin/python3 bench/approximation/report.py WORK_DIR
"""
import json
import os
import re
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from reportlib import fb, fmt, print_provenance, ratio  # noqa: E402

import numpy as np

KEYS = ("bytes", "rounds", "seconds", "dealer")
GROUPS = ("activation", "softmax", "norm")
LINEAR_OPS = {"add", "sub", "mul", "matmul", "trunc", "reshape", "slice", "transpose",
              "reduce_sum", "one_hot", "share", "reveal", "concat", "neg", "broadcast",
              "gather", "expand", "constant", "scale", "square"}
MODEL_TITLES = {
    "gpt2": "GPT-2-style fixture `gpt2-l4-d256` (trained; 4 layers, hidden 256, FFN 1024, GeLU, LayerNorm)",
    "opt": "OPT-style fixture `opt-l4-d256` (trained; 4 layers, hidden 256, FFN 1024, ReLU, LayerNorm)",
    "small": "GPT-2-small-shaped decoder (`gpt2-small`: 12 layers, hidden 768, FFN 3072, GeLU; random weights)",
}
SET_LABELS = {
    "accurate": "accurate (no --approx)",
    "liu": "Liu & Liu: gelu:relu, softmax:relu-norm, layer_norm:affine",
    "mpcformer": "MPCFormer: gelu:quad, softmax:2quad",
    "gelu-poly": "gelu:poly (PUMA-style, default table)",
    "ln-rsqrt": "layer_norm:rsqrt",
    "gelu-relu": "gelu:relu alone",
    "softmax-relu-norm": "softmax:relu-norm alone",
    "ln-affine": "layer_norm:affine alone",
}


def group(name):
    if re.search(r"/mlp/act(/|$)", name):
        return "activation"
    if re.search(r"/attn/(Softmax|Where)", name):
        return "softmax"
    if re.search(r"LayerNorm|RMSNorm|SimplifiedLayerNorm|/ln(1|2|_f|_\d+)?/", name):
        return "norm"
    return "other"


def zero():
    return dict.fromkeys(KEYS, 0.0)


def add(a, b):
    return {k: a[k] + b[k] for k in KEYS}


def read_pair(work, fname):
    s = open(os.path.join(work, fname)).read().split()
    return float(s[0]), int(s[1])


def cost_report(path):
    """The compiler's predicted total: (dcf bytes, dcf rounds, bits bytes, bits rounds)."""
    for line in open(path):
        f = line.split()
        if f and f[0] == "total":
            return tuple(int(x) for x in f[2:6])
    return None


class Run:
    def __init__(self, work, model, name, spec):
        self.model, self.name, self.spec = model, name, spec
        tag = f"{model}-{name}"
        self.roles = {r: json.load(open(os.path.join(work, f"{tag}.{r}.json")))
                      for r in ("p0", "dealer")}
        self.groups = defaultdict(zero)
        self.ops = defaultdict(zero)           # (group, op) -> costs
        self.stray = defaultdict(int)          # non-linear op outside the groups -> bytes
        rounds = 0
        for i in self.roles["p0"]["instructions"]:
            if i["phase"] != "inference":
                continue
            g = group(i["name"])
            b = i["bytes_sent"] + i["bytes_recv"]
            for c in (self.groups[g], self.ops[(g, i["op"])]):
                c["bytes"] += b
                c["rounds"] += i["rounds"]
                c["seconds"] += i["seconds"]
            rounds += i["rounds"]
            if g == "other" and i["op"] not in LINEAR_OPS:
                self.stray[f"{i['op']} {i['name']}"] += b
        for i in self.roles["dealer"]["instructions"]:
            if i["phase"] == "inference":
                g = group(i["name"])
                self.groups[g]["dealer"] += i["dealer_bytes"]
                self.ops[(g, i["op"])]["dealer"] += i["dealer_bytes"]
        self.nl = zero()
        for g in GROUPS:
            self.nl = add(self.nl, self.groups[g])
        p0 = self.roles["p0"]["phases"]["inference"]
        self.whole = {"bytes": p0["bytes_sent"] + p0["bytes_recv"], "rounds": p0["rounds"],
                      "seconds": p0["seconds"],
                      "dealer": self.roles["dealer"]["phases"]["inference"]["dealer_bytes"]}
        self.rounds_sum_ok = rounds == p0["rounds"]
        self.wall, self.rss = read_pair(work, f"{tag}.wall")
        comp = open(os.path.join(work, f"{tag}.compile")).read().split()
        self.compile_s, self.size = float(comp[0]), int(comp[2])
        self.cost = cost_report(os.path.join(work, f"{tag}.cost"))
        self.logits = np.load(os.path.join(work, f"out-{tag}", "logits.npy"))
        ref = os.path.join(work, f"torch-{tag}.npy")
        self.torch = np.load(ref) if os.path.exists(ref) else None


def fr(r):
    return "–" if r != r else (f"{r:.1f}x" if r < 100 else f"{r:.0f}x")


def cell(key, v, base):
    return f"{fmt(key, v)} ({fr(ratio(base, v))})"


def model_section(model, runs, skipped, quality, inputs):
    acc = runs[0]
    info = []
    print(f"### {MODEL_TITLES.get(model, model)}")
    print()
    print(f"{inputs} Online (inference phase) cost per inference; value (accurate / set).")
    print()
    print("| strategy set | non-linear bytes | non-linear rounds | non-linear seconds | "
          "whole-model bytes | whole-model rounds | whole-model seconds | dealer bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {SET_LABELS.get(r.name, r.name)} | " +
              " | ".join(cell(k, r.nl[k], acc.nl[k]) for k in ("bytes", "rounds", "seconds")) +
              " | " + " | ".join(cell(k, r.whole[k], acc.whole[k]) for k in KEYS) + " |")
    for name, spec in skipped:
        print(f"| {SET_LABELS.get(name, name)} | same program as accurate (the model has no "
              f"GeLU: byte-identical artifact, not run) | | | | | | |")
    print()
    print("Non-linear ops by group, online bytes / rounds (dealer bytes):")
    print()
    print("| strategy set | " + " | ".join(GROUPS) + " | rest of the model (linear) |")
    print("|---|" + "---:|" * (len(GROUPS) + 1))
    for r in runs:
        print(f"| {r.name} | " + " | ".join(
            f"{fb(r.groups[g]['bytes'])} / {r.groups[g]['rounds']:.0f} ({fb(r.groups[g]['dealer'])})"
            for g in GROUPS + ("other",)) + " |")
    print()
    q = (quality or {}).get("models", {}).get(model, {})
    qs = q.get("sets", {})
    print("Checks: the compiler's --cost-report against the measured bytes and rounds "
          "(DCF column); the MPC logits against torch with the same forms on the same ids; "
          "the largest |attention score| at kept keys in torch (the kernel softmaxes' "
          "reciprocal holds up to score_bound 32); wall times.")
    print()
    print("| strategy set | cost report bytes / rounds | max \\|logit − torch\\| / top-1 "
          "agreement | max \\|score\\| | mpc-run --local wall / peak RSS | mpc-compile wall / "
          "artifact |")
    print("|---|---|---|---:|---|---|")
    for r in runs:
        if r.cost is None:
            cr = "no report"
        else:
            same = r.cost[0] == r.whole["bytes"] and r.cost[1] == r.whole["rounds"]
            cr = (f"{fb(r.cost[0])} / {r.cost[1]} " +
                  ("(= measured)" if same else f"(**measured {fb(r.whole['bytes'])} / "
                                                f"{r.whole['rounds']}**)"))
        if r.torch is not None:
            err = float(np.abs(r.logits - r.torch).max())
            agree = int((r.logits.argmax(-1) == r.torch.argmax(-1)).sum())
            lc = f"{err:.3f} / {agree}/{r.logits.shape[1]}"
        else:
            lc = "not measured"
        sc = qs.get(r.name, {}).get("max_abs_score")
        print(f"| {r.name} | {cr} | {lc} | {'–' if sc is None else f'{sc:.1f}'} | "
              f"{r.wall:.1f} s / {r.rss / 2**20:.2f} GiB | {r.compile_s:.1f} s / {fb(r.size)} |")
    print()
    for r in runs:
        if not r.rounds_sum_ok:
            info.append(f"**{r.name}: the instructions' rounds do not sum to the phase's** "
                        f"(non-linear rounds are then an upper bound).")
        if r.stray:
            info.append(f"**{r.name}: non-linear protocol ops outside the groups**: " +
                        ", ".join(f"{k} ({fb(v)})" for k, v in sorted(r.stray.items())))
    # Sets that cost more than accurate somewhere: which instructions explain it.
    for r in runs[1:]:
        worse = [k for k in ("bytes", "rounds") if r.nl[k] > acc.nl[k]]
        if worse:
            diff = []
            for (g, op), c in r.ops.items():
                if g == "other":
                    continue
                d = c["bytes"] - acc.ops.get((g, op), zero())["bytes"]
                dr = c["rounds"] - acc.ops.get((g, op), zero())["rounds"]
                if d > 0 or dr > 0:
                    diff.append((d, dr, g, op))
            diff.sort(reverse=True)
            info.append(f"{r.name} costs MORE than accurate in non-linear {' and '.join(worse)} "
                        f"({fmt('bytes', r.nl['bytes'])} vs {fmt('bytes', acc.nl['bytes'])}, "
                        f"{r.nl['rounds']:.0f} vs {acc.nl['rounds']:.0f} rounds); increases by "
                        f"(group, instruction op): " + ", ".join(
                            f"{g} {op} {'+' if d >= 0 else ''}{fb(d)} / {dr:+.0f} rounds"
                            for d, dr, g, op in diff[:4]) + ".")
    if "activation" in acc.groups and not any(
            op in ("poly", "drelu") for (g, op) in acc.ops if g == "activation"):
        info.append("The FFN activation is a ReLU already (no GeLU): the gelu entries of a "
                    "set change nothing here, only the softmax and norm substitutions do.")
    for line in info:
        print(line)
        print()


def quality_section(quality, work):
    print("### Quality (gpt2-l4-d256)")
    print()
    orig_path = os.path.join(HERE, "python", "fixtures", "gpt2-l4-d256", "metrics.json")
    if os.path.exists(orig_path):
        om = json.load(open(orig_path))
        parts = []
        for k in ("test", "test_stride128", "test_subset"):
            if k in om:
                parts.append(f"{k}: bpb {om[k]['bpb']:.4f}, top-1 {om[k]['top1']:.4f} "
                             f"({om[k]['tokens']} tokens)")
        print("Original fixture, its metrics.json (not the subset below): " + "; ".join(parts) + ".")
        print()
    if quality is None:
        print("Torch evaluation: not measured (QUALITY=0).")
        print()
        return None
    n = quality["eval_tokens"]
    ft = quality.get("finetuned")
    ft_spec = ft["spec"] if ft else None
    print(f"Bits per byte / top-1 on the first {n} tokens of the test split (windows of 256, "
          f"umbra_models.eval.evaluate, as umbra_models.finetune evaluates its first 32768), "
          f"torch with each set's forms (poly: the compiler's fitted pieces; rsqrt: the "
          f"accurate norm in torch); relative change vs accurate. No fine-tuning: the "
          f"parameters of the original fixture (affine norms not recalibrated).")
    print()
    print("| strategy set | bpb, no fine-tuning | top-1, no fine-tuning | bpb after fine-tuning | "
          "top-1 after fine-tuning |")
    print("|---|---:|---:|---:|---:|")
    res = quality["models"].get("gpt2", {}).get("sets", {})
    acc = res.get("accurate")
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "sets.tsv")) if l.strip()]
    specs = {s: spec for m, s, _, spec in rows if m == "gpt2"}
    for name, r in res.items():
        rel = "" if name == "accurate" or not acc else f" ({100 * (r['bpb'] / acc['bpb'] - 1):+.1f} %)"
        after = "not measured" if name != "accurate" else "–"
        after_top1 = after
        if ft and canon(specs.get(name, "")) == canon(ft_spec):
            e = ft["eval"]
            after = f"{e['bpb']:.4f} ({100 * (e['bpb'] / acc['bpb'] - 1):+.1f} %)"
            after_top1 = f"{e['top1']:.4f}"
        same = " (= accurate in torch)" if r.get("same_as") else ""
        print(f"| {name} | {r['bpb']:.4f}{rel}{same} | {r['top1']:.4f} | {after} | {after_top1} |")
    print()
    opt = quality["models"].get("opt", {}).get("sets", {})
    if opt and all("bpb" in v for v in opt.values()):
        a = opt.get("accurate")
        print("OPT-style fixture, no fine-tuning: " + "; ".join(
            f"{k} {v['bpb']:.4f}" + ("" if k == "accurate" else
                                     f" ({100 * (v['bpb'] / a['bpb'] - 1):+.1f} %)")
            for k, v in opt.items()) + " bits per byte.")
        print()
    if ft:
        m = ft["metrics"]
        print(f"Fine-tuned fixture {ft['dir']} (spec `{ft['spec']}`, base {ft.get('base')}): "
              f"this run's evaluation bpb {ft['eval']['bpb']:.4f}, top-1 {ft['eval']['top1']:.4f}.")
        parts = []
        for k in ("before", "approx_no_finetune", "after"):
            if isinstance(m.get(k), dict) and "bpb" in m[k]:
                parts.append(f"{k} {m[k]['bpb']:.4f} / {m[k].get('top1', float('nan')):.4f}")
        extra = {k: m[k] for k in ("mode", "steps", "relative_bpb_change") if k in m}
        print("Its metrics.json (bpb / top-1): " + ("; ".join(parts) or "no bpb entries") +
              (f"; {extra}" if extra else "") + ".")
        print()
    else:
        print(f"Fine-tuned fixture: not measured ({quality.get('finetuned_missing', 'none given')} "
              f"has no metrics.json).")
        print()
    return ft


def canon(spec):
    return ",".join(sorted(s.strip() for s in (spec or "").split(",") if s.strip()))


ALL = []
HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(work):
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "sets.tsv")) if l.strip()]
    qpath = os.path.join(work, "quality.json")
    quality = json.load(open(qpath)) if os.path.exists(qpath) else None
    models = list(dict.fromkeys(r[0] for r in rows))
    all_runs = {}
    for m in models:
        all_runs[m] = {s: Run(work, m, s, spec) for mm, s, st, spec in rows
                       if mm == m and st == "run"}
    ALL.extend(r for rs in all_runs.values() for r in rs.values())
    print("## MPC-friendly approximations (mpc-compile --approx)")
    print()
    print("Each model's strategy sets are compiled from the same ONNX file (`--approx=SPEC`; "
          "accurate: no --approx) and run with `mpc-run --local` (dealer, P0, P1 on loopback, "
          "DCF comparisons), one run at a time. Online = the inference phase: bytes are P0's "
          "sent + received, rounds and seconds P0's; dealer bytes are the dealer's material "
          "for P0 and P1 per inference. Non-linear = the instructions whose name (the ONNX "
          "node of the tfm op they were lowered from) is that of the FFN activation "
          "(`/mlp/act/`: GeLU, or the OPT FFN's ReLU), the attention softmax with its fused "
          "causal mask (`/attn/Softmax`, `/attn/Where`) or a norm (`LayerNormalization`, "
          "`/ln1/`, `/ln2/`, `/ln_f/`), their truncations, products, comparisons and "
          "reciprocals included; the scores' 1/sqrt(d) scaling and all matmuls are linear. "
          "The runtime executes instructions one after another, so non-linear rounds are the "
          "sum of those instructions' rounds (" +
          ("the sum over all instructions equals the phase's rounds in every run" if all(
              r.rounds_sum_ok for r in ALL) else "**not** additive in some runs, see below") +
          "). Ratios: accurate / set (5.0x = five times less than accurate). Seconds were "
          "measured on 2 cores shared with other work (load averages at the end).")
    print()
    for m in models:
        info = json.load(open(os.path.join(work, f"{m}-model.json")))
        runs = list(all_runs[m].values())
        skipped = [(s, spec) for mm, s, st, spec in rows if mm == m and st != "run"]
        ids = ("random ids" if "fixture_dir" not in info else
               "tokens of scripts/demo_prompt.txt (the fixture's tokenizer)")
        model_section(m, runs, skipped, quality, f"T = {info['T']} {ids}.")
    ft = quality_section(quality, work)

    print("### Targets")
    print()
    print("| target | model | measured | |")
    print("|---|---|---|---|")
    for m in models:
        acc, liu = all_runs[m].get("accurate"), all_runs[m].get("liu")
        if not (acc and liu):
            continue
        r = ratio(acc.nl["bytes"], liu.nl["bytes"])
        print(f"| Liu & Liu set: non-linear online communication >= 5x less | {m} | {r:.2f}x "
              f"({fb(acc.nl['bytes'])} → {fb(liu.nl['bytes'])}) | "
              f"{'met' if r >= 5 else '**missed**'} |")
        r = ratio(acc.whole["bytes"], liu.whole["bytes"])
        print(f"| Liu & Liu set: whole-model online communication >= 2x less | {m} | {r:.2f}x "
              f"({fb(acc.whole['bytes'])} → {fb(liu.whole['bytes'])}) | "
              f"{'met' if r >= 2 else '**missed**'} |")
    acc_q = ((quality or {}).get("models", {}).get("gpt2", {}).get("sets", {}).get("accurate"))
    if ft and acc_q:
        rel = ft["eval"]["bpb"] / acc_q["bpb"] - 1
        helper = ft["metrics"].get("relative_bpb_change")
        print(f"| bits per byte after fine-tuning at most 3 % worse than the original | gpt2 "
              f"(`{ft['spec']}`) | {100 * rel:+.2f} % ({acc_q['bpb']:.4f} → "
              f"{ft['eval']['bpb']:.4f}, first {quality['eval_tokens']} test tokens" +
              (f"; the fine-tuning's own metrics.json: {100 * helper:+.2f} %" if
               isinstance(helper, (int, float)) else "") +
              f") | {'met' if rel <= 0.03 else '**missed**'} |")
    else:
        print("| bits per byte after fine-tuning at most 3 % worse than the original | gpt2 | "
              "not measured (no fine-tuned fixture with a metrics.json) | not measured |")
    print()
    print_provenance(work)

if __name__ == "__main__":
    main(sys.argv[1])
