#ifndef UMBRA_CONVERSION_PASSES_TD
#define UMBRA_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToMpc : Pass<"convert-tfm-to-mpc", "::mlir::ModuleOp"> {
  let summary = "Lower tfm (float semantics) to mpc (fixed point, visibility)";
  let description = [{
    Encodes every real value as fixed point with `frac-bits` fractional bits
    and gives it the visibility the visibility analysis infers from the
    declared roles (`mpc.visibility` on arguments and constants, see
    `mpc-assign-roles`; an unmarked float constant is the owner's). This is
    the only place that inserts `mpc.share`. Values that
    only one party holds are computed by that party in plaintext; a value
    is secret-shared (`mpc.share`) only where it meets the other party's
    data. Every product is followed by a truncation back to `frac-bits`.
    Function results are revealed to the client (reason "model output"):
    a default compilation reveals nothing else.

    Non-linear ops become MPC-friendly forms:
    - `tfm.gelu` (erf and tanh forms), `tfm.silu`: both are f(x) = x S(x)
      with S(x) + S(-x) = 1, so f(x) = ReLU(x) - g(|x|) with g(t) = -f(-t)
      decaying to 0. The pass fits one polynomial to g on [0, T] (least
      squares at Chebyshev nodes, variable scaled to [-1, 1]) and emits one
      ReLU, |x| = 2 ReLU(x) - x (local), one comparison |x| < T, the
      polynomial and one product: two comparisons per element instead of a
      spline's one per breakpoint. Defaults: GeLU T = 4, degree 7, max error
      2.2e-4 (float, tails included); SiLU T = 10, degree 10, max error
      4.6e-4 (the tail beyond 10 dominates: silu(-10) = -4.5e-4).
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

    - Functions of secret data (docs/import.md, "Lowerings of ops on
      secret data", has each one's error and cost): `tfm.sigmoid`,
      `tfm.tanh`, `tfm.erf` are 1 - g(|x|) on the side of x's sign, with
      one polynomial g fitted on |x| < T (0 beyond); `tfm.softplus` is
      ReLU(x) plus a fitted correction like GeLU; `tfm.abs` is
      2 ReLU(x) - x; `tfm.exp` is 2^k 2^r with k = floor(x log2 e) from
      one batch of comparisons against the integers of its domain and 2^r a
      polynomial on [0, 1) (inputs below -(frac-bits + 1) ln 2 give 0, the
      domain's top is `exp-max`); `tfm.log` is e ln 2 + ln(m) with the
      binade e from one batch of comparisons against the powers of two in
      [`log-min`, `log-max`] and ln(m) a polynomial on [1, 2); `tfm.sqrt` is
      x rsqrt(x) on [2^-frac-bits, `sqrt-max`] (0 gives 0);
      `tfm.reciprocal` and `tfm.div` by a computed divisor use the sign and
      the reciprocal of |y| on [`reciprocal-min`, `reciprocal-max`];
      `tfm.pow` by a constant exponent is a product chain (integers, with a
      reciprocal for negative ones), sqrt/rsqrt for +-0.5 and half
      integers, and exp(p log x) otherwise (also for a computed exponent).
      Inputs outside a stated domain give wrong values: the domain is the
      compiler's promise about the model's data, not checked at run time.

    Ops with no MPC form here (comparisons, gathers by computed indices)
    are reported as errors naming the op; run `tfm-fuse` first so exporter
    decompositions become semantic ops.
  }];
  let options = [
    Option<"fracBits", "frac-bits", "unsigned", /*default=*/"16",
           "Fractional bits of the fixed-point encoding">,
    Option<"geluThreshold", "gelu-threshold", "double", /*default=*/"4.0",
           "GeLU is ReLU(x) exactly for |x| >= this">,
    Option<"geluDegree", "gelu-degree", "unsigned", /*default=*/"7",
           "Degree of the GeLU correction polynomial">,
    Option<"siluThreshold", "silu-threshold", "double", /*default=*/"10.0",
           "SiLU is ReLU(x) exactly for |x| >= this">,
    Option<"siluDegree", "silu-degree", "unsigned", /*default=*/"10",
           "Degree of the SiLU correction polynomial">,
    Option<"expSquarings", "exp-squarings", "int64_t", /*default=*/"8",
           "exp(x) = (1 + x / 2^t)^(2^t) with t squarings">,
    Option<"maskedScore", "masked-score", "double", /*default=*/"-1024.0",
           "Score given to causally masked positions before the row maximum">,
    Option<"varianceMax", "variance-max", "double", /*default=*/"1.0e4",
           "Largest variance (mean square) a normalisation may see">,
    Option<"reciprocalMin", "reciprocal-min", "double", /*default=*/"1.0e-4",
           "1/y and x/y for a computed y assume reciprocal-min <= |y|">,
    Option<"reciprocalMax", "reciprocal-max", "double", /*default=*/"1.0e4",
           "1/y and x/y for a computed y assume |y| <= reciprocal-max">,
    Option<"sqrtMax", "sqrt-max", "double", /*default=*/"1.0e4",
           "sqrt(x) of a computed x assumes 0 <= x <= sqrt-max">,
    Option<"logMin", "log-min", "double", /*default=*/"1.0e-4",
           "log(x) of a computed x assumes log-min <= x">,
    Option<"logMax", "log-max", "double", /*default=*/"1.0e4",
           "log(x) of a computed x assumes x <= log-max">,
    Option<"expMax", "exp-max", "double", /*default=*/"10.0",
           "exp(x) of a computed x assumes x <= exp-max (below, any x)">
  ];
  let dependentDialects = ["::umbra::mpc::MpcDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // UMBRA_CONVERSION_PASSES_TD
