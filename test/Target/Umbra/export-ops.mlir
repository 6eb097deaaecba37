// RUN: mpc-translate --export-umbra %s -o %t.umbra
// RUN: mpc-run %t.umbra --dump | FileCheck %s
// The program loads and runs: float reference and MPC agree.
// RUN: %python -c "import numpy as np; np.save('%t.ids.npy', np.array([[3, 0, 5]])); np.save('%t.x.npy', np.linspace(-1, 1, 6).reshape(2, 3))"
// RUN: mpc-run %t.umbra --reference -i ids=%t.ids.npy -i x=%t.x.npy -o %t.ref
// RUN: mpc-run %t.umbra --local -i ids=%t.ids.npy -i x=%t.x.npy -o %t.mpc
// RUN: %python -c "import numpy as np; [np.testing.assert_allclose(np.load('%t.mpc/' + n + '.npy'), np.load('%t.ref/' + n + '.npy'), atol=0.02) for n in ('probs', 'norm', 'picked', 'sum')]"

// Token ids: an input slot (frac 0) that the client one-hot expands in
// plaintext, then shares (mpc.share).
// CHECK: slot 0: ids [1x3] frac 0 client
// CHECK: slot 1: x [2x3] frac 16 client
// CHECK: instr 0: one_hot [0] -> [{{[0-9]+}}] depth=6 ignore_index=0 has_ignore_index=false wrap_negative=false vis=client
// CHECK-NEXT: instr 1: share [{{[0-9]+}}] -> [{{[0-9]+}}] vis=shared
// The batch-broadcast matmul operand [1, 6, 4] becomes a [6, 4] matrix.
// CHECK: instr {{[0-9]+}}: reshape
// CHECK: instr {{[0-9]+}}: matmul
// Softmax pieces: Max [axis, keepdims], Exp [t], ReduceSum [keepdims, axes],
// Reciprocal [iterations] + [lo, hi].
// CHECK: instr {{[0-9]+}}: max {{.*}} axis=-1 keepdims=true bits=64
// CHECK: instr {{[0-9]+}}: exp {{.*}} squarings=8 bits=64
// CHECK: instr {{[0-9]+}}: reduce_sum {{.*}} axes=[2] keepdims=true
// CHECK: instr {{[0-9]+}}: reciprocal {{.*}} lo=0.5 hi=4.0 iterations=0
// The client's own computation stays with the client (plaintext at P0):
// never shared, and a selection with a public branch is a Select there.
// CHECK-NOT: instr {{[0-9]+}}: share [1] ->
// CHECK: instr {{[0-9]+}}: mul [1, 1] -> {{.*}} vis=client
// CHECK: instr {{[0-9]+}}: rsqrt {{.*}} lo=1.0 hi=4.0 iterations=0 vis=client
// CHECK: instr {{[0-9]+}}: poly {{.*}} coefficients=[0.5, 0.25, 0.125] vis=client
// CHECK: instr {{[0-9]+}}: drelu {{.*}} vis=client
// CHECK: instr {{[0-9]+}}: select {{.*}} vis=client
// A shared selection with a public branch: b + c * (a - b).
// CHECK: instr {{[0-9]+}}: drelu {{.*}} vis=shared
// CHECK-NEXT: instr {{[0-9]+}}: sub
// CHECK-NEXT: instr {{[0-9]+}}: mul
// CHECK-NEXT: instr {{[0-9]+}}: add {{.*}} vis=shared
// CHECK: instr {{[0-9]+}}: transpose {{.*}} permutation=[1, 0]
// CHECK: instr {{[0-9]+}}: slice {{.*}} offsets=[0, 1] strides=[1, 1]
// CHECK: instr {{[0-9]+}}: concat {{.*}} axis=0
// CHECK: instr {{[0-9]+}}: reduce_sum {{.*}} axes=[0] keepdims=false
// CHECK: instr {{[0-9]+}}: reveal {{.*}} to="Both" reason="public row sums for the test"
// CHECK: instr {{[0-9]+}}: reveal {{.*}} to="Client" reason="model output"
// Returning the same value twice: the second output is a copy.
// CHECK: instr {{[0-9]+}}: copy
// CHECK: reveals: 3
// CHECK-NEXT: reveal at instr {{[0-9]+}}: {{.*}} [3] frac 16 to both reason="public row sums for the test"
// CHECK-NEXT: reveal at instr {{[0-9]+}}: {{.*}} [1x3x4] frac 16 to client reason="model output"
// CHECK-NEXT: reveal at instr {{[0-9]+}}: {{.*}} [4x2] frac 16 to client reason="model output"
// CHECK: outputs: [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]

