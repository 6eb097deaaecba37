// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s
// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc="reciprocal-min=0.5 reciprocal-max=8 sqrt-max=64 log-min=0.25 log-max=16 exp-max=4" | FileCheck %s --check-prefix=DOMAIN

// Functions of secret data (Functions.cpp). The input is the client's x
// plus the owner's w, so every gate runs on shared values.

// tanh (odd): the sign bit, |x| as a product with the sign, the bit
// [|x| < 6], the tail polynomial on u = (|x| - 3) / 3, 1 - g times the sign.
// CHECK-LABEL: func.func @tanh
// CHECK: %[[X:.*]] = mpc.add %{{.*}}, %{{.*}} : {{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[B:.*]] = mpc.drelu %[[X]] : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[BB:.*]] = mpc.add %[[B]], %[[B]]
// CHECK: %[[S:.*]] = mpc.sub %[[BB]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 0>)
// CHECK: %[[A:.*]] = mpc.mul %[[S]], %[[X]] : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[IN:.*]] = mpc.drelu
// CHECK: mpc.trunc
// CHECK: %[[G:.*]] = mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){14} ?}}{{[^,]+}}>}
// CHECK: %[[GI:.*]] = mpc.mul %[[IN]], %[[G]]
// CHECK: %[[OMG:.*]] = mpc.sub %{{.*}}, %[[GI]]
// CHECK: %[[Y:.*]] = mpc.mul %[[S]], %[[OMG]]
// CHECK: mpc.reveal %[[Y]]
func.func @tanh(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.tanh %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// sigmoid: bit ? 1 - g : g, as g + bit (1 - 2g); a degree-12 tail on [0, 10].
// CHECK-LABEL: func.func @sigmoid
// CHECK: %[[B:.*]] = mpc.drelu
// CHECK: mpc.drelu
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){12} ?}}{{[^,]+}}>}
// CHECK: %[[GI:.*]] = mpc.mul
// CHECK: %[[OMG:.*]] = mpc.sub %{{.*}}, %[[GI]]
// CHECK: %[[D:.*]] = mpc.sub %[[OMG]], %[[GI]]
// CHECK: %[[P:.*]] = mpc.mul %[[B]], %[[D]]
// CHECK: mpc.add %[[GI]], %[[P]]
func.func @sigmoid(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sigmoid %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// erf (odd) on [0, 4] with a degree-12 tail; softplus as ReLU plus a
// correction (degree 14 on [0, 12]); abs = 2 relu(x) - x.
// CHECK-LABEL: func.func @erf_softplus_abs
// CHECK: mpc.drelu
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){12} ?}}{{[^,]+}}>}
// CHECK: %[[R:.*]] = mpc.relu %[[X:[^ ]+]] :
// CHECK: %[[RR:.*]] = mpc.add %[[R]], %[[R]]
// CHECK: mpc.sub %[[RR]], %[[X]]
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){14} ?}}{{[^,]+}}>}
// CHECK: %[[R2:.*]] = mpc.relu %[[X]] :
// CHECK: %[[RR2:.*]] = mpc.add %[[R2]], %[[R2]]
// CHECK: mpc.sub %[[RR2]], %[[X]]
func.func @erf_softplus_abs(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.erf %s : tensor<4xf32>
  %1 = tfm.softplus %s : tensor<4xf32>
  %2 = tfm.abs %s : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// exp: y = x log2(e); one batch of comparisons against the integers
// -17 .. floor(exp-max log2 e) (32 by default, 7 with exp-max = 4); k and
// 2^k as public tables of the bits (local); 2^(y - k) a degree-5
// polynomial; one product.
// CHECK-LABEL: func.func @exp
// CHECK: %[[Y:.*]] = mpc.trunc
// CHECK: %[[YC:.*]] = mpc.reshape %[[Y]] : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 16>
// CHECK: %[[D:.*]] = mpc.sub %[[YC]], %{{.*}} : (!mpc.tensor<4x1, shared, frac = 16>, !mpc.tensor<32, public, frac = 16>) -> !mpc.tensor<4x32, shared, frac = 16>
// CHECK: %[[BITS:.*]] = mpc.drelu %[[D]] : !mpc.tensor<4x32, shared, frac = 16> -> !mpc.tensor<4x32, shared, frac = 0>
// CHECK: mpc.mul %[[BITS]], %{{.*}} : (!mpc.tensor<4x32, shared, frac = 0>, !mpc.tensor<32, public, frac = 16>) -> !mpc.tensor<4x32, shared, frac = 16>
// CHECK: mpc.reduce_sum {{.*}} {axes = array<i64: 1>}
// CHECK: mpc.mul %[[BITS]], %{{.*}} : (!mpc.tensor<4x32, shared, frac = 0>, !mpc.tensor<32, public, frac = 16>)
// CHECK: mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){5} ?}}{{[^,]+}}>}
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<4, shared, frac = 32>
// CHECK-NOT: mpc.drelu
// CHECK: mpc.reveal
// DOMAIN-LABEL: func.func @exp
// DOMAIN: mpc.drelu {{.*}} : !mpc.tensor<4x23, shared, frac = 16> -> !mpc.tensor<4x23, shared, frac = 0>
func.func @exp(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.exp %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// log: one batch of comparisons against the powers of two 2^-13 .. 2^13 of
// [1e-4, 1e4] (27; [0.25, 16]: 2^-1 .. 2^4, 6), e ln 2 and 2^-e as tables,
// m = x 2^-e (one product), ln(m) a degree-7 polynomial on [1, 2].
// CHECK-LABEL: func.func @log
// CHECK: %[[BITS:.*]] = mpc.drelu {{.*}} : !mpc.tensor<4x27, shared, frac = 16> -> !mpc.tensor<4x27, shared, frac = 0>
// CHECK: %[[E:.*]] = mpc.add
// CHECK: %[[INV:.*]] = mpc.add
// CHECK: mpc.mul %[[X:.*]], %[[INV]] : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 32>
// CHECK: %[[L:.*]] = mpc.poly %{{.*}} {coefficients = array<f64: {{([^,]+, ){7} ?}}{{[^,]+}}>}
// CHECK: mpc.add %[[E]], %[[L]]
// DOMAIN-LABEL: func.func @log
// DOMAIN: mpc.drelu {{.*}} : !mpc.tensor<4x6, shared, frac = 16> -> !mpc.tensor<4x6, shared, frac = 0>
func.func @log(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.log %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// sqrt: rsqrt on [2^-16, sqrt-max], s = x r, then s + r (x - s^2) / 2 with
// the residual exact at 33 bits.
// CHECK-LABEL: func.func @sqrt
// CHECK: %[[R:.*]] = mpc.rsqrt %[[X:.*]] {hi = 1.000000e+04 : f64, lo = 1.52587890625E-5 : f64}
// CHECK: %[[S0:.*]] = mpc.mul %[[X]], %[[R]]
// CHECK: %[[S:.*]] = mpc.trunc %[[S0]]
// CHECK: %[[SS:.*]] = mpc.mul %[[S]], %[[S]] : {{.*}} -> !mpc.tensor<4, shared, frac = 32>
// CHECK: %[[D:.*]] = mpc.sub %{{.*}}, %[[SS]] : {{.*}} -> !mpc.tensor<4, shared, frac = 32>
// CHECK: %[[H:.*]] = mpc.mul %[[D]], %{{.*}} -> !mpc.tensor<4, shared, frac = 33>
// CHECK: %[[C:.*]] = mpc.mul %[[R]], %[[H]] : {{.*}} -> !mpc.tensor<4, shared, frac = 49>
// CHECK: %[[CT:.*]] = mpc.trunc %[[C]] {bits = 33 : i64}
// CHECK: mpc.add %[[S]], %[[CT]]
// DOMAIN-LABEL: func.func @sqrt
// DOMAIN: mpc.rsqrt %{{.*}} {hi = 6.400000e+01 : f64, lo = 1.52587890625E-5 : f64}
func.func @sqrt(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sqrt %s : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// 1/y and x/y for a computed y of either sign: the reciprocal of |y| on
// [reciprocal-min, reciprocal-max] times the sign; the quotient corrected
// once by r (x - q y). (Without cse the two reciprocals stay apart.)
// CHECK-LABEL: func.func @reciprocal_div
// CHECK: %[[B:.*]] = mpc.drelu %[[Y:[^ ]+]] :
// CHECK: %[[S:.*]] = mpc.sub
// CHECK: %[[A:.*]] = mpc.mul %[[S]], %[[Y]]
// CHECK: %[[R:.*]] = mpc.reciprocal %[[A]] {hi = 1.000000e+04 : f64, lo = 1.000000e-04 : f64}
// CHECK: mpc.mul %[[S]], %[[R]]
// CHECK: mpc.reciprocal
// CHECK: %[[SR:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>)
// CHECK: %[[Q0:.*]] = mpc.mul %[[X:[^ ]+]], %[[SR]]
// CHECK: %[[Q:.*]] = mpc.trunc %[[Q0]]
// CHECK: %[[QY:.*]] = mpc.mul %[[Q]], %[[Y]] : {{.*}} -> !mpc.tensor<4, shared, frac = 32>
// CHECK: %[[E:.*]] = mpc.sub %{{.*}}, %[[QY]]
// CHECK: mpc.mul %[[SR]], %[[E]] : {{.*}} -> !mpc.tensor<4, shared, frac = 48>
// DOMAIN-LABEL: func.func @reciprocal_div
// DOMAIN: mpc.reciprocal %{{.*}} {hi = 8.000000e+00 : f64, lo = 5.000000e-01 : f64}
func.func @reciprocal_div(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.reciprocal %y : tensor<4xf32>
  %1 = tfm.div %w, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// pow by public constants: x^3 by two products, x^-2 the reciprocal of x^2,
// x^0.5 sqrt, x^-0.5 rsqrt on the reciprocal domain, x^2.5 x^2 sqrt(x),
// x^1.7 exp(1.7 log x) (the two batches of comparisons).
// CHECK-LABEL: func.func @pow
// CHECK: %[[X2:.*]] = mpc.mul %[[X:[^ ]+]], %[[X]]
// CHECK: %[[X2T:.*]] = mpc.trunc %[[X2]]
// CHECK: mpc.mul %[[X]], %[[X2T]]
// CHECK: mpc.reciprocal
// CHECK: mpc.rsqrt %[[X]] {hi = 1.000000e+04 : f64, lo = 1.52587890625E-5 : f64}
// CHECK: mpc.rsqrt %[[X]] {hi = 1.000000e+04 : f64, lo = 1.000000e-04 : f64}
// CHECK: mpc.drelu {{.*}} -> !mpc.tensor<4x27, shared, frac = 0>
// CHECK: mpc.drelu {{.*}} -> !mpc.tensor<4x32, shared, frac = 0>
func.func @pow(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %s = tfm.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c3 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<3.0> : tensor<f32>
  %cm2 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-2.0> : tensor<f32>
  %ch = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.5> : tensor<f32>
  %cmh = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-0.5> : tensor<f32>
  %c25 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<2.5> : tensor<f32>
  %c17 = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.7> : tensor<f32>
  %0 = tfm.pow %s, %c3 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %1 = tfm.pow %s, %cm2 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %2 = tfm.pow %s, %ch : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %3 = tfm.pow %s, %cmh : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %4 = tfm.pow %s, %c25 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %5 = tfm.pow %s, %c17 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A value held by the client alone: the same composition, at the client
// (the runtime evaluates its gates in plaintext), nothing shared.
// CHECK-LABEL: func.func @client_only
// CHECK-NOT: mpc.share
// CHECK: mpc.drelu {{.*}} -> !mpc.tensor<4, client, frac = 0>
// CHECK-NOT: mpc.reveal
// CHECK: return {{.*}} : !mpc.tensor<4, client, frac = 16>
func.func @client_only(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfm.sigmoid %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
