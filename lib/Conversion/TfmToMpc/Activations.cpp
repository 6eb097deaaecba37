//===- Activations.cpp - ReLU, GeLU and SiLU ------------------------------===//
//
// GeLU (erf and tanh forms) and SiLU are ReLU(x) - [|x| < T] * g(|x|) with
// one fitted polynomial g (umbra/Utils/Approximation): one ReLU, one
// comparison, one truncation for the polynomial's variable, the polynomial,
// one product with the comparison bit.
// A piecewise polynomial (mpc-approximate's quad and poly) is one comparison
// per knot, the pieces (local when affine), and one product per knot:
// y = p_0 + sum_i [x >= t_i] (p_i - p_(i-1)).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

Value umbra::mpc::reluCorrected(FixedPointBuilder &fx, Value x,
                                const ReluCorrection &r) {
  OpBuilder &b = fx.builder();
  Value relu = ReluOp::create(b, fx.loc, x);
  Value abs = fx.sub(fx.add(relu, relu), x);
  Value inside = fx.drelu(fx.sub(fx.scalar(r.threshold), abs));
  const ScaledPolynomial &p = r.correction;
  Value u = fx.scale(fx.sub(abs, fx.scalar(p.center)), 1.0 / p.halfWidth);
  Value g = PolyOp::create(b, fx.loc, u, b.getDenseF64ArrayAttr(p.coefficients));
  return fx.sub(relu, fx.mul(inside, g));
}

/// Piece `i` of `op` at `x`; null when it is 0.
static Value piece(FixedPointBuilder &fx, Value x, tfm::PolynomialOp op,
                   int64_t i) {
  ArrayRef<double> c = op.getPiece(i);
  while (!c.empty() && c.back() == 0)
    c = c.drop_back();
  if (c.empty())
    return Value();
  double center = op.getCenters()[i], halfWidth = op.getHalfWidths()[i];
  if (c.size() <= 2) {
    // c0 + c1 (x - center) / h: local.
    double slope = c.size() == 2 ? c[1] / halfWidth : 0;
    Value y = slope == 1 ? x : fx.scale(x, slope);
    double offset = c[0] - slope * center;
    return offset == 0 ? y : fx.add(y, fx.scalar(offset));
  }
  Value u = x;
  if (center != 0)
    u = fx.sub(u, fx.scalar(center));
  if (halfWidth != 1)
    u = fx.scale(u, 1.0 / halfWidth);
  OpBuilder &b = fx.builder();
  return PolyOp::create(b, fx.loc, u, b.getDenseF64ArrayAttr(c));
}

static Value piecewisePolynomial(FixedPointBuilder &fx, Value x,
                                 tfm::PolynomialOp op) {
  int64_t pieces = op.getCenters().size();
  SmallVector<Value> p;
  for (int64_t i = 0; i < pieces; ++i)
    p.push_back(piece(fx, x, op, i));
  auto minus = [&](Value a, Value b) -> Value {
    if (!b)
      return a;
    return a ? fx.sub(a, b) : fx.sub(fx.scale(b, 0), b);
  };
  Value y = p[0];
  for (int64_t i = 1; i < pieces; ++i) {
    Value step = minus(p[i], p[i - 1]);
    if (!step)
      continue;
    Value at = fx.drelu(fx.sub(x, fx.scalar(op.getKnots()[i - 1])));
    Value term = fx.mul(at, step);
    y = y ? fx.add(y, term) : term;
  }
  return y ? y : fx.scale(x, 0);
}

void umbra::mpc::populateActivationLowerings(LoweringSet &set) {
  set.add<tfm::PolynomialOp>([](Lowering &l, tfm::PolynomialOp op) {
    return l.unary(op, [&](Value x) { return piecewisePolynomial(l.fx, x, op); });
  });
  set.add<tfm::ReluOp>([](Lowering &l, tfm::ReluOp op) {
    return l.unary(op, [&](Value x) -> Value {
      return ReluOp::create(l.fx.builder(), l.fx.loc, x);
    });
  });
  set.add<tfm::GeluOp>([](Lowering &l, tfm::GeluOp g) {
    const ReluCorrection &r =
        g.getApproximation() == tfm::GeluApproximation::tanh ? l.opts.geluTanh
                                                             : l.opts.gelu;
    return l.unary(g, [&](Value x) { return reluCorrected(l.fx, x, r); });
  });
  set.add<tfm::SiluOp>([](Lowering &l, tfm::SiluOp op) {
    return l.unary(op,
                   [&](Value x) { return reluCorrected(l.fx, x, l.opts.silu); });
  });
}
