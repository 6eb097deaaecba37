// RUN: mpc-opt %s --split-input-file --convert-tfm-to-mpc | FileCheck %s

// One-hot rows (Losses.cpp, oneHotOf): ids computed inside the model are
// secret, and their rows are differences of the comparisons [id >= j]
// against the public candidates j = 0 .. depth, all in one DReLU gate;
// nothing is revealed and no holder is needed. (The ids below are shared:
// cast from the client's input plus the owner's zeros.)

// CHECK-LABEL: func.func @computed_ids
// CHECK: %[[D:.*]] = mpc.sub %{{.*}}, %{{.*}} : (!mpc.tensor<3x1, shared, frac = 0>, !mpc.tensor<5, public, frac = 0>) -> !mpc.tensor<3x5, shared, frac = 0>
// CHECK: %[[GE:.*]] = mpc.drelu %[[D]] : !mpc.tensor<3x5, shared, frac = 0>
// CHECK-DAG: %[[LO:.*]] = mpc.slice %[[GE]] {{.*}}offsets = array<i64: 0, 0>{{.*}} -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK-DAG: %[[HI:.*]] = mpc.slice %[[GE]] {{.*}}offsets = array<i64: 0, 1>{{.*}} -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK: %[[H:.*]] = mpc.sub %[[LO]], %[[HI]]

// CHECK-NOT: mpc.one_hot
func.func @computed_ids(%x: tensor<3xf32>) -> tensor<3x4xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<3xf32>
  %s = tfm.add %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %i = tfm.cast %s : tensor<3xf32> to tensor<3xi64>
  %h = tfm.one_hot %i {depth = 4 : i64} : tensor<3xi64> -> tensor<3x4xf32>
  return %h : tensor<3x4xf32>
}

// -----

// Wrapping (ONNX's negative indices): candidates -depth .. depth, and the
// rows of id and id - depth are added.
// CHECK-LABEL: func.func @computed_ids_wrap
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<3x9, shared, frac = 0>
// CHECK: %[[H:.*]] = mpc.sub {{.*}} -> !mpc.tensor<3x8, shared, frac = 0>
// CHECK-DAG: %[[N:.*]] = mpc.slice %[[H]] {{.*}}offsets = array<i64: 0, 0>{{.*}} -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK-DAG: %[[P:.*]] = mpc.slice %[[H]] {{.*}}offsets = array<i64: 0, 4>{{.*}} -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK: mpc.add %[[N]], %[[P]]
func.func @computed_ids_wrap(%x: tensor<3xf32>) -> tensor<3x4xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<3xf32>
  %s = tfm.add %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %i = tfm.cast %s : tensor<3xf32> to tensor<3xi64>
  %h = tfm.one_hot %i {depth = 4 : i64, wrap_negative} : tensor<3xi64> -> tensor<3x4xf32>
  return %h : tensor<3x4xf32>
}

// -----

// An ignored id inside [0, depth) gets a zero row: its column is cleared
// by a public 0/1 factor (local, no truncation at frac 0).
// CHECK-LABEL: func.func @computed_ids_ignore
// CHECK: mpc.drelu
// CHECK: mpc.mul %{{.*}}, %{{.*}} : (!mpc.tensor<3x4, shared, frac = 0>, !mpc.tensor<4, public, frac = 0>) -> !mpc.tensor<3x4, shared, frac = 0>
// CHECK-NOT: mpc.trunc
func.func @computed_ids_ignore(%x: tensor<3xf32>) -> tensor<3x4xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<3xf32>
  %s = tfm.add %x, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %i = tfm.cast %s : tensor<3xf32> to tensor<3xi64>
  %h = tfm.one_hot %i {depth = 4 : i64, ignore_index = 2 : i64} : tensor<3xi64> -> tensor<3x4xf32>
  return %h : tensor<3x4xf32>
}

// -----

// Public constant ids: public constant rows, no protocol at all.
// CHECK-LABEL: func.func @constant_ids
// CHECK-NOT: mpc.drelu
// CHECK: mpc.encode %{{.*}} : tensor<2x4xf64> -> !mpc.tensor<2x4, public, frac = 0>
func.func @constant_ids() -> tensor<2x4xf32> {
  %r = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[0, 3]> : tensor<2xi64>
  %h = tfm.one_hot %r {depth = 4 : i64} : tensor<2xi64> -> tensor<2x4xf32>
  return %h : tensor<2x4xf32>
}

// -----

// A gather by the owner's private constant indices: the owner evaluates
// the same comparisons in plaintext (candidates -8 .. 8: Gather's negative
// indices wrap) and shares the rows; one product.
// CHECK-LABEL: func.func @gather_owner_indices
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x17, owner, frac = 0>
// CHECK: mpc.share %{{.*}} : !mpc.tensor<2x8, owner, frac = 0> -> !mpc.tensor<2x8, shared, frac = 0>
// CHECK: mpc.matmul %{{.*}}, %{{.*}} : (!mpc.tensor<2x8, shared, frac = 0>, !mpc.tensor<8x4, {{.*}}>) -> !mpc.tensor<2x4, shared, frac = 16>
func.func @gather_owner_indices(%x: tensor<8x4xf32>) -> tensor<2x4xf32> {
  %i = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1, 3]> : tensor<2xi64>
  %0 = tfm.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// An embedding of computed ids (a token chosen inside the model): rows by
// comparisons over the vocabulary, then the product with the table.
// CHECK-LABEL: func.func @embedding_computed_ids
// CHECK: mpc.drelu %{{.*}} : !mpc.tensor<2x7, shared, frac = 0>
// CHECK: mpc.matmul %{{.*}}, %{{.*}} : (!mpc.tensor<2x6, shared, frac = 0>, {{.*}}) -> !mpc.tensor<2x3, shared, frac = 16>
func.func @embedding_computed_ids(%x: tensor<2xf32>) -> tensor<2x3xf32> {
  %t = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.5> : tensor<6x3xf32>
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<0.0> : tensor<2xf32>
  %s = tfm.add %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %i = tfm.cast %s : tensor<2xf32> to tensor<2xi64>
  %e = tfm.embedding %t, %i : (tensor<6x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %e : tensor<2x3xf32>
}
