// RUN: mpc-translate --export-umbra %s --split-input-file --verify-diagnostics -o /dev/null
// RUN: not mpc-translate --export-umbra %s --split-input-file -o /dev/null 2>&1 | FileCheck %s

// The exporter's fail-closed check: a constant encoded as public becomes a
// blob every role receives, so its provenance (mpc.sources) must be present
// and name no owner source, and its declared role must be public. Each
// case is IR a buggy pass could produce.

// 1/w computed from an owner weight and marked public.
func.func @main(%x: tensor<3xf32> {onnx.name = "x"}) -> !mpc.tensor<3, client, frac = 16> {
  %r = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {four = "literal", w = "owner"}} dense<[0.5, 0.25, 0.125]> : tensor<3xf32> loc("inv_w")
  // CHECK: error: 'mpc.encode' op would write the public constant 'inv_w' (3) as a public blob, but it is derived from the owner weight 'w'; refusing to publish it
  // expected-error @+1 {{would write the public constant 'inv_w' (3) as a public blob, but it is derived from the owner weight 'w'; refusing to publish it}}
  %re = mpc.encode %r : tensor<3xf32> -> !mpc.tensor<3, public, frac = 16>
  %xe = mpc.encode %x : tensor<3xf32> -> !mpc.tensor<3, client, frac = 16>
  %p = mpc.mul %xe, %re : (!mpc.tensor<3, client, frac = 16>, !mpc.tensor<3, public, frac = 16>) -> !mpc.tensor<3, client, frac = 32>
  %t = mpc.trunc %p {bits = 16 : i64} : !mpc.tensor<3, client, frac = 32> -> !mpc.tensor<3, client, frac = 16>
  return %t : !mpc.tensor<3, client, frac = 16>
}

// -----

// A public constant without provenance (a pass forgot to propagate it).
func.func @main() -> !mpc.tensor<2, public, frac = 16> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[1.0, 2.0]> : tensor<2xf32> loc("folded")
  // CHECK: error: 'mpc.encode' op would write the public constant 'folded' (2) as a public blob, but it has no provenance (mpc.sources): a constant whose sources are unknown may be derived from an owner weight; refusing to publish it
  // expected-error @+1 {{but it has no provenance (mpc.sources)}}
  %0 = mpc.encode %c : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  return %0 : !mpc.tensor<2, public, frac = 16>
}

// -----

// An owner constant encoded as public (the encode's type disagrees with the
// declaration).
func.func @main() -> !mpc.tensor<2, public, frac = 16> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<owner>, mpc.sources = {w = "owner"}} dense<[1.0, 2.0]> : tensor<2xf32> loc("w")
  // CHECK: error: 'mpc.encode' op encodes the constant 'w' as public, but the constant is declared owner; the artifact would publish it
  // expected-error @+1 {{encodes the constant 'w' as public, but the constant is declared owner}}
  %0 = mpc.encode %c : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  return %0 : !mpc.tensor<2, public, frac = 16>
}

// -----

// A source with an origin nobody declared.
func.func @main() -> !mpc.tensor<2, public, frac = 16> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {w = "trust-me"}} dense<[1.0, 2.0]> : tensor<2xf32> loc("w")
  // CHECK: error: {{.*}}but it names source 'w' with an unknown origin
  // expected-error @+1 {{names source 'w' with an unknown origin}}
  %0 = mpc.encode %c : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  return %0 : !mpc.tensor<2, public, frac = 16>
}

// -----

// What passes: literals, and a weight the user marked public; the artifact
// records each one's origin (mpc-run --dump shows it).
func.func @main() -> !mpc.tensor<2, public, frac = 16> {
  %a = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {a = "literal", n = "integer"}} dense<[1.0, 2.0]> : tensor<2xf32> loc("a")
  %b = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "--role"}} dense<[3.0, 4.0]> : tensor<2xf32> loc("b")
  %ae = mpc.encode %a : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  %be = mpc.encode %b : tensor<2xf32> -> !mpc.tensor<2, public, frac = 16>
  %s = mpc.add %ae, %be : (!mpc.tensor<2, public, frac = 16>, !mpc.tensor<2, public, frac = 16>) -> !mpc.tensor<2, public, frac = 16>
  return %s : !mpc.tensor<2, public, frac = 16>
}
