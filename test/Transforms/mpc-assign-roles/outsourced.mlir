// RUN: mpc-opt %s --mpc-assign-roles | FileCheck %s --check-prefix=TWO
// RUN: mpc-opt %s --mpc-assign-roles="outsourced role=w=owner" | FileCheck %s --check-prefix=ROLES
// RUN: mpc-opt %s --umbra-pipeline | FileCheck %s --check-prefix=LOCAL
// RUN: mpc-opt %s --umbra-pipeline="outsourced" | FileCheck %s --check-prefix=OUT

// Two-party mode: the client is P0; its input keeps no mark (the client's
// by default) and what depends on it alone is its plaintext work.
// TWO: func.func @main(%arg0: tensor<4xf32>, %arg1: tensor<4xi64>, %arg2: tensor<4xf32> {onnx.name = "w"})
// LOCAL: mpc.encode %arg0 {{.*}} -> !mpc.tensor<4, client, frac = 16>
// LOCAL-NOT: mpc.share
// LOCAL: mpc.relu %{{.*}} : !mpc.tensor<4, client, frac = 16>

// Outsourced: the client's real inputs are shared at once; its integer
// input and an input declared the owner's keep their holders.
// ROLES: func.func @main(%arg0: tensor<4xf32> {mpc.visibility = #mpc.visibility<shared>}, %arg1: tensor<4xi64>, %arg2: tensor<4xf32> {mpc.visibility = #mpc.visibility<owner>, onnx.name = "w"})
// OUT: %[[X:.*]] = mpc.encode %arg0 {{.*}} -> !mpc.tensor<4, client, frac = 16>
// OUT: %[[S:.*]] = mpc.share %[[X]] : !mpc.tensor<4, client, frac = 16> -> !mpc.tensor<4, shared, frac = 16>
// OUT: mpc.relu %[[S]] : !mpc.tensor<4, shared, frac = 16>
// OUT-NOT: mpc.relu {{.*}}client
func.func @main(%x: tensor<4xf32>, %ids: tensor<4xi64>, %w: tensor<4xf32> {onnx.name = "w"}) -> tensor<4xf32> {
  %0 = tfm.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
