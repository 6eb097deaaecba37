// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// Integer division, modulo, powers and shifts (IntegerDivision.cpp): exact
// ring arithmetic at frac 0 and comparisons, no truncation except the exact
// floors of the shifts.

// Div of int8: the signs of a and b, |a| and |b| (b shared once), then the
// restoring long division over 8 quotient bits from 2^7 |b| down:
// bit = [r - 2^i |b| >= 0], r -= bit 2^i |b|, q += bit 2^i; the quotient
// times the signs' product.
// CHECK-LABEL: func.func @div
// CHECK: %[[A:.*]] = mpc.encode %arg0
// CHECK: mpc.drelu %[[A]]
// CHECK: %[[B:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
// CHECK: %[[S7:.*]] = mpc.mul %[[B]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 0>)
// CHECK: %[[D7:.*]] = mpc.sub %[[R:.*]], %[[S7]]
// CHECK: %[[BIT7:.*]] = mpc.drelu %[[D7]]
// CHECK: %[[T7:.*]] = mpc.mul %[[BIT7]], %[[S7]]
// CHECK: mpc.sub %[[R]], %[[T7]]
// CHECK-COUNT-7: mpc.drelu
// CHECK-NOT: mpc.drelu
// CHECK-NOT: mpc.trunc
// CHECK: mpc.reveal
func.func @div(%a: tensor<4xi8>, %b: tensor<4xi8> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi8> {
  %0 = tfm.div %a, %b : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Mod with the divisor's sign: 16 quotient bits, then [r != 0] (one more
// comparison) and [signs differ] = sa + sb - 2 sa sb add b; fmod (the
// dividend's sign) needs neither.
// CHECK-LABEL: func.func @mod
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x4, shared, frac = 0>
// CHECK-COUNT-16: mpc.drelu %{{.*}} : !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[NZ:.*]] = mpc.drelu %{{.*}}
// CHECK-NOT: mpc.drelu
// CHECK-NOT: mpc.trunc
// CHECK: return
// CHECK-LABEL: func.func @fmod
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x4, shared, frac = 0>
// CHECK-COUNT-16: mpc.drelu %{{.*}} : !mpc.tensor<4, shared, frac = 0>
// CHECK-NOT: mpc.drelu
// CHECK: return
func.func @mod(%a: tensor<4xi16> {mpc.visibility = #mpc.visibility<shared>}, %b: tensor<4xi16> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi16> {
  %0 = tfm.mod %a, %b {fmod = false} : (tensor<4xi16>, tensor<4xi16>) -> tensor<4xi16>
  return %0 : tensor<4xi16>
}
func.func @fmod(%a: tensor<4xi16> {mpc.visibility = #mpc.visibility<shared>}, %b: tensor<4xi16> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi16> {
  %0 = tfm.mod %a, %b {fmod = true} : (tensor<4xi16>, tensor<4xi16>) -> tensor<4xi16>
  return %0 : tensor<4xi16>
}

// -----

// Float fmod: a - b trunc(a / b), the quotient by the reciprocal gate.
// CHECK-LABEL: func.func @fmod_float
// CHECK: mpc.reciprocal
// CHECK: mpc.trunc %{{.*}} {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[P:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK: mpc.sub %{{.*}}, %[[P]]
func.func @fmod_float(%a: tensor<4xf32> {mpc.visibility = #mpc.visibility<shared>}, %b: tensor<4xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xf32> {
  %0 = tfm.mod %a, %b {fmod = true} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// An integer power: the one-hot of e over [0, 63] from one comparison of
// e against 0..64, the table x^1 .. x^63 by 6 levels of exact products
// (1, 1, 2, 4, 8, 16 and 31 new powers: no truncation), one product with
// the one-hot and a sum.
// CHECK-LABEL: func.func @pow_int
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x65, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x1, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x2, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x4, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x8, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x16, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x31, shared, frac = 0>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4x63, shared, frac = 0>
// CHECK: mpc.reduce_sum
// CHECK-NOT: mpc.trunc
// CHECK: return
func.func @pow_int(%x: tensor<4xi32> {mpc.visibility = #mpc.visibility<shared>}, %e: tensor<4xi32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi32> {
  %0 = tfm.pow %x, %e : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// A real base: the same table of truncated products, and 1 / x^|e| where
// e < 0.
// CHECK-LABEL: func.func @pow_real
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x65, shared, frac = 0>
// CHECK: mpc.trunc {{.*}} -> !mpc.tensor<4x31, shared, frac = 16>
// CHECK: mpc.reciprocal
func.func @pow_real(%x: tensor<4xf32> {mpc.visibility = #mpc.visibility<shared>}, %e: tensor<4xi64> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xf32> {
  %0 = tfm.pow %x, %e : (tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Shifts of uint8 by s: the one-hot of s over [0, 8) (s >= 8: none) picks
// the power of two 2^s (left) or 2^(8-s) (right) from a public table; one
// product v = x 2^..., then one exact floor of v / 2^8 (v read at 8
// fractional bits: one truncation, one comparison): right, floor(v / 2^8);
// left, v - 2^8 floor(v / 2^8).
// CHECK-LABEL: func.func @shift_right
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x9, shared, frac = 0>
// CHECK: mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4x8, shared, frac = 0>, !mpc.tensor<8, public, frac = 0>)
// CHECK: %[[V:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
// CHECK: %[[V8:.*]] = mpc.mul %[[V]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 8>) -> !mpc.tensor<4, shared, frac = 8>
// CHECK: mpc.trunc %[[V8]] {bits = 8 : i64}
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4, shared, frac = 8>
// CHECK-NOT: mpc.trunc
// CHECK-NOT: mpc.drelu
// CHECK-LABEL: func.func @shift_left
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4x9, shared, frac = 0>
// CHECK: mpc.trunc %{{.*}} {bits = 8 : i64}
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<4, shared, frac = 8>
// CHECK-NOT: mpc.trunc
// CHECK-NOT: mpc.drelu
// CHECK: mpc.sub
func.func @shift_right(%x: tensor<4xi8> {mpc.visibility = #mpc.visibility<shared>}, %s: tensor<4xi8> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi8> {
  %0 = tfm.bitshift %x, %s {left = false} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}
func.func @shift_left(%x: tensor<4xi8> {mpc.visibility = #mpc.visibility<shared>}, %s: tensor<4xi8> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi8> {
  %0 = tfm.bitshift %x, %s {left = true} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// A public divisor meets the secret dividend: it takes the dividend's
// holder (plus a local zero) so that its sign bit is a gate on shared data.
// CHECK-LABEL: func.func @div_public
// CHECK: %[[Z:.*]] = mpc.sub %[[A:.*]], %[[A]] : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
// CHECK: %[[B:.*]] = mpc.add %{{.*}}, %[[Z]] : (!mpc.tensor<4, public, frac = 0>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
// CHECK-NOT: mpc.drelu %{{.*}} : !mpc.tensor<{{.*}}public
// CHECK: mpc.reveal
func.func @div_public(%a: tensor<4xi32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<4xi32> {
  %b = arith.constant dense<[2, -3, 5, 7]> : tensor<4xi32>
  %0 = tfm.div %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}
