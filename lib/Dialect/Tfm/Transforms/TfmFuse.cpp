//===- TfmFuse.cpp - raise exporter patterns to semantic tfm ops ----------===//
//
// Exporters decompose GeLU, LayerNorm, RMSNorm, SiLU, softmax and causal
// masking into elementwise ops. Each pattern here recognises one decomposed
// form and replaces its root with the semantic op; the absorbed intermediate
// ops die once nothing uses them. An intermediate is only absorbed when all
// its uses are inside the pattern, so nothing is ever computed twice.
//
//===----------------------------------------------------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Dialect/Tfm/Transforms/Passes.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace umbra::tfm {
#define GEN_PASS_DEF_TFMFUSE
#include "umbra/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace umbra::tfm

using namespace mlir;
using namespace umbra;
using namespace umbra::tfm;

namespace {

//===----------------------------------------------------------------------===//
// Matching helpers
//===----------------------------------------------------------------------===//

bool isConstant(Value v, double expected, double relTol = 1e-3) {
  std::optional<double> c = getScalarConstant(v);
  return c && std::abs(*c - expected) <= relTol * std::max(1.0, std::abs(expected));
}

/// True if every use of `v` is by one of `users`: the value can be absorbed
/// by a pattern that replaces all of them.
bool onlyUsedBy(Value v, ArrayRef<Operation *> users) {
  return llvm::all_of(v.getUsers(), [&](Operation *u) {
    return llvm::is_contained(users, u);
  });
}

/// Splits a product tree `a * b * (c * d)` (with `x / c` for a constant c
/// read as `x * 1/c`) into its non-constant factors and the product of its
/// constant factors. Inner products are only entered when used once.
struct Product {
  SmallVector<Value> factors;
  double constant = 1.0;
};

void flattenProduct(Value v, Product &p, bool isRoot = true) {
  Operation *def = v.getDefiningOp();
  if (!isRoot && (!def || !v.hasOneUse())) {
    def = nullptr;
  }
  if (auto mul = dyn_cast_or_null<MulOp>(def)) {
    flattenProduct(mul.getLhs(), p, false);
    flattenProduct(mul.getRhs(), p, false);
    return;
  }
  if (auto div = dyn_cast_or_null<DivOp>(def)) {
    if (std::optional<double> c = getScalarConstant(div.getRhs());
        c && *c != 0.0) {
      flattenProduct(div.getLhs(), p, false);
      p.constant /= *c;
      return;
    }
  }
  if (std::optional<double> c = getScalarConstant(v)) {
    p.constant *= *c;
    return;
  }
  p.factors.push_back(v);
}

bool near(double a, double b, double relTol = 1e-3) {
  return std::abs(a - b) <= relTol * std::max(1.0, std::abs(b));
}

/// Matches `1 + f(u)` (either order) where f is the unary op `OpTy`; returns u.
template <typename OpTy>
Value matchOnePlus(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add || !v.hasOneUse())
    return {};
  for (auto [fv, one] : {std::pair(add.getLhs(), add.getRhs()),
                         std::pair(add.getRhs(), add.getLhs())}) {
    auto f = fv.template getDefiningOp<OpTy>();
    if (f && fv.hasOneUse() && isConstant(one, 1.0))
      return f.getInput();
  }
  return {};
}

/// Matches `c * x` (as a product with constant c) and returns x if c is near
/// `expected`.
Value matchScaled(Value v, double expected) {
  Product p;
  flattenProduct(v, p, /*isRoot=*/true);
  if (p.factors.size() == 1 && near(p.constant, expected))
    return p.factors.front();
  return {};
}

bool sameShapeAsResult(Value x, Operation *root) {
  return x.getType() == root->getResult(0).getType();
}

