// RUN: not mpc-opt %s --convert-tfm-to-mpc=frac-bits=40 2>&1 | FileCheck %s --check-prefix=FRAC
// RUN: not mpc-opt %s --convert-tfm-to-mpc=gelu-breakpoints=1,0 2>&1 | FileCheck %s --check-prefix=SPLINE

// FRAC: frac-bits must be between 1 and 24, got 40
// SPLINE: spline breakpoints must be at least two strictly increasing values
func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}
