// The bucket padding of a block mask (tools/mpc-compile/sparsity.test): 0/1
// rows of the selected blocks after padding each row's count up to a
// multiple of 4 with its lowest-numbered unselected blocks.
func.func @main(%s: tensor<3x8xf32> {mpc.visibility = #mpc.visibility<shared>}) -> tensor<3x8xf32> {
  %t = arith.constant dense<0.0> : tensor<f32>
  %ones = arith.constant {mpc.visibility = #mpc.visibility<public>, mpc.sources = {ones = "literal"}} dense<1.0> : tensor<3x8xf32>
  %m = tfm.block_mask %s, %t {group = 1 : i64, bucket = 4 : i64} : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xi1>
  %y = tfm.block_select %ones, %m : (tensor<3x8xf32>, tensor<3x8xi1>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}
