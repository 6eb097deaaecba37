// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// Gathers by the client's indices (Shape.cpp): the client builds the
// one-hot rows in plaintext; the gather is their product with the data
// (frac 0 times frac 16: no truncation).

// Public data: the client computes alone, nothing is shared.
// CHECK-LABEL: func.func @public_data
// CHECK: %[[H:.*]] = mpc.one_hot %{{.*}} {depth = 8 : i64, wrap_negative} : tensor<2xi64> -> !mpc.tensor<2x8, client, frac = 0>
// CHECK-NOT: mpc.share
// CHECK: %[[Y:.*]] = mpc.matmul %[[H]], %{{.*}} : (!mpc.tensor<2x8, client, frac = 0>, !mpc.tensor<8x4, public, frac = 16>) -> !mpc.tensor<2x4, client, frac = 16>
// CHECK-NOT: mpc.trunc
// CHECK: return %[[Y]]
func.func @public_data(%i: tensor<2xi64>) -> tensor<2x4xf32> {
  %x = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.5> : tensor<8x4xf32>
  %0 = tfm.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// The owner's data on a middle axis: moved to the front, one shared
// matrix product, the index dimensions moved back to the axis.
// CHECK-LABEL: func.func @owner_data_axis1
// CHECK: %[[H:.*]] = mpc.one_hot %{{.*}} {depth = 5 : i64, wrap_negative} : tensor<4xi64> -> !mpc.tensor<4x5, client, frac = 0>
// CHECK: %[[HS:.*]] = mpc.share %[[H]] : !mpc.tensor<4x5, client, frac = 0> -> !mpc.tensor<4x5, shared, frac = 0>
// CHECK: %[[T:.*]] = mpc.transpose %{{.*}} {permutation = array<i64: 1, 0, 2>} : !mpc.tensor<2x5x3, owner, frac = 16> -> !mpc.tensor<5x2x3, owner, frac = 16>
// CHECK: %[[M:.*]] = mpc.reshape %[[T]] : {{.*}} -> !mpc.tensor<5x6, owner, frac = 16>
// CHECK: %[[MS:.*]] = mpc.share %[[M]] : !mpc.tensor<5x6, owner, frac = 16> -> !mpc.tensor<5x6, shared, frac = 16>
// CHECK: %[[P:.*]] = mpc.matmul %[[HS]], %[[MS]] : {{.*}} -> !mpc.tensor<4x6, shared, frac = 16>
// CHECK: %[[R:.*]] = mpc.reshape %[[P]] : {{.*}} -> !mpc.tensor<4x2x3, shared, frac = 16>
// CHECK: %[[Y:.*]] = mpc.transpose %[[R]] {permutation = array<i64: 1, 0, 2>} : {{.*}} -> !mpc.tensor<2x4x3, shared, frac = 16>
// CHECK: mpc.reveal %[[Y]]
func.func @owner_data_axis1(%i: tensor<4xi64>) -> tensor<2x4x3xf32> {
  %x = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<2.0> : tensor<2x5x3xf32>
  %0 = tfm.gather %x, %i {axis = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi64>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}
