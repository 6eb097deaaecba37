//===- IntegerDivision.cpp - exact integer division, mod, powers, shifts --===//
//
// Integers are ring elements at 0 fractional bits (Integers.cpp). Here the
// ops that need more than ring arithmetic and a comparison, all exact on
// their stated domains (docs/import.md, "Integer division, powers and
// shifts"):
//
// * Division and Mod of integers: restoring long division of |a| by |b|
//   over k quotient bits, one comparison and one product per bit
//   (r - 2^i |b| >= 0 sets bit i). Its shifted divisor 2^(k-1) |b| must
//   stay inside the signed ring: k = w for w <= 32-bit types (every value
//   of the type), and |a|, |b| < 2^31 for 64-bit ones (k = 31). The signs
//   follow ONNX: Div truncates toward zero, Mod takes the divisor's sign
//   (fmod: the dividend's). a / 0 gives +-(2^k - 1) and a mod 0 gives a.
// * Float fmod: a - b trunc(a / b) with the fixed-point division (the
//   domain of `divide`) and the exact truncation toward zero.
// * Pow with an integer exponent e: a one-hot of e over [0, kMaxExponent]
//   (one stacked comparison) selects among x^0 .. x^kMaxExponent (products
//   by levels, exact ring products for an integer base, so the result
//   wraps like numpy's; mpc-run writes integer outputs through doubles,
//   exact below 2^53). A float base with a signed exponent takes the
//   reciprocal of x^|e| for e < 0. An integer base with a float exponent y:
//   x^floor(y) exactly, times x^(y - floor(y)) = exp(frac * log x) when the
//   fraction is not 0, truncated toward zero (ONNX casts the float power).
// * BitShift of unsigned w-bit x by s: a one-hot of s over [0, w). For
//   w <= 16, v = x 2^s (left) or x 2^(w-s) (right) by one product with the
//   selected power, then floor(v / 2^w) exactly: the right shift, or the
//   wrap-around v - 2^w floor(v / 2^w) of the left one; w = 32 the same in
//   two halves of s (products below 2^48). w = 64: x 2^s wraps in the ring
//   by itself; right, the one-hot selects among the exact floors
//   floor(x / 2^j) by public powers of two.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

/// The largest integer exponent a secret exponent may take (a larger one
/// gives 0): 63 covers every power of an integer base that is not 0 or
/// +-1 before it wraps the 64-bit ring to 0 (x even) and every power of a
/// fixed-point base whose magnitude is at least 2 and stays representable.
static constexpr int64_t kMaxExponent = 63;

static Type elementTypeOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

static Value intScalar(FixedPointBuilder &fx, double c) {
  return fx.scalar(c, 0);
}

/// `x` broadcast to `shape` (numpy rules; a move, free).
static Value broadcastTo(FixedPointBuilder &fx, Value x,
                         ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> have = FixedPointBuilder::shapeOf(x);
  if (have == shape)
    return x;
  SmallVector<int64_t> padded(shape.size() - have.size(), 1);
  padded.append(have.begin(), have.end());
  if (ArrayRef<int64_t>(padded) != have)
    x = fx.reshape(x, padded);
  if (ArrayRef<int64_t>(padded) == shape)
    return x;
  MpcTensorType t = FixedPointBuilder::typeOf(x);
  return BroadcastOp::create(fx.builder(), fx.loc, t.withShape(shape), x);
}

/// Public operands meeting a secret or private one are given that holder
/// (plus a zero of the other's holder, local): the comparisons below run
/// on shared or private values only (an all-public op folds before).
static void liftPublic(FixedPointBuilder &fx, Value &x, Value &y) {
  bool px = FixedPointBuilder::typeOf(x).getVisibility() == Visibility::public_,
       py = FixedPointBuilder::typeOf(y).getVisibility() == Visibility::public_;
  if (px && !py)
    x = fx.add(x, fx.sub(y, y));
  else if (py && !px)
    y = fx.add(y, fx.sub(x, x));
}

/// The quotient bits of the long division for integers of type `t`.
static unsigned quotientBits(IntegerType t) {
  return t.getWidth() <= 32 ? t.getWidth() : 31;
}

namespace {
struct QuotientRemainder {
  Value q, r;
};
} // namespace

