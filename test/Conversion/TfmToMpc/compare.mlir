// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// Comparisons of secret values and selections by their bits
// (Elementwise.cpp): the client's x against the owner's w, both shared.

// [x < w] = 1 - drelu(x - w); where(c, x, w) = w + c * (x - w): one
// comparison and one product of a bit (frac 0) by a real, not truncated.
// CHECK-LABEL: func.func @less_where
// CHECK: %[[ONE:.*]] = mpc.encode %{{.*}} : tensor<f32> -> !mpc.tensor<public, frac = 0>
// CHECK: %[[X:.*]] = mpc.share %{{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[W:.*]] = mpc.share %{{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[D:.*]] = mpc.sub %[[X]], %[[W]]
// CHECK: %[[GE:.*]] = mpc.drelu %[[D]] : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[LT:.*]] = mpc.sub %[[ONE]], %[[GE]] : (!mpc.tensor<public, frac = 0>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[P:.*]] = mpc.mul %[[LT]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK-NOT: mpc.trunc
// CHECK: %[[Y:.*]] = mpc.add %[[W]], %[[P]]
// CHECK: mpc.reveal %[[Y]] {reason = "model output"
// CHECK-NOT: = mpc.reveal
func.func @less_where(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %c = tfm.less %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %0 = tfm.where %c, %x, %w : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// [x == w] = drelu(x - w) + drelu(w - x) - 1: both signs in one gate.
// CHECK-LABEL: func.func @equal
// CHECK: %[[D:.*]] = mpc.sub %{{.*}}, %{{.*}} : {{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[N:.*]] = mpc.neg %[[D]]
// CHECK: %[[BOTH:.*]] = mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : {{.*}} -> !mpc.tensor<2x4, shared, frac = 16>
// CHECK: %[[B:.*]] = mpc.drelu %[[BOTH]] : !mpc.tensor<2x4, shared, frac = 16> -> !mpc.tensor<2x4, shared, frac = 0>
// CHECK-NOT: mpc.drelu
// CHECK: %[[GE:.*]] = mpc.slice %[[B]] {offsets = array<i64: 0, 0>
// CHECK: %[[GE4:.*]] = mpc.reshape %[[GE]]
// CHECK: %[[LE:.*]] = mpc.slice %[[B]] {offsets = array<i64: 1, 0>
// CHECK: %[[LE4:.*]] = mpc.reshape %[[LE]]
// CHECK: %[[S:.*]] = mpc.add %[[GE4]], %[[LE4]]
// CHECK: mpc.sub %[[S]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 0>)
// CHECK: mpc.mul {{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
func.func @equal(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %c = tfm.equal %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %0 = tfm.where %c, %x, %w : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A mask the model owner holds is encoded by the owner at frac 0 and
// shared: the selection is a product, the mask is never revealed.
// CHECK-LABEL: func.func @owner_mask
// CHECK: %[[M:.*]] = mpc.encode %{{.*}} : tensor<2xf32> -> !mpc.tensor<2, owner, frac = 0>
// CHECK: %[[MS:.*]] = mpc.share %[[M]] : !mpc.tensor<2, owner, frac = 0> -> !mpc.tensor<2, shared, frac = 0>
// CHECK: mpc.mul %[[MS]], %{{.*}} : (!mpc.tensor<2, shared, frac = 0>, !mpc.tensor<2, shared, frac = 16>)
// CHECK: mpc.reveal {{.*}}reason = "model output"
// CHECK-NOT: = mpc.reveal
func.func @owner_mask(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[true, false]> : tensor<2xi1>
  %0 = tfm.where %c, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
