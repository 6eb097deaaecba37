//===- TfmToMpc.cpp - lower tfm to fixed-point mpc ------------------------===//
//
// The result type of every lowered op depends on a dataflow fact (who may see
// the value), not on the source type alone, so this lowering is a single
// forward walk over each function that consults the visibility analysis,
// rather than a TypeConverter-driven dialect conversion: the walk sees the
// original value, asks the solver for its visibility and builds the mpc
// value. It is linear in the program size.
//
//===----------------------------------------------------------------------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Conversion/Passes.h"
#include "umbra/Conversion/TfmToMpc/Approximations.h"
#include "umbra/Dialect/Mpc/IR/MpcOps.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

namespace umbra {
#define GEN_PASS_DEF_CONVERTTFMTOMPC
#include "umbra/Conversion/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

struct Options {
  unsigned frac;
  ReluCorrection gelu, geluTanh, silu;
  int64_t expSquarings;
  double maskedScore, varianceMax;
};

class Lowering {
public:
  Lowering(const DataFlowSolver &solver, const Options &opts, OpBuilder &b)
      : solver(solver), opts(opts), b(b) {}

  LogicalResult lowerFunction(func::FuncOp func);

private:
  //===--- types and values ------------------------------------------------===//

  static MpcTensorType typeOf(Value v) { return cast<MpcTensorType>(v.getType()); }
  MpcTensorType tensorType(ArrayRef<int64_t> shape, Visibility vis,
                           unsigned frac) {
    return MpcTensorType::get(b.getContext(), shape, vis, frac);
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    if (auto t = dyn_cast<MpcTensorType>(v.getType()))
      return t.getShape();
    return cast<ShapedType>(v.getType()).getShape();
  }
  Visibility visibilityOf(Value original) {
    return getVisibility(solver, original).value_or(Visibility::shared);
  }

  /// The lowered form of an original tfm value.
  FailureOr<Value> get(Value original);

  /// `v` made fit to be combined into a value of visibility `target`:
  /// private values meeting shared data are secret-shared first (once).
  Value prepare(Value v, Visibility target);

  /// Public constants, encoded once per value and precision.
  Value publicConstant(DenseElementsAttr value, unsigned frac);
  Value publicScalar(double c, unsigned frac = ~0u);

  //===--- arithmetic helpers (all keep the frac invariant) ---------------===//

  /// Who may see a combination of `operands`.
  static Visibility joinOf(ArrayRef<Value> operands);
  /// Local x + y or x - y (same frac; the result has the joined visibility).
  template <typename OpTy>
  Value elementwise(Value x, Value y);
  Value add(Value x, Value y) { return elementwise<AddOp>(x, y); }
  Value sub(Value x, Value y) { return elementwise<SubOp>(x, y); }
  /// x * y, truncated back to the working precision when both are reals.
  Value mul(Value x, Value y);
  Value matmul(Value x, Value y);
  Value truncTo(Value v, unsigned frac);
  Value scale(Value x, double c) { return mul(x, publicScalar(c)); }
  Value drelu(Value x);
  Value reluCorrected(Value x, const ReluCorrection &r);
  Value reduceSum(Value x, ArrayRef<int64_t> axes);

  //===--- op lowerings -----------------------------------------------------===//

  LogicalResult lower(Operation *op);
  LogicalResult lowerNorm(Operation *op, Value x, int64_t axis, double eps,
                          Value scaleV, Value biasV, bool subtractMean);
  LogicalResult lowerEmbedding(tfm::EmbeddingOp op);
  FailureOr<Value> lowerWhere(tfm::WhereOp op);
  /// Public causal masking of scores of shape [..., q, k]: a 0/1 mask
  /// (frac 0) and the scores that masked positions take.
  struct CausalMask {
    Value keep, fill;
  };
  CausalMask causalMask(ArrayRef<int64_t> shape);
  /// keep * x + fill: masked scores replaced, all local.
  Value applyMask(Value x, const CausalMask &m) {
    return add(mul(m.keep, x), m.fill);
  }
  Value softmax(Value x, int64_t axis, const CausalMask *mask);

