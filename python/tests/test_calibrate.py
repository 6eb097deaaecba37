"""Calibration for the range analysis (umbra_models.calibrate): the node-by-
node ONNX runner computes what torch computes, and the recorded per-node
ranges are the min and max of the values on the given prompts."""
import json

import numpy as np
import onnx
import pytest
import torch

from umbra_models import calibrate, zoo
from umbra_models.export import export_onnx


def export(name, tmp_path, seq=8):
    torch.manual_seed(0)
    style, opset, dynamic = zoo.VARIANTS[name]
    model = zoo.build(style)
    path = export_onnx(model, str(tmp_path / (name + ".onnx")), seq, opset=opset,
                       dynamic=dynamic)
    return model, path


@pytest.mark.parametrize("name", sorted(zoo.VARIANTS))
def test_runner_matches_torch(name, tmp_path):
    model, path = export(name, tmp_path)
    ids = torch.randint(0, model.cfg.vocab_size, (1, 8), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = model(ids).numpy()
    got = calibrate.run_graph(onnx.load(path), {"input_ids": ids.numpy()})[0]
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-4


def test_ranges_are_min_and_max_over_prompts(tmp_path):
    model, path = export("llama-opset17", tmp_path)
    g = torch.Generator().manual_seed(5)
    prompts = [torch.randint(0, 128, (1, 8), generator=g) for _ in range(3)]
    table = calibrate.calibrate(path, [{"input_ids": p.numpy()} for p in prompts])
    assert table["format"] == "umbra-calibration-1" and table["samples"] == 3
    m = onnx.load(path)
    out_node = [n for n in m.graph.node if n.output[0] == "logits"][0]
    with torch.no_grad():
        logits = torch.cat([model(p) for p in prompts])
    lo, hi = table["nodes"][calibrate.node_name(out_node)]
    assert abs(lo - float(logits.min())) < 1e-4 and abs(hi - float(logits.max())) < 1e-4
    softmax = [calibrate.node_name(n) for n in m.graph.node if n.op_type == "Softmax"]
    assert softmax
    for s in softmax:
        lo, hi = table["nodes"][s]
        assert 0 <= lo <= hi <= 1
    # Integer values (token ids, shapes) are not ranges of real values.
    assert "input_ids" not in table["inputs"]
    # Fewer prompts give ranges inside the wider ones.
    one = calibrate.calibrate(path, [{"input_ids": prompts[0].numpy()}])
    for k, (lo, hi) in one["nodes"].items():
        assert table["nodes"][k][0] <= lo <= hi <= table["nodes"][k][1]


def test_cli_writes_json(tmp_path):
    _, path = export("gpt2-opset17", tmp_path)
    out = tmp_path / "ranges.json"
    assert calibrate.main([path, "-o", str(out), "--random", "2", "--vocab", "128",
                           "--seq", "8"]) == 0
    table = json.loads(out.read_text())
    assert table["samples"] == 2 and len(table["nodes"]) > 20
    assert all(lo <= hi for lo, hi in table["nodes"].values())


def test_unknown_op_is_named(tmp_path):
    node = onnx.helper.make_node("Celu", ["x"], ["y"], name="odd")
    graph = onnx.helper.make_graph(
        [node], "g", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    with pytest.raises(NotImplementedError, match="Celu.*'odd'"):
        calibrate.run_graph(onnx.helper.make_model(graph), {"x": np.ones(2, np.float32)})
