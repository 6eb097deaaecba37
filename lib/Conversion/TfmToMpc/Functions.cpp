//===- Functions.cpp - fixed-point functions of secret data ---------------===//
//
// Float functions a model may apply to computed (secret or private) data,
// composed from the runtime's gates (drelu, relu, poly, reciprocal, rsqrt)
// on stated domains (the pass options; docs/import.md has each one's
// measured error and cost):
//
// - sigmoid, tanh, erf: f(x) = 1 - g(|x|) for x >= 0, and g(|x|) (sigmoid)
//   or g(|x|) - 1 (odd) below, with g = 1 - f fitted on |x| < T and 0
//   beyond: two comparisons, |x| as a product with the sign, one
//   polynomial, two products. Valid for every x.
// - softplus: ReLU(x) plus a fitted correction on |x| < T, like GeLU.
// - abs: 2 ReLU(x) - x.
// - exp: 2^k * 2^r with y = x log2(e), k = floor(y) counted by one batch of
//   comparisons [y >= j] against the integers j of the domain, 2^k from the
//   same bits as a public table (local), 2^r a polynomial on [0, 1). Below
//   the domain every bit is 0 and the result is exactly 0 (the domain
//   starts where exp(x) < 2^-(frac+1)), so only the top is stated.
// - log: e ln 2 + ln(m) with the binade e counted by one batch of
//   comparisons [x >= 2^j] against the powers of two of the domain,
//   m = x 2^-e in [1, 2) by one product with a table, ln(m) a polynomial.
//   One batched comparison (one round) instead of the iterations of a
//   Newton or series method, at the price of one comparison per binade.
// - sqrt: x rsqrt(x) with rsqrt on [2^-frac, sqrt-max]: every non-zero
//   encoded x >= 0 is in range and 0 gives 0.
// - reciprocal, division by a computed y: 1/y = s / |y| with s the sign,
//   the reciprocal gate on [reciprocal-min, reciprocal-max].
// - pow by a constant p: products for integer p (square and multiply; a
//   reciprocal for negative p), sqrt / rsqrt for half-integers, exp(p ln x)
//   otherwise and for a computed exponent.
//
// On a value held by one party the gates run at its holder in plaintext
// (the runtime's private evaluation), so the same composition applies.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

/// A public real constant of shape [values.size()] at the working precision.
static Value publicVector(FixedPointBuilder &fx, ArrayRef<double> values) {
  SmallVector<float> v(values.begin(), values.end());
  auto ty = RankedTensorType::get({static_cast<int64_t>(v.size())},
                                  fx.builder().getF32Type());
  return fx.constant(DenseElementsAttr::get(ty, ArrayRef<float>(v)),
                     fx.workingFrac());
}

/// The bits [x >= t] for every threshold t, as a tensor of shape
/// shape(x) + [T]: one batch of comparisons (one round).
static Value thresholdBits(FixedPointBuilder &fx, Value x,
                           ArrayRef<double> thresholds) {
  SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(x));
  shape.push_back(1);
  return fx.drelu(fx.sub(fx.reshape(x, shape), publicVector(fx, thresholds)));
}

/// base + sum_t bits[..., t] * steps[t], of x's shape: a public table
/// indexed by the count of set bits (local: public times shared, a sum).
static Value tableOf(FixedPointBuilder &fx, Value bits, double base,
                     ArrayRef<double> steps) {
  SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(bits));
  int64_t last = shape.size() - 1;
  Value sum = fx.reduceSum(fx.mul(bits, publicVector(fx, steps)), {last});
  shape.pop_back();
  return fx.add(fx.reshape(sum, shape), fx.scalar(base));
}

Value umbra::mpc::poly(FixedPointBuilder &fx, Value x,
                       const ScaledPolynomial &p) {
  OpBuilder &b = fx.builder();
  Value u = fx.scale(fx.sub(x, fx.scalar(p.center)), 1.0 / p.halfWidth);
  return PolyOp::create(b, fx.loc, u, b.getDenseF64ArrayAttr(p.coefficients));
}

