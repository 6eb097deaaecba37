// RUN: not mpc-opt %s --convert-tfm-to-mpc=frac-bits=40 2>&1 | FileCheck %s --check-prefix=FRAC
// RUN: not mpc-opt %s --convert-tfm-to-mpc=gelu-threshold=-1 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: not mpc-opt %s --convert-tfm-to-mpc=silu-degree=0 2>&1 | FileCheck %s --check-prefix=DEGREE

// FRAC: frac-bits must be between 1 and 24, got 40
// THRESHOLD: gelu-threshold must be in (0, 64], got -1
// DEGREE: silu-degree must be in [1, 16], got 0
func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}
