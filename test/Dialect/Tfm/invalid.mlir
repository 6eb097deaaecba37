// RUN: mpc-opt %s --split-input-file --verify-diagnostics

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+1 {{operand shapes do not broadcast together}}
  %0 = tfm.add %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @broadcast_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{result shape must be the broadcast shape of the operands}}
  %0 = tfm.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @compare_result(%a: tensor<3xf32>) {
  // expected-error @+1 {{result #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = tfm.less %a, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @where(%c: tensor<4xi1>, %a: tensor<3xf32>) {
  // expected-error @+1 {{operand shapes do not broadcast together}}
  %0 = tfm.where %c, %a, %a : (tensor<4xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @dynamic(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{must be statically shaped tensor of floating-point values}}
  %0 = tfm.relu %a : tensor<?x3xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{operands must have rank >= 2}}
  %0 = tfm.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x3xf32>, %b: tensor<5x2xf32>) {
  // expected-error @+1 {{contraction dimensions differ: 3 vs 5}}
  %0 = tfm.matmul %a, %b : (tensor<4x3xf32>, tensor<5x2xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x3xf32>, %b: tensor<3x3x2xf32>) {
  // expected-error @+1 {{batch dimensions do not broadcast}}
  %0 = tfm.matmul %a, %b : (tensor<2x4x3xf32>, tensor<3x3x2xf32>) -> tensor<2x4x2xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<4x3xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{result shape does not match the operands}}
  %0 = tfm.matmul %a, %b : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x3xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{weight must have rank 2}}
  %0 = tfm.linear %x, %w : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<4x3xf32>, %w: tensor<5x2xf32>) {
  // expected-error @+1 {{input's last dimension must equal the weight's first dimension (5)}}
  %0 = tfm.linear %x, %w : (tensor<4x3xf32>, tensor<5x2xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x3xf32>, %w: tensor<3x2xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias must have shape [2]}}
  %0 = tfm.linear %x, %w, %b : (tensor<4x3xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<4x3xf32>, %w: tensor<3x2xf32>) {
  // expected-error @+1 {{result shape does not match the operands}}
  %0 = tfm.linear %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = tfm.softmax %x {axis = 2 : i64} : tensor<4x3xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<4x3xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{scale must have the shape of the normalised dimensions}}
  %0 = tfm.layer_norm %x scale %g {epsilon = 1.0e-5 : f32} : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<4x3xf32>, %b: tensor<3x1xf32>) {
  // expected-error @+1 {{bias must have the shape of the normalised dimensions}}
  %0 = tfm.layer_norm %x bias %b {epsilon = 1.0e-5 : f32} : (tensor<4x3xf32>, tensor<3x1xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{epsilon must be non-negative}}
  %0 = tfm.layer_norm %x {epsilon = -1.0 : f32} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = tfm.layer_norm %x {axis = -3 : i64, epsilon = 1.0e-5 : f32} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @rms_norm_scale(%x: tensor<4x3xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{scale must have the shape of the normalised dimensions}}
  %0 = tfm.rms_norm %x scale %g {epsilon = 1.0e-6 : f32} : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @rms_norm_result(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{result must have the input's shape}}
  %0 = tfm.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @causal_mask_rank(%x: tensor<4xf32>) {
  // expected-error @+1 {{input must have rank >= 2 (queries x keys)}}
  %0 = tfm.causal_mask %x : tensor<4xf32>
  return
}

// -----

func.func @causal_mask_window(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = tfm.causal_mask %x {window = 0 : i64} : tensor<4x4xf32>
  return
}

// -----

func.func @embedding_table(%t: tensor<10xf32>, %ids: tensor<4xi64>) {
  // expected-error @+1 {{table must have rank 2 (vocabulary x hidden)}}
  %0 = tfm.embedding %t, %ids : (tensor<10xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<10x8xf32>, %ids: tensor<4xi64>) {
  // expected-error @+1 {{result shape must be the ids' shape followed by the table's row size}}
  %0 = tfm.embedding %t, %ids : (tensor<10x8xf32>, tensor<4xi64>) -> tensor<4x10xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<10x8xf32>, %ids: tensor<4xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of signless integer values}}
  %0 = tfm.embedding %t, %ids : (tensor<10x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reduce_twice(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis -1 is listed twice}}
  %0 = tfm.reduce_sum %x {axes = array<i64: 1, -1>} : tensor<4x3xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @reduce_result(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{result shape does not match the reduction}}
  %0 = tfm.reduce_mean %x {axes = array<i64: 1>, keepdims = false} : tensor<4x3xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @reduce_axis(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis 5 is out of range for rank 2}}
  %0 = tfm.reduce_max %x {axes = array<i64: 5>} : tensor<4x3xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{cannot reshape 12 elements into 10}}
  %0 = tfm.reshape %x : tensor<4x3xf32> to tensor<2x5xf32>
  return
}

