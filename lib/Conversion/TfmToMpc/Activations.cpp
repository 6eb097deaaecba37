//===- Activations.cpp - ReLU, GeLU and SiLU ------------------------------===//
//
// GeLU (erf and tanh forms) and SiLU are ReLU(x) - [|x| < T] * g(|x|) with
// one fitted polynomial g (umbra/Utils/Approximation): one ReLU, one
// comparison, one truncation for the polynomial's variable, the polynomial,
// one product with the comparison bit.
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

void umbra::mpc::populateActivationLowerings(LoweringSet &set) {
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
