// RUN: mpc-translate --export-umbra %s --split-input-file --verify-diagnostics -o /dev/null

// An op the runtime cannot run (here, a tfm op left unlowered).
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'tfm.relu' op has no runtime instruction}}
  %0 = tfm.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A shared result must be revealed to someone, with a reason.
func.func @main(%x: tensor<4xf32>) -> !mpc.tensor<4, shared, frac = 16> {
  %0 = mpc.encode %x : tensor<4xf32> -> !mpc.tensor<4, client, frac = 16>
  %1 = mpc.share %0 : !mpc.tensor<4, client, frac = 16> -> !mpc.tensor<4, shared, frac = 16>
  // expected-error @+1 {{returns result #0, a secret-shared value; reveal it}}
  return %1 : !mpc.tensor<4, shared, frac = 16>
}

// -----

// State results stay secret-shared (never revealed); a state result that is
// not shared is refused.
func.func @main(%k: tensor<4xf32> {mpc.state}, %x: tensor<4xf32>)
    -> (!mpc.tensor<4, shared, frac = 16> {mpc.state},
        !mpc.tensor<4, client, frac = 16> {mpc.state}) {
  %0 = mpc.encode %k : tensor<4xf32> -> !mpc.tensor<4, shared, frac = 16>
  %1 = mpc.encode %x : tensor<4xf32> -> !mpc.tensor<4, client, frac = 16>
  // expected-error @+1 {{returns state result #1 that is not secret-shared}}
  return %0, %1 : !mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, client, frac = 16>
}

// -----

// The owner's values never go to the client unrevealed.
func.func @main() -> !mpc.tensor<4, owner, frac = 16> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = mpc.encode %w : tensor<4xf32> -> !mpc.tensor<4, owner, frac = 16>
  // expected-error @+1 {{returns result #0, which the model owner holds}}
  return %0 : !mpc.tensor<4, owner, frac = 16>
}

// -----

// Interactive gates on public values have no runtime form.
func.func @main() -> !mpc.tensor<4, public, frac = 16> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {c = "literal"}} dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = mpc.encode %c : tensor<4xf32> -> !mpc.tensor<4, public, frac = 16>
  // expected-error @+1 {{'mpc.poly' op cannot be a runtime instruction: poly: operands are public}}
  %1 = mpc.poly %0 {coefficients = array<f64: 0.5, 0.25>} : !mpc.tensor<4, public, frac = 16>
  return %1 : !mpc.tensor<4, public, frac = 16>
}

// -----

// Token ids can only be one-hot encoded.
func.func @main(%ids: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{uses the integer argument 'arg0'; integer inputs may only feed mpc.one_hot}}
  %0 = arith.addi %ids, %ids : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Several functions and no main.
// expected-error @+1 {{the module has several functions and none is named 'main'}}
module {
  func.func @a() { return }
  func.func @b() { return }
}

// -----

// Outputs are written as NAME.npy and inputs are found by name.
func.func @main(%x: tensor<4xf32> {onnx.name = "x"}) -> (!mpc.tensor<4, client, frac = 16> {onnx.name = "x"}) {
  %0 = mpc.encode %x : tensor<4xf32> -> !mpc.tensor<4, client, frac = 16>
  %1 = mpc.share %0 : !mpc.tensor<4, client, frac = 16> -> !mpc.tensor<4, shared, frac = 16>
  %2 = mpc.reveal %1 {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, client, frac = 16>
  // expected-error @+1 {{result #0 is named 'x' like an input or another result}}
  return %2 : !mpc.tensor<4, client, frac = 16>
}

// -----

// Shares are inserted by the lowering only: a private value meeting shared
// data without mpc.share is refused, not repaired.
func.func @main(%x: tensor<4xf32>) -> !mpc.tensor<4, client, frac = 16> {
  %0 = mpc.encode %x : tensor<4xf32> -> !mpc.tensor<4, client, frac = 16>
  %1 = mpc.share %0 : !mpc.tensor<4, client, frac = 16> -> !mpc.tensor<4, shared, frac = 16>
  // expected-error @+1 {{'mpc.add' op combines a private value with shared data without mpc.share}}
  %2 = mpc.add %1, %0 : (!mpc.tensor<4, shared, frac = 16>, !mpc.tensor<4, client, frac = 16>) -> !mpc.tensor<4, shared, frac = 16>
  %3 = mpc.reveal %2 {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<4, shared, frac = 16> -> !mpc.tensor<4, client, frac = 16>
  return %3 : !mpc.tensor<4, client, frac = 16>
}

// -----

// Output names become file names (NAME.npy inside mpc-run's -o).
func.func @main(%x: tensor<2xf32> {onnx.name = "x"}) -> (!mpc.tensor<2, client, frac = 16> {onnx.name = "../../evil"}) {
  %0 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, client, frac = 16>
  // expected-error @+1 {{result #0 is named '../../evil', which is not a plain file name}}
  return %0 : !mpc.tensor<2, client, frac = 16>
}

// -----

// expected-error @+1 {{argument #0 is named 'a/b', which is not a plain file name}}
func.func @main(%x: tensor<2xf32> {onnx.name = "a/b"}) -> (!mpc.tensor<2, client, frac = 16> {onnx.name = "y"}) {
  %0 = mpc.encode %x : tensor<2xf32> -> !mpc.tensor<2, client, frac = 16>
  return %0 : !mpc.tensor<2, client, frac = 16>
}

// -----

// Shapes beyond the runtime's limits are refused when exporting, not at load.
// expected-error @+1 {{value 'x' has shape 1x1000000000000x4, beyond the runtime's limits (rank 8, 1099511627776 elements)}}
func.func @main(%x: tensor<1x1000000000000x4xf32> {onnx.name = "x"}) -> (!mpc.tensor<1x1000000000000x4, client, frac = 16> {onnx.name = "y"}) {
  %0 = mpc.encode %x : tensor<1x1000000000000x4xf32> -> !mpc.tensor<1x1000000000000x4, client, frac = 16>
  return %0 : !mpc.tensor<1x1000000000000x4, client, frac = 16>
}
