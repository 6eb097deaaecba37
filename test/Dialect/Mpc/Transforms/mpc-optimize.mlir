// RUN: mpc-opt %s --split-input-file --mpc-optimize | FileCheck %s

// Nested truncations become one.
// CHECK-LABEL: func.func @nested
// CHECK-NEXT: %[[T:.*]] = mpc.trunc %arg0 {bits = 24 : i64, mpc.round = 0 : i64} : !mpc.tensor<4, shared, frac = 40> -> !mpc.tensor<4, shared, frac = 16>
// CHECK-NEXT: return %[[T]]
func.func @nested(%x: !mpc.tensor<4, shared, frac = 40>) -> !mpc.tensor<4, shared, frac = 16> {
  %0 = mpc.trunc %x {bits = 8 : i64} : !mpc.tensor<4, shared, frac = 40> -> !mpc.tensor<4, shared, frac = 32>
  %1 = mpc.trunc %0 {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 32> -> !mpc.tensor<4, shared, frac = 16>
  return %1 : !mpc.tensor<4, shared, frac = 16>
}

// -----

// The sum of two truncated products is truncated once.
// CHECK-LABEL: func.func @sum_of_products
// CHECK: %[[A:.*]] = mpc.mul %arg0, %arg1
// CHECK: %[[B:.*]] = mpc.mul %arg0, %arg2
// CHECK: %[[S:.*]] = mpc.add %[[A]], %[[B]] : (!mpc.tensor<4, shared, frac = 32>, !mpc.tensor<4, shared, frac = 32>) -> !mpc.tensor<4, shared, frac = 32>
// CHECK: mpc.trunc %[[S]] {bits = 16 : i64
// CHECK-NOT: mpc.trunc
func.func @sum_of_products(%x: !mpc.tensor<4, shared, frac = 16>, %y: !mpc.tensor<4, shared, frac = 16>,
                           %z: !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16> {
  %0 = mpc.mul %x, %y : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 32>
  %1 = mpc.trunc %0 {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 32> -> !mpc.tensor<4, shared, frac = 16>
  %2 = mpc.mul %x, %z : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 32>
  %3 = mpc.trunc %2 {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 32> -> !mpc.tensor<4, shared, frac = 16>
  %4 = mpc.add %1, %3 : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
  return %4 : !mpc.tensor<4, shared, frac = 16>
}

// -----

// A truncation used twice is kept (merging would compute it twice).
// CHECK-LABEL: func.func @shared_trunc
// CHECK-COUNT-2: mpc.trunc
func.func @shared_trunc(%x: !mpc.tensor<4, shared, frac = 32>, %y: !mpc.tensor<4, shared, frac = 32>)
    -> (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) {
  %0 = mpc.trunc %x {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 32> -> !mpc.tensor<4, shared, frac = 16>
  %1 = mpc.trunc %y {bits = 16 : i64} : !mpc.tensor<4, shared, frac = 32> -> !mpc.tensor<4, shared, frac = 16>
  %2 = mpc.add %0, %1 : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
  return %2, %0 : !mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, shared, frac = 16>
}

// -----

// Independent openings are scheduled into the same round and made adjacent;
// the dependent one follows. Local ops cost no round.
// CHECK-LABEL: func.func @schedule
// CHECK-SAME: attributes {mpc.rounds = 2 : i64}
// CHECK: mpc.drelu %arg0 {mpc.round = 0 : i64}
// CHECK-NEXT: mpc.drelu %arg1 {mpc.round = 0 : i64}
// CHECK-NEXT: mpc.mul {{.*}}mpc.round = 1 : i64
// CHECK-NEXT: mpc.neg
func.func @schedule(%x: !mpc.tensor<4, shared, frac = 16>, %y: !mpc.tensor<4, shared, frac = 16>)
    -> (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) {
  %0 = mpc.drelu %x : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
  %1 = mpc.mul %0, %x : (!mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
  %2 = mpc.drelu %y : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 0>
  %3 = mpc.neg %1 : !mpc.tensor<4, shared, frac = 16>
  return %2, %3 : !mpc.tensor<4, shared, frac = 0>, !mpc.tensor<4, shared, frac = 16>
}
