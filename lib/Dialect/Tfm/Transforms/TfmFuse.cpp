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
/// read as `x * 1/c`, and `x^n` for a small public integer n read as n
/// factors x) into its non-constant factors and the product of its
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
  // (An integer quotient truncates: not a factor.)
  if (auto div = dyn_cast_or_null<DivOp>(def);
      div && isa<FloatType>(div.getType().getElementType())) {
    if (std::optional<double> c = publicScalar(div.getRhs());
        c && *c != 0.0) {
      flattenProduct(div.getLhs(), p, false);
      p.constant /= *c;
      return;
    }
  }
  if (auto pow = dyn_cast_or_null<PowOp>(def);
      pow && pow.getType() == pow.getLhs().getType()) {
    std::optional<double> n = publicScalar(pow.getRhs());
    if (n && (*n == 2.0 || *n == 3.0 || *n == 4.0)) {
      for (int i = 0; i < static_cast<int>(*n); ++i)
        flattenProduct(pow.getLhs(), p, false);
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

// Normalisation statistics. A per-row statistic (a mean, a variance, a
// standard deviation or its inverse: a value of the reduced shape) may have
// uses outside a normalisation pattern: the ONNX function body of
// LayerNormalization returns its Mean and InvStdDev. The norm is fused all
// the same and those uses keep their own computation, as the importer does
// for LayerNormalization's Mean/InvStdDev outputs: a second row statistic
// costs far less than the unfused form (a secret division per element, and
// E[x^2] - E[x]^2's cancellation in fixed point). Full-shape intermediates
// (the deviation, the squares) are still only absorbed when all their uses
// are inside the pattern.

/// `x^2` written as pow(x, 2) or x * x; returns x.
Value matchSquare(Value sq) {
  if (auto pow = sq.getDefiningOp<PowOp>())
    if (isConstant(pow.getRhs(), 2.0))
      return pow.getLhs();
  if (auto mul = sq.getDefiningOp<MulOp>())
    if (mul.getLhs() == mul.getRhs())
      return mul.getLhs();
  return {};
}

/// `reduce_mean(x)` over trailing axes, keeping them; returns x and the first
/// reduced axis.
Value matchMean(Value v, int64_t &axis) {
  auto mean = v.getDefiningOp<ReduceMeanOp>();
  if (!mean || !mean.getKeepdims())
    return {};
  auto inTy = cast<RankedTensorType>(mean.getInput().getType());
  std::optional<int64_t> a = trailingAxis(mean.getAxes(), inTy.getRank());
  if (!a)
    return {};
  axis = *a;
  return mean.getInput();
}

/// `mean(x^2)` over trailing axes, the square used by the mean only; returns
/// x, the first reduced axis and the op computing the square (a use of x).
Value matchMeanOfSquare(Value v, int64_t &axis, Operation *&square) {
  Value sq = matchMean(v, axis);
  if (!sq || !sq.hasOneUse())
    return {};
  square = sq.getDefiningOp();
  return matchSquare(sq);
}

/// The radicand `a` of `sqrt(a)`, written as sqrt(a) or pow(a, 0.5).
Value matchRoot(Value v) {
  if (auto sqrt = v.getDefiningOp<SqrtOp>())
    return sqrt.getInput();
  if (auto pow = v.getDefiningOp<PowOp>())
    if (isConstant(pow.getRhs(), 0.5))
      return pow.getLhs();
  return {};
}

/// `1 / s` written as reciprocal(s) or div(1, s); returns s.
Value matchReciprocal(Value v) {
  if (auto r = v.getDefiningOp<ReciprocalOp>())
    return r.getInput();
  if (auto d = v.getDefiningOp<DivOp>())
    if (isConstant(d.getLhs(), 1.0))
      return d.getRhs();
  return {};
}

/// The radicand `a` of `1 / sqrt(a)`: pow(a, -0.5), or the reciprocal of a
/// root (reciprocal(sqrt(a)), 1 / sqrt(a), 1 / pow(a, 0.5)).
Value matchInverseRoot(Value v) {
  if (auto pow = v.getDefiningOp<PowOp>())
    if (isConstant(pow.getRhs(), -0.5))
      return pow.getLhs();
  Value s = matchReciprocal(v);
  return s ? matchRoot(s) : Value();
}

/// The readings of `root` as `n / sqrt(a)`: div(n, sqrt(a)), or
/// n * (1 / sqrt(a)) in any of its forms, on either side; (n, a) pairs.
SmallVector<std::pair<Value, Value>, 2> normReadings(Operation *root) {
  SmallVector<std::pair<Value, Value>, 2> result;
  if (auto div = dyn_cast<DivOp>(root)) {
    if (Value a = matchRoot(div.getRhs()))
      result.push_back({div.getLhs(), a});
  } else if (auto mul = dyn_cast<MulOp>(root)) {
    for (auto [n, inv] : commuted(mul))
      if (Value a = matchInverseRoot(inv))
        result.push_back({n, a});
  }
  return result;
}

/// `v + eps` with a public scalar eps, either order; returns v and eps.
Value matchPlusEps(Value a, double &eps) {
  auto add = a.getDefiningOp<AddOp>();
  if (!add)
    return {};
  for (auto [v, e] : commuted(add))
    if (std::optional<double> c = publicScalar(e)) {
      eps = *c;
      return v;
    }
  return {};
}

/// Whether `var` is the variance of `x` over the trailing axes from `axis`,
/// for a LayerNorm whose numerator is the deviation `d = x - mean(x)`
/// (used by `root`):
///   mean(d^2)                      (d feeds only the root and the square),
///   mean(e^2), e another x - mean(x) (an export without CSE; e feeds only
///                                  the square, d only the root), or
///   mean(x^2) - mean(x)^2          (ONNX's LayerNormalization function).
bool isVarianceOf(Value var, Value x, Value d, int64_t axis, Operation *root) {
  int64_t varAxis = 0;
  Operation *square = nullptr;
  if (Value e = matchMeanOfSquare(var, varAxis, square)) {
    if (varAxis != axis)
      return false;
    if (e == d)
      return onlyUsedBy(d, {root, square});
    auto sub = e.getDefiningOp<SubOp>();
    int64_t meanAxis = 0;
    return sub && sub.getLhs() == x &&
           matchMean(sub.getRhs(), meanAxis) == x && meanAxis == axis &&
           onlyUsedBy(e, {square}) && onlyUsedBy(d, {root});
  }
  auto sub = var.getDefiningOp<SubOp>();
  if (!sub)
    return false;
  int64_t squareAxis = 0, meanAxis = 0;
  if (matchMeanOfSquare(sub.getLhs(), squareAxis, square) != x ||
      squareAxis != axis)
    return false;
  Value mean = matchSquare(sub.getRhs());
  return mean && matchMean(mean, meanAxis) == x && meanAxis == axis &&
         onlyUsedBy(d, {root});
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

  /// Replaces `root` with the value `v` it computes.
  LogicalResult fuse(PatternRewriter &rewriter, Operation *root,
                     Value v) const {
    ++count;
    rewriter.replaceOp(root, v);
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
// Canonical products (run before the fusions)
//===----------------------------------------------------------------------===//

/// Regroups a product tree so that a per-row factor applies to the value
/// first: `w * x * r` -> `(x * r) * w`, `(w * d) / s` -> `(d / s) * w`. A
/// norm is then `x * r` (or `d / s`) whatever the order the model wrote it
/// in, and its weight is absorbed as a scale afterwards.
///
/// The tree is the root `*` or `/` and the products and quotients below it
/// used once; its leaves are factors or divisors of three kinds, by shape
/// against the root's result:
///   main   a non-constant of the result's shape (the value normalised);
///   row    a non-constant whose last dimension is 1 where the result's is
///          not (a per-row statistic broadcast along the row);
///   other  everything else (weights, constants).
/// A tree that has a subtree made of exactly its main and row leaves is
/// left alone; otherwise it is rebuilt as ((mains) op rows) * (others)
/// / (other divisors), leaves in their original order. Only operands move: no constant is
/// created or merged, so roles and provenance are untouched, and a divided
/// main value (r / x) is left alone.
struct GroupRowFactors : RewritePattern {
  GroupRowFactors(MLIRContext *ctx, llvm::Statistic &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx),
        count(count) {}

  enum class Kind { main, row, other };
  struct Leaf {
    Value value;
    bool divides;
    Kind kind;
  };
  /// Per subtree: how many main/row leaves and how many others it has.
  struct Counts {
    int grouped = 0, others = 0;
  };

  static Kind kindOf(Value v, ArrayRef<int64_t> shape) {
    if (v.getDefiningOp<arith::ConstantOp>())
      return Kind::other;
    ArrayRef<int64_t> s = cast<RankedTensorType>(v.getType()).getShape();
    if (s == shape)
      return Kind::main;
    if (!s.empty() && s.back() == 1 && shape.back() != 1)
      return Kind::row;
    return Kind::other;
  }

  /// Collects the leaves under `v` (a divisor if `divides`) and the counts of
  /// every subtree.
  static Counts collect(Value v, bool divides, bool isRoot,
                        ArrayRef<int64_t> shape, SmallVectorImpl<Leaf> &leaves,
                        SmallVectorImpl<Counts> &subtrees) {
    Operation *def = v.getDefiningOp();
    Counts c;
    // A reciprocal 1 / s is one leaf (a row factor when s is a statistic).
    bool reciprocal = isa_and_nonnull<DivOp>(def) &&
                      isConstant(def->getOperand(0), 1.0);
    if (def && isa<MulOp, DivOp>(def) && !reciprocal &&
        (isRoot || v.hasOneUse())) {
      bool isDiv = isa<DivOp>(def);
      Counts l = collect(def->getOperand(0), divides, false, shape, leaves,
                         subtrees);
      Counts r = collect(def->getOperand(1), divides != isDiv, false, shape,
                         leaves, subtrees);
      c = {l.grouped + r.grouped, l.others + r.others};
    } else {
      Kind k = kindOf(v, shape);
      leaves.push_back({v, divides, k});
      (k == Kind::other ? c.others : c.grouped) = 1;
    }
    subtrees.push_back(c);
    return c;
  }

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<MulOp, DivOp>(root))
      return failure();
    auto type = cast<RankedTensorType>(root->getResult(0).getType());
    if (!isa<FloatType>(type.getElementType()))
      return failure(); // integer quotients truncate: no regrouping
    if (type.getRank() == 0 || type.getShape().back() == 1)
      return failure();
    SmallVector<Leaf> leaves;
    SmallVector<Counts> subtrees;
    Counts all = collect(root->getResult(0), false, true, type.getShape(),
                         leaves, subtrees);
    auto has = [&](Kind k) {
      return llvm::any_of(leaves, [&](const Leaf &l) { return l.kind == k; });
    };
    if (!has(Kind::main) || !has(Kind::row) || all.others == 0 ||
        llvm::any_of(leaves, [](const Leaf &l) {
          return l.kind == Kind::main && l.divides;
        }))
      return failure();
    if (llvm::any_of(subtrees, [&](const Counts &c) {
          return c.others == 0 && c.grouped == all.grouped;
        }))
      return failure();
    // Rebuild: mains, then rows, then the product of the other factors
    // (one operand, as a norm's scale), then the other divisors.
    Location loc = root->getLoc();
    auto combine = [&](Value acc, const Leaf &l) -> Value {
      if (!acc)
        return l.value;
      SmallVector<int64_t> shape = broadcastShape(
          cast<RankedTensorType>(acc.getType()).getShape(),
          cast<RankedTensorType>(l.value.getType()).getShape());
      auto ty = RankedTensorType::get(shape, type.getElementType());
      if (l.divides)
        return DivOp::create(rewriter, loc, ty, acc, l.value);
      return MulOp::create(rewriter, loc, ty, acc, l.value);
    };
    Value acc, others;
    for (Kind k : {Kind::main, Kind::row})
      for (const Leaf &l : leaves)
        if (l.kind == k)
          acc = combine(acc, l);
    for (const Leaf &l : leaves)
      if (l.kind == Kind::other && !l.divides)
        others = combine(others, l);
    if (others)
      acc = combine(acc, {others, false, Kind::other});
    for (const Leaf &l : leaves)
      if (l.kind == Kind::other && l.divides)
        acc = combine(acc, l);
    ++count;
    rewriter.replaceOp(root, acc);
    return success();
  }

  /// The numpy broadcast of two static shapes (known to broadcast: both are
  /// operands of the original tree).
  static SmallVector<int64_t> broadcastShape(ArrayRef<int64_t> a,
                                             ArrayRef<int64_t> b) {
    SmallVector<int64_t> out(std::max(a.size(), b.size()), 1);
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
      int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
      out[out.size() - 1 - i] = da == 1 ? db : da;
    }
    return out;
  }

  llvm::Statistic &count;
};

//===----------------------------------------------------------------------===//
// Saturations against values below the fixed-point range
//===----------------------------------------------------------------------===//

/// Below every fixed-point value: a 64-bit ring with f >= 1 fractional bits
/// represents [-2^(63-f), 2^(63-f)), within [-2^62, 2^62).
constexpr double kBelowFixedPoint = -0x1p62;

/// max(x, c) with every element of the constant c at most -2^62 (-inf,
/// torch.finfo(float32).min, bfloat16's min): every fixed-point x is
/// greater, so the maximum is x itself -- exactly, without a range
/// analysis. "Safe softmax" code clamps scores this way
/// (`torch.max(scores, torch.tensor(torch.finfo(torch.float32).min))`);
/// left alone, the constant would reach the encoder, which cannot represent
/// it. The constant is read whatever its role: the program then only shows
/// that it was below the fixed-point range, which a refusal to encode it
/// would show too. min(x, c) with c >= 2^62 (finfo.max) goes the same way.
struct DropVacuousMax : FusePattern<MaxOp> {
  using FusePattern::FusePattern;

  /// The elements of a constant, or of the negation of one (the importer
  /// writes ONNX Min(x, c) as -max(-x, -c), and folds -c only later).
  static std::optional<SmallVector<double>> negatedConstant(Value c) {
    auto neg = c.getDefiningOp<NegOp>();
    std::optional<SmallVector<double>> values =
        getConstantValues(neg ? neg.getInput() : c);
    if (values && neg)
      for (double &v : *values)
        v = -v;
    return values;
  }

  LogicalResult matchAndRewrite(MaxOp root,
                                PatternRewriter &rewriter) const override {
    for (auto [x, c] : commuted(root)) {
      std::optional<SmallVector<double>> values = negatedConstant(c);
      if (x.getType() != root.getType() || !values || values->empty() ||
          !llvm::all_of(*values,
                        [](double v) { return v <= kBelowFixedPoint; }))
        continue;
      return fuse(rewriter, root, x);
    }
    return failure();
  }
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

  /// sqrt(2/pi) * (x + 0.044715 * x^3), the cube as pow(x, 3) or products
  /// in any association, or the factored sqrt(2/pi) * x * (1 + 0.044715 *
  /// x^2).
  static bool isTanhInner(Value u, Value x) {
    constexpr double kCubic = 0.044715;
    Product p;
    flattenProduct(u, p);
    if (!near(p.constant, std::sqrt(2.0 / M_PI)))
      return false;
    if (p.factors.size() == 1) {
      auto add = p.factors[0].getDefiningOp<AddOp>();
      if (!add || !p.factors[0].hasOneUse())
        return false;
      for (auto [lin, cubic] : commuted(add))
        if (lin == x && isPowerTerm(cubic, x, 3, kCubic))
          return true;
      return false;
    }
    if (p.factors.size() != 2)
      return false;
    for (int i = 0; i < 2; ++i) {
      Value t = p.factors[1 - i];
      auto add = t.getDefiningOp<AddOp>();
      if (p.factors[i] != x || !add || !t.hasOneUse())
        continue;
      for (auto [one, square] : commuted(add))
        if (isConstant(one, 1.0) && isPowerTerm(square, x, 2, kCubic))
          return true;
    }
    return false;
  }

  /// `c * x^n`, the power as pow(x, n) or products, used once.
  static bool isPowerTerm(Value v, Value x, size_t n, double c) {
    if (!v.hasOneUse())
      return false;
    Product p;
    flattenProduct(v, p);
    return near(p.constant, c) && p.factors.size() == n &&
           llvm::all_of(p.factors, [&](Value f) { return f == x; });
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

/// d / sqrt(var + eps) with d = x - mean(x) and var the variance of x (see
/// isVarianceOf), 1/sqrt in any form (see normReadings): LayerNorm without
/// affine parameters (these are absorbed separately).
struct FuseLayerNorm : FuseAnyPattern {
  /// Tried before RMSNorm, which would otherwise take d for its input.
  FuseLayerNorm(MLIRContext *ctx, llvm::Statistic &count)
      : FuseAnyPattern(ctx, count, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    for (auto [d, a] : normReadings(root)) {
      auto sub = d.getDefiningOp<SubOp>();
      if (!sub)
        continue;
      Value x = sub.getLhs();
      int64_t axis = 0;
      double eps = 0;
      Value var = matchPlusEps(a, eps);
      if (!var || matchMean(sub.getRhs(), axis) != x ||
          !sameShapeAsResult(x, root) || !isVarianceOf(var, x, d, axis, root))
        continue;
      int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
      return fuse<LayerNormOp>(rewriter, root, root->getResult(0).getType(), x,
                               Value(), Value(),
                               rewriter.getI64IntegerAttr(axis - rank),
                               rewriter.getF32FloatAttr(eps));
    }
    return failure();
  }
};

/// x / sqrt(mean(x^2) + eps), 1/sqrt in any form (see normReadings), the
/// square as pow(x, 2) or x * x: RMSNorm without scale.
struct FuseRmsNorm : FuseAnyPattern {
  using FuseAnyPattern::FuseAnyPattern;

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    for (auto [x, a] : normReadings(root)) {
      double eps = 0;
      int64_t axis = 0;
      Operation *square = nullptr;
      Value var = matchPlusEps(a, eps);
      if (!var || matchMeanOfSquare(var, axis, square) != x ||
          !sameShapeAsResult(x, root) ||
          axis != cast<RankedTensorType>(x.getType()).getRank() - 1)
        continue;
      return fuse<RmsNormOp>(rewriter, root, root->getResult(0).getType(), x,
                             Value(), rewriter.getF32FloatAttr(eps));
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
/// optional) over one axis; the division also as e * reciprocal(sum) or
/// e * (1 / sum), on either side.
struct FuseSoftmax : FuseAnyPattern {
  using FuseAnyPattern::FuseAnyPattern;

  /// The readings of `root` as `e / s` with `1 / s` used once.
  static SmallVector<std::pair<Value, Value>, 2> quotients(Operation *root) {
    SmallVector<std::pair<Value, Value>, 2> result;
    if (auto div = dyn_cast<DivOp>(root)) {
      result.push_back({div.getLhs(), div.getRhs()});
    } else if (auto mul = dyn_cast<MulOp>(root)) {
      for (auto [e, inv] : commuted(mul))
        if (Value s = matchReciprocal(inv); s && inv.hasOneUse())
          result.push_back({e, s});
    }
    return result;
  }

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    for (auto [e, s] : quotients(root))
      if (Value x = match(root, e, s)) {
        int64_t axis = s.getDefiningOp<ReduceSumOp>().getAxes()[0];
        int64_t rank = cast<RankedTensorType>(e.getType()).getRank();
        if (axis >= 0)
          axis -= rank;
        return fuse<SoftmaxOp>(rewriter, root, x,
                               rewriter.getI64IntegerAttr(axis));
      }
    return failure();
  }

  /// The softmax input if `e / s` is a softmax.
  static Value match(Operation *root, Value e, Value s) {
    auto exp = e.getDefiningOp<ExpOp>();
    auto sum = s.getDefiningOp<ReduceSumOp>();
    if (!exp || !sum || sum.getInput() != e || !sum.getKeepdims() ||
        sum.getAxes().size() != 1 || !s.hasOneUse() ||
        !onlyUsedBy(e, {root, sum}) || !sameShapeAsResult(e, root))
      return {};
    int64_t rank = cast<RankedTensorType>(e.getType()).getRank();
    auto normAxis = [&](int64_t a) { return a < 0 ? a + rank : a; };
    int64_t axis = normAxis(sum.getAxes()[0]);
    Value x = exp.getInput();
    // Softmax is shift-invariant: drop a subtracted row maximum.
    if (auto sub = x.getDefiningOp<SubOp>(); sub && x.hasOneUse()) {
      auto max = sub.getRhs().getDefiningOp<ReduceMaxOp>();
      if (max && max.getInput() == sub.getLhs() && max.getKeepdims() &&
          max.getAxes().size() == 1 && normAxis(max.getAxes()[0]) == axis &&
          sub.getRhs().hasOneUse())
        x = sub.getLhs();
    }
    return x;
  }
};

//===----------------------------------------------------------------------===//
// Causal mask
//===----------------------------------------------------------------------===//

/// The structural mask a constant of shape [..., Q, K] encodes: `keep(i, j)`
/// read from each element by `classify` (kept, masked, or neither), and kept
/// exactly for `j <= d` with `d = i + K - Q` (causal, the window is 0) or for
/// `d - w < j <= d` (a sliding window w: a band), the same in every [Q, K]
/// slice. Leading dimensions other than 1 are a mask expanded to the batch
/// (as transformers' `_make_causal_mask(...).expand(bsz, 1, T, T)` writes
/// it); Q = 1 (a single-token input) keeps every key. nullopt for any other
/// pattern, or when broadcasting the mask would enlarge `xShape`.
std::optional<int64_t>
causalWindow(Value c, ArrayRef<int64_t> xShape,
             llvm::function_ref<std::optional<bool>(double)> classify) {
  auto ty = dyn_cast<RankedTensorType>(c.getType());
  if (!ty || !ty.hasStaticShape() || ty.getRank() < 2 || xShape.size() < 2 ||
      ty.getRank() > static_cast<int64_t>(xShape.size()))
    return std::nullopt;
  ArrayRef<int64_t> s = ty.getShape();
  int64_t q = s[s.size() - 2], k = s.back();
  if (q != xShape[xShape.size() - 2] || k != xShape.back() || q < 1)
    return std::nullopt;
  ArrayRef<int64_t> xLead = xShape.drop_back(2).take_back(s.size() - 2);
  for (auto [d, xd] : llvm::zip_equal(s.drop_back(2), xLead))
    if (d != 1 && d != xd)
      return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantValues(c);
  if (!values || static_cast<int64_t>(values->size()) != ty.getNumElements())
    return std::nullopt;
  SmallVector<bool> keep;
  for (double v : *values) {
    std::optional<bool> kept = classify(v);
    if (!kept)
      return std::nullopt;
    keep.push_back(*kept);
  }
  // The window is the widest row; causal if no row is cut by it.
  int64_t window = 0;
  bool cut = false;
  for (int64_t i = 0; i < q; ++i) {
    int64_t n = llvm::count(ArrayRef<bool>(keep).slice(i * k, k), true);
    window = std::max(window, n);
    cut |= n < std::min(k, i + k - q + 1);
  }
  if (!cut)
    window = 0;
  for (size_t slice = 0; slice < keep.size(); slice += q * k)
    for (int64_t i = 0; i < q; ++i)
      for (int64_t j = 0; j < k; ++j) {
        int64_t d = i + k - q;
        bool expected = j <= d && (window == 0 || j > d - window);
        if (keep[slice + i * k + j] != expected)
          return std::nullopt;
      }
  return window;
}

/// A fill value that makes softmax weights vanish: -inf or a huge negative.
bool isMaskFill(double v) { return v <= -1e4; }

/// where(causal, x, -inf) / where(anti-causal, -inf, x) / x + additive
/// causal mask -> tfm.causal_mask x; a band (sliding window) pattern gets
/// the window. The fill may be -inf, torch.finfo(float32).min, -1e9 or any
/// value <= -1e4: the structural mask never encodes it.
struct FuseCausalMask : FuseAnyPattern {
  using FuseAnyPattern::FuseAnyPattern;

  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    int64_t window = 0;
    Value x = match(root, window);
    if (!x)
      return failure();
    return fuse<CausalMaskOp>(rewriter, root, x,
                              window ? rewriter.getI64IntegerAttr(window)
                                     : IntegerAttr());
  }

  static Value match(Operation *root, int64_t &window) {
    auto found = [&](Value x, std::optional<int64_t> w) {
      if (!w)
        return Value();
      window = *w;
      return x;
    };
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
        if (Value m = found(x, causalWindow(c, shape, [&](double v) {
                              return std::optional<bool>((v != 0) ==
                                                         keepOnTrue);
                            })))
          return m;
      }
      return {};
    }
    if (auto add = dyn_cast<AddOp>(root)) {
      for (auto [x, m] : commuted(add)) {
        if (!sameShapeAsResult(x, root))
          continue;
        auto shape = cast<RankedTensorType>(x.getType()).getShape();
        if (Value r = found(x, causalWindow(m, shape,
                                            [](double v) -> std::optional<bool> {
                                              if (v == 0.0)
                                                return true;
                                              if (isMaskFill(v))
                                                return false;
                                              return std::nullopt;
                                            })))
          return r;
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
    // Equal constants are not merged: their roles (mpc.visibility) may
    // differ, and merging an owner's weight into an equal public literal
    // would make it public.
    GreedyRewriteConfig config;
    config.enableConstantCSE(false);
    // Products first take their canonical grouping, so that the fusions
    // below see one form whatever the order the model wrote.
    RewritePatternSet canonical(ctx);
    canonical.add<GroupRowFactors>(ctx, numRegrouped);
    if (failed(applyPatternsGreedily(getOperation(), std::move(canonical),
                                     config)))
      return signalPassFailure();

    RewritePatternSet patterns(ctx);
    patterns.add<FuseGelu>(ctx, numGelu);
    patterns.add<FuseSilu>(ctx, numSilu);
    patterns.add<FuseLayerNorm>(ctx, numLayerNorm);
    patterns.add<FuseRmsNorm>(ctx, numRmsNorm);
    patterns.add<FuseSoftmax>(ctx, numSoftmax);
    patterns.add<FuseCausalMask>(ctx, numCausalMask);
    patterns.add<DropVacuousMax>(ctx, numVacuousMax);
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
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      signalPassFailure();
  }
};

} // namespace
