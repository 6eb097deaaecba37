// RUN: mpc-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{expected visibility (public, client, owner or shared), got 'secret'}}
func.func @bad_visibility(%a: !mpc.tensor<2, secret, frac = 16>) { return }

// -----

// expected-error @+1 {{frac = 60 leaves too few integer bits (at most 48)}}
func.func @too_many_frac_bits(%a: !mpc.tensor<2, shared, frac = 60>) { return }

// -----

func.func @encode_to_shared(%x: tensor<2xf32>) {
  // expected-error @+1 {{encodes a plaintext: the result cannot be shared}}
  %0 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

// State (a generation's key/value cache) arrives as shares; only a state
// argument may be encoded as shared.
func.func @encode_state(%x: tensor<2xf32> {mpc.state}, %y: tensor<2xf32>) {
  %0 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, shared, frac = 16>
  // expected-error @+1 {{(use mpc.share, or declare the argument state)}}
  %1 = mpc.encode %y : tensor<2xf32> -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @encode_shape(%x: tensor<2xf32>) {
  // expected-error @+1 {{result shape must match the input's}}
  %0 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<3, client, frac = 16>
  return
}

// -----

func.func @decode_shared(%x: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{cannot decode a shared value: reveal it first}}
  %0 = mpc.decode %x : !mpc.tensor<2, shared, frac = 16> -> tensor<2xf32>
  return
}

// -----

func.func @share_public(%x: !mpc.tensor<2, public, frac = 16>) {
  // expected-error @+1 {{input must be held by the client or the model owner}}
  %0 = mpc.share %x : !mpc.tensor<2, public, frac = 16> -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @share_not_shared(%x: !mpc.tensor<2, owner, frac = 16>) {
  // expected-error @+1 {{result must be shared}}
  %0 = mpc.share %x : !mpc.tensor<2, owner, frac = 16> -> !mpc.tensor<2, client, frac = 16>
  return
}

// -----

func.func @share_frac(%x: !mpc.tensor<2, owner, frac = 16>) {
  // expected-error @+1 {{result frac must match the input's}}
  %0 = mpc.share %x : !mpc.tensor<2, owner, frac = 16> -> !mpc.tensor<2, shared, frac = 12>
  return
}

// -----

func.func @reveal_without_reason(%x: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{must state a reason for the leak}}
  %0 = mpc.reveal %x {to = #mpc.reveal_target<all>, reason = " "} : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, public, frac = 16>
  return
}

// -----

func.func @reveal_missing_reason(%x: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{requires attribute 'reason'}}
  %0 = mpc.reveal %x {to = #mpc.reveal_target<all>} : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, public, frac = 16>
  return
}

// -----

func.func @reveal_plaintext(%x: !mpc.tensor<2, client, frac = 16>) {
  // expected-error @+1 {{input must be shared}}
  %0 = mpc.reveal %x {to = #mpc.reveal_target<all>, reason = "r"} : !mpc.tensor<2, client, frac = 16> -> !mpc.tensor<2, public, frac = 16>
  return
}

// -----

func.func @reveal_wrong_target(%x: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{result visibility must be 'client'}}
  %0 = mpc.reveal %x {to = #mpc.reveal_target<client>, reason = "r"} : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, public, frac = 16>
  return
}

// -----

func.func @add_frac(%a: !mpc.tensor<2, shared, frac = 16>, %b: !mpc.tensor<2, public, frac = 8>) {
  // expected-error @+1 {{operands and result must have the same frac}}
  %0 = mpc.add %a, %b : (!mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, public, frac = 8>) -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @add_broadcast(%a: !mpc.tensor<2x3, shared, frac = 16>, %b: !mpc.tensor<2, public, frac = 16>) {
  // expected-error @+1 {{operand shapes do not broadcast together}}
  %0 = mpc.add %a, %b : (!mpc.tensor<2x3, shared, frac = 16>, !mpc.tensor<2, public, frac = 16>) -> !mpc.tensor<2x3, shared, frac = 16>
  return
}

// -----

func.func @add_visibility(%a: !mpc.tensor<2, shared, frac = 16>, %b: !mpc.tensor<2, public, frac = 16>) {
  // expected-error @+1 {{result visibility must be 'shared', the join of the operands'}}
  %0 = mpc.sub %a, %b : (!mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, public, frac = 16>) -> !mpc.tensor<2, public, frac = 16>
  return
}

// -----

func.func @client_times_owner(%a: !mpc.tensor<2, client, frac = 16>, %b: !mpc.tensor<2, owner, frac = 16>) {
  // expected-error @+1 {{combines a client value with an owner value; share them first}}
  %0 = mpc.mul %a, %b : (!mpc.tensor<2, client, frac = 16>, !mpc.tensor<2, owner, frac = 16>) -> !mpc.tensor<2, shared, frac = 32>
  return
}

// -----

func.func @mul_frac(%a: !mpc.tensor<2, shared, frac = 16>, %b: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{result frac must be 16 + 16 (truncate explicitly)}}
  %0 = mpc.mul %a, %b : (!mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 16>) -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @matmul_rank(%a: !mpc.tensor<8, shared, frac = 16>, %b: !mpc.tensor<8x2, shared, frac = 16>) {
  // expected-error @+1 {{operands must have rank >= 2}}
  %0 = mpc.matmul %a, %b : (!mpc.tensor<8, shared, frac = 16>, !mpc.tensor<8x2, shared, frac = 16>) -> !mpc.tensor<2, shared, frac = 32>
  return
}

// -----

func.func @matmul_contraction(%a: !mpc.tensor<4x8, shared, frac = 16>, %b: !mpc.tensor<7x2, shared, frac = 16>) {
  // expected-error @+1 {{contraction dimensions differ: 8 vs 7}}
  %0 = mpc.matmul %a, %b : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<7x2, shared, frac = 16>) -> !mpc.tensor<4x2, shared, frac = 32>
  return
}

// -----

func.func @matmul_result(%a: !mpc.tensor<4x8, shared, frac = 16>, %b: !mpc.tensor<8x2, shared, frac = 16>) {
  // expected-error @+1 {{result shape does not match the operands}}
  %0 = mpc.matmul %a, %b : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<8x2, shared, frac = 16>) -> !mpc.tensor<4x3, shared, frac = 32>
  return
}

// -----

func.func @trunc_too_far(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{cannot drop 20 bits from a value with frac = 16}}
  %0 = mpc.trunc %a {bits = 20 : i64} : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, shared, frac = 0>
  return
}

// -----

func.func @trunc_result(%a: !mpc.tensor<2, shared, frac = 32>) {
  // expected-error @+1 {{result must be the input type with frac reduced by bits}}
  %0 = mpc.trunc %a {bits = 16 : i64} : !mpc.tensor<2, shared, frac = 32> -> !mpc.tensor<2, shared, frac = 8>
  return
}

// -----

func.func @trunc_zero(%a: !mpc.tensor<2, shared, frac = 32>) {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint}}
  %0 = mpc.trunc %a {bits = 0 : i64} : !mpc.tensor<2, shared, frac = 32> -> !mpc.tensor<2, shared, frac = 32>
  return
}

