"""Decoder-only transformers written for clean torch 1.13 ONNX export.

Export-relevant choices:
  * fused QKV projection (one Linear d -> 3d) followed by ``split``;
  * causal mask is a registered lower-triangular bool buffer, sliced to the
    sequence length and applied with ``torch.where`` (ONNX ``Where``) using a
    finite ``mask_value`` (-1e4 by default, representable in fixed point);
  * GeLU is the exact erf form (exported as ``Erf`` at opset 17);
  * LayerNorm is ``nn.LayerNorm`` (``LayerNormalization`` at opset 17);
    RMSNorm is written out (Pow/ReduceMean/Add/Sqrt/Div/Mul);
  * rotary cos/sin tables are buffers sliced to the sequence length.
Every FFN's hidden activation is the input of ``blocks[i].mlp.down``; the
statistics code hooks that module.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        ms = x.pow(2).mean(-1, keepdim=True)
        return x / torch.sqrt(ms + self.eps) * self.weight


def make_norm(cfg: ModelConfig) -> nn.Module:
    if cfg.family == "llama":
        return RMSNorm(cfg.d_model, cfg.norm_eps)
    return nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.qkv = nn.Linear(d, 3 * d, bias=cfg.bias)
        self.proj = nn.Linear(d, d, bias=cfg.bias)
        S = cfg.max_seq
        mask = torch.tril(torch.ones(S, S, dtype=torch.bool)).view(1, 1, S, S)
        self.register_buffer("mask", mask, persistent=False)
        # Optional replacement of the softmax, called as softmax(scores, mask)
        # with the masked scores and the bool mask (or None); set by
        # umbra_models.approx for MPC-friendly forms. None: torch.softmax.
        self.softmax = None
        if cfg.family == "llama":
            hd = cfg.head_dim
            inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
            t = torch.arange(S, dtype=torch.float32)
            fr = torch.outer(t, inv)
            emb = torch.cat([fr, fr], dim=-1)  # [S, hd]
            self.register_buffer("rope_cos", emb.cos().view(1, 1, S, hd), persistent=False)
            self.register_buffer("rope_sin", emb.sin().view(1, 1, S, hd), persistent=False)

    def attend(self, q, k, v, mask=None):
        """softmax(q k^T / sqrt(hd)) v; keys where ``mask`` is false get
        ``mask_value`` (None: every key is visible)."""
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.cfg.head_dim))
        if mask is not None:
            att = torch.where(mask, att, torch.full_like(att, self.cfg.mask_value))
        if self.softmax is not None:
            return torch.matmul(self.softmax(att, mask), v)
        return torch.matmul(torch.softmax(att, dim=-1), v)

    def forward(self, x, return_kv=False):
        """With ``return_kv``, also the keys (after rotary) and values
        [B, H, T, hd]: a prefill's cache."""
        B, T, D = x.shape
        H, hd = self.cfg.n_head, self.cfg.head_dim
        q, k, v = self.qkv(x).split(D, dim=2)
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, H, hd).transpose(1, 2)
        v = v.view(B, T, H, hd).transpose(1, 2)
        if self.cfg.family == "llama":
            cos = self.rope_cos[:, :, :T, :]
            sin = self.rope_sin[:, :, :T, :]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        y = self.attend(q, k, v, self.mask[:, :, :T, :T])
        out = self.proj(y.transpose(1, 2).reshape(B, T, D))
        return (out, k, v) if return_kv else out


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.family = cfg.family
        d, f = cfg.d_model, cfg.d_ff
        if cfg.family == "llama":
            self.gate = nn.Linear(d, f, bias=cfg.bias)
            self.up = nn.Linear(d, f, bias=cfg.bias)
            self.act = nn.SiLU()
        else:
            self.up = nn.Linear(d, f, bias=cfg.bias)
            self.act = nn.GELU() if cfg.family == "gpt2" else nn.ReLU()
        self.down = nn.Linear(f, d, bias=cfg.bias)

    def forward(self, x):
        if self.family == "llama":
            h = self.act(self.gate(x)) * self.up(x)
        else:
            h = self.act(self.up(x))
        return self.down(h)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = make_norm(cfg)
        self.attn = Attention(cfg)
        self.ln2 = make_norm(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class Decoder(nn.Module):
    """Token ids [B, T] (int64) -> logits [B, T, vocab], or [B, 1, vocab] for
    the last position only with ``next_token=True`` (the final norm and the
    LM head then run on one row: what a generating client needs)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        if cfg.family != "llama":
            self.pos_emb = nn.Embedding(cfg.max_seq, cfg.d_model)
            pos = torch.arange(cfg.max_seq, dtype=torch.long).view(1, cfg.max_seq)
            self.register_buffer("pos_ids", pos, persistent=False)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = make_norm(cfg)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.tok_emb.weight
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        resid_std = std / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                s = resid_std if name.endswith(("proj.weight", "down.weight")) else std
                nn.init.normal_(p, 0.0, s)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:  # norm weights
                nn.init.ones_(p)

    def forward(self, input_ids, next_token: bool = False):
        B, T = input_ids.shape
        x = self.tok_emb(input_ids)
        if self.cfg.family != "llama":
            x = x + self.pos_emb(self.pos_ids[:, :T])
        for blk in self.blocks:
            x = blk(x)
        if next_token:
            x = x[:, -1:, :]
        return self.lm_head(self.ln_f(x))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(cfg: ModelConfig) -> Decoder:
    return Decoder(cfg)


# ---- weights I/O -----------------------------------------------------------

def state_dict_numpy(model: nn.Module, dtype="float16") -> dict:
    import numpy as np
    out = {}
    for k, v in model.state_dict().items():
        if model.cfg.tie_embeddings and k == "lm_head.weight":
            continue  # tied to tok_emb.weight
        out[k] = v.detach().cpu().numpy().astype(dtype)
    return out


def save_weights_npz(model: nn.Module, path, dtype="float16"):
    import numpy as np
    np.savez_compressed(path, **state_dict_numpy(model, dtype))


def load_weights_npz(model: nn.Module, path):
    import numpy as np
    z = np.load(path)
    sd = {k: torch.from_numpy(z[k].astype("float32")) for k in z.files}
    if model.cfg.tie_embeddings:
        sd["lm_head.weight"] = sd["tok_emb.weight"]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise KeyError(f"weights mismatch: missing={missing} unexpected={unexpected}")
    return model


def load_model_dir(path):
    """Load a fixture/model directory (config.json + weights.npz) in fp32."""
    import os
    cfg = ModelConfig.from_json(os.path.join(path, "config.json"))
    model = build_model(cfg)
    load_weights_npz(model, os.path.join(path, "weights.npz"))
    model.eval()
    return model
