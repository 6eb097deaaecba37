//===- Linear.cpp - products with weights and embeddings ------------------===//
//
// Matrix products (one truncation each) and the embedding lookup, which the
// client turns into a product of its one-hot ids with the table, so that the
// ids are never revealed.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

// A weight is encoded as a factor (Lowering::getFactor): an owner's weight
// at f + 8 bits, so that the weights of std ~0.02 that real models have keep
// ~2^-20 relative precision instead of ~2^-10 at f bits; a matmul truncates
// the product back to f in the same one truncation.
static LogicalResult lowerLinear(Lowering &l, tfm::LinearOp lin) {
  FailureOr<Value> x = l.get(lin.getInput()), w = l.getFactor(lin.getWeight());
  if (failed(x) || failed(w))
    return failure();
  Value y = l.fx.matmul(*x, *w);
  if (lin.getBias()) {
    FailureOr<Value> bias = l.get(lin.getBias());
    if (failed(bias))
      return failure();
    y = l.fx.add(y, *bias);
  }
  l.set(lin.getResult(), y);
  return success();
}

/// A lookup is a product with the ids' one-hot rows (oneHotOf). Public
/// ids that are not constants (a decode step's position) pick rows of an
/// owner's table shared once, at deployment, so that the lookup is local:
/// the owner's row computed alone would be shared online at every
/// inference.
static LogicalResult lowerEmbedding(Lowering &l, tfm::EmbeddingOp op) {
  int64_t vocab = FixedPointBuilder::shapeOf(op.getTable())[0];
  FailureOr<Value> rows = oneHotOf(l, op, op.getIds(), vocab, std::nullopt,
                                   /*wrapNegative=*/false);
  if (failed(rows))
    return failure();
  bool publicIds = FixedPointBuilder::typeOf(*rows).getVisibility() ==
                       Visibility::public_ &&
                   !op.getIds().getDefiningOp<arith::ConstantOp>();
  return l.unary(op, [&](Value table) {
    if (publicIds &&
        FixedPointBuilder::typeOf(table).getVisibility() == Visibility::owner)
      table = l.fx.prepare(table, Visibility::shared);
    return l.fx.matmul(*rows, table);
  });
}

void umbra::mpc::populateLinearLowerings(LoweringSet &set) {
  set.add<tfm::MatMulOp>([](Lowering &l, tfm::MatMulOp op) {
    FailureOr<Value> x = l.getFactor(op.getLhs()), y = l.getFactor(op.getRhs());
    if (failed(x) || failed(y))
      return failure();
    l.set(op.getResult(), l.fx.matmul(*x, *y));
    return success();
  });
  set.add<tfm::LinearOp>(lowerLinear);
  set.add<tfm::EmbeddingOp>(lowerEmbedding);
}
