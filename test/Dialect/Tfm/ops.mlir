// RUN: mpc-opt %s | FileCheck %s
// Round trip: print, parse again, print the same.
// RUN: mpc-opt %s | mpc-opt | FileCheck %s

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: tfm.neg %{{.*}} : tensor<2x8xf32>
  %0 = tfm.neg %x : tensor<2x8xf32>
  // CHECK: tfm.sqrt
  %1 = tfm.sqrt %0 : tensor<2x8xf32>
  // CHECK: tfm.reciprocal
  %2 = tfm.reciprocal %1 : tensor<2x8xf32>
  // CHECK: tfm.exp
  %3 = tfm.exp %2 : tensor<2x8xf32>
  // CHECK: tfm.erf
  %4 = tfm.erf %3 : tensor<2x8xf32>
  // CHECK: tfm.tanh
  %5 = tfm.tanh %4 : tensor<2x8xf32>
  // CHECK: tfm.sigmoid
  %6 = tfm.sigmoid %5 : tensor<2x8xf32>
  // CHECK: tfm.relu
  %7 = tfm.relu %6 : tensor<2x8xf32>
  // CHECK: tfm.silu
  %8 = tfm.silu %7 : tensor<2x8xf32>
  // CHECK: tfm.gelu %{{.*}} : tensor<2x8xf32>
  %9 = tfm.gelu %8 : tensor<2x8xf32>
  // CHECK: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>} : tensor<2x8xf32>
  %10 = tfm.gelu %9 {approximation = #tfm.gelu_approximation<tanh>} : tensor<2x8xf32>
  return %10 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @binary
func.func @binary(%a: tensor<2x8xf32>, %b: tensor<8xf32>, %s: tensor<f32>) -> tensor<2x8xf32> {
  // CHECK: tfm.add %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %0 = tfm.add %a, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: tfm.sub
  %1 = tfm.sub %0, %s : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  // CHECK: tfm.mul
  %2 = tfm.mul %1, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: tfm.div
  %3 = tfm.div %2, %s : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  // CHECK: tfm.pow
  %4 = tfm.pow %3, %s : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  // CHECK: tfm.max
  %5 = tfm.max %4, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  // CHECK: tfm.equal %{{.*}} -> tensor<2x8xi1>
  %6 = tfm.equal %5, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xi1>
  // CHECK: tfm.less %{{.*}} -> tensor<2x8xi1>
  %7 = tfm.less %5, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xi1>
  // CHECK: tfm.where %{{.*}} : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %8 = tfm.where %7, %5, %s : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  // CHECK: tfm.cast %{{.*}} : tensor<2x8xi1> to tensor<2x8xf32>
  %9 = tfm.cast %6 : tensor<2x8xi1> to tensor<2x8xf32>
  %10 = tfm.add %8, %9 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %10 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @linear_algebra
func.func @linear_algebra(%x: tensor<1x4x8xf32>, %w: tensor<8x16xf32>, %b: tensor<16xf32>,
                          %q: tensor<1x2x4x8xf32>, %k: tensor<1x2x8x4xf32>)
    -> (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x2x4x4xf32>) {
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %0 = tfm.linear %x, %w, %b : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  %1 = tfm.linear %x, %w : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  // CHECK: tfm.matmul
  %2 = tfm.matmul %q, %k : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  return %0, %1, %2 : tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<1x2x4x4xf32>
}

// CHECK-LABEL: func.func @normalisation
func.func @normalisation(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>,
                         %s: tensor<1x2x4x4xf32>) -> (tensor<1x4x8xf32>, tensor<1x2x4x4xf32>) {
  // CHECK: tfm.layer_norm %{{.*}} scale %{{.*}} bias %{{.*}} {epsilon = 9.99999974E-6 : f32}
  %0 = tfm.layer_norm %x scale %g bias %b {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: tfm.layer_norm %{{.*}} bias %{{.*}} {
  %1 = tfm.layer_norm %0 bias %b {epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: tfm.rms_norm %{{.*}} scale %{{.*}} {epsilon
  %2 = tfm.rms_norm %1 scale %g {epsilon = 1.0e-06 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: tfm.rms_norm %{{.*}} {epsilon
  %3 = tfm.rms_norm %2 {epsilon = 1.0e-06 : f32} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  // CHECK: tfm.causal_mask %{{.*}} : tensor<1x2x4x4xf32>
  %4 = tfm.causal_mask %s : tensor<1x2x4x4xf32>
  // CHECK: tfm.causal_mask %{{.*}} {window = 2 : i64} : tensor<1x2x4x4xf32>
  %w = tfm.causal_mask %s {window = 2 : i64} : tensor<1x2x4x4xf32>
  // CHECK: tfm.softmax %{{.*}} {axis = -1 : i64} : tensor<1x2x4x4xf32>
  %5 = tfm.softmax %4 {axis = -1 : i64} : tensor<1x2x4x4xf32>
  return %3, %5 : tensor<1x4x8xf32>, tensor<1x2x4x4xf32>
}

// CHECK-LABEL: func.func @reductions_and_lookup
func.func @reductions_and_lookup(%x: tensor<1x4x8xf32>, %t: tensor<50x8xf32>, %ids: tensor<1x4xi64>)
    -> (tensor<1x4x1xf32>, tensor<1x4xf32>, tensor<8xf32>, tensor<1x4x8xf32>) {
  // CHECK: tfm.reduce_sum %{{.*}} {axes = array<i64: -1>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %0 = tfm.reduce_sum %x {axes = array<i64: -1>, keepdims = true} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  // CHECK: tfm.reduce_mean
  %1 = tfm.reduce_mean %x {axes = array<i64: 2>, keepdims = false} : tensor<1x4x8xf32> -> tensor<1x4xf32>
  // CHECK: tfm.reduce_max
  %2 = tfm.reduce_max %x {axes = array<i64: 0, 1>, keepdims = false} : tensor<1x4x8xf32> -> tensor<8xf32>
  // CHECK: tfm.embedding %{{.*}}, %{{.*}} : (tensor<50x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %3 = tfm.embedding %t, %ids : (tensor<50x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  return %0, %1, %2, %3 : tensor<1x4x1xf32>, tensor<1x4xf32>, tensor<8xf32>, tensor<1x4x8xf32>
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<1x4x12xf32>, %m: tensor<1x1x4x4xi1>, %i: tensor<2xi64>)
    -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xi1>, tensor<1x8x4xf32>, tensor<2x4x12xf32>) {
  // CHECK: tfm.reshape %{{.*}} : tensor<1x4x12xf32> to tensor<1x4x3x4xf32>
  %0 = tfm.reshape %x : tensor<1x4x12xf32> to tensor<1x4x3x4xf32>
  // CHECK: tfm.transpose %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x4x3x4xf32> -> tensor<1x3x4x4xf32>
  %1 = tfm.transpose %0 {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x4x3x4xf32> -> tensor<1x3x4x4xf32>
  // CHECK: tfm.expand %{{.*}} : tensor<1x1x4x4xi1> to tensor<1x3x4x4xi1>
  %2 = tfm.expand %m : tensor<1x1x4x4xi1> to tensor<1x3x4x4xi1>
  // CHECK: tfm.slice %{{.*}} {offsets = array<i64: 0, 0, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x4x12xf32> -> tensor<1x4x4xf32>
  %3 = tfm.slice %x {offsets = array<i64: 0, 0, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x4x12xf32> -> tensor<1x4x4xf32>
  // CHECK: tfm.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x8x4xf32>
  %4 = tfm.concat %3, %3 {axis = 1 : i64} : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x8x4xf32>
  // CHECK: tfm.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<1x4x12xf32>, tensor<2xi64>) -> tensor<2x4x12xf32>
  %5 = tfm.gather %x, %i {axis = 0 : i64} : (tensor<1x4x12xf32>, tensor<2xi64>) -> tensor<2x4x12xf32>
  return %1, %2, %4, %5 : tensor<1x3x4x4xf32>, tensor<1x3x4x4xi1>, tensor<1x8x4xf32>, tensor<2x4x12xf32>
}

// Integers and bools.
// CHECK-LABEL: func.func @integers
func.func @integers(%a: tensor<2x3xi64>, %p: tensor<2x3xi1>, %x: tensor<2x3xf32>) -> (tensor<2x3xi64>, tensor<2x3xi1>, tensor<2xi64>, tensor<2x3xf32>) {
  // CHECK: tfm.mul %{{.*}}, %{{.*}} : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  %0 = tfm.mul %a, %a : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  // CHECK: tfm.and
  %1 = tfm.and %p, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: tfm.or
  %2 = tfm.or %1, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: tfm.xor
  %3 = tfm.xor %2, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: tfm.not %{{.*}} : tensor<2x3xi1>
  %4 = tfm.not %3 : tensor<2x3xi1>
  // CHECK: tfm.argmax %{{.*}} {axis = 1 : i64, keepdims = false, select_last_index = true} : tensor<2x3xf32> -> tensor<2xi64>
  %5 = tfm.argmax %x {axis = 1 : i64, keepdims = false, select_last_index = true} : tensor<2x3xf32> -> tensor<2xi64>
  // CHECK: tfm.sign %{{.*}} : tensor<2x3xf32>
  %6 = tfm.sign %x : tensor<2x3xf32>
  return %0, %4, %5, %6 : tensor<2x3xi64>, tensor<2x3xi1>, tensor<2xi64>, tensor<2x3xf32>
}

// The MPC-friendly forms of mpc-approximate round-trip.
// CHECK-LABEL: func.func @approximations
// CHECK: tfm.polynomial %arg0 {centers = array<f64: 0.000000e+00, 0.000000e+00>, coefficients = array<f64: 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00>, half_widths = array<f64: 1.000000e+00, 1.000000e+00>, knots = array<f64: 0.000000e+00>} : tensor<2x4xf32>
// CHECK: tfm.kernel_softmax %arg0 {axis = -1 : i64, epsilon = 1.000000e-03 : f64, kernel = #tfm.softmax_kernel<square>, score_bound = 3.200000e+01 : f64, shift = 5.000000e+00 : f64} : tensor<2x4xf32>
// CHECK: tfm.layer_norm %arg0 {epsilon = 9.99999974E-6 : f32, rsqrt_iterations = 1 : i64, variance_max = 1.000000e+02 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
func.func @approximations(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = tfm.polynomial %x {knots = array<f64: 0.0>, centers = array<f64: 0.0, 0.0>, half_widths = array<f64: 1.0, 1.0>, coefficients = array<f64: 0.0, 0.0, 0.0, 1.0>} : tensor<2x4xf32>
  %1 = tfm.kernel_softmax %x {axis = -1 : i64, kernel = #tfm.softmax_kernel<square>, shift = 5.0 : f64, epsilon = 1.0e-3 : f64, score_bound = 32.0 : f64} : tensor<2x4xf32>
  %2 = tfm.layer_norm %x {epsilon = 1.0e-05 : f32, variance_max = 100.0 : f64, rsqrt_iterations = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}
