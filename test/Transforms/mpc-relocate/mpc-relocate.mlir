// RUN: mpc-opt %s --split-input-file --mpc-assign-roles='public-weight-names=base\..*' --mpc-relocate --mpc-annotate-visibility | FileCheck %s

// A frozen public layer before the owner's fine-tuned one: the weights the
// pattern names become public, so the client computes the first layer in
// plaintext and only the second needs MPC.
// CHECK-LABEL: func.func @frozen_base
func.func @frozen_base(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<public>
  %w0 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.5, 2.5, 3.5, 4.5], [0.5, 0.25, 0.125, 1.0]]> : tensor<4x4xf32> loc("base.w0")
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<owner>
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 0.0, 0.0, 4.0], [0.0, 6.0, 7.0, 0.0], [1.5, 0.0, 3.5, 0.0], [0.0, 0.25, 0.0, 1.0]]> : tensor<4x4xf32> loc("tuned.w1")
  // CHECK: tfm.linear {{.*}}mpc.visibility = #mpc.visibility<client>
  %0 = tfm.linear %x, %w0 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  // CHECK: tfm.gelu {{.*}}mpc.visibility = #mpc.visibility<client>
  %1 = tfm.gelu %0 : tensor<2x4xf32>
  // CHECK: tfm.linear {{.*}}mpc.visibility = #mpc.visibility<shared>
  %2 = tfm.linear %1, %w1 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}

// -----

// Preprocessing of public weights is folded: transpose, scale and add of
// public constants leave one constant and no tfm op.
// CHECK-LABEL: func.func @fold_public
// CHECK: %[[C:.*]] = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<{{\[\[}}3.000000e+00, 7.000000e+00], [5.000000e+00, 9.000000e+00]]> : tensor<2x2xf32>
// CHECK-NOT: tfm.transpose
// CHECK-NOT: tfm.mul
// CHECK-NOT: tfm.add
// CHECK: tfm.linear %{{.*}}, %[[C]]
func.func @fold_public(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("base.w")
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %t = tfm.transpose %w {permutation = array<i64: 1, 0>} : tensor<2x2xf32> -> tensor<2x2xf32>
  %s = tfm.mul %t, %two : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  %a = tfm.add %s, %one : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  %y = tfm.linear %x, %a : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A public base plus the owner's delta (LoRA-style): x (W + D) becomes
// x W + x D; x W is the client's plaintext product, only x D is shared.
// The bias is added once.
// CHECK-LABEL: func.func @public_base_plus_delta
// CHECK: %[[XW:.*]] = tfm.linear %{{.*}}, %{{.*}}, %[[B:.*]] {mpc.visibility = #mpc.visibility<client>}
// CHECK: %[[XD:.*]] = tfm.linear %{{.*}}, %{{[^,]*}} {mpc.visibility = #mpc.visibility<shared>}
// CHECK: tfm.add %[[XW]], %[[XD]] {mpc.visibility = #mpc.visibility<shared>}
func.func @public_base_plus_delta(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("base.w")
  %d = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[0.1, 0.2], [0.3, 0.4]]> : tensor<2x2xf32> loc("lora.delta")
  %b = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[0.5, -0.5]> : tensor<2xf32> loc("base.b")
  %sum = tfm.add %w, %d : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = tfm.linear %x, %sum, %b : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// With the owner's bias (not public), the bias goes with the owner's delta:
// the client's plaintext product x W stays the client's, and the owner's
// bias is only ever combined under MPC.
// CHECK-LABEL: func.func @owner_bias
// CHECK: %[[XW:.*]] = tfm.linear %{{.*}}, %{{[^,]*}} {mpc.visibility = #mpc.visibility<client>}
// CHECK: %[[XD:.*]] = tfm.linear %{{.*}}, %{{.*}}, %{{.*}} {mpc.visibility = #mpc.visibility<shared>}
// CHECK: tfm.add %[[XW]], %[[XD]] {mpc.visibility = #mpc.visibility<shared>}
func.func @owner_bias(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("base.w")
  %d = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[0.1, 0.2], [0.3, 0.4]]> : tensor<2x2xf32> loc("lora.delta")
  %b = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[0.5, -0.5]> : tensor<2xf32> loc("tuned.b")
  %sum = tfm.add %w, %d : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = tfm.linear %x, %sum, %b : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
