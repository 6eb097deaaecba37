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
    for r, p in zip(report, preds):
        # The threshold is chosen for the target recall on held-out tokens.
        assert r["recall"] >= 0.95 - 1e-9
        assert r["density_predicted"] >= r["density_true"] * r["recall"] - 1e-9
        assert 0 < r["precision"] <= 1
        # The recall table: one row per target, each row's recall measured
        # on the held-out tokens and at least its target; the higher the
        # recall, the lower the threshold. The target's row is the
        # threshold the predictor ships.
        t = p.recall_table
        assert t.dtype == np.float32 and t.shape == (len(P.RECALL_TARGETS), 2)
        assert np.all(t[:, 0] >= np.float32(P.RECALL_TARGETS)), t
        assert np.all(np.diff(t[:, 0]) >= 0) and np.all(np.diff(t[:, 1]) <= 0), t
        assert t[:, 1][list(P.RECALL_TARGETS).index(0.95)] == np.float32(p.threshold)
        assert p.permutation is not None and sorted(p.permutation) == list(range(1024))
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
    # Merged blocks (mpc-compile --sparsity-block 32 = 2 x 16): a block of
    # 32 neurons is kept iff either of its two predictor blocks is.
    with torch.no_grad():
        pairs = (p(h_in) > p.threshold).reshape(5, -1, 2)
        assert torch.equal(p.mask(h_in, group=2), pairs.any(-1))
        keep2 = pairs.any(-1).repeat_interleave(32, -1)
        want2 = blk.mlp.down(torch.relu(blk.mlp.up(h_in)) * keep2)
        ffn2 = P.PredictedFFN(blk.mlp, p, group=2)
        assert torch.allclose(ffn2(h_in), want2, atol=1e-6)
        assert ffn2.last_mask.shape == (5, 32)
    # A merged block keeps at least what its parts keep: the merged model
    # skips fewer neurons.
    with P.predicted_blocks(model, preds, group=2) as m2, torch.no_grad():
        sparse2 = m2(x)
    assert not torch.equal(sparse2, sparse)
    with pytest.raises(ValueError, match="does not divide"):
        P.PredictedFFN(blk.mlp, p, group=3)

    # Export: the permuted model with its predictors as initializers.
    from umbra_models.export import export_onnx
    path = str(tmp_path / "model.onnx")
    export_onnx(model, path, 32)
    P.add_predictors(path, preds)
    back = P.read_predictors(path)
    assert len(back) == len(preds)
    for a, b in zip(preds, back):
        assert b.threshold == a.threshold  # float32 both ways
        assert np.array_equal(b.recall_table, a.recall_table)
        assert np.all(np.diff(b.recall_table[:, 1]) <= 0)
        assert b.v.out_features == a.v.out_features and b.u.out_features == 16
        with torch.no_grad():
            assert torch.equal(a.mask(h_in), b.mask(h_in))
            assert torch.allclose(a(h_in), b(h_in), atol=1e-6)
    import onnx
    names = [i.name for i in onnx.load(path).graph.initializer]
    assert "umbra.predictor.0.u" in names and "umbra.predictor.3.threshold" in names
    assert "umbra.predictor.3.recall_table" in names

    # The fixture form: the permutation and the predictors, loaded onto a
    # fresh (unpermuted) model, give the same model and predictors.
    fix = tmp_path / "fixture"
    fix.mkdir()
    P.save_predictor_fixture(str(fix), preds, {"layers": report})
    fresh, loaded = P.load_predictor_fixture(str(fix), load_model_dir(d))
    with torch.no_grad():
        assert torch.equal(fresh(x), model(x))
        for a, b in zip(preds, loaded):
            assert torch.equal(a(h_in), b(h_in)) and b.threshold == a.threshold
            assert np.array_equal(a.recall_table, b.recall_table)
            assert np.array_equal(a.permutation, b.permutation)


def test_committed_predictor_fixture():
    """fixtures/opt-l4-d256/predictors.{npz,json}: the permutation and the
    predictors fit() made (block 16, rank 32, target recall 0.95), float32,
    consistent with the fit's report, which meets the issue's bounds: block
    recall >= 0.93 on held-out tokens, bits per byte at most 1.5 % worse."""
    import json
    import os
    d = fixture_dir("opt-l4-d256")
    if not os.path.exists(os.path.join(d, P.FIXTURE_NPZ)):
        pytest.skip("no predictor fixture")
    rep = json.load(open(os.path.join(d, P.FIXTURE_JSON)))
    assert (rep["block"], rep["rank"], rep["target_recall"]) == (16, 32, 0.95)
    assert rep["bpb_relative_change"] <= 0.015
    assert rep["predicted"]["bpb"] / rep["dense"]["bpb"] - 1 == pytest.approx(
        rep["bpb_relative_change"])
    original = load_model_dir(d)
    model, preds = P.load_predictor_fixture(d)
    assert len(preds) == len(rep["layers"]) == model.cfg.n_layer
    x = torch.from_numpy(np.random.default_rng(0).integers(0, model.cfg.vocab_size, (1, 48)))
    with torch.no_grad():
        assert torch.allclose(model(x), original(x), atol=1e-4)  # permuted, same function
        assert not torch.equal(model.blocks[1].mlp.up.weight, original.blocks[1].mlp.up.weight)
    for p, r in zip(preds, rep["layers"]):
        assert r["recall"] >= 0.93 and r["density_predicted"] < 1
        assert sorted(p.permutation.tolist()) == list(range(model.cfg.d_ff))
        assert p.u.weight.shape == (32, model.cfg.d_model)
        assert p.v.weight.shape == (model.cfg.d_ff // 16, 32)
        assert p.threshold == r["threshold"]
        t = p.recall_table
        assert t.dtype == np.float32 and np.array_equal(t, np.float32(r["recall_table"]))
        assert np.all(t[:, 0] >= np.float32(rep["recall_targets"]))
        assert np.all(np.diff(t[:, 1]) < 0)  # higher recall, lower threshold
        assert t[rep["recall_targets"].index(0.95), 1] == np.float32(p.threshold)


def test_bucket_padding_by_hand():
    """The compiler's --sparsity-bucket: counts 2, 0 and 5 of 8 become 4, 0
    and 8 with the lowest unselected blocks (as in
    test/Tools/mpc-compile/sparsity.test)."""
    m = torch.tensor([[1, 0, 0, 1, 0, 0, 0, 0], [0] * 8, [1, 1, 1, 1, 1, 0, 0, 0]]).bool()
    got = P.pad_to_bucket(m, 4).int().tolist()
    assert got == [[1, 1, 1, 1, 0, 0, 0, 0], [0] * 8, [1] * 8]
    with pytest.raises(ValueError):
        P.pad_to_bucket(m, 3)
