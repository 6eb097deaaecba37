// RUN: mpc-opt %s --split-input-file --tfm-fuse --canonicalize | FileCheck %s

// torch 1.13's export of nn.GELU(): x * 0.5 * (1 + erf(x / sqrt(2))).
// CHECK-LABEL: func.func @gelu_erf
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[G:.*]] = tfm.gelu %[[X]] : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.41421354> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfm.erf %0 : tensor<2x8xf32>
  %2 = tfm.add %1, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = tfm.mul %x, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfm.mul %3, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// Other association and x * (1/sqrt(2)).
// CHECK-LABEL: func.func @gelu_erf_reassociated
// CHECK-NEXT: tfm.gelu %{{.*}} : tensor<8xf32>
// CHECK-NEXT: return
func.func @gelu_erf_reassociated(%x: tensor<8xf32>) -> tensor<8xf32> {
  %rsqrt2 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.707106769> : tensor<1xf32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.mul %rsqrt2, %x : (tensor<1xf32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = tfm.erf %0 : tensor<8xf32>
  %2 = tfm.add %one, %1 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = tfm.mul %half, %x : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = tfm.mul %3, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %4 : tensor<8xf32>
}

// -----

// A wrong constant is not GeLU.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT: tfm.gelu
// CHECK: tfm.erf
func.func @not_gelu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %sqrt2 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.41421354> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %third = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.33> : tensor<f32>
  %0 = tfm.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = tfm.erf %0 : tensor<8xf32>
  %2 = tfm.add %1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %3 = tfm.mul %x, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = tfm.mul %3, %third : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %4 : tensor<8xf32>
}

// -----

// An intermediate used elsewhere is not absorbed (it would be computed twice).
// CHECK-LABEL: func.func @gelu_shared_intermediate
// CHECK-NOT: tfm.gelu
func.func @gelu_shared_intermediate(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %sqrt2 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.41421354> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = tfm.erf %0 : tensor<8xf32>
  %2 = tfm.add %1, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %3 = tfm.mul %x, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = tfm.mul %3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %4, %2 : tensor<8xf32>, tensor<8xf32>
}

// -----

// torch's gelu(approximate='tanh'): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NEXT: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>} : tensor<4x8xf32>
// CHECK-NEXT: return
func.func @gelu_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %three = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<3.0> : tensor<f32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.044715> : tensor<f32>
  %k = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.797884583> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = tfm.mul %0, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = tfm.add %x, %1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = tfm.mul %2, %k : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = tfm.tanh %3 : tensor<4x8xf32>
  %5 = tfm.add %4, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %6 = tfm.mul %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %7 = tfm.mul %6, %5 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %7 : tensor<4x8xf32>
}

// -----

// The cube as x * x * x.
// CHECK-LABEL: func.func @gelu_tanh_cube_as_products
// CHECK-NEXT: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>}
// CHECK-NEXT: return
func.func @gelu_tanh_cube_as_products(%x: tensor<8xf32>) -> tensor<8xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.044715> : tensor<f32>
  %k = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.797884583> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = tfm.mul %0, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %2 = tfm.mul %c, %1 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = tfm.add %2, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = tfm.mul %k, %3 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %5 = tfm.tanh %4 : tensor<8xf32>
  %6 = tfm.add %one, %5 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %7 = tfm.mul %6, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %8 = tfm.mul %7, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %8 : tensor<8xf32>
}

// -----

// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[S:.*]] = tfm.silu %[[X]] : tensor<2x8xf32>
// CHECK-NEXT: return %[[S]]
func.func @silu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = tfm.sigmoid %x : tensor<2x8xf32>
  %1 = tfm.mul %0, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// sigmoid of another value is a gate, not SiLU.
