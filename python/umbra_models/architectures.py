"""Decoder architectures as the popular model libraries write them.

``hf_style`` covers the Hugging Face idioms of the three families the
project trains (GPT-2, OPT, LLaMA). This module covers the architectures
users export beside them, each written with the idioms of the Hugging Face
transformers code of that model (from knowledge of that code; nothing is
downloaded and nothing copied), so that the compiler sees the graphs torch's
exporter really produces for them:

* ``HFLlamaGQA``  -- LLaMA-2/Mistral grouped-query attention: fewer K/V heads,
  repeated by ``repeat_kv`` (``[:, :, None].expand(...).reshape(...)``) or by
  ``torch.repeat_interleave(x, n_rep, dim=1)`` (multi-query with one K/V
  head); rotary tables gathered by ``position_ids`` (``cos[position_ids]``),
  a ``finfo.min`` causal mask built with ``masked_fill`` plus an expanded
  all-ones attention mask, optionally Mistral's sliding window
  (``log(triu(tril(ones)))`` = 0 / -inf band); RMSNorm, SwiGLU, untied head.
* ``HFFalcon``    -- Falcon-7B: one fused query_key_value with multi-query
  heads split by index lists (``[..., [-2], :]``), rotary on ``[B*H, T, hd]``,
  the single K/V head broadcast by ``matmul``, a bool mask filled with -1e9,
  one LayerNorm feeding attention and MLP in parallel, tied head.
* ``HFGPTNeoX``   -- GPT-NeoX/Pythia: per-head fused QKV
  (``view(B, T, H, 3*hd)``), partial rotary (``rotary_pct``), scores by
  ``baddbmm`` with ``alpha = 1/norm_factor``, ``where(bool buffer, s,
  finfo.min)``, parallel residual ``x + attn(ln1 x) + mlp(ln2 x)``, untied
  ``embed_out``.
* ``HFGPTJ``      -- GPT-J: partial rotary on the first ``rotary_dim``
  channels with interleaved pairs (``rotate_every_two``: strided slices and
  ``stack``/``flatten``; sin/cos widened by ``repeat_interleave``), one
  sin|cos table gathered by ``position_ids`` and split, ``where`` with
  ``finfo.min`` *before* the division by ``scale_attn``, one LayerNorm for
  the parallel attention and MLP, ``gelu_new``, an untied head with a bias.
* ``HFPhi``       -- Phi-1/2: partial rotary (``partial_rotary_factor``) in the
  half-split form, scores upcast to float32, additive ``finfo.min`` mask, one
  LayerNorm for the parallel attention and MLP, ``gelu_new``, untied head
  with a bias.
* ``HFOPTPostLN`` -- OPT-350m: ``do_layer_norm_before=False`` (post-LN blocks,
  no final LayerNorm), ``project_in``/``project_out`` between the embedding
  width and the hidden width, learned positions from
  ``(cumsum(attention_mask) * attention_mask).long() - 1`` plus the offset 2,
  ``bmm`` on ``[B*H, T, hd]``, the ``finfo.min`` score clamp (``torch.max``),
  FFN on a 2-D view, tied head.

All take a ``ModelConfig`` (sizes, eps) plus the architecture's own knobs;
``umbra_models.zoo`` builds them (``STYLES``) and lists the test variants
(``ARCH_VARIANTS``, including batch 2 and single-token inputs).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .hf_style import HFRMSNorm, gelu_new


class ArchDecoder(nn.Module):
    """Common interface of the zoo decoders: ``cfg``, ``tok_emb``, ``lm_head``
    and ``input_ids [B, T] -> logits [B, T, V]``."""

    def __init__(self, cfg: ModelConfig, embed_dim=None):
        super().__init__()
        self.cfg = cfg
        e = embed_dim or cfg.d_model
        self.tok_emb = nn.Embedding(cfg.vocab_size, e)
        self.lm_head = nn.Linear(e, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


# ---- shared Hugging Face helpers -------------------------------------------

def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, position_ids):
    """LLaMA (transformers 4.31+): the [1, 1, T, d] tables gathered by
    position ids."""
    cos = cos.squeeze(1).squeeze(0)  # [T, d]
    sin = sin.squeeze(1).squeeze(0)
    cos = cos[position_ids].unsqueeze(1)  # [B, 1, T, d]
    sin = sin[position_ids].unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


class RotaryEmbedding(nn.Module):
    """cos/sin caches [1, 1, max_pos, dim], sliced to the sequence length."""

    def __init__(self, dim, max_position_embeddings, base=10000.0):
        super().__init__()
        self.dim = dim
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        t = torch.arange(max_position_embeddings, dtype=inv_freq.dtype)
        freqs = torch.einsum("i,j->ij", t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos()[None, None, :, :], persistent=False)
        self.register_buffer("sin_cached", emb.sin()[None, None, :, :], persistent=False)

    def forward(self, x, seq_len):
        return (self.cos_cached[:, :, :seq_len, ...].to(dtype=x.dtype),
                self.sin_cached[:, :, :seq_len, ...].to(dtype=x.dtype))


def make_causal_mask(input_ids_shape, dtype):
    """transformers' ``_make_causal_mask``: 0 on and below the diagonal,
    ``finfo.min`` above, expanded to [B, 1, T, T]."""
    bsz, tgt_len = input_ids_shape
    mask = torch.full((tgt_len, tgt_len), torch.finfo(dtype).min)
    mask_cond = torch.arange(mask.size(-1))
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    mask = mask.to(dtype)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len)


def make_sliding_window_causal_mask(input_ids_shape, dtype, sliding_window):
    """Mistral's band mask: log of a 0/1 band (0 inside, -inf outside)."""
    bsz, tgt_len = input_ids_shape
    tensor = torch.full((tgt_len, tgt_len), fill_value=1)
    mask = torch.tril(tensor, diagonal=0)
    mask = torch.triu(mask, diagonal=-sliding_window)
    mask = torch.log(mask).to(dtype)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len)


