// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors="block=8" | FileCheck %s --check-prefix=GROUP
// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors="recall=0.9" | FileCheck %s --check-prefix=RECALL
// RUN: mpc-opt %s --split-input-file --mpc-insert-predictors="threshold=-0.5" | FileCheck %s --check-prefix=USER

// A ReLU FFN (16 neurons, 4 predictor blocks of 4) and its predictor: the
// scores x (u v) + bias (u v folded: the owner's, 0.5 * 0.5 * 2), a secret
// block mask per token, the activations restricted to the predicted blocks
// before the down projection.
// CHECK-LABEL: func.func @relu_ffn
// CHECK: %[[H:.*]] = tfm.relu
// CHECK: %[[UV:.*]] = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<5.000000e-01> : tensor<8x4xf32>
// CHECK: %[[S:.*]] = tfm.linear %arg0, %[[UV]], %{{.*}} : (tensor<1x4x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
// CHECK: %[[M:.*]] = tfm.block_mask %[[S]], %{{.*}} {group = 1 : i64} : (tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xi1>
// CHECK: %[[SEL:.*]] = tfm.block_select %[[H]], %[[M]]
// CHECK: tfm.linear %[[SEL]], %{{.*}}, %{{.*}} : (tensor<1x4x16xf32>
// CHECK-NOT: tfm.ffn_predictor
// Merged blocks of 8 neurons: pairs of predictor blocks.
// GROUP-LABEL: func.func @relu_ffn
// GROUP: tfm.block_mask %{{.*}} {group = 2 : i64} : (tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x2xi1>
// The threshold for recall 0.9 from the recall table: 0.25 (the largest
// with recall >= 0.9), an owner's constant derived from the table.
// RECALL-LABEL: func.func @relu_ffn
// RECALL: arith.constant {mpc.sources = {p.recall_table = "owner"}, mpc.visibility = #mpc.visibility<owner>} dense<2.500000e-01> : tensor<f32>
// USER-LABEL: func.func @relu_ffn
// USER: dense<-5.000000e-01> : tensor<f32>
func.func @relu_ffn(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w1 = arith.constant dense<0.1> : tensor<8x16xf32>
  %b1 = arith.constant dense<0.0> : tensor<16xf32>
  %w2 = arith.constant dense<0.1> : tensor<16x8xf32>
  %b2 = arith.constant dense<0.0> : tensor<8xf32>
  %u = arith.constant dense<0.5> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  %r = arith.constant {mpc.sources = {p.recall_table = "owner"}} dense<[[0.8, 0.5], [0.9, 0.25], [0.95, 0.1], [0.99, -1.0]]> : tensor<4x2xf32>
  %0 = tfm.linear %x, %w1, %b1 : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %1 = tfm.relu %0 : tensor<1x4x16xf32>
  %2 = tfm.linear %1, %w2, %b2 : (tensor<1x4x16xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  tfm.ffn_predictor %u, %v, %c, %t, %r {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>, tensor<4x2xf32>
  return %2 : tensor<1x4x8xf32>
}

// -----

// A gated FFN (SwiGLU: silu(x Wg) * (x Wu), then Wd) is found too; the
// k-th FFN in program order gets predictor k.
// CHECK-LABEL: func.func @two_ffns
// CHECK: %[[G:.*]] = tfm.mul
// CHECK: tfm.block_mask
// CHECK: %[[SEL0:.*]] = tfm.block_select %[[G]]
// CHECK: tfm.linear %[[SEL0]]
// CHECK: %[[A:.*]] = tfm.gelu
// CHECK: arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<2.500000e-01> : tensor<8x4xf32>
// CHECK: tfm.block_select %[[A]]
func.func @two_ffns(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %wg = arith.constant dense<0.1> : tensor<8x16xf32>
  %wu = arith.constant dense<0.2> : tensor<8x16xf32>
  %wd = arith.constant dense<0.1> : tensor<16x8xf32>
  %u0 = arith.constant dense<0.5> : tensor<8x2xf32>
  %u1 = arith.constant dense<0.25> : tensor<8x2xf32>
  %v = arith.constant dense<0.5> : tensor<2x4xf32>
  %c = arith.constant dense<0.0> : tensor<4xf32>
  %t = arith.constant dense<0.0> : tensor<f32>
  %r = arith.constant dense<[[0.95, 0.0]]> : tensor<1x2xf32>
  tfm.ffn_predictor %u1, %v, %c, %t, %r {ffn = 1 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>, tensor<1x2xf32>
  tfm.ffn_predictor %u0, %v, %c, %t, %r {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>, tensor<1x2xf32>
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
