"""The test zoo (umbra_models.zoo): every variant exports at its opset, in
its style, and the styles are the models torch runs."""
import numpy as np
import onnx
import pytest
import torch

from umbra_models import zoo
from umbra_models.export import check_onnx

# Op types that mark each variant's export style (present, absent).
STYLE_OPS = {
    "gpt2-opset17": ({"Erf", "LayerNormalization", "Split", "Where"}, {"Gemm", "Tanh"}),
    "gpt2-opset14": ({"Erf", "ReduceMean", "Pow", "Sqrt"}, {"LayerNormalization"}),
    "gpt2-dynamic": ({"Erf", "LayerNormalization", "Shape"}, set()),
    "gpt2-hf-opset13": ({"Gemm", "Tanh", "Where"}, {"Erf", "LayerNormalization"}),
    "opt-opset17": ({"Relu", "CumSum", "LayerNormalization"}, {"Split", "Erf"}),
    "llama-opset17": ({"Sigmoid", "Sqrt", "Neg", "Concat"}, {"LayerNormalization", "Erf"}),
}


def test_every_variant_has_style_ops():
    assert set(STYLE_OPS) == set(zoo.VARIANTS)


@pytest.mark.parametrize("name", sorted(zoo.VARIANTS))
def test_variant_exports(name, tmp_path):
    torch.manual_seed(0)
    path = zoo.export_variant(name, str(tmp_path), seq=8, save_reference=True)
    m, ops = check_onnx(path)
    _, opset, dynamic = zoo.VARIANTS[name]
    assert m.opset_import[0].version == opset
    dims = m.graph.input[0].type.tensor_type.shape.dim
    if dynamic:
        assert [d.dim_param for d in dims] == ["batch", "seq"]
    else:
        assert [d.dim_value for d in dims] == [1, 8]
    must, must_not = STYLE_OPS[name]
    assert must <= set(ops), (must - set(ops), ops)
    assert not (must_not & set(ops)), ops
    ids = np.load(tmp_path / f"{name}.in0.npy")
    logits = np.load(tmp_path / f"{name}.out0.npy")
    assert ids.shape == (1, 8) and ids.dtype == np.int64
    assert logits.shape == (1, 8, zoo.DIMS["vocab"]) and np.isfinite(logits).all()
    # Default initialisation: logits are far from flat (the end-to-end test
    # needs prompts without near ties).
    assert logits.std() > 0.1


def test_tied_head_keeps_embedding_init():
    torch.manual_seed(0)
    m = zoo.build("gpt2")
    assert m.lm_head.weight is m.tok_emb.weight
    assert 0.8 < float(m.tok_emb.weight.std()) < 1.2  # N(0, 1), not Linear's init
    assert float(m.blocks[0].mlp.up.bias.abs().max()) > 0  # biases are not zero


def test_cli_only_and_unknown(tmp_path):
    assert zoo.main([str(tmp_path), "--only", "opt-opset17", "--seq", "4"]) == 0
    assert onnx.load(str(tmp_path / "opt-opset17.onnx")).graph.output[0].name == "logits"
    assert not (tmp_path / "gpt2-opset17.onnx").exists()
    with pytest.raises(SystemExit):
        zoo.main([str(tmp_path), "--only", "nope"])


# ---- architectures (umbra_models.architectures, zoo.ARCH_VARIANTS) --------

# Op types that mark each architecture's idioms in its export (present,
# absent).
ARCH_OPS = {
    # repeat_kv: [:, :, None].expand(...).reshape(...); cos[position_ids]
    "llama-gqa": ({"Expand", "Reshape", "Gather", "Sigmoid", "Pow"},
                  {"LayerNormalization", "Split"}),
    # repeat_interleave -> per-head Split + Expand + Concat
    "llama-mqa": ({"Split", "Expand", "Concat", "Sigmoid"}, {"LayerNormalization"}),
    # log(triu(tril(ones))) band mask
    "mistral": ({"Log", "Trilu", "Expand"}, {"LayerNormalization"}),
    # bool masks combined by Or, triu, exact GeLU, one LayerNorm per block
    "falcon": ({"Or", "Trilu", "Erf", "LayerNormalization"}, {"Tanh", "Split"}),
    "neox": ({"Erf", "LayerNormalization", "Slice", "Concat", "Where"}, {"Tanh"}),
    # gelu_new, torch.split of the sin|cos table
    "gptj": ({"Tanh", "Pow", "Split", "Where", "LayerNormalization"}, {"Erf"}),
    "phi": ({"Tanh", "Pow", "LayerNormalization", "Slice"}, {"Erf", "Split"}),
    # cumsum positions, FFN on a 2-D view (Gemm), the finfo.min clamp (Max)
    "opt-350m": ({"CumSum", "Gemm", "Max", "Relu", "LayerNormalization"}, {"Erf"}),
    "opt-350m-unclamped": ({"CumSum", "Gemm", "Relu"}, {"Max"}),
    "hf-gpt2-batch2": ({"Gemm", "Tanh", "Where"}, {"Erf"}),
    "llama-gqa-batch2": ({"Expand", "Gather"}, {"LayerNormalization"}),
    "opt-350m-unclamped-batch2": ({"CumSum", "Gemm"}, {"Max"}),
    "llama-gqa-token1": ({"Expand", "Gather"}, {"LayerNormalization"}),
    "neox-token1": ({"Erf", "LayerNormalization"}, set()),
    "opt-350m-token1": ({"CumSum", "Max"}, set()),
}