def expand_mask(mask, dtype, tgt_len):
    """transformers' ``_expand_mask``: [B, S] 1/0 -> [B, 1, T, S] 0/finfo.min."""
    bsz, src_len = mask.size()
    expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


def repeat_kv(hidden_states, n_rep):
    """[B, KV, T, hd] -> [B, KV * n_rep, T, hd] by expand + reshape."""
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(
        batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


# ---- LLaMA-2 / Mistral: grouped-query and multi-query attention -----------

class LlamaGQAAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, num_key_value_heads, kv_repeat):
        super().__init__()
        self.hidden_size = cfg.d_model
        self.num_heads = cfg.n_head
        self.head_dim = cfg.head_dim
        self.num_key_value_heads = num_key_value_heads
        self.num_key_value_groups = self.num_heads // num_key_value_heads
        self.kv_repeat = kv_repeat
        hd = self.head_dim
        self.q_proj = nn.Linear(self.hidden_size, self.num_heads * hd, bias=False)
        self.k_proj = nn.Linear(self.hidden_size, num_key_value_heads * hd, bias=False)
        self.v_proj = nn.Linear(self.hidden_size, num_key_value_heads * hd, bias=False)
        self.o_proj = nn.Linear(self.num_heads * hd, self.hidden_size, bias=False)
        self.rotary_emb = RotaryEmbedding(hd, cfg.max_seq, base=cfg.rope_theta)

    def forward(self, hidden_states, attention_mask, position_ids):
        bsz, q_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states).view(
            bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(
            bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(
            bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        cos, sin = self.rotary_emb(value_states, seq_len=q_len)
        query_states, key_states = apply_rotary_pos_emb(
            query_states, key_states, cos, sin, position_ids)
        if self.kv_repeat == "repeat_interleave":
            key_states = torch.repeat_interleave(
                key_states, repeats=self.num_key_value_groups, dim=1)
            value_states = torch.repeat_interleave(
                value_states, repeats=self.num_key_value_groups, dim=1)
        else:
            key_states = repeat_kv(key_states, self.num_key_value_groups)
            value_states = repeat_kv(value_states, self.num_key_value_groups)
        attn_weights = torch.matmul(
            query_states, key_states.transpose(2, 3)) / math.sqrt(self.head_dim)
        attn_weights = attn_weights + attention_mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(bsz, q_len, self.hidden_size)
        return self.o_proj(attn_output)


class LlamaMLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaGQALayer(nn.Module):
    def __init__(self, cfg, num_key_value_heads, kv_repeat):
        super().__init__()
        self.self_attn = LlamaGQAAttention(cfg, num_key_value_heads, kv_repeat)
        self.mlp = LlamaMLP(cfg)
        self.input_layernorm = HFRMSNorm(cfg.d_model, cfg.norm_eps)
        self.post_attention_layernorm = HFRMSNorm(cfg.d_model, cfg.norm_eps)

    def forward(self, hidden_states, attention_mask, position_ids):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, attention_mask, position_ids)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        return residual + hidden_states


class HFLlamaGQA(ArchDecoder):
    """LLaMA-2 / Mistral with ``num_key_value_heads`` K/V heads (1: multi-query)
    repeated by ``kv_repeat`` ("expand": ``repeat_kv``; "repeat_interleave"),
    and Mistral's band mask when ``sliding_window`` is set."""

    def __init__(self, cfg: ModelConfig, num_key_value_heads=2, kv_repeat="expand",
                 sliding_window=None):
        super().__init__(cfg)
        if cfg.n_head % num_key_value_heads:
            raise ValueError("n_head must be a multiple of num_key_value_heads")
        if kv_repeat not in ("expand", "repeat_interleave"):
            raise ValueError(f"unknown kv_repeat {kv_repeat!r}")
        self.sliding_window = sliding_window
        self.layers = nn.ModuleList([LlamaGQALayer(cfg, num_key_value_heads, kv_repeat)
                                     for _ in range(cfg.n_layer)])
        self.norm = HFRMSNorm(cfg.d_model, cfg.norm_eps)

    def forward(self, input_ids):
        batch_size, seq_length = input_ids.shape
        position_ids = torch.arange(0, seq_length, dtype=torch.long)
        position_ids = position_ids.unsqueeze(0).view(-1, seq_length)
        inputs_embeds = self.tok_emb(input_ids)
        attention_mask = torch.ones((batch_size, seq_length), dtype=torch.bool)
        if self.sliding_window is None:
            causal = make_causal_mask((batch_size, seq_length), inputs_embeds.dtype)
        else:
            causal = make_sliding_window_causal_mask(
                (batch_size, seq_length), inputs_embeds.dtype, self.sliding_window)
        attention_mask = expand_mask(attention_mask, inputs_embeds.dtype,
                                     tgt_len=seq_length) + causal
        hidden_states = inputs_embeds
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, position_ids)
        return self.lm_head(self.norm(hidden_states))


# ---- Falcon-7B: multi-query, parallel attention + MLP ----------------------

class FalconRotaryEmbedding(nn.Module):
    """Falcon's rotary on [B*H, T, hd] with [1, T, hd] tables."""

    def __init__(self, head_dim, max_pos, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
        t = torch.arange(max_pos).type_as(inv_freq)
        freqs = torch.einsum("i,j->ij", t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos()[None, :, :], persistent=False)
        self.register_buffer("sin_cached", emb.sin()[None, :, :], persistent=False)

    def forward(self, query, key):
        _, seq_len, _ = query.shape
        cos = self.cos_cached[:, :seq_len]
        sin = self.sin_cached[:, :seq_len]
        return (query * cos) + (rotate_half(query) * sin), (key * cos) + (rotate_half(key) * sin)


class FalconAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.hidden_size = cfg.d_model
        self.num_heads = cfg.n_head
        self.head_dim = cfg.head_dim
        self.num_kv_heads = 1
        self.query_key_value = nn.Linear(
            self.hidden_size, self.hidden_size + 2 * self.head_dim, bias=False)
        self.dense = nn.Linear(self.hidden_size, self.hidden_size, bias=False)
        self.maybe_rotary = FalconRotaryEmbedding(self.head_dim, cfg.max_seq, cfg.rope_theta)

    def _split_heads(self, fused_qkv):
        batch_size, seq_length, _ = fused_qkv.shape
        fused_qkv = fused_qkv.view(batch_size, seq_length, self.num_heads + 2, self.head_dim)
        return fused_qkv[..., :-2, :], fused_qkv[..., [-2], :], fused_qkv[..., [-1], :]

    def forward(self, hidden_states, attention_mask):
        fused_qkv = self.query_key_value(hidden_states)
        (query_layer, key_layer, value_layer) = self._split_heads(fused_qkv)
        batch_size, query_length, _, _ = query_layer.shape
        query_layer = query_layer.transpose(1, 2).reshape(
            batch_size * self.num_heads, query_length, self.head_dim)
        key_layer = key_layer.transpose(1, 2).reshape(
            batch_size * self.num_kv_heads, query_length, self.head_dim)
        value_layer = value_layer.transpose(1, 2).reshape(
            batch_size * self.num_kv_heads, query_length, self.head_dim)
        query_layer, key_layer = self.maybe_rotary(query_layer, key_layer)
        query_layer_ = query_layer.reshape(batch_size, self.num_heads, -1, self.head_dim)
        key_layer_ = key_layer.reshape(batch_size, self.num_kv_heads, -1, self.head_dim)
        value_layer_ = value_layer.reshape(batch_size, self.num_kv_heads, -1, self.head_dim)
        attention_mask_float = (attention_mask * 1.0).masked_fill(
            attention_mask, float("-1e9")).to(query_layer.dtype)
        # The single K/V head is broadcast over the query heads by matmul.
        attention_scores = query_layer_ @ key_layer_.transpose(-1, -2)
        attention_scores /= math.sqrt(self.head_dim)
        attention_scores = F.softmax(attention_scores + attention_mask_float, dim=-1,
                                     dtype=hidden_states.dtype)
        attn_output = attention_scores @ value_layer_
        attn_output = attn_output.view(batch_size, self.num_heads, query_length, self.head_dim)
        attn_output = attn_output.permute(0, 2, 1, 3)
        attn_output = attn_output.reshape(batch_size, query_length,
                                          self.num_heads * self.head_dim)
        return self.dense(attn_output)


class FalconMLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.act = nn.GELU()
        self.dense_4h_to_h = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.dense_4h_to_h(self.act(self.dense_h_to_4h(x)))


class FalconDecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.self_attention = FalconAttention(cfg)
        self.mlp = FalconMLP(cfg)

    def forward(self, hidden_states, attention_mask):
        residual = hidden_states
        attention_layernorm_out = self.input_layernorm(hidden_states)
        attention_output = self.self_attention(attention_layernorm_out, attention_mask)
        mlp_output = self.mlp(attention_layernorm_out)
        output = mlp_output + attention_output
        return output + residual


class HFFalcon(ArchDecoder):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.h = nn.ModuleList([FalconDecoderLayer(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, input_ids):
        batch_size, seq_length = input_ids.shape
        hidden_states = self.tok_emb(input_ids)
        attention_mask = torch.ones((batch_size, seq_length))
        # Falcon's boolean masks: True = masked.
        causal_mask = torch.triu(
            torch.ones((seq_length, seq_length), dtype=torch.bool), diagonal=1)
        causal_mask = causal_mask[None, None, :, :].expand(batch_size, 1, seq_length, seq_length)
        expanded = ~(attention_mask[:, None, None, :].to(torch.bool))
        expanded = expanded.expand(batch_size, 1, seq_length, seq_length)
        causal_mask = expanded | causal_mask
        for block in self.h:
            hidden_states = block(hidden_states, causal_mask)
        return self.lm_head(self.ln_f(hidden_states))


# ---- GPT-NeoX / Pythia: partial rotary, parallel residual ------------------

class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, rotary_pct):
        super().__init__()
        self.num_attention_heads = cfg.n_head
        self.hidden_size = cfg.d_model
        self.head_size = cfg.head_dim
        self.rotary_ndims = int(self.head_size * rotary_pct)
        n = cfg.max_seq
        self.register_buffer(
            "bias", torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n),
            persistent=False)
        self.rotary_emb = RotaryEmbedding(self.rotary_ndims, n, base=cfg.rope_theta)
        self.register_buffer("norm_factor", torch.sqrt(
            torch.tensor(self.head_size, dtype=torch.float32)), persistent=False)
        self.query_key_value = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.dense = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, hidden_states, position_ids):
        qkv = self.query_key_value(hidden_states)
        new_qkv_shape = qkv.size()[:-1] + (self.num_attention_heads, 3 * self.head_size)
        qkv = qkv.view(*new_qkv_shape)
        query = qkv[..., : self.head_size].permute(0, 2, 1, 3)
        key = qkv[..., self.head_size: 2 * self.head_size].permute(0, 2, 1, 3)
        value = qkv[..., 2 * self.head_size:].permute(0, 2, 1, 3)
        query_rot = query[..., : self.rotary_ndims]
        query_pass = query[..., self.rotary_ndims:]
        key_rot = key[..., : self.rotary_ndims]
        key_pass = key[..., self.rotary_ndims:]
        seq_len = key.shape[-2]
        cos, sin = self.rotary_emb(value, seq_len=seq_len)
        query, key = apply_rotary_pos_emb(query_rot, key_rot, cos, sin, position_ids)
        query = torch.cat((query, query_pass), dim=-1)
        key = torch.cat((key, key_pass), dim=-1)
        attn_output = self._attn(query, key, value)
        attn_output = self._merge_heads(attn_output)
        return self.dense(attn_output)

    def _merge_heads(self, tensor):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        return tensor.view(tensor.size(0), tensor.size(1),
                           self.num_attention_heads * self.head_size)

    def _attn(self, query, key, value):
        batch_size, num_attention_heads, query_length, attn_head_size = query.size()
        key_length = key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        query = query.view(batch_size * num_attention_heads, query_length, attn_head_size)
        key = key.view(batch_size * num_attention_heads, key_length, attn_head_size)
        attn_scores = torch.zeros(batch_size * num_attention_heads, query_length, key_length,
                                  dtype=query.dtype)
        attn_scores = torch.baddbmm(
            attn_scores, query, key.transpose(1, 2), beta=1.0,
            alpha=(torch.tensor(1.0, dtype=self.norm_factor.dtype) / self.norm_factor))
        attn_scores = attn_scores.view(batch_size, num_attention_heads, query_length, key_length)
        mask_value = torch.finfo(attn_scores.dtype).min
        mask_value = torch.tensor(mask_value, dtype=attn_scores.dtype)
        attn_scores = torch.where(causal_mask, attn_scores, mask_value)
        attn_weights = F.softmax(attn_scores, dim=-1)
        return torch.matmul(attn_weights, value)


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.d_model, cfg.d_ff)
        self.dense_4h_to_h = nn.Linear(cfg.d_ff, cfg.d_model)
        self.act = nn.GELU()

    def forward(self, hidden_states):
        return self.dense_4h_to_h(self.act(self.dense_h_to_4h(hidden_states)))


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, rotary_pct, use_parallel_residual):
        super().__init__()
        self.use_parallel_residual = use_parallel_residual
        self.input_layernorm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.post_attention_layernorm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attention = GPTNeoXAttention(cfg, rotary_pct)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, hidden_states, position_ids):
        attn_output = self.attention(self.input_layernorm(hidden_states), position_ids)
        if self.use_parallel_residual:
            # x = x + attn(ln1(x)) + mlp(ln2(x))
            mlp_output = self.mlp(self.post_attention_layernorm(hidden_states))
            return mlp_output + attn_output + hidden_states
        attn_output = attn_output + hidden_states
        mlp_output = self.mlp(self.post_attention_layernorm(attn_output))
        return mlp_output + attn_output


