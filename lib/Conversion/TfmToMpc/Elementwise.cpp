//===- Elementwise.cpp - elementwise arithmetic and reductions ------------===//
//
// Additions are local on shares; products go through the builder (one
// truncation each); a division by a constant is a product with its
// reciprocal, by a computed value `divide` (Functions.cpp); max(x, y) is y + relu(x - y); a comparison is a
// DReLU bit ([x < y] = 1 - [x >= y]; [x == y] = [x >= y] + [y >= x] - 1);
// a selection is c + m (a - c): local for a public mask, one product of a
// bit by a real (no truncation) for a computed one.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static LogicalResult lowerDiv(Lowering &l, tfm::DivOp div) {
  std::optional<SmallVector<double>> d = getConstantValues(div.getRhs());
  if (d && llvm::is_contained(*d, 0.0))
    return div.emitOpError("divides by a constant with a zero element");
  if (isa<IntegerType>(getElementTypeOrSelf(div.getType())))
    return lowerIntegerDiv(l, div); // exact (IntegerDivision.cpp)
  if (!d) // x / y = x * (1 / y) on the reciprocal's domain
    return l.binary(div, [&](Value x, Value y) { return divide(l, x, y); });
  auto ty = cast<RankedTensorType>(div.getRhs().getType());
  SmallVector<float> inv;
  for (double v : *d)
    inv.push_back(static_cast<float>(1.0 / v));
  // The reciprocal is held by whoever holds the divisor, and encoded as a
  // factor (public: the bits its values need; private: a fixed number).
  Visibility vis = l.visibilityOf(div.getRhs());
  SmallVector<double> invValues(inv.begin(), inv.end());
  Value r = l.fx.constant(
      DenseElementsAttr::get(
          RankedTensorType::get(ty.getShape(), l.fx.builder().getF32Type()),
          ArrayRef<float>(inv)),
      vis == Visibility::public_ ? l.fx.factorFrac(invValues)
                                 : l.fx.privateFactorFrac(),
      vis, div.getRhs());
  return l.unary(div, [&](Value x) { return l.fx.mul(x, r); });
}

static LogicalResult lowerWhere(Lowering &l, tfm::WhereOp op) {
  FailureOr<Value> a = l.get(op.getOnTrue()), c = l.get(op.getOnFalse());
  if (failed(a) || failed(c))
    return failure();
  std::optional<SmallVector<double>> cond =
      getConstantValues(op.getCondition());
  Value mask;
  if (cond) {
    // A constant mask is encoded by its holder at frac 0: public, the
    // selection is local; the owner's, it is shared (never revealed).
    auto condTy = cast<RankedTensorType>(op.getCondition().getType());
    SmallVector<float> m(cond->begin(), cond->end());
    mask = l.fx.constant(
        DenseElementsAttr::get(
            RankedTensorType::get(condTy.getShape(),
                                  l.fx.builder().getF32Type()),
            ArrayRef<float>(m)),
        0, l.visibilityOf(op.getCondition()), op.getCondition());
  } else {
    // A computed condition is a comparison's bit (frac 0).
    FailureOr<Value> bit = l.get(op.getCondition());
    if (failed(bit))
      return failure();
    mask = *bit;
  }
  // where(m, a, c) = c + m * (a - c): local when m is public, else one
  // product of a bit (frac 0) by a real, which needs no truncation.
  l.set(op.getResult(), l.fx.add(*c, l.fx.mul(mask, l.fx.sub(*a, *c))));
  return success();
}

/// The bit [x < y] = 1 - [x - y >= 0]: one comparison.
static Value lessBit(FixedPointBuilder &fx, Value x, Value y) {
  return fx.sub(fx.scalar(1.0, 0), fx.drelu(fx.sub(x, y)));
}

/// The bit [x == y] = [x - y >= 0] + [y - x >= 0] - 1: two comparisons
/// (in one gate on the stacked differences), no product.
static Value equalBit(FixedPointBuilder &fx, Value x, Value y) {
  auto [ge, le] = signBits(fx, fx.sub(x, y));
  return fx.sub(fx.add(ge, le), fx.scalar(1.0, 0));
}

