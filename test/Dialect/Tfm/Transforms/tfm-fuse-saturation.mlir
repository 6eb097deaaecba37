// RUN: mpc-opt %s --split-input-file --tfm-fuse --canonicalize | FileCheck %s

// Clamps against values below the fixed-point range are no-ops: every
// fixed-point value is above -2^62, so max(x, c) is x for such a c. They
// never reach the encoder.

// Old HF LLaMA attention: scores + additive causal mask (finfo.min), then
// `torch.max(scores, torch.tensor(torch.finfo(torch.float32).min))`, then
// softmax: the clamp goes, the mask becomes structural and the softmax
// consumes it.
// CHECK-LABEL: func.func @safe_softmax_clamp
// CHECK-SAME: (%[[S:.*]]: tensor<1x2x3x3xf32>)
// CHECK-NEXT: %[[M:.*]] = tfm.causal_mask %[[S]] : tensor<1x2x3x3xf32>
// CHECK-NEXT: %[[P:.*]] = tfm.softmax %[[M]] {axis = -1 : i64}
// CHECK-NEXT: return %[[P]]
func.func @safe_softmax_clamp(%s: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %mask = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[[[0.0, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, -3.40282347E+38], [0.0, 0.0, 0.0]]]]> : tensor<1x1x3x3xf32>
  %min = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-3.40282347E+38> : tensor<f32>
  %0 = tfm.add %s, %mask : (tensor<1x2x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32>
  %1 = tfm.max %0, %min : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %2 = tfm.softmax %1 {axis = -1 : i64} : tensor<1x2x3x3xf32>
  return %2 : tensor<1x2x3x3xf32>
}

// -----

// -inf on the left, as a tensor, and an owner's constant: read whatever its
// role (it is only shown to be below the range).
// CHECK-LABEL: func.func @vacuous_max_any_side
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @vacuous_max_any_side(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %ninf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0xFF800000> : tensor<4xf32>
  %owner = arith.constant {mpc.visibility = #mpc.visibility<owner>} dense<-1.0e30> : tensor<1x1xf32>
  %0 = tfm.max %ninf, %x : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = tfm.max %x, %owner : (tensor<2x4xf32>, tensor<1x1xf32>) -> tensor<2x4xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Negative: -1e9 is representable (and x may be below it), 0 is a ReLU, a
// constant with one element in range is a real clamp, and a constant that
// broadcasts x to a larger shape cannot just be dropped.
// CHECK-LABEL: func.func @real_max
// CHECK-COUNT-4: tfm.max
// CHECK: return
func.func @real_max(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %big = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-1.0e9> : tensor<f32>
  %zero = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0.0> : tensor<f32>
  %mixed = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[-3.4e38, -3.4e38, 1.0, -3.4e38]> : tensor<4xf32>
  %wide = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<-3.4e38> : tensor<2x4xf32>
  %0 = tfm.max %x, %big : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %1 = tfm.max %x, %zero : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %2 = tfm.max %x, %mixed : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %3 = tfm.max %y, %wide : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0, %1, %2, %3 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// A sliding-window (band) additive mask of finfo.min, Mistral style (keys
// i - 1 and i kept): the structural mask with its window.
// CHECK-LABEL: func.func @band_additive
// CHECK-SAME: (%[[S:.*]]: tensor<2x4x4xf32>)
// CHECK-NEXT: %[[M:.*]] = tfm.causal_mask %[[S]] {window = 2 : i64} : tensor<2x4x4xf32>
// CHECK-NEXT: %[[P:.*]] = tfm.softmax %[[M]] {axis = -1 : i64}
// CHECK-NEXT: return %[[P]]
func.func @band_additive(%s: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  %mask = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[0.0, -3.4e38, -3.4e38, -3.4e38], [0.0, 0.0, -3.4e38, -3.4e38], [-3.4e38, 0.0, 0.0, -3.4e38], [-3.4e38, -3.4e38, 0.0, 0.0]]> : tensor<4x4xf32>
  %0 = tfm.add %mask, %s : (tensor<4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %1 = tfm.softmax %0 {axis = -1 : i64} : tensor<2x4x4xf32>
  return %1 : tensor<2x4x4xf32>
}

// -----

// A band as a boolean where (-inf fill), with a key cache (3 queries, 5 keys,
// window 3).
// CHECK-LABEL: func.func @band_where
// CHECK-NEXT: tfm.causal_mask %{{.*}} {window = 3 : i64} : tensor<3x5xf32>
// CHECK-NEXT: return
func.func @band_where(%s: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %band = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[true, true, true, false, false], [false, true, true, true, false], [false, false, true, true, true]]> : tensor<3x5xi1>
  %ninf = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<0xFF800000> : tensor<f32>
  %0 = tfm.where %band, %s, %ninf : (tensor<3x5xi1>, tensor<3x5xf32>, tensor<f32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// Negative: rows of different widths are not a band; a mask value of -10
// is a score bias, not a mask.
// CHECK-LABEL: func.func @not_band
// CHECK-NOT: tfm.causal_mask
// CHECK: tfm.add
// CHECK: tfm.add
func.func @not_band(%s: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %ragged = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[0.0, -3.4e38, -3.4e38, -3.4e38], [0.0, 0.0, -3.4e38, -3.4e38], [-3.4e38, 0.0, 0.0, -3.4e38], [-3.4e38, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %small = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<[[0.0, -10.0, -10.0, -10.0], [0.0, 0.0, -10.0, -10.0], [0.0, 0.0, 0.0, -10.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %0 = tfm.add %s, %ragged : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = tfm.add %s, %small : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0, %1 : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// min(x, finfo.max) as the importer writes ONNX Min: -max(-x, -c). The
// negated constant folds to -3.4e38, the maximum goes, -(-x) is left.
// CHECK-LABEL: func.func @vacuous_min
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT: tfm.max
// CHECK: return
func.func @vacuous_min(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant {mpc.visibility = #mpc.visibility<public>} dense<3.40282347E+38> : tensor<f32>
  %0 = tfm.neg %x : tensor<4xf32>
  %1 = tfm.neg %c : tensor<f32>
  %2 = tfm.max %0, %1 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %3 = tfm.neg %2 : tensor<4xf32>
  return %3 : tensor<4xf32>
}