/// x's sign bit [x >= 0], its sign +-1 and |x| (one comparison, one
/// product with the sign).
SignAndAbs umbra::mpc::signAndAbs(FixedPointBuilder &fx, Value x) {
  Value bit = fx.drelu(x);
  Value sign = fx.sub(fx.add(bit, bit), fx.scalar(1.0, 0));
  return {bit, sign, fx.mul(sign, x)};
}

static Value saturating(FixedPointBuilder &fx, Value x,
                        const SaturatingFit &f) {
  SignAndAbs s = signAndAbs(fx, x);
  Value inside = fx.drelu(fx.sub(fx.scalar(f.threshold), s.abs));
  Value g = fx.mul(inside, poly(fx, s.abs, f.tail));
  Value oneMinusG = fx.sub(fx.scalar(1.0), g);
  if (f.odd)
    return fx.mul(s.sign, oneMinusG);
  // bit ? 1 - g : g
  return fx.add(g, fx.mul(s.bit, fx.sub(oneMinusG, g)));
}

/// x at `frac` fractional bits (exact, local).
Value umbra::mpc::widen(FixedPointBuilder &fx, Value x, unsigned frac) {
  unsigned from = FixedPointBuilder::typeOf(x).getFrac();
  return frac > from ? fx.mulExact(x, fx.scalar(1.0, frac - from)) : x;
}

Value umbra::mpc::reciprocalOf(Lowering &l, Value y) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  // A computed integer-valued divisor (a count of 0/1 rows) has frac 0.
  SignAndAbs s = signAndAbs(fx, widen(fx, y, fx.workingFrac()));
  Value inv = ReciprocalOp::create(b, fx.loc, s.abs,
                                   b.getF64FloatAttr(l.opts.reciprocalMin),
                                   b.getF64FloatAttr(l.opts.reciprocalMax),
                                   b.getI64IntegerAttr(0));
  return fx.mul(s.sign, inv);
}

/// 1/sqrt(x) for x in [lo, hi].
Value umbra::mpc::rsqrtOn(FixedPointBuilder &fx, Value x, double lo,
                           double hi) {
  OpBuilder &b = fx.builder();
  return RsqrtOp::create(b, fx.loc, x, b.getF64FloatAttr(lo),
                         b.getF64FloatAttr(hi), b.getI64IntegerAttr(0));
}

Value umbra::mpc::sqrtOf(Lowering &l, Value x) {
  FixedPointBuilder &fx = l.fx;
  unsigned f = fx.workingFrac();
  double lo = std::ldexp(1.0, -int(f));
  Value r = rsqrtOn(fx, x, lo, std::max(l.opts.sqrtMax, 2 * lo));
  // s = x r carries x times r's last-bit error; one Newton step
  // s + r (x - s^2) / 2 removes it (r s = 1). x - s^2 is kept exact at 2f
  // bits (+1 for the half): truncated, its last bit times r would be the
  // error for small x.
  Value s = fx.mul(x, r);
  Value d = fx.mulExact(fx.sub(widen(fx, x, 2 * f), fx.mulExact(s, s)),
                        fx.scalar(0.5, 1));
  return fx.add(s, fx.mul(r, d));
}

Value umbra::mpc::divide(Lowering &l, Value x, Value y) {
  FixedPointBuilder &fx = l.fx;
  unsigned f = fx.workingFrac();
  y = widen(fx, y, f);
  Value r = reciprocalOf(l, y);
  // q = x r carries x times r's last-bit error; q + r (x - q y) removes it
  // (x - q y exact at 2f bits, as in sqrtOf).
  Value q = fx.mul(x, r);
  Value e = fx.sub(widen(fx, x, 2 * f), fx.mulExact(q, y));
  return fx.add(q, fx.mul(r, e));
}