/// floor(a / b) and a - b floor(a / b) for 0 <= a < 2^k and
/// 0 <= b < 2^(64-k), so that 2^(k-1) b and r - 2^i b stay inside the
/// signed ring (restoring division: k comparisons, k products; b = 0
/// gives q = 2^k - 1, r = a).
static QuotientRemainder longDivide(FixedPointBuilder &fx, Value a, Value b,
                                    unsigned k) {
  // b is secret-shared once (if a party holds it): its shifts are then local.
  Value ab[] = {a, b};
  fx.prepareAll(ab);
  b = ab[1];
  Value q, r = ab[0];
  for (int i = int(k) - 1; i >= 0; --i) {
    Value shifted = fx.mulTo(b, intScalar(fx, std::ldexp(1.0, i)), 0);
    Value bit = fx.drelu(fx.sub(r, shifted));
    r = fx.sub(r, fx.mulTo(bit, shifted, 0));
    Value add = fx.mulTo(bit, intScalar(fx, std::ldexp(1.0, i)), 0);
    q = q ? fx.add(q, add) : add;
  }
  return {q, r};
}

namespace {
/// The operands of an integer division as magnitudes, with their signs
/// (+-1). tfm integers are signless: an unsigned type's values are the
/// nonnegative ring elements below 2^w, whose signs are +1.
struct Magnitudes {
  /// |a|, |b|, b as given (broadcast), the signs and the sign bits.
  Value a, b, b0, signA, signB, bitA, bitB;
  QuotientRemainder qr;
};
} // namespace

static Magnitudes divideMagnitudes(FixedPointBuilder &fx, Value a, Value b,
                                   IntegerType t, ArrayRef<int64_t> shape) {
  Magnitudes m;
  a = broadcastTo(fx, a, shape);
  b = broadcastTo(fx, b, shape);
  m.a = a;
  m.b = b;
  m.b0 = b;
  // One stacked gate when both have one holder.
  SmallVector<Value> bits =
      FixedPointBuilder::typeOf(a).getVisibility() ==
              FixedPointBuilder::typeOf(b).getVisibility()
          ? dreluAll(fx, {a, b})
          : SmallVector<Value>{fx.drelu(a), fx.drelu(b)};
  Value one = intScalar(fx, 1.0);
  m.bitA = bits[0];
  m.bitB = bits[1];
  m.signA = fx.sub(fx.add(bits[0], bits[0]), one);
  m.signB = fx.sub(fx.add(bits[1], bits[1]), one);
  m.a = fx.mulTo(a, m.signA, 0);
  m.b = fx.mulTo(b, m.signB, 0);
  m.qr = longDivide(fx, m.a, m.b, quotientBits(t));
  return m;
}

static LogicalResult lowerDivOrMod(Lowering &l, Operation *op, bool isMod,
                                   bool fmod) {
  Value lhs = op->getOperand(0);
  Type elt = elementTypeOf(lhs);
  ArrayRef<int64_t> shape = Lowering::resultShape(op);
  if (isa<FloatType>(elt)) {
    if (!isMod)
      return failure(); // the real division has its own pattern
    // fmod(a, b) = a - b trunc(a / b).
    return l.binary(op, [&](Value a, Value b) {
      FixedPointBuilder &fx = l.fx;
      liftPublic(fx, a, b);
      Value q = truncTowardZero(fx, divide(l, a, b));
      return fx.sub(a, fx.mulTo(widen(fx, b, fx.workingFrac()), q, ~0u));
    });
  }
  auto t = cast<IntegerType>(elt);
  return l.binary(op, [&](Value a, Value b) -> Value {
    FixedPointBuilder &fx = l.fx;
    liftPublic(fx, a, b);
    Magnitudes m = divideMagnitudes(fx, a, b, t, shape);
    if (!isMod) // truncation toward zero: the signs' product times |a| / |b|
      return fx.mulTo(fx.mulTo(m.signA, m.signB, 0), m.qr.q, 0);
    Value rem = fx.mulTo(m.signA, m.qr.r, 0); // the dividend's sign
    if (fmod)
      return rem;
    // The divisor's sign: + b where the signs differ and r != 0.
    Value nonzero =
        fx.sub(intScalar(fx, 1.0),
               fx.drelu(NegOp::create(fx.builder(), fx.loc, m.qr.r)));
    // [signs differ] = a + b - 2ab on the sign bits.
    Value both = fx.mulTo(m.bitA, m.bitB, 0);
    Value differ = fx.sub(fx.add(m.bitA, m.bitB), fx.add(both, both));
    Value fix = fx.mulTo(differ, nonzero, 0);
    return fx.add(rem, fx.mulTo(fix, m.b0, 0));
  });
}

