"""Inputs of bench/approximation/run.sh: one ONNX file per model (the
original graph; every strategy set is compiled from it with
mpc-compile --approx=SPEC) and its token ids.

  prepare.py fixture NAME FIXTURE PROMPT WORK T
      A trained fixture: WORK/NAME.onnx and the first T tokens of PROMPT
      through the fixture's tokenizer (WORK/NAME-ids.npy), as
      python/tests/test_sparse_mpc.py exports and tokenizes them.

  prepare.py small WORK T
      The GPT-2-small-shaped decoder (preset `gpt2-small`: 12 layers,
      hidden 768, FFN 3072, GeLU, vocabulary 50257; random weights,
      umbra_models.export.model_of seed 0): WORK/small.onnx and T random
      ids (seed 0, WORK/small-ids.npy).
"""
import json
import os
import sys

import numpy as np
import torch

from umbra_models.export import export_onnx, model_of
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of


def fixture(name, fixture_dir, prompt, work, T):
    tok = tokenizer_of(fixture_dir)
    ids = np.asarray(tok.encode(open(prompt, "rb").read())[:T], dtype=np.int64)[None]
    assert ids.shape == (1, T), ids.shape
    model = load_model_dir(fixture_dir)
    export_onnx(model, os.path.join(work, f"{name}.onnx.tmp"), T)
    np.save(os.path.join(work, f"{name}-ids.npy"), ids)
    os.replace(os.path.join(work, f"{name}.onnx.tmp"), os.path.join(work, f"{name}.onnx"))
    with open(os.path.join(work, f"{name}-model.json"), "w") as f:
        json.dump({"model": os.path.basename(os.path.normpath(fixture_dir)),
                   "fixture_dir": os.path.abspath(fixture_dir), "T": T,
                   "tokens": ids[0].tolist(), "config": model.cfg.__dict__}, f, default=str)


def small(work, T):
    model, _ = model_of(preset_name="gpt2-small", seed=0)
    ids = np.random.default_rng(0).integers(0, model.cfg.vocab_size, (1, T), dtype=np.int64)
    export_onnx(model, os.path.join(work, "small.onnx.tmp"), T)
    np.save(os.path.join(work, "small-ids.npy"), ids)
    os.replace(os.path.join(work, "small.onnx.tmp"), os.path.join(work, "small.onnx"))
    with open(os.path.join(work, "small-model.json"), "w") as f:
        json.dump({"model": "gpt2-small (random weights, seed 0)", "preset": "gpt2-small",
                   "seed": 0, "T": T,
                   "config": model.cfg.__dict__}, f, default=str)


if __name__ == "__main__":
    torch.set_num_threads(2)
    if sys.argv[1] == "fixture":
        fixture(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "small":
        small(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
