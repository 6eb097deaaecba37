"""ConvTranspose by its definition (numpy loops) against mpc-run's output.

Usage: convtranspose_ref.py INPUT_DIR OUTPUT.npy
Writes X, W, B .npy inputs into INPUT_DIR when OUTPUT.npy is '-', else
compares OUTPUT.npy with y[n, g*M/G + m, i*s + k*d - pad_begin] summed over
the group's input channels (group 2, strides [2, 2], dilations [1, 2],
pads [0, 1, 1, 0], output_padding [1, 0]) and prints the max error.
"""
import os
import sys

import numpy as np

d, out = sys.argv[1], sys.argv[2]
if out == "-":
    rng = np.random.default_rng(0)
    for n, shape in [("X", (2, 4, 5, 3)), ("W", (4, 3, 3, 2)), ("B", (6,))]:
        np.save(os.path.join(d, n + ".npy"), rng.normal(size=shape))
    sys.exit(0)
X, W, B = (np.load(os.path.join(d, n + ".npy")) for n in "XWB")
group, st, dil, pb = 2, (2, 2), (1, 2), (0, 1)
N, C, H, Wd = X.shape
cg, mg = C // group, W.shape[1]
y = np.zeros((N, group * mg, 11, 6))
for n in range(N):
    for c in range(C):
        g = c // cg
        for m in range(mg):
            for i in range(H):
                for j in range(Wd):
                    for a in range(W.shape[2]):
                        for b in range(W.shape[3]):
                            oi = i * st[0] + a * dil[0] - pb[0]
                            oj = j * st[1] + b * dil[1] - pb[1]
                            if 0 <= oi < 11 and 0 <= oj < 6:
                                y[n, g * mg + m, oi, oj] += X[n, c, i, j] * W[c, m, a, b]
y += B.reshape(1, -1, 1, 1)
got = np.load(out)
err = np.abs(got - y).max()
print("max error", err)
assert err < 1e-3, err
