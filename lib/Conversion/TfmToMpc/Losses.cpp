//===- Losses.cpp - log_softmax and the client's one-hot rows -------------===//
//
// log_softmax(x) = (x - max) - log(sum(exp(x - max))): softmax's rows (the
// row maximum, exp by repeated squaring, the row sums in [1, n]; see
// Attention.cpp) and one log per row (Functions.cpp) instead of the
// reciprocal and product. The sum is at least 1 (the maximum's own term)
// and at most n, so the log runs on [1, n] whatever log-min and log-max
// say: floor(log2 n) binade comparisons per row.
//
// one_hot: ids that are a model input are held by the client, who expands
// them into 0/1 rows in plaintext (`mpc.one_hot`, frac 0). Ids computed
// inside the model are secret: row j is [id >= j] - [id >= j + 1], all the
// comparisons against the public candidates in one stacked gate. Either
// way a selection by the ids (an embedding, Gather, a loss's label,
// GatherElements) is then a product with the rows, with no truncation.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

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

/// The last-axis columns [from, from + n) of `v`.
static Value columns(FixedPointBuilder &fx, Value v, int64_t from, int64_t n) {
  MpcTensorType t = FixedPointBuilder::typeOf(v);
  SmallVector<int64_t> shape(t.getShape()), offsets(t.getRank(), 0),
      strides(t.getRank(), 1);
  shape.back() = n;
  offsets.back() = from;
  return SliceOp::create(fx.builder(), fx.loc, t.withShape(shape), v, offsets,
                         strides);
}

/// Rows of secret ids: with c_j = [id >= j] for the candidates
/// j = lo .. depth (lo = -depth when negative ids wrap, else 0), row entry
/// j is c_j - c_{j+1}, so an id outside [lo, depth) gets a zero row. Cost:
/// depth + 1 comparisons per id (2 depth + 1 with wrapping), one round.
static Value secretOneHot(FixedPointBuilder &fx, Value ids, int64_t depth,
                          std::optional<int64_t> ignore, bool wrapNegative) {
  int64_t lo = wrapNegative ? -depth : 0, m = depth - lo + 1;
  SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(ids));
  shape.push_back(1);
  SmallVector<double> cands;
  for (int64_t j = lo; j <= depth; ++j)
    cands.push_back(double(j));
  OpBuilder &b = fx.builder();
  auto candTy = RankedTensorType::get({m}, b.getF64Type());
  Value ge = fx.drelu(fx.sub(fx.reshape(ids, shape),
                             fx.constant(DenseElementsAttr::get(
                                             candTy, ArrayRef<double>(cands)),
                                         0)));
  Value rows = fx.sub(columns(fx, ge, 0, m - 1), columns(fx, ge, 1, m - 1));
  if (wrapNegative) // id and id - depth select the same row
    rows = fx.add(columns(fx, rows, 0, depth), columns(fx, rows, depth, depth));
  if (ignore && *ignore >= 0 && *ignore < depth) {
    // The ignored id's rows are its unit rows: clear that column (local).
    SmallVector<double> keep(depth, 1.0);
    keep[*ignore] = 0.0;
    auto keepTy = RankedTensorType::get({depth}, b.getF64Type());
    rows = fx.mulTo(
        rows,
        fx.constant(DenseElementsAttr::get(keepTy, ArrayRef<double>(keep)), 0),
        0);
  }
  return rows;
}

FailureOr<Value> umbra::mpc::oneHotOf(Lowering &l, Operation *op, Value ids,
                                      int64_t depth,
                                      std::optional<int64_t> ignore,
                                      bool wrapNegative) {
  OpBuilder &b = l.fx.builder();
  if (isa<BlockArgument>(ids) && l.visibilityOf(ids) != Visibility::shared) {
    SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(ids));
    shape.push_back(depth);
    return Value(OneHotOp::create(
        b, l.fx.loc, l.fx.tensorType(shape, l.visibilityOf(ids), 0), ids,
        b.getI64IntegerAttr(depth),
        ignore ? b.getI64IntegerAttr(*ignore) : IntegerAttr(),
        wrapNegative ? b.getUnitAttr() : UnitAttr()));
  }
  std::optional<SmallVector<double>> known = getConstantValues(ids);
  if (known && l.visibilityOf(ids) == Visibility::public_) {
    // Public constant ids: public constant rows.
    SmallVector<int64_t> shape(FixedPointBuilder::shapeOf(ids));
    shape.push_back(depth);
    SmallVector<double> rows(known->size() * depth, 0.0);
    for (auto [k, v] : llvm::enumerate(*known)) {
      int64_t id = static_cast<int64_t>(v);
      if (ignore && id == *ignore)
        continue;
      if (wrapNegative && id < 0)
        id += depth;
      if (id < 0 || id >= depth)
        return op->emitOpError("constant id ")
               << static_cast<int64_t>(v) << " is outside [0, " << depth
               << ")";
      rows[k * depth + id] = 1.0;
    }
    auto ty = RankedTensorType::get(shape, b.getF64Type());
    return l.fx.constant(DenseElementsAttr::get(ty, ArrayRef<double>(rows)), 0);
  }
  if (ignore && wrapNegative && *ignore < 0 && *ignore >= -depth)
    return op->emitOpError("ignores id ")
           << *ignore << ", which wrapping maps to row " << *ignore + depth;
  FailureOr<Value> x = l.get(ids);
  if (failed(x))
    return failure();
  if (FixedPointBuilder::typeOf(*x).getFrac() != 0)
    return op->emitOpError("expects integer ids (0 fractional bits)");
  return secretOneHot(l.fx, *x, depth, ignore, wrapNegative);
}

static LogicalResult lowerOneHot(Lowering &l, tfm::OneHotOp op) {
  FailureOr<Value> rows =
      oneHotOf(l, op, op.getIds(), op.getDepth(), op.getIgnoreIndex(),
               op.getWrapNegative());
  if (failed(rows))
    return failure();
  l.set(op.getResult(), *rows);
  return success();
}

void umbra::mpc::populateLossLowerings(LoweringSet &set) {
  set.add<tfm::LogSoftmaxOp>(lowerLogSoftmax);
  set.add<tfm::OneHotOp>(lowerOneHot);
}
