//===- Normalization.cpp - layer and RMS norms, 1/sqrt of a variance ------===//
//
// Local sums, squares kept at double precision until the sum, one rsqrt of
// the sum of squares on n * [epsilon, variance-max + epsilon] (the range the
// norms use) with an output precision of its own, products with the scale
// (lowerNorm states the precision of each step).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

/// rsqrt(x) on [eps, variance-max + eps].
static Value rsqrtOfVariance(Lowering &l, Value x, double eps) {
  OpBuilder &b = l.fx.builder();
  return RsqrtOp::create(b, l.fx.loc, x, b.getF64FloatAttr(std::max(eps, 1e-6)),
                         b.getF64FloatAttr(l.opts.varianceMax + eps),
                         b.getI64IntegerAttr(0));
}

/// Fractional bits of a norm's sum of squares S = n * (variance) when it
/// enters the rsqrt on [lo, hi]: the most (up to the 2f it is computed
/// with) that leave the gate kNormRsqrtInternalBits internal bits. The
/// gate's internal precision is F = min(28, 55 - jhi) with 2^jhi <= hi * 2^g
/// (docs/protocols.md): every bit of input precision is a bit less of F.
static constexpr int kNormRsqrtInternalBits = 18;
static unsigned sumOfSquaresFrac(unsigned f, double hi) {
  int g = 55 - kNormRsqrtInternalBits - (std::ilogb(hi) + 1);
  return static_cast<unsigned>(std::clamp(g, 0, 2 * int(f)));
}

/// Fractional bits of rsqrt(S): its smallest value 1/sqrt(hi) keeps f + 4
/// significant bits (no more than 2f + 8, so that d * r, with |d * r| <= 1,
/// stays far below 2^62).
static unsigned rsqrtFrac(unsigned f, double hi) {
  int bits = int(f) + 4 + (std::ilogb(std::sqrt(hi)) + 1);
  return static_cast<unsigned>(std::clamp(bits, int(f), 2 * int(f) + 8));
}

/// LayerNorm (subtractMean) and RMSNorm over the trailing axes from `axis`:
///   mean = sum(x) * (1/n)          1/n as a factor (FixedPointBuilder)
///   d    = x - mean                mean truncated to f: d is exact
///   S    = sum(d * d)              squares kept at 2f (no truncation): exact
///   r    = rsqrt(S + n eps)        on [n eps, n (variance-max + eps)]
///   y    = d * (sqrt(n) * r) * scale + bias
/// so 1/n never rounds the variance (rsqrt(S/n + eps) = sqrt(n) rsqrt(S +
/// n eps)) and the small statistics of small activations keep their
/// precision: S's only error is n (mean - rounded mean)^2 <= n 2^-2f.
/// With `varianceMax` (mpc-approximate's rsqrt strategy) the rsqrt holds
/// for variances up to it only, with `iterations` product levels.
static LogicalResult lowerNorm(Lowering &l, Operation *op, Value input,
                               int64_t axis, double eps, Value scaleIn,
                               Value biasIn, bool subtractMean,
                               std::optional<llvm::APFloat> varianceMax,
                               int64_t iterations) {
  FixedPointBuilder &fx = l.fx;
  unsigned f = fx.workingFrac();
  FailureOr<Value> x = l.get(input);
  if (failed(x))
    return failure();
  Value s, bias;
  if (scaleIn) {
    // A weight that multiplies elementwise: encoded as a factor.
    FailureOr<Value> v = l.getFactor(scaleIn);
    if (failed(v))
      return failure();
    s = *v;
  }
  if (biasIn) {
    FailureOr<Value> v = l.get(biasIn);
    if (failed(v))
      return failure();
    bias = *v;
  }
  int64_t rank = fx.shapeOf(*x).size();
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> axes;
  int64_t n = 1;
  for (int64_t a = axis; a < rank; ++a) {
    axes.push_back(a);
    n *= fx.shapeOf(*x)[a];
  }
  Value d = *x;
  if (subtractMean)
    d = fx.sub(*x, fx.scale(fx.reduceSum(*x, axes), 1.0 / n));
  Value sumSq = fx.reduceSum(fx.mulTo(d, d, 2 * f), axes);
  double lo = n * std::max(eps, 1e-6),
         hi = n * ((varianceMax ? varianceMax->convertToDouble()
                                : l.opts.varianceMax) +
                   eps);
  // rsqrt(S) * sqrt(n) <= 1 / sqrt(1e-6) < 2^10 must stay below 2^60 with
  // both factors' bits.
  unsigned g = sumOfSquaresFrac(f, hi),
           rf = std::min(rsqrtFrac(f, hi),
                         50 - fx.factorFrac(std::sqrt(double(n))));
  Value sg = fx.truncTo(sumSq, g);
  OpBuilder &b = fx.builder();
  Value r = RsqrtOp::create(
      b, fx.loc, fx.typeOf(sg).withFrac(rf), fx.add(sg, fx.scalar(n * eps, g)),
      b.getF64FloatAttr(lo), b.getF64FloatAttr(hi),
      b.getI64IntegerAttr(iterations));
  Value rn = fx.scale(r, std::sqrt(static_cast<double>(n)), rf);
  Value y = fx.mul(d, rn);
  if (s)
    y = fx.mul(y, s);
  if (bias)
    y = fx.add(y, bias);
  l.set(op->getResult(0), y);
  return success();
}

