// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s
// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc="reciprocal-max=8 log-min=0.25 log-max=16 exp-max=4" | FileCheck %s --check-prefix=DOMAIN

// Elementwise functions of secret data (FunctionLowerings.cpp). The input is
// the client's x plus the owner's w, so every gate runs on shared values.

// floor: the faithful truncation t to 0 bits, one comparison [x >= t],
// t - 1 + [x >= t]; exact.
// CHECK-LABEL: func.func @floor
// CHECK: %[[X:.*]] = mpc.add %{{.*}}, %{{.*}} : {{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[T:.*]] = mpc.trunc %[[X]] {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[TW:.*]] = mpc.mul %[[T]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[D:.*]] = mpc.sub %[[X]], %[[TW]]
// CHECK: %[[B:.*]] = mpc.drelu %[[D]]
// CHECK: %[[BM1:.*]] = mpc.sub %[[B]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 0>)
// CHECK: %[[F:.*]] = mpc.add %[[T]], %[[BM1]]
// CHECK: %[[Y:.*]] = mpc.mul %[[F]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK: mpc.reveal %[[Y]]
// CHECK-NOT: mpc.poly
func.func @floor(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.floor %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// round half to even: r = floor(x + 1/2); tie = [-(x + 1/2 - r) >= 0];
// parity from floor(r / 2) (r read at 1 fractional bit); r - tie * parity.
// CHECK-LABEL: func.func @round
// CHECK: mpc.trunc %{{.*}} {bits = 16 : i64}
// CHECK: %[[R:.*]] = mpc.add %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
// CHECK: %[[N:.*]] = mpc.neg
// CHECK: %[[TIE:.*]] = mpc.drelu %[[N]]
// CHECK: %[[H:.*]] = mpc.mul %[[R]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 1>) -> !mpc.tensor<4, shared, frac = 1>
// CHECK: mpc.trunc %[[H]] {bits = 1 : i64}
// CHECK: mpc.drelu
// CHECK: %[[P:.*]] = mpc.sub %[[R]], %{{.*}}
// CHECK: %[[TP:.*]] = mpc.mul %[[TIE]], %[[P]] : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
// CHECK: mpc.sub %[[R]], %[[TP]]
func.func @round(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.round %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// sign: [x >= 0] - [-x >= 0], both bits in one comparison gate.
// CHECK-LABEL: func.func @sign
// CHECK: %[[C:.*]] = mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} {{.*}} -> !mpc.tensor<2x4, shared, frac = 16>
// CHECK: mpc.drelu %[[C]] : !mpc.tensor<2x4, shared, frac = 16> -> !mpc.tensor<2x4, shared, frac = 0>
// CHECK-NOT: mpc.drelu
// CHECK: mpc.reveal
func.func @sign(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sign %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// sin: k = floor(x / 2pi + 1/2) with 1/2pi at 28 bits, x - 2pi k with 2pi
// at 40 bits, one degree-11 polynomial on [-pi - 0.02, pi + 0.02].
// CHECK-LABEL: func.func @sin
// CHECK-DAG: %[[TWOPI:.*]] = mpc.encode %{{.*}} : tensor<f64> -> !mpc.tensor<public, frac = 40>
// CHECK-DAG: %[[INV:.*]] = mpc.encode %{{.*}} : tensor<f64> -> !mpc.tensor<public, frac = 28>
// CHECK: %[[X:.*]] = mpc.add %{{.*}}, %{{.*}} : {{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: mpc.mul %[[X]], %[[INV]]
// CHECK: mpc.drelu
// CHECK: %[[KP:.*]] = mpc.mul %{{.*}}, %[[TWOPI]] : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 40>) -> !mpc.tensor<4, shared, frac = 40>
// CHECK: %[[KT:.*]] = mpc.trunc %[[KP]] {bits = 24 : i64}
// CHECK: mpc.sub %[[X]], %[[KT]]
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){11} ?}}{{[^,]+}}>}
func.func @sin(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sin %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// atan: [x >= 0], [x >= 1], [-x >= 1] in one gate, 1 / max(|x|, 1) on
// [1, reciprocal-max], a degree-9 polynomial on [0, 1].
// CHECK-LABEL: func.func @atan
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<3x4, shared, frac = 16> -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK: mpc.reciprocal %{{.*}} {hi = 1.000000e+04 : f64, lo = 1.000000e+00 : f64}
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){9} ?}}{{[^,]+}}>}
// DOMAIN-LABEL: func.func @atan
// DOMAIN: mpc.reciprocal %{{.*}} {hi = 8.000000e+00 : f64, lo = 1.000000e+00 : f64}
func.func @atan(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.atan %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// sinh: exp of the stacked [x, -x] (one batch of comparisons), halved
// difference.
// CHECK-LABEL: func.func @sinh
// CHECK: %[[S:.*]] = mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} {{.*}} -> !mpc.tensor<2x4, shared, frac = 16>
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x4x32, shared, frac = 16>
// CHECK-NOT: mpc.drelu
// CHECK: mpc.reveal
// DOMAIN-LABEL: func.func @sinh
// DOMAIN: mpc.drelu %{{.*}} : !mpc.tensor<2x4x23, shared, frac = 16>
func.func @sinh(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sinh %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// acosh: sqrt(x - 1) and sqrt(x + 1) in one rsqrt gate, then log.
// CHECK-LABEL: func.func @acosh
// CHECK: mpc.rsqrt %{{.*}} {hi = 1.000000e+04 : f64, lo = 1.52587890625E-5 : f64} : !mpc.tensor<2x4, shared, frac = 16>
// CHECK-NOT: mpc.rsqrt
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x27, shared, frac = 16>
// CHECK: mpc.poly
func.func @acosh(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.acosh %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// atanh: log of the stacked [1 + x, 1 - x] (one batch of comparisons).
// CHECK-LABEL: func.func @atanh
// CHECK: mpc.concat {{.*}} -> !mpc.tensor<2x4, shared, frac = 16>
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x4x27, shared, frac = 16>
// CHECK-NOT: mpc.drelu
// CHECK: mpc.poly
// DOMAIN-LABEL: func.func @atanh
// DOMAIN: mpc.drelu %{{.*}} : !mpc.tensor<2x4x6, shared, frac = 16>
func.func @atanh(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.atanh %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}
