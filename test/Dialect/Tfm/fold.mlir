// RUN: mpc-opt %s --split-input-file --canonicalize | FileCheck %s
// The tfm fold hooks evaluate ops whose operands are all constants marked
// public (umbra::ceval, the evaluator the importer uses); the folded
// constant is public. Owner and unmarked constants are never evaluated.

// CHECK-LABEL: func.func @public_chain
// CHECK-NEXT: %[[C:.*]] = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<{{\[\[}}3.000000e+00, 7.000000e+00], [5.000000e+00, 9.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT: return %[[C]]
func.func @public_chain() -> tensor<2x2xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %t = tfm.transpose %w {permutation = array<i64: 1, 0>} : tensor<2x2xf32> -> tensor<2x2xf32>
  %s = tfm.mul %t, %two : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  %a = tfm.add %s, %one : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  return %a : tensor<2x2xf32>
}

// -----

// Data movement: reshape, slice, concat, expand, gather, and a cast to int.
// CHECK-LABEL: func.func @data_movement
// CHECK-DAG: arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[2.000000e+00, 4.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK-DAG: arith.constant {mpc.visibility = #mpc.visibility<public>} dense<{{\[\[}}3.000000e+00, 4.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[4.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1, -2]> : tensor<2xi64>
// CHECK-NOT: tfm.
func.func @data_movement() -> (tensor<4xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xi64>) {
  %x = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %flat = tfm.reshape %x : tensor<2x2xf32> to tensor<4xf32>
  %odd = tfm.slice %flat {offsets = array<i64: 1>, strides = array<i64: 2>} : tensor<4xf32> -> tensor<2xf32>
  %head = tfm.slice %flat {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<4xf32> -> tensor<2xf32>
  %cat = tfm.concat %odd, %head {axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  %row = tfm.slice %x {offsets = array<i64: 1, 0>, strides = array<i64: 1, 1>} : tensor<2x2xf32> -> tensor<1x2xf32>
  %rows = tfm.expand %row : tensor<1x2xf32> to tensor<2x2xf32>
  %idx = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[-1, 0]> : tensor<2xi64>
  %g = tfm.gather %flat, %idx {axis = 0 : i64} : (tensor<4xf32>, tensor<2xi64>) -> tensor<2xf32>
  %f = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.5, -2.5]> : tensor<2xf32>
  %i = tfm.cast %f : tensor<2xf32> to tensor<2xi64>
  return %cat, %rows, %g, %i : tensor<4xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xi64>
}

// -----

// Comparisons and selection.
// CHECK-LABEL: func.func @select
// CHECK-NEXT: %[[C:.*]] = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[0.000000e+00, 5.000000e+00, 5.000000e+00]> : tensor<3xf32>
// CHECK-NEXT: return %[[C]]
func.func @select() -> tensor<3xf32> {
  %a = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %b = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %z = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.0> : tensor<f32>
  %five = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<5.0> : tensor<f32>
  %lt = tfm.less %a, %b : (tensor<3xf32>, tensor<f32>) -> tensor<3xi1>
  %w = tfm.where %lt, %z, %five : (tensor<3xi1>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  return %w : tensor<3xf32>
}

// -----

// The owner's weight is never evaluated (its transpose and its product with
// a public scale stay ops), nor is an unmarked constant.
// CHECK-LABEL: func.func @owner_not_folded
// CHECK: tfm.transpose
// CHECK: tfm.mul
// CHECK: tfm.neg
func.func @owner_not_folded() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %t = tfm.transpose %w {permutation = array<i64: 1, 0>} : tensor<2x2xf32> -> tensor<2x2xf32>
  %s = tfm.mul %w, %two : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
  %u = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %n = tfm.neg %u : tensor<2xf32>
  return %t, %s, %n : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>
}
