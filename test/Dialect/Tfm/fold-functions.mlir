// RUN: mpc-opt %s --canonicalize | FileCheck %s
// The elementwise functions fold on public constants through the constant
// evaluator (TfmFolding.cpp): Round half to even, Sign, the trigonometric
// and hyperbolic functions exactly (no approximation).

// CHECK-LABEL: func.func @functions
// CHECK-DAG: dense<[-2.000000e+00, 0.000000e+00, 2.000000e+00]>
// CHECK-DAG: dense<[-1.000000e+00, 1.000000e+00, 1.000000e+00]>
// CHECK-DAG: dense<[-3.000000e+00, 0.000000e+00, 1.000000e+00]>
// CHECK-DAG: dense<[-1.190290e+00, 0.463647604, 0.982793748]>
// CHECK-DAG: dense<[-6.05020427, 0.521095276, 2.12927938]>
// CHECK-NOT: tfm.
func.func @functions() -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[-2.5, 0.5, 1.5]> : tensor<3xf32>
  %0 = tfm.round %c : tensor<3xf32>
  %1 = tfm.sign %c : tensor<3xf32>
  %2 = tfm.floor %c : tensor<3xf32>
  %3 = tfm.atan %c : tensor<3xf32>
  %4 = tfm.sinh %c : tensor<3xf32>
  return %0, %1, %2, %3, %4 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}
