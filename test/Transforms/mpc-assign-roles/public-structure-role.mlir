// A role by name wins over the structure recognition: `role=NAME=owner`
// keeps one table private, `role=NAME=public` is the user's declaration
// (its provenance says so), and the other tables are still recognised.
// RUN: mpc-opt %s --mpc-assign-roles="role=mask_a=owner,mask_b=public" | FileCheck %s

// CHECK: module attributes {mpc.public_structure = {mask_c = "[4x4] 0/1 causal (lower-triangular) mask
// CHECK-NOT: mask_a =
// CHECK-LABEL: func.func @masks
// CHECK: arith.constant {mpc.sources = {mask_a = "owner"}, mpc.visibility = #mpc.visibility<owner>}
// CHECK: arith.constant {mpc.sources = {mask_b = "--role"}, mpc.visibility = #mpc.visibility<public>}
// CHECK: arith.constant {mpc.sources = {mask_c = "--public-structure"}, mpc.visibility = #mpc.visibility<public>}
func.func @masks(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %a = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32> loc("mask_a")
  %b = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32> loc("mask_b")
  %c = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32> loc("mask_c")
  %0 = tfm.mul %x, %a : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = tfm.mul %0, %b : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = tfm.mul %1, %c : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}
