// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-assign-roles=public-weights --convert-tfm-to-mpc="frac-bits=12" | FileCheck %s --check-prefix=OPEN

// The client's activation meets the owner's weight: both are shared, the
// product is truncated back to frac-bits, and only the result is revealed,
// to the client.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: -> !mpc.tensor<2x3, client, frac = 16>
// CHECK-DAG: %[[X:.*]] = mpc.encode %arg0 : tensor<2x4xf32> -> !mpc.tensor<2x4, client, frac = 16>
// CHECK-DAG: %[[W:.*]] = mpc.encode %{{.*}} : tensor<4x3xf32> -> !mpc.tensor<4x3, owner, frac = 16>
// CHECK-DAG: %[[XS:.*]] = mpc.share %[[X]] : {{.*}} -> !mpc.tensor<2x4, shared, frac = 16>
// CHECK-DAG: %[[WS:.*]] = mpc.share %[[W]] : {{.*}} -> !mpc.tensor<4x3, shared, frac = 16>
// CHECK: %[[P:.*]] = mpc.matmul %[[XS]], %[[WS]] : {{.*}} -> !mpc.tensor<2x3, shared, frac = 32>
// CHECK: %[[T:.*]] = mpc.trunc %[[P]] {bits = 16 : i64}
// CHECK: %[[R:.*]] = mpc.reveal %[[T]] {reason = "model output", to = #mpc.reveal_target<client>}
// CHECK: return %[[R]]
// With public weights the client computes alone, at 12 fractional bits, and
// nothing is shared or revealed.
// OPEN-LABEL: func.func @linear
// OPEN-NOT: mpc.share
// OPEN: mpc.matmul {{.*}} -> !mpc.tensor<2x3, client, frac = 24>
// OPEN: mpc.trunc {{.*}} {bits = 12 : i64}
// OPEN-NOT: mpc.reveal
// OPEN: return %{{.*}} : !mpc.tensor<2x3, client, frac = 12>
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 0.5, 0.25]]> : tensor<4x3xf32>
  %0 = tfm.linear %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// GeLU is ReLU(x) minus a correction for |x| < 4: one ReLU, one comparison
