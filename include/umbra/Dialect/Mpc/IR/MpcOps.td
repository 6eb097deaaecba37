#ifndef UMBRA_DIALECT_MPC_IR_MPCOPS_TD
#define UMBRA_DIALECT_MPC_IR_MPCOPS_TD

include "umbra/Dialect/Mpc/IR/MpcDialect.td"
include "umbra/Dialect/Mpc/IR/MpcAttributes.td"
include "umbra/Dialect/Mpc/IR/MpcTypes.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Mpc_AnyTensor : Type<CPred<"::llvm::isa<::umbra::mpc::MpcTensorType>($_self)">,
                         "mpc tensor", "::umbra::mpc::MpcTensorType">;

//===----------------------------------------------------------------------===//
// Crossing the boundary: encode, share, reveal, decode
//===----------------------------------------------------------------------===//

def Mpc_EncodeOp : Mpc_Op<"encode", [Pure]> {
  let summary = "encode a plaintext float tensor as fixed point";
  let description = [{
    Rounds `x * 2^frac` to the nearest ring element, for a value that some
    party holds in plaintext (a public constant, the client's input or the
    owner's weight). The result's visibility names that party; it cannot be
    `shared` (use `mpc.share` on the encoded value). An integer or bool
    tensor (an ONNX integer input) is encoded exactly at `frac = 0`.

    Example:

    ```mlir
    %w = mpc.encode %cst : tensor<768x768xf32> -> !mpc.tensor<768x768, owner, frac = 16>
    ```
  }];
  let arguments = (ins StaticShapeTensorOf<[AnyFloat, AnyInteger]>:$input);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

def Mpc_DecodeOp : Mpc_Op<"decode", [Pure]> {
  let summary = "decode a plaintext fixed-point tensor to float";
  let description = [{
    Interprets each ring element as a signed integer and divides by
    `2^frac`. Only values that are not secret-shared can be decoded: shared
    values must go through `mpc.reveal` first.

    Example:

    ```mlir
    %y = mpc.decode %r : !mpc.tensor<1x32x50257, client, frac = 16> -> tensor<1x32x50257xf32>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input);
  let results = (outs StaticShapeTensorOf<[AnyFloat]>:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

def Mpc_ShareOp : Mpc_Op<"share", [Pure]> {
  let summary = "secret-share a private value between P0 and P1";
  let description = [{
    The holder of a `client` or `owner` value splits it into two uniformly
    random additive shares (the holder is one of the two parties: the client
    is P0, the model owner P1). Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %s = mpc.share %x : !mpc.tensor<1x32x768, client, frac = 16> -> !mpc.tensor<1x32x768, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

def Mpc_RevealOp : Mpc_Op<"reveal", [Pure]> {
  let summary = "open a shared value, with a stated reason";
  let description = [{
    Reconstructs a shared value for `to` (`all`: both servers and the
    client, the result is `public`; `client`: only the client, the result is
    `client`). This is the only way a secret leaves the shared state, so
    `reason` must say why the leak is acceptable; the leakage report prints
    it.

    Example:

    ```mlir
    %l = mpc.reveal %s {to = #mpc.reveal_target<client>, reason = "model output"} : !mpc.tensor<1x32x50257, shared, frac = 16> -> !mpc.tensor<1x32x50257, client, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, Mpc_RevealTargetAttr:$to,
                   StrAttr:$reason);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

class Mpc_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Mpc_Op<mnemonic, !listconcat(traits, [Pure])> {
  let arguments = (ins Mpc_AnyTensor:$lhs, Mpc_AnyTensor:$rhs);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class Mpc_LinearBinaryOp<string mnemonic, string formula>
    : Mpc_BinaryOp<mnemonic, formula> {
  let summary = "elementwise " # formula # " (local, no communication)";
  let description = [{
    `}] # formula # [{` with numpy broadcasting. Both operands have the same
    number of fractional bits. Shares combine locally; a public operand is
    added by one server only. The result is `shared` if either operand is,
    otherwise the operands' common holder.

    Example:

    ```mlir
    %c = mpc.}] # mnemonic # [{ %a, %b : (!mpc.tensor<32x768, shared, frac = 16>, !mpc.tensor<768, public, frac = 16>) -> !mpc.tensor<32x768, shared, frac = 16>
    ```
  }];
}

def Mpc_AddOp : Mpc_LinearBinaryOp<"add", "lhs + rhs">;
def Mpc_SubOp : Mpc_LinearBinaryOp<"sub", "lhs - rhs">;

def Mpc_NegOp : Mpc_Op<"neg", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise negation (local)";
  let description = [{
    Negates every element; each server negates its share.

    Example:

    ```mlir
    %y = mpc.neg %x : !mpc.tensor<32x768, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

def Mpc_MulOp : Mpc_BinaryOp<"mul", "lhs * rhs"> {
  let summary = "elementwise product (Beaver if both operands are shared)";
  let description = [{
    Elementwise product with numpy broadcasting. The result has
    `frac(lhs) + frac(rhs)` fractional bits (follow with `mpc.trunc`). Two
    shared operands use a Beaver triple; a shared times a public operand is
    local. Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %c = mpc.mul %a, %b : (!mpc.tensor<32x768, shared, frac = 16>, !mpc.tensor<32x768, shared, frac = 16>) -> !mpc.tensor<32x768, shared, frac = 32>
    ```
  }];
}

def Mpc_MatMulOp : Mpc_BinaryOp<"matmul", "lhs x rhs"> {
  let summary = "matrix product (matrix Beaver if both operands are shared)";
  let description = [{
    `numpy.matmul` over the last two dimensions with broadcast batch
    dimensions. The result has `frac(lhs) + frac(rhs)` fractional bits.
    Shared x shared uses a matrix Beaver triple (opening `lhs - A` and
    `rhs - B`; for a constant weight `rhs - B` is opened once per
    deployment); shared x public is local. Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.matmul %x, %w : (!mpc.tensor<32x768, shared, frac = 16>, !mpc.tensor<768x3072, shared, frac = 16>) -> !mpc.tensor<32x3072, shared, frac = 32>
    ```
  }];
}

def Mpc_TruncOp : Mpc_Op<"trunc", [Pure]> {
  let summary = "drop fractional bits (faithful truncation)";
  let description = [{
    Divides by `2^bits` (arithmetic shift), removing `bits` fractional bits.
    On shared values this is a protocol (the runtime uses a faithful
    construction whose error is at most one unit in the last place); on
    plaintext values it is a local shift. With `live` (a public 0/1 block
    mask, as for `mpc.relu`) only the live blocks are truncated and the
    others are 0. Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.trunc %x {bits = 16 : i64} : !mpc.tensor<32x3072, shared, frac = 32> -> !mpc.tensor<32x3072, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, Optional<Mpc_AnyTensor>:$live,
                   ConfinedAttr<I64Attr, [IntPositive]>:$bits);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input (`live` $live^ `:` qualified(type($live)))? attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Type":$output, "::mlir::Value":$input, "int64_t":$bits), [{
    build($_builder, $_state, output, input, ::mlir::Value(), bits);
  }]>];
}

//===----------------------------------------------------------------------===//
// Comparison and selection
//===----------------------------------------------------------------------===//

def Mpc_DReluOp : Mpc_Op<"drelu", [Pure]> {
  let summary = "sign test: 1 where x >= 0, else 0";
  let description = [{
    The derivative of ReLU, the basic secure comparison (`a < b` is
    `1 - drelu(a - b)`). The result is a bit tensor (`frac = 0`) with the
    input's shape and visibility. On shared values the runtime's comparison
    backend (DCF or bit decomposition, chosen at the handshake) computes it.
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %b = mpc.drelu %x : !mpc.tensor<32x3072, shared, frac = 16> -> !mpc.tensor<32x3072, shared, frac = 0>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

def Mpc_SelectOp : Mpc_Op<"select", [Pure]> {
  let summary = "elementwise choice by a bit: cond ? a : b";
  let description = [{
    `cond` is a bit tensor (`frac = 0`) of the result's shape; `on_true` and
    `on_false` have the result's type up to visibility. Computed as
    `b + cond * (a - b)`: one Beaver product when `cond` is shared.
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.select %c, %x, %z : (!mpc.tensor<32x3072, shared, frac = 0>, !mpc.tensor<32x3072, shared, frac = 16>, !mpc.tensor<32x3072, public, frac = 16>) -> !mpc.tensor<32x3072, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$condition, Mpc_AnyTensor:$on_true,
                   Mpc_AnyTensor:$on_false);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Polynomials
//===----------------------------------------------------------------------===//

def Mpc_PolyOp : Mpc_Op<"poly", [Pure, SameOperandsAndResultType]> {
  let summary = "evaluate a polynomial with public coefficients";
  let description = [{
    `y = sum_i coefficients[i] * x^i`, in fixed point with the input's
    fractional bits (the runtime encodes the coefficients and truncates after
    every product) by Paterson-Stockmeyer on shared inputs. Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.poly %x {coefficients = array<f64: 0.5, 0.25, 0.0, -0.0208>} : !mpc.tensor<32x3072, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, DenseF64ArrayAttr:$coefficients);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}


//===----------------------------------------------------------------------===//
// Non-linear gates with stated input ranges
//===----------------------------------------------------------------------===//

class Mpc_UnaryGate<string mnemonic, list<Trait> traits = []>
    : Mpc_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
}

def Mpc_ReluOp : Mpc_Op<"relu", [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "elementwise max(x, 0)";
  let description = [{
    On shared values: one secure comparison by the runtime's comparison
    backend. With `live` (a public 0/1 block mask [..., nb], known to the
    dealer too: a block-sparse FFN's opened permuted mask), only the live
    blocks of the last axis are compared and the others are 0.
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.relu %x : !mpc.tensor<32x3072, shared, frac = 16>
    %z = mpc.relu %x live %m : !mpc.tensor<32x3072, shared, frac = 16>, !mpc.tensor<32x192, public, frac = 0>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, Optional<Mpc_AnyTensor>:$live);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input (`live` $live^)? attr-dict `:` qualified(type($input)) (`,` qualified(type($live))^)?";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$input), [{
    build($_builder, $_state, input.getType(), input, ::mlir::Value());
  }]>];
}

def Mpc_ExpOp : Mpc_UnaryGate<"exp"> {
  let summary = "elementwise exp on a non-positive input";
  let description = [{
    `exp(x)` for `x <= 0` (softmax after subtracting the row maximum), as
    `(1 + x / 2^t)^(2^t)` with `t = squarings` (PUMA): `t` Beaver squarings.
    Inputs below `-2^t` clamp to 0; the relative error for `x` in
    `[-2^(t-1), 0]` is below `x^2 / 2^(t+1)`. Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.exp %x {squarings = 8 : i64} : !mpc.tensor<12x32x32, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<1>, IntMaxValue<16>]>, "8">:$squarings);
}

class Mpc_InverseGate<string mnemonic, string formula>
    : Mpc_Op<mnemonic, [Pure]> {
  let summary = "elementwise " # formula # " for inputs in [lo, hi]";
  let description = [{
    `}] # formula # [{` for inputs in `[lo, hi]` (0 < lo < hi, stated by
    the compiler from the model's ranges). The runtime normalises the input
    obliviously into one of a few segments per binade and evaluates a
    series on the residual; `iterations` is the number of product levels
    of that series, `0` lets the runtime choose enough for the fixed-point
    precision over that range (docs/protocols.md). The round count does not
    depend on the range. The result has the input's shape and visibility;
    its fractional bits may differ from the input's (a norm's sum of squares
    enters with the bits the gate's range allows, its 1/sqrt leaves with the
    bits its smallest value needs; written `-> type` when they differ).
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %y = mpc.}] # mnemonic # [{ %x {lo = 1.0e-02 : f64, hi = 1.0e+03 : f64} : !mpc.tensor<32x1, shared, frac = 16>
    %z = mpc.}] # mnemonic # [{ %s {lo = 7.68e-03 : f64, hi = 7.68e+06 : f64} : !mpc.tensor<32x1, shared, frac = 14> -> !mpc.tensor<32x1, shared, frac = 32>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, F64Attr:$lo, F64Attr:$hi,
                   DefaultValuedAttr<ConfinedAttr<I64Attr, [IntNonNegative]>, "0">:$iterations);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` custom<InverseResult>(type($input), type($output))";
  let builders = [
    // The result at the input's precision.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::FloatAttr":$lo,
                   "::mlir::FloatAttr":$hi, "::mlir::IntegerAttr":$iterations), [{
      build($_builder, $_state, input.getType(), input, lo, hi, iterations);
    }]>
  ];
  let hasVerifier = 1;
}

def Mpc_ReciprocalOp : Mpc_InverseGate<"reciprocal", "1 / x">;
def Mpc_RsqrtOp : Mpc_InverseGate<"rsqrt", "1 / sqrt(x)">;

def Mpc_MaxOp : Mpc_Op<"max", [Pure]> {
  let summary = "maximum along one axis";
  let description = [{
    The maximum over `axis` (kept as a size-1 dimension): a tree of
    comparisons and selections, `ceil(log2 n)` levels for `n` elements.
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %m = mpc.max %x {axis = -1 : i64} : !mpc.tensor<12x32x32, shared, frac = 16> -> !mpc.tensor<12x32x1, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, I64Attr:$axis);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

def Mpc_ArgMaxOp : Mpc_Op<"argmax", [Pure]> {
  let summary = "index of the maximum along one axis";
  let description = [{
    The index (an integer at `frac = 0`) of the maximum over `axis` (kept as
    a size-1 dimension), the first one on ties: the tree of `mpc.max`, whose
    comparison bit of each pair also selects the pair's index (one product
    more per pair). The input may be a real or an integer.
    Communication cost: the op's row in the runtime's instruction table
    (runtime/src/isa/, checked against measurements by IsaCostTest; figures
    in docs/protocols.md, per program in `mpc-compile --cost-report`).

    Example:

    ```mlir
    %i = mpc.argmax %x {axis = 1 : i64} : !mpc.tensor<3x4, shared, frac = 16> -> !mpc.tensor<3x1, shared, frac = 0>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, I64Attr:$axis);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Local data movement (no communication)