/// Reductions over axes normalised to [0, rank).
template <typename OpTy>
static LogicalResult lowerReduceSum(Lowering &l, OpTy r) {
  ArrayRef<int64_t> in = FixedPointBuilder::shapeOf(r.getInput());
  int64_t rank = in.size();
  SmallVector<int64_t> axes;
  int64_t n = 1;
  for (int64_t a : r.getAxes()) {
    axes.push_back(a < 0 ? a + rank : a);
    n *= in[axes.back()];
  }
  bool mean = std::is_same_v<OpTy, tfm::ReduceMeanOp>;
  return l.unary(r, [&](Value x) {
    Value s = l.fx.reduceSum(x, axes);
    if (mean)
      s = l.fx.scale(s, 1.0 / n);
    if (!r.getKeepdims())
      s = l.fx.reshape(s, Lowering::resultShape(r));
    return s;
  });
}

static LogicalResult lowerReduceMax(Lowering &l, tfm::ReduceMaxOp r) {
  // Several axes: one row maximum per axis, in turn.
  int64_t rank = FixedPointBuilder::shapeOf(r.getInput()).size();
  OpBuilder &b = l.fx.builder();
  return l.unary(r, [&](Value x) -> Value {
    Value m = x;
    for (int64_t a : r.getAxes()) {
      int64_t axis = a < 0 ? a + rank : a;
      SmallVector<int64_t> kept(FixedPointBuilder::shapeOf(m));
      kept[axis] = 1;
      m = MaxOp::create(b, l.fx.loc,
                        FixedPointBuilder::typeOf(m).withShape(kept), m,
                        b.getI64IntegerAttr(axis));
    }
    if (FixedPointBuilder::shapeOf(m) != Lowering::resultShape(r))
      m = l.fx.reshape(m, Lowering::resultShape(r));
    return m;
  });
}

/// Operands of a sum at different fractional bits (a real at 0 bits, such
/// as one-hot rows times an integral constant, meets a real at f): the
/// lower one times the public 2^(difference), exact and local.
static void alignFracs(FixedPointBuilder &fx, Value &x, Value &y) {
  unsigned fxr = FixedPointBuilder::typeOf(x).getFrac(),
           fyr = FixedPointBuilder::typeOf(y).getFrac();
  if (fxr < fyr)
    x = fx.mulTo(x, fx.scalar(1.0, fyr - fxr), ~0u);
  else if (fyr < fxr)
    y = fx.mulTo(y, fx.scalar(1.0, fxr - fyr), ~0u);
}

void umbra::mpc::populateElementwiseLowerings(LoweringSet &set) {
  set.add<tfm::AddOp>([](Lowering &l, tfm::AddOp op) {
    return l.binary(op, [&](Value x, Value y) {
      alignFracs(l.fx, x, y);
      return l.fx.add(x, y);
    });
  });
  set.add<tfm::SubOp>([](Lowering &l, tfm::SubOp op) {
    return l.binary(op, [&](Value x, Value y) {
      alignFracs(l.fx, x, y);
      return l.fx.sub(x, y);
    });
  });
  set.add<tfm::MulOp>([](Lowering &l, tfm::MulOp op) {
    // Constant operands are factors: encoded with the bits they need.
    FailureOr<Value> x = l.getFactor(op.getLhs()), y = l.getFactor(op.getRhs());
    if (failed(x) || failed(y))
      return failure();
    l.set(op.getResult(), l.fx.mul(*x, *y));
    return success();
  });
  set.add<tfm::DivOp>(lowerDiv);
  set.add<tfm::MaxOp>([](Lowering &l, tfm::MaxOp op) {
    // max(x, y) = y + relu(x - y): one comparison and one product.
    return l.binary(op, [&](Value x, Value y) -> Value {
      Value d = l.fx.sub(x, y);
      return l.fx.add(y, ReluOp::create(l.fx.builder(), l.fx.loc, d));
    });
  });
  set.add<tfm::NegOp>([](Lowering &l, tfm::NegOp op) {
    return l.unary(op, [&](Value x) -> Value {
      return NegOp::create(l.fx.builder(), l.fx.loc, x);
    });
  });
  set.add<tfm::WhereOp>(lowerWhere);
  set.add<tfm::LessOp>([](Lowering &l, tfm::LessOp op) {
    return l.binary(op, [&](Value x, Value y) { return lessBit(l.fx, x, y); });
  });
  set.add<tfm::EqualOp>([](Lowering &l, tfm::EqualOp op) {
    return l.binary(op,
                    [&](Value x, Value y) { return equalBit(l.fx, x, y); });
  });
  set.add<tfm::ReduceSumOp>(lowerReduceSum<tfm::ReduceSumOp>);
  set.add<tfm::ReduceMeanOp>(lowerReduceSum<tfm::ReduceMeanOp>);
  set.add<tfm::ReduceMaxOp>(lowerReduceMax);
}