/// Returns the normalisation axis if `axes` are exactly the trailing dims of
/// a tensor of rank `rank`.
std::optional<int64_t> trailingAxis(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> norm;
  for (int64_t a : axes)
    norm.push_back(a < 0 ? a + rank : a);
  llvm::sort(norm);
  if (norm.empty() || norm.back() != rank - 1)
    return std::nullopt;
  for (size_t i = 1; i < norm.size(); ++i)
    if (norm[i] != norm[i - 1] + 1)
      return std::nullopt;
  return norm.front();
}

/// Matches `reduce_mean(sq(x))` over the last axis with sq = x^2 or x*x;
/// returns x.
Value matchMeanOfSquare(Value v, std::optional<int64_t> &axis) {
  auto mean = v.getDefiningOp<ReduceMeanOp>();
  if (!mean || !v.hasOneUse() || !mean.getKeepdims())
    return {};
  auto inTy = cast<RankedTensorType>(mean.getInput().getType());
  axis = trailingAxis(mean.getAxes(), inTy.getRank());
  if (!axis)
    return {};
  Value sq = mean.getInput();
  if (!sq.hasOneUse())
    return {};
  if (auto pow = sq.getDefiningOp<PowOp>())
    if (isConstant(pow.getRhs(), 2.0))
      return pow.getLhs();
  if (auto mul = sq.getDefiningOp<MulOp>())
    if (mul.getLhs() == mul.getRhs())
      return mul.getLhs();
  return {};
}

/// Matches `sqrt(m + eps)` (eps constant, either order); returns m and eps.
Value matchSqrtPlusEps(Value v, double &eps) {
  auto sqrt = v.getDefiningOp<SqrtOp>();
  if (!sqrt || !v.hasOneUse())
    return {};
  auto add = sqrt.getInput().getDefiningOp<AddOp>();
  if (!add || !sqrt.getInput().hasOneUse())
    return {};
  for (auto [m, e] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())})
    if (std::optional<double> c = getScalarConstant(e)) {
      eps = *c;
      return m;
    }
  return {};
}

/// Matches `1 / s` written as reciprocal(s) or div(1, s); returns s.
Value matchReciprocal(Value v) {
  if (!v.hasOneUse())
    return {};
  if (auto r = v.getDefiningOp<ReciprocalOp>())
    return r.getInput();
  if (auto d = v.getDefiningOp<DivOp>())
    if (isConstant(d.getLhs(), 1.0))
      return d.getRhs();
  return {};
}

//===----------------------------------------------------------------------===//
// GeLU
//===----------------------------------------------------------------------===//

/// x * 0.5 * (1 + erf(x / sqrt(2))) and
/// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), any association.
struct FuseGelu : OpRewritePattern<MulOp> {
  FuseGelu(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    Product p;
    flattenProduct(root.getResult(), p);
    if (p.factors.size() != 2 || !near(p.constant, 0.5))
      return failure();
    for (int i = 0; i < 2; ++i) {
      Value x = p.factors[i], other = p.factors[1 - i];
      if (!sameShapeAsResult(x, root))
        continue;
      if (Value u = matchOnePlus<ErfOp>(other);
          u && matchScaled(u, 1.0 / std::sqrt(2.0)) == x) {
        return replace(root, x, GeluApproximation::none, rewriter);
      }
      if (Value u = matchOnePlus<TanhOp>(other); u && isTanhInner(u, x))
        return replace(root, x, GeluApproximation::tanh, rewriter);
    }
    return failure();
  }

  /// sqrt(2/pi) * (x + 0.044715 * x^3), the cube as pow(x, 3) or x*x*x.
  static bool isTanhInner(Value u, Value x) {
    Value sum = matchScaled(u, std::sqrt(2.0 / M_PI));
    auto add = sum ? sum.getDefiningOp<AddOp>() : AddOp();
    if (!add || !sum.hasOneUse())
      return false;
    for (auto [lin, cubic] : {std::pair(add.getLhs(), add.getRhs()),
                              std::pair(add.getRhs(), add.getLhs())}) {
      if (lin != x)
        continue;
      Product c;
      flattenProduct(cubic, c);
      if (!near(c.constant, 0.044715))
        continue;
      if (c.factors.size() == 3 && llvm::all_equal(c.factors) &&
          c.factors[0] == x)
        return true;
      if (c.factors.size() == 1 && c.factors[0].hasOneUse())
        if (auto pow = c.factors[0].getDefiningOp<PowOp>())
          if (pow.getLhs() == x && isConstant(pow.getRhs(), 3.0))
            return true;
    }
    return false;
  }