  const DataFlowSolver &solver;
  const Options &opts;
  OpBuilder &b;
  Location loc = b.getUnknownLoc();
  DenseMap<Value, Value> lowered;
  DenseMap<Value, Value> sharedOf;
  DenseMap<std::pair<Attribute, unsigned>, Value> constants;
};

FailureOr<Value> Lowering::get(Value original) {
  if (Value v = lowered.lookup(original))
    return v;
  // Float constants are encoded where they are first used.
  if (auto cst = original.getDefiningOp<arith::ConstantOp>()) {
    auto ty = dyn_cast<RankedTensorType>(cst.getType());
    if (ty && isa<FloatType>(ty.getElementType())) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(cst);
      Value v = EncodeOp::create(
          b, cst.getLoc(),
          tensorType(ty.getShape(), visibilityOf(original), opts.frac), cst);
      lowered[original] = v;
      return v;
    }
  }
  if (Operation *def = original.getDefiningOp())
    return def->emitOpError("produces a value of type ")
           << original.getType() << " that has no fixed-point form here";
  return emitError(original.getLoc(), "function argument of type ")
         << original.getType() << " cannot be used as a real value";
}

Value Lowering::prepare(Value v, Visibility target) {
  MpcTensorType t = typeOf(v);
  if (target != Visibility::shared || t.isShared() ||
      t.getVisibility() == Visibility::public_)
    return v;
  Value &s = sharedOf[v];
  if (!s) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfterValue(v);
    s = ShareOp::create(b, v.getLoc(), t.withVisibility(Visibility::shared), v);
  }
  return s;
}

Value Lowering::publicConstant(DenseElementsAttr value, unsigned frac) {
  Value &v = constants[{value, frac}];
  if (!v) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(b.getInsertionBlock());
    Value cst = arith::ConstantOp::create(b, loc, value);
    v = EncodeOp::create(
        b, loc, tensorType(value.getType().getShape(), Visibility::public_, frac),
        cst);
  }
  return v;
}

Value Lowering::publicScalar(double c, unsigned frac) {
  auto ty = RankedTensorType::get({}, b.getF32Type());
  return publicConstant(DenseElementsAttr::get(ty, static_cast<float>(c)),
                        frac == ~0u ? opts.frac : frac);
}

/// public < client/owner < shared; client with owner needs MPC (shared).
Visibility Lowering::joinOf(ArrayRef<Value> operands) {
  Visibility vis = Visibility::public_;
  for (Value v : operands) {
    FailureOr<Visibility> j = joinVisibility(vis, typeOf(v).getVisibility());
    vis = succeeded(j) ? *j : Visibility::shared;
  }
  return vis;
}

static SmallVector<int64_t> broadcastShape(ArrayRef<int64_t> a,
                                           ArrayRef<int64_t> b) {
  SmallVector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[out.size() - 1 - i] = std::max(da, db);
  }
  return out;
}

template <typename OpTy>
Value Lowering::elementwise(Value x, Value y) {
  Visibility vis = joinOf({x, y});
  x = prepare(x, vis);
  y = prepare(y, vis);
  return OpTy::create(b, loc,
                      tensorType(broadcastShape(shapeOf(x), shapeOf(y)), vis,
                                 typeOf(x).getFrac()),
                      x, y);
}

Value Lowering::truncTo(Value v, unsigned frac) {
  MpcTensorType t = typeOf(v);
  if (t.getFrac() <= frac)
    return v;
  return TruncOp::create(b, loc, t.withFrac(frac),
                         v, b.getI64IntegerAttr(t.getFrac() - frac));
}

Value Lowering::mul(Value x, Value y) {
  Visibility vis = joinOf({x, y});
  x = prepare(x, vis);
  y = prepare(y, vis);
  unsigned frac = typeOf(x).getFrac() + typeOf(y).getFrac();
  Value p = MulOp::create(
      b, loc, tensorType(broadcastShape(shapeOf(x), shapeOf(y)), vis, frac), x,
      y);
  return truncTo(p, opts.frac);
}

