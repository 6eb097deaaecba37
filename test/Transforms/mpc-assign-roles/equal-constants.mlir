// RUN: mpc-opt %s --umbra-pipeline="compile-to=tfm" | FileCheck %s --check-prefix=TFM
// RUN: mpc-opt %s --umbra-pipeline | FileCheck %s --check-prefix=MPC

// An owner's weight equal to a public literal stays the owner's: the
// pipeline's rewrites on tfm do not merge equal constants whose roles differ.
// TFM: arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.000000e+00, 2.000000e+00]>
// TFM: arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1.000000e+00, 2.000000e+00]>
// The client's sum meets the owner's weight: shared, then revealed. The
// owner's weight multiplies elementwise: encoded with 8 more fractional bits.
// MPC: mpc.encode %{{.*}} -> !mpc.tensor<2, owner, frac = 24>
// MPC: mpc.share
// MPC: mpc.reveal
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %a = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.0, 2.0]> : tensor<2xf32>
  %b = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = tfm.add %x, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = tfm.mul %0, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %1 : tensor<2xf32>
}