// against the threshold on |x| = 2 ReLU(x) - x, the polynomial's variable
// (|x| - 2) / 2, one degree-7 polynomial and one product with the bit.
// CHECK-LABEL: func.func @gelu
// CHECK: %[[X:.*]] = mpc.trunc
// CHECK: %[[R:.*]] = mpc.relu %[[X]] : !mpc.tensor<8, shared, frac = 16>
// CHECK: %[[RR:.*]] = mpc.add %[[R]], %[[R]]
// CHECK: %[[ABS:.*]] = mpc.sub %[[RR]], %[[X]]
// CHECK: %[[D:.*]] = mpc.sub %{{.*}}, %[[ABS]]
// CHECK: %[[IN:.*]] = mpc.drelu %[[D]]
// CHECK: mpc.sub %[[ABS]]
// CHECK: mpc.mul
// CHECK: mpc.trunc
// CHECK: %[[G:.*]] = mpc.poly %{{.*}} {coefficients = array<f64: [[C0:[^,]+]], [[C1:[^,]+]], [[C2:[^,]+]], [[C3:[^,]+]], [[C4:[^,]+]], [[C5:[^,]+]], [[C6:[^,]+]], [[C7:[^,>]+]]>}
// CHECK: %[[P:.*]] = mpc.mul %[[IN]], %[[G]] : (!mpc.tensor<8, shared, frac = 0>, !mpc.tensor<8, shared, frac = 16>) -> !mpc.tensor<8, shared, frac = 16>
// CHECK: mpc.sub %[[R]], %[[P]]
// CHECK-NOT: mpc.drelu
// CHECK-NOT: mpc.poly
// CHECK: return
func.func @gelu(%x: tensor<8xf32> {mpc.visibility = #mpc.visibility<client>}) -> tensor<8xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]> : tensor<8xf32>
  %0 = tfm.mul %x, %w : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %1 = tfm.gelu %0 : tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// A value one party holds is computed by that party: no MPC gate is shared.
// CHECK-LABEL: func.func @gelu_owner
// CHECK: mpc.relu %{{.*}} : !mpc.tensor<8, owner, frac = 16>
// CHECK: mpc.poly %{{.*}} : !mpc.tensor<8, owner, frac = 16>
func.func @gelu_owner(%x: tensor<8xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<8xf32> {
  %0 = tfm.gelu %x : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// A causally masked softmax: the public mask is applied locally, the row
// maximum, exp and one reciprocal per row (range [0.5, keys]) follow.
// CHECK-LABEL: func.func @masked_softmax
// CHECK: mpc.encode %{{.*}} : tensor<4x4xf32> -> !mpc.tensor<4x4, public, frac = 0>
// CHECK: mpc.max %{{.*}} {axis = 2 : i64} : !mpc.tensor<2x4x4, shared, frac = 16> -> !mpc.tensor<2x4x1, shared, frac = 16>
// CHECK: mpc.exp
// CHECK: mpc.reduce_sum %{{.*}} {axes = array<i64: 2>}
// CHECK: mpc.reciprocal %{{.*}} {hi = 4.000000e+00 : f64, lo = 5.000000e-01 : f64}
// CHECK: mpc.reveal
func.func @masked_softmax(%s: tensor<2x4x4xf32> {mpc.visibility = #mpc.visibility<owner>}, %t: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %0 = tfm.add %s, %t : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %1 = tfm.causal_mask %0 : tensor<2x4x4xf32>
  %2 = tfm.softmax %1 {axis = -1 : i64} : tensor<2x4x4xf32>
  return %2 : tensor<2x4x4xf32>
}

// -----

// LayerNorm: the mean with 1/n as a factor (1/8 is exact at 3 bits), the
// squares kept at 2f until their sum S, one rsqrt of S + n eps on
// n [epsilon, variance-max + epsilon] (rsqrt(S/n + eps) = sqrt(n) rsqrt(S +
// n eps)): S enters with the bits the gate's range allows, its rsqrt leaves
// with the bits its smallest value needs. The normalisation of the client's
// input runs at the client in plaintext; only the product with the owner's
// scale (a factor: 8 more bits) is shared.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[W:.*]] = mpc.encode %{{.*}} : tensor<8xf32> -> !mpc.tensor<8, owner, frac = 24>
// CHECK: mpc.reduce_sum {{.*}} -> !mpc.tensor<2x1, client, frac = 16>
// CHECK: mpc.mul {{.*}} -> !mpc.tensor<2x1, client, frac = 19>
// CHECK: mpc.trunc {{.*}} {bits = 3 : i64}
// CHECK: %[[D:.*]] = mpc.sub
// CHECK: %[[SQ:.*]] = mpc.mul %[[D]], %[[D]] : {{.*}} -> !mpc.tensor<2x8, client, frac = 32>
// CHECK: %[[S:.*]] = mpc.reduce_sum %[[SQ]] {{.*}} -> !mpc.tensor<2x1, client, frac = 32>
// CHECK: mpc.trunc %[[S]] {bits = 12 : i64} : {{.*}} -> !mpc.tensor<2x1, client, frac = 20>
// CHECK: mpc.rsqrt %{{.*}} {hi = 80000.000{{[0-9]*}} : f64, lo = 7.99{{[0-9]*}}E-5 : f64} : !mpc.tensor<2x1, client, frac = 20> -> !mpc.tensor<2x1, client, frac = 29>
// CHECK: mpc.share
// CHECK: mpc.mul %{{.*}}, %[[WS:.*]] : {{.*}} -> !mpc.tensor<2x8, shared, frac = 40>
// CHECK: mpc.trunc {{.*}} {bits = 24 : i64}
func.func @layer_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  %0 = tfm.layer_norm %x scale %g {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// The client's token ids never leave the client in the clear: it one-hot
// encodes them, shares the one-hot matrix, and the lookup is a product.
// CHECK-LABEL: func.func @embedding
// CHECK: %[[H:.*]] = mpc.one_hot %arg0 {depth = 5 : i64} : tensor<1x3xi64> -> !mpc.tensor<1x3x5, client, frac = 0>
// CHECK: %[[HS:.*]] = mpc.share %[[H]]
// CHECK: mpc.matmul %[[HS]], %{{.*}} -> !mpc.tensor<1x3x2, shared, frac = 16>
// CHECK-NOT: mpc.trunc
// CHECK: mpc.reveal
func.func @embedding(%ids: tensor<1x3xi64>) -> tensor<1x3x2xf32> {
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 0.0]]> : tensor<5x2xf32>
  %0 = tfm.embedding %t, %ids : (tensor<5x2xf32>, tensor<1x3xi64>) -> tensor<1x3x2xf32>
  return %0 : tensor<1x3x2xf32>
}

// -----

// 1 / sqrt(reduce_mean(d * d) + eps), LayerNormalization's InvStdDev output
// as the importer writes it, is one rsqrt on the norms' range; elementwise
// max is b + relu(a - b); a float cast is the identity.
// CHECK-LABEL: func.func @inv_std_dev_max_cast
// CHECK-NOT: tfm.
// CHECK: mpc.rsqrt %{{.*}} {hi = 10000.00001 : f64, lo = 9.99{{[0-9]*}}E-6 : f64}
// CHECK: %[[D:.*]] = mpc.sub
// CHECK: %[[R:.*]] = mpc.relu %[[D]] : !mpc.tensor<2x4, shared, frac = 16>
// CHECK: mpc.add %{{.*}}, %[[R]]
// CHECK: return
func.func @inv_std_dev_max_cast(%x: tensor<2x4xf32> {mpc.visibility = #mpc.visibility<owner>},
                                %y: tensor<2x4xf32>)
    -> (tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x4xf16>) {
  %eps = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<1.0e-5> : tensor<f32>
  %0 = tfm.reduce_mean %x {axes = array<i64: 1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %1 = tfm.sub %x, %0 : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %2 = tfm.mul %1, %1 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %3 = tfm.reduce_mean %2 {axes = array<i64: 1>} : tensor<2x4xf32> -> tensor<2x1xf32>
  %4 = tfm.add %3, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %5 = tfm.sqrt %4 : tensor<2x1xf32>
  %6 = tfm.reciprocal %5 : tensor<2x1xf32>
  %7 = tfm.max %x, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %8 = tfm.cast %7 : tensor<2x4xf32> to tensor<2x4xf16>
  return %6, %7, %8 : tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x4xf16>
}

// -----

// ReduceMax over several axes: one row maximum per axis, then the reshape
// that drops the reduced axes.
// CHECK-LABEL: func.func @reduce_max_axes
// CHECK: mpc.max %{{.*}} {axis = 0 : i64} : !mpc.tensor<2x3x4, owner, frac = 16> -> !mpc.tensor<1x3x4, owner, frac = 16>
// CHECK: mpc.max %{{.*}} {axis = 2 : i64} : !mpc.tensor<1x3x4, owner, frac = 16> -> !mpc.tensor<1x3x1, owner, frac = 16>
// CHECK: mpc.reshape %{{.*}} -> !mpc.tensor<3, owner, frac = 16>
func.func @reduce_max_axes(%x: tensor<2x3x4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<3xf32> {
  %0 = tfm.reduce_max %x {axes = array<i64: 0, 2>, keepdims = false} : tensor<2x3x4xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Gather by constant indices (negative ones count from the end): one slice
// per index, a concat, a reshape to the result.
// CHECK-LABEL: func.func @gather_constant
// CHECK: mpc.slice %{{.*}} {offsets = array<i64: 0, 3>, strides = array<i64: 1, 1>} : !mpc.tensor<2x4, owner, frac = 16> -> !mpc.tensor<2x1, owner, frac = 16>
// CHECK: mpc.slice %{{.*}} {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>}
// CHECK: mpc.concat {{.*}} {axis = 1 : i64} : {{.*}} -> !mpc.tensor<2x2, owner, frac = 16>
// CHECK: mpc.reshape %{{.*}} -> !mpc.tensor<2x2, owner, frac = 16>
func.func @gather_constant(%x: tensor<2x4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<2x2xf32> {
  %i = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[-1, 1]> : tensor<2xi64>
  %0 = tfm.gather %x, %i {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// A negative axis counts from the end too.
// CHECK-LABEL: func.func @gather_negative_axis
// CHECK: mpc.slice %{{.*}} {offsets = array<i64: 0, 2>, strides = array<i64: 1, 1>} : !mpc.tensor<2x4, owner, frac = 16> -> !mpc.tensor<2x1, owner, frac = 16>
// CHECK-NOT: mpc.concat
// CHECK: mpc.reshape %{{.*}} -> !mpc.tensor<2x1, owner, frac = 16>
func.func @gather_negative_axis(%x: tensor<2x4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<2x1xf32> {
  %i = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[2]> : tensor<1xi64>
  %0 = tfm.gather %x, %i {axis = -1 : i64} : (tensor<2x4xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

// A sliding-window mask (window 2): the public 0/1 mask keeps the diagonal
// and the key before it.
// CHECK-LABEL: func.func @window_softmax
// CHECK: arith.constant {{.*}}dense<{{\[}}[1.000000e+00, 0.000000e+00, 0.000000e+00], [1.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 1.000000e+00]]> : tensor<3x3xf32>
// CHECK: mpc.max
// CHECK: mpc.exp
func.func @window_softmax(%s: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %1 = tfm.causal_mask %s {window = 2 : i64} : tensor<2x3x3xf32>
  %2 = tfm.softmax %1 {axis = -1 : i64} : tensor<2x3x3xf32>
  return %2 : tensor<2x3x3xf32>
}
