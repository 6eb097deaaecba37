//===- Losses.cpp - log_softmax and the client's one-hot rows -------------===//
//
// log_softmax(x) = (x - max) - log(sum(exp(x - max))): softmax's rows (the
// row maximum, exp by repeated squaring, the row sums in [1, n]; see
// Attention.cpp) and one log per row (Functions.cpp) instead of the
// reciprocal and product. The sum is at least 1 (the maximum's own term)
// and at most n, so the log runs on [1, n] whatever log-min and log-max
// say: floor(log2 n) binade comparisons per row.
//
// one_hot: the ids are a model input held by the client, who expands them
// into 0/1 rows in plaintext (`mpc.one_hot`, frac 0); a selection by the
// ids (a loss's label, GatherElements) is then a product with the rows,
// which needs no truncation.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static LogicalResult lowerLogSoftmax(Lowering &l, tfm::LogSoftmaxOp op) {
  FailureOr<Value> x = l.get(op.getInput());
  if (failed(x))
    return failure();
  int64_t axis = static_cast<int64_t>(op.getAxis()); // I64Attr is unsigned
  int64_t n = FixedPointBuilder::shapeOf(op.getInput())
      [axis < 0 ? axis + FixedPointBuilder::shapeOf(op.getInput()).size()
                : axis];
  ExpRows rows = expRows(l, *x, axis);
  FailureOr<Value> lse = logOf(l, op, rows.sum, 1.0, double(n));
  if (failed(lse))
    return failure();
  l.set(op.getResult(), l.fx.sub(rows.shifted, *lse));
  return success();
}

static LogicalResult lowerOneHot(Lowering &l, tfm::OneHotOp op) {
  auto ids = dyn_cast<BlockArgument>(op.getIds());
  if (!ids)
    return op.emitOpError("one-hot encodes ids that are not a model input; "
                          "only the client's ids (a model input) are "
                          "supported (the importer folds constant ones)");
  l.set(op.getResult(),
        OneHotOp::create(l.fx.builder(), l.fx.loc,
                         l.fx.tensorType(Lowering::resultShape(op),
                                         l.visibilityOf(ids), 0),
                         ids, op.getDepthAttr()));
  return success();
}

void umbra::mpc::populateLossLowerings(LoweringSet &set) {
  set.add<tfm::LogSoftmaxOp>(lowerLogSoftmax);
  set.add<tfm::OneHotOp>(lowerOneHot);
}