//===----------------------------------------------------------------------===//
// Powers with an integer exponent
//===----------------------------------------------------------------------===//

/// The slice [from, from + n) of `x`'s last axis.
static Value lastAxisSlice(FixedPointBuilder &fx, Value x, int64_t from,
                           int64_t n) {
  MpcTensorType t = FixedPointBuilder::typeOf(x);
  SmallVector<int64_t> shape(t.getShape()), offsets(shape.size(), 0),
      strides(shape.size(), 1);
  shape.back() = n;
  offsets.back() = from;
  return SliceOp::create(fx.builder(), fx.loc, t.withShape(shape), x, offsets,
                         strides);
}

/// `values` (one shape, one holder) stacked along a new last axis.
static Value stackLast(FixedPointBuilder &fx, ArrayRef<Value> values) {
  SmallVector<int64_t> col(FixedPointBuilder::shapeOf(values[0]));
  col.push_back(1);
  SmallVector<Value> cols;
  for (Value v : values)
    cols.push_back(fx.reshape(v, col));
  fx.prepareAll(cols);
  SmallVector<int64_t> all(col);
  all.back() = values.size();
  OpBuilder &b = fx.builder();
  return ConcatOp::create(b, fx.loc,
                          FixedPointBuilder::typeOf(cols[0]).withShape(all),
                          cols, b.getI64IntegerAttr(all.size() - 1));
}

/// sum_j onehot[..., j] * table[..., j] (no truncation: the one-hot is 0/1).
static Value pick(FixedPointBuilder &fx, Value onehot, Value table) {
  Value picked = fx.mulTo(onehot, table, ~0u);
  SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(picked));
  int64_t last = shape.size() - 1;
  shape.pop_back();
  return fx.reshape(fx.reduceSum(picked, {last}), shape);
}

/// The one-hot [e == j] of an integer `e` for j in [0, n] along a new last
/// axis (zero everywhere when e is outside): one stacked comparison.
static Value oneHot(FixedPointBuilder &fx, Value e, int64_t n) {
  SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(e));
  SmallVector<int64_t> col(shape);
  col.push_back(1);
  SmallVector<double> thresholds;
  for (int64_t j = 0; j <= n + 1; ++j)
    thresholds.push_back(double(j));
  auto ty = RankedTensorType::get({int64_t(thresholds.size())},
                                  fx.builder().getF64Type());
  Value t = fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(thresholds)),
                        0);
  Value ge = fx.drelu(fx.sub(fx.reshape(e, col), t)); // [e >= j], j = 0..n+1
  return fx.sub(lastAxisSlice(fx, ge, 0, n + 1), lastAxisSlice(fx, ge, 1, n + 1));
}

/// x^1 .. x^n along a new last axis, by levels: the level after x^1 .. x^h
/// multiplies x^1 .. x^min(h, n - h) by x^h in one product (exact ring
/// products for an integer x at frac 0, truncated fixed-point products
/// otherwise), so ceil(log2 n) products in sequence.
static Value powerTable(FixedPointBuilder &fx, Value x, int64_t n) {
  unsigned frac = FixedPointBuilder::typeOf(x).getFrac();
  SmallVector<int64_t> col(FixedPointBuilder::shapeOf(x));
  col.push_back(1);
  Value table = fx.reshape(x, col);
  OpBuilder &b = fx.builder();
  for (int64_t have = 1; have < n;) {
    int64_t count = std::min(have, n - have);
    Value next = fx.mulTo(lastAxisSlice(fx, table, 0, count),
                          lastAxisSlice(fx, table, have - 1, 1), frac);
    SmallVector<Value> parts{table, next};
    fx.prepareAll(parts);
    have += count;
    SmallVector<int64_t> all(col);
    all.back() = have;
    table = ConcatOp::create(
        b, fx.loc, FixedPointBuilder::typeOf(parts[1]).withShape(all), parts,
        b.getI64IntegerAttr(all.size() - 1));
  }
  return table;
}