  LogicalResult replace(MulOp root, Value x, GeluApproximation approx,
                        PatternRewriter &rewriter) const {
    ++count;
    rewriter.replaceOpWithNewOp<GeluOp>(
        root, x, GeluApproximationAttr::get(getContext(), approx));
    return success();
  }

  llvm::Statistic &count;
};

//===----------------------------------------------------------------------===//
// SiLU
//===----------------------------------------------------------------------===//

/// x * sigmoid(x).
struct FuseSilu : OpRewritePattern<MulOp> {
  FuseSilu(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      auto sig = s.getDefiningOp<SigmoidOp>();
      if (sig && sig.getInput() == x && s.hasOneUse() &&
          sameShapeAsResult(x, root)) {
        ++count;
        rewriter.replaceOpWithNewOp<SiluOp>(root, x);
        return success();
      }
    }
    return failure();
  }

  llvm::Statistic &count;
};

//===----------------------------------------------------------------------===//
// LayerNorm and RMSNorm
//===----------------------------------------------------------------------===//

/// d / sqrt(mean(d^2) + eps) or d * (1 / sqrt(...)) with d = x - mean(x):
/// LayerNorm without affine parameters (these are absorbed separately).
struct FuseLayerNorm : RewritePattern {
  FuseLayerNorm(MLIRContext *ctx, llvm::Statistic &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, ctx),
        count(count) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    Value d, s;
    if (auto div = dyn_cast<DivOp>(root)) {
      d = div.getLhs();
      s = div.getRhs();
    } else if (auto mul = dyn_cast<MulOp>(root)) {
      for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())})
        if (Value inv = matchReciprocal(b)) {
          d = a;
          s = inv;
          break;
        }
    }
    if (!d || !s)
      return failure();
    double eps;
    Value var = matchSqrtPlusEps(s, eps);
    std::optional<int64_t> varAxis;
    if (!var || matchMeanOfSquare(var, varAxis) != d)
      return failure();
    auto sub = d.getDefiningOp<SubOp>();
    if (!sub)
      return failure();
    auto mean = sub.getRhs().getDefiningOp<ReduceMeanOp>();
    Value x = sub.getLhs();
    if (!mean || mean.getInput() != x || !mean.getKeepdims() ||
        !sub.getRhs().hasOneUse() || !sameShapeAsResult(x, root))
      return failure();
    auto xTy = cast<RankedTensorType>(x.getType());
    std::optional<int64_t> axis = trailingAxis(mean.getAxes(), xTy.getRank());
    if (!axis || axis != varAxis)
      return failure();
    // d feeds the square and the root, nothing else.
    Operation *sq = var.getDefiningOp<ReduceMeanOp>().getInput().getDefiningOp();
    if (!onlyUsedBy(d, {root, sq}))
      return failure();
    ++count;
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        root, root->getResult(0).getType(), x, Value(), Value(),
        rewriter.getI64IntegerAttr(*axis - xTy.getRank()),
        rewriter.getF32FloatAttr(eps));
    return success();
  }

  llvm::Statistic &count;
};

