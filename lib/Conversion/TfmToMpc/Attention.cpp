//===- Attention.cpp - softmax and causal masks ---------------------------===//
//
// softmax(x) = e / sum(e) with e = exp(x - max): a row maximum (comparison
// tree), exp by repeated squaring, one reciprocal per row and one product
// (the rows up to the sums are shared with log_softmax, Losses.cpp).
// A causal mask is public: masked scores are replaced by `masked-score`
// before the maximum and the exponentials multiplied by the 0/1 mask, so
// masked positions get weight exactly 0, all local.
// A kernel softmax (mpc-approximate's 2quad and relu-norm) is k(x) =
// (x + c)^2 (one product) or max(x + c, 0) (one ReLU), masked keys' k
// multiplied by 0, then one reciprocal of the sum plus epsilon per row on
// [epsilon, n k(score_bound) + epsilon] and one product: no maximum, no exp.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

/// Extra fractional bits of softmax's exponentials (see softmax()).
static constexpr int kSoftmaxExpExtraBits = 8;

namespace {
/// Public causal masking of scores of shape [..., q, k]: a 0/1 mask
/// (frac 0) and the scores that masked positions take.
struct CausalMask {
  Value keep, fill;
};
} // namespace

static CausalMask causalMask(Lowering &l, tfm::CausalMaskOp op) {
  ArrayRef<int64_t> shape = Lowering::resultShape(op);
  int64_t q = shape[shape.size() - 2], k = shape.back();
  // Keys kept: up to the diagonal, and within the window if there is one.
  int64_t window = op.getWindow().value_or(k + q);
  SmallVector<float> keep(q * k), fill(q * k);
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < k; ++j) {
      bool kept = j <= i + k - q && j > i + k - q - window;
      keep[i * k + j] = kept ? 1.0f : 0.0f;
      fill[i * k + j] = kept ? 0.0f : static_cast<float>(l.opts.maskedScore);
    }
  auto ty = RankedTensorType::get({q, k}, l.fx.builder().getF32Type());
  return {l.fx.constant(DenseElementsAttr::get(ty, ArrayRef<float>(keep)), 0),
          l.fx.constant(DenseElementsAttr::get(ty, ArrayRef<float>(fill)),
                        l.opts.frac)};
}

/// keep * x + fill: masked scores replaced, all local.
static Value applyMask(Lowering &l, Value x, const CausalMask &m) {
  return l.fx.add(l.fx.mul(m.keep, x), m.fill);
}

/// The causal mask `input` comes from, if a softmax along `axis` can take
/// it itself (it then reads the mask's input).
static std::optional<CausalMask> consumedMask(Lowering &l, Value &input,
                                              int64_t axis) {
  int64_t rank = FixedPointBuilder::shapeOf(input).size();
  auto causal = input.getDefiningOp<tfm::CausalMaskOp>();
  if (!causal || (axis != -1 && axis != rank - 1))
    return std::nullopt;
  input = causal.getInput();
  return causalMask(l, causal);
}

/// The exponentials of softmax along `axis`; with a causal `mask` masked
/// positions get weight exactly 0.
static ExpRows expRows(Lowering &l, Value x, int64_t axis,
                       const CausalMask *mask) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  int64_t rank = fx.shapeOf(x).size();
  if (axis < 0)
    axis += rank;
  int64_t n = fx.shapeOf(x)[axis];
  Value scores = mask ? applyMask(l, x, *mask) : x;
  SmallVector<int64_t> rowShape(fx.shapeOf(scores));
  rowShape[axis] = 1;
  Value max = MaxOp::create(b, fx.loc, fx.typeOf(scores).withShape(rowShape),
                            scores, b.getI64IntegerAttr(axis));
  // exp by 2^t squarings multiplies the relative error of its first step,
  // 1 + x / 2^t, by 2^t: at f bits that is 2^t 2^-(f+1) (2e-3 at t = 8,
  // f = 16), the largest error of a decoder. So x enters at f + extra bits
  // (the same value: a local product by 1 encoded at `extra` bits), the
  // squarings keep them (values in [0, 1]: far from the ring's limits), and
  // the final product with 1 / sum truncates back to f. `extra` stays small
  // enough that the masked score, the most negative input, keeps 2^6 of
  // headroom below 2^62.
  unsigned f = fx.workingFrac();
  int extra = std::clamp(
      56 - int(f) - (std::ilogb(std::max(1.0, std::fabs(l.opts.maskedScore))) + 1),
      0, kSoftmaxExpExtraBits);
  Value diff = fx.sub(scores, max), shifted = diff;
  if (extra > 0)
    shifted = fx.mulTo(shifted, fx.scalar(1.0, extra), f + extra);
  Value e = ExpOp::create(b, fx.loc, shifted,
                          b.getI64IntegerAttr(l.opts.expSquarings));
  if (mask)
    e = fx.mulTo(mask->keep, e, f + extra);
  Value sum = fx.truncTo(fx.reduceSum(e, {axis}), f);
  return {diff, e, sum, n};
}

