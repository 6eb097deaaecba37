// RUN: mpc-opt %s --split-input-file --mpc-assign-roles="public-weight-names=base\..* role=lora.b=public,mask=owner,x=owner" | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-assign-roles=public-weights | FileCheck %s --check-prefix=ALL
// RUN: not mpc-opt %s --split-input-file --mpc-assign-roles="role=base.w=client" 2>&1 | FileCheck %s --check-prefix=CLIENT
// RUN: not mpc-opt %s --split-input-file --mpc-assign-roles="role=nobody=public" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not mpc-opt %s --split-input-file --mpc-assign-roles="role=x=shared" 2>&1 | FileCheck %s --check-prefix=BADROLE
// RUN: not mpc-opt %s --split-input-file --mpc-assign-roles="public-weight-names=(" 2>&1 | FileCheck %s --check-prefix=BADRE

// CLIENT: weight 'base.w' cannot be the client's
// UNKNOWN: role for 'nobody': the model has no graph input, output or weight of that name
// BADROLE: role 'x=shared' is not NAME=client|owner|public|state
// BADRE: public-weight-names is not a valid regular expression

// Weights by name pattern and by explicit role; a graph input given to the
// owner; literals and structure keep their declaration.
// CHECK-LABEL: func.func @roles
// CHECK-SAME: {mpc.visibility = #mpc.visibility<owner>, onnx.name = "x"}
// ALL-LABEL: func.func @roles
func.func @roles(%x: tensor<2x2xf32> {onnx.name = "x"}) -> tensor<2x2xf32> {
  // A declared role replaces the provenance: the declaration is the source
  // (the leakage report lists it with how it was made).
  // CHECK: arith.constant {mpc.sources = {base.w = "--public-weight-names"}, mpc.visibility = #mpc.visibility<public>}
  // ALL: arith.constant {mpc.sources = {base.w = "--public-weights"}, mpc.visibility = #mpc.visibility<public>}
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("base.w")
  // CHECK: arith.constant {mpc.visibility = #mpc.visibility<owner>}
  // ALL-NEXT: arith.constant {mpc.sources = {lora.a = "--public-weights"}, mpc.visibility = #mpc.visibility<public>}
  %a = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[[0.1, 0.2], [0.3, 0.4]]> : tensor<2x2xf32> loc("lora.a")
  // CHECK: arith.constant {mpc.sources = {lora.b = "--role"}, mpc.visibility = #mpc.visibility<public>}
  // ALL-NEXT: arith.constant {mpc.sources = {lora.b = "--public-weights"}, mpc.visibility = #mpc.visibility<public>}
  %b = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[0.5, -0.5]> : tensor<2xf32> loc("lora.b")
  // A public literal may be declared the owner's by name (an owner-only mask).
  // CHECK: arith.constant {mpc.sources = {mask = "owner"}, mpc.visibility = #mpc.visibility<owner>}
  // ALL-NEXT: arith.constant {mpc.visibility = #mpc.visibility<public>}
  // ALL-NOT: mpc.visibility<owner>
  // ALL: return
  %m = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.0, 0.0]> : tensor<2xf32> loc("mask")
  %0 = tfm.linear %x, %w, %b : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = tfm.linear %0, %a : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %2 = tfm.mul %1, %m : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %2 : tensor<2x2xf32>
}