/// x^e for an integer e in [0, kMaxExponent] (0 outside): the one-hot of e
/// selects among x^0 = 1 and the power table's x^1 .. x^kMaxExponent.
static Value selectPower(FixedPointBuilder &fx, Value x, Value e) {
  unsigned frac = FixedPointBuilder::typeOf(x).getFrac();
  Value oh = oneHot(fx, e, kMaxExponent);
  Value zeroth = fx.reshape(lastAxisSlice(fx, oh, 0, 1),
                            FixedPointBuilder::shapeOf(x)); // [e == 0]
  Value rest = pick(fx, lastAxisSlice(fx, oh, 1, kMaxExponent),
                    powerTable(fx, x, kMaxExponent));
  return fx.add(rest, frac ? toReal(fx, zeroth) : zeroth);
}

static LogicalResult lowerPowOf(Lowering &l, tfm::PowOp op) {
  Type baseT = elementTypeOf(op.getLhs()), expT = elementTypeOf(op.getRhs());
  ArrayRef<int64_t> shape = Lowering::resultShape(op);
  FailureOr<Value> xs = l.get(op.getLhs()), es = l.get(op.getRhs());
  if (failed(xs) || failed(es))
    return failure();
  FixedPointBuilder &fx = l.fx;
  Value x = *xs, e = *es;
  liftPublic(fx, x, e);
  x = broadcastTo(fx, x, shape);
  e = broadcastTo(fx, e, shape);
  Value one = intScalar(fx, 1.0);
  if (isa<FloatType>(baseT)) {
    // A real base: x^|e|, and 1 / x^|e| where e < 0 (tfm integers are
    // signless: every exponent may be negative).
    Value s = fx.drelu(e);
    Value sign = fx.sub(fx.add(s, s), one);
    Value p = selectPower(fx, x, fx.mulTo(e, sign, 0));
    Value inv = reciprocalOf(l, p);
    l.set(op.getResult(), fx.add(inv, fx.mulTo(s, fx.sub(p, inv), ~0u)));
    return success();
  }
  if (isa<IntegerType>(expT)) {
    // An integer base: exact ring products (wrapping like numpy's).
    l.set(op.getResult(), selectPower(fx, x, e));
    return success();
  }
  // An integer base and a real exponent y: x^floor(y) exactly, times
  // x^(y - floor(y)) where that fraction is not 0, truncated toward zero.
  unsigned f = fx.workingFrac();
  Value k = floorInt(fx, e);
  Value p = selectPower(fx, x, k);
  Value frac = fx.sub(e, widen(fx, k, f)); // in [0, 1)
  Value nonzero =
      fx.sub(one, fx.drelu(NegOp::create(fx.builder(), fx.loc, frac)));
  FailureOr<Value> lg = logOf(l, op, toReal(fx, x));
  if (failed(lg))
    return failure();
  FailureOr<Value> g = expOf(l, op, fx.mul(frac, *lg));
  if (failed(g))
    return failure();
  Value whole = truncTowardZero(fx, fx.mul(toReal(fx, p), *g));
  l.set(op.getResult(), fx.add(p, fx.mulTo(nonzero, fx.sub(whole, p), 0)));
  return success();
}

//===----------------------------------------------------------------------===//
// Bit shifts
//===----------------------------------------------------------------------===//

/// floor(x / 2^m) for an integer x >= 0 below 2^62: x read at m fractional
/// bits (a product by the public 2^-m at m bits, ring value 1: free), then
/// the exact floor.
static Value floorShift(FixedPointBuilder &fx, Value x, unsigned m) {
  if (m == 0)
    return x;
  return floorInt(fx, fx.mulTo(x, fx.scalar(std::ldexp(1.0, -int(m)), m), ~0u));
}

