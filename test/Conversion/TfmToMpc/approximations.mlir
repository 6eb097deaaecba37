// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// mpc-approximate's forms. A piecewise polynomial: one comparison per knot,
// each piece's polynomial (affine pieces are local: the identity tail costs
// nothing), one product per knot: y = p0 + [x >= -4](p1 - p0) + [x >= 4](p2 - p1)
// with p0 = 0.
// CHECK-LABEL: func.func @piecewise
// CHECK: %[[X:.*]] = mpc.encode %arg0
// CHECK: %[[U:.*]] = mpc.trunc
// CHECK: %[[P1:.*]] = mpc.poly %[[U]] {coefficients = array<f64: 1.000000e-01, 5.000000e-01, 2.000000e-01>}
// CHECK: %[[B1:.*]] = mpc.drelu
// CHECK: %[[T1:.*]] = mpc.mul %[[B1]], %[[P1]]
// CHECK: %[[D2:.*]] = mpc.sub %[[X]], %[[P1]]
// CHECK: %[[B2:.*]] = mpc.drelu
// CHECK: %[[T2:.*]] = mpc.mul %[[B2]], %[[D2]]
// CHECK: %[[Y:.*]] = mpc.add %[[T1]], %[[T2]]
// CHECK: return %[[Y]]
// CHECK-NOT: mpc.poly
func.func @piecewise(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.polynomial %x {knots = array<f64: -4.0, 4.0>, centers = array<f64: 0.0, 0.0, 0.0>, half_widths = array<f64: 1.0, 4.0, 1.0>, coefficients = array<f64: 0.0, 0.0, 0.0, 0.1, 0.5, 0.2, 0.0, 1.0, 0.0>} : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// MPCFormer's quad: one polynomial, no comparison.
// CHECK-LABEL: func.func @quad
// CHECK: %[[X:.*]] = mpc.encode %arg0
// CHECK-NEXT: %[[Y:.*]] = mpc.poly %[[X]] {coefficients = array<f64: 5.000000e-01, 2.500000e-01, 1.250000e-01>}
// CHECK-NEXT: return %[[Y]]
func.func @quad(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.polynomial %x {knots = array<f64>, centers = array<f64: 0.0>, half_widths = array<f64: 1.0>, coefficients = array<f64: 0.5, 0.25, 0.125>} : tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// 2Quad over causally masked scores: (x + 5)^2, masked keys times 0, one
// reciprocal of the sum + epsilon on [epsilon, n (32 + 5)^2 + epsilon], one
// product; no maximum, no exp.
// CHECK-LABEL: func.func @two_quad
// CHECK: %[[T:.*]] = mpc.add %{{.*}}, %{{.*}} : (!mpc.tensor<1x2x4x4, client, frac = 16>, !mpc.tensor<public, frac = 16>)
// CHECK: %[[SQ:.*]] = mpc.mul %[[T]], %[[T]]
// CHECK: %[[K:.*]] = mpc.trunc %[[SQ]]
// CHECK: %[[KM:.*]] = mpc.mul %{{.*}}, %[[K]] : (!mpc.tensor<4x4, public, frac = 0>, !mpc.tensor<1x2x4x4, client, frac = 16>)
// CHECK: %[[S:.*]] = mpc.reduce_sum %[[KM]] {axes = array<i64: 3>}
// CHECK: %[[SE:.*]] = mpc.add %[[S]]
// CHECK: %[[R:.*]] = mpc.reciprocal %[[SE]] {hi = 5476.0010000000002 : f64, lo = 1.000000e-03 : f64}
// CHECK: mpc.mul %[[KM]], %[[R]]
// CHECK-NOT: mpc.max
// CHECK-NOT: mpc.exp
func.func @two_quad(%s: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %m = tfm.causal_mask %s : tensor<1x2x4x4xf32>
  %0 = tfm.kernel_softmax %m {axis = -1 : i64, kernel = #tfm.softmax_kernel<square>, shift = 5.0 : f64, epsilon = 1.0e-3 : f64, score_bound = 32.0 : f64} : tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// Liu & Liu's ReLU softmax: one ReLU, the sum's reciprocal on
// [epsilon, n 32 + epsilon].
// CHECK-LABEL: func.func @relu_norm
// CHECK: %[[K:.*]] = mpc.relu
// CHECK: %[[S:.*]] = mpc.reduce_sum %[[K]] {axes = array<i64: 1>}
// CHECK: %[[SE:.*]] = mpc.add %[[S]]
// CHECK: mpc.reciprocal %[[SE]] {hi = 2.560010e+02 : f64, lo = 1.000000e-03 : f64}
// CHECK-NOT: mpc.max
func.func @relu_norm(%s: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %0 = tfm.kernel_softmax %s {axis = -1 : i64, kernel = #tfm.softmax_kernel<relu>, shift = 0.0 : f64, epsilon = 1.0e-3 : f64, score_bound = 32.0 : f64} : tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// The rsqrt strategy: the norm's rsqrt on n [epsilon, variance_max +
// epsilon] with one product level.
// CHECK-LABEL: func.func @cheaper_rsqrt
// CHECK: mpc.rsqrt %{{.*}} {hi = 800.00007999999798 : f64, iterations = 1 : i64, lo = 7.9999997979030013E-5 : f64}
func.func @cheaper_rsqrt(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %0 = tfm.layer_norm %x {epsilon = 1.0e-05 : f32, variance_max = 100.0 : f64, rsqrt_iterations = 1 : i64} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}