Value Lowering::matmul(Value x, Value y) {
  Visibility vis = joinOf({x, y});
  x = prepare(x, vis);
  y = prepare(y, vis);
  ArrayRef<int64_t> a = shapeOf(x), w = shapeOf(y);
  SmallVector<int64_t> shape =
      broadcastShape(a.drop_back(2), w.drop_back(2));
  shape.push_back(a[a.size() - 2]);
  shape.push_back(w.back());
  unsigned frac = typeOf(x).getFrac() + typeOf(y).getFrac();
  Value p = MatMulOp::create(b, loc, tensorType(shape, vis, frac), x, y);
  return truncTo(p, opts.frac);
}

Value Lowering::drelu(Value x) {
  return DReluOp::create(b, loc, typeOf(x).withFrac(0), x);
}

/// f(x) = ReLU(x) - [|x| < T] * g(|x|) (Approximations.h): one ReLU, one
/// comparison, one truncation for the polynomial's variable, the
/// polynomial, one product with the comparison bit.
Value Lowering::reluCorrected(Value x, const ReluCorrection &r) {
  Value relu = ReluOp::create(b, loc, x);
  Value abs = sub(add(relu, relu), x);
  Value inside = drelu(sub(publicScalar(r.threshold), abs));
  const ScaledPolynomial &p = r.correction;
  Value u = scale(sub(abs, publicScalar(p.center)), 1.0 / p.halfWidth);
  Value g = PolyOp::create(b, loc, u, b.getDenseF64ArrayAttr(p.coefficients));
  return sub(relu, mul(inside, g));
}

Value Lowering::reduceSum(Value x, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(shapeOf(x));
  for (int64_t a : axes)
    shape[a] = 1;
  return ReduceSumOp::create(b, loc, typeOf(x).withShape(shape), x,
                             b.getDenseI64ArrayAttr(axes),
                             b.getBoolAttr(true));
}

Lowering::CausalMask Lowering::causalMask(ArrayRef<int64_t> shape) {
  int64_t q = shape[shape.size() - 2], k = shape.back();
  SmallVector<float> keep(q * k), fill(q * k);
  for (int64_t i = 0; i < q; ++i)
    for (int64_t j = 0; j < k; ++j) {
      bool kept = j <= i + k - q;
      keep[i * k + j] = kept ? 1.0f : 0.0f;
      fill[i * k + j] = kept ? 0.0f : static_cast<float>(opts.maskedScore);
    }
  auto ty = RankedTensorType::get({q, k}, b.getF32Type());
  return {publicConstant(DenseElementsAttr::get(ty, ArrayRef<float>(keep)), 0),
          publicConstant(DenseElementsAttr::get(ty, ArrayRef<float>(fill)),
                         opts.frac)};
}

/// softmax along `axis`; with a causal `mask` masked positions get weight
/// exactly 0.
Value Lowering::softmax(Value x, int64_t axis, const CausalMask *mask) {
  int64_t rank = shapeOf(x).size();
  if (axis < 0)
    axis += rank;
  int64_t n = shapeOf(x)[axis];
  Value scores = mask ? applyMask(x, *mask) : x;
  SmallVector<int64_t> rowShape(shapeOf(scores));
  rowShape[axis] = 1;
  Value max = MaxOp::create(b, loc, typeOf(scores).withShape(rowShape), scores,
                            b.getI64IntegerAttr(axis));
  Value e = ExpOp::create(b, loc, sub(scores, max),
                          b.getI64IntegerAttr(opts.expSquarings));
  if (mask)
    e = mul(mask->keep, e);
  Value sum = reduceSum(e, {axis});
  Value inv = ReciprocalOp::create(b, loc, sum, b.getF64FloatAttr(0.5),
                                   b.getF64FloatAttr(static_cast<double>(n)),
                                   b.getI64IntegerAttr(0));
  return mul(e, inv);
}

