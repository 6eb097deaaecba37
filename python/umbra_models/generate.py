"""Autoregressive generation with a KV cache: the model side (issue 12).

Two graphs share one Decoder's weights, and each chooses the next token
itself: its first output is ``next_token``, int64 [1, 1], the argmax over
the vocabulary of the last position's logits (ONNX ArgMax, keepdims=1,
select_last_index=0: the first maximum). The logits never leave the graph,
so under MPC only the chosen token is revealed to the client.
  * ``Prefill``: prompt ids [1, T] -> (next_token [1, 1], present_key_0,
    present_value_0, ..., present_value_{L-1}), each cache tensor
    [1, H, T, head_dim] (keys after rotary for llama);
  * ``DecodeStep``: one token [1, 1], its position [1, 1] and the cache
    [1, H, P, hd] per tensor -> (next_token [1, 1], the cache with the new
    token appended [1, H, P+1, hd]).
``sampling="gumbel"`` gives both graphs one more, last, input ``noise``
float [1, 1, V] and the token argmax(logits + noise): Gumbel-max sampling
when the caller passes temperature * Gumbel(0, 1) draws (argmax(l/t + g) ==
argmax(l + t*g) for t > 0, so the temperature is not part of the graph).
``sampling="greedy"`` (the default) is argmax(logits). ``logits(...)`` on
either module gives (logits [1, 1, V], *cache) for the torch references.

The decode step reads P from nothing but the cache tensors' own extent:
every reshape uses the static [1, 1] token and the config (H, hd, V), the
new position enters as an embedding lookup by the ``position`` input, the
cache grows by Concat and attention reduces along the last axis. Its ONNX
graph therefore has no Shape op and one dynamic axis ("past") per cache
input.

  /usr/bin/python3 -m umbra_models.generate --model fixtures/gpt2-l4-d256 \
      --prompt-len 16 --tokens 16 --out-dir gen [--text-file F | --seed S] \
      [--gumbel-seed G --temperature t [--top-k K]] [--eos-token ID]
writes prefill.onnx, decode.onnx, generation.json, prompt_ids.npy,
expected_tokens.npy (torch's tokens) and, with --gumbel-seed (graphs with
sampling="gumbel"), noise.npy: [n, V] float32, row i = t * gumbel_noise(G)[i]
is the ``noise`` input of step i (step 0 is the prefill).
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

from .export import OPSET, check_onnx, io_signature, model_of, sample_ids
from .model import rotate_half


def cache_names(n_layer: int, prefix: str, naming: str = "umbra"):
    """[prefix_key_0, prefix_value_0, ..., prefix_value_{L-1}]: the order of
    the cache tensors in every graph interface here. naming="hf" gives
    Hugging Face's export names instead: past_key_values.{i}.key for the
    "past" prefix, present.{i}.key for "present"."""
    if naming == "hf":
        hf = {"past": "past_key_values", "present": "present"}[prefix]
        return [f"{hf}.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
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


SAMPLING = ("greedy", "gumbel")


# The score of a token outside the top k: below any logit plus noise, and
# representable in the fixed point of the MPC program.
OUTSIDE_TOP_K = -1e4


def choose_token(logits, noise=None, top_k=0):
    """logits [1, 1, V] (+ noise [1, 1, V], float32) -> int64 [1, 1], the
    first index of the maximum over V: what both graphs output. In ONNX: Add
    (with noise), Reshape to the constant [1, -1] and ArgMax(axis=1,
    keepdims=1, select_last_index=0); no Shape op. With top_k > 0 only the
    tokens whose logit is at least the k-th largest compete (TopK,
    GreaterOrEqual, Where): Gumbel-max sampling from the top k."""
    scores = (logits if noise is None else logits + noise).reshape(1, -1)
    if top_k:
        flat = logits.reshape(1, -1)
        kth = torch.topk(flat, top_k, dim=1).values[:, -1:]
        scores = torch.where(flat >= kth, scores, torch.tensor(OUTSIDE_TOP_K))
    return torch.argmax(scores, dim=1, keepdim=True)


def _check_sampling(sampling, top_k, vocab):
    if sampling not in SAMPLING:
        raise ValueError(f"sampling {sampling!r} is not one of {SAMPLING}")
    if top_k and (sampling != "gumbel" or not 1 <= top_k <= vocab):
        raise ValueError(f"top_k {top_k} needs sampling=\"gumbel\" and 1 <= top_k <= {vocab}")


class _Sampler(nn.Module):
    def __init__(self, model, sampling="greedy", top_k=0, eos_token=None):
        super().__init__()
        _check_sampling(sampling, top_k, model.cfg.vocab_size)
        if eos_token is not None and not 0 <= eos_token < model.cfg.vocab_size:
            raise ValueError(f"eos_token {eos_token} is not in [0, {model.cfg.vocab_size})")
        self.model = model
        self.sampling = sampling
        self.top_k = top_k
        self.eos_token = eos_token

    def _outputs(self, logits, noise, cache):
        """(next_token[, stop], *cache): with an eos_token, stop int64 [1, 1]
        is 1 when the token is it (the opt-in end-of-sequence stop)."""
        tok = choose_token(logits, noise, self.top_k)
        if self.eos_token is None:
            return (tok, *cache)
        return (tok, (tok == self.eos_token).to(torch.int64), *cache)

    def _split_noise(self, args):
        """(inputs, noise): the noise is the last input with "gumbel"."""
        if self.sampling != "gumbel":
            return args, None
        if not args:
            raise ValueError('sampling="gumbel" takes a last input noise [1, 1, V]')
        noise = args[-1]
        V = self.model.cfg.vocab_size
        # (checked in eager runs; a trace has the static [1, 1, V] of its example)
        if not torch.jit.is_tracing() and tuple(noise.shape) != (1, 1, V):
            raise ValueError(f"noise shape {tuple(noise.shape)} != (1, 1, {V})")
        return args[:-1], noise


class Prefill(_Sampler):
    """input_ids [1, T] (, noise [1, 1, V] with sampling="gumbel") ->
    (next_token int64 [1, 1], present_key_0, present_value_0, ...).
    ``logits(input_ids)`` gives (last-position logits [1, 1, V], *cache)
    instead; those logits equal Decoder(ids, next_token=True)."""

    def logits(self, input_ids):
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

    def forward(self, *args):
        (input_ids, *rest), noise = self._split_noise(args)
        if rest:
            raise ValueError(f"Prefill({self.sampling!r}) got {len(args)} inputs")
        logits, *cache = self.logits(input_ids)
        return self._outputs(logits, noise, cache)


class DecodeStep(_Sampler):
    """(input_ids [1, 1], position [1, 1], past_key_0, past_value_0, ...
    (, noise [1, 1, V] with sampling="gumbel")) -> (next_token int64 [1, 1],
    present_key_0, present_value_0, ...), with present = cat(past, new) on
    axis 2. ``position`` is the cache length P. ``logits(input_ids,
    position, *past)`` gives (logits [1, 1, V], *cache) instead."""

    def logits(self, input_ids, position, *past):
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

    def forward(self, *args):
        args, noise = self._split_noise(args)
        logits, *cache = self.logits(*args)
        return self._outputs(logits, noise, cache)


# ---- export ------------------------------------------------------------------

def export_generation(model, out_dir, prompt_len, sampling="greedy", opset=OPSET, top_k=0,
                      eos_token=None, naming="umbra"):
    """Writes out_dir/prefill.onnx (static [1, prompt_len] prompt),
    out_dir/decode.onnx (cache axis 2 dynamic: "past" on the inputs,
    "past_plus_1" on the outputs) and out_dir/generation.json (shapes, the
    sampling, the name of the token output and the past -> present pairing
    of the cache). Both graphs output "next_token" int64 [1, 1] first;
    with sampling="gumbel" both take a last input "noise" float [1, 1, V].
    top_k > 0 (with "gumbel") samples from the k most likely tokens. With
    eos_token, both graphs also output "stop" int64 [1, 1] (after
    next_token): 1 when the token is eos_token (an opt-in stop that the
    compiler reveals to the servers). naming="hf" names the cache as
    Hugging Face's exporter does (past_key_values.0.key -> present.0.key).
    Returns the three paths."""
    model.eval()
    cfg = model.cfg
    _check_sampling(sampling, top_k, cfg.vocab_size)
    if not 1 <= prompt_len < cfg.max_seq:
        raise ValueError(f"prompt_len {prompt_len} must be in [1, max_seq {cfg.max_seq})")
    os.makedirs(out_dir, exist_ok=True)
    L, H, hd, V = cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.vocab_size
    past, present = cache_names(L, "past", naming), cache_names(L, "present", naming)
    pre_path = os.path.join(out_dir, "prefill.onnx")
    dec_path = os.path.join(out_dir, "decode.onnx")
    ids = torch.zeros(1, prompt_len, dtype=torch.long)
    # the decode step is traced at P = prompt_len; nothing in it depends on P
    tok = torch.zeros(1, 1, dtype=torch.long)
    pos = torch.full((1, 1), prompt_len, dtype=torch.long)
    cache = tuple(torch.zeros(1, H, prompt_len, hd) for _ in past)
    noise, noise_name = (), []
    if sampling == "gumbel":
        noise, noise_name = (torch.zeros(1, 1, V),), ["noise"]
    dyn = {n: {2: "past"} for n in past}
    dyn.update({n: {2: "past_plus_1"} for n in present})
    outs = ["next_token"] + (["stop"] if eos_token is not None else []) + present
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Prefill(model, sampling, top_k, eos_token), (ids,) + noise, pre_path,
                          opset_version=opset,
                          input_names=["input_ids"] + noise_name, output_names=outs)
        torch.onnx.export(DecodeStep(model, sampling, top_k, eos_token), (tok, pos) + cache + noise,
                          dec_path,
                          opset_version=opset,
                          input_names=["input_ids", "position"] + past + noise_name,
                          output_names=outs, dynamic_axes=dyn)
    meta = {"prompt_len": prompt_len, "max_seq": cfg.max_seq, "layers": L, "heads": H,
            "head_dim": hd, "vocab": V, "sampling": sampling, "top_k": top_k,
            "eos_token": eos_token,
            "next_token": "next_token",
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
def generate_tokens(model, prompt_ids, n, noise=None, use_cache=True, return_logits=False,
                    top_k=0):
    """n tokens; token i = choose_token(logits_i, noise[i]): exactly the
    exported graphs' computation, noise being the [n, V] float32 rows fed
    as their ``noise`` input (None: greedy). use_cache: Prefill once then
    DecodeStep n-1 times; otherwise the full Decoder on the growing
    sequence. return_logits: also the [n, V] float32 logits every token
    came from."""
    model.eval()
    V = model.cfg.vocab_size
    ids = _as_prompt(prompt_ids)
    T = ids.shape[1]
    if n < 1 or T + n - 1 > model.cfg.max_seq:
        raise ValueError(f"prompt {T} + {n} tokens - 1 exceeds max_seq {model.cfg.max_seq}")
    if noise is not None:
        noise = np.asarray(noise)
        if noise.shape != (n, V) or noise.dtype != np.float32:
            raise ValueError(f"noise {noise.dtype} {noise.shape} is not float32 ({n}, {V})")
        noise = torch.from_numpy(noise).view(n, 1, 1, V)
    tokens, rows = [], []
    if use_cache:
        step = DecodeStep(model)
        logits, *cache = Prefill(model).logits(ids)
    else:
        logits = model(ids, next_token=True)
    for i in range(n):
        rows.append(logits[0, -1].numpy())
        tok = choose_token(logits, None if noise is None else noise[i], top_k)
        tokens.append(int(tok))
        if i == n - 1:
            break
        if use_cache:
            pos = torch.tensor([[T + i]], dtype=torch.long)
            logits, *cache = step.logits(tok, pos, *cache)
        else:
            ids = torch.cat([ids, tok], dim=1)
            logits = model(ids, next_token=True)
    rows = np.stack(rows).astype(np.float32)
    return (tokens, rows) if return_logits else tokens


def greedy_generate(model, prompt_ids, n, use_cache=True, return_logits=False):
    """n tokens, each the argmax of the last logits (what the
    sampling="greedy" graphs output); see generate_tokens."""
    return generate_tokens(model, prompt_ids, n, None, use_cache, return_logits)


def gumbel_noise(seed, n, vocab):
    """[n, vocab] float32 Gumbel(0, 1) draws -log(-log(U)), U uniform from
    numpy's default_rng(seed), kept inside (0, 1)."""
    u = np.random.default_rng(seed).random((n, vocab))
    u = np.clip(u, np.finfo(np.float64).tiny, 1.0)
    return (-np.log(-np.log(u))).astype(np.float32)


