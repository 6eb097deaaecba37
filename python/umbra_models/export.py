"""ONNX export (opset 17, static shapes; from Python any opset and dynamic
batch/sequence axes, as umbra_models.zoo uses them).

Graph interface: input ``input_ids`` int64 [1, T], output ``logits`` float32
[1, T, vocab] ([1, 1, vocab] with --next-token: logits of the last position
only). Weights are exported in fp32 (fixtures are stored fp16 and
widened on load).

  /usr/bin/python3 -m umbra_models.export --model fixtures/opt-l4-d256 --seq 64 --out opt.onnx \
      --dump-dir opt_ref      # also writes input_ids.npy and logits.npy (torch)
  /usr/bin/python3 -m umbra_models.export --preset gpt2-small --seq 128 --out gpt2-small.onnx
      (random weights, --seed; --init torch: torch's default initialisation
      of each module instead of the zoo's GPT-2 one)
"""
from __future__ import annotations

import argparse
import collections
import io
import os
import sys
import warnings

import numpy as np
import torch

from .config import preset
from .tokenizer import tokenizer_of
from .model import build_model, load_model_dir

OPSET = 17


class NextToken(torch.nn.Module):
    """The decoder with logits for the last position only."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids, next_token=True)


def torch_default_init(model):
    """Re-initialises every module with torch's own default (nn.Linear:
    Kaiming uniform, nn.Embedding: N(0, 1), norms: ones/zeros) instead of the
    zoo's GPT-2 initialisation: what a user who builds a model and exports it
    without training gets. A tied LM head keeps the embedding's values."""
    tied = model.cfg.tie_embeddings
    for m in model.modules():
        if m is model or (tied and m is model.lm_head):
            continue
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return model


def export_onnx(model, path, seq, opset=OPSET, next_token=False, keep_names=False,
                dynamic=False, batch=1):
    """Exports with static shapes ([batch, seq] token ids), or with dynamic
    batch and sequence axes (``dynamic``: the compiler then needs
    --input-shape)."""
    model.eval()
    if seq > model.cfg.max_seq:
        raise ValueError(f"seq {seq} > max_seq {model.cfg.max_seq}")
    x = torch.zeros(batch, seq, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(NextToken(model) if next_token else model, (x,), path, opset_version=opset, input_names=["input_ids"],
                          output_names=["logits"], do_constant_folding=not keep_names,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "logits": {0: "batch", 1: "seq"}} if dynamic else None)
    return path


def check_onnx(path):
    """onnx.checker + shape inference; returns (model_with_shapes, op histogram)."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    return m, dict(sorted(ops.items()))


def io_signature(m):
    def sig(v):
        t = v.type.tensor_type
        return v.name, t.elem_type, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
    return [sig(v) for v in m.graph.input], [sig(v) for v in m.graph.output]


def model_of(model_dir=None, preset_name=None, seed=0, init="zoo"):
    """(model in eval mode, tokenizer or None): a model directory (config,
    weights, tokenizer) or a named preset with random weights seeded by
    `seed` (`init`: the zoo's initialisation or torch's default one); the
    CLIs' --model / --preset."""
    torch.set_num_threads(2)
    if model_dir:
        return load_model_dir(model_dir), tokenizer_of(model_dir)
    torch.manual_seed(seed)
    model = build_model(preset(preset_name, max_seq=None))
    if init == "torch":
        torch_default_init(model)
    return model.eval(), None


def sample_ids(model, seq, seed=0, tokenizer=None, text=None):
    if tokenizer is not None and text is not None:
        ids = tokenizer.encode(text)[:seq]
        if len(ids) == seq:
            return np.asarray(ids, dtype=np.int64)[None]
    g = np.random.default_rng(seed)
    return g.integers(0, model.cfg.vocab_size, size=(1, seq), dtype=np.int64)


def dump_reference(model, out_dir, seq, tokenizer=None, text_file=None):
    """input_ids.npy (the first ``seq`` tokens of ``text_file``, else random
    ids) and torch's logits.npy on them, in ``out_dir``: what a compiled
    program is compared with."""
    os.makedirs(out_dir, exist_ok=True)
    text = open(text_file, "rb").read() if text_file else None
    ids = sample_ids(model, seq, 0, tokenizer, text)
    with torch.no_grad():
        logits = model(torch.from_numpy(ids)).numpy()
    np.save(os.path.join(out_dir, "input_ids.npy"), ids)
    np.save(os.path.join(out_dir, "logits.npy"), logits.astype(np.float32))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="umbra_models.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", help="model directory (config.json + weights.npz)")
    g.add_argument("--preset", help="named preset, random weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", choices=["zoo", "torch"], default="zoo",
                    help="with --preset: the zoo's GPT-2 initialisation (std 0.02) or "
                         "torch's default one per module")
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dump-dir", default=None, help="write input_ids.npy and torch logits.npy here")
    ap.add_argument("--text-file", default=None, help="take the dumped input ids from this text (with --model)")
    ap.add_argument("--keep-names", action="store_true",
                    help="keep the parameter names as initializer names (torch's constant "
                         "folding renames transposed weights onnx::MatMul_N); for "
                         "mpc-compile --public-weight-names")
    ap.add_argument("--next-token", action="store_true",
                    help="output the logits of the last position only ([1, 1, vocab])")
    a = ap.parse_args(argv)
    model, tok = model_of(a.model, a.preset, a.seed, a.init)
    export_onnx(model, a.out, a.seq, next_token=a.next_token, keep_names=a.keep_names)
    m, ops = check_onnx(a.out)
    ins, outs = io_signature(m)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB), inputs {ins}, outputs {outs}")
    print("ops:", ", ".join(f"{k}x{v}" for k, v in ops.items()))
    if a.dump_dir:
        os.makedirs(a.dump_dir, exist_ok=True)
        text = open(a.text_file, "rb").read() if a.text_file else None
        ids = sample_ids(model, a.seq, a.seed, tok, text)
        with torch.no_grad():
            logits = model(torch.from_numpy(ids), next_token=a.next_token).numpy()
        np.save(os.path.join(a.dump_dir, "input_ids.npy"), ids)
        np.save(os.path.join(a.dump_dir, "logits.npy"), logits.astype(np.float32))
        print(f"wrote {a.dump_dir}/input_ids.npy {ids.shape} and logits.npy {logits.shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