// -----

func.func @reshape_type(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{result element type must match the input's}}
  %0 = tfm.reshape %x : tensor<4x3xf32> to tensor<12xf16>
  return
}

// -----

func.func @transpose_perm(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{permutation must list every dimension once}}
  %0 = tfm.transpose %x {permutation = array<i64: 0, 0>} : tensor<4x3xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{result shape does not match the permutation}}
  %0 = tfm.transpose %x {permutation = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @expand(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{input shape does not broadcast to the result shape}}
  %0 = tfm.expand %x : tensor<2x3xf32> to tensor<4x3xf32>
  return
}

// -----

func.func @concat_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range}}
  %0 = tfm.concat %x, %x {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_dims(%x: tensor<2x3xf32>, %y: tensor<3x3xf32>) {
  // expected-error @+1 {{inputs differ from the result in dimension 0}}
  %0 = tfm.concat %x, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_sum(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{result size along the axis must be the inputs' sum}}
  %0 = tfm.concat %x, %x {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x7xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{slice exceeds the input in dimension 1}}
  %0 = tfm.slice %x {offsets = array<i64: 0, 6>, strides = array<i64: 1, 1>} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_stride(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{strides must be positive}}
  %0 = tfm.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 0>} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{offsets, strides and result must have the input's rank}}
  %0 = tfm.slice %x {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @gather_result(%x: tensor<8x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{result shape does not match the gather}}
  %0 = tfm.gather %x, %i {axis = 1 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 out of range for rank 2}}
  %0 = tfm.argmax %x {axis = 2 : i64, keepdims = true, select_last_index = false} : tensor<2x3xf32> -> tensor<2x1xi64>
  return
}

// -----

func.func @and_float(%x: tensor<2xf32>) {
  // expected-error @+1 {{must be statically shaped tensor of 1-bit signless integer values}}
  %0 = tfm.and %x, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  return
}

// -----

func.func @mod_float_floor(%x: tensor<2xf32>) {
  // expected-error @+1 {{on floats needs fmod = true}}
  %0 = tfm.mod %x, %x {fmod = false} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @bitshift_float(%x: tensor<2xf32>) {
  // expected-error @+1 {{shifts integers}}
  %0 = tfm.bitshift %x, %x {left = true} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @polynomial_pieces(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{needs one center and one half width per piece (2 for 1 knots)}}
  %0 = tfm.polynomial %x {knots = array<f64: 0.0>, centers = array<f64: 0.0>, half_widths = array<f64: 1.0, 1.0>, coefficients = array<f64: 1.0, 2.0>} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @polynomial_terms(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{coefficients must hold the same number (at least one) for every piece}}
  %0 = tfm.polynomial %x {knots = array<f64: 0.0>, centers = array<f64: 0.0, 0.0>, half_widths = array<f64: 1.0, 1.0>, coefficients = array<f64: 1.0, 2.0, 3.0>} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @polynomial_knots(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{knots must be strictly ascending}}
  %0 = tfm.polynomial %x {knots = array<f64: 1.0, 1.0>, centers = array<f64: 0.0, 0.0, 0.0>, half_widths = array<f64: 1.0, 1.0, 1.0>, coefficients = array<f64: 1.0, 2.0, 3.0>} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @polynomial_width(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{half widths must be positive}}
  %0 = tfm.polynomial %x {knots = array<f64>, centers = array<f64: 0.0>, half_widths = array<f64: 0.0>, coefficients = array<f64: 1.0>} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_softmax_epsilon(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{epsilon must be positive (the sum can be 0)}}
  %0 = tfm.kernel_softmax %x {axis = -1 : i64, kernel = #tfm.softmax_kernel<relu>, shift = 0.0 : f64, epsilon = 0.0 : f64, score_bound = 32.0 : f64} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @kernel_softmax_bound(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{score_bound must be positive}}
  %0 = tfm.kernel_softmax %x {axis = -1 : i64, kernel = #tfm.softmax_kernel<square>, shift = 5.0 : f64, epsilon = 1.0e-3 : f64, score_bound = -1.0 : f64} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @kernel_softmax_axis(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{axis}}
  %0 = tfm.kernel_softmax %x {axis = 2 : i64, kernel = #tfm.softmax_kernel<square>, shift = 5.0 : f64, epsilon = 1.0e-3 : f64, score_bound = 32.0 : f64} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @norm_variance_max(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{variance_max must be positive and finite}}
  %0 = tfm.rms_norm %x {epsilon = 1.0e-05 : f32, variance_max = 0.0 : f64, rsqrt_iterations = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
