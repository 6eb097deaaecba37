// RUN: mpc-translate --export-umbra %s -o %t.umbra
// RUN: mpc-run %t.umbra --dump | FileCheck %s
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([[1, -2, 0.5, 3], [0.25, 1, -1, 2]]))"
// RUN: mpc-run %t.umbra --local -i x=%t.x.npy -o %t.out --stats %t.stats.json
// RUN: mpc-run %t.umbra --dump --json > %t.dump.json
// RUN: %python %S/Inputs/private_stats.py %t.dump.json %t.x.npy %t.out %t.stats | FileCheck %s --check-prefix=STATS

// MPC minimisation: the client scales its input, multiplies it by a public
// matrix and applies ReLU in plaintext; mpc.share is where its value meets
// the owner's weight, which the owner transposes in plaintext (deployment).
// CHECK: slot 0: x [2x4] frac 16 client
// CHECK: instr 0: mul [0, {{[0-9]+}}] -> {{.*}} vis=client
// CHECK-NEXT: instr 1: trunc {{.*}} bits=16 vis=client
// CHECK-NEXT: instr 2: matmul {{.*}} vis=client
// CHECK-NEXT: instr 3: trunc {{.*}} bits=16 vis=client
// CHECK-NEXT: instr 4: relu [[[R:[0-9]+]]] -> [[[F:[0-9]+]]] bits=64 vis=client
// CHECK-NEXT: instr 5: share [[[F]]] -> {{.*}} vis=shared
// CHECK-NEXT: instr 6: transpose {{.*}} permutation=[1, 0] vis=owner deploy
// CHECK-NEXT: instr 7: share {{.*}} vis=shared deploy
// CHECK-NEXT: instr 8: matmul {{.*}} vis=shared
// CHECK-NEXT: instr 9: trunc {{.*}} vis=shared
// The client's value shared where it meets shared data (the lowering's
// mpc.share; the exporter refuses the mix without it, export-errors.mlir).
// CHECK-NEXT: instr 10: slice [0] -> [[[XS:[0-9]+]]] {{.*}} vis=client
// CHECK-NEXT: instr 11: share [[[XS]]] -> {{.*}} vis=shared
// CHECK-NEXT: instr 12: add {{.*}} vis=shared
// CHECK-NEXT: instr 13: reveal {{.*}} to="Client" reason="model output" vis=public
// The client's own feature is a result that P0 writes: not shared, not
// revealed.
// CHECK-NEXT: reveals: 1
// CHECK-NEXT: reveal at instr 13: {{.*}} [2x3] frac 16 to client reason="model output"
// CHECK: outputs: [{{[0-9]+}}, [[F]]]

// Every client instruction costs nothing on every role, and so does the
// owner's transposition (once, at deployment). P1 receives the client's data
// only as shares: the 2x4 feature (64 B + a 16 B frame header) and the 2x3
// slice; everything else it receives is an opening of the MPC part.
// STATS: client p0: 6 instructions, 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: client p1: 6 instructions, 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: client dealer: 6 instructions, 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: owner p0: 1 instructions (deploy), 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: owner p1: 1 instructions (deploy), 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: owner dealer: 1 instructions (deploy), 0 bytes, 0 rounds, 0 dealer bytes
// STATS-NEXT: p1 receives the client's shares: [80, 64]
// STATS-NEXT: feature: exact fixed point
// STATS-NEXT: y: max error {{.*}}

func.func @main(%x: tensor<2x4xf32> {onnx.name = "x"})
    -> (!mpc.tensor<2x3, client, frac = 16> {onnx.name = "y"},
        !mpc.tensor<2x4, client, frac = 16> {onnx.name = "feature"}) {
  %p = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {p = "literal"}} dense<[[1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, -0.5], [0.5, 0.0, 1.0, 0.0], [0.0, 0.25, 0.0, 1.0]]> : tensor<4x4xf32>
  %three = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {three = "literal"}} dense<3.0> : tensor<f32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.25, 0.0], [-1.0, 0.0, 1.0, 2.0]]> : tensor<3x4xf32>
  %xe = mpc.encode %x : tensor<2x4xf32> -> !mpc.tensor<2x4, client, frac = 16>
  %pe = mpc.encode %p : tensor<4x4xf32> -> !mpc.tensor<4x4, public, frac = 16>
  %te = mpc.encode %three : tensor<f32> -> !mpc.tensor<public, frac = 16>
  %s = mpc.mul %xe, %te : (!mpc.tensor<2x4, client, frac = 16>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<2x4, client, frac = 32>
  %st = mpc.trunc %s {bits = 16 : i64} : !mpc.tensor<2x4, client, frac = 32> -> !mpc.tensor<2x4, client, frac = 16>
  %h = mpc.matmul %st, %pe : (!mpc.tensor<2x4, client, frac = 16>, !mpc.tensor<4x4, public, frac = 16>) -> !mpc.tensor<2x4, client, frac = 32>
  %ht = mpc.trunc %h {bits = 16 : i64} : !mpc.tensor<2x4, client, frac = 32> -> !mpc.tensor<2x4, client, frac = 16>
  %r = mpc.relu %ht : !mpc.tensor<2x4, client, frac = 16>
  %rs = mpc.share %r : !mpc.tensor<2x4, client, frac = 16> -> !mpc.tensor<2x4, shared, frac = 16>
  %we = mpc.encode %w : tensor<3x4xf32> -> !mpc.tensor<3x4, owner, frac = 16>
  %wt = mpc.transpose %we {permutation = array<i64: 1, 0>} : !mpc.tensor<3x4, owner, frac = 16> -> !mpc.tensor<4x3, owner, frac = 16>
  %ws = mpc.share %wt : !mpc.tensor<4x3, owner, frac = 16> -> !mpc.tensor<4x3, shared, frac = 16>
  %y = mpc.matmul %rs, %ws : (!mpc.tensor<2x4, shared, frac = 16>, !mpc.tensor<4x3, shared, frac = 16>) -> !mpc.tensor<2x3, shared, frac = 32>
  %yt = mpc.trunc %y {bits = 16 : i64} : !mpc.tensor<2x3, shared, frac = 32> -> !mpc.tensor<2x3, shared, frac = 16>
  %xs = mpc.slice %xe {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : !mpc.tensor<2x4, client, frac = 16> -> !mpc.tensor<2x3, client, frac = 16>
  %xss = mpc.share %xs : !mpc.tensor<2x3, client, frac = 16> -> !mpc.tensor<2x3, shared, frac = 16>
  %sum = mpc.add %yt, %xss : (!mpc.tensor<2x3, shared, frac = 16>, !mpc.tensor<2x3, shared, frac = 16>) -> !mpc.tensor<2x3, shared, frac = 16>
  %o = mpc.reveal %sum {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<2x3, shared, frac = 16> -> !mpc.tensor<2x3, client, frac = 16>
  return %o, %r : !mpc.tensor<2x3, client, frac = 16>, !mpc.tensor<2x4, client, frac = 16>
}
