// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-insert-predictors
// RUN: not mpc-opt %s --split-input-file --mpc-insert-predictors="recall=0.99" 2>&1 | FileCheck %s --check-prefix=RECALL
// RUN: not mpc-opt %s --split-input-file --mpc-insert-predictors="block=6" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not mpc-opt %s --mpc-insert-predictors="threshold=high" 2>&1 | FileCheck %s --check-prefix=THRESHOLD

// RECALL: has no recall table (umbra.predictor.0.recall_table), so recall=0.99 cannot be met
// BLOCK: block 6 must be a multiple of the predictor's block (4) dividing the 16 neurons of FFN 0
// THRESHOLD: mpc-insert-predictors: threshold 'high' is not a number

// An FFN but no predictor: sparsity needs the model's predictors.
// expected-error @+1 {{the model has 1 FFNs but no activation predictors (initializers umbra.predictor.<k>.*; train them with python3 -m umbra_models.predictor)}}
func.func @no_predictor(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.linear %1, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{the model has 1 FFNs but predictors for 2 (numbered 0 to 1)}}
func.func @count(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 1 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.linear %1, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}

// -----

func.func @widths(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %u = arith.constant dense<0.5> : tensor<6x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  // expected-error @+1 {{is for inputs of width 6 but FFN 0's is 8}}
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<6x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.linear %1, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}

// -----

func.func @blocks(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x5xf32>
  %c = arith.constant dense<0.0> : tensor<5xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  // expected-error @+1 {{scores 5 blocks but FFN 0 has 16 neurons, not a multiple}}
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x5xf32>, tensor<5xf32>, tensor<f32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.linear %1, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}

// -----

func.func @fine(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.linear %1, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}