// CHECK-LABEL: func.func @not_silu
// CHECK-NOT: tfm.silu
func.func @not_silu(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xf32> {
  %0 = tfm.sigmoid %y : tensor<8xf32>
  %1 = tfm.mul %x, %0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// torch's LayerNorm at opsets < 17 (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add).
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.layer_norm %[[X]] scale %[[G]] bias %[[B]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @layer_norm(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %2 = tfm.pow %1, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %4 = tfm.add %3, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %5 = tfm.sqrt %4 : tensor<1x4x1xf32>
  %6 = tfm.div %1, %5 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %7 = tfm.mul %6, %g : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %8 = tfm.add %7, %b : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %8 : tensor<1x4x8xf32>
}

// -----

// Reciprocal form, no affine parameters, two trailing axes.
// CHECK-LABEL: func.func @layer_norm_reciprocal
// CHECK-NEXT: tfm.layer_norm %{{.*}} {axis = -2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
// CHECK-NEXT: return
func.func @layer_norm_reciprocal(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-6> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: 1, 2>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %2 = tfm.mul %1, %1 : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: -2, -1>} : tensor<2x4x8xf32> -> tensor<2x1x1xf32>
  %4 = tfm.add %eps, %3 : (tensor<f32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %5 = tfm.sqrt %4 : tensor<2x1x1xf32>
  %6 = tfm.reciprocal %5 : tensor<2x1x1xf32>
  %7 = tfm.mul %1, %6 : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  return %7 : tensor<2x4x8xf32>
}

// -----

// Mean and variance over different axes is not a LayerNorm (but the tail is
// an RMSNorm of x - mean(x, axis 0)).
// CHECK-LABEL: func.func @not_layer_norm
// CHECK-NOT: tfm.layer_norm
// CHECK: %[[D:.*]] = tfm.sub
// CHECK-NEXT: tfm.rms_norm %[[D]]
func.func @not_layer_norm(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: 0>} : tensor<4x8xf32> -> tensor<1x8xf32>
  %1 = tfm.sub %x, %0 : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %2 = tfm.pow %1, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: -1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %4 = tfm.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = tfm.sqrt %4 : tensor<4x1xf32>
  %6 = tfm.div %1, %5 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %6 : tensor<4x8xf32>
}

// -----

// LLaMA's RMSNorm as torch exports it: weight * (x * (1 / sqrt(mean(x^2) + eps))).
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[X]] scale %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm(%x: tensor<1x4x8xf32>, %w: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-6> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %0 = tfm.pow %x, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %2 = tfm.add %1, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %3 = tfm.sqrt %2 : tensor<1x4x1xf32>
  %4 = tfm.div %one, %3 : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %5 = tfm.mul %x, %4 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %6 = tfm.mul %w, %5 : (tensor<8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %6 : tensor<1x4x8xf32>
}

// -----

// x / sqrt(mean(x*x) + eps), no scale.
// CHECK-LABEL: func.func @rms_norm_div
// CHECK-NEXT: tfm.rms_norm %{{.*}} {epsilon = 9.99999974E-6 : f32} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: return
func.func @rms_norm_div(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %2 = tfm.add %1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %3 = tfm.sqrt %2 : tensor<4x1xf32>
  %4 = tfm.div %x, %3 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// exp(x - max(x)) / sum(exp(x - max(x))).
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x4x4xf32>)
// CHECK-NEXT: %[[S:.*]] = tfm.softmax %[[X]] {axis = -1 : i64} : tensor<1x2x4x4xf32>
// CHECK-NEXT: return %[[S]]
func.func @softmax(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %0 = tfm.reduce_max %x {axes = array<i64: 3>} : tensor<1x2x4x4xf32> -> tensor<1x2x4x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<1x2x4x4xf32>, tensor<1x2x4x1xf32>) -> tensor<1x2x4x4xf32>
  %2 = tfm.exp %1 : tensor<1x2x4x4xf32>
  %3 = tfm.reduce_sum %2 {axes = array<i64: -1>} : tensor<1x2x4x4xf32> -> tensor<1x2x4x1xf32>
  %4 = tfm.div %2, %3 : (tensor<1x2x4x4xf32>, tensor<1x2x4x1xf32>) -> tensor<1x2x4x4xf32>
  return %4 : tensor<1x2x4x4xf32>
}

// -----

// Without the max subtraction, along another axis.
// CHECK-LABEL: func.func @softmax_axis0
// CHECK-NEXT: tfm.softmax %{{.*}} {axis = -2 : i64} : tensor<4x3xf32>
// CHECK-NEXT: return
func.func @softmax_axis0(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = tfm.exp %x : tensor<4x3xf32>
  %1 = tfm.reduce_sum %0 {axes = array<i64: 0>} : tensor<4x3xf32> -> tensor<1x3xf32>
  %2 = tfm.div %0, %1 : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  return %2 : tensor<4x3xf32>
}

// -----

// GPT-2 style: where(tril, scores, -inf), the mask broadcast over heads.
// CHECK-LABEL: func.func @causal_where
// CHECK-SAME: (%[[S:.*]]: tensor<1x2x3x3xf32>)
// CHECK-NEXT: %[[M:.*]] = tfm.causal_mask %[[S]] : tensor<1x2x3x3xf32>
// CHECK-NEXT: return %[[M]]
func.func @causal_where(%s: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %tril = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[[[true, false, false], [true, true, false], [true, true, true]]]]> : tensor<1x1x3x3xi1>
  %ninf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0xFF800000> : tensor<f32>
  %0 = tfm.where %tril, %s, %ninf : (tensor<1x1x3x3xi1>, tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// masked_fill(triu, -1e9) and an additive mask (LLaMA style).
// CHECK-LABEL: func.func @causal_fill_and_additive
// CHECK-NEXT: tfm.causal_mask
// CHECK-NEXT: tfm.causal_mask
// CHECK-NEXT: return
func.func @causal_fill_and_additive(%s: tensor<3x3xf32>, %t: tensor<2x3x3xf32>) -> (tensor<3x3xf32>, tensor<2x3x3xf32>) {
  %triu = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[false, true, true], [false, false, true], [false, false, false]]> : tensor<3x3xi1>
  %big = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-1.0e9> : tensor<f32>
  %0 = tfm.where %triu, %big, %s : (tensor<3x3xi1>, tensor<f32>, tensor<3x3xf32>) -> tensor<3x3xf32>
  %add = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[0.0, -3.4e38, -3.4e38], [0.0, 0.0, -3.4e38], [0.0, 0.0, 0.0]]> : tensor<3x3xf32>
  %1 = tfm.add %t, %add : (tensor<2x3x3xf32>, tensor<3x3xf32>) -> tensor<2x3x3xf32>
  return %0, %1 : tensor<3x3xf32>, tensor<2x3x3xf32>
}

