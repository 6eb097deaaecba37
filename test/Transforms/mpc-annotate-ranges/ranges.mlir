// Interval ranges from a declared input range and the weights' values,
// with the fixed-point headroom at 16 fractional bits (values below 2^47,
// products before truncation below 2^31).
// RUN: mpc-opt %s --split-input-file --mpc-annotate-ranges="input-range=x=-2:3" | FileCheck %s

// CHECK-LABEL: func.func @block
func.func @block(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %w = arith.constant dense<[[1.0, -0.5, 0.25], [0.0, 0.5, 1.0], [-0.5, 0.75, 0.0], [0.5, 0.5, -0.25]]> : tensor<4x3xf32> loc("w")
  %b = arith.constant dense<[0.5, -1.0, 0.0]> : tensor<3xf32> loc("b")
  // K = 4 products of [-2, 3] and [-0.5, 1]: [-8, 12], plus [-1, 0.5].
  // CHECK: tfm.linear {{.*}} {mpc.headroom = 2.740000e+01 : f64, mpc.range = [-9.000000e+00, 1.250000e+01]}
  %y = tfm.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> loc("fc")
  // CHECK: tfm.relu {{.*}} {mpc.headroom = 4.340000e+01 : f64, mpc.range = [0.000000e+00, 1.250000e+01]}
  %r = tfm.relu %y : tensor<2x3xf32> loc("relu")
  // GeLU dips to -0.17 at x = -0.75.
  // CHECK: tfm.gelu {{.*}} {mpc.headroom = 4.340000e+01 : f64, mpc.range = [-0.16997{{[0-9]*}}, 1.250000e+01]}
  %g = tfm.gelu %y : tensor<2x3xf32> loc("gelu")
  // CHECK: tfm.softmax {{.*}} mpc.headroom = 4.700000e+01 : f64, mpc.range = [0.000000e+00, 1.000000e+00]
  %s = tfm.softmax %y {axis = -1 : i64} : tensor<2x3xf32> loc("softmax")
  return %r, %g, %s : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// RMS norm: |x / rms(x)| <= sqrt(N), times the scale; data movement keeps
// the range; a reduction sums K elements.
// CHECK-LABEL: func.func @norm
func.func @norm(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x4xf32>, tensor<2x1xf32>) {
  %g = arith.constant dense<[1.0, 0.5, -1.5, 1.0]> : tensor<4xf32> loc("g")
  // CHECK: tfm.rms_norm {{.*}} mpc.range = [-3.000000e+00, 3.000000e+00]
  %n = tfm.rms_norm %x scale %g {epsilon = 1.0e-6 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32> loc("norm")
  // CHECK: tfm.transpose {{.*}} mpc.range = [-3.000000e+00, 3.000000e+00]
  %t = tfm.transpose %n {permutation = array<i64: 1, 0>} : tensor<2x4xf32> -> tensor<4x2xf32> loc("t")
  // CHECK: tfm.reduce_sum {{.*}} mpc.range = [-8.000000e+00, 1.200000e+01]
  %s = tfm.reduce_sum %x {axes = array<i64: 1>} : tensor<2x4xf32> -> tensor<2x1xf32> loc("sum")
  return %n, %s : tensor<2x4xf32>, tensor<2x1xf32>
}