LogicalResult Lowering::lowerNorm(Operation *op, Value x, int64_t axis,
                                  double eps, Value scaleV, Value biasV,
                                  bool subtractMean) {
  int64_t rank = shapeOf(x).size();
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> axes;
  int64_t n = 1;
  for (int64_t a = axis; a < rank; ++a) {
    axes.push_back(a);
    n *= shapeOf(x)[a];
  }
  Value d = x;
  if (subtractMean)
    d = sub(x, scale(reduceSum(x, axes), 1.0 / n));
  Value var = scale(reduceSum(mul(d, d), axes), 1.0 / n);
  Value r = RsqrtOp::create(b, loc, add(var, publicScalar(eps)),
                            b.getF64FloatAttr(std::max(eps, 1e-6)),
                            b.getF64FloatAttr(opts.varianceMax + eps),
                            b.getI64IntegerAttr(0));
  Value y = mul(d, r);
  if (scaleV)
    y = mul(y, scaleV);
  if (biasV)
    y = add(y, biasV);
  lowered[op->getResult(0)] = y;
  return success();
}

LogicalResult Lowering::lowerEmbedding(tfm::EmbeddingOp op) {
  auto ids = dyn_cast<BlockArgument>(op.getIds());
  if (!ids)
    return op.emitOpError("looks up ids computed inside the model; only ids "
                          "that are a model input (the client's tokens) are "
                          "supported");
  FailureOr<Value> table = get(op.getTable());
  if (failed(table))
    return failure();
  int64_t vocab = shapeOf(op.getTable())[0];
  SmallVector<int64_t> shape(shapeOf(ids));
  shape.push_back(vocab);
  Value oneHot = OneHotOp::create(
      b, loc, tensorType(shape, visibilityOf(ids), 0), ids,
      b.getI64IntegerAttr(vocab));
  lowered[op.getResult()] = matmul(oneHot, *table);
  return success();
}

FailureOr<Value> Lowering::lowerWhere(tfm::WhereOp op) {
  std::optional<SmallVector<double>> cond = getConstantValues(op.getCondition());
  if (!cond)
    return op.emitOpError("selects by a computed condition, which has no MPC "
                          "lowering yet; only public constant masks are "
                          "supported");
  auto condTy = cast<RankedTensorType>(op.getCondition().getType());
  SmallVector<float> m(cond->begin(), cond->end());
  Value mask = publicConstant(
      DenseElementsAttr::get(
          RankedTensorType::get(condTy.getShape(), b.getF32Type()),
          ArrayRef<float>(m)),
      0);
  FailureOr<Value> a = get(op.getOnTrue()), c = get(op.getOnFalse());
  if (failed(a) || failed(c))
    return failure();
  // where(m, a, c) = c + m * (a - c): local when m is public.
  return add(*c, mul(mask, sub(*a, *c)));
}

static LogicalResult noLowering(Operation *op) {
  return op->emitOpError()
         << "has no MPC lowering (supported: linear algebra, elementwise "
            "add/sub/mul/max, division by constants, relu, gelu, silu, "
            "softmax, causal masks, layer_norm, rms_norm, 1/sqrt of a "
            "variance, embedding, reductions and shape ops; run tfm-fuse "
            "first)";
}

/// eps when `x` is reduce_mean(d * d) + eps, a variance plus a positive
/// constant (what the importer computes for LayerNormalization's InvStdDev
/// output): then 1 / sqrt(x) is an rsqrt on the norms' range.
static std::optional<double> varianceEpsilon(Value x) {
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
        (*eps)[0] <= 0)
      continue;
    return (*eps)[0];
  }
  return std::nullopt;
}