def test_every_arch_variant_has_ops():
    assert set(ARCH_OPS) == set(zoo.ARCH_VARIANTS)
    assert set(s for s, _, _ in zoo.ARCH_VARIANTS.values()) <= set(zoo.STYLES)


@pytest.mark.parametrize("name", sorted(zoo.ARCH_VARIANTS))
def test_arch_variant_exports(name, tmp_path):
    torch.manual_seed(0)
    path = zoo.export_variant(name, str(tmp_path), save_reference=True)
    m, ops = check_onnx(path)
    style, batch, seq = zoo.ARCH_VARIANTS[name]
    assert m.opset_import[0].version == 17
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [batch, seq]
    must, must_not = ARCH_OPS[name]
    assert must <= set(ops), (must - set(ops), ops)
    assert not (must_not & set(ops)), ops
    ids = np.load(tmp_path / f"{name}.in0.npy")
    logits = np.load(tmp_path / f"{name}.out0.npy")
    assert ids.shape == (batch, seq) and ids.dtype == np.int64
    assert logits.shape == (batch, seq, zoo.DIMS["vocab"]) and np.isfinite(logits).all()
    assert logits.std() > 0.1


def _same_weights(src, dst):
    dst.load_state_dict(src.state_dict())
    return dst.eval()


def _logits(model, ids):
    with torch.no_grad():
        return model(ids)


def test_kv_repeat_forms_agree():
    """repeat_kv (expand + reshape) is repeat_interleave along the heads."""
    from umbra_models.architectures import HFLlamaGQA
    torch.manual_seed(0)
    expand = zoo.build("llama-gqa")
    interleave = _same_weights(
        expand, HFLlamaGQA(expand.cfg, num_key_value_heads=2, kv_repeat="repeat_interleave"))
    ids = torch.randint(0, 128, (2, 10))
    assert torch.allclose(_logits(expand, ids), _logits(interleave, ids), atol=1e-6)
    assert expand.layers[0].self_attn.k_proj.weight.shape == (2 * 16, 64)
    mqa = zoo.build("llama-mqa")
    assert mqa.layers[0].self_attn.k_proj.weight.shape == (16, 64)
    with pytest.raises(ValueError):
        HFLlamaGQA(expand.cfg, num_key_value_heads=3)
    with pytest.raises(ValueError):
        HFLlamaGQA(expand.cfg, kv_repeat="tile")


def test_gqa_matches_multi_head_with_repeated_kv_weights():
    """GQA is multi-head attention whose K/V projections repeat per group."""
    from umbra_models.architectures import HFLlamaGQA
    torch.manual_seed(0)
    gqa = zoo.build("llama-gqa")
    mha = HFLlamaGQA(gqa.cfg, num_key_value_heads=4).eval()
    sd = gqa.state_dict()
    for k in list(sd):
        if k.endswith(("k_proj.weight", "v_proj.weight")):
            w = sd[k].view(2, 16, 64)  # [kv heads, hd, d]
            sd[k] = w.repeat_interleave(2, dim=0).reshape(64, 64)
    mha.load_state_dict(sd)
    ids = torch.randint(0, 128, (1, 12))
    assert torch.allclose(_logits(gqa, ids), _logits(mha, ids), atol=1e-5)


def test_mistral_window_is_a_band():
    """The sliding window changes only positions beyond it."""
    torch.manual_seed(0)
    gqa = zoo.build("llama-gqa")
    mistral = _same_weights(gqa, zoo.build("mistral"))
    ids = torch.randint(0, 128, (1, 16))
    a, b = _logits(gqa, ids), _logits(mistral, ids)
    w = mistral.sliding_window
    assert torch.allclose(a[:, : w + 1], b[:, : w + 1], atol=1e-5)
    assert not torch.allclose(a[:, w + 1:], b[:, w + 1:], atol=1e-3)


def test_batch_rows_are_independent():
    torch.manual_seed(0)
    ids = torch.randint(0, 128, (2, 16))
    for style in ("llama-gqa", "falcon", "neox", "gptj", "phi", "opt-350m", "hf-gpt2"):
        m = zoo.build(style)
        both = _logits(m, ids)
        for r in range(2):
            assert torch.allclose(both[r], _logits(m, ids[r:r + 1])[0], atol=1e-5), style


