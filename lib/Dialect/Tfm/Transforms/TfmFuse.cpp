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
#include "umbra/Dialect/Tfm/IR/TfmRoles.h"
#include "umbra/Dialect/Tfm/Transforms/Passes.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <array>
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

/// A scalar constant a fusion may bake into the IR (an attribute, a folded
/// factor): only a public one. An owner's scalar (a learned scale, an eps
/// initializer) stays an operand, so its value never becomes public.
std::optional<double> publicScalar(Value v) {
  if (!isPublicConstant(v))
    return std::nullopt;
  return getScalarConstant(v);
}

bool isConstant(Value v, double expected, double relTol = 1e-3) {
  std::optional<double> c = publicScalar(v);
  return c && std::abs(*c - expected) <= relTol * std::max(1.0, std::abs(expected));
}

/// True if every use of `v` is by one of `users`: the value can be absorbed
/// by a pattern that replaces all of them.
bool onlyUsedBy(Value v, ArrayRef<Operation *> users) {
  return llvm::all_of(v.getUsers(), [&](Operation *u) {
    return llvm::is_contained(users, u);
  });
}

/// Both readings, (lhs, rhs) and (rhs, lhs), of a commutative op's operands.
template <typename CommutativeOp>
std::array<std::pair<Value, Value>, 2> commuted(CommutativeOp op) {
  return {{{op.getLhs(), op.getRhs()}, {op.getRhs(), op.getLhs()}}};
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
    if (std::optional<double> c = publicScalar(div.getRhs());
        c && *c != 0.0) {
      flattenProduct(div.getLhs(), p, false);
      p.constant /= *c;
      return;
    }
  }
  if (std::optional<double> c = publicScalar(v)) {
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
  for (auto [fv, one] : commuted(add)) {
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
  for (auto [m, e] : commuted(add))
    if (std::optional<double> c = publicScalar(e)) {
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

/// The readings of `root` as `n / s`: div(n, s), or n * (1 / s) with the
/// reciprocal on either side; (n, s) pairs, in operand order.
SmallVector<std::pair<Value, Value>, 2> quotients(Operation *root) {
  SmallVector<std::pair<Value, Value>, 2> result;
  if (auto div = dyn_cast<DivOp>(root)) {
    result.push_back({div.getLhs(), div.getRhs()});
  } else if (auto mul = dyn_cast<MulOp>(root)) {
    for (auto [a, b] : commuted(mul))
      if (Value inv = matchReciprocal(b))
        result.push_back({a, inv});
  }
  return result;
}

/// `sqrt(mean(x^2) + eps)` over trailing axes, the denominator of both
/// normalisations.
struct RootMeanSquare {
  Value x;
  double eps;
  int64_t axis;      ///< the first axis the mean reduces
  Operation *square; ///< the op computing x^2 (a use of x)
};

std::optional<RootMeanSquare> matchRootMeanSquare(Value s) {
  RootMeanSquare rms;
  Value meanOfSquare = matchSqrtPlusEps(s, rms.eps);
  std::optional<int64_t> axis;
  rms.x = meanOfSquare ? matchMeanOfSquare(meanOfSquare, axis) : Value();
  if (!rms.x)
    return std::nullopt;
  rms.axis = *axis;
  rms.square =
      meanOfSquare.getDefiningOp<ReduceMeanOp>().getInput().getDefiningOp();
  return rms;
}

//===----------------------------------------------------------------------===//
// Fusion patterns
//===----------------------------------------------------------------------===//

/// Each fusion pattern counts its rewrites in one statistic of the pass.
class FusionCounter {
protected:
  explicit FusionCounter(llvm::Statistic &count) : count(count) {}

  /// Replaces `root` with a new `NewOp` built from `args`.
  template <typename NewOp, typename... Args>
  LogicalResult fuse(PatternRewriter &rewriter, Operation *root,
                     Args &&...args) const {
    ++count;
    rewriter.replaceOpWithNewOp<NewOp>(root, std::forward<Args>(args)...);
    return success();
  }

private:
  llvm::Statistic &count;
};

/// A fusion whose root is a `RootOp`.
template <typename RootOp>
struct FusePattern : OpRewritePattern<RootOp>, FusionCounter {
  FusePattern(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern<RootOp>(ctx), FusionCounter(count) {}
};

/// A fusion whose root may be one of several ops.
struct FuseAnyPattern : RewritePattern, FusionCounter {
  FuseAnyPattern(MLIRContext *ctx, llvm::Statistic &count,
                 PatternBenefit benefit = 1)
      : RewritePattern(MatchAnyOpTypeTag(), benefit, ctx),
        FusionCounter(count) {}
};

//===----------------------------------------------------------------------===//
// GeLU
//===----------------------------------------------------------------------===//

/// x * 0.5 * (1 + erf(x / sqrt(2))) and
/// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), any association.
struct FuseGelu : FusePattern<MulOp> {
  using FusePattern::FusePattern;

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    Product p;
    flattenProduct(root.getResult(), p);
    if (p.factors.size() != 2 || !near(p.constant, 0.5))
      return failure();
    auto gelu = [&](Value x, GeluApproximation approx) {
      return fuse<GeluOp>(rewriter, root, x,
                          GeluApproximationAttr::get(getContext(), approx));
    };
    for (int i = 0; i < 2; ++i) {
      Value x = p.factors[i], other = p.factors[1 - i];
      if (!sameShapeAsResult(x, root))
        continue;
      if (Value u = matchOnePlus<ErfOp>(other);
          u && matchScaled(u, 1.0 / std::sqrt(2.0)) == x)
        return gelu(x, GeluApproximation::none);
      if (Value u = matchOnePlus<TanhOp>(other); u && isTanhInner(u, x))
        return gelu(x, GeluApproximation::tanh);
    }
    return failure();
  }

  /// sqrt(2/pi) * (x + 0.044715 * x^3), the cube as pow(x, 3) or x*x*x.
  static bool isTanhInner(Value u, Value x) {
    Value sum = matchScaled(u, std::sqrt(2.0 / M_PI));
    auto add = sum ? sum.getDefiningOp<AddOp>() : AddOp();
    if (!add || !sum.hasOneUse())
      return false;
    for (auto [lin, cubic] : commuted(add)) {
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
};

//===----------------------------------------------------------------------===//
// SiLU
//===----------------------------------------------------------------------===//

/// x * sigmoid(x).
struct FuseSilu : FusePattern<MulOp> {
  using FusePattern::FusePattern;

  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : commuted(root)) {
      auto sig = s.getDefiningOp<SigmoidOp>();
      if (sig && sig.getInput() == x && s.hasOneUse() &&
          sameShapeAsResult(x, root))
        return fuse<SiluOp>(rewriter, root, x);
    }
    return failure();
  }
};

//===----------------------------------------------------------------------===//
// LayerNorm and RMSNorm
//===----------------------------------------------------------------------===//

/// d / sqrt(mean(d^2) + eps) or d * (1 / sqrt(...)) with d = x - mean(x):
/// LayerNorm without affine parameters (these are absorbed separately).
struct FuseLayerNorm : FuseAnyPattern {
  /// Tried before RMSNorm, which would otherwise take d for its input.
  FuseLayerNorm(MLIRContext *ctx, llvm::Statistic &count)
      : FuseAnyPattern(ctx, count, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    SmallVector<std::pair<Value, Value>, 2> readings = quotients(root);
    if (readings.empty())
      return failure();
    auto [d, s] = readings.front();
    std::optional<RootMeanSquare> rms = matchRootMeanSquare(s);
    if (!rms || rms->x != d)
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
    if (!axis || *axis != rms->axis)
      return failure();
    // d feeds the square and the root, nothing else.
    if (!onlyUsedBy(d, {root, rms->square}))
      return failure();
    return fuse<LayerNormOp>(rewriter, root, root->getResult(0).getType(), x,
                             Value(), Value(),
                             rewriter.getI64IntegerAttr(*axis - xTy.getRank()),
                             rewriter.getF32FloatAttr(rms->eps));
  }
};

/// x / sqrt(mean(x^2) + eps) or x * (1 / sqrt(...)): RMSNorm without scale.
struct FuseRmsNorm : FuseAnyPattern {
  using FuseAnyPattern::FuseAnyPattern;

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    for (auto [x, s] : quotients(root)) {
      std::optional<RootMeanSquare> rms = matchRootMeanSquare(s);
      if (!rms || rms->x != x || !sameShapeAsResult(x, root) ||
          rms->axis != cast<RankedTensorType>(x.getType()).getRank() - 1)
        continue;
      return fuse<RmsNormOp>(rewriter, root, root->getResult(0).getType(), x,
                             Value(), rewriter.getF32FloatAttr(rms->eps));
    }
    return failure();
  }
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

/// The shape a linear's bias has: the weight's output dimension.
ArrayRef<int64_t> biasShape(LinearOp op) {
  return cast<RankedTensorType>(op.getWeight().getType())
      .getShape()
      .drop_front();
}

/// `producer(x) <root> p` -> `producer(x)` with `p` as one of its optional
/// operands: norm(x) * scale, layer_norm(x) + bias, linear(x, W) + b. `p`
/// must have the operand's shape (or that shape with leading unit
/// dimensions), and the producer may not have the operand yet, nor an
/// operand it applies after this one (a layer norm's bias, for its scale).
template <typename RootOp, typename ProducerOp>
struct AbsorbOperand : OpRewritePattern<RootOp> {
  using Operand = MutableOperandRange (ProducerOp::*)();
  using ShapeOf = ArrayRef<int64_t> (*)(ProducerOp);

  AbsorbOperand(MLIRContext *ctx, ShapeOf shapeOf, Operand operand,
                Operand appliedAfter = nullptr)
      : OpRewritePattern<RootOp>(ctx), shapeOf(shapeOf), operand(operand),
        appliedAfter(appliedAfter) {}

  LogicalResult matchAndRewrite(RootOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [r, p] : commuted(root)) {
      auto producer = r.template getDefiningOp<ProducerOp>();
      if (!producer || !r.hasOneUse() || r.getType() != root.getType() ||
          !(producer.*operand)().empty() ||
          (appliedAfter && !(producer.*appliedAfter)().empty()))
        continue;
      Value param = asNormParam(p, shapeOf(producer), root.getLoc(), rewriter);
      if (!param)
        continue;
      // The operand may be computed after the producer (Gemm's beta * C):
      // the producer, whose one use is root, moves down to root, where every
      // operand is available.
      rewriter.moveOpBefore(producer, root);
      rewriter.modifyOpInPlace(producer,
                               [&] { (producer.*operand)().assign(param); });
      rewriter.replaceOp(root, producer.getResult());
      return success();
    }
    return failure();
  }

  ShapeOf shapeOf;
  Operand operand, appliedAfter;
};

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// e / reduce_sum(e) with e = exp(x - reduce_max(x)) (max subtraction
/// optional) over one axis.
struct FuseSoftmax : FusePattern<DivOp> {
  using FusePattern::FusePattern;

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
    return fuse<SoftmaxOp>(rewriter, root, x,
                           rewriter.getI64IntegerAttr(axis - rank));
  }
};

//===----------------------------------------------------------------------===//
// Causal mask
//===----------------------------------------------------------------------===//

/// Whether a constant of shape [..., Q, K] is `keep(i, j) == (j <= i + K - Q)`
/// (lower triangular, `keepValue` on kept positions) in every [Q, K] slice.
/// Leading dimensions other than 1 are a mask expanded to the batch (as
/// transformers' `_make_causal_mask(...).expand(bsz, 1, T, T)` writes it);
/// Q = 1 (a single-token input) keeps every key.
bool isCausalPattern(Value c, ArrayRef<int64_t> xShape,
                     llvm::function_ref<bool(double, bool)> matches) {
  auto ty = dyn_cast<RankedTensorType>(c.getType());
  if (!ty || !ty.hasStaticShape() || ty.getRank() < 2 || xShape.size() < 2 ||
      ty.getRank() > static_cast<int64_t>(xShape.size()))
    return false;
  ArrayRef<int64_t> s = ty.getShape();
  int64_t q = s[s.size() - 2], k = s.back();
  if (q != xShape[xShape.size() - 2] || k != xShape.back() || q < 1)
    return false;
  std::optional<SmallVector<double>> values = getConstantValues(c);
  if (!values || static_cast<int64_t>(values->size()) != ty.getNumElements())
    return false;
  for (int64_t slice = 0, n = ty.getNumElements(); slice < n; slice += q * k)
    for (int64_t i = 0; i < q; ++i)
      for (int64_t j = 0; j < k; ++j)
        if (!matches((*values)[slice + i * k + j], j <= i + k - q))
          return false;
  return true;
}

/// A fill value that makes softmax weights vanish: -inf or a huge negative.
bool isMaskFill(double v) { return v <= -1e4; }

/// where(causal, x, -inf) / where(anti-causal, -inf, x) / x + additive
/// causal mask -> tfm.causal_mask x.
struct FuseCausalMask : FuseAnyPattern {
  using FuseAnyPattern::FuseAnyPattern;

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    Value x = match(root);
    if (!x)
      return failure();
    return fuse<CausalMaskOp>(rewriter, root, x);
  }

  static Value match(Operation *root) {
    if (auto where = dyn_cast<WhereOp>(root)) {
      Value c = where.getCondition();
      for (bool keepOnTrue : {true, false}) {
        Value x = keepOnTrue ? where.getOnTrue() : where.getOnFalse();
        Value fill = keepOnTrue ? where.getOnFalse() : where.getOnTrue();
        // Read whatever its role: the fusion drops the fill, and the program
        // only shows that it was a mask value (<= -1e4; HF GPT-2 keeps it as
        // an initializer, the `masked_bias` buffer).
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
      for (auto [x, m] : commuted(add)) {
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
};

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

/// matmul(x, W) with a rank-2 W -> linear(x, W).
struct FuseLinear : FusePattern<MatMulOp> {
  using FusePattern::FusePattern;

  LogicalResult matchAndRewrite(MatMulOp root,
                                PatternRewriter &rewriter) const override {
    auto wTy = cast<RankedTensorType>(root.getRhs().getType());
    if (wTy.getRank() != 2)
      return failure();
    return fuse<LinearOp>(rewriter, root, root.getType(), root.getLhs(),
                          root.getRhs(), Value());
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
    // A layer norm's bias is added after its scale: a scale is only
    // absorbed while the norm has no bias.
    patterns.add<AbsorbOperand<MulOp, LayerNormOp>>(
        ctx, normalisedShape<LayerNormOp>, &LayerNormOp::getScaleMutable,
        &LayerNormOp::getBiasMutable);
    patterns.add<AbsorbOperand<MulOp, RmsNormOp>>(
        ctx, normalisedShape<RmsNormOp>, &RmsNormOp::getScaleMutable);
    patterns.add<AbsorbOperand<AddOp, LayerNormOp>>(
        ctx, normalisedShape<LayerNormOp>, &LayerNormOp::getBiasMutable);
    patterns.add<AbsorbOperand<AddOp, LinearOp>>(ctx, biasShape,
                                                 &LinearOp::getBiasMutable);
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