// -----

// A causal mask expanded to the batch ([B, 1, T, T], transformers'
// `_make_causal_mask(...).expand(bsz, 1, T, T)`), and the 1x1 mask of a
// single-token input (every key kept).
// CHECK-LABEL: func.func @causal_batch_and_single_token
// CHECK-SAME: (%[[S:.*]]: tensor<2x2x2x2xf32>, %[[T:.*]]: tensor<2x2x1x1xf32>)
// CHECK-NEXT: %[[M:.*]] = tfm.causal_mask %[[S]] : tensor<2x2x2x2xf32>
// CHECK-NEXT: %[[N:.*]] = tfm.causal_mask %[[T]] : tensor<2x2x1x1xf32>
// CHECK-NEXT: return %[[M]], %[[N]]
func.func @causal_batch_and_single_token(%s: tensor<2x2x2x2xf32>, %t: tensor<2x2x1x1xf32>) -> (tensor<2x2x2x2xf32>, tensor<2x2x1x1xf32>) {
  %add = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[[[0.0, -3.4e38], [0.0, 0.0]]], [[[0.0, -3.4e38], [0.0, 0.0]]]]> : tensor<2x1x2x2xf32>
  %0 = tfm.add %s, %add : (tensor<2x2x2x2xf32>, tensor<2x1x2x2xf32>) -> tensor<2x2x2x2xf32>
  %keep = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<true> : tensor<1x1x1x1xi1>
  %fill = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-3.4e38> : tensor<f32>
  %1 = tfm.where %keep, %t, %fill : (tensor<1x1x1x1xi1>, tensor<2x2x1x1xf32>, tensor<f32>) -> tensor<2x2x1x1xf32>
  return %0, %1 : tensor<2x2x2x2xf32>, tensor<2x2x1x1xf32>
}

// -----

