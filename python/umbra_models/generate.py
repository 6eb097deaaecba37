"""Autoregressive generation with a KV cache: the model side (issue 12).

Two graphs share one Decoder's weights:
  * ``Prefill``: prompt ids [1, T] -> (logits of the last position [1, 1, V],
    present_key_0, present_value_0, ..., present_value_{L-1}), each cache
    tensor [1, H, T, head_dim] (keys after rotary for llama);
  * ``DecodeStep``: one token [1, 1], its position [1, 1] and the cache
    [1, H, P, hd] per tensor -> (logits [1, 1, V], the cache with the new
    token appended [1, H, P+1, hd]).
The decode step reads P from nothing but the cache tensors' own extent:
every reshape uses the static [1, 1] token and the config (H, hd), the new
position enters as an embedding lookup by the ``position`` input, the cache
grows by Concat and attention reduces along the last axis. Its ONNX graph
therefore has no Shape op and one dynamic axis ("past") per cache input.

  /usr/bin/python3 -m umbra_models.generate --model fixtures/gpt2-l4-d256 \
      --prompt-len 16 --tokens 16 --out-dir gen [--text-file F | --seed S] \
      [--gumbel-seed G --temperature t]
writes prefill.onnx, decode.onnx, generation.json, prompt_ids.npy,
expected_tokens.npy (torch's tokens) and, with --gumbel-seed,
gumbel_noise.npy ([n, V] float32, the noise step i adds).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import preset
from .export import OPSET, check_onnx, io_signature, sample_ids
from .tokenizer import tokenizer_of
from .model import build_model, load_model_dir, rotate_half


def cache_names(n_layer: int, prefix: str):
    """[prefix_key_0, prefix_value_0, ..., prefix_value_{L-1}]: the order of
    the cache tensors in every graph interface here."""
    return [f"{prefix}_{kv}_{i}" for i in range(n_layer) for kv in ("key", "value")]


def _decode_attention(attn, x, position, past_k, past_v):
    """One token's attention over the cache plus itself. x [1, 1, D]; the
    shapes are literal (1, 1, H, hd) so that no op reads the cache's length."""
    cfg = attn.cfg
    D, H, hd, S = cfg.d_model, cfg.n_head, cfg.head_dim, cfg.max_seq
    q, k, v = attn.qkv(x).split(D, dim=2)
    q = q.view(1, 1, H, hd).transpose(1, 2)
    k = k.view(1, 1, H, hd).transpose(1, 2)
    v = v.view(1, 1, H, hd).transpose(1, 2)
    if cfg.family == "llama":
        # the rotary rows of this token's position, looked up by the input
        cos = F.embedding(position, attn.rope_cos.view(S, hd)).view(1, 1, 1, hd)
        sin = F.embedding(position, attn.rope_sin.view(S, hd)).view(1, 1, 1, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
    k = torch.cat([past_k, k], dim=2)
    v = torch.cat([past_v, v], dim=2)
    y = attn.attend(q, k, v)
    return attn.proj(y.transpose(1, 2).reshape(1, 1, D)), k, v


class Prefill(nn.Module):
    """input_ids [1, T] -> (last-position logits [1, 1, V], present_key_0,
    present_value_0, ...); the logits equal Decoder(ids, next_token=True)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        m = self.model
        T = input_ids.shape[1]
        x = m.tok_emb(input_ids)
        if m.cfg.family != "llama":
            x = x + m.pos_emb(m.pos_ids[:, :T])
        cache = []
        for blk in m.blocks:
            y, k, v = blk.attn(blk.ln1(x), return_kv=True)
            x = x + y
            x = x + blk.mlp(blk.ln2(x))
            cache += [k, v]
        return (m.lm_head(m.ln_f(x[:, -1:, :])), *cache)


class DecodeStep(nn.Module):
    """(input_ids [1, 1], position [1, 1], past_key_0, past_value_0, ...)
    -> (logits [1, 1, V], present_key_0, present_value_0, ...), with
    present = cat(past, new) on axis 2. ``position`` is the cache length P."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position, *past):
        m = self.model
        if len(past) != 2 * len(m.blocks):
            raise ValueError(f"expected {2 * len(m.blocks)} cache tensors, got {len(past)}")
        x = m.tok_emb(input_ids)
        if m.cfg.family != "llama":
            x = x + m.pos_emb(position)
        cache = []
        for i, blk in enumerate(m.blocks):
            y, k, v = _decode_attention(blk.attn, blk.ln1(x), position, past[2 * i], past[2 * i + 1])
            x = x + y
            x = x + blk.mlp(blk.ln2(x))
            cache += [k, v]
        return (m.lm_head(m.ln_f(x)), *cache)


# ---- export ------------------------------------------------------------------

def export_generation(model, out_dir, prompt_len, opset=OPSET):
    """Writes out_dir/prefill.onnx (static [1, prompt_len] prompt),
    out_dir/decode.onnx (cache axis 2 dynamic: "past" on the inputs,
    "past_plus_1" on the outputs) and out_dir/generation.json (shapes and
    the past -> present pairing of the cache). Returns the three paths."""
    model.eval()
    cfg = model.cfg
    if not 1 <= prompt_len < cfg.max_seq:
        raise ValueError(f"prompt_len {prompt_len} must be in [1, max_seq {cfg.max_seq})")
    os.makedirs(out_dir, exist_ok=True)
    L, H, hd = cfg.n_layer, cfg.n_head, cfg.head_dim
    past, present = cache_names(L, "past"), cache_names(L, "present")
    pre_path = os.path.join(out_dir, "prefill.onnx")
    dec_path = os.path.join(out_dir, "decode.onnx")
    ids = torch.zeros(1, prompt_len, dtype=torch.long)
    # the decode step is traced at P = prompt_len; nothing in it depends on P
    tok = torch.zeros(1, 1, dtype=torch.long)
    pos = torch.full((1, 1), prompt_len, dtype=torch.long)
    cache = tuple(torch.zeros(1, H, prompt_len, hd) for _ in past)
    dyn = {n: {2: "past"} for n in past}
    dyn.update({n: {2: "past_plus_1"} for n in present})
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Prefill(model), (ids,), pre_path, opset_version=opset,
                          input_names=["input_ids"], output_names=["logits"] + present)
        torch.onnx.export(DecodeStep(model), (tok, pos) + cache, dec_path, opset_version=opset,
                          input_names=["input_ids", "position"] + past,
                          output_names=["logits"] + present, dynamic_axes=dyn)
    meta = {"prompt_len": prompt_len, "max_seq": cfg.max_seq, "layers": L, "heads": H,
            "head_dim": hd, "vocab": cfg.vocab_size,
            "cache": [[a, b] for a, b in zip(past, present)]}
    json_path = os.path.join(out_dir, "generation.json")
    with open(json_path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return pre_path, dec_path, json_path


# ---- torch references ------------------------------------------------------

def _as_prompt(prompt_ids):
    ids = torch.as_tensor(np.asarray(prompt_ids), dtype=torch.long)
    return ids.view(1, -1)


@torch.no_grad()
def _generate(model, prompt_ids, n, choose, use_cache):
    """Runs n steps; choose(i, logits[V]) picks step i's token. Returns
    (tokens, logits [n, V] float32)."""
    model.eval()
    ids = _as_prompt(prompt_ids)
    T = ids.shape[1]
    if n < 1 or T + n - 1 > model.cfg.max_seq:
        raise ValueError(f"prompt {T} + {n} tokens - 1 exceeds max_seq {model.cfg.max_seq}")
    tokens, rows = [], []
    if use_cache:
        step = DecodeStep(model)
        logits, *cache = Prefill(model)(ids)
    else:
        logits = model(ids, next_token=True)
    for i in range(n):
        row = logits[0, -1]
        rows.append(row.numpy())
        tokens.append(int(choose(i, row)))
        if i == n - 1:
            break
        tok = torch.tensor([[tokens[-1]]], dtype=torch.long)
        if use_cache:
            pos = torch.tensor([[T + i]], dtype=torch.long)
            logits, *cache = step(tok, pos, *cache)
        else:
            ids = torch.cat([ids, tok], dim=1)
            logits = model(ids, next_token=True)
    return tokens, np.stack(rows).astype(np.float32)


def greedy_generate(model, prompt_ids, n, use_cache=True, return_logits=False):
    """n tokens, each the argmax of the last logits. use_cache: Prefill once
    then DecodeStep n-1 times; otherwise the full Decoder on the growing
    sequence. return_logits: also the [n, V] logits every token came from."""
    toks, rows = _generate(model, prompt_ids, n, lambda i, r: torch.argmax(r), use_cache)
    return (toks, rows) if return_logits else toks


def gumbel_noise(seed, n, vocab):
    """[n, vocab] float32 Gumbel(0, 1) draws -log(-log(U)), U uniform from
    numpy's default_rng(seed), kept inside (0, 1)."""
    u = np.random.default_rng(seed).random((n, vocab))
    u = np.clip(u, np.finfo(np.float64).tiny, 1.0)
    return (-np.log(-np.log(u))).astype(np.float32)


def gumbel_generate(model, prompt_ids, n, noise, temperature=1.0, use_cache=True,
                    return_logits=False):
    """Sampling by the Gumbel-max trick with caller-supplied noise: token i is
    argmax(logits / temperature + noise[i]) (float32)."""
    noise = torch.as_tensor(np.asarray(noise, dtype=np.float32))
    if noise.shape != (n, model.cfg.vocab_size):
        raise ValueError(f"noise shape {tuple(noise.shape)} != ({n}, {model.cfg.vocab_size})")
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    toks, rows = _generate(model, prompt_ids, n,
                           lambda i, r: torch.argmax(r / temperature + noise[i]), use_cache)
    return (toks, rows) if return_logits else toks


# ---- CLI ---------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog="umbra_models.generate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", help="model directory (config.json + weights.npz)")
    g.add_argument("--preset", help="named preset, random weights (seeded by --seed)")
    ap.add_argument("--prompt-len", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=16, help="tokens to generate")
    ap.add_argument("--out-dir", required=True)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--text-file", help="prompt: the first --prompt-len tokens of this text "
                                         "(needs the model dir's tokenizer.json)")
    src.add_argument("--seed", type=int, default=0, help="prompt: random token ids")
    ap.add_argument("--gumbel-seed", type=int, default=None,
                    help="sample by Gumbel-max with gumbel_noise(seed) instead of greedy")
    ap.add_argument("--temperature", type=float, default=1.0)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    tok = None
    if a.model:
        model = load_model_dir(a.model)
        tok = tokenizer_of(a.model)
    else:
        torch.manual_seed(a.seed)
        model = build_model(preset(a.preset, max_seq=None)).eval()
    T, n = a.prompt_len, a.tokens
    if a.text_file:
        if tok is None:
            ap.error("--text-file needs a --model directory with tokenizer.json")
        ids = tok.encode(open(a.text_file, "rb").read())[:T]
        if len(ids) < T:
            ap.error(f"{a.text_file} has {len(ids)} tokens, fewer than --prompt-len {T}")
        ids = np.asarray(ids, dtype=np.int64)[None]
    else:
        ids = sample_ids(model, T, a.seed)
    pre, dec, meta = export_generation(model, a.out_dir, T)
    for p in (pre, dec):
        m, ops = check_onnx(p)
        ins, outs = io_signature(m)
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB), {len(ins)} inputs, {len(outs)} outputs")
        print("  ops:", ", ".join(f"{k}x{v}" for k, v in ops.items()))
    if a.gumbel_seed is not None:
        noise = gumbel_noise(a.gumbel_seed, n, model.cfg.vocab_size)
        toks = gumbel_generate(model, ids, n, noise, a.temperature)
        np.save(os.path.join(a.out_dir, "gumbel_noise.npy"), noise)
        how = f"Gumbel-max, seed {a.gumbel_seed}, temperature {a.temperature}"
    else:
        toks = greedy_generate(model, ids, n)
        how = "greedy"
    np.save(os.path.join(a.out_dir, "prompt_ids.npy"), ids)
    np.save(os.path.join(a.out_dir, "expected_tokens.npy"), np.asarray(toks, dtype=np.int64))
    print(f"wrote {meta}, prompt_ids.npy {ids.shape}, expected_tokens.npy ({n},) [{how}]")
    print("tokens:", " ".join(map(str, toks)))
    if tok is not None:
        show = lambda t: tok.decode(t).decode("utf-8", errors="replace")  # noqa: E731
        print(f"prompt: {show(ids[0])!r}")
        print(f"continuation: {show(toks)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
