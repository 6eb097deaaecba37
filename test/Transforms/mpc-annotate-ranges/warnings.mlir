// A warning, at the node and naming it, for each place where fixed point
// could overflow or an approximation is evaluated outside its domain, and
// for a float input without a declared range.
// RUN: mpc-opt %s --split-input-file --mpc-annotate-ranges="input-range=x=-100000:100000" 2>&1 >/dev/null | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-annotate-ranges="input-range=x=-100000:100000" 2>/dev/null | FileCheck %s --check-prefix=ATTR

func.func @wide(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x4xf32>) {
  %w = arith.constant dense<[[1.0, -0.5, 0.25], [0.0, 0.5, 1.0], [-0.5, 0.75, 0.0], [0.5, 0.5, -0.25]]> : tensor<4x3xf32> loc("w")
  // [-4e5, 4e5]: within 2^31 for a product.
  %y = tfm.linear %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32> loc("fc")
  // CHECK: warning: {{.*}}range: fixed point could overflow at 'square' (tfm.mul): magnitude up to 1.6e+11 in a product exceeds 2^31 at 16 fractional bits (6.2 bits short)
  %q = tfm.mul %y, %y : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32> loc("square")
  // CHECK: warning: {{.*}}range: approximation evaluated outside its domain at 'attn' (tfm.softmax): exp argument [-800000, 0] in [-256, 0] (exp-squarings 8)
  %s = tfm.softmax %y {axis = -1 : i64} : tensor<2x3xf32> loc("attn")
  // CHECK: warning: {{.*}}range: fixed point could overflow at 'ln' (tfm.rms_norm): magnitude up to 1e+10 in a product exceeds 2^31 at 16 fractional bits (2.2 bits short)
  // CHECK: warning: {{.*}}range: approximation evaluated outside its domain at 'ln' (tfm.rms_norm): variance [0, 1e+10] in [0, 10000] (rsqrt domain, variance-max)
  %n = tfm.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<2x4xf32>) -> tensor<2x4xf32> loc("ln")
  // ATTR: tfm.softmax {{.*}} mpc.range = [0.000000e+00, 1.000000e+00]
  return %q, %s, %n : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x4xf32>
}

// -----

// An input without a declared range: one warning; what depends on it is
// unbounded (no headroom, no per-op warning).
// CHECK: warning: {{.*}}range: input 'h' has no declared range (--input-range h=LO:HI): the values computed from it are unbounded
func.func @undeclared(%x: tensor<2xf32> {onnx.name = "x"}, %h: tensor<2x4xf32> {onnx.name = "h"}) -> tensor<2x4xf32> {
  // ATTR-LABEL: func.func @undeclared
  // ATTR: tfm.relu {{.*}} {mpc.range = [0.000000e+00, "inf"]}
  %r = tfm.relu %h : tensor<2x4xf32> loc("r")
  return %r : tensor<2x4xf32>
}