def test_causal_prefix_and_single_token():
    """Position t only sees tokens <= t: the logits of a prefix (down to one
    token) are the prefix of the logits."""
    torch.manual_seed(0)
    ids = torch.randint(0, 128, (1, 16))
    for style in ("llama-gqa", "llama-mqa", "falcon", "neox", "gptj", "phi", "opt-350m"):
        m = zoo.build(style)
        full = _logits(m, ids)
        for t in (1, 7):
            assert torch.allclose(full[:, :t], _logits(m, ids[:, :t]), atol=1e-5), (style, t)


def test_opt_clamp_is_a_no_op_in_float():
    torch.manual_seed(0)
    clamped = zoo.build("opt-350m")
    plain = _same_weights(clamped, zoo.build("opt-350m-unclamped"))
    ids = torch.randint(0, 128, (2, 16))
    assert torch.equal(_logits(clamped, ids), _logits(plain, ids))


def test_opt_positions_and_projections():
    from umbra_models.architectures import OPTLearnedPositionalEmbedding
    emb = OPTLearnedPositionalEmbedding(8, 4)
    assert emb.weight.shape == (10, 4)  # offset 2
    with torch.no_grad():
        got = emb(torch.ones(2, 5))
    assert torch.equal(got, emb.weight[2:7].expand(2, 5, 4))
    m = zoo.build("opt-350m")
    assert m.tok_emb.weight.shape == (128, 32)
    assert m.project_in.weight.shape == (64, 32) and m.project_out.weight.shape == (32, 64)
    assert m.final_layer_norm is None and not m.layers[0].do_layer_norm_before
    assert m.lm_head.weight is m.tok_emb.weight


def test_heads_tied_and_untied():
    torch.manual_seed(0)
    for style in ("falcon", "opt-350m"):
        m = zoo.build(style)
        assert m.lm_head.weight is m.tok_emb.weight, style
    for style in ("llama-gqa", "llama-mqa", "mistral", "neox", "gptj", "phi"):
        m = zoo.build(style)
        assert m.lm_head.weight is not m.tok_emb.weight, style
        assert not torch.equal(m.lm_head.weight, m.tok_emb.weight), style
    assert zoo.build("gptj").lm_head.bias is not None
    assert zoo.build("phi").lm_head.bias is not None
    assert zoo.build("neox").lm_head.bias is None


def test_partial_rotary_leaves_the_rest():
    """Partial rotary: channels past rotary_ndims are position independent."""
    from umbra_models.architectures import apply_rotary_pos_emb_interleaved
    neox = zoo.build("neox")
    assert neox.layers[0].attention.rotary_ndims == 4  # 25% of 16
    phi = zoo.build("phi")
    assert phi.layers[0].self_attn.rotary_emb.dim == 8  # 50% of 16
    gptj = zoo.build("gptj")
    assert gptj.h[0].attn.rotary_dim == 8
    # GPT-J's interleaved rotation of pairs (x0, x1) by the position angle.
    x = torch.randn(1, 3, 1, 8)
    sincos = gptj.h[0].attn.embed_positions[torch.arange(3)][None]
    sin, cos = torch.split(sincos, 4, dim=-1)
    y = apply_rotary_pos_emb_interleaved(x, sin, cos)
    assert torch.allclose(y[:, 0], x[:, 0])  # position 0: angle 0
    s, c = sin[0, 2, 0], cos[0, 2, 0]
    assert torch.allclose(y[0, 2, 0, :2], torch.stack(
        [x[0, 2, 0, 0] * c - x[0, 2, 0, 1] * s, x[0, 2, 0, 1] * c + x[0, 2, 0, 0] * s]))


def test_parallel_residual_forms():
    """NeoX's parallel residual differs from the sequential one on the same
    weights; Falcon/GPT-J/Phi share one LayerNorm for attention and MLP."""
    from umbra_models.architectures import HFGPTNeoX
    torch.manual_seed(0)
    par = zoo.build("neox")
    seq = _same_weights(par, HFGPTNeoX(par.cfg, use_parallel_residual=False))
    ids = torch.randint(0, 128, (1, 8))
    assert not torch.allclose(_logits(par, ids), _logits(seq, ids), atol=1e-3)
    for style, block in (("falcon", "h"), ("gptj", "h"), ("phi", "layers")):
        norms = [m for m in getattr(zoo.build(style), block)[0].modules()
                 if isinstance(m, torch.nn.LayerNorm)]
        assert len(norms) == 1, style


def test_cli_architectures(tmp_path):
    assert zoo.main([str(tmp_path), "--architectures", "--only", "neox-token1"]) == 0
    m = onnx.load(str(tmp_path / "neox-token1.onnx"))
    assert [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim] == [1, 1]
    assert not (tmp_path / "gpt2-opset17.onnx").exists()