class HFGPTNeoX(ArchDecoder):
    def __init__(self, cfg: ModelConfig, rotary_pct=0.25, use_parallel_residual=True):
        super().__init__(cfg)
        self.layers = nn.ModuleList([GPTNeoXLayer(cfg, rotary_pct, use_parallel_residual)
                                     for _ in range(cfg.n_layer)])
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, input_ids):
        seq_length = input_ids.shape[1]
        position_ids = torch.arange(0, seq_length, dtype=torch.long)
        position_ids = position_ids.unsqueeze(0).view(-1, seq_length)
        hidden_states = self.tok_emb(input_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, position_ids)
        return self.lm_head(self.final_layer_norm(hidden_states))


# ---- GPT-J: interleaved partial rotary, parallel block ---------------------

def create_sinusoidal_positions(num_pos, dim):
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2) / dim))
    sinusoid_inp = torch.einsum("i , j -> i j", torch.arange(num_pos, dtype=torch.float),
                                inv_freq).float()
    return torch.cat((torch.sin(sinusoid_inp), torch.cos(sinusoid_inp)), dim=1)


def rotate_every_two(x):
    x1 = x[:, :, :, ::2]
    x2 = x[:, :, :, 1::2]
    x = torch.stack((-x2, x1), dim=-1)
    return x.flatten(-2)