// -----

func.func @drelu_frac(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{result must be a bit tensor (frac = 0) with the input's shape and visibility}}
  %0 = mpc.drelu %a : !mpc.tensor<2, shared, frac = 16> -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @select_condition(%c: !mpc.tensor<2, shared, frac = 16>, %a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{condition must be a bit tensor (frac = 0)}}
  %0 = mpc.select %c, %a, %a : (!mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 16>) -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @select_shape(%c: !mpc.tensor<3, shared, frac = 0>, %a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{operands must have the result's shape}}
  %0 = mpc.select %c, %a, %a : (!mpc.tensor<3, shared, frac = 0>, !mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 16>) -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @select_frac(%c: !mpc.tensor<2, shared, frac = 0>, %a: !mpc.tensor<2, shared, frac = 16>, %b: !mpc.tensor<2, shared, frac = 8>) {
  // expected-error @+1 {{both choices must have the result's frac}}
  %0 = mpc.select %c, %a, %b : (!mpc.tensor<2, shared, frac = 0>, !mpc.tensor<2, shared, frac = 16>, !mpc.tensor<2, shared, frac = 8>) -> !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @poly_empty(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{needs at least one coefficient}}
  %0 = mpc.poly %a {coefficients = array<f64>} : !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @exp_squarings(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{attribute 'squarings' failed to satisfy constraint}}
  %0 = mpc.exp %a {squarings = 40 : i64} : !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @reciprocal_range(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{input range must satisfy 0 < lo < hi, got [0.000000e+00, 1.000000e+01]}}
  %0 = mpc.reciprocal %a {lo = 0.0 : f64, hi = 10.0 : f64} : !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @rsqrt_range(%a: !mpc.tensor<2, shared, frac = 16>) {
  // expected-error @+1 {{input range must satisfy 0 < lo < hi, got [5.000000e+00, 1.000000e+00]}}
  %0 = mpc.rsqrt %a {lo = 5.0 : f64, hi = 1.0 : f64} : !mpc.tensor<2, shared, frac = 16>
  return
}

// -----

func.func @max_shape(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{result shape does not match the reduction}}
  %0 = mpc.max %a {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4, shared, frac = 16>
  return
}

// -----

func.func @reduce_visibility(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{result visibility must match the input's}}
  %0 = mpc.reduce_sum %a {axes = array<i64: 1>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, public, frac = 16>
  return
}

// -----

func.func @reshape_frac(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{result frac must match the input's}}
  %0 = mpc.reshape %a : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<32, shared, frac = 8>
  return
}

// -----

func.func @reshape_count(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{cannot reshape 32 elements into 30}}
  %0 = mpc.reshape %a : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<30, shared, frac = 16>
  return
}

// -----

func.func @transpose_perm(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{permutation must list every dimension once}}
  %0 = mpc.transpose %a {permutation = array<i64: 1>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<8x4, shared, frac = 16>
  return
}

// -----

func.func @broadcast_shape(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{input shape does not broadcast to the result shape}}
  %0 = mpc.broadcast %a : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x9, shared, frac = 16>
  return
}

// -----

func.func @slice_bounds(%a: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{slice exceeds the input in dimension 0}}
  %0 = mpc.slice %a {offsets = array<i64: 2, 0>, strides = array<i64: 2, 1>} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<2x8, shared, frac = 16>
  return
}

// -----

func.func @concat_frac(%a: !mpc.tensor<4x8, shared, frac = 16>, %b: !mpc.tensor<4x8, shared, frac = 12>) {
  // expected-error @+1 {{inputs must have the result's frac}}
  %0 = mpc.concat %a, %b {axis = 0 : i64} : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x8, shared, frac = 12>) -> !mpc.tensor<8x8, shared, frac = 16>
  return
}

// -----

func.func @concat_visibility(%a: !mpc.tensor<4x8, client, frac = 16>, %b: !mpc.tensor<4x8, public, frac = 16>) {
  // expected-error @+1 {{result visibility must be 'client', the join of the operands'}}
  %0 = mpc.concat %a, %b {axis = 0 : i64} : (!mpc.tensor<4x8, client, frac = 16>, !mpc.tensor<4x8, public, frac = 16>) -> !mpc.tensor<8x8, shared, frac = 16>
  return
}

// -----

func.func @one_hot_shared(%ids: tensor<4xi64>) {
  // expected-error @+1 {{is computed in plaintext by the ids' holder: the result cannot be shared (use mpc.share)}}
  %0 = mpc.one_hot %ids {depth = 10 : i64} : tensor<4xi64> -> !mpc.tensor<4x10, shared, frac = 0>
  return
}

// -----

func.func @one_hot_shape(%ids: tensor<4xi64>) {
  // expected-error @+1 {{result shape must be the ids' shape followed by depth}}
  %0 = mpc.one_hot %ids {depth = 10 : i64} : tensor<4xi64> -> !mpc.tensor<4x11, client, frac = 0>
  return
}

// -----

func.func @gather_rows_out_of_range(%w: !mpc.tensor<8x4, shared, frac = 16>) {
  // expected-error @+1 {{result is the input with one row per index, same visibility and frac}}
  %0 = mpc.gather_rows %w {indices = array<i64: 8>} : !mpc.tensor<8x4, shared, frac = 16> -> !mpc.tensor<1x4, shared, frac = 16>
  return
}

// -----

func.func @argmax_frac(%x: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{result must have frac = 0 (an index)}}
  %0 = mpc.argmax %x {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 16>
  return
}

// -----

func.func @argmax_shape(%x: !mpc.tensor<4x8, shared, frac = 16>) {
  // expected-error @+1 {{'mpc.argmax' op}}
  %0 = mpc.argmax %x {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x8, shared, frac = 0>
  return
}

// -----

func.func @encode_integer_frac(%a: tensor<4xi64>) {
  // expected-error @+1 {{encodes an integer tensor: the result must have frac = 0}}
  %0 = mpc.encode %a : tensor<4xi64> -> !mpc.tensor<4, client, frac = 16>
  return
}
