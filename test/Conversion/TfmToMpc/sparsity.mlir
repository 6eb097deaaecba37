// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// A block-sparse ReLU FFN (16 neurons, 4 blocks of 4) with the model
// owner's weights. At deployment: one row per block [W1 block (4 x 8) |
// b1 block (4) | W2 block (4 x 8) | the predictor's column (2) | its bias
// (1)] at the weights' precision (f + 8 = 24; biases raised exactly),
// shuffled obliviously. Online: the predictor on the permuted columns
// gives the permuted secret mask (its scores compared before their
// truncation, at frac 16 + 24), opened to P0, P1 and the dealer with its
// reason; then the products and the ReLU on the live blocks only.
// CHECK-LABEL: func.func @relu_ffn
func.func @relu_ffn(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<8x16xf32>
  %b1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<16xf32>
  %w2 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<16x8xf32>
  %b2 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.25> : tensor<8xf32>
  %u = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<8x2xf32>
  %v = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<2x4xf32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<4xf32>
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<f32>
  %y = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<8x8xf32>
  // The FFN's input is secret-shared (the client's input meets a weight).
  %in = tfm.linear %x, %y : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %0 = tfm.linear %in, %u : (tensor<1x4x8xf32>, tensor<8x2xf32>) -> tensor<1x4x2xf32>
  %1 = tfm.linear %0, %v, %c : (tensor<1x4x2xf32>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
  %m = tfm.block_mask %1, %t {group = 1 : i64} : (tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xi1>
  %h = tfm.block_linear %in, %w1 bias %b1 mask %m {leakage = "per-deployment", sparse_input = false} : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<1x4x4xi1>) -> tensor<1x4x16xf32>
  %a = tfm.block_relu %h, %m : (tensor<1x4x16xf32>, tensor<1x4x4xi1>) -> tensor<1x4x16xf32>
  %o = tfm.block_linear %a, %w2 bias %b2 mask %m {leakage = "per-deployment", sparse_input = true} : (tensor<1x4x16xf32>, tensor<16x8xf32>, tensor<8xf32>, tensor<1x4x4xi1>) -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// Merged blocks (group 2): a block is live when either part is, the sum of
// the two bits compared with 1. The dense predicted form multiplies by the
// widened mask (one Beaver product). A fresh permutation per inference.
// CHECK-LABEL: func.func @grouped
// CHECK: %[[B:.*]] = mpc.drelu %{{.*}} -> !mpc.tensor<2x4, shared, frac = 0>
// CHECK: %[[R:.*]] = mpc.reshape %[[B]] : !mpc.tensor<2x4, shared, frac = 0> -> !mpc.tensor<2x2x2, shared, frac = 0>
// CHECK: mpc.reduce_sum %[[R]]
// CHECK: mpc.drelu %{{.*}} -> !mpc.tensor<2x2, shared, frac = 0>
// CHECK: mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<2x16, shared, frac = 16>, !mpc.tensor<2x16, shared, frac = 0>) -> !mpc.tensor<2x16, shared, frac = 16>
// CHECK: mpc.shuffle %{{.*}} {per_inference = true}
func.func @grouped(%x: tensor<2x8xf32> {mpc.visibility = #mpc.visibility<shared>}) -> (tensor<2x16xf32>, tensor<2x8xf32>) {
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<16x8xf32>
  %u = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<8x4xf32>
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<f32>
  %s = tfm.linear %x, %u : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %m = tfm.block_mask %s, %t {group = 2 : i64} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x2xi1>
  %h = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %sel = tfm.block_select %h, %m : (tensor<2x16xf32>, tensor<2x2xi1>) -> tensor<2x16xf32>
  %h2 = tfm.block_linear %x, %w1 mask %m {leakage = "per-inference", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<2x2xi1>) -> tensor<2x16xf32>
  %a = tfm.block_relu %h2, %m : (tensor<2x16xf32>, tensor<2x2xi1>) -> tensor<2x16xf32>
  %o = tfm.block_linear %a, %w2 mask %m {leakage = "per-inference", sparse_input = true} : (tensor<2x16xf32>, tensor<16x8xf32>, tensor<2x2xi1>) -> tensor<2x8xf32>
  return %sel, %o : tensor<2x16xf32>, tensor<2x8xf32>
}

// -----

// With count padding (bucket 2) the mask is padded in the original order,
// so the rows carry e_j instead of the predictor: the shuffled identity is
// a shared permutation matrix P, the padded mask times P^T (a product with
// a deployment constant) is opened, then made 0/1 again (exact).
// CHECK-LABEL: func.func @padded
// CHECK: mpc.concat {{.*}}, %{{.*}} {axis = 1 : i64} : ({{.*}}!mpc.tensor<4x4, public, frac = 24>) -> !mpc.tensor<4x72, shared, frac = 24>
// CHECK: %[[P:.*]] = mpc.slice %{{.*}} {offsets = array<i64: 0, 68>, strides = array<i64: 1, 1>} : !mpc.tensor<4x72, shared, frac = 24> -> !mpc.tensor<4x4, shared, frac = 24>
// CHECK: %[[PT:.*]] = mpc.transpose %[[P]]
// CHECK: %[[MP:.*]] = mpc.matmul %{{.*}}, %[[PT]] : (!mpc.tensor<2x4, shared, frac = 0>, !mpc.tensor<4x4, shared, frac = 24>) -> !mpc.tensor<2x4, shared, frac = 24>
// CHECK: %[[O:.*]] = mpc.reveal %[[MP]] {reason = "{{.*}}reveals the number of active blocks per token padded up to a multiple of 2 and{{.*}}", to = #mpc.reveal_target<all_and_dealer>}
// CHECK: mpc.trunc %[[O]] {bits = 24 : i64} : !mpc.tensor<2x4, public, frac = 24> -> !mpc.tensor<2x4, public, frac = 0>
func.func @padded(%x: tensor<2x8xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<2x8xf32> {
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<8x16xf32>
  %b1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<16xf32>
  %w2 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<16x8xf32>
  %u = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<8x4xf32>
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<f32>
  %s = tfm.linear %x, %u : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %m = tfm.block_mask %s, %t {group = 1 : i64, bucket = 2 : i64} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xi1>
  %h = tfm.block_linear %x, %w1 bias %b1 mask %m {leakage = "per-deployment", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  %a = tfm.block_relu %h, %m : (tensor<2x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  %o = tfm.block_linear %a, %w2 mask %m {leakage = "per-deployment", sparse_input = true} : (tensor<2x16xf32>, tensor<16x8xf32>, tensor<2x4xi1>) -> tensor<2x8xf32>
  return %o : tensor<2x8xf32>
}