/// x / sqrt(mean(x^2) + eps) or x * (1 / sqrt(...)): RMSNorm without scale.
struct FuseRmsNorm : RewritePattern {
  FuseRmsNorm(MLIRContext *ctx, llvm::Statistic &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx),
        count(count) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    SmallVector<std::pair<Value, Value>> candidates; // (x, sqrt(...))
    if (auto div = dyn_cast<DivOp>(root)) {
      candidates.push_back({div.getLhs(), div.getRhs()});
    } else if (auto mul = dyn_cast<MulOp>(root)) {
      for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())})
        if (Value inv = matchReciprocal(b))
          candidates.push_back({a, inv});
    }
    for (auto [x, s] : candidates) {
      double eps;
      Value ms = matchSqrtPlusEps(s, eps);
      std::optional<int64_t> axis;
      if (!ms || matchMeanOfSquare(ms, axis) != x ||
          !sameShapeAsResult(x, root))
        continue;
      auto xTy = cast<RankedTensorType>(x.getType());
      if (*axis != xTy.getRank() - 1)
        continue;
      ++count;
      rewriter.replaceOpWithNewOp<RmsNormOp>(root, root->getResult(0).getType(),
                                             x, Value(),
                                             rewriter.getF32FloatAttr(eps));
      return success();
    }
    return failure();
  }

  llvm::Statistic &count;
};

/// Shape of the dimensions a normalisation op normalises over.
template <typename NormOp>
ArrayRef<int64_t> normalisedShape(NormOp op) {
  auto ty = cast<RankedTensorType>(op.getInput().getType());
  int64_t axis = 0;
  if constexpr (std::is_same_v<NormOp, LayerNormOp>) {
    axis = static_cast<int64_t>(op.getAxis()); // I64Attr getters are unsigned.
    if (axis < 0)
      axis += ty.getRank();
  } else
    axis = ty.getRank() - 1;
  return ty.getShape().drop_front(axis);
}

/// A value of the normalised shape, possibly with leading unit dimensions
/// (which are reshaped away).
Value asNormParam(Value p, ArrayRef<int64_t> shape, Location loc,
                  PatternRewriter &rewriter) {
  auto ty = cast<RankedTensorType>(p.getType());
  ArrayRef<int64_t> s = ty.getShape();
  if (s.size() < shape.size() || s.take_back(shape.size()) != shape ||
      llvm::any_of(s.drop_back(shape.size()), [](int64_t d) { return d != 1; }))
    return {};
  if (s.size() == shape.size())
    return p;
  return ReshapeOp::create(rewriter, loc,
                           RankedTensorType::get(shape, ty.getElementType()),
                           p);
}

/// norm(x) * scale -> norm(x) scale %scale, for LayerNorm and RMSNorm.
template <typename NormOp>
struct AbsorbScale : OpRewritePattern<MulOp> {
  using OpRewritePattern<MulOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [n, g] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      auto norm = n.template getDefiningOp<NormOp>();
      if (!norm || norm.getScale() || !n.hasOneUse() ||
          n.getType() != root.getType())
        continue;
      if constexpr (std::is_same_v<NormOp, LayerNormOp>)
        if (norm.getBias())
          continue;
      Value scale = asNormParam(g, normalisedShape(norm), root.getLoc(),
                                rewriter);
      if (!scale)
        continue;
      // The scale may be computed after the norm: the norm, whose one use
      // is root, moves down to root, where every operand is available.
      rewriter.moveOpBefore(norm, root);
      rewriter.modifyOpInPlace(norm,
                               [&] { norm.getScaleMutable().assign(scale); });
      rewriter.replaceOp(root, norm.getResult());
      return success();
    }
    return failure();
  }
};

