// RUN: mpc-opt %s --split-input-file --tfm-fuse --canonicalize | FileCheck %s

// The forms of LayerNorm, RMSNorm, GeLU and softmax that models write, in
// any operand order: tfm-fuse regroups product trees so that a per-row
// factor applies to the value first, then raises them. Each positive case
// has a negative one next to it.

// torch.onnx export of `w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True)
// + eps)`: the weight multiplied before the normalisation.
// CHECK-LABEL: func.func @rms_norm_weight_first
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[X]] scale %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_weight_first(%x: tensor<1x4x8xf32>, %w: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-6> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %0 = tfm.mul %w, %x : (tensor<8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %1 = tfm.pow %x, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %2 = tfm.reduce_mean %1 {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %3 = tfm.add %2, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %4 = tfm.sqrt %3 : tensor<1x4x1xf32>
  %5 = tfm.div %one, %4 : (tensor<f32>, tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %6 = tfm.mul %0, %5 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  return %6 : tensor<1x4x8xf32>
}

// -----

// 1/sqrt as pow(., -0.5), the square as x * x, the factor on the left and
// the weight inside: r * (x * w).
// CHECK-LABEL: func.func @rms_norm_pow_minus_half
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[X]] scale %[[W]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_pow_minus_half(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %mhalf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfm.add %eps, %1 : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %3 = tfm.pow %2, %mhalf : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %4 = tfm.mul %x, %w : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %5 = tfm.mul %3, %4 : (tensor<2x1xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %5 : tensor<2x8xf32>
}

// -----

// reciprocal(sqrt(.)) with a weight and a public constant factor before the
// normalisation: the constant stays an operand of the scale.
// CHECK-LABEL: func.func @rms_norm_reciprocal_sqrt_scaled
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK: %[[S:.*]] = tfm.mul %[[W]], %{{.*}} : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
// CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[X]] scale %[[S]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_reciprocal_sqrt_scaled(%x: tensor<1x3x8xf32>, %w: tensor<8xf32>) -> tensor<1x3x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-6> : tensor<f32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<3.0> : tensor<f32>
  %0 = tfm.mul %c, %w : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = tfm.mul %0, %x : (tensor<8xf32>, tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  %2 = tfm.pow %x, %two : (tensor<1x3x8xf32>, tensor<f32>) -> tensor<1x3x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: 2>} : tensor<1x3x8xf32> -> tensor<1x3x1xf32>
  %4 = tfm.add %3, %eps : (tensor<1x3x1xf32>, tensor<f32>) -> tensor<1x3x1xf32>
  %5 = tfm.sqrt %4 : tensor<1x3x1xf32>
  %6 = tfm.reciprocal %5 : tensor<1x3x1xf32>
  %7 = tfm.mul %6, %1 : (tensor<1x3x1xf32>, tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  return %7 : tensor<1x3x8xf32>
}

// -----

// (w * x) / pow(mean(x^2) + eps, 0.5).
// CHECK-LABEL: func.func @rms_norm_div_pow_half
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.rms_norm %[[X]] scale %[[W]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_div_pow_half(%x: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.pow %x, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: -1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %2 = tfm.add %1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %3 = tfm.pow %2, %half : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %4 = tfm.mul %w, %x : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = tfm.div %4, %3 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %5 : tensor<4x8xf32>
}

// -----

// Negative: the statistic is of another value (y), so w * x * r is only
// regrouped, not raised.
// CHECK-LABEL: func.func @not_rms_norm_other_value
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[Y:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NOT: tfm.rms_norm
// CHECK: %[[R:.*]] = tfm.div
// CHECK-NEXT: %[[XR:.*]] = tfm.mul %[[X]], %[[R]]
// CHECK-NEXT: %[[Z:.*]] = tfm.mul %[[XR]], %[[W]]
// CHECK-NEXT: return %[[Z]]
func.func @not_rms_norm_other_value(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %w: tensor<8xf32>) -> tensor<4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %0 = tfm.pow %y, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: -1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %2 = tfm.add %1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %3 = tfm.sqrt %2 : tensor<4x1xf32>
  %4 = tfm.div %one, %3 : (tensor<f32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %5 = tfm.mul %w, %x : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %6 = tfm.mul %5, %4 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %6 : tensor<4x8xf32>
}

// -----

// Negative: pow(., -0.25) is not 1/sqrt.
// CHECK-LABEL: func.func @not_rms_norm_wrong_exponent
// CHECK-NOT: tfm.rms_norm
// CHECK: tfm.pow
func.func @not_rms_norm_wrong_exponent(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %e = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.25> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfm.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfm.pow %2, %e : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %4 = tfm.mul %w, %x : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = tfm.mul %4, %3 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  return %5 : tensor<2x8xf32>
}

// -----

// Negative: the square is used elsewhere (it would be computed twice).
// CHECK-LABEL: func.func @not_rms_norm_shared_square
// CHECK-NOT: tfm.rms_norm
func.func @not_rms_norm_shared_square(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %mhalf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfm.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfm.pow %2, %mhalf : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %4 = tfm.mul %w, %x : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = tfm.mul %4, %3 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  return %5, %0 : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Negative: an owner's eps is never baked into an attribute, whatever the
// order of the factors.
// CHECK-LABEL: func.func @not_rms_norm_owner_eps
// CHECK-NOT: tfm.rms_norm
// CHECK-NOT: epsilon
// CHECK: return
func.func @not_rms_norm_owner_eps(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<1.0e-5> : tensor<f32>
  %mhalf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.5> : tensor<f32>
  %0 = tfm.mul %x, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfm.reduce_mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfm.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfm.pow %2, %mhalf : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %4 = tfm.mul %w, %x : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = tfm.mul %4, %3 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  return %5 : tensor<2x8xf32>
}

// -----

// Hand-written LayerNorm with the weight first: w * (x - mu) / sqrt(var +
// eps) + b.
// CHECK-LABEL: func.func @layer_norm_weight_first
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.layer_norm %[[X]] scale %[[G]] bias %[[B]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @layer_norm_weight_first(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %2 = tfm.pow %1, %two : (tensor<1x4x8xf32>, tensor<f32>) -> tensor<1x4x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %4 = tfm.add %3, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %5 = tfm.sqrt %4 : tensor<1x4x1xf32>
  %6 = tfm.mul %g, %1 : (tensor<8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %7 = tfm.div %6, %5 : (tensor<1x4x8xf32>, tensor<1x4x1xf32>) -> tensor<1x4x8xf32>
  %8 = tfm.add %7, %b : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %8 : tensor<1x4x8xf32>
}

// -----

// The variance from a second x - mean(x) (an export without CSE), and
// 1/sqrt as pow(., -0.5).
// CHECK-LABEL: func.func @layer_norm_second_deviation
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[N:.*]] = tfm.layer_norm %[[X]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @layer_norm_second_deviation(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %mhalf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.5> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: -1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %m = tfm.reduce_mean %x {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %e = tfm.sub %x, %m : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %2 = tfm.mul %e, %e : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: -1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %4 = tfm.add %3, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %5 = tfm.pow %4, %mhalf : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %6 = tfm.mul %5, %1 : (tensor<4x1xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %6 : tensor<4x8xf32>
}

// -----

// ONNX's LayerNormalization function body (opset 17, the node tests'
// *_expanded models): variance E[x^2] - E[x]^2, Div by its Sqrt, a [1, D]
// scale and bias, and the Mean and InvStdDev outputs, which keep their own
// computation.
// CHECK-LABEL: func.func @layer_norm_onnx_function
// CHECK-SAME: (%[[X:.*]]: tensor<6x5xf32>, %[[G:.*]]: tensor<1x5xf32>, %[[B:.*]]: tensor<1x5xf32>)
// CHECK-DAG: %[[G1:.*]] = tfm.reshape %[[G]] : tensor<1x5xf32> to tensor<5xf32>
// CHECK-DAG: %[[B1:.*]] = tfm.reshape %[[B]] : tensor<1x5xf32> to tensor<5xf32>
// CHECK-DAG: %[[N:.*]] = tfm.layer_norm %[[X]] scale %[[G1]] bias %[[B1]] {epsilon = 1.000000e-01 : f32}
// CHECK-DAG: %[[M:.*]] = tfm.reduce_mean %[[X]]
// CHECK-DAG: %[[I:.*]] = tfm.reciprocal
// CHECK: return %[[N]], %[[M]], %[[I]]
func.func @layer_norm_onnx_function(%x: tensor<6x5xf32>, %g: tensor<1x5xf32>, %b: tensor<1x5xf32>) -> (tensor<6x5xf32>, tensor<6x1xf32>, tensor<6x1xf32>) {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.1> : tensor<f32>
  %mean = tfm.reduce_mean %x {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sq = tfm.mul %x, %x : (tensor<6x5xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  %msq = tfm.reduce_mean %sq {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sqm = tfm.mul %mean, %mean : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %var = tfm.sub %msq, %sqm : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %ve = tfm.add %var, %eps : (tensor<6x1xf32>, tensor<f32>) -> tensor<6x1xf32>
  %std = tfm.sqrt %ve : tensor<6x1xf32>
  %dev = tfm.sub %x, %mean : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  %n = tfm.div %dev, %std : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  %s = tfm.mul %n, %g : (tensor<6x5xf32>, tensor<1x5xf32>) -> tensor<6x5xf32>
  %y = tfm.add %s, %b : (tensor<6x5xf32>, tensor<1x5xf32>) -> tensor<6x5xf32>
  %inv = tfm.reciprocal %std : tensor<6x1xf32>
  return %y, %mean, %inv : tensor<6x5xf32>, tensor<6x1xf32>, tensor<6x1xf32>
}

// -----

// Negative: E[x^2] - E[y]^2 is not the variance of x.
// CHECK-LABEL: func.func @not_layer_norm_moments_of_another_value
// CHECK-NOT: tfm.layer_norm
func.func @not_layer_norm_moments_of_another_value(%x: tensor<6x5xf32>, %y: tensor<6x5xf32>) -> tensor<6x5xf32> {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.1> : tensor<f32>
  %mean = tfm.reduce_mean %x {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %meany = tfm.reduce_mean %y {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sq = tfm.mul %x, %x : (tensor<6x5xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  %msq = tfm.reduce_mean %sq {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sqm = tfm.mul %meany, %meany : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %var = tfm.sub %msq, %sqm : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %ve = tfm.add %var, %eps : (tensor<6x1xf32>, tensor<f32>) -> tensor<6x1xf32>
  %std = tfm.sqrt %ve : tensor<6x1xf32>
  %dev = tfm.sub %x, %mean : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  %n = tfm.div %dev, %std : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  return %n : tensor<6x5xf32>
}

// -----

// Negative: the deviation is used elsewhere (it would be computed twice).
// CHECK-LABEL: func.func @not_layer_norm_shared_deviation
// CHECK-NOT: tfm.layer_norm
func.func @not_layer_norm_shared_deviation(%x: tensor<6x5xf32>) -> (tensor<6x5xf32>, tensor<6x5xf32>) {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.1> : tensor<f32>
  %mean = tfm.reduce_mean %x {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sq = tfm.mul %x, %x : (tensor<6x5xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  %msq = tfm.reduce_mean %sq {axes = array<i64: 1>} : tensor<6x5xf32> -> tensor<6x1xf32>
  %sqm = tfm.mul %mean, %mean : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %var = tfm.sub %msq, %sqm : (tensor<6x1xf32>, tensor<6x1xf32>) -> tensor<6x1xf32>
  %ve = tfm.add %var, %eps : (tensor<6x1xf32>, tensor<f32>) -> tensor<6x1xf32>
  %std = tfm.sqrt %ve : tensor<6x1xf32>
  %dev = tfm.sub %x, %mean : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  %n = tfm.div %dev, %std : (tensor<6x5xf32>, tensor<6x1xf32>) -> tensor<6x5xf32>
  return %n, %dev : tensor<6x5xf32>, tensor<6x5xf32>
}

// -----

// GeLU (tanh) with the cube as x * pow(x, 2).
// CHECK-LABEL: func.func @gelu_tanh_cube_mixed
// CHECK-NEXT: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>} : tensor<8xf32>
// CHECK-NEXT: return
func.func @gelu_tanh_cube_mixed(%x: tensor<8xf32>) -> tensor<8xf32> {
  %two = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.0> : tensor<f32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.044715> : tensor<f32>
  %k = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.797884583> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.pow %x, %two : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = tfm.mul %x, %0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %2 = tfm.mul %1, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %3 = tfm.add %x, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = tfm.mul %3, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %5 = tfm.tanh %4 : tensor<8xf32>
  %6 = tfm.add %5, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %7 = tfm.mul %half, %x : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %8 = tfm.mul %7, %6 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %8 : tensor<8xf32>
}

// -----

// GeLU (tanh) factored: 0.5 * x * (1 + tanh(sqrt(2/pi) * x * (1 + 0.044715 * x * x))).
// CHECK-LABEL: func.func @gelu_tanh_factored
// CHECK-NEXT: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>} : tensor<2x8xf32>
// CHECK-NEXT: return
func.func @gelu_tanh_factored(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.044715> : tensor<f32>
  %k = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.797884583> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.mul %x, %c : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfm.mul %0, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %2 = tfm.add %one, %1 : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = tfm.mul %x, %k : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %4 = tfm.mul %3, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = tfm.tanh %4 : tensor<2x8xf32>
  %6 = tfm.add %5, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %7 = tfm.mul %x, %6 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %8 = tfm.mul %7, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %8 : tensor<2x8xf32>
}

// -----

// Negative: x^4 is not the cube.
// CHECK-LABEL: func.func @not_gelu_fourth_power
// CHECK-NOT: tfm.gelu
// CHECK: tfm.tanh
func.func @not_gelu_fourth_power(%x: tensor<8xf32>) -> tensor<8xf32> {
  %four = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<4.0> : tensor<f32>
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.044715> : tensor<f32>
  %k = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.797884583> : tensor<f32>
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %half = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %0 = tfm.pow %x, %four : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = tfm.mul %0, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %2 = tfm.add %x, %1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = tfm.mul %2, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %4 = tfm.tanh %3 : tensor<8xf32>
  %5 = tfm.add %4, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %6 = tfm.mul %x, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %7 = tfm.mul %6, %5 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %7 : tensor<8xf32>
}

// -----

// Softmax by hand as e * reciprocal(sum(e)) and (1 / sum(e)) * e.
// CHECK-LABEL: func.func @softmax_reciprocal
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[Y:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: %[[S:.*]] = tfm.softmax %[[X]] {axis = -1 : i64}
// CHECK-NEXT: %[[T:.*]] = tfm.softmax %[[Y]] {axis = -1 : i64}
// CHECK-NEXT: return %[[S]], %[[T]]
func.func @softmax_reciprocal(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %one = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0> : tensor<f32>
  %0 = tfm.reduce_max %x {axes = array<i64: -1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %2 = tfm.exp %1 : tensor<2x4xf32>
  %3 = tfm.reduce_sum %2 {axes = array<i64: 1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %4 = tfm.reciprocal %3 : tensor<2x1xf32>
  %5 = tfm.mul %2, %4 : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %6 = tfm.exp %y : tensor<2x4xf32>
  %7 = tfm.reduce_sum %6 {axes = array<i64: -1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %8 = tfm.div %one, %7 : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %9 = tfm.mul %8, %6 : (tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %5, %9 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Negative: the exponentials are used elsewhere; the sum is of another exp.
// CHECK-LABEL: func.func @not_softmax
// CHECK-NOT: tfm.softmax
func.func @not_softmax(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = tfm.exp %x : tensor<2x4xf32>
  %1 = tfm.reduce_sum %0 {axes = array<i64: -1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %2 = tfm.reciprocal %1 : tensor<2x1xf32>
  %3 = tfm.mul %0, %2 : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %4 = tfm.exp %y : tensor<2x4xf32>
  %5 = tfm.exp %x : tensor<2x4xf32>
  %6 = tfm.reduce_sum %5 {axes = array<i64: -1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %7 = tfm.div %4, %6 : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %3, %0, %7 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
