// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc --verify-diagnostics

func.func @bad_shape(%t: tensor<3xi64>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'tfm.one_hot' op result shape must be the ids' shape followed by depth}}
  %h = tfm.one_hot %t {depth = 4 : i64} : tensor<3xi64> -> tensor<3x5xf32>
  return %h : tensor<3x5xf32>
}

// -----

func.func @bad_axis(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'tfm.log_softmax' op}}
  %y = tfm.log_softmax %x {axis = 2 : i64} : tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}