def apply_rotary_pos_emb_interleaved(tensor, sin, cos):
    sin = torch.repeat_interleave(sin[:, :, None, :], 2, 3)
    cos = torch.repeat_interleave(cos[:, :, None, :], 2, 3)
    return (tensor * cos) + (rotate_every_two(tensor) * sin)


class GPTJAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, rotary_dim):
        super().__init__()
        n = cfg.max_seq
        self.register_buffer(
            "bias", torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n),
            persistent=False)
        self.embed_dim = cfg.d_model
        self.num_attention_heads = cfg.n_head
        self.head_dim = cfg.head_dim
        self.scale_attn = torch.sqrt(torch.tensor(self.head_dim, dtype=torch.float32))
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim, bias=False)
        self.rotary_dim = rotary_dim
        self.register_buffer("embed_positions",
                             create_sinusoidal_positions(n, rotary_dim), persistent=False)

    def _split_heads(self, tensor, rotary):
        tensor = tensor.view(tensor.size()[:-1] + (self.num_attention_heads, self.head_dim))
        if rotary:
            return tensor
        return tensor.permute(0, 2, 1, 3)  # [B, H, T, hd]

    def _merge_heads(self, tensor):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        return tensor.view(tensor.size()[:-2] + (self.num_attention_heads * self.head_dim,))

    def _attn(self, query, key, value):
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        query = query.to(torch.float32)
        key = key.to(torch.float32)
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        mask_value = torch.finfo(attn_weights.dtype).min
        mask_value = torch.tensor(mask_value, dtype=attn_weights.dtype)
        attn_weights = torch.where(causal_mask, attn_weights, mask_value)
        attn_weights = attn_weights / self.scale_attn
        attn_weights = F.softmax(attn_weights, dim=-1)
        attn_weights = attn_weights.to(value.dtype)
        return torch.matmul(attn_weights, value)

    def forward(self, hidden_states, position_ids):
        query = self._split_heads(self.q_proj(hidden_states), True)
        key = self._split_heads(self.k_proj(hidden_states), True)
        value = self._split_heads(self.v_proj(hidden_states), False)
        sincos = self.embed_positions[position_ids]
        sin, cos = torch.split(sincos, sincos.shape[-1] // 2, dim=-1)
        k_rot = key[:, :, :, : self.rotary_dim]
        k_pass = key[:, :, :, self.rotary_dim:]
        q_rot = query[:, :, :, : self.rotary_dim]
        q_pass = query[:, :, :, self.rotary_dim:]
        k_rot = apply_rotary_pos_emb_interleaved(k_rot, sin, cos)
        q_rot = apply_rotary_pos_emb_interleaved(q_rot, sin, cos)
        key = torch.cat([k_rot, k_pass], dim=-1)
        query = torch.cat([q_rot, q_pass], dim=-1)
        key = key.permute(0, 2, 1, 3)
        query = query.permute(0, 2, 1, 3)
        attn_output = self._attn(query, key, value)
        return self.out_proj(self._merge_heads(attn_output))


class GPTJMLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc_in = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc_out = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, hidden_states):
        return self.fc_out(gelu_new(self.fc_in(hidden_states)))


class GPTJBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, rotary_dim):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attn = GPTJAttention(cfg, rotary_dim)
        self.mlp = GPTJMLP(cfg)

    def forward(self, hidden_states, position_ids):
        residual = hidden_states
        hidden_states = self.ln_1(hidden_states)
        attn_output = self.attn(hidden_states, position_ids)
        feed_forward_hidden_states = self.mlp(hidden_states)
        return attn_output + feed_forward_hidden_states + residual


class HFGPTJ(ArchDecoder):
    def __init__(self, cfg: ModelConfig, rotary_dim=8):
        super().__init__(cfg)
        self.h = nn.ModuleList([GPTJBlock(cfg, rotary_dim) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size)  # untied, with a bias

    def forward(self, input_ids):
        input_shape = input_ids.size()
        position_ids = torch.arange(0, input_shape[-1], dtype=torch.long)
        position_ids = position_ids.unsqueeze(0).view(-1, input_shape[-1])
        hidden_states = self.tok_emb(input_ids)
        for block in self.h:
            hidden_states = block(hidden_states, position_ids)
        return self.lm_head(self.ln_f(hidden_states))


# ---- Phi-1/2: partial rotary (half split), parallel block ------------------

class PhiAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, partial_rotary_factor):
        super().__init__()
        self.hidden_size = cfg.d_model
        self.num_heads = cfg.n_head
        self.head_dim = cfg.head_dim
        self.q_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim)
        self.k_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim)
        self.v_proj = nn.Linear(self.hidden_size, self.num_heads * self.head_dim)
        self.dense = nn.Linear(self.num_heads * self.head_dim, self.hidden_size)
        self.rotary_emb = RotaryEmbedding(int(partial_rotary_factor * self.head_dim),
                                          cfg.max_seq, base=cfg.rope_theta)

    def forward(self, hidden_states, attention_mask, position_ids):
        bsz, q_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states).view(
            bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(
            bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(
            bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        cos, sin = self.rotary_emb(value_states, seq_len=q_len)
        rot = self.rotary_emb.dim
        query_rot, query_pass = query_states[..., :rot], query_states[..., rot:]
        key_rot, key_pass = key_states[..., :rot], key_states[..., rot:]
        query_rot, key_rot = apply_rotary_pos_emb(query_rot, key_rot, cos, sin, position_ids)
        query_states = torch.cat((query_rot, query_pass), dim=-1)
        key_states = torch.cat((key_rot, key_pass), dim=-1)
        # Phi-2 upcasts queries and keys to float32 against overflow.
        attn_weights = torch.matmul(
            query_states.to(torch.float32), key_states.to(torch.float32).transpose(2, 3)
        ) / math.sqrt(self.head_dim)
        attn_weights = attn_weights + attention_mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(value_states.dtype)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(bsz, q_len, self.hidden_size)
        return self.dense(attn_output)


class PhiMLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, hidden_states):
        return self.fc2(gelu_new(self.fc1(hidden_states)))


class PhiDecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, partial_rotary_factor):
        super().__init__()
        self.self_attn = PhiAttention(cfg, partial_rotary_factor)
        self.mlp = PhiMLP(cfg)
        self.input_layernorm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, hidden_states, attention_mask, position_ids):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        attn_outputs = self.self_attn(hidden_states, attention_mask, position_ids)
        feed_forward_hidden_states = self.mlp(hidden_states)
        return attn_outputs + feed_forward_hidden_states + residual


