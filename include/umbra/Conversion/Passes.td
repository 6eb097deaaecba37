#ifndef UMBRA_CONVERSION_PASSES_TD
#define UMBRA_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToMpc : Pass<"convert-tfm-to-mpc", "::mlir::ModuleOp"> {
  let summary = "Lower tfm (float semantics) to mpc (fixed point, visibility)";
  let description = [{
    Encodes every real value as fixed point with `frac-bits` fractional bits
    and gives it the visibility the visibility analysis infers (function
    arguments carry `mpc.visibility`, default `client`; non-splat float
    constants are the owner's weights unless `public-weights`). Values that
    only one party holds are computed by that party in plaintext; a value
    is secret-shared (`mpc.share`) only where it meets the other party's
    data. Every product is followed by a truncation back to `frac-bits`.
    Function results are revealed to the client (reason "model output"):
    a default compilation reveals nothing else.

    Non-linear ops become MPC-friendly forms:
    - `tfm.gelu`, `tfm.silu`: a spline with public breakpoints (0 below
      the first, x above the last) whose pieces are least-squares
      polynomials fitted by the pass in a variable scaled to [-1, 1]. One
      round of comparisons, the polynomial rounds, one round of products.
      Defaults: GeLU breakpoints -5, -2.5, 0, 2.5, 5 and degree 6 (max error
      2.7e-5 in float, tails included); SiLU breakpoints -10, -5, -2.5, 0,
      2.5, 5, 10 and degree 6 (max error 4.6e-4, dominated by the tails).
    - `tfm.softmax`: row maximum (comparison tree), `exp(x - max)` by
      repeated squaring, one reciprocal per row (input range [0.5, n]) and
      one product. A preceding `tfm.causal_mask` is applied with its public
      0/1 mask: masked scores are replaced by `masked-score` before the
      maximum and the exponentials are multiplied by the mask, so masked
      positions get weight exactly 0 (all local, no huge constants).
    - `tfm.layer_norm`, `tfm.rms_norm`: local sums, one product for the
      variance, `rsqrt` by Newton iterations on [epsilon,
      `variance-max` + epsilon], products with the scale.
    - `tfm.embedding`: the client one-hot encodes its ids (`mpc.one_hot`)
      and the lookup becomes a matrix product: the ids are never revealed.

    Ops with no MPC form here (erf, tanh, sigmoid, exp, sqrt, reciprocal,
    pow and division by a non-constant, comparisons, gathers by computed
    indices) are reported as errors naming the op; run `tfm-fuse` first so
    exporter decompositions become semantic ops.
  }];
  let options = [
    Option<"fracBits", "frac-bits", "unsigned", /*default=*/"16",
           "Fractional bits of the fixed-point encoding">,
    Option<"publicWeights", "public-weights", "bool", /*default=*/"false",
           "Treat the model's weights as public">,
    ListOption<"geluBreakpoints", "gelu-breakpoints", "double",
               "Spline breakpoints for GeLU">,
    Option<"geluDegree", "gelu-degree", "unsigned", /*default=*/"6",
           "Degree of each GeLU spline piece">,
    ListOption<"siluBreakpoints", "silu-breakpoints", "double",
               "Spline breakpoints for SiLU">,
    Option<"siluDegree", "silu-degree", "unsigned", /*default=*/"6",
           "Degree of each SiLU spline piece">,
    Option<"expSquarings", "exp-squarings", "int64_t", /*default=*/"8",
           "exp(x) = (1 + x / 2^t)^(2^t) with t squarings">,
    Option<"maskedScore", "masked-score", "double", /*default=*/"-1024.0",
           "Score given to causally masked positions before the row maximum">,
    Option<"varianceMax", "variance-max", "double", /*default=*/"1.0e4",
           "Largest variance (mean square) a normalisation may see">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // UMBRA_CONVERSION_PASSES_TD
