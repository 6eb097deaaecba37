// RUN: mpc-opt %s | FileCheck %s
// RUN: mpc-opt %s | mpc-opt | FileCheck %s

// CHECK-LABEL: func.func @types
// CHECK-SAME: !mpc.tensor<2x8, shared, frac = 16>
// CHECK-SAME: !mpc.tensor<public, frac = 0>
func.func @types(%a: !mpc.tensor<2x8, shared, frac = 16>, %s: !mpc.tensor<public, frac = 0>) {
  return
}

// CHECK-LABEL: func.func @boundary
func.func @boundary(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: mpc.encode %{{.*}} : tensor<2x8xf32> -> !mpc.tensor<2x8, client, frac = 16>
  %0 = mpc.encode %x : tensor<2x8xf32> -> !mpc.tensor<2x8, client, frac = 16>
  // CHECK: mpc.share %{{.*}} : !mpc.tensor<2x8, client, frac = 16> -> !mpc.tensor<2x8, shared, frac = 16>
  %1 = mpc.share %0 : !mpc.tensor<2x8, client, frac = 16> -> !mpc.tensor<2x8, shared, frac = 16>
  // CHECK: mpc.reveal %{{.*}} {reason = "model output", to = #mpc.reveal_target<client>}
  %2 = mpc.reveal %1 {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<2x8, shared, frac = 16> -> !mpc.tensor<2x8, client, frac = 16>
  // CHECK: mpc.reveal %{{.*}} {reason = "debug", to = #mpc.reveal_target<all>} : {{.*}} -> !mpc.tensor<2x8, public, frac = 16>
  %3 = mpc.reveal %1 {to = #mpc.reveal_target<all>, reason = "debug"} : !mpc.tensor<2x8, shared, frac = 16> -> !mpc.tensor<2x8, public, frac = 16>
  // CHECK: mpc.decode %{{.*}} : !mpc.tensor<2x8, client, frac = 16> -> tensor<2x8xf32>
  %4 = mpc.decode %2 : !mpc.tensor<2x8, client, frac = 16> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// CHECK-LABEL: func.func @arithmetic
func.func @arithmetic(%a: !mpc.tensor<4x8, shared, frac = 16>, %b: !mpc.tensor<8, public, frac = 16>,
                      %w: !mpc.tensor<8x3, shared, frac = 16>) -> !mpc.tensor<4x3, shared, frac = 16> {
  // CHECK: mpc.add %{{.*}}, %{{.*}} : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16>
  %0 = mpc.add %a, %b : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.sub
  %1 = mpc.sub %0, %a : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, shared, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.neg %{{.*}} : !mpc.tensor<4x8, shared, frac = 16>
  %2 = mpc.neg %1 : !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.mul %{{.*}} -> !mpc.tensor<4x8, shared, frac = 32>
  %3 = mpc.mul %2, %b : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 32>
  // CHECK: mpc.trunc %{{.*}} {bits = 16 : i64} : !mpc.tensor<4x8, shared, frac = 32> -> !mpc.tensor<4x8, shared, frac = 16>
  %4 = mpc.trunc %3 {bits = 16 : i64} : !mpc.tensor<4x8, shared, frac = 32> -> !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.matmul %{{.*}}, %{{.*}} : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8x3, shared, frac = 16>) -> !mpc.tensor<4x3, shared, frac = 32>
  %5 = mpc.matmul %4, %w : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8x3, shared, frac = 16>) -> !mpc.tensor<4x3, shared, frac = 32>
  %6 = mpc.trunc %5 {bits = 16 : i64} : !mpc.tensor<4x3, shared, frac = 32> -> !mpc.tensor<4x3, shared, frac = 16>
  return %6 : !mpc.tensor<4x3, shared, frac = 16>
}

// CHECK-LABEL: func.func @nonlinear
func.func @nonlinear(%x: !mpc.tensor<4x8, shared, frac = 16>, %z: !mpc.tensor<4x8, public, frac = 16>)
    -> !mpc.tensor<4x8, shared, frac = 16> {
  // CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x8, shared, frac = 0>
  %0 = mpc.drelu %x : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x8, shared, frac = 0>
  // CHECK: mpc.select %{{.*}}, %{{.*}}, %{{.*}} : (!mpc.tensor<4x8, shared, frac = 0>, !mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16>
  %1 = mpc.select %0, %x, %z : (!mpc.tensor<4x8, shared, frac = 0>, !mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.poly %{{.*}} {coefficients = array<f64: 5.000000e-01, 2.500000e-01, 0.000000e+00, -2.080000e-02>} : !mpc.tensor<4x8, shared, frac = 16>
  %2 = mpc.poly %1 {coefficients = array<f64: 0.5, 0.25, 0.0, -0.0208>} : !mpc.tensor<4x8, shared, frac = 16>
  return %2 : !mpc.tensor<4x8, shared, frac = 16>
}

// CHECK-LABEL: func.func @gates
func.func @gates(%x: !mpc.tensor<4x8, shared, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16> {
  // CHECK: mpc.relu %{{.*}} : !mpc.tensor<4x8, shared, frac = 16>
  %0 = mpc.relu %x : !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.exp %{{.*}} : !mpc.tensor<4x8, shared, frac = 16>
  %1 = mpc.exp %0 : !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.exp %{{.*}} {squarings = 6 : i64}
  %2 = mpc.exp %1 {squarings = 6 : i64} : !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.reciprocal %{{.*}} {hi = 1.000000e+03 : f64, lo = 1.000000e-02 : f64}
  %3 = mpc.reciprocal %2 {lo = 1.0e-2 : f64, hi = 1.0e3 : f64} : !mpc.tensor<4x8, shared, frac = 16>
  // CHECK: mpc.rsqrt %{{.*}} {hi = 1.000000e+02 : f64, iterations = 3 : i64, lo = 1.000000e-03 : f64}
  %4 = mpc.rsqrt %3 {lo = 1.0e-3 : f64, hi = 1.0e2 : f64, iterations = 3 : i64} : !mpc.tensor<4x8, shared, frac = 16>
  return %4 : !mpc.tensor<4x8, shared, frac = 16>
}

// CHECK-LABEL: func.func @movement
func.func @movement(%x: !mpc.tensor<4x8, shared, frac = 16>, %p: !mpc.tensor<4x8, public, frac = 16>)
    -> (!mpc.tensor<4x1, shared, frac = 16>, !mpc.tensor<1x8, shared, frac = 16>, !mpc.tensor<8x4, shared, frac = 16>,
        !mpc.tensor<2x4x8, shared, frac = 16>, !mpc.tensor<8x8, shared, frac = 16>) {
  // CHECK: mpc.max %{{.*}} {axis = -1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 16>
  %0 = mpc.max %x {axis = -1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 16>
  // CHECK: mpc.argmax %{{.*}} {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 0>
  %arg = mpc.argmax %x {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 0>
  // CHECK: mpc.reduce_sum %{{.*}} {axes = array<i64: 0>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<1x8, shared, frac = 16>
  %1 = mpc.reduce_sum %x {axes = array<i64: 0>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<1x8, shared, frac = 16>
  // CHECK: mpc.reshape %{{.*}} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<2x2x8, shared, frac = 16>
  %2 = mpc.reshape %x : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<2x2x8, shared, frac = 16>
  // CHECK: mpc.transpose %{{.*}} {permutation = array<i64: 1, 0>}
  %3 = mpc.transpose %x {permutation = array<i64: 1, 0>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<8x4, shared, frac = 16>
  // CHECK: mpc.broadcast %{{.*}} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<2x4x8, shared, frac = 16>
  %4 = mpc.broadcast %x : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<2x4x8, shared, frac = 16>
  // CHECK: mpc.slice %{{.*}} {offsets = array<i64: 0, 4>, strides = array<i64: 1, 1>}
  %5 = mpc.slice %x {offsets = array<i64: 0, 4>, strides = array<i64: 1, 1>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x4, shared, frac = 16>
  // A public piece joins shared pieces.
  // CHECK: mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, public, frac = 16>) -> !mpc.tensor<8x8, shared, frac = 16>
  %6 = mpc.concat %x, %p {axis = 0 : i64} : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, public, frac = 16>) -> !mpc.tensor<8x8, shared, frac = 16>
  return %0, %1, %3, %4, %6 : !mpc.tensor<4x1, shared, frac = 16>, !mpc.tensor<1x8, shared, frac = 16>, !mpc.tensor<8x4, shared, frac = 16>,
        !mpc.tensor<2x4x8, shared, frac = 16>, !mpc.tensor<8x8, shared, frac = 16>
}

// CHECK-LABEL: func.func @one_hot
func.func @one_hot(%ids: tensor<1x4xi64>) -> !mpc.tensor<1x4x10, client, frac = 0> {
  // CHECK: mpc.one_hot %{{.*}} {depth = 10 : i64} : tensor<1x4xi64> -> !mpc.tensor<1x4x10, client, frac = 0>
  %0 = mpc.one_hot %ids {depth = 10 : i64} : tensor<1x4xi64> -> !mpc.tensor<1x4x10, client, frac = 0>
  return %0 : !mpc.tensor<1x4x10, client, frac = 0>
}

// CHECK-LABEL: func.func @gather_rows
func.func @gather_rows(%w: !mpc.tensor<8x4, shared, frac = 16>) -> !mpc.tensor<3x4, shared, frac = 16> {
  // CHECK: mpc.gather_rows %{{.*}} {indices = array<i64: 5, 0, 7>} : !mpc.tensor<8x4, shared, frac = 16> -> !mpc.tensor<3x4, shared, frac = 16>
  %0 = mpc.gather_rows %w {indices = array<i64: 5, 0, 7>} : !mpc.tensor<8x4, shared, frac = 16> -> !mpc.tensor<3x4, shared, frac = 16>
  return %0 : !mpc.tensor<3x4, shared, frac = 16>
}
