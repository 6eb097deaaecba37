import argparse
import json
import os
import shutil

import numpy as np
import torch

from conftest import STDLIB, need_stdlib
from umbra_models.config import preset
from umbra_models.train import Trainer, build_arg_parser, lr_at

TEXT = (b"import os\n\ndef main(argv=None):\n    for x in range(10):\n        print(x, os.sep)\n"
        b"    return 0\n\n\nclass Spam(object):\n    def eggs(self, n):\n        return n * 2\n") * 60


def _args(**kw):
    a = build_arg_parser().parse_args(["--out", "unused"])
    a.steps, a.batch, a.seq, a.lr, a.warmup, a.eval_every, a.log_every = 20, 4, 32, 3e-3, 5, 0, 1000
    for k, v in kw.items():
        setattr(a, k, v)
    return a


def _trainer(a, fam="gpt2"):
    cfg = preset(f"{fam}-tiny", max_seq=a.seq)
    ids = np.frombuffer(TEXT, dtype=np.uint8).astype(np.int64)
    return Trainer(cfg, ids, a)


def test_lr_schedule():
    assert lr_at(0, 100, 1.0, 10, 0.1) == 0.1
    assert abs(lr_at(9, 100, 1.0, 10, 0.1) - 1.0) < 1e-9
    assert abs(lr_at(100, 100, 1.0, 10, 0.1) - 0.1) < 1e-9


def test_few_steps_lower_loss():
    for fam in ("gpt2", "opt", "llama"):
        tr = _trainer(_args(), fam)
        losses = [tr.train_step()[0] for _ in range(20)]
        assert np.mean(losses[-4:]) < np.mean(losses[:4]) - 0.8, (fam, losses[:4], losses[-4:])


def test_resume_identical(tmp_path):
    a = _args(steps=10)
    ref = _trainer(a)
    for _ in range(10):
        ref.train_step()
    t1 = _trainer(a)
    for _ in range(5):
        t1.train_step()
    t1.save(str(tmp_path / "ckpt.pt"))
    t2 = _trainer(a)
    t2.load(str(tmp_path / "ckpt.pt"))
    assert t2.step == 5
    for _ in range(5):
        t2.train_step()
    for (n, p), (_, q) in zip(ref.model.state_dict().items(), t2.model.state_dict().items()):
        assert torch.equal(p, q), n
    s1, s2 = ref.opt.state_dict()["state"], t2.opt.state_dict()["state"]
    for k in s1:
        assert torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"])


def test_cli_corpus_train_resume_eval(tmp_path):
    """End to end on a tiny corpus: corpus CLI, train CLI stopped and resumed
    (same result as one run), outputs (weights, loss.png), eval CLI."""
    need_stdlib()
    from umbra_models import corpus, eval as ev, train
    root = tmp_path / "root"
    root.mkdir()
    for rp in ["os.py", "abc.py", "bisect.py", "colorsys.py", "keyword.py", "this.py", "glob.py",
               "fnmatch.py", "copy.py", "heapq.py", "shlex.py", "string.py", "token.py", "uu.py",
               "_sitebuiltins.py", "crypt.py", "imghdr.py", "netrc.py"]:  # last 4: valid/test files
        shutil.copy(os.path.join(STDLIB, rp), root / rp)
    assert corpus.main(["--root", str(root), "--out", str(tmp_path / "c"), "--merges", "40"]) == 0
    common = ["--preset", "opt-tiny", "--corpus", str(tmp_path / "c"), "--steps", "6", "--batch", "2",
              "--seq", "32", "--warmup", "2", "--eval-every", "3", "--eval-tokens", "200",
              "--ckpt-every", "1", "--log-every", "1"]
    assert train.main(common + ["--out", str(tmp_path / "a")]) == 0
    assert train.main(common + ["--out", str(tmp_path / "b"), "--stop-after", "4"]) == 0
    assert not (tmp_path / "b" / "weights.npz").exists()
    assert train.main(common + ["--out", str(tmp_path / "b"), "--resume"]) == 0
    za, zb = np.load(tmp_path / "a" / "weights.npz"), np.load(tmp_path / "b" / "weights.npz")
    assert za.files == zb.files
    for k in za.files:
        assert za[k].dtype == np.float16 and np.array_equal(za[k], zb[k]), k
    assert (tmp_path / "a" / "loss.png").stat().st_size > 1000
    out = tmp_path / "m.json"
    assert ev.main(["--model", str(tmp_path / "a"), "--root", str(root), "--split", "test",
                    "--max-bytes", "5000", "--out", str(out)]) == 0
    r = json.load(open(out))
    assert 0 < r["bpb"] < 8 and 0 <= r["top1"] <= 1


def test_eval_windows_cover_each_target_once():
    from umbra_models.eval import evaluate, windows
    for n, seq, st in [(10, 4, None), (10, 4, 2), (11, 4, 3), (3, 4, 2), (1000, 64, 32), (5, 5, 1)]:
        cov = []
        for s, L, off in windows(n, seq, st):
            cov += list(range(s + 1 + off, s + L + 1))
        assert cov == list(range(1, n + 1)), (n, seq, st)
    torch.manual_seed(0)
    m = _trainer(_args()).model.eval()
    ids = np.frombuffer(TEXT[:301], dtype=np.uint8)
    tl = np.ones(256, dtype=np.int64)
    a = evaluate(m, ids, tl, seq=32)
    b = evaluate(m, ids, tl, seq=32, stride=32)
    c = evaluate(m, ids, tl, seq=32, stride=8)
    assert a["bpb"] == b["bpb"] and a["tokens"] == c["tokens"] == 300 and c["bytes"] == 300
    assert abs(a["bpb"] - c["bpb"]) < 0.5
