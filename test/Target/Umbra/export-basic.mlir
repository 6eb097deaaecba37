// RUN: mpc-translate --export-umbra %s -o %t.umbra
// RUN: %python %S/Inputs/dump_umbra.py %t.umbra | FileCheck %s
// The artifact runs: all three roles on loopback, the result matches numpy.
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([[1, 2, 0.5, 3], [0.25, 1, -1, 2]]))"
// RUN: mpc-run %t.umbra --local -i x=%t.x.npy -o %t.out
// RUN: %python -c "import numpy as np; x = np.load('%t.x.npy'); w = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 0.5, 0.25]]); y = np.maximum(x @ w + np.array([0.5, -1, 2]), 0); got = np.load('%t.out/y.npy'); print('max error', np.abs(got - y).max()); assert np.abs(got - y).max() < 1e-3" | FileCheck %s --check-prefix=NUM
// RUN: mpc-run %t.umbra --reference -i x=%t.x.npy -o %t.ref
// Owner blobs are last: the copy for P0 and the dealer drops exactly them.
// RUN: mpc-run %t.umbra --strip-owner-weights %t.stripped.umbra
// RUN: %python -c "import os; print('stripped', os.path.getsize('%t.umbra') - os.path.getsize('%t.stripped.umbra'))" | FileCheck %s --check-prefix=STRIP
// STRIP: stripped 64

// A linear layer with the owner's weight and a public bias, ReLU, revealed
// to the client. The header and hashes are checked by the dump script.
// CHECK: header: version 1
// The public bias blob comes first, the owner's weight last.
// CHECK: weight 0: offset 64 size 48 F32 [1 2 3 4 5 6 7 8 ...]
// CHECK: weight 1: offset 0 size 12 F32 [0.5 -1 2]
// CHECK: isa 3 frac 16
// CHECK: slot 0: x 2x4 frac 16 Client
// CHECK: slot 1: {{.*}} 4x3 frac 16 Owner weight 0
// CHECK: slot 2: {{.*}} 3 frac 16 Public weight 1
// CHECK: slot 9: y 2x3 frac 16 Public
// CHECK: instr 0: Share [0] -> [3]
// CHECK: instr 1: Share [1] -> [4]
// CHECK: instr 2: Matmul [3, 4] -> [5]
// CHECK: instr 3: Trunc [5] -> [6] bits=16
// CHECK: instr 4: Add [6, 2] -> [7]
// CHECK: instr 5: Relu [7] -> [8] bits=64
// CHECK: instr 6: Reveal [8] -> [9] to="Client" reason="model output"
// CHECK: outputs [9]
// NUM: max error

func.func @main(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (!mpc.tensor<2x3, client, frac = 16> {onnx.name = "y"}) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 0.5, 0.25]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
  %xe = mpc.encode %x : tensor<2x4xf32> -> !mpc.tensor<2x4, client, frac = 16>
  %we = mpc.encode %w : tensor<4x3xf32> -> !mpc.tensor<4x3, owner, frac = 16>
  %be = mpc.encode %b : tensor<3xf32> -> !mpc.tensor<3, public, frac = 16>
  %xs = mpc.share %xe : !mpc.tensor<2x4, client, frac = 16> -> !mpc.tensor<2x4, shared, frac = 16>
  %ws = mpc.share %we : !mpc.tensor<4x3, owner, frac = 16> -> !mpc.tensor<4x3, shared, frac = 16>
  %p = mpc.matmul %xs, %ws : (!mpc.tensor<2x4, shared, frac = 16>, !mpc.tensor<4x3, shared, frac = 16>) -> !mpc.tensor<2x3, shared, frac = 32>
  %t = mpc.trunc %p {bits = 16 : i64} : !mpc.tensor<2x3, shared, frac = 32> -> !mpc.tensor<2x3, shared, frac = 16>
  %a = mpc.add %t, %be : (!mpc.tensor<2x3, shared, frac = 16>, !mpc.tensor<3, public, frac = 16>) -> !mpc.tensor<2x3, shared, frac = 16>
  %r = mpc.relu %a : !mpc.tensor<2x3, shared, frac = 16>
  %o = mpc.reveal %r {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<2x3, shared, frac = 16> -> !mpc.tensor<2x3, client, frac = 16>
  return %o : !mpc.tensor<2x3, client, frac = 16>
}
