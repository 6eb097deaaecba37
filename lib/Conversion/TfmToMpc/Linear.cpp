//===- Linear.cpp - products with weights and embeddings ------------------===//
//
// Matrix products (one truncation each) and the embedding lookup, which the
// client turns into a product of its one-hot ids with the table, so that the
// ids are never revealed.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

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

static LogicalResult lowerEmbedding(Lowering &l, tfm::EmbeddingOp op) {
  auto ids = dyn_cast<BlockArgument>(op.getIds());
  if (!ids)
    return op.emitOpError("looks up ids computed inside the model; only ids "
                          "that are a model input (the client's tokens) are "
                          "supported");
  return l.unary(op, [&](Value table) {
    int64_t vocab = FixedPointBuilder::shapeOf(op.getTable())[0];
    SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(ids));
    shape.push_back(vocab);
    OpBuilder &b = l.fx.builder();
    Value oneHot = OneHotOp::create(
        b, l.fx.loc, l.fx.tensorType(shape, l.visibilityOf(ids), 0), ids,
        b.getI64IntegerAttr(vocab), IntegerAttr());
    return l.fx.matmul(oneHot, table);
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