class HFPhi(ArchDecoder):
    def __init__(self, cfg: ModelConfig, partial_rotary_factor=0.5):
        super().__init__(cfg)
        self.layers = nn.ModuleList([PhiDecoderLayer(cfg, partial_rotary_factor)
                                     for _ in range(cfg.n_layer)])
        self.final_layernorm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size)  # untied, with a bias

    def forward(self, input_ids):
        batch_size, seq_length = input_ids.shape
        position_ids = torch.arange(0, seq_length, dtype=torch.long).unsqueeze(0)
        inputs_embeds = self.tok_emb(input_ids)
        attention_mask = make_causal_mask((batch_size, seq_length), inputs_embeds.dtype)
        hidden_states = inputs_embeds
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, position_ids)
        return self.lm_head(self.final_layernorm(hidden_states))


# ---- OPT-350m: post-LN, project_in/out, cumsum positions -------------------

class OPTLearnedPositionalEmbedding(nn.Embedding):
    """OPT's positions: ids from the attention mask, offset by 2."""

    def __init__(self, num_embeddings, embedding_dim):
        self.offset = 2
        super().__init__(num_embeddings + self.offset, embedding_dim)

    def forward(self, attention_mask):
        attention_mask = attention_mask.long()
        positions = (torch.cumsum(attention_mask, dim=1).type_as(attention_mask)
                     * attention_mask).long() - 1
        return super().forward(positions + self.offset)


class OPTAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, clamp_scores=True):
        super().__init__()
        self.clamp_scores = clamp_scores
        self.embed_dim = cfg.d_model
        self.num_heads = cfg.n_head
        self.head_dim = cfg.head_dim
        self.scaling = self.head_dim ** -0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def _shape(self, tensor, seq_len, bsz):
        return tensor.view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, hidden_states, attention_mask):
        bsz, tgt_len, _ = hidden_states.size()
        query_states = self.q_proj(hidden_states) * self.scaling
        key_states = self._shape(self.k_proj(hidden_states), -1, bsz)
        value_states = self._shape(self.v_proj(hidden_states), -1, bsz)
        proj_shape = (bsz * self.num_heads, -1, self.head_dim)
        query_states = self._shape(query_states, tgt_len, bsz).view(*proj_shape)
        key_states = key_states.view(*proj_shape)
        value_states = value_states.view(*proj_shape)
        src_len = key_states.size(1)
        attn_weights = torch.bmm(query_states, key_states.transpose(1, 2))
        attn_weights = attn_weights.view(bsz, self.num_heads, tgt_len, src_len) + attention_mask
        if self.clamp_scores:
            attn_weights = torch.max(attn_weights,
                                     torch.tensor(torch.finfo(attn_weights.dtype).min))
        attn_weights = attn_weights.view(bsz * self.num_heads, tgt_len, src_len)
        attn_weights = F.softmax(attn_weights, dim=-1)
        attn_output = torch.bmm(attn_weights, value_states)
        attn_output = attn_output.view(bsz, self.num_heads, tgt_len, self.head_dim)
        attn_output = attn_output.transpose(1, 2)
        attn_output = attn_output.reshape(bsz, tgt_len, self.embed_dim)
        return self.out_proj(attn_output)


class OPTDecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, do_layer_norm_before, clamp_scores):
        super().__init__()
        self.do_layer_norm_before = do_layer_norm_before
        self.self_attn = OPTAttention(cfg, clamp_scores)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)

    def forward(self, hidden_states, attention_mask):
        residual = hidden_states
        if self.do_layer_norm_before:
            hidden_states = self.self_attn_layer_norm(hidden_states)
        hidden_states = self.self_attn(hidden_states, attention_mask)
        hidden_states = residual + hidden_states
        if not self.do_layer_norm_before:
            hidden_states = self.self_attn_layer_norm(hidden_states)
        hidden_states_shape = hidden_states.shape
        hidden_states = hidden_states.reshape(-1, hidden_states.size(-1))
        residual = hidden_states
        if self.do_layer_norm_before:
            hidden_states = self.final_layer_norm(hidden_states)
        hidden_states = self.fc2(F.relu(self.fc1(hidden_states)))
        hidden_states = (residual + hidden_states).view(hidden_states_shape)
        if not self.do_layer_norm_before:
            hidden_states = self.final_layer_norm(hidden_states)
        return hidden_states


class HFOPTPostLN(ArchDecoder):
    """OPT with ``do_layer_norm_before`` (False: OPT-350m's post-LN, no final
    LayerNorm) and ``word_embed_proj_dim`` (the embedding width; project_in
    and project_out when it differs from the hidden width); ``clamp_scores``
    keeps OPT's ``torch.max(scores + mask, finfo.min)``."""

    def __init__(self, cfg: ModelConfig, word_embed_proj_dim=32, do_layer_norm_before=False,
                 clamp_scores=True):
        super().__init__(cfg, embed_dim=word_embed_proj_dim)
        d = cfg.d_model
        self.embed_positions = OPTLearnedPositionalEmbedding(cfg.max_seq, d)
        if word_embed_proj_dim != d:
            self.project_out = nn.Linear(d, word_embed_proj_dim, bias=False)
            self.project_in = nn.Linear(word_embed_proj_dim, d, bias=False)
        else:
            self.project_out = self.project_in = None
        self.final_layer_norm = (nn.LayerNorm(d, eps=cfg.norm_eps)
                                 if do_layer_norm_before else None)
        self.layers = nn.ModuleList([OPTDecoderLayer(cfg, do_layer_norm_before, clamp_scores)
                                     for _ in range(cfg.n_layer)])

    def forward(self, input_ids):
        batch_size, seq_length = input_ids.shape
        inputs_embeds = self.tok_emb(input_ids)
        attention_mask = torch.ones(batch_size, seq_length)
        causal_attention_mask = make_causal_mask((batch_size, seq_length), inputs_embeds.dtype)
        causal_attention_mask = expand_mask(attention_mask, inputs_embeds.dtype,
                                            tgt_len=seq_length) + causal_attention_mask
        pos_embeds = self.embed_positions(attention_mask)
        if self.project_in is not None:
            inputs_embeds = self.project_in(inputs_embeds)
        hidden_states = inputs_embeds + pos_embeds
        for layer in self.layers:
            hidden_states = layer(hidden_states, causal_attention_mask)
        if self.final_layer_norm is not None:
            hidden_states = self.final_layer_norm(hidden_states)
        if self.project_out is not None:
            hidden_states = self.project_out(hidden_states)
        return self.lm_head(hidden_states)
