// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// Integers and bools are ring elements at 0 fractional bits (Integers.cpp):
// integer inputs are encoded at frac 0, products of integers are exact (no
// truncation), and outputs carry their element type for the client.

// CHECK-LABEL: func.func @int_mul
// CHECK-SAME: -> (!mpc.tensor<4, client, frac = 0> {mpc.element_type = i64})
// CHECK: %[[B:.*]] = mpc.encode %{{.*}} : tensor<4xi64> -> !mpc.tensor<4, owner, frac = 0>
// CHECK: %[[A:.*]] = mpc.encode %{{.*}} : tensor<4xi64> -> !mpc.tensor<4, client, frac = 0>
// CHECK: %[[P:.*]] = mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
// CHECK-NOT: mpc.trunc
// CHECK: mpc.reveal %[[P]]
func.func @int_mul(%a: tensor<4xi64>, %b: tensor<4xi64> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xi64> {
  %0 = tfm.mul %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// and = pq, xor = r + q - 2rq, not = 1 - s.
// CHECK-LABEL: func.func @logic
// CHECK-SAME: {mpc.element_type = i1}
// CHECK: %[[ONE:.*]] = mpc.encode %{{.*}} : tensor<f32> -> !mpc.tensor<public, frac = 0>
// CHECK: %[[AND:.*]] = mpc.mul %[[P:.*]], %[[Q:.*]] : {{.*}} -> !mpc.tensor<4, shared, frac = 0>
// CHECK: %[[RQ:.*]] = mpc.mul %[[AND]], %[[Q]]
// CHECK: %[[SUM:.*]] = mpc.add %[[AND]], %[[Q]]
// CHECK: %[[TWO:.*]] = mpc.add %[[RQ]], %[[RQ]]
// CHECK: %[[XOR:.*]] = mpc.sub %[[SUM]], %[[TWO]]
// CHECK: mpc.sub %[[ONE]], %[[XOR]]
func.func @logic(%p: tensor<4xi1>, %q: tensor<4xi1> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xi1> {
  %0 = tfm.and %p, %q : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = tfm.xor %0, %q : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = tfm.not %1 : tensor<4xi1>
  return %2 : tensor<4xi1>
}

// -----

// or = p + q - pq.
// CHECK-LABEL: func.func @or
// CHECK: %[[PQ:.*]] = mpc.mul
// CHECK: %[[S:.*]] = mpc.add
// CHECK: mpc.sub %[[S]], %[[PQ]]
func.func @or(%p: tensor<4xi1>, %q: tensor<4xi1> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xi1> {
  %0 = tfm.or %p, %q : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

// sign(x) = [x >= 0] - [-x >= 0] (one gate on [x; -x]), a real again by a
// local product with 2^16.
// CHECK-LABEL: func.func @sign
// CHECK: %[[BITS:.*]] = mpc.drelu %{{.*}} : !mpc.tensor<2x4, shared, frac = 16> -> !mpc.tensor<2x4, shared, frac = 0>
// CHECK-NOT: mpc.drelu
// CHECK: %[[S:.*]] = mpc.sub %{{.*}}, %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
// CHECK: mpc.mul %[[S]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
func.func @sign(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %d = tfm.sub %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.sign %d : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The last maximum is the first one of the reversed axis: n - 1 - argmax.
// CHECK-LABEL: func.func @argmax_last
// CHECK: %[[TWO:.*]] = mpc.encode %{{.*}} : tensor<f32> -> !mpc.tensor<public, frac = 0>
// CHECK: %[[S2:.*]] = mpc.slice %[[X:.*]] {offsets = array<i64: 0, 2>
// CHECK: %[[S1:.*]] = mpc.slice %[[X]] {offsets = array<i64: 0, 1>
// CHECK: %[[S0:.*]] = mpc.slice %[[X]] {offsets = array<i64: 0, 0>
// CHECK: %[[R:.*]] = mpc.concat %[[S2]], %[[S1]], %[[S0]] {axis = 1 : i64}
// CHECK: %[[I:.*]] = mpc.argmax %[[R]] {axis = 1 : i64} : !mpc.tensor<2x3, shared, frac = 16> -> !mpc.tensor<2x1, shared, frac = 0>
// CHECK: %[[L:.*]] = mpc.sub %[[TWO]], %[[I]]
// CHECK: mpc.reshape %[[L]] : !mpc.tensor<2x1, shared, frac = 0> -> !mpc.tensor<2, shared, frac = 0>
func.func @argmax_last(%x: tensor<2x3xf32>, %w: tensor<2x3xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<2xi64> {
  %d = tfm.add %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %0 = tfm.argmax %d {axis = 1 : i64, keepdims = false, select_last_index = true} : tensor<2x3xf32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// First maximum, keepdims: one mpc.argmax.
// CHECK-LABEL: func.func @argmax_first
// CHECK: mpc.argmax %{{.*}} {axis = 0 : i64} : !mpc.tensor<3x2, shared, frac = 0> -> !mpc.tensor<1x2, shared, frac = 0>
// CHECK-NOT: mpc.concat
func.func @argmax_first(%a: tensor<3x2xi32>, %b: tensor<3x2xi32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<1x2xi64> {
  %d = tfm.sub %a, %b : (tensor<3x2xi32>, tensor<3x2xi32>) -> tensor<3x2xi32>
  %0 = tfm.argmax %d {axis = 0 : i64, keepdims = true, select_last_index = false} : tensor<3x2xi32> -> tensor<1x2xi64>
  return %0 : tensor<1x2xi64>
}

// -----

// A real to an integer truncates toward zero, exactly: |x| by the sign bit,
// the truncation t = floor(|x|) + b, then t - 1 + [r >= 0] for the
// remainder r = |x| - t (one comparison removes b), and the sign again.
// CHECK-LABEL: func.func @cast_to_int
// CHECK-SAME: {mpc.element_type = i32}
// CHECK: %[[S:.*]] = mpc.drelu %[[X:.*]] : !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[S2:.*]] = mpc.add %[[S]], %[[S]]
// CHECK: %[[PM:.*]] = mpc.sub %[[S2]], %{{.*}}
// CHECK: %[[MAG:.*]] = mpc.mul %[[X]], %[[PM]] : {{.*}} -> !mpc.tensor<4, shared, frac = 16>
// CHECK: %[[T:.*]] = mpc.trunc %[[MAG]] {bits = 16 : i64}
// CHECK: %[[R:.*]] = mpc.sub %[[MAG]], %{{.*}}
// CHECK: mpc.drelu %[[R]]
// CHECK-NOT: mpc.drelu
// CHECK: mpc.mul %{{.*}}, %[[PM]] : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 0>) -> !mpc.tensor<4, shared, frac = 0>
func.func @cast_to_int(%x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xi32> {
  %d = tfm.sub %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfm.cast %d : tensor<4xf32> to tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// An integer to a real: a local product with 2^16; a real to a bool:
// x != 0 = 2 - [x >= 0] - [-x >= 0].
// CHECK-LABEL: func.func @casts
// CHECK: mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<4, client, frac = 0>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, client, frac = 16>
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x4, shared, frac = 16>
// CHECK: %[[GL:.*]] = mpc.add
// CHECK: mpc.sub %{{.*}}, %[[GL]] : (!mpc.tensor<public, frac = 0>, !mpc.tensor<4, shared, frac = 0>)
func.func @casts(%a: tensor<4xi64>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xi1> {
  %0 = tfm.cast %a : tensor<4xi64> to tensor<4xf32>
  %1 = tfm.sub %0, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = tfm.cast %1 : tensor<4xf32> to tensor<4xi1>
  return %2 : tensor<4xi1>
}

// -----

// Where by a bool model input: the client's bits, shared, select.
// CHECK-LABEL: func.func @where_bool_input
// CHECK: %[[C:.*]] = mpc.encode %{{.*}} : tensor<4xi1> -> !mpc.tensor<4, client, frac = 0>
// CHECK: %[[CS:.*]] = mpc.share %[[C]]
// CHECK: mpc.mul %[[CS]], %{{.*}} : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
func.func @where_bool_input(%c: tensor<4xi1>, %x: tensor<4xf32>, %w: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>}) -> tensor<4xf32> {
  %0 = tfm.where %c, %x, %w : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A concatenation keeps its inputs' precision (integers: frac 0), and an
// empty dimension broadcasts against 1 to 0 (Trilu of an empty matrix).
// CHECK-LABEL: func.func @concat_empty
// CHECK: mpc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (!mpc.tensor<2, client, frac = 0>, !mpc.tensor<2, client, frac = 0>) -> !mpc.tensor<4, client, frac = 0>
// CHECK: mpc.sub %{{.*}}, %{{.*}} : (!mpc.tensor<0x3, client, frac = 0>, !mpc.tensor<public, frac = 0>) -> !mpc.tensor<0x3, client, frac = 0>
// CHECK: mpc.add %{{.*}}, %{{.*}} : (!mpc.tensor<public, frac = 0>, !mpc.tensor<0x3, client, frac = 0>) -> !mpc.tensor<0x3, client, frac = 0>
func.func @concat_empty(%a: tensor<2xi64>, %e: tensor<0x3xi64>) -> (tensor<4xi64>, tensor<0x3xi64>) {
  %0 = tfm.concat %a, %a {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %m = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<true> : tensor<0x3xi1>
  %z = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0> : tensor<i64>
  %1 = tfm.where %m, %e, %z : (tensor<0x3xi1>, tensor<0x3xi64>, tensor<i64>) -> tensor<0x3xi64>
  return %0, %1 : tensor<4xi64>, tensor<0x3xi64>
}
