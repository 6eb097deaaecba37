//===- FunctionLowerings.cpp - rounding, trigonometric, hyperbolic --------===//
//
// Elementwise functions of ONNX on secret data, composed from the gates of
// Functions.cpp (docs/import.md has each one's domain, measured error and
// cost):
//
// - floor: the faithful truncation t of x to 0 fractional bits is
//   floor(x) + b with b in {0, 1} (docs/protocols.md, Truncation); one
//   comparison [x >= t] fixes it: floor(x) = t - 1 + [x >= t]. Exact.
//   ceil(x) = -floor(-x); round (half to even) = r - [tie] * parity(r)
//   with r = floor(x + 1/2), tie = [x + 1/2 == r] (one comparison, the
//   difference is >= 0) and parity(r) = r - 2 floor(r / 2) (r / 2 is r read
//   with one fractional bit: one more floor). sign(x) = [x >= 0] - [-x >= 0]
//   (one batched comparison). All exact.
// - sin, cos: r = x - 2 pi k with k = floor(x / 2 pi + 1/2) (x / 2 pi with
//   a 28-bit reciprocal, 2 pi k with a 40-bit constant), one polynomial on
//   [-pi, pi] (plus a margin for the rounding of x / 2 pi). tan: the same
//   reduction by pi, sin(r) / cos(r) on [-pi/2, pi/2].
// - atan: a = |x|, m = [a >= 1]; z = m ? 1/max(a, 1) : a in [0, 1]; one
//   polynomial P on [0, 1]; atan = sign * (m ? pi/2 - P(z) : P(z)). The
//   three comparisons [x >= 0], [x >= 1], [-x >= 1] are one gate.
// - asin: a = |x|, m = [a >= 1/2]; z = m ? sqrt(1 - a) / sqrt 2 : a in
//   [0, 1/2]; asin = sign * (m ? pi/2 - 2 P(z) : P(z)), P fitted on
//   [0, 1/2] (sqrt of the exact 1 - a, so no cancellation near |x| = 1).
//   acos = pi/2 - asin.
// - sinh, cosh: (exp(x) -+ exp(-x)) / 2, both exponentials in one exp on
//   the stacked [x, -x].
// - asinh = sign * log(|x| + sqrt(x^2 + 1)); acosh = log(x + sqrt(x - 1)
//   sqrt(x + 1)); atanh = (log(1 + x) - log(1 - x)) / 2, both logs in one log
//   on the stacked [1 + x, 1 - x].
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

//===--- helpers ------------------------------------------------------------===//

/// `values` (one shape) stacked along a new leading axis.
static Value stack(FixedPointBuilder &fx, ArrayRef<Value> values) {
  SmallVector<Value> vs(values);
  fx.prepareAll(vs);
  MpcTensorType t = FixedPointBuilder::typeOf(vs[0]);
  SmallVector<int64_t> one(t.getShape()), all(t.getShape());
  one.insert(one.begin(), 1);
  all.insert(all.begin(), vs.size());
  for (Value &v : vs)
    v = fx.reshape(v, one);
  OpBuilder &b = fx.builder();
  return ConcatOp::create(b, fx.loc, t.withShape(all), vs,
                          b.getI64IntegerAttr(0));
}

/// Part `i` of a stacked value.
static Value part(FixedPointBuilder &fx, Value stacked, int64_t i) {
  MpcTensorType t = FixedPointBuilder::typeOf(stacked);
  SmallVector<int64_t> one(t.getShape()), offsets(t.getRank(), 0),
      strides(t.getRank(), 1);
  one[0] = 1;
  offsets[0] = i;
  OpBuilder &b = fx.builder();
  Value s = SliceOp::create(b, fx.loc, t.withShape(one), stacked, offsets,
                            strides);
  return fx.reshape(s, t.getShape().drop_front());
}

/// The bits [v >= 0] for each of `values` (one shape): one comparison gate.
SmallVector<Value> umbra::mpc::dreluAll(FixedPointBuilder &fx,
                                        ArrayRef<Value> values) {
  Value bits = fx.drelu(stack(fx, values));
  SmallVector<Value> out;
  for (size_t i = 0; i < values.size(); ++i)
    out.push_back(part(fx, bits, i));
  return out;
}

/// floor(x) as an integer (frac 0): the faithful truncation t is
/// floor(x) + b, b in {0, 1}; floor(x) = t - 1 + [x >= t].
Value umbra::mpc::floorInt(FixedPointBuilder &fx, Value x) {
  unsigned k = FixedPointBuilder::typeOf(x).getFrac();
  Value t = fx.truncTo(x, 0);
  Value bit = fx.drelu(fx.sub(x, widen(fx, t, k)));
  return fx.add(t, fx.sub(bit, fx.scalar(1.0, 0)));
}

/// A public f64 constant at `frac` bits (more than a float literal holds).
static Value exactConstant(FixedPointBuilder &fx, double c, unsigned frac) {
  auto ty = RankedTensorType::get({}, fx.builder().getF64Type());
  return fx.constant(DenseElementsAttr::get(ty, c), frac);
}

