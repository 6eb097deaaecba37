// Interval ranges of the elementwise functions (FunctionLowerings.cpp):
// monotone ones map the bounds, sin/cos/asin/acos are bounded, cosh dips
// to 1 at 0, acosh starts at 1.
// RUN: mpc-opt %s --mpc-annotate-ranges="input-range=x=-2.5:3.5" | FileCheck %s

// CHECK-LABEL: func.func @functions
func.func @functions(%x: tensor<4xf32> {onnx.name = "x"}) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // CHECK: tfm.floor {{.*}} mpc.range = [-3.000000e+00, 3.000000e+00]
  %0 = tfm.floor %x : tensor<4xf32> loc("floor")
  // CHECK: tfm.ceil {{.*}} mpc.range = [-2.000000e+00, 4.000000e+00]
  %1 = tfm.ceil %x : tensor<4xf32> loc("ceil")
  // Half to even: -2.5 -> -2, 3.5 -> 4.
  // CHECK: tfm.round {{.*}} mpc.range = [-2.000000e+00, 4.000000e+00]
  %2 = tfm.round %x : tensor<4xf32> loc("round")
  // CHECK: tfm.sign {{.*}} mpc.range = [-1.000000e+00, 1.000000e+00]
  %3 = tfm.sign %x : tensor<4xf32> loc("sign")
  // CHECK: tfm.sin {{.*}} mpc.range = [-1.000000e+00, 1.000000e+00]
  %4 = tfm.sin %x : tensor<4xf32> loc("sin")
  // CHECK: tfm.atan {{.*}} mpc.range = [-1.19{{[0-9]*}}, 1.29{{[0-9]*}}]
  %5 = tfm.atan %x : tensor<4xf32> loc("atan")
  // CHECK: tfm.cosh {{.*}} mpc.range = [1.000000e+00, 16.57{{[0-9]*}}]
  %6 = tfm.cosh %x : tensor<4xf32> loc("cosh")
  // CHECK: tfm.acosh {{.*}} mpc.range = [0.000000e+00, 1.92{{[0-9]*}}]
  %7 = tfm.acosh %x : tensor<4xf32> loc("acosh")
  // CHECK: tfm.acos {{.*}} mpc.range = [0.000000e+00, 3.14{{[0-9]*}}]
  %8 = tfm.acos %x : tensor<4xf32> loc("acos")
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
