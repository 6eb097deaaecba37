import json

import pytest
import torch

from umbra_models.config import ModelConfig, PRESETS, preset
from umbra_models.model import build_model

FAMILIES = ["gpt2", "opt", "llama"]


@pytest.mark.parametrize("fam", FAMILIES)
def test_shapes_and_json_roundtrip(fam, tmp_path):
    cfg = preset(f"{fam}-tiny")
    p = tmp_path / "c.json"
    cfg.to_json(p)
    assert ModelConfig.from_json(p) == cfg
    torch.manual_seed(0)
    m = build_model(cfg).eval()
    x = torch.randint(0, cfg.vocab_size, (2, 16))
    y = m(x)
    assert y.shape == (2, 16, cfg.vocab_size)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("fam", FAMILIES)
def test_causal(fam):
    torch.manual_seed(0)
    m = build_model(preset(f"{fam}-tiny")).eval()
    x = torch.randint(0, 256, (1, 12))
    x2 = x.clone()
    x2[0, 8:] = (x2[0, 8:] + 1) % 256
    with torch.no_grad():
        a, b = m(x), m(x2)
    assert torch.allclose(a[:, :8], b[:, :8], atol=1e-6)
    assert not torch.allclose(a[:, 8:], b[:, 8:])


def test_family_components():
    g = build_model(preset("gpt2-tiny"))
    o = build_model(preset("opt-tiny"))
    l = build_model(preset("llama-tiny"))
    assert isinstance(g.blocks[0].mlp.act, torch.nn.GELU) and g.blocks[0].mlp.act.approximate == "none"
    assert isinstance(o.blocks[0].mlp.act, torch.nn.ReLU)
    assert isinstance(g.blocks[0].ln1, torch.nn.LayerNorm) and hasattr(g, "pos_emb")
    assert not hasattr(l, "pos_emb") and type(l.blocks[0].ln1).__name__ == "RMSNorm"
    assert hasattr(l.blocks[0].mlp, "gate") and l.blocks[0].attn.qkv.bias is None
    assert hasattr(l.blocks[0].attn, "rope_cos")


def test_tied_and_untied():
    t = build_model(preset("gpt2-tiny"))
    assert t.lm_head.weight is t.tok_emb.weight
    u = build_model(preset("gpt2-tiny", tie_embeddings=False))
    assert u.lm_head.weight is not u.tok_emb.weight
    assert u.num_params() == t.num_params() + 256 * 64


def test_gpt2_small_shape():
    cfg = preset("gpt2-small")
    assert (cfg.n_layer, cfg.d_model, cfg.n_head, cfg.d_ff, cfg.vocab_size) == (12, 768, 12, 3072, 50257)
    m = build_model(cfg)
    # the published GPT-2 124M parameter count (tied embeddings, 1024 positions)
    assert m.num_params() == 124439808


def test_bad_config():
    with pytest.raises(ValueError):
        ModelConfig(family="bert")
    with pytest.raises(ValueError):
        ModelConfig(d_model=65, n_head=2)
    with pytest.raises(ValueError):
        ModelConfig.from_dict({"family": "gpt2", "nope": 1})
    assert set(PRESETS) >= {"gpt2-tiny", "opt-tiny", "llama-tiny", "gpt2-small"}
