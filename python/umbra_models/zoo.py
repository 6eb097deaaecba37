"""The test zoo: tiny random decoders in the export styles the importer must
handle, each exported by torch's ONNX exporter at a given opset.

  /usr/bin/python3 -m umbra_models.zoo OUT_DIR [--only NAME[,NAME]]
      [--layers 2 --hidden 64 --heads 4 --ffn 256 --vocab 128 --positions 64
       --seq 16] [--save-reference]

writes OUT_DIR/NAME.onnx for every variant below (the lit tests under
test/Target/ONNX and test/Tools/mpc-compile, bench/import). With
--save-reference also NAME.in0.npy (random token ids) and NAME.out0.npy
(torch's float32 logits for them).

Styles (the model definitions are ``model.Decoder`` and ``hf_style``):
  gpt2     model.Decoder, family gpt2: erf GeLU, native LayerNorm, fused QKV
           split, boolean causal-mask buffer filled with finfo.min, tied
           LM head;
  hf-gpt2  hf_style.HFGPT2 (Conv1D/Gemm, tanh GeLU, uint8 mask, -1e4 fill);
  opt      hf_style.HFOPT (ReLU, additive -inf mask, CumSum positions);
  llama    hf_style.HFLlama (RMSNorm with rsqrt, rotary, SwiGLU).

Architectures (``architectures``: written with the idioms of the Hugging
Face code of each model; ARCH_VARIANTS, opset 17, static shapes, at batch
sizes and sequence lengths of their own; ``--architectures`` exports them):
  llama-gqa  LLaMA-2 grouped-query attention (2 K/V heads, repeat_kv by
             expand + reshape), cos[position_ids], masked_fill causal mask;
  llama-mqa  multi-query (1 K/V head) repeated by repeat_interleave;
  mistral    grouped-query plus a sliding-window band mask (log of 0/1);
  falcon     Falcon-7B: fused multi-query QKV split by index lists, one K/V
             head broadcast by matmul, -1e9 bool mask, parallel attn + MLP;
  neox       GPT-NeoX: per-head fused QKV, 25% partial rotary, baddbmm,
             parallel residual with two LayerNorms, untied head;
  gptj       GPT-J: interleaved partial rotary (rotate_every_two,
             repeat_interleave'd sin/cos), where(finfo.min) then / scale,
             parallel block, untied head with a bias;
  phi        Phi: 50% partial rotary (half split), float32 upcast scores,
             parallel block, untied head with a bias;
  opt-350m   OPT-350m: post-LN blocks, project_in/project_out (embedding
             width 32), cumsum positions + offset 2, bmm, finfo.min clamp;
  opt-350m-unclamped  the same without the clamp.
Weights are torch's default initialisation (uniform Linear weights and
biases, N(0, 1) embeddings), seed 0, so that the logits are not flat.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from .config import ModelConfig
from .export import export_onnx
from functools import partial

from .architectures import (HFFalcon, HFGPTJ, HFGPTNeoX, HFLlamaGQA, HFOPTPostLN,
                            HFPhi)
from .hf_style import HFGPT2, HFLlama, HFOPT
from .model import Decoder

STYLES = {
    "gpt2": Decoder, "hf-gpt2": HFGPT2, "opt": HFOPT, "llama": HFLlama,
    "llama-gqa": partial(HFLlamaGQA, num_key_value_heads=2, kv_repeat="expand"),
    "llama-mqa": partial(HFLlamaGQA, num_key_value_heads=1,
                         kv_repeat="repeat_interleave"),
    "mistral": partial(HFLlamaGQA, num_key_value_heads=2, kv_repeat="expand",
                       sliding_window=8),
    "falcon": HFFalcon,
    "neox": partial(HFGPTNeoX, rotary_pct=0.25, use_parallel_residual=True),
    "gptj": partial(HFGPTJ, rotary_dim=8),
    "phi": partial(HFPhi, partial_rotary_factor=0.5),
    "opt-350m": partial(HFOPTPostLN, word_embed_proj_dim=32, do_layer_norm_before=False),
    "opt-350m-unclamped": partial(HFOPTPostLN, word_embed_proj_dim=32,
                                  do_layer_norm_before=False, clamp_scores=False),
}

# The ModelConfig family (norm eps, validation) and head tying of each style
# (the default: family = style, heads tied for gpt2 only).
STYLE_CONFIG = {
    "hf-gpt2": dict(family="gpt2"),
    "llama-gqa": dict(family="llama", tie_embeddings=False),
    "llama-mqa": dict(family="llama", tie_embeddings=False),
    "mistral": dict(family="llama", tie_embeddings=False),
    "falcon": dict(family="gpt2", tie_embeddings=True),
    "neox": dict(family="gpt2", tie_embeddings=False),
    "gptj": dict(family="gpt2", tie_embeddings=False),
    "phi": dict(family="gpt2", tie_embeddings=False),
    "opt-350m": dict(family="opt", tie_embeddings=True),
    "opt-350m-unclamped": dict(family="opt", tie_embeddings=True),
}

# name -> (style, opset, dynamic batch and sequence axes)
VARIANTS = {
    "gpt2-opset17": ("gpt2", 17, False),
    # LayerNormalization only exists from opset 17: decomposed into
    # ReduceMean/Sub/Pow/Sqrt/Div.
    "gpt2-opset14": ("gpt2", 14, False),
    "gpt2-dynamic": ("gpt2", 17, True),
    "gpt2-hf-opset13": ("hf-gpt2", 13, False),
    "opt-opset17": ("opt", 17, False),
    "llama-opset17": ("llama", 17, False),
}

# The architectures at opset 17 with static shapes:
# name -> (style, batch, sequence length).
ARCH_VARIANTS = {
    "llama-gqa": ("llama-gqa", 1, 16),
    "llama-mqa": ("llama-mqa", 1, 16),
    "mistral": ("mistral", 1, 16),
    "falcon": ("falcon", 1, 16),
    "neox": ("neox", 1, 16),
    "gptj": ("gptj", 1, 16),
    "phi": ("phi", 1, 16),
    "opt-350m": ("opt-350m", 1, 16),
    "opt-350m-unclamped": ("opt-350m-unclamped", 1, 16),
    "hf-gpt2-batch2": ("hf-gpt2", 2, 16),
    "llama-gqa-batch2": ("llama-gqa", 2, 16),
    "opt-350m-unclamped-batch2": ("opt-350m-unclamped", 2, 16),
    "llama-gqa-token1": ("llama-gqa", 1, 1),
    "neox-token1": ("neox", 1, 1),
    "opt-350m-token1": ("opt-350m", 1, 1),
}


# The lit tests' sizes (the zoo's defaults).
DIMS = dict(layers=2, hidden=64, heads=4, ffn=256, vocab=128, positions=64)


def zoo_config(style, **dims) -> ModelConfig:
    """The ModelConfig of a style at the given sizes (keys of DIMS)."""
    d = dict(DIMS, **dims)
    over = STYLE_CONFIG.get(style, {})
    family = over.get("family", style)
    return ModelConfig(
        family=family, n_layer=d["layers"], d_model=d["hidden"], n_head=d["heads"],
        d_ff=d["ffn"], vocab_size=d["vocab"], max_seq=d["positions"],
        tie_embeddings=over.get("tie_embeddings", family == "gpt2"),
        norm_eps=1e-6 if family == "llama" else 1e-5,
        mask_value=float(torch.finfo(torch.float32).min),
        name=style)


def default_init(model: nn.Module) -> nn.Module:
    """torch's default initialisation for every Linear, then every Embedding
    (so that a tied LM head keeps the embedding's N(0, 1) values)."""
    for kind in (nn.Linear, nn.Embedding):
        for m in model.modules():
            if isinstance(m, kind):
                m.reset_parameters()
    return model


def build(style, **dims) -> nn.Module:
    """A zoo decoder in eval mode (seeds nothing: call torch.manual_seed)."""
    return default_init(STYLES[style](zoo_config(style, **dims))).eval()


def variant_shape(name, seq=16):
    """(style, opset, dynamic, batch, seq) of a VARIANTS or ARCH_VARIANTS
    name; the architectures keep their own batch and sequence length."""
    if name in ARCH_VARIANTS:
        style, batch, arch_seq = ARCH_VARIANTS[name]
        return style, 17, False, batch, arch_seq
    style, opset, dynamic = VARIANTS[name]
    return style, opset, dynamic, 1, seq


def export_variant(name, out_dir, seq=16, save_reference=False, **dims):
    style, opset, dynamic, batch, seq = variant_shape(name, seq)
    model = build(style, **dims)
    path = os.path.join(out_dir, name + ".onnx")
    ids = torch.randint(0, model.cfg.vocab_size, (batch, seq), dtype=torch.long)
    if save_reference:
        with torch.no_grad():
            logits = model(ids)
        np.save(os.path.join(out_dir, name + ".in0.npy"), ids.numpy())
        np.save(os.path.join(out_dir, name + ".out0.npy"), logits.numpy())
    export_onnx(model, path, seq, opset=opset, dynamic=dynamic, batch=batch)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog="umbra_models.zoo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    for k, v in dict(DIMS, seq=16).items():
        p.add_argument("--" + k, type=int, default=v)
    p.add_argument("--save-reference", action="store_true",
                   help="also write NAME.in0.npy (ids) and NAME.out0.npy "
                        "(torch logits)")
    p.add_argument("--only", default=None,
                   help="comma-separated variant names (default: all of "
                        + ", ".join(VARIANTS) + "; or of " + ", ".join(ARCH_VARIANTS)
                        + " with --architectures)")
    p.add_argument("--architectures", action="store_true",
                   help="export the architecture variants (ARCH_VARIANTS, at "
                        "their own batch and sequence length) instead")
    a = p.parse_args(argv)
    table = ARCH_VARIANTS if a.architectures else VARIANTS
    names = a.only.split(",") if a.only else list(table)
    known = dict(VARIANTS, **ARCH_VARIANTS)
    unknown = [n for n in names if n not in known]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; one of {list(known)}")
    os.makedirs(a.out, exist_ok=True)
    dims = {k: getattr(a, k) for k in DIMS}
    torch.manual_seed(0)
    for name in names:
        export_variant(name, a.out, a.seq, a.save_reference, **dims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