/// layer_norm(x) + bias -> layer_norm(x) bias %bias.
struct AbsorbLayerNormBias : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [n, b] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      auto norm = n.getDefiningOp<LayerNormOp>();
      if (!norm || norm.getBias() || !n.hasOneUse() ||
          n.getType() != root.getType())
        continue;
      Value bias = asNormParam(b, normalisedShape(norm), root.getLoc(),
                               rewriter);
      if (!bias)
        continue;
      rewriter.moveOpBefore(norm, root); // the bias may come later
      rewriter.modifyOpInPlace(norm,
                               [&] { norm.getBiasMutable().assign(bias); });
      rewriter.replaceOp(root, norm.getResult());
      return success();
    }
    return failure();
  }
};

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// e / reduce_sum(e) with e = exp(x - reduce_max(x)) (max subtraction
/// optional) over one axis.
struct FuseSoftmax : OpRewritePattern<DivOp> {
  FuseSoftmax(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(DivOp root,
                                PatternRewriter &rewriter) const override {
    Value e = root.getLhs();
    auto exp = e.getDefiningOp<ExpOp>();
    auto sum = root.getRhs().getDefiningOp<ReduceSumOp>();
    if (!exp || !sum || sum.getInput() != e || !sum.getKeepdims() ||
        sum.getAxes().size() != 1 || !root.getRhs().hasOneUse() ||
        !onlyUsedBy(e, {root, sum}) || !sameShapeAsResult(e, root))
      return failure();
    int64_t axis = sum.getAxes()[0];
    int64_t rank = cast<RankedTensorType>(e.getType()).getRank();
    if (axis < 0)
      axis += rank;
    Value x = exp.getInput();
    // Softmax is shift-invariant: drop a subtracted row maximum.
    if (auto sub = x.getDefiningOp<SubOp>(); sub && x.hasOneUse()) {
      auto max = sub.getRhs().getDefiningOp<ReduceMaxOp>();
      if (max && max.getInput() == sub.getLhs() && max.getKeepdims() &&
          max.getAxes().size() == 1 &&
          (max.getAxes()[0] < 0 ? max.getAxes()[0] + rank
                                : max.getAxes()[0]) == axis &&
          sub.getRhs().hasOneUse())
        x = sub.getLhs();
    }
    ++count;
    rewriter.replaceOpWithNewOp<SoftmaxOp>(root, x,
                                           rewriter.getI64IntegerAttr(axis -
                                                                      rank));
    return success();
  }

  llvm::Statistic &count;
};

//===----------------------------------------------------------------------===//
// Causal mask
//===----------------------------------------------------------------------===//

/// Whether a constant of shape [1.., Q, K] is `keep(i, j) == (j <= i + K - Q)`
/// (lower triangular, `keepValue` on kept positions) everywhere.
bool isCausalPattern(Value c, ArrayRef<int64_t> xShape,
                     llvm::function_ref<bool(double, bool)> matches) {
  auto ty = dyn_cast<RankedTensorType>(c.getType());
  if (!ty || ty.getRank() < 2 || xShape.size() < 2)
    return false;
  ArrayRef<int64_t> s = ty.getShape();
  int64_t q = s[s.size() - 2], k = s.back();
  if (q != xShape[xShape.size() - 2] || k != xShape.back() || q < 2)
    return false;
  if (llvm::any_of(s.drop_back(2), [](int64_t d) { return d != 1; }))
    return false;
  std::optional<SmallVector<double>> values = getConstantValues(c);
  if (!values || static_cast<int64_t>(values->size()) != q * k)
    return false;
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < k; ++j)
      if (!matches((*values)[i * k + j], j <= i + k - q))
        return false;
  return true;
}

/// A fill value that makes softmax weights vanish: -inf or a huge negative.
bool isMaskFill(double v) { return v <= -1e4; }