func.func @main(%ids: tensor<1x3xi64> {onnx.name = "ids"}, %x: tensor<2x3xf32> {onnx.name = "x"})
    -> (!mpc.tensor<1x3x4, client, frac = 16> {onnx.name = "probs"},
        !mpc.tensor<2x3, client, frac = 16> {onnx.name = "norm"},
        !mpc.tensor<4x2, client, frac = 16> {onnx.name = "picked"},
        !mpc.tensor<1x3x4, client, frac = 16> {onnx.name = "probs_again"},
        !mpc.tensor<3, public, frac = 16> {onnx.name = "sum"}) {
  %table = arith.constant dense<[[[0.1, 0.2, 0.3, 0.4], [0.5, -0.5, 1.0, 0.0], [1.5, 1.0, -1.0, 2.0], [0.25, 0.5, 0.75, 1.0], [-1.0, -2.0, 0.0, 1.0], [2.0, 0.0, 1.0, -1.0]]]> : tensor<1x6x4xf32>
  %oh = mpc.one_hot %ids {depth = 6 : i64} : tensor<1x3xi64> -> !mpc.tensor<1x3x6, client, frac = 0>
  %ohs = mpc.share %oh : !mpc.tensor<1x3x6, client, frac = 0> -> !mpc.tensor<1x3x6, shared, frac = 0>
  %t = mpc.encode %table : tensor<1x6x4xf32> -> !mpc.tensor<1x6x4, owner, frac = 16>
  %ts = mpc.share %t : !mpc.tensor<1x6x4, owner, frac = 16> -> !mpc.tensor<1x6x4, shared, frac = 16>
  %e = mpc.matmul %ohs, %ts : (!mpc.tensor<1x3x6, shared, frac = 0>, !mpc.tensor<1x6x4, shared, frac = 16>) -> !mpc.tensor<1x3x4, shared, frac = 16>
  // softmax over the last axis
  %m = mpc.max %e {axis = -1 : i64} : !mpc.tensor<1x3x4, shared, frac = 16> -> !mpc.tensor<1x3x1, shared, frac = 16>
  %z = mpc.sub %e, %m : (!mpc.tensor<1x3x4, shared, frac = 16>, !mpc.tensor<1x3x1, shared, frac = 16>) -> !mpc.tensor<1x3x4, shared, frac = 16>
  %ex = mpc.exp %z {squarings = 8 : i64} : !mpc.tensor<1x3x4, shared, frac = 16>
  %s = mpc.reduce_sum %ex {axes = array<i64: 2>} : !mpc.tensor<1x3x4, shared, frac = 16> -> !mpc.tensor<1x3x1, shared, frac = 16>
  %r = mpc.reciprocal %s {lo = 0.5 : f64, hi = 4.0 : f64} : !mpc.tensor<1x3x1, shared, frac = 16>
  %p = mpc.mul %ex, %r : (!mpc.tensor<1x3x4, shared, frac = 16>, !mpc.tensor<1x3x1, shared, frac = 16>) -> !mpc.tensor<1x3x4, shared, frac = 32>
  %pt = mpc.trunc %p {bits = 16 : i64} : !mpc.tensor<1x3x4, shared, frac = 32> -> !mpc.tensor<1x3x4, shared, frac = 16>
  // the client's own plaintext: x * x + 1, then rsqrt, poly
  %xe = mpc.encode %x : tensor<2x3xf32> -> !mpc.tensor<2x3, client, frac = 16>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {one = "literal"}} dense<1.0> : tensor<f32>
  %onee = mpc.encode %one : tensor<f32> -> !mpc.tensor<public, frac = 16>
  %sq = mpc.mul %xe, %xe : (!mpc.tensor<2x3, client, frac = 16>, !mpc.tensor<2x3, client, frac = 16>) -> !mpc.tensor<2x3, client, frac = 32>
  %sqt = mpc.trunc %sq {bits = 16 : i64} : !mpc.tensor<2x3, client, frac = 32> -> !mpc.tensor<2x3, client, frac = 16>
  %v = mpc.add %sqt, %onee : (!mpc.tensor<2x3, client, frac = 16>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<2x3, client, frac = 16>
  %rs = mpc.rsqrt %v {lo = 1.0 : f64, hi = 4.0 : f64} : !mpc.tensor<2x3, client, frac = 16>
  %pl = mpc.poly %rs {coefficients = array<f64: 0.5, 0.25, 0.125>} : !mpc.tensor<2x3, client, frac = 16>
  // select between the client's value and a public constant
  %c = mpc.drelu %pl : !mpc.tensor<2x3, client, frac = 16> -> !mpc.tensor<2x3, client, frac = 0>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {half = "literal"}} dense<0.5> : tensor<2x3xf32>
  %halfe = mpc.encode %half : tensor<2x3xf32> -> !mpc.tensor<2x3, public, frac = 16>
  %sel = mpc.select %c, %pl, %halfe : (!mpc.tensor<2x3, client, frac = 0>, !mpc.tensor<2x3, client, frac = 16>, !mpc.tensor<2x3, public, frac = 16>) -> !mpc.tensor<2x3, client, frac = 16>
  // select between a shared value and a public constant
  %cs = mpc.drelu %pt : !mpc.tensor<1x3x4, shared, frac = 16> -> !mpc.tensor<1x3x4, shared, frac = 0>
  %quarter = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {quarter = "literal"}} dense<0.25> : tensor<1x3x4xf32>
  %quartere = mpc.encode %quarter : tensor<1x3x4xf32> -> !mpc.tensor<1x3x4, public, frac = 16>
  %sel2 = mpc.select %cs, %pt, %quartere : (!mpc.tensor<1x3x4, shared, frac = 0>, !mpc.tensor<1x3x4, shared, frac = 16>, !mpc.tensor<1x3x4, public, frac = 16>) -> !mpc.tensor<1x3x4, shared, frac = 16>
  // shape ops on shared data
  %pr = mpc.reshape %sel2 : !mpc.tensor<1x3x4, shared, frac = 16> -> !mpc.tensor<3x4, shared, frac = 16>
  %tr = mpc.transpose %pr {permutation = array<i64: 1, 0>} : !mpc.tensor<3x4, shared, frac = 16> -> !mpc.tensor<4x3, shared, frac = 16>
  %sl = mpc.slice %tr {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>} : !mpc.tensor<4x3, shared, frac = 16> -> !mpc.tensor<2x2, shared, frac = 16>
  %cat = mpc.concat %sl, %sl {axis = 0 : i64} : (!mpc.tensor<2x2, shared, frac = 16>, !mpc.tensor<2x2, shared, frac = 16>) -> !mpc.tensor<4x2, shared, frac = 16>
  %rows = mpc.reduce_sum %tr {axes = array<i64: 0>, keepdims = false} : !mpc.tensor<4x3, shared, frac = 16> -> !mpc.tensor<3, shared, frac = 16>
  %rowsr = mpc.reveal %rows {to = #mpc.reveal_target<all>, reason = "public row sums for the test"} : !mpc.tensor<3, shared, frac = 16> -> !mpc.tensor<3, public, frac = 16>
  %o1 = mpc.reveal %pt {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<1x3x4, shared, frac = 16> -> !mpc.tensor<1x3x4, client, frac = 16>
  %o3 = mpc.reveal %cat {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<4x2, shared, frac = 16> -> !mpc.tensor<4x2, client, frac = 16>
  return %o1, %sel, %o3, %o1, %rowsr : !mpc.tensor<1x3x4, client, frac = 16>, !mpc.tensor<2x3, client, frac = 16>, !mpc.tensor<4x2, client, frac = 16>, !mpc.tensor<1x3x4, client, frac = 16>, !mpc.tensor<3, public, frac = 16>
}