/// x - period * k with k = floor(x / period + 1/2): in [-period/2,
/// period/2] up to period * 2^-frac (the rounding of x / period).
static Value reduceBy(FixedPointBuilder &fx, Value x, double period) {
  unsigned f = fx.workingFrac();
  // 1/period with 12 more bits than x and period with 24: for |x| < 2^15
  // (f = 16) the products stay below 2^57 and their constants' errors
  // below 2^-25 |x|.
  Value y = fx.mulTo(x, exactConstant(fx, 1.0 / period, f + 12), f);
  Value k = floorInt(fx, fx.add(y, fx.scalar(0.5)));
  return fx.sub(x, fx.mulTo(k, exactConstant(fx, period, f + 24), f));
}

/// Fits on the reduced domains, made once. The margins cover the rounding
/// of the reduction.
static constexpr double kMargin = 0.02;
static const ScaledPolynomial &sinFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::sin(x); }, -M_PI - kMargin, M_PI + kMargin,
      11);
  return p;
}
static const ScaledPolynomial &cosFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::cos(x); }, -M_PI - kMargin, M_PI + kMargin,
      12);
  return p;
}
static const ScaledPolynomial &sinHalfFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::sin(x); }, -M_PI_2 - kMargin,
      M_PI_2 + kMargin, 9);
  return p;
}
static const ScaledPolynomial &cosHalfFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::cos(x); }, -M_PI_2 - kMargin,
      M_PI_2 + kMargin, 10);
  return p;
}
static const ScaledPolynomial &atanFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::atan(x); }, 0, 1, 9);
  return p;
}
static const ScaledPolynomial &asinFit() {
  static const ScaledPolynomial p = fitPolynomial(
      [](double x) { return std::asin(x); }, 0, 0.5, 7);
  return p;
}

//===--- the functions --------------------------------------------------------===//

static Value floorOf(Lowering &l, Value x) {
  return widen(l.fx, floorInt(l.fx, x), l.fx.workingFrac());
}

static Value ceilOf(Lowering &l, Value x) {
  OpBuilder &b = l.fx.builder();
  Value negX = NegOp::create(b, l.fx.loc, x);
  return NegOp::create(b, l.fx.loc, floorOf(l, negX));
}

static Value roundOf(Lowering &l, Value x) {
  FixedPointBuilder &fx = l.fx;
  unsigned f = fx.workingFrac();
  Value shifted = fx.add(x, fx.scalar(0.5));
  Value r = floorInt(fx, shifted);
  // tie: x + 1/2 is the integer r (the difference is exact and >= 0).
  Value diff = fx.sub(shifted, widen(fx, r, f));
  Value tie = fx.drelu(NegOp::create(fx.builder(), fx.loc, diff));
  // parity(r) = r - 2 floor(r / 2), r / 2 being r read at 1 bit.
  Value half = fx.mulExact(r, fx.scalar(0.5, 1));
  Value h = floorInt(fx, half);
  Value parity = fx.sub(r, fx.add(h, h));
  return widen(fx, fx.sub(r, fx.mul(tie, parity)), f);
}

static Value sinOf(Lowering &l, Value x) {
  return poly(l.fx, reduceBy(l.fx, x, 2 * M_PI), sinFit());
}

static Value cosOf(Lowering &l, Value x) {
  return poly(l.fx, reduceBy(l.fx, x, 2 * M_PI), cosFit());
}

static Value tanOf(Lowering &l, Value x) {
  Value r = reduceBy(l.fx, x, M_PI);
  return divide(l, poly(l.fx, r, sinHalfFit()), poly(l.fx, r, cosHalfFit()));
}

static Value atanOf(Lowering &l, Value x) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  Value one = fx.scalar(1.0), negX = NegOp::create(b, fx.loc, x);
  SmallVector<Value> bits =
      dreluAll(fx, {x, fx.sub(x, one), fx.sub(negX, one)});
  Value sign = fx.sub(fx.add(bits[0], bits[0]), fx.scalar(1.0, 0));
  Value a = fx.mul(sign, x);
  Value m = fx.add(bits[1], bits[2]);
  // 1 / max(a, 1) on [1, reciprocal-max].
  Value big = fx.add(one, fx.mul(m, fx.sub(a, one)));
  Value inv = ReciprocalOp::create(
      b, fx.loc, big, b.getF64FloatAttr(1.0),
      b.getF64FloatAttr(std::max(l.opts.reciprocalMax, 2.0)),
      b.getI64IntegerAttr(0));
  Value z = fx.add(a, fx.mul(m, fx.sub(inv, a)));
  Value p = poly(fx, z, atanFit());
  Value folded = fx.sub(fx.scalar(M_PI_2), fx.add(p, p));
  return fx.mul(sign, fx.add(p, fx.mul(m, folded)));
}

