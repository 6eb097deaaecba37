// One transformer layer's non-linear ops with the ONNX names torch's
// exporter gives them (the layer is the numbered module): the input for
// tools/mpc-compile/approx.test.
func.func @main(%x: tensor<1x4x8xf32> {onnx.name = "x"}, %s: tensor<1x2x4x4xf32> {onnx.name = "s"}) -> (tensor<1x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x4x8xf32>) {
  %g = arith.constant {mpc.sources = {g = "owner"}} dense<1.5> : tensor<8xf32>
  %b = arith.constant {mpc.sources = {b = "owner"}} dense<0.25> : tensor<8xf32>
  %0 = tfm.gelu %x : tensor<1x4x8xf32> loc("/blocks.0/mlp/act/Mul")
  %m = tfm.causal_mask %s : tensor<1x2x4x4xf32> loc("/blocks.0/attn/Where")
  %1 = tfm.softmax %m {axis = -1 : i64} : tensor<1x2x4x4xf32> loc("/blocks.0/attn/Softmax")
  %2 = tfm.layer_norm %x scale %g bias %b {epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> loc("/blocks.0/ln_1/LayerNormalization")
  return %0, %1, %2 : tensor<1x4x8xf32>, tensor<1x2x4x4xf32>, tensor<1x4x8xf32>
}
