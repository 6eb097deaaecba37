//===- Shape.cpp - data movement -------------------------------------------===//
//
// Reshapes, broadcasts, transposes, slices, concatenations and gathers by
// constant indices move data without arithmetic: local on shares and at a
// value's holder, whatever its visibility.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static LogicalResult lowerConcat(Lowering &l, tfm::ConcatOp c) {
  SmallVector<Value> inputs;
  for (Value in : c.getInputs()) {
    FailureOr<Value> v = l.get(in);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  Visibility vis = l.fx.prepareAll(inputs);
  l.set(c.getResult(),
        ConcatOp::create(
            l.fx.builder(), l.fx.loc,
            l.fx.tensorType(Lowering::resultShape(c), vis,
                            FixedPointBuilder::typeOf(inputs[0]).getFrac()),
            inputs, c.getAxisAttr()));
  return success();
}

/// `x` with `shape`, unchanged when it has it.
static Value reshaped(FixedPointBuilder &fx, Value x, ArrayRef<int64_t> shape) {
  return FixedPointBuilder::shapeOf(x) == shape ? x : fx.reshape(x, shape);
}

/// A gather by indices that are not public constants, as a product with
/// their one-hot rows (oneHotOf: built by the client for its own indices,
/// by comparisons for computed ones): y = onehot(i) x over the gathered
/// axis. Local when the data is public and the rows the client's; one
/// matrix product otherwise; no truncation (the rows have frac 0).
/// Negative indices count from the end, as in ONNX.
static LogicalResult lowerGatherByRows(Lowering &l, tfm::GatherOp g) {
  int64_t axis = static_cast<int64_t>(g.getAxis()); // I64Attr is unsigned
  ArrayRef<int64_t> dataShape = FixedPointBuilder::shapeOf(g.getData());
  if (axis < 0)
    axis += dataShape.size();
  FailureOr<Value> rows = oneHotOf(l, g, g.getIndices(), dataShape[axis],
                                   std::nullopt, /*wrapNegative=*/true);
  if (failed(rows))
    return failure();
  return l.unary(g, [&](Value x) -> Value {
    OpBuilder &b = l.fx.builder();
    MpcTensorType t = FixedPointBuilder::typeOf(x);
    SmallVector<int64_t> shape(t.getShape());
    int64_t rank = shape.size();
    int64_t n = shape[axis];
    // The gathered axis first: [n, rest...] as an [n, R] matrix.
    SmallVector<int64_t> perm{axis}, rest;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) {
        perm.push_back(d);
        rest.push_back(shape[d]);
      }
    Value front = x;
    if (axis != 0) {
      SmallVector<int64_t> moved{n};
      moved.append(rest);
      front = TransposeOp::create(b, l.fx.loc, t.withShape(moved), x,
                                  b.getDenseI64ArrayAttr(perm));
    }
    int64_t cols = 1;
    for (int64_t d : rest)
      cols *= d;
    front = reshaped(l.fx, front, {n, cols});
    ArrayRef<int64_t> idxShape = FixedPointBuilder::shapeOf(g.getIndices());
    int64_t k = 1;
    for (int64_t d : idxShape)
      k *= d;
    Value y = l.fx.matmul(reshaped(l.fx, *rows, {k, n}), front);
    // [indices..., rest...], then the index dimensions back at `axis`.
    SmallVector<int64_t> gathered(idxShape);
    gathered.append(rest);
    y = reshaped(l.fx, y, gathered);
    if (axis != 0) {
      int64_t q = idxShape.size();
      SmallVector<int64_t> back;
      for (int64_t d = 0; d < axis; ++d)
        back.push_back(q + d);
      for (int64_t d = 0; d < q; ++d)
        back.push_back(d);
      for (int64_t d = q + axis; d < q + rank - 1; ++d)
        back.push_back(d);
      y = TransposeOp::create(
          b, l.fx.loc,
          FixedPointBuilder::typeOf(y).withShape(Lowering::resultShape(g)), y,
          b.getDenseI64ArrayAttr(back));
    }
    return y;
  });
}

static LogicalResult lowerGather(Lowering &l, tfm::GatherOp g) {
  // Constant indices are public data movement: one slice per index,
  // concatenated, then shaped like the result.
  std::optional<SmallVector<double>> idx = getConstantValues(g.getIndices());
  if (!idx || idx->empty() ||
      l.visibilityOf(g.getIndices()) != Visibility::public_)
    return lowerGatherByRows(l, g);
  return l.unary(g, [&](Value x) {
    OpBuilder &b = l.fx.builder();
    MpcTensorType t = FixedPointBuilder::typeOf(x);
    SmallVector<int64_t> shape(t.getShape());
    int64_t rank = shape.size();
    int64_t axis = static_cast<int64_t>(g.getAxis()); // I64Attr is unsigned
    if (axis < 0)
      axis += rank;
    SmallVector<Value> parts;
    SmallVector<int64_t> one(shape), strides(rank, 1);
    one[axis] = 1;
    for (double v : *idx) {
      SmallVector<int64_t> offsets(rank, 0);
      offsets[axis] = v < 0 ? static_cast<int64_t>(v) + shape[axis]
                            : static_cast<int64_t>(v);
      parts.push_back(
          SliceOp::create(b, l.fx.loc, t.withShape(one), x, offsets, strides));
    }
    Value y = parts.front();
    if (parts.size() > 1) {
      SmallVector<int64_t> cat(shape);
      cat[axis] = parts.size();
      y = ConcatOp::create(b, l.fx.loc, t.withShape(cat), parts,
                           b.getI64IntegerAttr(axis));
    }
    return l.fx.reshape(y, Lowering::resultShape(g));
  });
}

void umbra::mpc::populateShapeLowerings(LoweringSet &set) {
  set.add<tfm::ReshapeOp>([](Lowering &l, tfm::ReshapeOp op) {
    return l.unary(op, [&](Value x) {
      return l.fx.reshape(x, Lowering::resultShape(op));
    });
  });
  set.add<tfm::ExpandOp>([](Lowering &l, tfm::ExpandOp op) {
    return l.unary(op, [&](Value x) -> Value {
      return BroadcastOp::create(
          l.fx.builder(), l.fx.loc,
          FixedPointBuilder::typeOf(x).withShape(Lowering::resultShape(op)),
          x);
    });
  });
  set.add<tfm::TransposeOp>([](Lowering &l, tfm::TransposeOp op) {
    return l.unary(op, [&](Value x) -> Value {
      return TransposeOp::create(
          l.fx.builder(), l.fx.loc,
          FixedPointBuilder::typeOf(x).withShape(Lowering::resultShape(op)),
          x, op.getPermutationAttr());
    });
  });
  set.add<tfm::SliceOp>([](Lowering &l, tfm::SliceOp op) {
    return l.unary(op, [&](Value x) -> Value {
      return SliceOp::create(
          l.fx.builder(), l.fx.loc,
          FixedPointBuilder::typeOf(x).withShape(Lowering::resultShape(op)),
          x, op.getOffsetsAttr(), op.getStridesAttr());
    });
  });
  set.add<tfm::ConcatOp>(lowerConcat);
  set.add<tfm::GatherOp>(lowerGather);
}
