// RUN: mpc-opt %s --split-input-file --mpc-approximate="approx=gelu:relu,silu:quad,softmax:relu-norm,layer_norm:affine,rms_norm:affine" | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-approximate="approx=gelu:quad,softmax:2quad,layer_norm:rsqrt,rms_norm:rsqrt" | FileCheck %s --check-prefix=QUAD
// RUN: mpc-opt %s --mpc-approximate="approx=gelu:poly,silu:poly approx-poly-pieces=1 approx-poly-degree=6 approx-poly-domain=-5:5 approx-poly-fit=least-squares approx-report=%t.json" | FileCheck %s --check-prefix=POLY
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: mpc-opt %s --split-input-file --mpc-approximate | FileCheck %s --check-prefix=NONE
// RUN: mpc-opt %s --split-input-file --mpc-approximate="approx=gelu:relu,softmax:2quad@1-2,layer_norm:affine,layer_norm:accurate@0,gelu:accurate@2" | FileCheck %s --check-prefix=LAYERS

// One layer's non-linear ops; the layer is the numbered module in each op's
// ONNX name (torch's exporter writes /blocks.N/...), none for ln_f.
// CHECK-LABEL: func.func @layer
// CHECK: %[[G:.*]] = tfm.relu %arg0 : tensor<1x4x8xf32>
// CHECK: %[[M:.*]] = tfm.causal_mask %arg1
// CHECK: %[[P:.*]] = tfm.kernel_softmax %[[M]] {axis = -1 : i64, epsilon = 1.000000e-03 : f64, kernel = #tfm.softmax_kernel<relu>, score_bound = 3.200000e+01 : f64, shift = 0.000000e+00 : f64} : tensor<1x2x4x4xf32>
// Affine LayerNorm: x - mean(x) over the normalised axes, then scale, bias.
// CHECK: %[[MEAN:.*]] = tfm.reduce_mean %arg0 {axes = array<i64: 2>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
// CHECK: %[[D:.*]] = tfm.sub %arg0, %[[MEAN]]
// CHECK: %[[S:.*]] = tfm.mul %[[D]], %arg2
// CHECK: %[[LN:.*]] = tfm.add %[[S]], %arg3
// CHECK: %[[SILU:.*]] = tfm.polynomial %arg0 {centers = array<f64: 0.000000e+00>, coefficients = array<f64: 5.000000e-01, 2.500000e-01, 1.250000e-01>, half_widths = array<f64: 1.000000e+00>, knots = array<f64>}
// Affine RMSNorm: x * scale.
// CHECK: %[[RMS:.*]] = tfm.mul %arg0, %arg2
// CHECK: return %[[G]], %[[P]], %[[LN]], %[[SILU]], %[[RMS]]
// CHECK-NOT: tfm.gelu
// CHECK-NOT: tfm.softmax %
// CHECK-NOT: {{layer_norm|rms_norm}}

// QUAD-LABEL: func.func @layer
// QUAD: tfm.polynomial %arg0 {centers = array<f64: 0.000000e+00>, coefficients = array<f64: 5.000000e-01, 2.500000e-01, 1.250000e-01>, half_widths = array<f64: 1.000000e+00>, knots = array<f64>}
// QUAD: tfm.kernel_softmax %{{.*}} {axis = -1 : i64, epsilon = 1.000000e-03 : f64, kernel = #tfm.softmax_kernel<square>, score_bound = 3.200000e+01 : f64, shift = 5.000000e+00 : f64}
// The rsqrt strategy: the norm stays, with a stated variance bound and one
// product level.
// QUAD: tfm.layer_norm %arg0 scale %arg2 bias %arg3 {epsilon = 9.99999974E-6 : f32, rsqrt_iterations = 1 : i64, variance_max = 1.000000e+02 : f64}
// QUAD: tfm.silu %arg0
// QUAD: tfm.rms_norm %arg0 scale %arg2 {epsilon = 9.99999974E-6 : f32, rsqrt_iterations = 1 : i64, variance_max = 1.000000e+02 : f64}

