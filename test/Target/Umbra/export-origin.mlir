// RUN: mpc-translate --export-umbra %s -o %t.umbra
// RUN: mpc-run %t.umbra --dump | FileCheck %s
// Every blob records its origin: owner, public by rule (literals, integer
// and bool tensors) or marked public (with how), and its sources.
// CHECK: weights: 3 blobs (1 the owner's)
// CHECK-DAG: owner F32 {{.*}} origin owner from 'w'
// CHECK-DAG: public F32 {{.*}} origin public by rule from 'a, n' [1 2]
// CHECK-DAG: public F32 {{.*}} origin marked public from 'b (--role)' [3 4]
// The JSON form carries the same.
// RUN: mpc-run %t.umbra --dump --json | %python -c "import json, sys; w = json.load(sys.stdin)['weights']; print(sorted((e['origin'], e['source']) for e in w))" | FileCheck %s --check-prefix=JSON
// JSON: [('marked public', 'b (--role)'), ('owner', 'w'), ('public by rule', 'a, n')]

func.func @main(%x: tensor<2xf32> {onnx.name = "x"}) -> (!mpc.tensor<2, client, frac = 16> {onnx.name = "y"}) {
  %a = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {a = "literal", n = "integer"}} dense<[1.0, 2.0]> : tensor<2xf32> loc("a")
  %b = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "--role"}} dense<[3.0, 4.0]> : tensor<2xf32> loc("b")
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>, mpc.sources = {w = "owner"}} dense<[5.0, 6.0]> : tensor<2xf32> loc("w")
  %xe = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, client, frac = 16>
  %ae = mpc.encode %a : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  %be = mpc.encode %b : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  %we = mpc.encode %w : tensor<2xf32> -> !mpc.tensor<2, owner, frac = 16>
  %s = mpc.add %xe, %ae : (!mpc.tensor<2, client, frac = 16>, !mpc.tensor<2, public, frac = 16>) -> !mpc.tensor<2, client, frac = 16>
  %t = mpc.add %s, %be : (!mpc.tensor<2, client, frac = 16>, !mpc.tensor<2, public, frac = 16>) -> !mpc.tensor<2, client, frac = 16>
  %ts = mpc.share %t : !mpc.tensor<2, client, frac = 16> -> !mpc.tensor<2, shared, frac = 16>
  %ws = mpc.share %we : !mpc.tensor<2, owner, frac = 16> -> !mpc.tensor<2, shared, frac = 16>
  %u = mpc.add %ts, %ws : (!mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 16>) -> !mpc.tensor<2, shared, frac = 16>
  %r = mpc.reveal %u {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, client, frac = 16>
  return %r : !mpc.tensor<2, client, frac = 16>
}
