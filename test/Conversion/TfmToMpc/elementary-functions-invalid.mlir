// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc="exp-max=30 log-max=1e6" --verify-diagnostics

// Hyperbolic functions built on exp and log are refused, naming the op,
// where the exp or log domain does not fit the encoding.
func.func @sinh_too_large(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.sinh' op needs exp on [.., 3.000000e+01], whose results do not fit 16 fractional bits with headroom}}
  %0 = tfm.sinh %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @cosh_too_large(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.cosh' op needs exp on [.., 3.000000e+01]}}
  %0 = tfm.cosh %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @asinh_too_wide(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.asinh' op needs log on [1.000000e-04, 1.000000e+06], which does not fit 16 fractional bits}}
  %0 = tfm.asinh %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @acosh_too_wide(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.acosh' op needs log on [1.000000e-04, 1.000000e+06]}}
  %0 = tfm.acosh %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @atanh_too_wide(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.atanh' op needs log on [1.000000e-04, 1.000000e+06]}}
  %0 = tfm.atanh %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