/// exp(x) for x <= exp-max (module comment).
FailureOr<Value> umbra::mpc::expOf(Lowering &l, Operation *op, Value x) {
  FixedPointBuilder &fx = l.fx;
  int f = fx.workingFrac();
  int kMin = -(f + 1);
  int kMax = static_cast<int>(std::floor(l.opts.expMax * M_LOG2E));
  // 2^k and 2^r at f bits each: their product must stay below 2^61.
  if (kMax + 1 + 2 * f > 61)
    return op->emitOpError("needs exp on [.., ")
           << l.opts.expMax << "], whose results do not fit " << f
           << " fractional bits with headroom; lower exp-max or frac-bits";
  Value y = fx.scale(x, M_LOG2E);
  SmallVector<double> thresholds, ones, powers;
  for (int j = kMin; j <= kMax; ++j) {
    thresholds.push_back(j);
    ones.push_back(1);
    powers.push_back(j == kMin ? std::ldexp(1.0, j) : std::ldexp(1.0, j - 1));
  }
  Value bits = thresholdBits(fx, y, thresholds);
  // k = kMin - 1 + #{j : y >= j}; below the domain 2^k is the table's 0.
  Value k = tableOf(fx, bits, kMin - 1, ones);
  Value twoK = tableOf(fx, bits, 0, powers);
  Value twoR = poly(fx, fx.sub(y, k), l.opts.exp2Fraction);
  return fx.mul(twoK, twoR);
}

/// log(x) for x in [lo, hi] (module comment).
FailureOr<Value> umbra::mpc::logOf(Lowering &l, Operation *op, Value x,
                                   double lo, double hi) {
  FixedPointBuilder &fx = l.fx;
  int f = fx.workingFrac();
  int jMin = static_cast<int>(std::floor(std::log2(lo)));
  int jMax = static_cast<int>(std::floor(std::log2(hi)));
  // 2^-e must be exact at f bits, and 2^-jMin times x inside the ring.
  if (jMax > f || jMin < -f)
    return op->emitOpError("needs log on [")
           << lo << ", " << hi
           << "], which does not fit " << f
           << " fractional bits (2^-frac-bits <= log-min, log-max < "
              "2^frac-bits)";
  SmallVector<double> thresholds, ln2s, inverses;
  for (int j = jMin + 1; j <= jMax; ++j) {
    thresholds.push_back(std::ldexp(1.0, j));
    ln2s.push_back(M_LN2);
    inverses.push_back(std::ldexp(1.0, -j) - std::ldexp(1.0, -(j - 1)));
  }
  Value eLn2 = fx.scalar(jMin * M_LN2), inverse = fx.scalar(std::ldexp(1.0, -jMin));
  if (!thresholds.empty()) {
    Value bits = thresholdBits(fx, x, thresholds);
    eLn2 = tableOf(fx, bits, jMin * M_LN2, ln2s);
    inverse = tableOf(fx, bits, std::ldexp(1.0, -jMin), inverses);
  }
  Value m = fx.mul(x, inverse);
  return fx.add(eLn2, poly(fx, m, l.opts.logMantissa));
}

FailureOr<Value> umbra::mpc::logOf(Lowering &l, Operation *op, Value x) {
  return logOf(l, op, x, l.opts.logMin, l.opts.logMax);
}

/// x^n for an integer n >= 1 by square and multiply.
static Value integerPower(FixedPointBuilder &fx, Value x, int64_t n) {
  Value result, square = x;
  for (; n; n >>= 1) {
    if (n & 1)
      result = result ? fx.mul(result, square) : square;
    if (n > 1)
      square = fx.mul(square, square);
  }
  return result;
}

