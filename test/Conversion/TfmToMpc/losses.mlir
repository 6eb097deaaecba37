// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// log_softmax (Losses.cpp) reuses softmax's rows: the row maximum, exp of
// the shifted scores at 8 extra bits, the row sums truncated back; then
// log of the sums on [1, n] (n = 8: binades 1, 2, 4, so three comparisons
// however wide log-min..log-max is) subtracted from the shifted scores.
// CHECK-LABEL: func.func @log_softmax
// CHECK: %[[X:.*]] = mpc.encode %arg0 : tensor<2x8xf32> -> !mpc.tensor<2x8, client, frac = 16>
// CHECK: %[[M:.*]] = mpc.max %[[X]] {axis = 1 : i64} : !mpc.tensor<2x8, client, frac = 16> -> !mpc.tensor<2x1, client, frac = 16>
// CHECK: %[[D:.*]] = mpc.sub %[[X]], %[[M]]
// CHECK: %[[E:.*]] = mpc.exp %{{.*}} : !mpc.tensor<2x8, client, frac = 24>
// CHECK: %[[S:.*]] = mpc.reduce_sum %[[E]] {axes = array<i64: 1>} : !mpc.tensor<2x8, client, frac = 24> -> !mpc.tensor<2x1, client, frac = 24>
// CHECK: %[[ST:.*]] = mpc.trunc %[[S]] {bits = 8 : i64} : !mpc.tensor<2x1, client, frac = 24> -> !mpc.tensor<2x1, client, frac = 16>
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x1x3, client, frac = 16> -> !mpc.tensor<2x1x3, client, frac = 0>
// CHECK: mpc.poly
// CHECK: %[[LSE:.*]] = mpc.add
// CHECK: %[[Y:.*]] = mpc.sub %[[D]], %[[LSE]] : (!mpc.tensor<2x8, client, frac = 16>, !mpc.tensor<2x1, client, frac = 16>) -> !mpc.tensor<2x8, client, frac = 16>
// CHECK-NOT: mpc.reciprocal
// CHECK: return %[[Y]]
func.func @log_softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = tfm.log_softmax %x {axis = -1 : i64} : tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// The client's labels: one-hot rows built by the client in plaintext
// (frac 0), shared where they meet shared scores; the selection is a
// product without truncation and a local sum.
// CHECK-LABEL: func.func @label
// CHECK: %[[H:.*]] = mpc.one_hot %arg0 {depth = 5 : i64} : tensor<3xi64> -> !mpc.tensor<3x5, client, frac = 0>
// CHECK: %[[HS:.*]] = mpc.share %[[H]] : !mpc.tensor<3x5, client, frac = 0> -> !mpc.tensor<3x5, shared, frac = 0>
// CHECK: %[[P:.*]] = mpc.mul %[[HS]], %{{.*}} : (!mpc.tensor<3x5, shared, frac = 0>, !mpc.tensor<3x5, shared, frac = 16>) -> !mpc.tensor<3x5, shared, frac = 16>
// CHECK-NOT: mpc.trunc
// CHECK: mpc.reduce_sum %[[P]] {axes = array<i64: 1>}
func.func @label(%t: tensor<3xi64>, %x: tensor<3x5xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<3xf32> {
  %h = tfm.one_hot %t {depth = 5 : i64} : tensor<3xi64> -> tensor<3x5xf32>
  %p = tfm.mul %h, %x : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  %s = tfm.reduce_sum %p {axes = array<i64: 1>, keepdims = false} : tensor<3x5xf32> -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

// A count of 0/1 rows (frac 0) as a divisor: widened to the working
// precision before the reciprocal (Functions.cpp, divide).
// CHECK-LABEL: func.func @count_divisor
// CHECK: %[[C:.*]] = mpc.reshape %{{.*}} -> !mpc.tensor<client, frac = 0>
// CHECK: %[[W:.*]] = mpc.mul %[[C]], %{{.*}} : (!mpc.tensor<client, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<client, frac = 16>
// CHECK: mpc.reciprocal
func.func @count_divisor(%x: tensor<f32>, %t: tensor<3xi64>) -> tensor<f32> {
  %h = tfm.one_hot %t {depth = 5 : i64} : tensor<3xi64> -> tensor<3x5xf32>
  %n = tfm.reduce_sum %h {axes = array<i64: 0, 1>, keepdims = false} : tensor<3x5xf32> -> tensor<f32>
  %q = tfm.div %x, %n : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %q : tensor<f32>
}