def scale_noise(noise, temperature):
    """temperature * noise in float32: the ``noise`` input rows of the
    sampling="gumbel" graphs (temperature 1 leaves the draws unchanged)."""
    t = float(temperature)
    if not (t > 0 and np.isfinite(t)):
        raise ValueError(f"temperature {temperature} must be finite and > 0")
    return np.float32(t) * np.asarray(noise, dtype=np.float32)


def gumbel_generate(model, prompt_ids, n, noise, temperature=1.0, use_cache=True,
                    return_logits=False, top_k=0):
    """Sampling by the Gumbel-max trick with caller-supplied Gumbel(0, 1)
    draws noise [n, V]: token i is argmax(logits_i + temperature * noise[i])
    in float32, the sampling="gumbel" graphs fed scale_noise(noise,
    temperature) (the same token as argmax(logits / t + noise) but for float
    rounding)."""
    noise = np.asarray(noise, dtype=np.float32)
    if noise.shape != (n, model.cfg.vocab_size):
        raise ValueError(f"noise shape {noise.shape} != ({n}, {model.cfg.vocab_size})")
    return generate_tokens(model, prompt_ids, n, scale_noise(noise, temperature), use_cache,
                           return_logits, top_k)


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
                    help='export sampling="gumbel" graphs and write noise.npy = temperature * '
                         "gumbel_noise(seed) (row i: step i's noise input) instead of greedy")
    ap.add_argument("--temperature", type=float, default=1.0,
                    help="with --gumbel-seed: the scale of the noise (> 0)")
    ap.add_argument("--top-k", type=int, default=0,
                    help="with --gumbel-seed: sample from the k most likely tokens only")
    ap.add_argument("--eos-token", type=int, default=None,
                    help="graphs also output stop = (token == this id): an opt-in stop "
                         "that the servers learn")
    a = ap.parse_args(argv)
    if a.top_k and a.gumbel_seed is None:
        ap.error("--top-k needs --gumbel-seed")
    if not (a.temperature > 0 and np.isfinite(a.temperature)):
        ap.error("--temperature must be finite and > 0")
    if a.temperature != 1.0 and a.gumbel_seed is None:
        ap.error("--temperature needs --gumbel-seed")
    model, tok = model_of(a.model, a.preset, a.seed)
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
    sampling = "greedy" if a.gumbel_seed is None else "gumbel"
    pre, dec, meta = export_generation(model, a.out_dir, T, sampling, top_k=a.top_k,
                                       eos_token=a.eos_token)
    for p in (pre, dec):
        m, ops = check_onnx(p)
        ins, outs = io_signature(m)
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB), {len(ins)} inputs, {len(outs)} outputs")
        print("  ops:", ", ".join(f"{k}x{v}" for k, v in ops.items()))
    if sampling == "gumbel":
        noise = scale_noise(gumbel_noise(a.gumbel_seed, n, model.cfg.vocab_size), a.temperature)
        toks = generate_tokens(model, ids, n, noise, top_k=a.top_k)
        np.save(os.path.join(a.out_dir, "noise.npy"), noise)
        how = (f"Gumbel-max, seed {a.gumbel_seed}, temperature {a.temperature}"
               f"{f', top {a.top_k}' if a.top_k else ''}; noise.npy {noise.shape}")
    else:
        toks = greedy_generate(model, ids, n)
        how = "greedy"
    if a.eos_token is not None and a.eos_token in toks:  # the opt-in stop
        toks = toks[:toks.index(a.eos_token) + 1]
        how += f", stopped at token {len(toks)} (--eos-token {a.eos_token})"
    np.save(os.path.join(a.out_dir, "prompt_ids.npy"), ids)
    np.save(os.path.join(a.out_dir, "expected_tokens.npy"), np.asarray(toks, dtype=np.int64))
    print(f"wrote {meta}, prompt_ids.npy {ids.shape}, expected_tokens.npy ({len(toks)},) [{how}]")
    print("tokens:", " ".join(map(str, toks)))
    if tok is not None:
        show = lambda t: tok.decode(t).decode("utf-8", errors="replace")  # noqa: E731
        print(f"prompt: {show(ids[0])!r}")
        print(f"continuation: {show(toks)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
