"""Training on the stdlib corpus.

  /usr/bin/python3 -m umbra_models.corpus --out runs/corpus --merges 1280
  nice -n 10 /usr/bin/python3 -m umbra_models.train --preset opt-l4-d256 \
      --corpus runs/corpus --out runs/opt --steps 3000 --batch 16 --seq 256

Random windows of seq+1 tokens are drawn from the train split with a seeded
torch.Generator; AdamW, linear warmup then cosine decay to min_lr; no dropout.
A checkpoint (model, optimizer, generator state, step, history) is written
every --ckpt-every steps and at the end to OUT/ckpt.pt; --resume continues
from it and gives the same result as an uninterrupted run. At the end OUT
holds config.json, tokenizer.json, weights.npz (fp16), train_log.json and
loss.png.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig, preset
from .model import build_model, save_weights_npz


def lr_at(step, total, peak, warmup, min_frac):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def make_optimizer(model, lr, wd):
    decay, no_decay = [], []
    seen = set()
    for n, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


class Trainer:
    def __init__(self, cfg: ModelConfig, train_ids, args, valid_ids=None, tok_lens=None):
        self.cfg, self.args = cfg, args
        torch.manual_seed(args.seed)
        self.model = build_model(cfg)
        self.opt = make_optimizer(self.model, args.lr, args.wd)
        self.gen = torch.Generator().manual_seed(args.seed + 1)
        self.train_ids = torch.from_numpy(np.asarray(train_ids, dtype=np.int64))
        self.valid_ids, self.tok_lens = valid_ids, tok_lens
        self.step = 0
        self.history = {"step": [], "loss": [], "lr": [], "val_step": [], "val_bpb": [], "val_top1": [],
                        "elapsed": 0.0}

    def batch(self):
        B, T = self.args.batch, self.args.seq
        ix = torch.randint(0, self.train_ids.numel() - T - 1, (B,), generator=self.gen)
        off = torch.arange(T + 1)
        w = self.train_ids[ix[:, None] + off[None, :]]
        return w[:, :-1], w[:, 1:]

    def train_step(self):
        a = self.args
        lr = lr_at(self.step, a.steps, a.lr, a.warmup, a.min_lr_frac)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.model.train()
        x, y = self.batch()
        logits = self.model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), a.grad_clip)
        self.opt.step()
        self.step += 1
        return loss.item(), lr

    def state(self):
        return {"step": self.step, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "gen": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "history": self.history, "config": self.cfg.to_dict(), "args": vars(self.args)}

    def save(self, path):
        tmp = path + ".tmp"
        torch.save(self.state(), tmp)
        os.replace(tmp, path)

    def load(self, path):
        st = torch.load(path)
        self.model.load_state_dict(st["model"])
        self.opt.load_state_dict(st["opt"])
        self.gen.set_state(st["gen"])
        torch.set_rng_state(st["torch_rng"])
        self.step = st["step"]
        self.history = st["history"]

    def validate(self):
        from .eval import evaluate
        r = evaluate(self.model, self.valid_ids, self.tok_lens, seq=self.args.seq, batch=8,
                     max_tokens=self.args.eval_tokens)
        h = self.history
        h["val_step"].append(self.step)
        h["val_bpb"].append(r["bpb"])
        h["val_top1"].append(r["top1"])
        return r

    def run(self, ckpt_path=None, log=print):
        a = self.args
        t0 = time.time()
        base_elapsed = self.history["elapsed"]
        start = self.step
        ema = None
        bytes_per_tok = getattr(a, "bytes_per_token", None)
        while self.step < a.steps:
            loss, lr = self.train_step()
            ema = loss if ema is None else 0.95 * ema + 0.05 * loss
            h = self.history
            h["step"].append(self.step)
            h["loss"].append(loss)
            h["lr"].append(lr)
            h["elapsed"] = base_elapsed + time.time() - t0
            if self.step % a.log_every == 0 or self.step == a.steps:
                dt = time.time() - t0
                sps = (self.step - start) / max(dt, 1e-9)
                eta = (a.steps - self.step) / max(sps, 1e-9)
                frac = self.step / a.steps
                bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
                extra = f" ~{ema / math.log(2) / bytes_per_tok:.3f} bpb" if bytes_per_tok else ""
                log(f"[{bar}] {self.step}/{a.steps} loss {loss:.4f} (ema {ema:.4f}{extra}) lr {lr:.2e} "
                    f"{sps:.2f} it/s {a.batch * a.seq * sps:.0f} tok/s eta {eta / 60:.1f} min")
            if self.valid_ids is not None and a.eval_every and (self.step % a.eval_every == 0 or self.step == a.steps):
                r = self.validate()
                log(f"  valid @ {self.step}: bpb {r['bpb']:.4f} top1 {r['top1']:.4f} ({r['tokens']} tokens)")
            if ckpt_path and (self.step % a.ckpt_every == 0 or self.step == a.steps):
                self.save(ckpt_path)
            if a.stop_after and self.step - start >= a.stop_after:
                break
        return self.history


def plot_history(history, path, title=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    st = np.asarray(history["step"])
    lo = np.asarray(history["loss"]) / math.log(2)
    ax.plot(st, lo, color="0.75", lw=0.6, label="train batch (bits/token)")
    if len(lo) > 20:
        k = max(5, len(lo) // 50)
        sm = np.convolve(lo, np.ones(k) / k, mode="valid")
        ax.plot(st[k - 1:], sm, color="C0", lw=1.5, label=f"train, mean of {k} (bits/token)")
    ax.set_xlabel("step")
    ax.set_ylabel("bits / token")
    ax.grid(alpha=0.3)
    if history["val_step"]:
        ax2 = ax.twinx()
        ax2.plot(history["val_step"], history["val_bpb"], "o-", color="C3", ms=3, label="valid bits/byte")
        ax2.set_ylabel("valid bits / byte", color="C3")
        ax2.axhline(1.6, color="C3", ls=":", lw=0.8)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=8)
    else:
        ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def build_arg_parser():
    ap = argparse.ArgumentParser(prog="umbra_models.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="opt-l4-d256")
    ap.add_argument("--config", default=None, help="config JSON (overrides --preset)")
    ap.add_argument("--corpus", default="runs/corpus")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-tokens", type=int, default=32768, help="valid tokens used for periodic eval")
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this many steps (for testing resume)")
    return ap


def main(argv=None):
    from .corpus import load_split
    from .eval import token_lengths
    from .tokenizer import load_tokenizer
    a = build_arg_parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    tok = load_tokenizer(os.path.join(a.corpus, "tokenizer.json"))
    cfg = ModelConfig.from_json(a.config) if a.config else preset(a.preset)
    cfg = cfg.replace(vocab_size=tok.vocab_size, max_seq=max(cfg.max_seq, a.seq))
    train_ids, train_bytes = load_split(a.corpus, "train")
    valid_ids, _ = load_split(a.corpus, "valid")
    a.bytes_per_token = train_bytes / train_ids.size
    os.makedirs(a.out, exist_ok=True)
    log_f = open(os.path.join(a.out, "train.log"), "a")

    def log(m):
        print(m, flush=True)
        log_f.write(m + "\n")
        log_f.flush()
    tr = Trainer(cfg, train_ids, a, valid_ids, token_lengths(tok))
    ckpt = os.path.join(a.out, "ckpt.pt")
    if a.resume and os.path.exists(ckpt):
        tr.load(ckpt)
        log(f"resumed from {ckpt} at step {tr.step}")
    log(f"model {cfg.family} {tr.model.num_params() / 1e6:.2f}M params, vocab {cfg.vocab_size}, "
        f"train {train_ids.size} tokens ({a.bytes_per_token:.3f} bytes/token), "
        f"{a.steps} steps x {a.batch} x {a.seq} = {a.steps * a.batch * a.seq * a.bytes_per_token / 1e6:.1f}M bytes")
    tr.run(ckpt, log)
    cfg.to_json(os.path.join(a.out, "config.json"))
    shutil.copy(os.path.join(a.corpus, "tokenizer.json"), os.path.join(a.out, "tokenizer.json"))
    if tr.step >= a.steps:
        save_weights_npz(tr.model, os.path.join(a.out, "weights.npz"))
        h = tr.history
        with open(os.path.join(a.out, "train_log.json"), "w") as f:
            json.dump({"args": {k: v for k, v in vars(a).items()}, "steps": tr.step,
                       "elapsed_s": h["elapsed"], "val_step": h["val_step"], "val_bpb": h["val_bpb"],
                       "val_top1": h["val_top1"],
                       "loss_every_10": h["loss"][::10]}, f, indent=1)
        plot_history(tr.history, os.path.join(a.out, "loss.png"),
                     f"{cfg.family} {cfg.n_layer}L d{cfg.d_model} on python3.11 stdlib")
        log(f"done: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
