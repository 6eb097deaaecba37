"""Torch side of bench/approximation/run.sh (no MPC; run before the MPC runs).

  quality.py WORK EVAL_TOKENS EVAL_MODELS [FINETUNED_DIR]

For every (model, strategy set) of WORK/sets.tsv (model, set, status, spec):
  * the logits of the torch model with that set's forms
    (umbra_models.approx.apply_approximations; `poly` with the pieces the
    compiler fitted, from that compile's --approx-report) on the benchmark's
    ids: WORK/torch-MODEL-SET.npy, what the MPC program's logits are
    compared with;
  * for the trained fixtures named in EVAL_MODELS (space-separated, e.g.
    "gpt2"), bits per byte and top-1 WITHOUT fine-tuning on the first
    EVAL_TOKENS tokens of the test split, windows of the model's max_seq
    (eval.evaluate, as umbra_models.finetune evaluates; its default
    --eval-tokens is 32768). A set whose torch forms are the accurate ones
    (rsqrt: "the torch form is the accurate norm") reuses accurate's figures;
  * per model, the largest |attention score| at kept keys on the benchmark's
    ids (the kernel softmaxes' reciprocal holds up to score_bound).
FINETUNED_DIR (a umbra_models.finetune output: approx.json, weights.npz,
metrics.json): evaluated the same way with its approximations, if its
metrics.json exists (otherwise it is still being written: not measured).
Everything goes to WORK/quality.json.
"""
import json
import os
import sys
import time

import numpy as np
import torch

from umbra_models import approx as A
from umbra_models.corpus import encode_split
from umbra_models.eval import evaluate, token_lengths
from umbra_models.export import model_of
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of


def load(work, model):
    info = json.load(open(os.path.join(work, f"{model}-model.json")))
    if "fixture_dir" in info:
        return load_model_dir(info["fixture_dir"]).eval(), info
    m, _ = model_of(preset_name=info["preset"], seed=info["seed"])
    return m.eval(), info


def test_subset(fixture_dir, n_tokens):
    tok = tokenizer_of(fixture_dir)
    ids, _ = encode_split(tok, "test")
    return np.asarray(ids[: n_tokens + 1], dtype=np.int64), token_lengths(tok)


def ev(model, ids, tl):
    r = evaluate(model, ids, tl, seq=model.cfg.max_seq, batch=8)
    return {k: r[k] for k in ("bpb", "top1", "tokens", "bytes", "windows", "seq")}


def torch_identity(spec):
    """True when every entry's torch form is the accurate op."""
    return all(e.strategy in ("accurate", "rsqrt") for e in A.parse_spec(spec).entries)


def main(work, eval_tokens, eval_models, ft_dir=None):
    torch.set_num_threads(2)
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "sets.tsv")) if l.strip()]
    out = {"eval_tokens": eval_tokens, "eval_models": eval_models, "models": {},
           "finetuned": None}
    for model_name in dict.fromkeys(r[0] for r in rows):
        model, info = load(work, model_name)
        ids = np.load(os.path.join(work, f"{model_name}-ids.npy"))
        trained = "fixture_dir" in info
        subset = (test_subset(info["fixture_dir"], eval_tokens)
                  if trained and model_name in eval_models else None)
        res = {"sets": {}}
        with torch.no_grad():
            res["max_abs_score"] = max(max(abs(a), abs(b))
                                       for a, b in A.attention_score_range(model, ids))
        for m, name, status, spec in rows:
            if m != model_name or status != "run":
                continue
            t0 = time.time()
            rep = os.path.join(work, f"{m}-{name}.approx.json")
            A.apply_approximations(model, spec, rep if os.path.exists(rep) else None)
            r = {}
            with torch.no_grad():
                logits = model(torch.from_numpy(ids)).numpy()
                r["max_abs_score"] = max(max(abs(a), abs(b))
                                         for a, b in A.attention_score_range(model, ids))
            np.save(os.path.join(work, f"torch-{m}-{name}.npy"), logits)
            if subset is not None:
                if torch_identity(spec) and "accurate" in res["sets"]:
                    r.update({k: v for k, v in res["sets"]["accurate"].items()
                              if k != "max_abs_score"})
                    r["same_as"] = "accurate"
                else:
                    r.update(ev(model, *subset))
            A.apply_approximations(model, "")
            res["sets"][name] = r
            print(f"{m} {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in r.items()
                                               if isinstance(v, float)) +
                  f" ({time.time() - t0:.1f} s)", file=sys.stderr)
        out["models"][model_name] = res
    if ft_dir and os.path.exists(os.path.join(ft_dir, "metrics.json")):
        spec, report = A.read_approx_json(ft_dir)
        ft = {"dir": ft_dir, "spec": str(spec),
              "metrics": json.load(open(os.path.join(ft_dir, "metrics.json")))}
        model = A.load_approx_model_dir(ft_dir)
        orig_cfg = json.load(open(os.path.join(ft_dir, "config.json")))
        ft["base"] = ft["metrics"].get("base_model") or orig_cfg.get("name")
        ft["eval"] = ev(model, *test_subset(ft_dir, eval_tokens))
        out["finetuned"] = ft
        print(f"fine-tuned {ft_dir} ({ft['spec']}): bpb {ft['eval']['bpb']:.4f}", file=sys.stderr)
    elif ft_dir:
        out["finetuned_missing"] = ft_dir
    with open(os.path.join(work, "quality.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3].split(),
         sys.argv[4] if len(sys.argv) > 4 else None)
