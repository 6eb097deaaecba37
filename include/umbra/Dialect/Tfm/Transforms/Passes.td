#ifndef UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_TD
#define UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfmFuse : Pass<"tfm-fuse"> {
  let summary = "Raise decomposed exporter patterns to semantic tfm ops";
  let description = [{
    Exporters write GeLU, LayerNorm, RMSNorm, SiLU and softmax as chains of
    elementwise ops and reductions. MPC cost depends on knowing the semantic
    op (a GeLU gets one piecewise polynomial, not an erf approximation
    multiplied by x), so this pass recognises the forms models write and
    replaces them.

    First, product trees are regrouped so that a per-row factor (a value
    whose last dimension is 1, broadcast along the row) applies to the
    value before weights and constants: `w * x * r` -> `(x * r) * w`,
    `(w * d) / s` -> `(d / s) * w`. Only operands move; no constant is
    created, merged or folded. The fusions then see one form whatever the
    order the model wrote:

    - `x * 0.5 * (1 + erf(x / sqrt(2)))` (any association, `x * 1/sqrt(2)`
      too) -> `tfm.gelu`;
    - `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))`, the cube as
      `pow(x, 3)`, `x * x * x` or `x * pow(x, 2)`, or factored as
      `sqrt(2/pi) * x * (1 + 0.044715 * x^2)` ->
      `tfm.gelu {approximation = tanh}`;
    - `(x - mean(x)) / sqrt(var + eps)` with `var` as `mean((x - mean(x))^2)`
      (the same or a second deviation) or `mean(x^2) - mean(x)^2`
      (ONNX's LayerNormalization function), then an optional `* scale` and
      `+ bias` (before or after the normalisation) -> `tfm.layer_norm`;
    - `x / sqrt(mean(x^2) + eps)` then an optional `* scale` (before or
      after) -> `tfm.rms_norm`;
    - in both norms, `1/sqrt(a)` as `1 / sqrt(a)`, `reciprocal(sqrt(a))`,
      `pow(a, -0.5)`, and `sqrt(a)` as `pow(a, 0.5)`; the square as
      `pow(x, 2)` or `x * x`;
    - `x * sigmoid(x)` -> `tfm.silu`;
    - `exp(x - max(x)) / sum(exp(x - max(x)))`, the division also as
      `e * reciprocal(sum)` or `e * (1 / sum)`, the max subtraction
      optional -> `tfm.softmax`;
    - `where(causal, x, fill)`, `where(anti-causal, fill, x)` or
      `x + additive mask` with a causal or band (sliding-window) 0/1
      pattern and a fill `<= -1e4` (-inf, finfo.min, -1e9) ->
      `tfm.causal_mask` (with its `window` for a band);
    - `max(x, c)` with every element of the constant `c` at most -2^62
      (below every fixed-point value: torch's "safe softmax" clamp with
      `finfo.min`) -> `x`;
    - `matmul(x, W) + b` with a rank-2 `W` and a rank-1 `b` -> `tfm.linear`.

    A full-shape intermediate is only absorbed when all its uses are inside
    the pattern, so nothing large is computed twice; a norm's per-row
    statistics (mean, variance, standard deviation) used elsewhere (the
    Mean and InvStdDev outputs of ONNX's LayerNormalization function) keep
    their own computation for those uses. A scalar a fusion bakes into an
    attribute (an epsilon) must be a public constant: an owner's scalar
    stays an operand and blocks the fusion.
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
