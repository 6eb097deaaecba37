// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc --verify-diagnostics

func.func @divide_by_zero_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[2.0, 0.0]> : tensor<2xf32>
  // expected-error @+1 {{divides by a constant with a zero element}}
  %0 = tfm.div %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @comparison(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xi1> {
  // expected-error @+1 {{'tfm.less' op has no MPC lowering}}
  %0 = tfm.less %x, %y : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xi1>
  return %0 : tensor<8xi1>
}

// -----

func.func @computed_condition(%c: tensor<8xi1>, %x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{selects by a computed condition (or a private one)}}
  %0 = tfm.where %c, %x, %y : (tensor<8xi1>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @gather_private_indices(%x: tensor<8x4xf32>, %i: tensor<2xi64>) -> tensor<2x4xf32> {
  // expected-error @+1 {{gathers by indices computed from the inputs}}
  %0 = tfm.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// A mask the model owner declared private is not public structure: the
// lowering does not reveal it by selecting with it in the clear.
func.func @private_condition(%x: tensor<2xf32>, %y: tensor<2xf32>) -> tensor<2xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[true, false]> : tensor<2xi1>
  // expected-error @+1 {{selects by a computed condition (or a private one)}}
  %0 = tfm.where %c, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @gather_owner_indices(%x: tensor<8x4xf32>) -> tensor<2x4xf32> {
  %i = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1, 3]> : tensor<2xi64>
  // expected-error @+1 {{gathers by indices computed from the inputs (or private ones)}}
  %0 = tfm.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
