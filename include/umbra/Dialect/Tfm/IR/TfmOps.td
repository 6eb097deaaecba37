#ifndef UMBRA_DIALECT_TFM_IR_TFMOPS_TD
#define UMBRA_DIALECT_TFM_IR_TFMOPS_TD

include "umbra/Dialect/Tfm/IR/TfmDialect.td"
include "umbra/Dialect/Tfm/IR/TfmAttributes.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tfm_FloatTensor : StaticShapeTensorOf<[AnyFloat]>;
def Tfm_BoolTensor : StaticShapeTensorOf<[I1]>;
def Tfm_IndexTensor : StaticShapeTensorOf<[AnySignlessInteger]>;
def Tfm_AnyTensor : StaticShapeTensorOf<[AnyType]>;
/// Reals or integers (exact integer arithmetic; ONNX integer tensors).
def Tfm_NumTensor : StaticShapeTensorOf<[AnyFloat, AnyInteger]>;

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class Tfm_UnaryOp<string mnemonic, string formula, list<Trait> traits = [],
                  Type operandType = Tfm_FloatTensor>
    : Tfm_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
                                            Elementwise])> {
  let summary = "elementwise " # formula;
  let description = [{
    Applies `}] # formula # [{` to every element of a float tensor.

    Example:

    ```mlir
    %y = tfm.}] # mnemonic # [{ %x : tensor<1x32x768xf32>
    ```
  }];
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  // Public constants fold (TfmFolding.cpp).
}

def Tfm_NegOp : Tfm_UnaryOp<"neg", "y = -x", [], Tfm_NumTensor>;
def Tfm_SqrtOp : Tfm_UnaryOp<"sqrt", "y = sqrt(x)">;
def Tfm_ReciprocalOp : Tfm_UnaryOp<"reciprocal", "y = 1 / x">;
def Tfm_ExpOp : Tfm_UnaryOp<"exp", "y = exp(x)">;
def Tfm_ErfOp : Tfm_UnaryOp<"erf", "y = erf(x)">;
def Tfm_TanhOp : Tfm_UnaryOp<"tanh", "y = tanh(x)">;
def Tfm_SigmoidOp : Tfm_UnaryOp<"sigmoid", "y = 1 / (1 + exp(-x))">;
def Tfm_ReluOp : Tfm_UnaryOp<"relu", "y = max(x, 0)">;
def Tfm_SiluOp : Tfm_UnaryOp<"silu", "y = x * sigmoid(x)">;
def Tfm_AbsOp : Tfm_UnaryOp<"abs", "y = |x|", [], Tfm_NumTensor>;
def Tfm_LogOp : Tfm_UnaryOp<"log", "y = log(x)">;
def Tfm_SoftplusOp : Tfm_UnaryOp<"softplus", "y = log(1 + exp(x))">;

// Elementwise functions of ONNX (lowered in FunctionLowerings.cpp).
def Tfm_FloorOp : Tfm_UnaryOp<"floor", "y = floor(x)">;
def Tfm_CeilOp : Tfm_UnaryOp<"ceil", "y = ceil(x)">;
def Tfm_RoundOp : Tfm_UnaryOp<"round", "y = round(x) (half to even)">;
def Tfm_SinOp : Tfm_UnaryOp<"sin", "y = sin(x)">;
def Tfm_CosOp : Tfm_UnaryOp<"cos", "y = cos(x)">;
def Tfm_TanOp : Tfm_UnaryOp<"tan", "y = tan(x)">;
def Tfm_AtanOp : Tfm_UnaryOp<"atan", "y = atan(x)">;
def Tfm_AsinOp : Tfm_UnaryOp<"asin", "y = asin(x)">;
def Tfm_AcosOp : Tfm_UnaryOp<"acos", "y = acos(x)">;
def Tfm_SinhOp : Tfm_UnaryOp<"sinh", "y = sinh(x)">;
def Tfm_CoshOp : Tfm_UnaryOp<"cosh", "y = cosh(x)">;
def Tfm_AsinhOp : Tfm_UnaryOp<"asinh", "y = asinh(x)">;
def Tfm_AcoshOp : Tfm_UnaryOp<"acosh", "y = acosh(x)">;
def Tfm_AtanhOp : Tfm_UnaryOp<"atanh", "y = atanh(x)">;

