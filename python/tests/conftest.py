import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
if PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

FIXTURES = os.path.join(PYDIR, "fixtures")
STDLIB = "/usr/lib/python3.11"

torch.set_num_threads(2)


def fixture_dir(name):
    d = os.path.join(FIXTURES, name)
    if not os.path.exists(os.path.join(d, "weights.npz")):
        pytest.skip(f"fixture {name} not present")
    return d


def need_stdlib():
    if not os.path.isdir(STDLIB):
        pytest.skip(f"{STDLIB} not present")
