// Calibration data (per-node min/max observed on real inputs, as
// umbra_models.calibrate writes it) replaces the static range of a node and
// flows downstream: the softmax that statically leaves exp's domain is
// within it on the observed scores. Fused ops keep their static range.
// RUN: split-file %s %t
// RUN: mpc-opt %t/m.mlir --mpc-annotate-ranges="input-range=x=-100:100" 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: mpc-opt %t/m.mlir --mpc-annotate-ranges="calibration=%t/ranges.json" 2>&1 | FileCheck %s --check-prefix=CALIB
// RUN: not mpc-opt %t/m.mlir --mpc-annotate-ranges="calibration=%t/bad.json" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mpc-opt %t/m.mlir --mpc-annotate-ranges="calibration=%t/none.json" 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: not mpc-opt %t/m.mlir --mpc-annotate-ranges="input-range=x=3:1" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not mpc-opt %t/m.mlir --mpc-annotate-ranges="input-range=y=0:1" 2>&1 | FileCheck %s --check-prefix=NOINPUT

// STATIC: warning: {{.*}}range: approximation evaluated outside its domain at 'probs' (tfm.softmax): exp argument [-400, 0] in [-256, 0]
// STATIC: tfm.matmul {{.*}} mpc.range = [-4.000000e+02, 4.000000e+02]
// CALIB-NOT: warning
// CALIB: tfm.matmul {{.*}} mpc.range = [-1.250000e+00, 3.500000e+00]
// CALIB: tfm.div {{.*}} mpc.range = [-6.250000e-01, 1.750000e+00]
// BAD: calibration file '{{.*}}bad.json': entry 'scores' of "nodes" is not [min, max]
// NONE: cannot read calibration file '{{.*}}none.json'
// NOINPUT: error: --input-range names 'y', which is no graph input; the graph inputs are: x
// RANGE: --input-range 'x=3:1' is not NAME=LO:HI with LO <= HI (e.g. x=-4:4)

//--- m.mlir
func.func @scores(%x: tensor<4x8xf32> {onnx.name = "x"}) -> tensor<4x4xf32> {
  %k = arith.constant dense<0.5> : tensor<8x4xf32> loc("k")
  %two = arith.constant dense<2.0> : tensor<f32> loc("two")
  %s = tfm.matmul %x, %k : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32> loc("scores")
  %d = tfm.div %s, %two : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32> loc("scaled")
  %p = tfm.softmax %d {axis = -1 : i64} : tensor<4x4xf32> loc("probs")
  return %p : tensor<4x4xf32>
}

//--- ranges.json
{"format": "umbra-calibration-1", "samples": 4,
 "inputs": {"x": [-1.0, 1.0]},
 "nodes": {"scores": [-1.25, 3.5], "probs": [0.0, 0.9]}}

//--- bad.json
{"nodes": {"scores": [3.5]}}
