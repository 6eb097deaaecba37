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
