// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc --verify-diagnostics

func.func @divide_by_zero_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[2.0, 0.0]> : tensor<2xf32>
  // expected-error @+1 {{divides by a constant with a zero element}}
  %0 = tfm.div %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// An op of another dialect in a tfm function has no lowering.
func.func @foreign_op(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'arith.addf' op has no MPC lowering}}
  %0 = arith.addf %x, %y : tensor<8xf32>
  return %0 : tensor<8xf32>
}