//===----------------------------------------------------------------------===//

class Mpc_MoveOp<string mnemonic, string what, string example>
    : Mpc_Op<mnemonic, [Pure]> {
  let summary = what # " (local)";
  let description = [{
    Each party applies the same data movement to its share or plaintext;
    visibility and fractional bits are unchanged.

    Example:

    ```mlir
    }] # example # [{

    ```
  }];
  let results = (outs Mpc_AnyTensor:$output);
  // Every move op checks the same invariants, then its own shape rule
  // (verifyMove and the verifyMoveShape overloads in MpcOps.cpp).
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() { return verifyMove(*this); }
  }];
}

def Mpc_ReduceSumOp : Mpc_MoveOp<"reduce_sum", "sum over axes",
    "%s = mpc.reduce_sum %x {axes = array<i64: -1>} : !mpc.tensor<32x768, shared, frac = 16> -> !mpc.tensor<32x1, shared, frac = 16>"> {
  let arguments = (ins Mpc_AnyTensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_ReshapeOp : Mpc_MoveOp<"reshape", "row-major reshape",
    "%y = mpc.reshape %x : !mpc.tensor<32x768, shared, frac = 16> -> !mpc.tensor<32x12x64, shared, frac = 16>"> {
  let arguments = (ins Mpc_AnyTensor:$input);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_TransposeOp : Mpc_MoveOp<"transpose", "permute dimensions",
    "%y = mpc.transpose %x {permutation = array<i64: 1, 0, 2>} : !mpc.tensor<32x12x64, shared, frac = 16> -> !mpc.tensor<12x32x64, shared, frac = 16>"> {
  let arguments = (ins Mpc_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_BroadcastOp : Mpc_MoveOp<"broadcast", "numpy broadcast to a larger shape",
    "%y = mpc.broadcast %x : !mpc.tensor<32x1, shared, frac = 16> -> !mpc.tensor<32x768, shared, frac = 16>"> {
  let arguments = (ins Mpc_AnyTensor:$input);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_SliceOp : Mpc_MoveOp<"slice", "static strided slice",
    "%q = mpc.slice %qkv {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : !mpc.tensor<32x2304, shared, frac = 16> -> !mpc.tensor<32x768, shared, frac = 16>"> {
  let arguments = (ins Mpc_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                   DenseI64ArrayAttr:$strides);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_ConcatOp : Mpc_MoveOp<"concat", "concatenate along an axis",
    "%y = mpc.concat %a, %b {axis = 0 : i64} : (!mpc.tensor<16x64, shared, frac = 16>, !mpc.tensor<16x64, shared, frac = 16>) -> !mpc.tensor<32x64, shared, frac = 16>"> {
  let arguments = (ins Variadic<Mpc_AnyTensor>:$inputs, I64Attr:$axis);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  // Several inputs whose visibilities join: its own verifier (MpcOps.cpp).
  let extraClassDefinition = [{}];
}

def Mpc_GatherRowsOp : Mpc_Op<"gather_rows", [Pure,
    PredOpTrait<"result is the input with one row per index, same visibility and frac",
      CPred<[{[&] {
        auto in = ::llvm::cast<::umbra::mpc::MpcTensorType>($_op.getOperand(0).getType());
        auto out = ::llvm::cast<::umbra::mpc::MpcTensorType>($_op.getResult(0).getType());
        auto idx = $_op.template getAttrOfType<::mlir::DenseI64ArrayAttr>("indices");
        if (!idx || in.getRank() < 1 || out.getRank() != in.getRank() ||
            out.getVisibility() != in.getVisibility() ||
            out.getFrac() != in.getFrac() ||
            out.getShape()[0] != static_cast<int64_t>(idx.size()) ||
            out.getShape().drop_front() != in.getShape().drop_front())
          return false;
        for (int64_t r : idx.asArrayRef())
          if (r < 0 || r >= in.getShape()[0])
            return false;
        return true;
      }()}]>>]> {
  let summary = "rows of a tensor at public indices (local)";
  let description = [{
    `y[i, ...] = x[indices[i], ...]` for public `indices` (a block-sparse
    FFN keeps the rows a public schedule selects). Each party gathers the
    rows of its share or plaintext; visibility and fractional bits are
    unchanged. No communication (runtime/src/isa/Shape.cpp).

    Example:

    ```mlir
    %y = mpc.gather_rows %w {indices = array<i64: 4, 0, 7>} : !mpc.tensor<3072x768, shared, frac = 16> -> !mpc.tensor<3x768, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, DenseI64ArrayAttr:$indices);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($output))";
}

def Mpc_OneHotOp : Mpc_Op<"one_hot", [Pure]> {
  let summary = "one-hot encode integer ids held by one party";
  let description = [{
    `y[i..., j] = (ids[i...] == j)` for `j < depth`, computed in plaintext by
    the holder of the ids (the client's token ids), so that an embedding
    lookup becomes a matrix product and the ids never leave the client
    except as secret shares. The result has `frac = 0`. With
    `ignore_index`, an id equal to it gets a zero row (a loss's ignored
    label, which may lie outside `[0, depth)`). With `wrap_negative`, ids in
    `[-depth, 0)` count from the end (ONNX Gather's negative indices). Any
    other id outside `[0, depth)` is refused by the holder.

    Example:

    ```mlir
    %h = mpc.one_hot %ids {depth = 50257 : i64} : tensor<1x32xi64> -> !mpc.tensor<1x32x50257, client, frac = 0>
    ```
  }];
  let arguments = (ins StaticShapeTensorOf<[AnySignlessInteger]>:$ids,
                   ConfinedAttr<I64Attr, [IntPositive]>:$depth,
                   OptionalAttr<I64Attr>:$ignore_index,
                   UnitAttr:$wrap_negative);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$ids attr-dict `:` qualified(type($ids)) `->` qualified(type($output))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Block sparsity (Comet; docs/sparsity.md)
//===----------------------------------------------------------------------===//

def Mpc_BlockMatmulOp : Mpc_Op<"block_matmul", [Pure]> {
  let summary = "matrix product on the live blocks of a public mask";
  let description = [{
    `x [..., k] x w [k, m]` for a shared deployment-constant `w` (its
    Beaver mask is opened once per deployment), computing only the blocks
    the public 0/1 `mask` [..., nb] marks live: with `sparse_input = false`
    the output's column blocks (the others are 0), with `sparse_input =
    true` the input's entry blocks (the others are not read). Opens
    `x - A` on the entries read (one round); the dealer, which knows the
    mask, makes the material of the live blocks only. Result frac:
    `frac(x) + frac(w)`.

    Example:

    ```mlir
    %h = mpc.block_matmul %x, %w, %m {sparse_input = false} : (!mpc.tensor<32x256, shared, frac = 16>, !mpc.tensor<256x1024, shared, frac = 16>, !mpc.tensor<32x64, public, frac = 0>) -> !mpc.tensor<32x1024, shared, frac = 32>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, Mpc_AnyTensor:$weight,
                   Mpc_AnyTensor:$mask, BoolAttr:$sparse_input);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input `,` $weight `,` $mask attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Mpc_ShuffleOp : Mpc_Op<"shuffle", [Pure, AllTypesMatch<["input", "output"]>]> {
  let summary = "permute the rows of a shared matrix obliviously";
  let description = [{
    The rows of a shared [n, w] matrix permuted by a fresh permutation no
    role knows alone (one half known to P0 and the dealer, one to P1 and
    the dealer, one to P0 and P1). On deployment constants it runs once per
    deployment, unless `per_inference`. Two rounds, 16 bytes per element.

    Example:

    ```mlir
    %y = mpc.shuffle %x {per_inference = false} : !mpc.tensor<64x8256, shared, frac = 16>
    ```
  }];
  let arguments = (ins Mpc_AnyTensor:$input, BoolAttr:$per_inference);
  let results = (outs Mpc_AnyTensor:$output);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input))";
  let hasVerifier = 1;
}

#endif // UMBRA_DIALECT_MPC_IR_MPCOPS_TD
