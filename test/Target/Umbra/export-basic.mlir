// RUN: mpc-translate --export-umbra %s -o %t.umbra
// RUN: mpc-run %t.umbra --dump | FileCheck %s
// The artifact runs: all three roles on loopback, the result matches numpy.
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([[1, 2, 0.5, 3], [0.25, 1, -1, 2]]))"
// RUN: mpc-run %t.umbra --local -i x=%t.x.npy -o %t.out
// RUN: %python -c "import numpy as np; x = np.load('%t.x.npy'); w = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 0.5, 0.25]]); y = np.maximum(x @ w + np.array([0.5, -1, 2]), 0); got = np.load('%t.out/y.npy'); print('max error', np.abs(got - y).max()); assert np.abs(got - y).max() < 1e-3" | FileCheck %s --check-prefix=NUM
// RUN: mpc-run %t.umbra --reference -i x=%t.x.npy -o %t.ref
// Owner blobs are last: the copy for P0 and the dealer drops exactly them.
// RUN: mpc-run %t.umbra --strip-owner-weights %t.stripped.umbra
// RUN: %python -c "import os; print('stripped', os.path.getsize('%t.umbra') - os.path.getsize('%t.stripped.umbra'))" | FileCheck %s --check-prefix=STRIP
// STRIP: stripped 64
// The copy keeps the program section, hence the hash, and lacks exactly the
// owner's blob.
// RUN: mpc-run %t.umbra --dump > %t.full.txt
// RUN: mpc-run %t.stripped.umbra --dump > %t.stripped.txt
// RUN: cat %t.full.txt %t.stripped.txt | FileCheck %s --check-prefix=SAME
// SAME: program: {{[0-9]+}} bytes, sha256 [[HASH:[0-9a-f]+]]
// SAME: weights: 2 blobs (1 the owner's) in 128 bytes{{$}}
// SAME: program: {{[0-9]+}} bytes, sha256 [[HASH]]
// SAME: weights: 2 blobs (1 the owner's) in 64 bytes, owner weights stripped
// SAME-NEXT: weight 0: slot 1 owner F32 offset 64 size 48 sha256 {{[0-9a-f]+}} origin owner absent (stripped)
// SAME-NEXT: weight 1: slot 2 public F32 offset 0 size 12 sha256 {{[0-9a-f]+}} origin public by rule from 'b' [0.5 -1 2]
// The stripped copy still runs the float reference only where no owner
// weight is needed: here the owner's weight is, so it is refused.
// RUN: not mpc-run %t.stripped.umbra --reference -i x=%t.x.npy -o %t.sref 2>&1 | FileCheck %s --check-prefix=NOREF
// NOREF: mpc-run: error: weight '{{.*}}' is not in this copy of the artifact (owner weights were stripped; the model owner needs the full file)

// A linear layer with the owner's weight and a public bias, ReLU, revealed
// to the client. mpc-run --dump loads the artifact (header, hashes and every
// instruction are verified) before it prints anything.
// CHECK: artifact: format 1, isa 4, 16 fractional bits
// CHECK-NEXT: program: {{[0-9]+}} bytes, sha256 {{[0-9a-f]+}}
// CHECK-NEXT: slots: 10
// CHECK-NEXT: slot 0: x [2x4] frac 16 client
// CHECK-NEXT: slot 1: {{.*}} [4x3] frac 16 owner weight 0
// CHECK-NEXT: slot 2: {{.*}} [3] frac 16 public weight 1
// CHECK: slot 9: y [2x3] frac 16 public
// CHECK-NEXT: instructions: 7
// CHECK-NEXT: instr 0: share [0] -> [3] vis=shared
// CHECK-NEXT: instr 1: share [1] -> [4] vis=shared deploy
// CHECK-NEXT: instr 2: matmul [3, 4] -> [5] vis=shared
// CHECK-NEXT: instr 3: trunc [5] -> [6] bits=16 vis=shared
// CHECK-NEXT: instr 4: add [6, 2] -> [7] vis=shared
// CHECK-NEXT: instr 5: relu [7] -> [8] bits=64 vis=shared
// CHECK-NEXT: instr 6: reveal [8] -> [9] to="Client" reason="model output" vis=public
// CHECK-NEXT: reveals: 1
// CHECK-NEXT: reveal at instr 6: [8] -> [9] [2x3] frac 16 to client reason="model output"
// The public bias blob comes first, the owner's weight last.
// CHECK-NEXT: weights: 2 blobs (1 the owner's) in 128 bytes
// CHECK-NEXT: weight 0: slot 1 owner F32 offset 64 size 48 sha256 {{[0-9a-f]+}} origin owner [1 2 3 4 5 6 7 8 ...]
// CHECK-NEXT: weight 1: slot 2 public F32 offset 0 size 12 sha256 {{[0-9a-f]+}} origin public by rule from 'b' [0.5 -1 2]
// CHECK-NEXT: inputs: [0]
// CHECK-NEXT: outputs: [9]
// NUM: max error

func.func @main(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (!mpc.tensor<2x3, client, frac = 16> {onnx.name = "y"}) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 0.5, 0.25]]> : tensor<4x3xf32>
  %b = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "literal"}} dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
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
