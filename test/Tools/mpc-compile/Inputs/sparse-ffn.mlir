// A ReLU FFN (8 -> 16 -> 8) with the predictor a model ships
// (umbra.predictor.0.*): the input for tools/mpc-compile/sparsity.test.
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w1 = arith.constant {mpc.sources = {w1 = "owner"}} dense<0.1> : tensor<8x16xf32>
  %b1 = arith.constant {mpc.sources = {b1 = "owner"}} dense<0.5> : tensor<16xf32>
  %w2 = arith.constant {mpc.sources = {w2 = "owner"}} dense<0.1> : tensor<16x8xf32>
  %b2 = arith.constant {mpc.sources = {b2 = "owner"}} dense<0.25> : tensor<8xf32>
  %u = arith.constant {mpc.sources = {umbra.predictor.0.u = "owner"}} dense<0.5> : tensor<8x2xf32>
  %v = arith.constant {mpc.sources = {umbra.predictor.0.v = "owner"}} dense<0.5> : tensor<2x4xf32>
  %c = arith.constant {mpc.sources = {umbra.predictor.0.bias = "owner"}} dense<0.0> : tensor<4xf32>
  %t = arith.constant {mpc.sources = {umbra.predictor.0.threshold = "owner"}} dense<0.0> : tensor<f32>
  %r = arith.constant {mpc.sources = {umbra.predictor.0.recall_table = "owner"}} dense<[[0.9, 0.5], [0.95, 0.0]]> : tensor<2x2xf32>
  tfm.ffn_predictor %u, %v, %c, %t, %r {ffn = 0 : i64} : tensor<8x2xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<f32>, tensor<2x2xf32>
  %0 = tfm.linear %x, %w1, %b1 : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %1 = tfm.relu %0 : tensor<1x4x16xf32>
  %2 = tfm.linear %1, %w2, %b2 : (tensor<1x4x16xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %2 : tensor<1x4x8xf32>
}
