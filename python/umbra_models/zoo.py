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
from .hf_style import HFGPT2, HFLlama, HFOPT
from .model import Decoder

STYLES = {"gpt2": Decoder, "hf-gpt2": HFGPT2, "opt": HFOPT, "llama": HFLlama}

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


# The lit tests' sizes (the zoo's defaults).
DIMS = dict(layers=2, hidden=64, heads=4, ffn=256, vocab=128, positions=64)


def zoo_config(style, **dims) -> ModelConfig:
    """The ModelConfig of a style at the given sizes (keys of DIMS)."""
    d = dict(DIMS, **dims)
    family = {"hf-gpt2": "gpt2"}.get(style, style)
    return ModelConfig(
        family=family, n_layer=d["layers"], d_model=d["hidden"], n_head=d["heads"],
        d_ff=d["ffn"], vocab_size=d["vocab"], max_seq=d["positions"],
        tie_embeddings=family == "gpt2",
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


def build(style, **dims) -> Decoder:
    """A zoo decoder in eval mode (seeds nothing: call torch.manual_seed)."""
    return default_init(STYLES[style](zoo_config(style, **dims))).eval()


def export_variant(name, out_dir, seq=16, save_reference=False, **dims):
    style, opset, dynamic = VARIANTS[name]
    model = build(style, **dims)
    path = os.path.join(out_dir, name + ".onnx")
    ids = torch.randint(0, model.cfg.vocab_size, (1, seq), dtype=torch.long)
    if save_reference:
        with torch.no_grad():
            logits = model(ids)
        np.save(os.path.join(out_dir, name + ".in0.npy"), ids.numpy())
        np.save(os.path.join(out_dir, name + ".out0.npy"), logits.numpy())
    export_onnx(model, path, seq, opset=opset, dynamic=dynamic)
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
                        + ", ".join(VARIANTS) + ")")
    a = p.parse_args(argv)
    names = a.only.split(",") if a.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; one of {list(VARIANTS)}")
    os.makedirs(a.out, exist_ok=True)
    dims = {k: getattr(a, k) for k in DIMS}
    torch.manual_seed(0)
    for name in names:
        export_variant(name, a.out, a.seq, a.save_reference, **dims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