// poly: 0 below the domain, x above it, fitted pieces between.
// POLY-LABEL: func.func @layer
// POLY: tfm.polynomial %arg0 {centers = array<f64: 0.000000e+00, 0.000000e+00, 0.000000e+00>, coefficients = array<f64: 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, {{.*}}, 0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00>, half_widths = array<f64: 1.000000e+00, 5.000000e+00, 1.000000e+00>, knots = array<f64: -5.000000e+00, 5.000000e+00>}
// POLY: tfm.softmax
// POLY: tfm.polynomial %arg0 {centers = array<f64: 0.000000e+00, 0.000000e+00, 0.000000e+00>
// REPORT: "approx": "gelu:poly,silu:poly",
// REPORT: "fit": "least-squares",
// REPORT-NEXT: "kind": "gelu",
// REPORT-NEXT: "layer": 0,
// REPORT-NEXT: "max_error": 0.0{{[0-9]+}},
// REPORT-NEXT: "mean_error": {{.*}},
// REPORT-NEXT: "op": "/blocks.0/mlp/act/Mul",
// REPORT: "center": 0,
// REPORT: "half_width": 5,
// REPORT-NEXT: "hi": 5,
// REPORT-NEXT: "lo": -5
// REPORT: "strategy": "poly"
// REPORT: "kind": "softmax",
// REPORT-NEXT: "layer": 0,
// REPORT-NEXT: "op": "/blocks.0/attn/Softmax",
// REPORT-NEXT: "strategy": "accurate"
// REPORT: "kind": "layer_norm",
// REPORT-NEXT: "layer": null,
// REPORT-NEXT: "op": "/ln_f/LayerNormalization",

// Without a spec nothing changes.
// NONE-LABEL: func.func @layer
// NONE: tfm.gelu
// NONE: tfm.softmax
// NONE: tfm.layer_norm
// NONE: tfm.silu
// NONE: tfm.rms_norm

// Later entries override earlier ones; a layer range applies to those
// layers only, and never to ln_f (in no layer).
// LAYERS-LABEL: func.func @layer
// LAYERS: tfm.relu %arg0
// LAYERS: tfm.softmax
// LAYERS: tfm.reduce_mean
// LAYERS-LABEL: func.func @later_layers
// LAYERS: tfm.kernel_softmax {{.*}}kernel = #tfm.softmax_kernel<square>
// LAYERS: tfm.gelu %arg0
// LAYERS: tfm.layer_norm
func.func @layer(%x: tensor<1x4x8xf32>, %s: tensor<1x2x4x4xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  %0 = tfm.gelu %x : tensor<1x4x8xf32> loc("/blocks.0/mlp/act/Mul")
  %m = tfm.causal_mask %s : tensor<1x2x4x4xf32> loc("/blocks.0/attn/Where")
  %1 = tfm.softmax %m {axis = -1 : i64} : tensor<1x2x4x4xf32> loc("/blocks.0/attn/Softmax")
  %2 = tfm.layer_norm %x scale %g bias %b {epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> loc("/ln_f/LayerNormalization")
  %3 = tfm.silu %x : tensor<1x4x8xf32> loc("/model/layers.0/mlp/act_fn/Mul")
  %4 = tfm.rms_norm %x scale %g {epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> loc("/model/layers.0/input_layernorm/Mul_1")
  return %0, %1, %2, %3, %4 : tensor<1x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
}

// -----

func.func @later_layers(%x: tensor<1x4x8xf32>, %s: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) {
  %0 = tfm.softmax %s {axis = -1 : i64} : tensor<1x2x4x4xf32> loc("/blocks.2/attn/Softmax")
  %1 = tfm.gelu %x : tensor<1x4x8xf32> loc("/blocks.2/mlp/act/Mul")
  %2 = tfm.layer_norm %x {epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32> loc("/blocks.0/ln_1/LayerNormalization")
  return %0, %1, %2 : tensor<1x2x4x4xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>
}
