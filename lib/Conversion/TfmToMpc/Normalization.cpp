//===- Normalization.cpp - layer and RMS norms, 1/sqrt of a variance ------===//
//
// Local sums, one product for the variance, rsqrt by Newton iterations on
// [epsilon, variance-max + epsilon] (the range the norms use), products with
// the scale.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

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

static LogicalResult lowerNorm(Lowering &l, Operation *op, Value input,
                               int64_t axis, double eps, Value scaleIn,
                               Value biasIn, bool subtractMean) {
  FixedPointBuilder &fx = l.fx;
  FailureOr<Value> x = l.get(input);
  if (failed(x))
    return failure();
  Value s, bias;
  if (scaleIn) {
    FailureOr<Value> v = l.get(scaleIn);
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
  Value var = fx.scale(fx.reduceSum(fx.mul(d, d), axes), 1.0 / n);
  Value y = fx.mul(d, rsqrtOfVariance(l, fx.add(var, fx.scalar(eps)), eps));
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
                     ln.getBias(), /*subtractMean=*/true);
  });
  set.add<tfm::RmsNormOp>([](Lowering &l, tfm::RmsNormOp rn) {
    return lowerNorm(l, rn, rn.getInput(), -1,
                     rn.getEpsilon().convertToDouble(), rn.getScale(), Value(),
                     /*subtractMean=*/false);
  });
  set.add<tfm::SqrtOp>(lowerSqrt);
  set.add<tfm::ReciprocalOp>(lowerReciprocal);
}