static LogicalResult lowerPow(Lowering &l, tfm::PowOp op) {
  if (!isa<FloatType>(getElementTypeOrSelf(op.getLhs().getType())) ||
      !isa<FloatType>(getElementTypeOrSelf(op.getRhs().getType())))
    return lowerIntegerPow(l, op); // IntegerDivision.cpp
  FixedPointBuilder &fx = l.fx;
  FailureOr<Value> x = l.get(op.getLhs());
  if (failed(x))
    return failure();
  std::optional<SmallVector<double>> p = getConstantValues(op.getRhs());
  bool uniform = p && !p->empty() &&
                 llvm::all_of(*p, [&](double v) { return v == p->front(); });
  auto shaped = [&](Value v) {
    // A result of the broadcast shape (the exponent may be larger).
    ArrayRef<int64_t> want = Lowering::resultShape(op);
    if (FixedPointBuilder::shapeOf(v) == want)
      return v;
    return fx.add(v, fx.constant(
                         DenseElementsAttr::get(
                             RankedTensorType::get(want, fx.builder().getF32Type()),
                             0.0f),
                         fx.workingFrac()));
  };
  if (uniform && l.visibilityOf(op.getRhs()) == Visibility::public_) {
    double e = p->front();
    double twice = 2 * e;
    if (e == 0) {
      // x^0 = 1 (0^0 = 1 too), of x's shape.
      l.set(op.getResult(), shaped(fx.add(fx.scale(*x, 0.0), fx.scalar(1.0))));
      return success();
    }
    if (twice == std::round(twice) && std::abs(e) <= 64) {
      int64_t whole = static_cast<int64_t>(std::trunc(std::abs(e)));
      bool half = twice != 2 * std::trunc(e);
      Value r = whole ? integerPower(fx, *x, whole) : Value();
      if (half) {
        // x^(n + 1/2) = x^n sqrt(x); x^-(n + 1/2) = rsqrt(x) / x^n.
        Value root = e > 0 ? sqrtOf(l, *x)
                           : rsqrtOn(fx, *x, l.opts.reciprocalMin,
                                     l.opts.reciprocalMax);
        if (!r)
          r = root;
        else if (e > 0)
          r = fx.mul(r, root);
        else
          r = fx.mul(reciprocalOf(l, r), root);
      } else if (e < 0) {
        r = reciprocalOf(l, r);
      }
      l.set(op.getResult(), shaped(r));
      return success();
    }
  }
  // x^y = exp(y log x) for x in [log-min, log-max].
  FailureOr<Value> y = l.get(op.getRhs());
  if (failed(y))
    return failure();
  FailureOr<Value> lg = logOf(l, op, *x);
  if (failed(lg))
    return failure();
  FailureOr<Value> r = expOf(l, op, fx.mul(*y, *lg));
  if (failed(r))
    return failure();
  l.set(op.getResult(), shaped(*r));
  return success();
}

template <typename OpTy>
static void addUnary(LoweringSet &set,
                     Value (*build)(Lowering &, Value)) {
  set.add<OpTy>([build](Lowering &l, OpTy op) {
    return l.unary(op, [&](Value x) { return build(l, x); });
  });
}

void umbra::mpc::populateFunctionLowerings(LoweringSet &set) {
  addUnary<tfm::SigmoidOp>(
      set, [](Lowering &l, Value x) { return saturating(l.fx, x, l.opts.sigmoid); });
  addUnary<tfm::TanhOp>(
      set, [](Lowering &l, Value x) { return saturating(l.fx, x, l.opts.tanh); });
  addUnary<tfm::ErfOp>(
      set, [](Lowering &l, Value x) { return saturating(l.fx, x, l.opts.erf); });
  addUnary<tfm::SoftplusOp>(set, [](Lowering &l, Value x) {
    return reluCorrected(l.fx, x, l.opts.softplus);
  });
  addUnary<tfm::AbsOp>(set, [](Lowering &l, Value x) -> Value {
    Value relu = ReluOp::create(l.fx.builder(), l.fx.loc, x);
    return l.fx.sub(l.fx.add(relu, relu), x);
  });
  set.add<tfm::ExpOp>([](Lowering &l, tfm::ExpOp op) -> LogicalResult {
    FailureOr<Value> x = l.get(op.getInput());
    if (failed(x))
      return failure();
    FailureOr<Value> r = expOf(l, op, *x);
    if (failed(r))
      return failure();
    l.set(op.getResult(), *r);
    return success();
  });
  set.add<tfm::LogOp>([](Lowering &l, tfm::LogOp op) -> LogicalResult {
    FailureOr<Value> x = l.get(op.getInput());
    if (failed(x))
      return failure();
    FailureOr<Value> r = logOf(l, op, *x);
    if (failed(r))
      return failure();
    l.set(op.getResult(), *r);
    return success();
  });
  set.add<tfm::PowOp>(lowerPow);
}
