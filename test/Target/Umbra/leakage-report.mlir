// RUN: mpc-translate --leakage-report %s | FileCheck %s

// Every reveal is listed with its target, shape, reason and the op it feeds.
// CHECK: leakage report: 2 reveals
// CHECK-NEXT: reveal #0 to all: 4x1 (4 values, frac 16)
// CHECK-NEXT: reason: "row maxima for a public top-k"
// CHECK-NEXT: feeds: mpc.sub ('center')
// CHECK-NEXT: at: loc("rowmax")
// CHECK-NEXT: reveal #1 to client: 4x8 (32 values, frac 16)
// CHECK-NEXT: reason: "model output"
// CHECK-NEXT: feeds: func.return (result #0 'logits')
func.func @main(%x: tensor<4x8xf32>) -> (!mpc.tensor<4x8, client, frac = 16> {onnx.name = "logits"}) {
  %0 = mpc.encode %x : tensor<4x8xf32> -> !mpc.tensor<4x8, client, frac = 16>
  %1 = mpc.share %0 : !mpc.tensor<4x8, client, frac = 16> -> !mpc.tensor<4x8, shared, frac = 16>
  %2 = mpc.max %1 {axis = 1 : i64} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x1, shared, frac = 16>
  %3 = mpc.reveal %2 {to = #mpc.reveal_target<all>, reason = "row maxima for a public top-k"} : !mpc.tensor<4x1, shared, frac = 16> -> !mpc.tensor<4x1, public, frac = 16> loc("rowmax")
  %4 = mpc.sub %1, %3 : (!mpc.tensor<4x8, shared, frac = 16>, !mpc.tensor<4x1, public, frac = 16>) -> !mpc.tensor<4x8, shared, frac = 16> loc("center")
  %5 = mpc.reveal %4 {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<4x8, shared, frac = 16> -> !mpc.tensor<4x8, client, frac = 16>
  return %5 : !mpc.tensor<4x8, client, frac = 16>
}