def Tfm_GeluOp : Tfm_Op<"gelu", [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "elementwise GeLU";
  let description = [{
    `y = x * Phi(x)` with the exact (erf-based) Gaussian CDF when
    `approximation` is `none`, or the tanh approximation
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` when it is
    `tanh`.

    Example:

    ```mlir
    %y = tfm.gelu %x {approximation = #tfm.gelu_approximation<tanh>} : tensor<32x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
      DefaultValuedAttr<Tfm_GeluApproximationAttr,
                        "::umbra::tfm::GeluApproximation::none">:$approximation);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class Tfm_BinaryOp<string mnemonic, string formula, Type resultType,
                   list<Trait> traits = [], string exampleElt = "f32",
                   Type operandType = Tfm_FloatTensor>
    : Tfm_Op<mnemonic, !listconcat(traits, [Pure])> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = [{
    Computes `}] # formula # [{` elementwise. The operands broadcast against
    each other with numpy (ONNX multidirectional) rules; the result has the
    broadcast shape.

    Example:

    ```mlir
    %c = tfm.}] # mnemonic # [{ %a, %b : (tensor<1x32x768xf32>, tensor<768xf32>) -> tensor<1x32x768x}]
    # exampleElt # [{>

    ```
  }];
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs resultType:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  // Public constants fold (TfmFolding.cpp).
}

// Add, Sub, Mul, Max, Equal and Less also take integer tensors (exact).
def Tfm_AddOp : Tfm_BinaryOp<"add", "lhs + rhs", Tfm_NumTensor, [Commutative], "f32", Tfm_NumTensor>;
def Tfm_SubOp : Tfm_BinaryOp<"sub", "lhs - rhs", Tfm_NumTensor, [], "f32", Tfm_NumTensor>;
def Tfm_MulOp : Tfm_BinaryOp<"mul", "lhs * rhs", Tfm_NumTensor, [Commutative], "f32", Tfm_NumTensor>;
// Div and Pow also take integer tensors: an integer quotient is truncated
// toward zero; an integer exponent may meet a float base and a float
// exponent an integer base (the result has the base's type: an integer
// result is the power truncated toward zero, as ONNX's cast).
def Tfm_DivOp : Tfm_BinaryOp<"div", "lhs / rhs", Tfm_NumTensor, [], "f32", Tfm_NumTensor>;
def Tfm_PowOp : Tfm_BinaryOp<"pow", "lhs ^ rhs", Tfm_NumTensor, [], "f32", Tfm_NumTensor>;
def Tfm_MaxOp : Tfm_BinaryOp<"max", "max(lhs, rhs)", Tfm_NumTensor, [Commutative], "f32", Tfm_NumTensor>;
def Tfm_EqualOp : Tfm_BinaryOp<"equal", "lhs == rhs", Tfm_BoolTensor, [Commutative], "i1", Tfm_NumTensor>;
def Tfm_LessOp : Tfm_BinaryOp<"less", "lhs < rhs", Tfm_BoolTensor, [], "i1", Tfm_NumTensor>;

def Tfm_WhereOp : Tfm_Op<"where", [Pure]> {
  let summary = "elementwise selection with broadcasting";
  let description = [{
    `y = condition ? on_true : on_false`, elementwise, with numpy
    broadcasting of all three operands.

    Example:

    ```mlir
    %y = tfm.where %m, %a, %b : (tensor<32x32xi1>, tensor<1x12x32x32xf32>, tensor<f32>) -> tensor<1x12x32x32xf32>
    ```
  }];
  let arguments = (ins Tfm_BoolTensor:$condition, Tfm_NumTensor:$on_true,
                   Tfm_NumTensor:$on_false);
  let results = (outs Tfm_NumTensor:$output);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_CastOp : Tfm_Op<"cast", [Pure, SameOperandsAndResultShape, Elementwise]> {
  let summary = "elementwise element type conversion";
  let description = [{
    Converts each element to the result's element type (float, integer or
    boolean), with ONNX `Cast` semantics.

    Example:

    ```mlir
    %y = tfm.cast %x : tensor<1x32xi1> to tensor<1x32xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `to` qualified(type($output))";
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Tfm_MatMulOp : Tfm_Op<"matmul", [Pure]> {
  let summary = "matrix product with numpy batch broadcasting";
  let description = [{
    `numpy.matmul` semantics: the last two dimensions are multiplied, the
    leading (batch) dimensions broadcast. Rank-1 operands are not accepted;
    the importer reshapes them.

    Example:

    ```mlir
    %s = tfm.matmul %q, %kt : (tensor<1x12x32x64xf32>, tensor<1x12x64x32xf32>) -> tensor<1x12x32x32xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_LinearOp : Tfm_Op<"linear", [Pure]> {
  let summary = "affine layer y = x * W + b";
  let description = [{
    Multiplies the last dimension of `input` (K) by a rank-2 `weight` of
    shape K x N and adds an optional `bias` of shape N. This is the form of
    every projection in a transformer; the weight is usually a model-owner
    constant, which later passes exploit (its Beaver mask is opened once per
    deployment).

    Example:

    ```mlir
    %y = tfm.linear %x, %w, %b : (tensor<1x32x768xf32>, tensor<768x3072xf32>, tensor<3072xf32>) -> tensor<1x32x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Optional<Tfm_FloatTensor>:$bias);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalisation and attention
//===----------------------------------------------------------------------===//

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let description = [{
    `y_i = exp(x_i) / sum_j exp(x_j)` along `axis` (negative counts from the
    back). Positions set to `-inf` (see `tfm.causal_mask`) get weight 0.

    Example:

    ```mlir
    %p = tfm.softmax %s {axis = -1 : i64} : tensor<1x12x32x32xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "layer normalisation over the trailing dimensions";
  let description = [{
    Normalises `input` over the dimensions from `axis` to the last one:
    `y = (x - mean) / sqrt(var + epsilon) * scale + bias`. `scale` and
    `bias` are optional and have the normalised dimensions' shape. With
    `variance_max` (mpc-approximate's `rsqrt` strategy) the lowering
    computes `1 / sqrt(var + epsilon)` for variances up to it only (instead
    of convert-tfm-to-mpc's `variance-max`), with `rsqrt_iterations`
    product levels (0: as many as the fixed-point precision needs).

    Example:

    ```mlir
    %y = tfm.layer_norm %x scale %g bias %b {axis = -1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x32x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x32x768xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                   Optional<Tfm_FloatTensor>:$scale,
                   Optional<Tfm_FloatTensor>:$bias,
                   DefaultValuedAttr<I64Attr, "-1">:$axis,
                   F32Attr:$epsilon,
                   OptionalAttr<F64Attr>:$variance_max,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$rsqrt_iterations);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`scale` $scale^)? (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    // The accurate norm.
    OpBuilder<(ins "::mlir::Type":$output, "::mlir::Value":$input,
                   "::mlir::Value":$scale, "::mlir::Value":$bias,
                   "::mlir::IntegerAttr":$axis, "::mlir::FloatAttr":$epsilon), [{
      build($_builder, $_state, output, input, scale, bias, axis, epsilon,
            nullptr, nullptr);
    }]>
  ];
  let hasVerifier = 1;
}

def Tfm_RmsNormOp : Tfm_Op<"rms_norm", [Pure]> {
  let summary = "root-mean-square normalisation over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + epsilon) * scale` over the last dimension
    (LLaMA); `scale` is optional and has the last dimension's shape.
    `variance_max` and `rsqrt_iterations` as for `tfm.layer_norm`, the
    variance being `mean(x^2)`.

    Example:

    ```mlir
    %y = tfm.rms_norm %x scale %g {epsilon = 1.0e-06 : f32} : (tensor<1x32x256xf32>, tensor<256xf32>) -> tensor<1x32x256xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                   Optional<Tfm_FloatTensor>:$scale,
                   F32Attr:$epsilon,
                   OptionalAttr<F64Attr>:$variance_max,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$rsqrt_iterations);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`scale` $scale^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [
    // The accurate norm.
    OpBuilder<(ins "::mlir::Type":$output, "::mlir::Value":$input,
                   "::mlir::Value":$scale, "::mlir::FloatAttr":$epsilon), [{
      build($_builder, $_state, output, input, scale, epsilon, nullptr,
            nullptr);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// MPC-friendly forms (mpc-approximate; constants from strategies.json)
//===----------------------------------------------------------------------===//

def Tfm_PolynomialOp : Tfm_Op<"polynomial",
    [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "elementwise piecewise polynomial";
  let description = [{
    A piecewise polynomial with one piece more than `knots` (ascending):
    piece `i` holds on `[knots[i-1], knots[i])`, the first from -inf, the
    last to +inf, and is `sum_k c[i][k] u^k` in its own scaled variable
    `u = (x - centers[i]) / half_widths[i]`. `coefficients` holds the
    pieces' coefficients one after the other, the same number for each.
    mpc-approximate writes it for GeLU/SiLU's `quad` (one piece) and `poly`
    (0 below the fitted domain, x above it, fitted pieces between).

    Example:

    ```mlir
    %y = tfm.polynomial %x {knots = array<f64>, centers = array<f64: 0.0>, half_widths = array<f64: 1.0>, coefficients = array<f64: 0.5, 0.25, 0.125>} : tensor<1x32x1024xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, DenseF64ArrayAttr:$knots,
                   DenseF64ArrayAttr:$centers, DenseF64ArrayAttr:$half_widths,
                   DenseF64ArrayAttr:$coefficients);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Coefficients per piece.
    int64_t getTermCount() {
      return getCoefficients().size() / getCenters().size();
    }
    /// Piece `i`'s coefficients.
    ::llvm::ArrayRef<double> getPiece(int64_t i) {
      return getCoefficients().slice(i * getTermCount(), getTermCount());
    }
  }];
}

def Tfm_KernelSoftmaxOp : Tfm_Op<"kernel_softmax",
    [Pure, SameOperandsAndResultType]> {
  let summary = "softmax with a cheaper kernel in place of exp";
  let description = [{
    `y_i = k(x_i) / (sum_j k(x_j) + epsilon)` along `axis`, with
    `k(x) = (x + shift)^2` (`square`, MPCFormer's 2Quad) or
    `k(x) = max(x + shift, 0)` (`relu`, Liu & Liu). Keys masked by a
    `tfm.causal_mask` input get `k = 0`. The lowering's reciprocal of the
    sum holds for scores in `[-score_bound, score_bound]` (the range report
    checks it).

    Example:

    ```mlir
    %p = tfm.kernel_softmax %s {axis = -1 : i64, kernel = #tfm.softmax_kernel<relu>, shift = 0.0 : f64, epsilon = 1.0e-03 : f64, score_bound = 32.0 : f64} : tensor<1x4x32x32xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis,
                   Tfm_SoftmaxKernelAttr:$kernel, F64Attr:$shift,
                   F64Attr:$epsilon, F64Attr:$score_bound);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Tfm_CausalMaskOp : Tfm_Op<"causal_mask", [Pure, SameOperandsAndResultType]> {
  let summary = "mask attention scores above the diagonal";
  let description = [{
    For the last two dimensions (queries i, keys j) sets `y[..., i, j]` to
    `-inf` where `j > i + (keys - queries)` and copies `x` elsewhere, so a
    following softmax gives those positions weight 0. With a `window` w
    (sliding-window attention), keys more than w - 1 before the diagonal are
    masked too: `j <= i + (keys - queries) - w`. The mask is public and
    structural: a later MPC lowering never computes masked positions, instead
    of encoding a huge negative fixed-point constant.

    Example:

    ```mlir
    %m = tfm.causal_mask %s : tensor<1x12x32x32xf32>
    %b = tfm.causal_mask %s {window = 8 : i64} : tensor<1x12x32x32xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                   OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$window);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure]> {
  let summary = "row lookup in an embedding table";
  let description = [{
    `y[i..., :] = table[ids[i...], :]`. The ids are the client's tokens:
    a later lowering must not reveal them (the client one-hot encodes them,
    turning the lookup into a matrix product).

    Example:

    ```mlir
    %e = tfm.embedding %table, %ids : (tensor<50257x768xf32>, tensor<1x32xi64>) -> tensor<1x32x768xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$table, Tfm_IndexTensor:$ids);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $table `,` $ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Tfm_ReduceOp<string mnemonic, string what>
    : Tfm_Op<mnemonic, [Pure]> {
  let summary = what # " over a set of axes";
  let description = [{
    Reduces `input` with }] # what # [{ over `axes` (negative values count from
    the back). With `keepdims` the reduced dimensions stay as size 1.

    Example:

    ```mlir
    %m = tfm.}] # mnemonic # [{ %x {axes = array<i64: -1>, keepdims = true} : tensor<1x32x768xf32> -> tensor<1x32x1xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input attr-dict `:` qualified(type($input)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
}

def Tfm_ReduceSumOp : Tfm_ReduceOp<"reduce_sum", "the sum">;
def Tfm_ReduceMeanOp : Tfm_ReduceOp<"reduce_mean", "the mean">;
def Tfm_ReduceMaxOp : Tfm_ReduceOp<"reduce_max", "the maximum">;

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Tfm_ReshapeOp : Tfm_Op<"reshape", [Pure]> {
  let summary = "reinterpret a tensor with another static shape";
  let description = [{
    Row-major reshape to the result type's shape; the element count must not
    change. ONNX Reshape, Squeeze, Unsqueeze and Flatten import to it.

    Example:

    ```mlir
    %y = tfm.reshape %x : tensor<1x32x768xf32> to tensor<1x32x12x64xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `to` qualified(type($output))";
  let hasVerifier = 1;
}

def Tfm_TransposeOp : Tfm_Op<"transpose", [Pure]> {
  let summary = "permute dimensions";
  let description = [{
    `y` has dimension `i` equal to dimension `permutation[i]` of `x`.

    Example:

    ```mlir
    %y = tfm.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x32x12x64xf32> -> tensor<1x12x32x64xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = [{
    $input attr-dict `:` qualified(type($input)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
}

def Tfm_ExpandOp : Tfm_Op<"expand", [Pure]> {
  let summary = "broadcast a tensor to a larger static shape";
  let description = [{
    numpy `broadcast_to`: the input's shape must broadcast to the result's.

    Example:

    ```mlir
    %y = tfm.expand %x : tensor<1x1x32x32xi1> to tensor<1x12x32x32xi1>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `to` qualified(type($output))";
  let hasVerifier = 1;
}

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "concatenate tensors along one axis";
  let description = [{
    Joins the inputs along `axis` (non-negative); all other dimensions and
    the element type must agree.

    Example:

    ```mlir
    %y = tfm.concat %a, %b {axis = 1 : i64} : (tensor<1x16x64xf32>, tensor<1x16x64xf32>) -> tensor<1x32x64xf32>
    ```
  }];
  let arguments = (ins Variadic<Tfm_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, results)
  }];
  let hasVerifier = 1;
}

def Tfm_SliceOp : Tfm_Op<"slice", [Pure]> {
  let summary = "static strided slice";
  let description = [{
    Takes, for every dimension `d`, the elements `offsets[d]`,
    `offsets[d] + strides[d]`, ... (result's size along `d` many, strides
    positive). ONNX Slice with constant bounds and each output of Split
    import to it.

    Example:

    ```mlir
    %q = tfm.slice %qkv {offsets = array<i64: 0, 0, 0>, strides = array<i64: 1, 1, 1>} : tensor<1x32x2304xf32> -> tensor<1x32x768xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$strides);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = [{
    $input attr-dict `:` qualified(type($input)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
}

def Tfm_GatherOp : Tfm_Op<"gather", [Pure]> {
  let summary = "gather slices along an axis by integer indices";
  let description = [{
    ONNX `Gather`: `y` is `data` with dimension `axis` replaced by the
    indices' shape. Gathers of token ids from an embedding table import as
    `tfm.embedding` instead.

    Example:

    ```mlir
    %y = tfm.gather %x, %i {axis = 0 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Tfm_AnyTensor:$data, Tfm_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Tfm_AnyTensor:$output);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Losses and log-domain ops (imported by lib/Target/ONNX/LossOps.cpp,
// lowered by lib/Conversion/TfmToMpc/Losses.cpp)
//===----------------------------------------------------------------------===//

def Tfm_LogSoftmaxOp : Tfm_Op<"log_softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "log of softmax along one axis";
  let description = [{
    `y_i = x_i - max - log(sum_j exp(x_j - max))` along `axis` (negative
    counts from the back): ONNX `LogSoftmax`, and the first half of
    `SoftmaxCrossEntropyLoss`.

    Example:

    ```mlir
    %y = tfm.log_softmax %x {axis = -1 : i64} : tensor<3x5xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

def Tfm_OneHotOp : Tfm_Op<"one_hot", [Pure]> {
  let summary = "0/1 rows of integer ids";
  let description = [{
    `y[i..., j] = (ids[i...] == j)` for `j < depth`; every id must be in
    `[0, depth)` or equal `ignore_index` (if given), whose rows are zero
    (a loss's ignored label). With `wrap_negative`, ids in `[-depth, 0)`
    count from the end (ONNX Gather's negative indices).

    Ids that are a model input (class labels, gather indices, tokens) are
    the client's: the client expands them in plaintext and shares the rows,
    so a selection by the ids becomes products with the rows and the ids
    never leave the client. Ids computed inside the model are secret: the
    rows are differences of the comparisons `[ids >= j]`, one stacked
    comparison per candidate `j`, and an id outside the range gets a zero
    row (nobody can check it without revealing it).

    Example:

    ```mlir
    %h = tfm.one_hot %t {depth = 5 : i64} : tensor<3xi64> -> tensor<3x5xf32>
    ```
  }];
  let arguments = (ins Tfm_IndexTensor:$ids,
                   ConfinedAttr<I64Attr, [IntPositive]>:$depth,
                   OptionalAttr<I64Attr>:$ignore_index,
                   UnitAttr:$wrap_negative);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $ids attr-dict `:` qualified(type($ids)) `->` qualified(type($output))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Integers and bools (ring elements at 0 fractional bits)
//===----------------------------------------------------------------------===//

class Tfm_LogicOp<string mnemonic, string formula>
    : Tfm_BinaryOp<mnemonic, formula, Tfm_BoolTensor, [Commutative], "i1",
                   Tfm_BoolTensor>;
def Tfm_AndOp : Tfm_LogicOp<"and", "lhs and rhs">;
def Tfm_OrOp : Tfm_LogicOp<"or", "lhs or rhs">;
def Tfm_XorOp : Tfm_LogicOp<"xor", "lhs xor rhs">;

def Tfm_NotOp : Tfm_Op<"not", [Pure, SameOperandsAndResultType, Elementwise]> {
  let summary = "elementwise logical not";
  let description = [{
    `y = !x` on a bool tensor.

    Example:

    ```mlir
    %y = tfm.not %x : tensor<3x4xi1>
    ```
  }];
  let arguments = (ins Tfm_BoolTensor:$input);
  let results = (outs Tfm_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

def Tfm_ModOp : Tfm_Op<"mod", [Pure]> {
  let summary = "elementwise remainder with broadcasting";
  let description = [{
    `lhs - rhs * q` elementwise (numpy broadcasting): with `fmod`, q is the
    quotient truncated toward zero (the remainder has the dividend's sign;
    C fmod, required for floats); without, q is the floored quotient (the
    remainder has the divisor's sign; integers only). ONNX Mod.

    Example:

    ```mlir
    %r = tfm.mod %a, %b {fmod = false} : (tensor<6xi32>, tensor<6xi32>) -> tensor<6xi32>
    ```
  }];
  let arguments = (ins Tfm_NumTensor:$lhs, Tfm_NumTensor:$rhs, BoolAttr:$fmod);
  let results = (outs Tfm_NumTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_BitShiftOp : Tfm_Op<"bitshift", [Pure]> {
  let summary = "elementwise shift of unsigned integers with broadcasting";
  let description = [{
    `lhs << rhs` (with `left`) or `lhs >> rhs` on integers of width w
    holding unsigned values (ONNX BitShift takes unsigned types only),
    numpy broadcasting: the left shift is `lhs * 2^rhs mod 2^w`,
    the right shift `floor(lhs / 2^rhs)`; a shift by w or more gives 0.
    ONNX BitShift.

    Example:

    ```mlir
    %y = tfm.bitshift %x, %s {left = true} : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi8>
    ```
  }];
  let arguments = (ins Tfm_NumTensor:$lhs, Tfm_NumTensor:$rhs, BoolAttr:$left);
  let results = (outs Tfm_NumTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_SignOp : Tfm_UnaryOp<"sign", "y = sign(x) (-1, 0 or 1)", [],
                             Tfm_NumTensor>;

def Tfm_ArgMaxOp : Tfm_Op<"argmax", [Pure]> {
  let summary = "index of the maximum along an axis";
  let description = [{
    The index of the largest element along `axis` (non-negative), the first
    one on ties, or the last one with `select_last_index`; the axis is kept
    as a size-1 dimension when `keepdims` is set. (ONNX ArgMin is the
    argmax of the negation.)

    Example:

    ```mlir
    %i = tfm.argmax %x {axis = 1 : i64, keepdims = true, select_last_index = false} : tensor<2x3xf32> -> tensor<2x1xi64>
    ```
  }];
  let arguments = (ins Tfm_NumTensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                   BoolAttr:$select_last_index);
  let results = (outs Tfm_IndexTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Predicted activation sparsity (Comet; docs/sparsity.md)
//===----------------------------------------------------------------------===//

def Tfm_FfnPredictorOp : Tfm_Op<"ffn_predictor"> {
  let summary = "declares the activation predictor of one FFN";
  let description = [{
    The low-rank block predictor a model ships for its `ffn`-th FFN (in
    program order), as the importer finds it in the ONNX initializers
    `umbra.predictor.<ffn>.{u,v,bias,threshold[,recall_table]}`
    (python/umbra_models/predictor.py): score = (x u) v + bias, one score
    per block of F / nb neurons; a block is predicted active when its score
    exceeds `threshold`. `recall_table` ([n, 2]: recall, threshold, measured
    on held-out tokens) lets the compiler choose the threshold for a target
    recall. The op computes nothing: `mpc-insert-predictors` consumes it;
    otherwise it is ignored (its weights never reach the program).

    Example:

    ```mlir
    tfm.ffn_predictor %u, %v, %c, %t {ffn = 0 : i64} : tensor<256x32xf32>, tensor<32x64xf32>, tensor<64xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$u, Tfm_FloatTensor:$v,
                   Tfm_FloatTensor:$bias, Tfm_FloatTensor:$threshold,
                   Optional<Tfm_FloatTensor>:$recall_table,
                   ConfinedAttr<I64Attr, [IntNonNegative]>:$ffn);
  let assemblyFormat = [{
    $u `,` $v `,` $bias `,` $threshold (`,` $recall_table^)? attr-dict `:` type($u) `,` type($v) `,` type($bias) `,` type($threshold) (`,` type($recall_table)^)?
  }];
  let hasVerifier = 1;
}

def Tfm_BlockMaskOp : Tfm_Op<"block_mask", [Pure]> {
  let summary = "which blocks of neurons a predictor's scores select";
  let description = [{
    `mask[..., j] = any(scores[..., j*group + i] >= threshold for i < group)`:
    the blocks of an FFN predicted active, per token (computed under MPC:
    a secret mask). `group` > 1 merges that many predictor blocks into one
    block of the sparse FFN (`--sparsity-block`). Under MPC the comparison
    is `scores - threshold >= 0`; torch's `>` differs only on ties.

    `bucket` > 0 pads each token's count of selected blocks up to a
    multiple of `bucket` by also selecting the lowest-numbered unselected
    blocks (`--sparsity-bucket`): an opened permuted mask then reveals only
    the bucket. The padding blocks are computed like predicted ones.

    Example:

    ```mlir
    %m = tfm.block_mask %s, %t {group = 1 : i64} : (tensor<1x32x64xf32>, tensor<f32>) -> tensor<1x32x64xi1>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$scores, Tfm_FloatTensor:$threshold,
                   ConfinedAttr<I64Attr, [IntPositive]>:$group,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$bucket);
  let results = (outs Tfm_BoolTensor:$mask);
  let assemblyFormat = [{
    $scores `,` $threshold attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_BlockSelectOp : Tfm_Op<"block_select", [Pure]> {
  let summary = "zero the blocks a mask does not select";
  let description = [{
    `y[..., j*B + e] = mask[..., j] ? x[..., j*B + e] : 0` with
    B = x.shape[-1] / mask.shape[-1]: an FFN's activations restricted to
    its predicted blocks (what `mpc-insert-predictors` inserts before the
    down projection; the dense form of the predicted model, which
    `mpc-sparsify-ffn` turns into block-sparse products).

    Example:

    ```mlir
    %y = tfm.block_select %a, %m : (tensor<1x32x1024xf32>, tensor<1x32x64xi1>) -> tensor<1x32x1024xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_BoolTensor:$mask);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_BlockLinearOp : Tfm_Op<"block_linear", [Pure]> {
  let summary = "an affine layer on the selected blocks only";
  let description = [{
    `tfm.linear` restricted to the blocks `mask` selects. Without
    `sparse_input` (the FFN's first product), blocks split the output's last
    axis: only selected output blocks are computed (bias included), the
    others are 0. With `sparse_input` (the second product), blocks split
    the input's last axis and only the selected input blocks are read.
    `leakage` is the policy of the oblivious execution (docs/sparsity.md):
    `per-deployment` (the blocks are permuted once per deployment) or
    `per-inference` (a fresh permutation per inference). All block ops of
    one mask form one FFN and share the policy.

    Example:

    ```mlir
    %h = tfm.block_linear %x, %w bias %b mask %m {sparse_input = false, leakage = "per-deployment"} : (tensor<1x32x256xf32>, tensor<256x1024xf32>, tensor<1024xf32>, tensor<1x32x64xi1>) -> tensor<1x32x1024xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                   Optional<Tfm_FloatTensor>:$bias, Tfm_BoolTensor:$mask,
                   BoolAttr:$sparse_input, StrAttr:$leakage);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `mask` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Tfm_BlockReluOp : Tfm_Op<"block_relu", [Pure]> {
  let summary = "ReLU on the selected blocks only";
  let description = [{
    `y = block_select(relu(x), mask)`: the activation of a block-sparse FFN,
    evaluated on the selected blocks only (one comparison per selected
    neuron instead of per neuron).

    Example:

    ```mlir
    %a = tfm.block_relu %h, %m : (tensor<1x32x1024xf32>, tensor<1x32x64xi1>) -> tensor<1x32x1024xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_BoolTensor:$mask);
  let results = (outs Tfm_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // UMBRA_DIALECT_TFM_IR_TFMOPS_TD
