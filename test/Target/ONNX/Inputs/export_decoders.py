"""Exports tiny GPT-2, OPT and LLaMA-style decoders with torch's ONNX exporter.

Usage: export_decoders.py OUT_DIR [--layers 2 --hidden 64 --heads 4 --ffn 256
       --vocab 128 --seq 16 --only NAME]

Writes OUT_DIR/{gpt2-opset17,gpt2-opset14,gpt2-dynamic,gpt2-hf-opset13,
opt-opset17,llama-opset17}.onnx. The models are written the way the Hugging Face
implementations are (registered causal-mask buffer sliced to the sequence,
Conv1D-style fused QKV for GPT-2, learned positions with offset 2 for OPT,
rotary cos/sin buffers for LLaMA), with random weights. Run with Debian's
/usr/bin/python3 (python3-torch 1.13, python3-onnx 1.12).
"""
import argparse
import math
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F


class GPT2Block(nn.Module):
    def __init__(self, d, h, ffn, n_pos):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, ffn)
        self.proj = nn.Linear(ffn, d)
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(n_pos, n_pos, dtype=torch.bool)).view(
                1, 1, n_pos, n_pos),
            persistent=True)

    def attn(self, x):
        b, t, d = x.size()
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(b, t, self.h, d // self.h).transpose(1, 2)
        k = k.view(b, t, self.h, d // self.h).transpose(1, 2)
        v = v.view(b, t, self.h, d // self.h).transpose(1, 2)
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // self.h)
        mask = self.bias[:, :, :t, :t]
        w = torch.where(mask, w, torch.tensor(torch.finfo(w.dtype).min))
        w = F.softmax(w, dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).contiguous().view(b, t, d)
        return self.c_proj(y)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


class GPT2(nn.Module):
    def __init__(self, layers, d, h, ffn, vocab, n_pos):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(n_pos, d)
        self.blocks = nn.ModuleList(
            [GPT2Block(d, h, ffn, n_pos) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids):
        t = input_ids.size(1)
        pos = torch.arange(0, t, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        for blk in self.blocks:
            x = blk(x)
        x = self.ln_f(x)
        return torch.matmul(x, self.wte.weight.t())  # tied LM head


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
    """GPT-2 as Hugging Face writes it: Conv1D (Gemm), tanh GeLU, -1e4 mask
    fill from a buffer."""

    def __init__(self, d, h, ffn, n_pos):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = Conv1D(ffn, d)
        self.c_proj2 = Conv1D(d, ffn)
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


class HFGPT2(GPT2):
    def __init__(self, layers, d, h, ffn, vocab, n_pos):
        super().__init__(0, d, h, ffn, vocab, n_pos)
        self.blocks = nn.ModuleList(
            [HFGPT2Block(d, h, ffn, n_pos) for _ in range(layers)])


class OPTBlock(nn.Module):
    def __init__(self, d, h, ffn):
        super().__init__()
        self.h = h
        self.scaling = (d // h) ** -0.5
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)
        self.ln_1 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.ln_2 = nn.LayerNorm(d)

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


class OPT(nn.Module):
    def __init__(self, layers, d, h, ffn, vocab, n_pos):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.embed_positions = nn.Embedding(n_pos + 2, d)
        self.blocks = nn.ModuleList([OPTBlock(d, h, ffn) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, input_ids):
        b, t = input_ids.shape
        mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
        attn = torch.ones(b, t, dtype=torch.long)
        pos = (torch.cumsum(attn, dim=1) * attn).long() - 1 + 2
        x = self.embed_tokens(input_ids) + self.embed_positions(pos)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.lm_head(self.final_layer_norm(x))


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class LlamaBlock(nn.Module):
    def __init__(self, d, h, ffn, n_pos):
        super().__init__()
        self.h = h
        hd = d // h
        self.q_proj = nn.Linear(d, d, bias=False)
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d, bias=False)
        self.o_proj = nn.Linear(d, d, bias=False)
        self.gate_proj = nn.Linear(d, ffn, bias=False)
        self.up_proj = nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)
        inv_freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
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


class Llama(nn.Module):
    def __init__(self, layers, d, h, ffn, vocab, n_pos):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(
            [LlamaBlock(d, h, ffn, n_pos) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, input_ids):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))


def export(model, path, seq, opset, dynamic=False, reference=False):
    model.eval()
    ids = torch.randint(0, model_vocab(model), (1, seq), dtype=torch.long)
    if reference:
        # Inputs and torch's outputs, for Inputs/tfm_eval.py.
        import numpy as np
        with torch.no_grad():
            logits = model(ids)
        stem = path[:-len(".onnx")]
        np.save(stem + ".in0.npy", ids.numpy())
        np.save(stem + ".out0.npy", logits.numpy())
    kwargs = {}
    if dynamic:
        kwargs["dynamic_axes"] = {"input_ids": {0: "batch", 1: "seq"},
                                  "logits": {0: "batch", 1: "seq"}}
    with torch.no_grad():
        torch.onnx.export(model, (ids,), path, input_names=["input_ids"],
                          output_names=["logits"], opset_version=opset,
                          do_constant_folding=True, **kwargs)


def model_vocab(model):
    for name in ("wte", "embed_tokens"):
        if hasattr(model, name):
            return getattr(model, name).num_embeddings
    raise ValueError("no embedding")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=256)
    p.add_argument("--vocab", type=int, default=128)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--positions", type=int, default=64)
    p.add_argument("--save-reference", action="store_true",
                   help="also write NAME.in0.npy (ids) and NAME.out0.npy "
                        "(torch logits)")
    p.add_argument("--only", default=None,
                   help="export just this file name (without .onnx)")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    dims = (a.layers, a.hidden, a.heads, a.ffn, a.vocab, a.positions)
    jobs = [
        ("gpt2-opset17", lambda: GPT2(*dims), 17, False),
        ("gpt2-opset14", lambda: GPT2(*dims), 14, False),
        ("gpt2-dynamic", lambda: GPT2(*dims), 17, True),
        ("gpt2-hf-opset13", lambda: HFGPT2(*dims), 13, False),
        ("opt-opset17", lambda: OPT(*dims), 17, False),
        ("llama-opset17", lambda: Llama(*dims), 17, False),
    ]
    for name, make, opset, dynamic in jobs:
        if a.only and name != a.only:
            continue
        export(make(), os.path.join(a.out, name + ".onnx"), a.seq, opset,
               dynamic, a.save_reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
