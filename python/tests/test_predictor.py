"""Comet's activation predictors on the model side (issue 13):
umbra_models.predictor on the trained OPT-style fixture."""
import numpy as np
import pytest
import torch

from conftest import fixture_dir
from umbra_models import predictor as P
from umbra_models.corpus import DEFAULT_ROOT, encode_split
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of


@pytest.fixture(scope="module")
def opt():
    d = fixture_dir("opt-l4-d256")
    tok = tokenizer_of(d)
    try:
        train, _ = encode_split(tok, "train", DEFAULT_ROOT, 300_000)
        test, _ = encode_split(tok, "test", DEFAULT_ROOT, 20_000)
    except (FileNotFoundError, ValueError) as e:
        pytest.skip(f"corpus not available: {e}")
    return d, train.astype(np.int64), test.astype(np.int64)


def test_neuron_permutation_keeps_the_function(opt):
    d, _, test = opt
    model = load_model_dir(d)
    x = torch.from_numpy(test[None, :64])
    with torch.no_grad():
        before = model(x)
        perms = [np.random.default_rng(k).permutation(model.cfg.d_ff) for k in range(4)]
        P.permute_neurons(model, perms)
        after = model(x)
    assert torch.allclose(before, after, atol=1e-4)


def test_predictors_reach_the_recall_and_export_round_trips(opt, tmp_path):
    d, train, test = opt
    model = load_model_dir(d)
    x = torch.from_numpy(test[None, :64])
    with torch.no_grad():
        dense = model(x)
    preds, report = P.fit(model, train, block=16, rank=16, recall=0.95, windows=16, steps=150,
                          log=lambda s: None)
    # Sorting the neurons by rate does not change the model.
    with torch.no_grad():
        assert torch.allclose(model(x), dense, atol=1e-4)
    assert len(preds) == model.cfg.n_layer
    for r in report:
        # The threshold is chosen for the target recall on held-out tokens.
        assert r["recall"] >= 0.95 - 1e-9
        assert r["density_predicted"] >= r["density_true"] * r["recall"] - 1e-9
        assert 0 < r["precision"] <= 1
    # The sparse FFN computes exactly the dense one restricted to the
    # predicted blocks: with every block predicted active it is the dense.
    for p in preds:
        p.threshold, saved = -np.inf, p.threshold
    with P.predicted_blocks(model, preds), torch.no_grad():
        assert torch.allclose(model(x), dense, atol=1e-4)
    for p, r in zip(preds, report):
        p.threshold = r["threshold"]
    with P.predicted_blocks(model, preds), torch.no_grad():
        sparse = model(x)
    assert not torch.allclose(sparse, dense, atol=1e-4)  # blocks were skipped
    # The block mask by hand: zero the hidden units of skipped blocks.
    blk, p = model.blocks[1], preds[1]
    h_in = torch.randn(5, model.cfg.d_model)
    with torch.no_grad():
        keep = (p(h_in) > p.threshold).repeat_interleave(16, -1)
        want = blk.mlp.down(torch.relu(blk.mlp.up(h_in)) * keep)
        got = P.PredictedFFN(blk.mlp, p)(h_in)
    assert torch.allclose(got, want, atol=1e-6)

    # Export: the permuted model with its predictors as initializers.
    from umbra_models.export import export_onnx
    path = str(tmp_path / "model.onnx")
    export_onnx(model, path, 32)
    P.add_predictors(path, preds)
    back = P.read_predictors(path)
    assert len(back) == len(preds)
    for a, b in zip(preds, back):
        assert b.threshold == pytest.approx(a.threshold)
        assert b.v.out_features == a.v.out_features and b.u.out_features == 16
        with torch.no_grad():
            assert torch.equal(a.mask(h_in), b.mask(h_in))
            assert torch.allclose(a(h_in), b(h_in), atol=1e-6)
    import onnx
    names = [i.name for i in onnx.load(path).graph.initializer]
    assert "umbra.predictor.0.u" in names and "umbra.predictor.3.threshold" in names
