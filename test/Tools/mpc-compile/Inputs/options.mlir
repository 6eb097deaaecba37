// A block with every approximated function, for options.test.
func.func @main(%x: tensor<4x4xf32> {onnx.name = "x"}) -> tensor<4x4xf32> {
  %g = tfm.gelu %x : tensor<4x4xf32>
  %s = tfm.silu %g : tensor<4x4xf32>
  %m = tfm.causal_mask %s : tensor<4x4xf32>
  %p = tfm.softmax %m {axis = -1 : i64} : tensor<4x4xf32>
  %n = tfm.layer_norm %p {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %n : tensor<4x4xf32>
}