/// where(causal, x, -inf) / where(anti-causal, -inf, x) / x + additive
/// causal mask -> tfm.causal_mask x.
struct FuseCausalMask : RewritePattern {
  FuseCausalMask(MLIRContext *ctx, llvm::Statistic &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx),
        count(count) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    Value x = match(root);
    if (!x)
      return failure();
    ++count;
    rewriter.replaceOpWithNewOp<CausalMaskOp>(root, x);
    return success();
  }

  static Value match(Operation *root) {
    if (auto where = dyn_cast<WhereOp>(root)) {
      Value c = where.getCondition();
      for (bool keepOnTrue : {true, false}) {
        Value x = keepOnTrue ? where.getOnTrue() : where.getOnFalse();
        Value fill = keepOnTrue ? where.getOnFalse() : where.getOnTrue();
        std::optional<double> f = getScalarConstant(fill);
        if (!f || !isMaskFill(*f) || !sameShapeAsResult(x, root))
          continue;
        auto shape = cast<RankedTensorType>(x.getType()).getShape();
        if (isCausalPattern(c, shape, [&](double v, bool keep) {
              return (v != 0) == (keep == keepOnTrue);
            }))
          return x;
      }
      return {};
    }
    if (auto add = dyn_cast<AddOp>(root)) {
      for (auto [x, m] : {std::pair(add.getLhs(), add.getRhs()),
                          std::pair(add.getRhs(), add.getLhs())}) {
        if (!sameShapeAsResult(x, root))
          continue;
        auto shape = cast<RankedTensorType>(x.getType()).getShape();
        if (isCausalPattern(m, shape, [](double v, bool keep) {
              return keep ? v == 0.0 : isMaskFill(v);
            }))
          return x;
      }
    }
    return {};
  }

  llvm::Statistic &count;
};

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// matmul(x, W) with a rank-2 W -> linear(x, W).
struct FuseLinear : OpRewritePattern<MatMulOp> {
  FuseLinear(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(MatMulOp root,
                                PatternRewriter &rewriter) const override {
    auto wTy = cast<RankedTensorType>(root.getRhs().getType());
    if (wTy.getRank() != 2)
      return failure();
    ++count;
    rewriter.replaceOpWithNewOp<LinearOp>(root, root.getType(), root.getLhs(),
                                          root.getRhs(), Value());
    return success();
  }

  llvm::Statistic &count;
};

/// linear(x, W) + b with b of shape [N] (or [1.., N]) -> linear(x, W, b).
struct AbsorbLinearBias : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [l, b] : {std::pair(root.getLhs(), root.getRhs()),
                        std::pair(root.getRhs(), root.getLhs())}) {
      auto linear = l.getDefiningOp<LinearOp>();
      if (!linear || linear.getBias() || !l.hasOneUse() ||
          l.getType() != root.getType())
        continue;
      int64_t n = cast<RankedTensorType>(linear.getWeight().getType())
                      .getShape()[1];
      Value bias = asNormParam(b, {n}, root.getLoc(), rewriter);
      if (!bias)
        continue;
      // The bias may be computed after the linear (Gemm's beta * C): the
      // linear, whose one use is root, moves down to root.
      rewriter.moveOpBefore(linear, root);
      rewriter.modifyOpInPlace(linear,
                               [&] { linear.getBiasMutable().assign(bias); });
      rewriter.replaceOp(root, linear.getResult());
      return success();
    }
    return failure();
  }
};

struct TfmFuse : umbra::tfm::impl::TfmFuseBase<TfmFuse> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<FuseGelu>(ctx, numGelu);
    patterns.add<FuseSilu>(ctx, numSilu);
    patterns.add<FuseLayerNorm>(ctx, numLayerNorm);
    patterns.add<FuseRmsNorm>(ctx, numRmsNorm);
    patterns.add<FuseSoftmax>(ctx, numSoftmax);
    patterns.add<FuseCausalMask>(ctx, numCausalMask);
    patterns.add<FuseLinear>(ctx, numLinear);
    patterns.add<AbsorbScale<LayerNormOp>, AbsorbScale<RmsNormOp>,
                 AbsorbLayerNormBias, AbsorbLinearBias>(ctx);
    // Equal constants are not merged: their roles (mpc.visibility) may
    // differ, and merging an owner's weight into an equal public literal
    // would make it public.
    GreedyRewriteConfig config;
    config.enableConstantCSE(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};

} // namespace
