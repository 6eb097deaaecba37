// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc="exp-max=30 log-max=1e6" --verify-diagnostics
// RUN: not mpc-opt %s --convert-tfm-to-mpc=reciprocal-min=0 2>&1 | FileCheck %s --check-prefix=RECIPROCAL
// RUN: not mpc-opt %s --convert-tfm-to-mpc="log-min=2 log-max=1" 2>&1 | FileCheck %s --check-prefix=LOG
// RUN: not mpc-opt %s --convert-tfm-to-mpc=exp-max=0 2>&1 | FileCheck %s --check-prefix=EXP
// RUN: not mpc-opt %s --convert-tfm-to-mpc=sqrt-max=-1 2>&1 | FileCheck %s --check-prefix=SQRT

// RECIPROCAL: reciprocal-min and reciprocal-max must satisfy 0 < min < max <= 2^24, got 0{{.*}} and 1{{.*}}
// LOG: log-min and log-max must satisfy 0 < min < max, got 2{{.*}} and 1{{.*}}
// EXP: exp-max must be in (0, 40], got 0
// SQRT: sqrt-max must be in (0, 2^40], got -1

// Domains whose tables or results do not fit the encoding are refused
// where they are used, naming the op.
func.func @exp_too_large(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.exp' op needs exp on [.., 3.000000e+01], whose results do not fit 16 fractional bits with headroom}}
  %0 = tfm.exp %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @log_too_wide(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.log' op needs log on [1.000000e-04, 1.000000e+06], which does not fit 16 fractional bits}}
  %0 = tfm.log %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A computed exponent goes through exp and log: the same domains.
func.func @pow_computed_exponent(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.pow' op needs log on [1.000000e-04, 1.000000e+06]}}
  %0 = tfm.pow %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
