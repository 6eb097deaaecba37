// RUN: mpc-opt %s --split-input-file --mpc-annotate-visibility | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-assign-roles=public-weights --mpc-annotate-visibility | FileCheck %s --check-prefix=OPEN

// A block: the client's activations meet the owner's weights.
// CHECK-LABEL: func.func @block
// OPEN-LABEL: func.func @block
func.func @block(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // A weight (the importer marks initializers) belongs to the model owner ...
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<owner>
  // OPEN: arith.constant {{.*}}mpc.visibility = #mpc.visibility<public>
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]> : tensor<1x8xf32>
  // ... a literal is public structure (declared so by whoever created it).
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<public>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  // Client input times a public constant stays with the client.
  // CHECK: tfm.mul {{.*}}mpc.visibility = #mpc.visibility<client>
  %0 = tfm.mul %x, %half : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  // Owner data mixed with client data must be computed under MPC; with
  // public weights the client can do it alone.
  // CHECK: tfm.mul {{.*}}mpc.visibility = #mpc.visibility<shared>
  // OPEN: tfm.mul {{.*}}mpc.visibility = #mpc.visibility<client>
  // OPEN: tfm.mul {{.*}}mpc.visibility = #mpc.visibility<client>
  %1 = tfm.mul %0, %w : (tensor<1x4x8xf32>, tensor<1x8xf32>) -> tensor<1x4x8xf32>
  // Once shared, always shared.
  // CHECK: tfm.gelu {{.*}}mpc.visibility = #mpc.visibility<shared>
  %2 = tfm.gelu %1 : tensor<1x4x8xf32>
  return %2 : tensor<1x4x8xf32>
}

// -----

// Argument roles come from `mpc.visibility`; computations on owner data alone
// (e.g. a weight transform) stay with the owner, public-only work is public.
// CHECK-LABEL: func.func @roles
func.func @roles(%ids: tensor<1x4xi64> {mpc.visibility = #mpc.visibility<client>},
                 %table: tensor<16x8xf32> {mpc.visibility = #mpc.visibility<owner>},
                 %bias: tensor<8xf32> {mpc.visibility = #mpc.visibility<public>})
    -> (tensor<8x16xf32>, tensor<8xf32>, tensor<1x4x8xf32>) {
  // CHECK: tfm.transpose {{.*}}mpc.visibility = #mpc.visibility<owner>
  %0 = tfm.transpose %table {permutation = array<i64: 1, 0>} : tensor<16x8xf32> -> tensor<8x16xf32>
  // CHECK: tfm.neg {{.*}}mpc.visibility = #mpc.visibility<public>
  %1 = tfm.neg %bias : tensor<8xf32>
  // CHECK: tfm.embedding {{.*}}mpc.visibility = #mpc.visibility<shared>
  %2 = tfm.embedding %table, %ids : (tensor<16x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  return %0, %1, %2 : tensor<8x16xf32>, tensor<8xf32>, tensor<1x4x8xf32>
}

// -----

// An explicit attribute on a constant is its role; an unmarked float
// constant, whatever its shape (even a scalar), is the owner's: secret by
// default, never public by accident. Unmarked integer structure is public.
// CHECK-LABEL: func.func @explicit_constant
func.func @explicit_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<public>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.0, 2.0]> : tensor<2xf32>
  // CHECK: tfm.add {{.*}}mpc.visibility = #mpc.visibility<client>
  %0 = tfm.add %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<owner>
  %s = arith.constant dense<2.0> : tensor<f32>
  // CHECK: tfm.mul {{.*}}mpc.visibility = #mpc.visibility<shared>
  %1 = tfm.mul %0, %s : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  // CHECK: arith.constant {{.*}}mpc.visibility = #mpc.visibility<public>
  %i = arith.constant dense<[1, 0]> : tensor<2xi64>
  // CHECK: tfm.gather {{.*}}mpc.visibility = #mpc.visibility<shared>
  %2 = tfm.gather %1, %i {axis = 0 : i64} : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %2 : tensor<2xf32>
}
