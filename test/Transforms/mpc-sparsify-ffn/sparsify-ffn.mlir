// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors --mpc-sparsify-ffn | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors --mpc-sparsify-ffn="leakage=per-inference" | FileCheck %s --check-prefix=FRESH
// RUN: not mpc-opt %s --mpc-sparsify-ffn="leakage=never" 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: mpc-sparsify-ffn: leakage 'never' is not per-deployment or per-inference

// A ReLU FFN: a sparse-output product, ReLU on the selected blocks, a
// sparse-input product, all on the predicted mask; nothing dense is left.
// CHECK-LABEL: func.func @relu_ffn
// CHECK: %[[M:.*]] = tfm.block_mask
// CHECK: %[[H:.*]] = tfm.block_linear %arg0, %{{.*}} bias %{{.*}} mask %[[M]] {leakage = "per-deployment", sparse_input = false} : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<1x4x4xi1>) -> tensor<1x4x16xf32>
// CHECK: %[[A:.*]] = tfm.block_relu %[[H]], %[[M]]
// CHECK: %[[Y:.*]] = tfm.block_linear %[[A]], %{{.*}} bias %{{.*}} mask %[[M]] {leakage = "per-deployment", sparse_input = true}
// CHECK: return %[[Y]]
// CHECK-NOT: tfm.relu
// FRESH-LABEL: func.func @relu_ffn
// FRESH: tfm.block_linear {{.*}} {leakage = "per-inference", sparse_input = false}
// FRESH: tfm.block_linear {{.*}} {leakage = "per-inference", sparse_input = true}
func.func @relu_ffn(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %b1 = arith.constant dense<0.0> : tensor<16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %b2 = arith.constant dense<0.0> : tensor<8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  %0 = tfm.linear %x, %w1, %b1 : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %1 = tfm.relu %0 : tensor<1x4x16xf32>
  %2 = tfm.linear %1, %w2, %b2 : (tensor<1x4x16xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %2 : tensor<1x4x8xf32>
}

// -----

// Gated (SwiGLU): both products are sparse-output; SiLU has no
// selected-blocks-only form and runs densely (SiLU(0) = 0 keeps the
// unselected blocks 0); the down projection reads the selected blocks.
// A GeLU FFN: the dense activation, then the selection.
// CHECK-LABEL: func.func @gated_and_gelu
// CHECK: %[[M:.*]] = tfm.block_mask
// CHECK: %[[G:.*]] = tfm.block_linear %arg0, %{{.*}} mask %[[M]] {{.*}}sparse_input = false
// CHECK: %[[S:.*]] = tfm.silu %[[G]]
// CHECK: %[[U:.*]] = tfm.block_linear %arg0, %{{.*}} mask %[[M]] {{.*}}sparse_input = false
// CHECK: %[[P:.*]] = tfm.mul %[[S]], %[[U]]
// CHECK: %[[Y:.*]] = tfm.block_linear %[[P]], %{{.*}} mask %[[M]] {{.*}}sparse_input = true
// CHECK: %[[M2:.*]] = tfm.block_mask
// CHECK: %[[H2:.*]] = tfm.block_linear %[[Y]], {{.*}}sparse_input = false
// CHECK: %[[A2:.*]] = tfm.gelu %[[H2]]
// CHECK: %[[SEL:.*]] = tfm.block_select %[[A2]], %[[M2]]
// CHECK: tfm.block_linear %[[SEL]], {{.*}}sparse_input = true
func.func @gated_and_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %wg = arith.constant dense<0.1> : tensor<8x16xf32>
  %wu = arith.constant dense<0.2> : tensor<8x16xf32>
  %wd = arith.constant dense<0.1> : tensor<16x8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  tfm.ffn_predictor %u, %v, %c, %t {ffn = 1 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>
  %g = tfm.linear %x, %wg : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %s = tfm.silu %g : tensor<2x16xf32>
  %up = tfm.linear %x, %wu : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %h = tfm.mul %s, %up : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %y = tfm.linear %h, %wd : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  %h2 = tfm.linear %y, %wu : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %a2 = tfm.gelu %h2 : tensor<2x16xf32>
  %y2 = tfm.linear %a2, %wd : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %y2 : tensor<2x8xf32>
}

// -----

// A selection whose activations feed something else too is not an FFN the
// pass can rewrite: it stays in the dense predicted form.
// CHECK-LABEL: func.func @shared_activation
// CHECK: tfm.relu
// CHECK: tfm.block_select
// CHECK-NOT: tfm.block_linear
func.func @shared_activation(%x: tensor<2x8xf32>, %m: tensor<2x4xi1>) -> (tensor<2x8xf32>, tensor<2x16xf32>) {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %0 = tfm.linear %x, %w1 : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %1 = tfm.relu %0 : tensor<2x16xf32>
  %2 = tfm.block_select %1, %m : (tensor<2x16xf32>, tensor<2x4xi1>) -> tensor<2x16xf32>
  %3 = tfm.linear %2, %w2 : (tensor<2x16xf32>, tensor<16x8xf32>) -> tensor<2x8xf32>
  return %3, %1 : tensor<2x8xf32>, tensor<2x16xf32>
}