LogicalResult Lowering::lower(Operation *op) {
  loc = op->getLoc();
  auto operand = [&](unsigned i) { return get(op->getOperand(i)); };
  auto unary = [&](auto build) -> LogicalResult {
    FailureOr<Value> x = operand(0);
    if (failed(x))
      return failure();
    lowered[op->getResult(0)] = build(*x);
    return success();
  };
  auto binary = [&](auto build) -> LogicalResult {
    FailureOr<Value> x = operand(0), y = operand(1);
    if (failed(x) || failed(y))
      return failure();
    lowered[op->getResult(0)] = build(*x, *y);
    return success();
  };
  auto resultShape = [&] { return shapeOf(op->getResult(0)); };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<arith::ConstantOp>([](auto) { return success(); }) // lazily
      .Case<tfm::AddOp>([&](auto) {
        return binary([&](Value x, Value y) { return add(x, y); });
      })
      .Case<tfm::SubOp>([&](auto) {
        return binary([&](Value x, Value y) { return sub(x, y); });
      })
      .Case<tfm::MulOp>([&](auto) {
        return binary([&](Value x, Value y) { return mul(x, y); });
      })
      .Case<tfm::DivOp>([&](tfm::DivOp div) -> LogicalResult {
        std::optional<SmallVector<double>> d = getConstantValues(div.getRhs());
        if (!d || llvm::is_contained(*d, 0.0))
          return div.emitOpError("divides by a value that is not a non-zero "
                                 "constant; only constant divisors are "
                                 "supported outside softmax and "
                                 "normalisations");
        auto ty = cast<RankedTensorType>(div.getRhs().getType());
        SmallVector<float> inv;
        for (double v : *d)
          inv.push_back(static_cast<float>(1.0 / v));
        Value r = publicConstant(
            DenseElementsAttr::get(
                RankedTensorType::get(ty.getShape(), b.getF32Type()),
                ArrayRef<float>(inv)),
            opts.frac);
        return unary([&](Value x) { return mul(x, r); });
      })
      .Case<tfm::MaxOp>([&](auto) {
        // max(x, y) = y + relu(x - y): one comparison and one product.
        return binary([&](Value x, Value y) -> Value {
          Value d = sub(x, y);
          return add(y, ReluOp::create(b, loc, d));
        });
      })
      .Case<tfm::CastOp>([&](tfm::CastOp c) -> LogicalResult {
        // Between float types a fixed-point value is unchanged (f16/f32/f64
        // differ only in precision beyond or rounding within frac bits).
        auto in = cast<RankedTensorType>(c.getInput().getType());
        auto out = cast<RankedTensorType>(c.getType());
        if (!isa<FloatType>(in.getElementType()) ||
            !isa<FloatType>(out.getElementType()))
          return c.emitOpError("converts ")
                 << in.getElementType() << " to " << out.getElementType()
                 << ", which has no MPC lowering (only float to float)";
        return unary([&](Value x) { return x; });
      })
      .Case<tfm::SqrtOp>([&](tfm::SqrtOp sq) -> LogicalResult {
        // Only under a reciprocal, which lowers the pair (see below).
        if (!sq->use_empty() && varianceEpsilon(sq.getInput()) &&
            llvm::all_of(sq->getUsers(), [](Operation *u) {
              return isa<tfm::ReciprocalOp>(u);
            }))
          return success();
        return noLowering(sq);
      })
      .Case<tfm::ReciprocalOp>([&](tfm::ReciprocalOp r) -> LogicalResult {
        // 1 / sqrt(variance + eps): rsqrt on [eps, variance-max + eps],
        // the range the norms use.
        auto sq = r.getInput().getDefiningOp<tfm::SqrtOp>();
        std::optional<double> eps =
            sq ? varianceEpsilon(sq.getInput()) : std::nullopt;
        if (!eps)
          return noLowering(r);
        FailureOr<Value> x = get(sq.getInput());
        if (failed(x))
          return failure();
        lowered[r.getResult()] = RsqrtOp::create(
            b, loc, *x, b.getF64FloatAttr(std::max(*eps, 1e-6)),
            b.getF64FloatAttr(opts.varianceMax + *eps), b.getI64IntegerAttr(0));
        return success();
      })
      .Case<tfm::NegOp>([&](auto) {
        return unary([&](Value x) -> Value { return NegOp::create(b, loc, x); });
      })
      .Case<tfm::MatMulOp>([&](auto) {
        return binary([&](Value x, Value y) { return matmul(x, y); });
      })
      .Case<tfm::LinearOp>([&](tfm::LinearOp lin) -> LogicalResult {
        FailureOr<Value> x = get(lin.getInput()), w = get(lin.getWeight());
        if (failed(x) || failed(w))
          return failure();
        Value y = matmul(*x, *w);
        if (lin.getBias()) {
          FailureOr<Value> bias = get(lin.getBias());
          if (failed(bias))
            return failure();
          y = add(y, *bias);
        }
        lowered[lin.getResult()] = y;
        return success();
      })
      .Case<tfm::ReluOp>([&](auto) {
        return unary([&](Value x) -> Value { return ReluOp::create(b, loc, x); });
      })
      .Case<tfm::GeluOp>([&](tfm::GeluOp g) {
        const ReluCorrection &r =
            g.getApproximation() == tfm::GeluApproximation::tanh ? opts.geluTanh
                                                                 : opts.gelu;
        return unary([&](Value x) { return reluCorrected(x, r); });
      })
      .Case<tfm::SiluOp>([&](auto) {
        return unary([&](Value x) { return reluCorrected(x, opts.silu); });
      })
      .Case<tfm::SoftmaxOp>([&](tfm::SoftmaxOp sm) -> LogicalResult {
        Value input = sm.getInput();
        int64_t rank = shapeOf(input).size();
        int64_t axis = static_cast<int64_t>(sm.getAxis());
        std::optional<CausalMask> mask;
        if (auto causal = input.getDefiningOp<tfm::CausalMaskOp>();
            causal && (axis == -1 || axis == rank - 1)) {
          input = causal.getInput();
          mask = causalMask(shapeOf(input));
        }
        FailureOr<Value> x = get(input);
        if (failed(x))
          return failure();
        lowered[sm.getResult()] = softmax(*x, axis, mask ? &*mask : nullptr);
        return success();
      })
      .Case<tfm::CausalMaskOp>([&](tfm::CausalMaskOp cm) -> LogicalResult {
        // A softmax over the keys consumes the mask itself.
        if (llvm::all_of(cm->getUsers(),
                         [](Operation *u) { return isa<tfm::SoftmaxOp>(u); }))
          return success();
        CausalMask mask = causalMask(resultShape());
        return unary([&](Value x) { return applyMask(x, mask); });
      })
      .Case<tfm::LayerNormOp>([&](tfm::LayerNormOp ln) -> LogicalResult {
        FailureOr<Value> x = get(ln.getInput());
        Value s, bias;
        if (failed(x))
          return failure();
        if (ln.getScale()) {
          FailureOr<Value> v = get(ln.getScale());
          if (failed(v))
            return failure();
          s = *v;
        }
        if (ln.getBias()) {
          FailureOr<Value> v = get(ln.getBias());
          if (failed(v))
            return failure();
          bias = *v;
        }
        return lowerNorm(ln, *x, static_cast<int64_t>(ln.getAxis()),
                         ln.getEpsilon().convertToDouble(), s, bias,
                         /*subtractMean=*/true);
      })
      .Case<tfm::RmsNormOp>([&](tfm::RmsNormOp rn) -> LogicalResult {
        FailureOr<Value> x = get(rn.getInput());
        Value s;
        if (failed(x))
          return failure();
        if (rn.getScale()) {
          FailureOr<Value> v = get(rn.getScale());
          if (failed(v))
            return failure();
          s = *v;
        }
        return lowerNorm(rn, *x, -1, rn.getEpsilon().convertToDouble(), s,
                         Value(), /*subtractMean=*/false);
      })
      .Case<tfm::EmbeddingOp>(
          [&](tfm::EmbeddingOp e) { return lowerEmbedding(e); })
      .Case<tfm::WhereOp>([&](tfm::WhereOp w) -> LogicalResult {
        FailureOr<Value> v = lowerWhere(w);
        if (failed(v))
          return failure();
        lowered[w.getResult()] = *v;
        return success();
      })
      .Case<tfm::ReduceSumOp, tfm::ReduceMeanOp>([&](auto r) -> LogicalResult {
        int64_t rank = shapeOf(r.getInput()).size();
        SmallVector<int64_t> axes;
        int64_t n = 1;
        for (int64_t a : r.getAxes()) {
          axes.push_back(a < 0 ? a + rank : a);
          n *= shapeOf(r.getInput())[axes.back()];
        }
        bool mean = isa<tfm::ReduceMeanOp>(r.getOperation());
        return unary([&](Value x) {
          Value s = reduceSum(x, axes);
          if (mean)
            s = scale(s, 1.0 / n);
          if (!r.getKeepdims())
            s = ReshapeOp::create(b, loc, typeOf(s).withShape(resultShape()),
                                  s);
          return s;
        });
      })
      .Case<tfm::ReduceMaxOp>([&](tfm::ReduceMaxOp r) -> LogicalResult {
        // Several axes: one row maximum per axis, in turn.
        int64_t rank = shapeOf(r.getInput()).size();
        return unary([&](Value x) -> Value {
          Value m = x;
          for (int64_t a : r.getAxes()) {
            int64_t axis = a < 0 ? a + rank : a;
            SmallVector<int64_t> kept(shapeOf(m));
            kept[axis] = 1;
            m = MaxOp::create(b, loc, typeOf(m).withShape(kept), m,
                              b.getI64IntegerAttr(axis));
          }
          if (shapeOf(m) != resultShape())
            m = ReshapeOp::create(b, loc, typeOf(m).withShape(resultShape()),
                                  m);
          return m;
        });
      })
      .Case<tfm::GatherOp>([&](tfm::GatherOp g) -> LogicalResult {
        // Constant indices are public data movement: one slice per index,
        // concatenated, then shaped like the result.
        std::optional<SmallVector<double>> idx =
            getConstantValues(g.getIndices());
        if (!idx || idx->empty())
          return g.emitOpError("gathers by indices computed from the "
                               "inputs, which has no MPC lowering; only "
                               "constant indices are supported");
        FailureOr<Value> x = get(g.getData());
        if (failed(x))
          return failure();
        SmallVector<int64_t> shape(shapeOf(*x));
        int64_t rank = shape.size();
        int64_t axis = g.getAxis() < 0 ? g.getAxis() + rank : g.getAxis();
        SmallVector<Value> parts;
        SmallVector<int64_t> one(shape), strides(rank, 1);
        one[axis] = 1;
        for (double v : *idx) {
          SmallVector<int64_t> offsets(rank, 0);
          offsets[axis] = v < 0 ? static_cast<int64_t>(v) + shape[axis]
                                : static_cast<int64_t>(v);
          parts.push_back(SliceOp::create(b, loc, typeOf(*x).withShape(one),
                                          *x, offsets, strides));
        }
        Value y = parts.front();
        if (parts.size() > 1) {
          SmallVector<int64_t> cat(shape);
          cat[axis] = parts.size();
          y = ConcatOp::create(b, loc, typeOf(*x).withShape(cat), parts,
                               b.getI64IntegerAttr(axis));
        }
        lowered[g.getResult()] =
            ReshapeOp::create(b, loc, typeOf(y).withShape(resultShape()), y);
        return success();
      })
      .Case<tfm::ReshapeOp>([&](auto) {
        return unary([&](Value x) -> Value {
          return ReshapeOp::create(b, loc, typeOf(x).withShape(resultShape()),
                                   x);
        });
      })
      .Case<tfm::ExpandOp>([&](auto) {
        return unary([&](Value x) -> Value {
          return BroadcastOp::create(b, loc,
                                     typeOf(x).withShape(resultShape()), x);
        });
      })
      .Case<tfm::TransposeOp>([&](tfm::TransposeOp t) {
        return unary([&](Value x) -> Value {
          return TransposeOp::create(b, loc,
                                     typeOf(x).withShape(resultShape()), x,
                                     t.getPermutationAttr());
        });
      })
      .Case<tfm::SliceOp>([&](tfm::SliceOp s) {
        return unary([&](Value x) -> Value {
          return SliceOp::create(b, loc, typeOf(x).withShape(resultShape()),
                                 x, s.getOffsetsAttr(), s.getStridesAttr());
        });
      })
      .Case<tfm::ConcatOp>([&](tfm::ConcatOp c) -> LogicalResult {
        SmallVector<Value> inputs;
        for (Value in : c.getInputs()) {
          FailureOr<Value> v = get(in);
          if (failed(v))
            return failure();
          inputs.push_back(*v);
        }
        Visibility vis = joinOf(inputs);
        for (Value &v : inputs)
          v = prepare(v, vis);
        lowered[c.getResult()] = ConcatOp::create(
            b, loc, tensorType(resultShape(), vis, opts.frac), inputs,
            c.getAxisAttr());
        return success();
      })
      .Default([&](Operation *other) { return noLowering(other); });
}