static Value asinOf(Lowering &l, Value x) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  Value half = fx.scalar(0.5), negX = NegOp::create(b, fx.loc, x);
  SmallVector<Value> bits =
      dreluAll(fx, {x, fx.sub(x, half), fx.sub(negX, half)});
  Value sign = fx.sub(fx.add(bits[0], bits[0]), fx.scalar(1.0, 0));
  Value a = fx.mul(sign, x);
  Value m = fx.add(bits[1], bits[2]);
  // asin(a) = pi/2 - 2 asin(sqrt((1 - a) / 2)) for a >= 1/2.
  Value s = fx.scale(sqrtOf(l, fx.sub(fx.scalar(1.0), a)), M_SQRT1_2);
  Value z = fx.add(a, fx.mul(m, fx.sub(s, a)));
  Value p = poly(fx, z, asinFit());
  Value p3 = fx.add(p, fx.add(p, p));
  return fx.mul(sign, fx.add(p, fx.mul(m, fx.sub(fx.scalar(M_PI_2), p3))));
}

static Value acosOf(Lowering &l, Value x) {
  return l.fx.sub(l.fx.scalar(M_PI_2), asinOf(l, x));
}

/// (exp(x) + s exp(-x)) / 2, s = +-1.
static FailureOr<Value> expPair(Lowering &l, Operation *op, Value x,
                                bool minus) {
  FixedPointBuilder &fx = l.fx;
  FailureOr<Value> e =
      expOf(l, op, stack(fx, {x, NegOp::create(fx.builder(), fx.loc, x)}));
  if (failed(e))
    return failure();
  Value e0 = part(fx, *e, 0), e1 = part(fx, *e, 1);
  return fx.scale(minus ? fx.sub(e0, e1) : fx.add(e0, e1), 0.5);
}

static FailureOr<Value> sinhOf(Lowering &l, Operation *op, Value x) {
  return expPair(l, op, x, /*minus=*/true);
}

static FailureOr<Value> coshOf(Lowering &l, Operation *op, Value x) {
  return expPair(l, op, x, /*minus=*/false);
}

static FailureOr<Value> asinhOf(Lowering &l, Operation *op, Value x) {
  FixedPointBuilder &fx = l.fx;
  SignAndAbs s = signAndAbs(fx, x);
  Value root = sqrtOf(l, fx.add(fx.mul(s.abs, s.abs), fx.scalar(1.0)));
  FailureOr<Value> lg = logOf(l, op, fx.add(s.abs, root));
  if (failed(lg))
    return failure();
  return fx.mul(s.sign, *lg);
}

static FailureOr<Value> acoshOf(Lowering &l, Operation *op, Value x) {
  FixedPointBuilder &fx = l.fx;
  Value one = fx.scalar(1.0);
  // sqrt(x - 1) sqrt(x + 1), both square roots of exact values (in one
  // gate): no cancellation in x^2 - 1 near x = 1.
  Value roots = sqrtOf(l, stack(fx, {fx.sub(x, one), fx.add(x, one)}));
  Value root = fx.mul(part(fx, roots, 0), part(fx, roots, 1));
  return logOf(l, op, fx.add(x, root));
}

static FailureOr<Value> atanhOf(Lowering &l, Operation *op, Value x) {
  FixedPointBuilder &fx = l.fx;
  Value one = fx.scalar(1.0);
  FailureOr<Value> lg =
      logOf(l, op, stack(fx, {fx.add(one, x), fx.sub(one, x)}));
  if (failed(lg))
    return failure();
  return fx.scale(fx.sub(part(fx, *lg, 0), part(fx, *lg, 1)), 0.5);
}

//===--- registration ---------------------------------------------------------===//

template <typename OpTy>
static void addTotal(LoweringSet &set, Value (*build)(Lowering &, Value)) {
  set.add<OpTy>([build](Lowering &l, OpTy op) {
    return l.unary(op, [&](Value x) { return build(l, x); });
  });
}

template <typename OpTy>
static void addPartial(LoweringSet &set,
                       FailureOr<Value> (*build)(Lowering &, Operation *,
                                                 Value)) {
  set.add<OpTy>([build](Lowering &l, OpTy op) -> LogicalResult {
    FailureOr<Value> x = l.get(op.getInput());
    if (failed(x))
      return failure();
    FailureOr<Value> r = build(l, op, *x);
    if (failed(r))
      return failure();
    l.set(op.getResult(), *r);
    return success();
  });
}

void umbra::mpc::populateElementaryFunctionLowerings(LoweringSet &set) {
  addTotal<tfm::FloorOp>(set, floorOf);
  addTotal<tfm::CeilOp>(set, ceilOf);
  addTotal<tfm::RoundOp>(set, roundOf);
  addTotal<tfm::SinOp>(set, sinOf);
  addTotal<tfm::CosOp>(set, cosOf);
  addTotal<tfm::TanOp>(set, tanOf);
  addTotal<tfm::AtanOp>(set, atanOf);
  addTotal<tfm::AsinOp>(set, asinOf);
  addTotal<tfm::AcosOp>(set, acosOf);
  addPartial<tfm::SinhOp>(set, sinhOf);
  addPartial<tfm::CoshOp>(set, coshOf);
  addPartial<tfm::AsinhOp>(set, asinhOf);
  addPartial<tfm::AcoshOp>(set, acoshOf);
  addPartial<tfm::AtanhOp>(set, atanhOf);
}