ExpRows umbra::mpc::expRows(Lowering &l, Value x, int64_t axis) {
  return ::expRows(l, x, axis, nullptr);
}

/// softmax along `axis`; with a causal `mask` masked positions get weight
/// exactly 0.
static Value softmax(Lowering &l, Value x, int64_t axis,
                     const CausalMask *mask) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  ExpRows rows = ::expRows(l, x, axis, mask);
  Value inv = ReciprocalOp::create(
      b, fx.loc, rows.sum, b.getF64FloatAttr(0.5),
      b.getF64FloatAttr(static_cast<double>(rows.n)), b.getI64IntegerAttr(0));
  return fx.mul(rows.e, inv);
}

static LogicalResult lowerSoftmax(Lowering &l, tfm::SoftmaxOp sm) {
  Value input = sm.getInput();
  int64_t axis = static_cast<int64_t>(sm.getAxis());
  std::optional<CausalMask> mask = consumedMask(l, input, axis);
  FailureOr<Value> x = l.get(input);
  if (failed(x))
    return failure();
  l.set(sm.getResult(), softmax(l, *x, axis, mask ? &*mask : nullptr));
  return success();
}

static LogicalResult lowerKernelSoftmax(Lowering &l, tfm::KernelSoftmaxOp sm) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  Value input = sm.getInput();
  int64_t axis = sm.getAxis();
  std::optional<CausalMask> mask = consumedMask(l, input, axis);
  FailureOr<Value> x = l.get(input);
  if (failed(x))
    return failure();
  int64_t rank = fx.shapeOf(*x).size();
  if (axis < 0)
    axis += rank;
  int64_t n = fx.shapeOf(*x)[axis];
  double shift = sm.getShift().convertToDouble(),
         eps = sm.getEpsilon().convertToDouble(),
         bound = sm.getScoreBound().convertToDouble(), kmax;
  Value t = shift == 0 ? *x : fx.add(*x, fx.scalar(shift));
  Value k;
  if (sm.getKernel() == tfm::SoftmaxKernel::square) {
    k = fx.mul(t, t);
    kmax = (bound + std::fabs(shift)) * (bound + std::fabs(shift));
  } else {
    k = ReluOp::create(b, fx.loc, t);
    kmax = std::max(bound + shift, 0.0);
  }
  if (mask)
    k = fx.mul(mask->keep, k);
  Value sum = fx.add(fx.reduceSum(k, {axis}), fx.scalar(eps));
  // Unlike exp's sum (>= 1), a kernel's sum can be large: 1 / sum then
  // needs more than f fractional bits to keep f + 4 significant bits at the
  // top of the range (k * (1 / sum) <= 1 keeps the product far below 2^62).
  double hi = n * kmax + eps;
  unsigned f = fx.workingFrac();
  unsigned rf = std::clamp(int(f) + 4 + std::ilogb(hi) + 1, int(f),
                           std::min(2 * int(f) + 8, 44));
  Value inv = ReciprocalOp::create(
      b, fx.loc, fx.typeOf(sum).withFrac(rf), sum, b.getF64FloatAttr(eps),
      b.getF64FloatAttr(hi), b.getI64IntegerAttr(0));
  l.set(sm.getResult(), fx.mul(k, inv));
  return success();
}

static LogicalResult lowerCausalMask(Lowering &l, tfm::CausalMaskOp cm) {
  // A softmax over the keys consumes the mask itself.
  if (llvm::all_of(cm->getUsers(), [](Operation *u) {
        return isa<tfm::SoftmaxOp, tfm::KernelSoftmaxOp>(u);
      }))
    return success();
  CausalMask mask = causalMask(l, cm);
  return l.unary(cm, [&](Value x) { return applyMask(l, x, mask); });
}

void umbra::mpc::populateAttentionLowerings(LoweringSet &set) {
  set.add<tfm::SoftmaxOp>(lowerSoftmax);
  set.add<tfm::KernelSoftmaxOp>(lowerKernelSoftmax);
  set.add<tfm::CausalMaskOp>(lowerCausalMask);
}
