// RUN: mpc-opt %s --convert-tfm-to-mpc | FileCheck %s

// A sum of reals at different fractional bits: one-hot rows times an
// integral constant stay at frac 0 (a product with no truncation), and a
// difference with a real at frac 16 raises them by a public 2^16 (exact,
// local) first (TopK's removal of the winner, SortOps.cpp).

// CHECK-LABEL: func.func @align
// CHECK: %[[O:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[R:.*]] = mpc.mul %[[O]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK-NOT: mpc.trunc
// CHECK: mpc.sub %{{.*}}, %[[R]] : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
func.func @align(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<4xf32>
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %m = tfm.argmax %s {axis = 0 : i64, keepdims = true, select_last_index = false} : tensor<4xf32> -> tensor<1xi64>
  %h = tfm.one_hot %m {depth = 4 : i64} : tensor<1xi64> -> tensor<1x4xf32>
  %r = tfm.reshape %h : tensor<1x4xf32> to tensor<4xf32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1024.0> : tensor<f32>
  %o = tfm.mul %r, %c : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %y = tfm.sub %s, %o : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
