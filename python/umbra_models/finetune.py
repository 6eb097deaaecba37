"""Fine-tune a trained model with MPC-friendly approximations (approx.py).

  nice -n 10 /usr/bin/python3 -m umbra_models.finetune --model fixtures/gpt2-l4-d256 \
      --approx gelu:relu,softmax:relu-norm,layer_norm:affine --mode distill \
      --steps 300 --batch 8 --seq 256 --out fixtures/gpt2-l4-d256-approx

--mode distill: every substitution at once, then --steps steps.
--mode layerwise (Liu & Liu 2023): the substitutions of layer 0, then
  --steps / stages steps, then those of layer 1 as well, and so on to the
  last layer (and a last stage for the ops outside the layers, the final
  norm, when the spec changes it); each stage has its own warmup and cosine.
Loss either way: alpha * CE(next token) + (1 - alpha) * KL(teacher || student),
the teacher being the original model (frozen). AdamW (train.make_optimizer,
train.lr_at); random windows of the train split, seeded. A norm switched to
``affine`` first has its weight scaled by 1 / median sqrt(var + eps) of its
input on a calibration batch (--no-calibrate-norms: not), so the affine form
starts at the original's scale.

Evaluated (eval.evaluate: bits/byte, top-1) on the first --eval-tokens
tokens of the test split, windows of the model's max_seq: the original
model ("before"), the approximated one before fine-tuning
("approx_no_finetune") and after, from the fp16 weights as written
("after"). OUT gets config.json, tokenizer.json, weights.npz (fp16; the
original parameter names), approx.json (the spec) and metrics.json; the
model's ONNX (approx.export_onnx, ``umbra_models.approx`` CLI) is the
original graph with the metadata umbra.approximations = SPEC.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import approx as A
from .train import lr_at, make_optimizer


def distill_loss(student_logits, teacher_logits, targets, alpha):
    """(loss, ce, kl): alpha CE + (1 - alpha) KL(teacher || student), both
    per token (mean)."""
    V = student_logits.shape[-1]
    logp = F.log_softmax(student_logits.float(), -1)
    ce = F.nll_loss(logp.reshape(-1, V), targets.reshape(-1))
    if alpha >= 1.0 or teacher_logits is None:
        return ce, ce, torch.zeros(())
    logq = F.log_softmax(teacher_logits.float(), -1)
    kl = (logq.exp() * (logq - logp)).sum(-1).mean()
    return alpha * ce + (1 - alpha) * kl, ce, kl


def _trim(r):
    return {k: r[k] for k in ("bpb", "top1", "bits_per_token", "tokens", "bytes", "seq") if k in r}


def _affine_norm_names(model):
    return {n for n, m in model.named_modules() if isinstance(m, A.AffineNorm)}


class FineTuner:
    def __init__(self, model, spec, train_ids, steps, batch=8, seq=256, lr=1e-3, warmup=20,
                 min_lr_frac=0.1, wd=0.1, grad_clip=1.0, alpha=0.5, mode="distill", seed=0,
                 report=None, calibrate_norms=True, time_limit=None, log_every=10, log=print):
        if mode not in ("distill", "layerwise"):
            raise ValueError(f"mode must be distill or layerwise, not {mode!r}")
        self.spec = A.parse_spec(spec)
        self.model, self.report = model, report
        self.teacher = copy.deepcopy(model)
        A.apply_approximations(self.teacher, "")
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.train_ids = torch.from_numpy(np.asarray(train_ids, dtype=np.int64))
        self.steps, self.batch_size, self.seq = steps, batch, seq
        self.lr, self.warmup, self.min_lr_frac, self.wd = lr, warmup, min_lr_frac, wd
        self.grad_clip, self.alpha, self.mode = grad_clip, alpha, mode
        self.calibrate_norms, self.time_limit = calibrate_norms, time_limit
        self.log_every, self.log = log_every, log
        self.gen = torch.Generator().manual_seed(seed)
        self.opt = make_optimizer(model, lr, wd)
        self.history = {"loss": [], "ce": [], "kl": [], "stage": [], "elapsed": 0.0}

    def batch(self):
        B, T = self.batch_size, self.seq
        ix = torch.randint(0, self.train_ids.numel() - T - 1, (B,), generator=self.gen)
        w = self.train_ids[ix[:, None] + torch.arange(T + 1)[None, :]]
        return w[:, :-1], w[:, 1:]

    def stages(self):
        """[(name, spec applied in that stage)]."""
        n = len(self.model.blocks)
        if self.mode == "distill":
            return [("all", self.spec)]
        out, done = [], set()
        for l in range(n):
            done.add(l)
            out.append((f"layer {l}", self.spec.restricted(done, n)))
        full = self.spec.restricted(done | {None}, n)
        # a last stage only if the op outside the layers (the final norm)
        # changes in torch (rsqrt is the accurate norm there)
        kind = A._norm_kind(self.model.ln_f)
        if kind is not None and self.spec.strategy(kind, None) == "affine":
            out.append(("outside layers", full))
        else:
            out[-1] = (out[-1][0], full)
        return out

    def switch(self, spec, calib_x):
        before = _affine_norm_names(self.model)
        A.apply_approximations(self.model, spec, self.report)
        new = _affine_norm_names(self.model) - before
        if self.calibrate_norms and new:
            mods = {m for n, m in self.model.named_modules() if n in new}
            s = A.calibrate_affine_norms(self.model, calib_x, only=mods)
            self.log(f"  calibrated {sorted(new)}: scales {[round(v, 4) for v in s]}")

    def run(self):
        stages = self.stages()
        per = [self.steps // len(stages)] * len(stages)
        per[-1] += self.steps - sum(per)
        t0 = time.time()
        calib_x, _ = self.batch()
        step = 0
        ema = None
        for si, ((name, spec), n) in enumerate(zip(stages, per)):
            self.switch(spec, calib_x)
            self.log(f"stage {si + 1}/{len(stages)} ({name}): {A.current_spec(self.model)} -- {n} steps")
            for k in range(n):
                if self.time_limit and time.time() - t0 > self.time_limit:
                    self.log(f"time limit {self.time_limit:.0f} s reached at step {step}")
                    self.history["stopped_at"] = step
                    break
                lr = lr_at(k, n, self.lr, min(self.warmup, max(1, n // 5)), self.min_lr_frac)
                for g in self.opt.param_groups:
                    g["lr"] = lr
                self.model.train()
                x, y = self.batch()
                with torch.no_grad():
                    t_logits = self.teacher(x) if self.alpha < 1 else None
                loss, ce, kl = distill_loss(self.model(x), t_logits, y, self.alpha)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                if self.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
                self.opt.step()
                step += 1
                h = self.history
                h["loss"].append(loss.item())
                h["ce"].append(ce.item())
                h["kl"].append(kl.item())
                h["stage"].append(si)
                h["elapsed"] = time.time() - t0
                ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
                if step % self.log_every == 0 or k == n - 1:
                    self.log(f"  {step}/{self.steps} loss {loss.item():.4f} (ema {ema:.4f}) ce "
                             f"{ce.item():.4f} kl {kl.item():.4f} lr {lr:.2e} "
                             f"{h['elapsed'] / step:.2f} s/step")
            else:
                continue
            break
        # whatever happened, the model ends with the full spec applied
        A.apply_approximations(self.model, self.spec, self.report)
        self.history["steps"] = step
        return self.history


def evaluate_subset(model, test_ids, tok_lens, max_tokens, seq, batch=8):
    from .eval import evaluate
    return _trim(evaluate(model, test_ids, tok_lens, seq=seq, batch=batch, max_tokens=max_tokens))


def write_fixture(model, out, src_dir, spec, report=None):
    from .model import save_weights_npz
    os.makedirs(out, exist_ok=True)
    model.cfg.to_json(os.path.join(out, "config.json"))
    shutil.copy(os.path.join(src_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    save_weights_npz(model, os.path.join(out, "weights.npz"))
    a = {"spec": str(A.parse_spec(spec)),
         "note": "the model's ops approximated per umbra_models.approx / mpc-compile --approx=SPEC; "
                 "the ONNX export is the original graph with metadata umbra.approximations=SPEC"}
    if report is not None:
        a["report"] = report
    with open(os.path.join(out, A.APPROX_JSON), "w") as f:
        json.dump(a, f, indent=1)
        f.write("\n")


def compiler_report(model, spec, work, seq=32):
    """Runs mpc-compile --approx=SPEC --approx-report on the model's ONNX
    (the pieces poly needs); returns the report dict."""
    from . import reference
    os.makedirs(work, exist_ok=True)
    onnx_path = os.path.join(work, "report-model.onnx")
    rep = os.path.join(work, "approx-report.json")
    A.export_onnx(model, onnx_path, seq, spec="")
    reference.run_tool([reference.tool("mpc-compile"), onnx_path, "-o", os.path.join(work, "report.umbra"),
                        f"--approx={A.parse_spec(spec)}", "--approx-report", rep])
    return A.load_report(rep)


def build_arg_parser():
    ap = argparse.ArgumentParser(prog="umbra_models.finetune", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="trained model directory (config, weights, tokenizer)")
    ap.add_argument("--approx", required=True, help="SPEC, e.g. gelu:relu,softmax:relu-norm,layer_norm:affine")
    ap.add_argument("--approx-report", default=None,
                    help="mpc-compile --approx-report JSON (poly); default: run mpc-compile if poly is used")
    ap.add_argument("--mode", choices=["distill", "layerwise"], default="distill")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the CE (1 - alpha: of the KL)")
    ap.add_argument("--no-calibrate-norms", action="store_true")
    ap.add_argument("--eval-tokens", type=int, default=32768, help="first tokens of the test split evaluated")
    ap.add_argument("--time-limit", type=float, default=None, help="stop training after this many seconds")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--log", default=None, help="also write the log to this file")
    ap.add_argument("--root", default=None, help="stdlib root of the corpus (default: corpus.DEFAULT_ROOT)")
    return ap


def main(argv=None):
    from .corpus import DEFAULT_ROOT, encode_split
    from .eval import token_lengths
    from .model import load_model_dir
    from .tokenizer import load_tokenizer
    a = build_arg_parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spec = A.parse_spec(a.approx)
    root = a.root or DEFAULT_ROOT
    os.makedirs(a.out, exist_ok=True)
    log_f = open(a.log, "w") if a.log else None

    def log(m):
        print(m, flush=True)
        if log_f:
            log_f.write(m + "\n")
            log_f.flush()
    t_all = time.time()
    model = load_model_dir(a.model)
    tok = load_tokenizer(os.path.join(a.model, "tokenizer.json"))
    tl = token_lengths(tok)
    train_ids, _ = encode_split(tok, "train", root)
    test_ids, _ = encode_split(tok, "test", root)
    seq_eval = model.cfg.max_seq
    report = A.load_report(a.approx_report) if a.approx_report else None
    if report is None and any(e.strategy == "poly" for e in spec.entries):
        report = compiler_report(model, spec, os.path.join(a.out, ".report"))
        shutil.rmtree(os.path.join(a.out, ".report"), ignore_errors=True)

    ev = {}
    t0 = time.time()
    ev["before"] = evaluate_subset(model, test_ids, tl, a.eval_tokens, seq_eval)
    A.apply_approximations(model, spec, report)
    ev["approx_no_finetune"] = evaluate_subset(model, test_ids, tl, a.eval_tokens, seq_eval)
    A.apply_approximations(model, "")
    t_eval = time.time() - t0
    for k, r in ev.items():
        log(f"{k}: bpb {r['bpb']:.4f} top1 {r['top1']:.4f}")

    ft = FineTuner(model, spec, train_ids, a.steps, a.batch, a.seq, a.lr, a.warmup, a.min_lr_frac,
                   a.wd, a.grad_clip, a.alpha, a.mode, a.seed, report, not a.no_calibrate_norms,
                   a.time_limit, a.log_every, log)
    t0 = time.time()
    h = ft.run()
    t_ft = time.time() - t0

    write_fixture(model, a.out, a.model, spec, report)
    t0 = time.time()
    after = A.load_approx_model_dir(a.out)
    ev["after"] = evaluate_subset(after, test_ids, tl, a.eval_tokens, seq_eval)
    t_eval += time.time() - t0
    rel = ev["after"]["bpb"] / ev["before"]["bpb"] - 1
    log(f"after: bpb {ev['after']['bpb']:.4f} top1 {ev['after']['top1']:.4f} "
        f"({100 * rel:+.2f} % bpb vs before) -- {h['steps']} steps in {t_ft:.0f} s")
    metrics = {
        "note": f"bits/byte and top-1 on the first {a.eval_tokens} tokens of the test split, windows of "
                f"{seq_eval} tokens (eval.evaluate); 'before': the original model, 'approx_no_finetune': "
                f"with the approximations, 'after': fine-tuned, from the fp16 weights as stored",
        "command": "python3 -m umbra_models.finetune " + " ".join(sys.argv[1:] if argv is None else argv),
        "spec": str(spec), "mode": a.mode, "base_model": os.path.basename(os.path.normpath(a.model)),
        "steps": h["steps"], "batch": a.batch, "seq": a.seq, "lr": a.lr, "warmup": a.warmup,
        "alpha": a.alpha, "calibrate_norms": not a.no_calibrate_norms, "seed": a.seed,
        "eval": {"split": "test", "max_tokens": a.eval_tokens, "seq": seq_eval},
        **ev,
        "relative_bpb_change": rel,
        "timing": {"finetune_s": round(t_ft, 1), "s_per_step": round(t_ft / max(1, h["steps"]), 3),
                   "eval_s": round(t_eval, 1), "total_s": round(time.time() - t_all, 1),
                   "threads": a.threads},
        "loss_every_10": [round(v, 4) for v in h["loss"][::10]],
        "kl_every_10": [round(v, 4) for v in h["kl"][::10]],
    }
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
        f.write("\n")
    if log_f:
        log_f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