LogicalResult Lowering::lowerFunction(func::FuncOp func) {
  Block &entry = func.getBody().front();
  SmallVector<Operation *> originals;
  for (Operation &op : entry.without_terminator())
    originals.push_back(&op);
  b.setInsertionPointToStart(&entry);
  // Real-valued arguments are encoded by their holder.
  for (BlockArgument arg : entry.getArguments()) {
    auto ty = dyn_cast<RankedTensorType>(arg.getType());
    if (ty && isa<FloatType>(ty.getElementType()))
      lowered[arg] = EncodeOp::create(
          b, arg.getLoc(),
          tensorType(ty.getShape(), visibilityOf(arg), opts.frac), arg);
  }
  for (Operation *op : originals) {
    b.setInsertionPoint(op);
    if (failed(lower(op)))
      return failure();
  }
  // Results go to the client, and nothing else is revealed.
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  b.setInsertionPoint(ret);
  loc = ret.getLoc();
  SmallVector<Value> results;
  for (Value r : ret.getOperands()) {
    FailureOr<Value> v = get(r);
    if (failed(v))
      return failure();
    Value out = *v;
    if (typeOf(out).getVisibility() == Visibility::owner)
      out = prepare(out, Visibility::shared);
    if (typeOf(out).isShared())
      out = RevealOp::create(
          b, loc, typeOf(out).withVisibility(Visibility::client), out,
          RevealTargetAttr::get(b.getContext(), RevealTarget::client),
          b.getStringAttr("model output"));
    results.push_back(out);
  }
  func::ReturnOp::create(b, loc, results);
  ret.erase();
  // The original ops are dead now; constants stay while encodes use them.
  for (Operation *op : llvm::reverse(originals))
    if (op->use_empty())
      op->erase();
  func.setFunctionType(b.getFunctionType(
      func.getArgumentTypes(), ValueRange(results).getTypes()));
  return success();
}

