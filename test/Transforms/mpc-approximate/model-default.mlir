// The strategies a model was fine-tuned with (ONNX metadata
// umbra.approximations, kept by the importer) are the default; a different
// --approx wins, with a warning naming both.
// RUN: mpc-opt %s --mpc-approximate | FileCheck %s
// RUN: mpc-opt %s --mpc-approximate="approx=gelu:quad" 2>&1 | FileCheck %s --check-prefix=OTHER
// RUN: mpc-opt %s --mpc-approximate="approx=gelu:relu" 2>&1 | FileCheck %s --check-prefix=SAME

// CHECK: tfm.relu %arg0
// CHECK-NOT: tfm.gelu
// OTHER: warning: mpc-approximate: compiling with 'gelu:quad', but the model was fine-tuned with 'gelu:relu' (ONNX metadata umbra.approximations)
// OTHER-NOT: see current operation
// OTHER: tfm.polynomial
// SAME-NOT: warning
// SAME: tfm.relu
module attributes {umbra.approximations = "gelu:relu"} {
  func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
    %0 = tfm.gelu %x : tensor<4xf32> loc("/blocks.0/mlp/act/Mul")
    return %0 : tensor<4xf32>
  }
}
