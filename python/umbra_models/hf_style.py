"""The decoders written the way the Hugging Face implementations write them.

``model.Decoder`` is the trained family: one clean way to write GPT-2, OPT
and LLaMA for export. Real checkpoints come out of torch's exporter in other
shapes, and the importer must recognise those idioms too. Each class here is
a ``Decoder`` (same token embedding, block list, final norm and LM head)
whose blocks are written as the Hugging Face code writes them:

* ``HFGPT2``  -- Conv1D projections (``addmm`` -> Gemm on a 2-D view), tanh
  GeLU written out (``gelu_new``), a uint8 causal-mask buffer and a -1e4 fill
  buffer (``masked_bias``), permute-based head split;
* ``HFOPT``   -- separate q/k/v projections, scaling on q, an additive -inf
  mask, ReLU FFN, learned positions indexed by ``cumsum(attention_mask) + 1``
  (table offset 2);
* ``HFLlama`` -- RMSNorm as ``w * (x * rsqrt(mean(x^2) + eps))`` with
  non-trivial weights, rotary cos/sin buffers, an additive ``finfo.min``
  triu mask, SwiGLU with ``F.silu``.

Used by ``umbra_models.zoo`` (the import and end-to-end test decoders).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .model import Decoder, rotate_half


class Conv1D(nn.Module):
    """Hugging Face GPT-2's Conv1D: y = addmm(b, x2d, W) with W [in, out]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.randn(nf) * 0.02)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class HFGPT2Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, n_pos = cfg.d_model, cfg.max_seq
        self.h = cfg.n_head
        self.ln_1 = nn.LayerNorm(d, eps=cfg.norm_eps)
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=cfg.norm_eps)
        self.c_fc = Conv1D(cfg.d_ff, d)
        self.c_proj2 = Conv1D(d, cfg.d_ff)
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(n_pos, n_pos, dtype=torch.uint8)).view(
                1, 1, n_pos, n_pos))
        self.register_buffer("masked_bias", torch.tensor(-1e4))

    def forward(self, x):
        b, t, d = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, t, self.h, d // self.h).permute(0, 2, 1, 3)
        k = k.view(b, t, self.h, d // self.h).permute(0, 2, 3, 1)
        v = v.view(b, t, self.h, d // self.h).permute(0, 2, 1, 3)
        w = torch.matmul(q, k) / (float(v.size(-1)) ** 0.5)
        mask = self.bias[:, :, t - t:t, :t].bool()
        w = torch.where(mask, w, self.masked_bias.to(w.dtype))
        w = nn.Softmax(dim=-1)(w)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(b, t, d)
        x = x + self.c_proj(a)
        return x + self.c_proj2(gelu_new(self.c_fc(self.ln_2(x))))


class HFGPT2(Decoder):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.blocks = nn.ModuleList(
            [HFGPT2Block(cfg) for _ in range(cfg.n_layer)])


class HFOPTBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, h = cfg.d_model, cfg.n_head
        self.h = h
        self.scaling = (d // h) ** -0.5
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)
        self.ln_1 = nn.LayerNorm(d, eps=cfg.norm_eps)
        self.fc1 = nn.Linear(d, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, d)
        self.ln_2 = nn.LayerNorm(d, eps=cfg.norm_eps)

    def forward(self, x, mask):
        b, t, d = x.shape
        y = self.ln_1(x)
        q = (self.q_proj(y) * self.scaling).view(b, t, self.h, -1).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.h, -1).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.h, -1).transpose(1, 2)
        w = torch.matmul(q, k.transpose(2, 3)) + mask
        w = F.softmax(w, dim=-1)
        a = torch.matmul(w, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out_proj(a)
        return x + self.fc2(F.relu(self.fc1(self.ln_2(x))))


class HFOPT(Decoder):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.pos_emb = nn.Embedding(cfg.max_seq + 2, cfg.d_model)
        self.blocks = nn.ModuleList([HFOPTBlock(cfg) for _ in range(cfg.n_layer)])

    def forward(self, input_ids):
        b, t = input_ids.shape
        mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
        attn = torch.ones(b, t, dtype=torch.long)
        pos = (torch.cumsum(attn, dim=1) * attn).long() - 1 + 2
        x = self.tok_emb(input_ids) + self.pos_emb(pos)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.lm_head(self.ln_f(x))


class HFRMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class HFLlamaBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, f, n_pos = cfg.d_model, cfg.d_ff, cfg.max_seq
        self.h = cfg.n_head
        hd = cfg.head_dim
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)
        self.input_layernorm = HFRMSNorm(d, cfg.norm_eps)
        self.post_attention_layernorm = HFRMSNorm(d, cfg.norm_eps)
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2).float() / hd))
        t = torch.arange(n_pos).float()
        freqs = torch.einsum("i,j->ij", t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos()[None, None])
        self.register_buffer("sin_cached", emb.sin()[None, None])

    def forward(self, x):
        b, t, d = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, t, self.h, -1).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.h, -1).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.h, -1).transpose(1, 2)
        cos = self.cos_cached[:, :, :t]
        sin = self.sin_cached[:, :, :t]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(d // self.h)
        causal = torch.full((t, t), torch.finfo(w.dtype).min).triu(1)
        w = F.softmax(w + causal, dim=-1)
        a = torch.matmul(w, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o_proj(a)
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class HFLlama(Decoder):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.blocks = nn.ModuleList([HFLlamaBlock(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = HFRMSNorm(cfg.d_model, cfg.norm_eps)
