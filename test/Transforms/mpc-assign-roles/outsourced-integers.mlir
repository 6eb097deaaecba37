// RUN: mpc-opt %s --mpc-assign-roles="outsourced" | FileCheck %s

// Outsourced: the client's integer and bool inputs used as values are
// shared at once like its reals; ids it only one-hot encodes itself (an
// embedding's) stay its own.
// CHECK: func.func @main(%arg0: tensor<4xi64> {mpc.visibility = #mpc.visibility<shared>}, %arg1: tensor<4xi1> {mpc.visibility = #mpc.visibility<shared>}, %arg2: tensor<1x3xi64>, %arg3: tensor<5x2xf32> {mpc.visibility = #mpc.visibility<owner>, onnx.name = "t"})
func.func @main(%a: tensor<4xi64>, %p: tensor<4xi1>, %ids: tensor<1x3xi64>, %t: tensor<5x2xf32> {mpc.visibility = #mpc.visibility<owner>, onnx.name = "t"}) -> (tensor<4xi64>, tensor<1x3x2xf32>) {
  %0 = tfm.add %a, %a : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %1 = tfm.cast %p : tensor<4xi1> to tensor<4xi64>
  %2 = tfm.mul %0, %1 : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %3 = tfm.embedding %t, %ids : (tensor<5x2xf32>, tensor<1x3xi64>) -> tensor<1x3x2xf32>
  return %2, %3 : tensor<4xi64>, tensor<1x3x2xf32>
}