// A batch-expanded mask whose second row is not causal (a padded prompt)
// stays an add.
// CHECK-LABEL: func.func @not_causal_in_one_batch_row
// CHECK-NOT: tfm.causal_mask
// CHECK: tfm.add
func.func @not_causal_in_one_batch_row(%s: tensor<2x2x2x2xf32>) -> tensor<2x2x2x2xf32> {
  %add = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[[[0.0, -3.4e38], [0.0, 0.0]]], [[[0.0, -3.4e38], [-3.4e38, 0.0]]]]> : tensor<2x1x2x2xf32>
  %0 = tfm.add %s, %add : (tensor<2x2x2x2xf32>, tensor<2x1x2x2xf32>) -> tensor<2x2x2x2xf32>
  return %0 : tensor<2x2x2x2xf32>
}

// -----

// A mask that is not causal stays a where.
// CHECK-LABEL: func.func @not_causal
// CHECK-NOT: tfm.causal_mask
// CHECK: tfm.where
func.func @not_causal(%s: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %m = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[true, true, false], [true, true, false], [true, true, true]]> : tensor<3x3xi1>
  %ninf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0xFF800000> : tensor<f32>
  %0 = tfm.where %m, %s, %ninf : (tensor<3x3xi1>, tensor<3x3xf32>, tensor<f32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// matmul by a rank-2 weight plus a bias is a linear layer; an attention
// matmul (rank-4 right operand) stays a matmul.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<16xf32>
// CHECK-NEXT: %[[L:.*]] = tfm.linear %[[X]], %[[W]], %[[B]] : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: %[[A:.*]] = tfm.matmul
// CHECK-NEXT: return %[[L]], %[[A]]
func.func @linear(%x: tensor<1x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>,
                  %q: tensor<1x2x4x8xf32>, %k: tensor<1x2x8x4xf32>) -> (tensor<1x4x16xf32>, tensor<1x2x4x4xf32>) {
  %0 = tfm.matmul %x, %w : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  %1 = tfm.add %b, %0 : (tensor<16xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  %2 = tfm.matmul %q, %k : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  return %1, %2 : tensor<1x4x16xf32>, tensor<1x2x4x4xf32>
}

// -----

// A bias or scale computed after the op that absorbs it (ONNX Gemm with
// beta: the importer emits matmul, then beta * C, then the add; the ONNX
// backend node test test_gemm_beta): the absorbing op moves down to the add
// so that its new operand dominates it.
// CHECK-LABEL: func.func @bias_computed_later
// CHECK-SAME: (%[[X:.*]]: tensor<2x7xf32>, %[[W:.*]]: tensor<7x4xf32>, %[[C:.*]]: tensor<1x4xf32>, %[[Y:.*]]: tensor<2x4xf32>, %[[G:.*]]: tensor<4xf32>)
// CHECK: %[[CB:.*]] = tfm.mul %[[C]]
// CHECK: %[[B:.*]] = tfm.reshape %[[CB]]
// CHECK-NEXT: %[[L:.*]] = tfm.linear %[[X]], %[[W]], %[[B]]
// CHECK: %[[S:.*]] = tfm.mul %[[G]]
// CHECK-NEXT: %[[N:.*]] = tfm.layer_norm %[[Y]] scale %[[S]] {
// CHECK-NEXT: return %[[L]], %[[N]]
func.func @bias_computed_later(%x: tensor<2x7xf32>, %w: tensor<7x4xf32>, %c: tensor<1x4xf32>,
                               %y: tensor<2x4xf32>, %g: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = tfm.matmul %x, %w : (tensor<2x7xf32>, tensor<7x4xf32>) -> tensor<2x4xf32>
  %beta = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<5.000000e-01> : tensor<f32>
  %1 = tfm.mul %c, %beta : (tensor<1x4xf32>, tensor<f32>) -> tensor<1x4xf32>
  %2 = tfm.add %0, %1 : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  %3 = tfm.layer_norm %y {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = tfm.mul %g, %beta : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %5 = tfm.mul %3, %4 : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %2, %5 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// An eps or a scale that is the model owner's (an initializer) is never
// baked into an attribute or a folded factor: its value would become public.
// CHECK-LABEL: func.func @owner_scalars_stay_operands
// CHECK-NOT: tfm.rms_norm
// CHECK-NOT: epsilon
// CHECK: tfm.sqrt
// CHECK: return
func.func @owner_scalars_stay_operands(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %2 = tfm.add %1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %3 = tfm.sqrt %2 : tensor<4x1xf32>
  %4 = tfm.div %x, %3 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}