static LogicalResult lowerBitShift(Lowering &l, tfm::BitShiftOp op) {
  unsigned w = cast<IntegerType>(elementTypeOf(op.getLhs())).getWidth();
  ArrayRef<int64_t> shape = Lowering::resultShape(op);
  bool left = op.getLeft();
  return l.binary(op, [&](Value xs, Value ss) -> Value {
    FixedPointBuilder &fx = l.fx;
    liftPublic(fx, xs, ss);
    Value x = broadcastTo(fx, xs, shape), s = broadcastTo(fx, ss, shape);
    // [s == j] for j in [0, w - 1]; s >= w selects nothing (the result 0).
    Value oh = oneHot(fx, s, w - 1);
    if (2 * w <= 62) {
      // x 2^s or x 2^(w - s) stays below 2^62 (the truncation's domain):
      // one product by the power of two the one-hot selects, and one
      // exact floor by 2^w.
      SmallVector<double> powers;
      for (unsigned j = 0; j < w; ++j)
        powers.push_back(std::ldexp(1.0, left ? j : w - j));
      auto ty = RankedTensorType::get({int64_t(w)}, fx.builder().getF64Type());
      Value table =
          fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(powers)), 0);
      Value v = fx.mulTo(x, pick(fx, oh, table), 0);
      Value high = floorShift(fx, v, w);
      if (!left)
        return high; // floor(x 2^(w-s) / 2^w)
      return fx.sub(v, fx.mulTo(high, intScalar(fx, std::ldexp(1.0, w)), 0));
    }
    if (w <= 32) {
      // s = h s1 + s0 with h = w / 2, s1 = [s >= h], s0 < h: the same with
      // products below 2^(w + h) <= 2^48.
      unsigned h = w / 2;
      auto ty = RankedTensorType::get({int64_t(w)}, fx.builder().getF64Type());
      SmallVector<double> high, powers;
      for (unsigned j = 0; j < w; ++j) {
        high.push_back(j >= h);
        powers.push_back(std::ldexp(1.0, left ? j % h : h - j % h));
      }
      Value s1 = pick(
          fx, oh, fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(high)), 0));
      Value p = pick(
          fx, oh, fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(powers)), 0));
      auto scaled = [&](Value v, unsigned k) {
        return fx.mulTo(v, intScalar(fx, std::ldexp(1.0, k)), 0);
      };
      if (!left) {
        // y = floor(x / 2^(h s1)), then floor(y 2^(h - s0) / 2^h).
        Value y = fx.add(x, fx.mulTo(s1, fx.sub(floorShift(fx, x, h), x), 0));
        return floorShift(fx, fx.mulTo(y, p, 0), h);
      }
      // v = x 2^s0 < 2^(w + h): v mod 2^w, or (v mod 2^h) 2^h where s1.
      Value v = fx.mulTo(x, p, 0);
      Value r0 = fx.sub(v, scaled(floorShift(fx, v, w), w));
      Value r1 = scaled(fx.sub(v, scaled(floorShift(fx, v, h), h)), h);
      return fx.add(r0, fx.mulTo(s1, fx.sub(r1, r0), 0));
    }
    if (left) {
      // w = 64: x 2^s wraps in the ring by itself; 2^s from the one-hot
      // (local), 2^63 as 2^62 * 2 (no signed ring constant).
      SmallVector<double> powers;
      for (unsigned j = 0; j + 1 < w; ++j)
        powers.push_back(std::ldexp(1.0, j));
      auto ty =
          RankedTensorType::get({int64_t(w - 1)}, fx.builder().getF64Type());
      Value p = pick(
          fx, lastAxisSlice(fx, oh, 0, w - 1),
          fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(powers)), 0));
      Value top = fx.reshape(lastAxisSlice(fx, oh, w - 1, 1), shape);
      top = fx.mulTo(fx.mulTo(top, intScalar(fx, std::ldexp(1.0, 62)), 0),
                     intScalar(fx, 2.0), 0);
      return fx.mulTo(x, fx.add(p, top), 0);
    }
    SmallVector<Value> cols;
    for (unsigned j = 0; j < w; ++j) {
      // w = 64, right: floor(x / 2^j); x < 2^62 (the truncation's domain)
      // gives 0 for j >= 62.
      cols.push_back(j >= 62 ? fx.mulTo(x, intScalar(fx, 0.0), 0)
                             : floorShift(fx, x, j));
    }
    return pick(fx, oh, stackLast(fx, cols));
  });
}

void umbra::mpc::populateIntegerDivisionLowerings(LoweringSet &set) {
  set.add<tfm::ModOp>([](Lowering &l, tfm::ModOp op) {
    return lowerDivOrMod(l, op, /*isMod=*/true, op.getFmod());
  });
  set.add<tfm::BitShiftOp>(lowerBitShift);
}

LogicalResult umbra::mpc::lowerIntegerDiv(Lowering &l, Operation *op) {
  return lowerDivOrMod(l, op, /*isMod=*/false, false);
}

LogicalResult umbra::mpc::lowerIntegerPow(Lowering &l, Operation *op) {
  return lowerPowOf(l, cast<tfm::PowOp>(op));
}
