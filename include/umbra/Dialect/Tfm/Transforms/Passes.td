#ifndef UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmFuse : Pass<"tfm-fuse"> {
  let summary = "Raise decomposed exporter patterns to semantic tfm ops";
  let description = [{
    Exporters write GeLU, LayerNorm, RMSNorm, SiLU and softmax as chains of
    elementwise ops and reductions. MPC cost depends on knowing the semantic
    op (a GeLU gets one piecewise polynomial, not an erf approximation
    multiplied by x), so this pass recognises the forms torch writes and
    replaces them:

    - `x * 0.5 * (1 + erf(x / sqrt(2)))` (any association, `x * 1/sqrt(2)`
      too) -> `tfm.gelu`;
    - `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` ->
      `tfm.gelu {approximation = tanh}`;
    - `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps)` followed by an
      optional `* scale` and `+ bias` -> `tfm.layer_norm`;
    - `x / sqrt(mean(x^2) + eps)` or `x * reciprocal(sqrt(...))` followed by
      an optional `* scale` -> `tfm.rms_norm`;
    - `x * sigmoid(x)` -> `tfm.silu`;
    - `exp(x - max(x)) / sum(exp(x - max(x)))` (max subtraction optional)
      -> `tfm.softmax`;
    - `where(causal lower-triangular constant, x, very negative)` ->
      `tfm.causal_mask`;
    - `matmul(x, W) + b` with a rank-2 `W` and a rank-1 `b` -> `tfm.linear`.

    Only single-use intermediates are absorbed, so a value used elsewhere is
    never recomputed.
  }];
  let dependentDialects = ["::umbra::tfm::TfmDialect"];
  let statistics = [
    Statistic<"numGelu", "gelu", "GeLU patterns raised">,
    Statistic<"numLayerNorm", "layer-norm", "LayerNorm patterns raised">,
    Statistic<"numRmsNorm", "rms-norm", "RMSNorm patterns raised">,
    Statistic<"numSilu", "silu", "SiLU patterns raised">,
    Statistic<"numSoftmax", "softmax", "softmax patterns raised">,
    Statistic<"numCausalMask", "causal-mask", "causal masks raised">,
    Statistic<"numLinear", "linear", "matmul + bias pairs raised">,
    Statistic<"numRegrouped", "products-regrouped",
              "product trees regrouped so a per-row factor applies first">,
    Statistic<"numVacuousMax", "vacuous-max",
              "max(x, c) with c below the fixed-point range dropped">
  ];
}

#endif // UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_TD
