// RUN: mpc-translate --export-umbra %s --split-input-file --verify-diagnostics -o /dev/null

// Every constant is checked against the fixed-point range at compile time,
// with the rule the runtime applies when it encodes it (rt::fitsFixed), so
// that a program that compiled never fails for a range reason at run time.

// torch.finfo(float32).min multiplied into a client value (an attention
// mask computed as (1 - mask) * finfo.min): refused, naming the node.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "literal"}} dense<-3.40282347E+38> : tensor<f32> loc("min_value")
  // expected-error @+1 {{'mpc.encode' op encodes the constant 'min_value' used by node '/attn/Mul': its element 0 (-3.40282e+38) does not fit the fixed-point range (|x| < 2^47 at 16 fractional bits)}}
  %0 = mpc.encode %c : tensor<f32> -> !mpc.tensor<public, frac = 16>
  %1 = mpc.encode %x : tensor<4xf32> -> !mpc.tensor<4, client, frac = 16>
  %2 = mpc.mul %1, %0 : (!mpc.tensor<4, client, frac = 16>, !mpc.tensor<public, frac = 16>) -> !mpc.tensor<4, client, frac = 32> loc("/attn/Mul")
  %3 = mpc.trunc %2 {bits = 16} : !mpc.tensor<4, client, frac = 32> -> !mpc.tensor<4, client, frac = 16>
  %4 = mpc.decode %3 : !mpc.tensor<4, client, frac = 16> -> tensor<4xf32>
  return %4 : tensor<4xf32>
}

// -----

// -inf, in any element.
func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "literal"}} dense<[0.0, 0xFF800000, 0.0]> : tensor<3xf32> loc("mask")
  // expected-error @+1 {{encodes the constant 'mask' used by node '/Add': its element 1 (-inf) does not fit}}
  %0 = mpc.encode %c : tensor<3xf32> -> !mpc.tensor<3, public, frac = 16>
  %1 = mpc.encode %x : tensor<3xf32> -> !mpc.tensor<3, client, frac = 16>
  %2 = mpc.add %1, %0 : (!mpc.tensor<3, client, frac = 16>, !mpc.tensor<3, public, frac = 16>) -> !mpc.tensor<3, client, frac = 16> loc("/Add")
  %3 = mpc.decode %2 : !mpc.tensor<3, client, frac = 16> -> tensor<3xf32>
  return %3 : tensor<3xf32>
}

// -----

// An owner's weight out of range: refused, its value never printed.
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %w = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<[1.0, 1.0e30]> : tensor<2xf32> loc("w")
  // expected-error @+1 {{encodes the constant 'w' used by node '/Add': one of its elements does not fit the fixed-point range (|x| < 2^39 at 24 fractional bits)}}
  %0 = mpc.encode %w : tensor<2xf32> -> !mpc.tensor<2, owner, frac = 24>
  %1 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, client, frac = 24>
  %s0 = mpc.share %0 : !mpc.tensor<2, owner, frac = 24> -> !mpc.tensor<2, shared, frac = 24>
  %s1 = mpc.share %1 : !mpc.tensor<2, client, frac = 24> -> !mpc.tensor<2, shared, frac = 24>
  %2 = mpc.add %s1, %s0 : (!mpc.tensor<2, shared, frac = 24>, !mpc.tensor<2, shared, frac = 24>) -> !mpc.tensor<2, shared, frac = 24> loc("/Add")
  %3 = mpc.reveal %2 {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<2, shared, frac = 24> -> !mpc.tensor<2, client, frac = 24>
  %4 = mpc.decode %3 : !mpc.tensor<2, client, frac = 24> -> tensor<2xf32>
  return %4 : tensor<2xf32>
}

// -----

// -1e9 fits (|x| < 2^47 at 16 fractional bits): accepted.
func.func @main(%x: tensor<3xf32>) -> tensor<3xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {b = "literal"}} dense<-1.0e9> : tensor<3xf32>
  %0 = mpc.encode %c : tensor<3xf32> -> !mpc.tensor<3, public, frac = 16>
  %1 = mpc.encode %x : tensor<3xf32> -> !mpc.tensor<3, client, frac = 16>
  %2 = mpc.add %1, %0 : (!mpc.tensor<3, client, frac = 16>, !mpc.tensor<3, public, frac = 16>) -> !mpc.tensor<3, client, frac = 16>
  %3 = mpc.decode %2 : !mpc.tensor<3, client, frac = 16> -> tensor<3xf32>
  return %3 : tensor<3xf32>
}
