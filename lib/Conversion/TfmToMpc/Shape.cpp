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
            l.fx.tensorType(Lowering::resultShape(c), vis, l.opts.frac),
            inputs, c.getAxisAttr()));
  return success();
}

static LogicalResult lowerGather(Lowering &l, tfm::GatherOp g) {
  // Constant indices are public data movement: one slice per index,
  // concatenated, then shaped like the result.
  std::optional<SmallVector<double>> idx = getConstantValues(g.getIndices());
  if (!idx || idx->empty() ||
      l.visibilityOf(g.getIndices()) != Visibility::public_)
    return g.emitOpError("gathers by indices computed from the inputs (or "
                         "private ones), which has no MPC lowering; only public "
                         "constant indices are supported");
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
