//===- FixedPointBuilder.cpp - mpc values with consistent precision -------===//
#include "FixedPointBuilder.h"

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/IR/Provenance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>

using namespace mlir;
using namespace umbra::mpc;

ArrayRef<int64_t> FixedPointBuilder::shapeOf(Value v) {
  if (auto t = dyn_cast<MpcTensorType>(v.getType()))
    return t.getShape();
  return cast<ShapedType>(v.getType()).getShape();
}

/// public < client/owner < shared; client with owner needs MPC (shared).
Visibility FixedPointBuilder::joinOf(ArrayRef<Value> operands) {
  Visibility vis = Visibility::public_;
  for (Value v : operands) {
    FailureOr<Visibility> j = joinVisibility(vis, typeOf(v).getVisibility());
    vis = succeeded(j) ? *j : Visibility::shared;
  }
  return vis;
}

Value FixedPointBuilder::encode(Value floatTensor, Visibility vis,
                                unsigned frac) {
  if (frac == ~0u)
    frac = this->frac;
  OpBuilder::InsertionGuard guard(b);
  Location at = floatTensor.getLoc();
  // A constant is encoded where it is defined; arguments in order at the
  // current point (the start of the function).
  if (Operation *def = floatTensor.getDefiningOp())
    b.setInsertionPointAfter(def);
  auto ty = cast<RankedTensorType>(floatTensor.getType());
  return EncodeOp::create(b, at, tensorType(ty.getShape(), vis, frac),
                          floatTensor);
}

Value FixedPointBuilder::constant(DenseElementsAttr value, unsigned frac,
                                  Visibility vis, ValueRange from) {
  SmallVector<DictionaryAttr> all;
  for (Value f : from)
    all.push_back(getSources(f));
  DictionaryAttr sources =
      from.empty() ? toSources(b.getContext(),
                               {{kCompilerSource.str(), kLiteralOrigin.str()}})
                   : unionSources(b.getContext(), all);
  Value &v = constants[{value, sources,
                        frac | static_cast<unsigned>(vis) << 16}];
  if (!v) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(b.getInsertionBlock());
    auto cst = arith::ConstantOp::create(b, loc, value);
    // Declared, like every constant: the lowering never leaves a guess.
    cst->setAttr(kVisibilityAttrName, VisibilityAttr::get(b.getContext(), vis));
    setSources(cst, sources);
    v = EncodeOp::create(
        b, loc, tensorType(value.getType().getShape(), vis, frac), cst);
  }
  return v;
}

Value FixedPointBuilder::scalar(double c, unsigned frac) {
  auto ty = RankedTensorType::get({}, b.getF32Type());
  return constant(DenseElementsAttr::get(ty, static_cast<float>(c)),
                  frac == ~0u ? this->frac : frac);
}

unsigned FixedPointBuilder::factorFrac(ArrayRef<double> values) const {
  double largest = 0;
  for (double v : values)
    largest = std::max(largest, std::fabs(v));
  if (largest == 0 || !std::isfinite(largest))
    return 0;
  // At most f + 5 significant bits for the largest value (headroom).
  int cap = std::max(0, int(frac) + 4 - std::ilogb(largest));
  double tolerance = std::ldexp(1.0, -int(frac) - 4);
  for (int fc = 0; fc < cap; ++fc) {
    bool exact = llvm::all_of(values, [&](double v) {
      double encoded = std::ldexp(std::nearbyint(std::ldexp(v, fc)), -fc);
      return std::fabs(encoded - v) <= tolerance * std::fabs(v);
    });
    if (exact)
      return fc;
  }
  return cap;
}

Value FixedPointBuilder::factor(double c) {
  auto ty = RankedTensorType::get({}, b.getF64Type());
  return constant(DenseElementsAttr::get(ty, c), factorFrac(c));
}

Value FixedPointBuilder::prepare(Value v, Visibility target) {
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

Visibility FixedPointBuilder::prepareAll(MutableArrayRef<Value> values) {
  Visibility vis = joinOf(values);
  for (Value &v : values)
    v = prepare(v, vis);
  return vis;
}

static SmallVector<int64_t> broadcastShape(ArrayRef<int64_t> a,
                                           ArrayRef<int64_t> b) {
  SmallVector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[out.size() - 1 - i] = da == 1 ? db : da; // numpy: 1 stretches, 0 too
  }
  return out;
}

template <typename OpTy>
Value FixedPointBuilder::elementwise(Value x, Value y) {
  Value xy[] = {x, y};
  Visibility vis = prepareAll(xy);
  return OpTy::create(b, loc,
                      tensorType(broadcastShape(shapeOf(xy[0]), shapeOf(xy[1])),
                                 vis, typeOf(xy[0]).getFrac()),
                      xy[0], xy[1]);
}

Value FixedPointBuilder::add(Value x, Value y) {
  return elementwise<AddOp>(x, y);
}

Value FixedPointBuilder::sub(Value x, Value y) {
  return elementwise<SubOp>(x, y);
}

Value FixedPointBuilder::truncTo(Value v, unsigned frac) {
  MpcTensorType t = typeOf(v);
  if (t.getFrac() <= frac)
    return v;
  return TruncOp::create(b, loc, t.withFrac(frac), v, Value(),
                         b.getI64IntegerAttr(t.getFrac() - frac));
}

Value FixedPointBuilder::mulTo(Value x, Value y, unsigned outFrac) {
  Value xy[] = {x, y};
  Visibility vis = prepareAll(xy);
  unsigned f = typeOf(xy[0]).getFrac() + typeOf(xy[1]).getFrac();
  Value p = MulOp::create(
      b, loc,
      tensorType(broadcastShape(shapeOf(xy[0]), shapeOf(xy[1])), vis, f),
      xy[0], xy[1]);
  return truncTo(p, outFrac);
}

Value FixedPointBuilder::matmul(Value x, Value y) {
  Value xy[] = {x, y};
  Visibility vis = prepareAll(xy);
  ArrayRef<int64_t> a = shapeOf(xy[0]), w = shapeOf(xy[1]);
  SmallVector<int64_t> shape = broadcastShape(a.drop_back(2), w.drop_back(2));
  shape.push_back(a[a.size() - 2]);
  shape.push_back(w.back());
  unsigned f = typeOf(xy[0]).getFrac() + typeOf(xy[1]).getFrac();
  Value p = MatMulOp::create(b, loc, tensorType(shape, vis, f), xy[0], xy[1]);
  return truncTo(p, frac);
}

Value FixedPointBuilder::drelu(Value x) {
  return DReluOp::create(b, loc, typeOf(x).withFrac(0), x);
}

Value FixedPointBuilder::reduceSum(Value x, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(shapeOf(x));
  for (int64_t a : axes)
    shape[a] = 1;
  return ReduceSumOp::create(b, loc, typeOf(x).withShape(shape), x,
                             b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
}

Value FixedPointBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  return ReshapeOp::create(b, loc, typeOf(x).withShape(shape), x);
}