/// eps when `x` is reduce_mean(d * d) + eps, a variance plus a positive
/// public constant (what the importer computes for LayerNormalization's
/// InvStdDev output): then 1 / sqrt(x) is an rsqrt on the norms' range.
static std::optional<double> varianceEpsilon(Lowering &l, Value x) {
  auto add = x.getDefiningOp<tfm::AddOp>();
  if (!add)
    return std::nullopt;
  for (auto [v, c] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto mean = v.getDefiningOp<tfm::ReduceMeanOp>();
    auto sq = mean ? mean.getInput().getDefiningOp<tfm::MulOp>() : nullptr;
    std::optional<SmallVector<double>> eps = getConstantValues(c);
    if (!sq || sq.getLhs() != sq.getRhs() || !eps || eps->empty() ||
        cast<ShapedType>(c.getType()).getNumElements() != 1 ||
        (*eps)[0] <= 0 || l.visibilityOf(c) != Visibility::public_)
      continue;
    return (*eps)[0];
  }
  return std::nullopt;
}

static LogicalResult lowerSqrt(Lowering &l, tfm::SqrtOp sq) {
  // Only under a reciprocal, which lowers the pair (see below).
  if (!sq->use_empty() && varianceEpsilon(l, sq.getInput()) &&
      llvm::all_of(sq->getUsers(),
                   [](Operation *u) { return isa<tfm::ReciprocalOp>(u); }))
    return success();
  return l.unary(sq, [&](Value x) { return sqrtOf(l, x); });
}

static LogicalResult lowerReciprocal(Lowering &l, tfm::ReciprocalOp r) {
  // 1 / sqrt(variance + eps).
  auto sq = r.getInput().getDefiningOp<tfm::SqrtOp>();
  std::optional<double> eps =
      sq ? varianceEpsilon(l, sq.getInput()) : std::nullopt;
  if (!eps)
    return l.unary(r, [&](Value y) { return reciprocalOf(l, y); });
  FailureOr<Value> x = l.get(sq.getInput());
  if (failed(x))
    return failure();
  l.set(r.getResult(), rsqrtOfVariance(l, *x, *eps));
  return success();
}

void umbra::mpc::populateNormalizationLowerings(LoweringSet &set) {
  set.add<tfm::LayerNormOp>([](Lowering &l, tfm::LayerNormOp ln) {
    return lowerNorm(l, ln, ln.getInput(), static_cast<int64_t>(ln.getAxis()),
                     ln.getEpsilon().convertToDouble(), ln.getScale(),
                     ln.getBias(), /*subtractMean=*/true,
                     ln.getVarianceMax(), ln.getRsqrtIterations());
  });
  set.add<tfm::RmsNormOp>([](Lowering &l, tfm::RmsNormOp rn) {
    return lowerNorm(l, rn, rn.getInput(), -1,
                     rn.getEpsilon().convertToDouble(), rn.getScale(), Value(),
                     /*subtractMean=*/false, rn.getVarianceMax(),
                     rn.getRsqrtIterations());
  });
  set.add<tfm::SqrtOp>(lowerSqrt);
  set.add<tfm::ReciprocalOp>(lowerReciprocal);
}
