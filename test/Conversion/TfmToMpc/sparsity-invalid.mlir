// RUN: mpc-opt %s --split-input-file --verify-diagnostics --convert-tfm-to-mpc

// Public weights cannot be permuted obliviously (nothing secret to hide
// them in).
func.func @public_weights(%x: tensor<2x8xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<2x8xf32> {
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<16x8xf32>
  %u = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<8x4xf32>
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<f32>
  %s = tfm.linear %x, %u : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %m = tfm.block_mask %s, %t {group = 1 : i64} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xi1>
  // expected-error @+1 {{needs the model owner's weight: a public weight cannot be permuted obliviously here}}
  %h = tfm.block_linear %x, %w1 mask %m {leakage = "per-deployment", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  %a = tfm.block_relu %h, %m : (tensor<2x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  %o = tfm.block_linear %a, %w2 mask %m {leakage = "per-deployment", sparse_input = true} : (tensor<2x16xf32>, tensor<16x8xf32>, tensor<2x4xi1>) -> tensor<2x8xf32>
  return %o : tensor<2x8xf32>
}

// -----

// A block op whose mask has no complete FFN.
func.func @incomplete(%x: tensor<2x8xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<2x16xf32> {
  %w1 = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.1> : tensor<8x16xf32>
  %u = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<8x4xf32>
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<f32>
  %s = tfm.linear %x, %u : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %m = tfm.block_mask %s, %t {group = 1 : i64} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xi1>
  // expected-error @+1 {{is not part of one block-sparse FFN: its mask must feed one or two sparse-output block_linear ops and one sparse-input one (run mpc-sparsify-ffn)}}
  %h = tfm.block_linear %x, %w1 mask %m {leakage = "per-deployment", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  return %h : tensor<2x16xf32>
}

// -----

// The tfm op verifiers.
func.func @verifiers(%x: tensor<2x8xf32>, %m: tensor<2x3xi1>, %s: tensor<2x4xf32>, %t: tensor<f32>) {
  %w = arith.constant dense<0.1> : tensor<8x16xf32>
  // expected-error @+1 {{mask of shape [2, 3] does not split the last axis of [2, 16] into equal blocks}}
  %0 = tfm.block_linear %x, %w mask %m {leakage = "per-deployment", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<2x3xi1>) -> tensor<2x16xf32>
  return
}

// -----

func.func @leakage(%x: tensor<2x8xf32>, %m: tensor<2x4xi1>) {
  %w = arith.constant dense<0.1> : tensor<8x16xf32>
  // expected-error @+1 {{leakage 'sometimes' is not per-deployment or per-inference}}
  %0 = tfm.block_linear %x, %w mask %m {leakage = "sometimes", sparse_input = false} : (tensor<2x8xf32>, tensor<8x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  return
}

// -----

func.func @group(%s: tensor<2x6xf32>, %t: tensor<f32>) {
  // expected-error @+1 {{group 4 does not divide the number of scores}}
  %0 = tfm.block_mask %s, %t {group = 4 : i64} : (tensor<2x6xf32>, tensor<f32>) -> tensor<2x1xi1>
  return
}

// -----

func.func @predictor(%u: tensor<8x2xf32>, %v: tensor<3x4xf32>, %c: tensor<4xf32>, %t: tensor<f32>) {
  // expected-error @+1 {{u and v must be [d, r] and [r, blocks]}}
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<3x4xf32>, tensor<4xf32>, tensor<f32>
  return
}
