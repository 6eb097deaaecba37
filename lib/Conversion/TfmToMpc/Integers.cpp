//===- Integers.cpp - integer and bool values, casts, argmax --------------===//
//
// Integers are ring elements at 0 fractional bits and bools the 0/1
// integers, so integer add/sub/neg are the local ring operations, a product
// of two integers is exact (frac 0 + 0: no truncation), and comparisons,
// max and abs are the real lowerings' gates on frac-0 operands. Here: the
// logic ops as arithmetic on bits (and = ab, or = a + b - ab,
// xor = a + b - 2ab, not = 1 - a), sign from the two comparison bits of
// [x; -x], casts between integers, bools and reals (a float to an integer
// truncates toward zero exactly: sign times the exact floor of |x|), and argmax as the runtime's
// tree of comparisons whose bits also select the indices (`mpc.argmax`).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static bool isRealType(Type t) {
  return isa<FloatType>(cast<ShapedType>(t).getElementType());
}

std::pair<Value, Value> umbra::mpc::signBits(FixedPointBuilder &fx, Value d) {
  SmallVector<Value> bits =
      dreluAll(fx, {d, NegOp::create(fx.builder(), fx.loc, d)});
  return {bits[0], bits[1]};
}

Value umbra::mpc::toReal(FixedPointBuilder &fx, Value x) {
  unsigned have = FixedPointBuilder::typeOf(x).getFrac();
  if (have >= fx.workingFrac())
    return x;
  // x * 2^(f - have): a product by a public power of two, exact and local.
  return fx.mulTo(x, fx.scalar(1.0, fx.workingFrac() - have), ~0u);
}

/// The ONNX cast of a real to an integer: truncation toward zero,
/// sign(x) * floor(|x|) with one comparison for the sign.
Value umbra::mpc::truncTowardZero(FixedPointBuilder &fx, Value x) {
  Value s = fx.drelu(x); // [x >= 0]
  Value pm = fx.sub(fx.add(s, s), fx.scalar(1.0, 0)); // +1 or -1
  Value mag = fx.mulTo(x, pm, ~0u); // |x|, exact (a unit times a real)
  return fx.mulTo(floorInt(fx, mag), pm, 0);
}

static LogicalResult lowerCast(Lowering &l, tfm::CastOp c) {
  Type inElt = cast<RankedTensorType>(c.getInput().getType()).getElementType();
  Type outElt = cast<RankedTensorType>(c.getType()).getElementType();
  bool inReal = isa<FloatType>(inElt), outReal = isa<FloatType>(outElt);
  bool outBool = outElt.isInteger(1);
  return l.unary(c, [&](Value x) -> Value {
    FixedPointBuilder &fx = l.fx;
    if (outBool) {
      if (inElt.isInteger(1))
        return x;
      // x != 0 = 1 - [x >= 0][-x >= 0] = 1 - ([x >= 0] + [-x >= 0] - 1).
      auto [ge, le] = signBits(fx, x);
      return fx.sub(fx.scalar(2.0, 0), fx.add(ge, le));
    }
    if (outReal)
      return inReal ? x : toReal(fx, x); // between floats: unchanged
    if (inReal) // a real at 0 fractional bits (one-hot rows) is integral
      return FixedPointBuilder::typeOf(x).getFrac() == 0
                 ? x
                 : truncTowardZero(fx, x);
    // Between integer types (and bool to integer): the same ring element;
    // the output's type keeps its low bits when it is written.
    return x;
  });
}

static Value lowerLogic(FixedPointBuilder &fx, Operation *op, Value a,
                        Value b) {
  Value ab = fx.mulTo(a, b, 0);
  if (isa<tfm::AndOp>(op))
    return ab;
  Value sum = fx.add(a, b);
  if (isa<tfm::OrOp>(op))
    return fx.sub(sum, ab);
  return fx.sub(sum, fx.add(ab, ab)); // xor
}

static LogicalResult lowerArgMax(Lowering &l, tfm::ArgMaxOp op) {
  int64_t axis = static_cast<int64_t>(op.getAxis());
  return l.unary(op, [&](Value x) -> Value {
    FixedPointBuilder &fx = l.fx;
    OpBuilder &b = fx.builder();
    MpcTensorType t = FixedPointBuilder::typeOf(x);
    SmallVector<int64_t> shape(t.getShape());
    int64_t n = shape[axis];
    if (op.getSelectLastIndex() && n > 1) {
      // The last maximum is the first of the reversed axis: n - 1 - i.
      SmallVector<Value> parts;
      SmallVector<int64_t> one(shape), strides(shape.size(), 1);
      one[axis] = 1;
      for (int64_t j = n - 1; j >= 0; --j) {
        SmallVector<int64_t> off(shape.size(), 0);
        off[axis] = j;
        parts.push_back(SliceOp::create(b, fx.loc, t.withShape(one), x, off,
                                        strides));
      }
      x = ConcatOp::create(b, fx.loc, t, parts, b.getI64IntegerAttr(axis));
    }
    SmallVector<int64_t> kept(shape);
    kept[axis] = 1;
    Value i = ArgMaxOp::create(b, fx.loc, t.withShape(kept).withFrac(0), x,
                               b.getI64IntegerAttr(axis));
    if (op.getSelectLastIndex() && n > 1)
      i = fx.sub(fx.scalar(double(n - 1), 0), i);
    if (FixedPointBuilder::shapeOf(i) != Lowering::resultShape(op))
      i = fx.reshape(i, Lowering::resultShape(op));
    return i;
  });
}

void umbra::mpc::populateIntegerLowerings(LoweringSet &set) {
  set.add<tfm::CastOp>(lowerCast);
  auto logic = [](Lowering &l, Operation *op) {
    return l.binary(
        op, [&](Value a, Value b) { return lowerLogic(l.fx, op, a, b); });
  };
  set.add<tfm::AndOp>([logic](Lowering &l, tfm::AndOp op) { return logic(l, op); });
  set.add<tfm::OrOp>([logic](Lowering &l, tfm::OrOp op) { return logic(l, op); });
  set.add<tfm::XorOp>([logic](Lowering &l, tfm::XorOp op) { return logic(l, op); });
  set.add<tfm::NotOp>([](Lowering &l, tfm::NotOp op) {
    return l.unary(op, [&](Value x) {
      return l.fx.sub(l.fx.scalar(1.0, 0), x);
    });
  });
  set.add<tfm::SignOp>([](Lowering &l, tfm::SignOp op) {
    bool real = isRealType(op.getType());
    return l.unary(op, [&](Value x) {
      // sign(x) = [x >= 0] - [-x >= 0]: one gate on [x; -x].
      auto [ge, le] = signBits(l.fx, x);
      Value s = l.fx.sub(ge, le);
      return real ? toReal(l.fx, s) : s;
    });
  });
  set.add<tfm::ArgMaxOp>(lowerArgMax);
}