struct ConvertTfmToMpc : umbra::impl::ConvertTfmToMpcBase<ConvertTfmToMpc> {
  using ConvertTfmToMpcBase::ConvertTfmToMpcBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (fracBits < 1 || fracBits > 24) {
      emitError(module.getLoc(), "frac-bits must be between 1 and 24, got ")
          << static_cast<unsigned>(fracBits);
      return signalPassFailure();
    }
    Options opts;
    opts.frac = fracBits;
    opts.expSquarings = expSquarings;
    opts.maskedScore = maskedScore;
    opts.varianceMax = varianceMax;
    for (double t : {geluThreshold.getValue(), siluThreshold.getValue()})
      if (!(t > 0 && t <= 64)) {
        emitError(module.getLoc(), "activation thresholds must be in (0, 64], got ") << t;
        return signalPassFailure();
      }
    for (unsigned d : {geluDegree.getValue(), siluDegree.getValue()})
      if (d < 1 || d > 16) {
        emitError(module.getLoc(), "activation polynomial degrees must be in [1, 16], "
                         "got ")
            << d;
        return signalPassFailure();
      }
    opts.gelu = fitReluCorrection(gelu, geluThreshold, geluDegree);
    opts.geluTanh = fitReluCorrection(geluTanh, geluThreshold, geluDegree);
    opts.silu = fitReluCorrection(silu, siluThreshold, siluDegree);

    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(module, solver, publicWeights)))
      return signalPassFailure();
    OpBuilder b(&getContext());
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError("functions with control flow are not supported");
        return signalPassFailure();
      }
      Lowering lowering(solver, opts, b);
      if (failed(lowering.lowerFunction(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
