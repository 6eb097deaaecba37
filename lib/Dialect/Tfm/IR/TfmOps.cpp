//===- TfmOps.cpp - tfm op verifiers --------------------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace umbra::tfm;

#define GET_OP_CLASSES
#include "umbra/Dialect/Tfm/IR/TfmOps.cpp.inc"

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// Checks that `operands` broadcast (numpy rules) to exactly `result`.
static LogicalResult verifyBroadcast(Operation *op, ValueRange operands,
                                     ArrayRef<int64_t> result) {
  SmallVector<int64_t> shape;
  for (Value v : operands) {
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, shapeOf(v), next))
      return op->emitOpError("operand shapes do not broadcast together");
    shape = std::move(next);
  }
  if (ArrayRef<int64_t>(shape) != result)
    return op->emitOpError("result shape must be the broadcast shape of the "
                           "operands");
  return success();
}

/// Resolves a possibly negative axis against `rank`.
static FailureOr<int64_t> normaliseAxis(Operation *op, int64_t axis,
                                        int64_t rank) {
  if (axis < -rank || axis >= rank) {
    op->emitOpError() << "axis " << axis << " is out of range for rank "
                      << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

template <typename BinaryOp>
static LogicalResult verifyBinary(BinaryOp op) {
  return verifyBroadcast(op, {op.getLhs(), op.getRhs()},
                         shapeOf(op.getOutput()));
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
LogicalResult PowOp::verify() { return verifyBinary(*this); }
LogicalResult MaxOp::verify() { return verifyBinary(*this); }
LogicalResult EqualOp::verify() { return verifyBinary(*this); }
LogicalResult LessOp::verify() { return verifyBinary(*this); }

LogicalResult WhereOp::verify() {
  return verifyBroadcast(*this, {getCondition(), getOnTrue(), getOnFalse()},
                         shapeOf(getOutput()));
}

LogicalResult MatMulOp::verify() {
  ArrayRef<int64_t> a = shapeOf(getLhs()), b = shapeOf(getRhs()),
                    c = shapeOf(getOutput());
  if (a.size() < 2 || b.size() < 2)
    return emitOpError("operands must have rank >= 2");
  if (a.back() != b[b.size() - 2])
    return emitOpError() << "contraction dimensions differ: " << a.back()
                         << " vs " << b[b.size() - 2];
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(a.drop_back(2), b.drop_back(2),
                                          batch))
    return emitOpError("batch dimensions do not broadcast");
  batch.push_back(a[a.size() - 2]);
  batch.push_back(b.back());
  if (ArrayRef<int64_t>(batch) != c)
    return emitOpError("result shape does not match the operands");
  return success();
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), w = shapeOf(getWeight()),
                    y = shapeOf(getOutput());
  if (w.size() != 2)
    return emitOpError("weight must have rank 2");
  if (x.empty() || x.back() != w[0])
    return emitOpError() << "input's last dimension must equal the weight's "
                            "first dimension ("
                         << w[0] << ")";
  if (Value b = getBias())
    if (shapeOf(b) != ArrayRef<int64_t>{w[1]})
      return emitOpError() << "bias must have shape [" << w[1] << "]";
  SmallVector<int64_t> expected(x.drop_back());
  expected.push_back(w[1]);
  if (ArrayRef<int64_t>(expected) != y)
    return emitOpError("result shape does not match the operands");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return normaliseAxis(*this, getAxis(), shapeOf(getInput()).size());
}

/// `param` (scale or bias of a normalisation) must have the shape of the
/// normalised trailing dimensions.
static LogicalResult verifyNormParam(Operation *op, Value param,
                                     ArrayRef<int64_t> normalised,
                                     StringRef name) {
  if (param && shapeOf(param) != normalised)
    return op->emitOpError() << name
                             << " must have the shape of the normalised "
                                "dimensions";
  return success();
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  FailureOr<int64_t> axis = normaliseAxis(*this, getAxis(), x.size());
  if (failed(axis))
    return failure();
  if (shapeOf(getOutput()) != x)
    return emitOpError("result must have the input's shape");
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return failure(failed(verifyNormParam(*this, getScale(), x.drop_front(*axis),
                                        "scale")) ||
                 failed(verifyNormParam(*this, getBias(), x.drop_front(*axis),
                                        "bias")));
}

LogicalResult RmsNormOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  if (x.empty())
    return emitOpError("input must have rank >= 1");
  if (shapeOf(getOutput()) != x)
    return emitOpError("result must have the input's shape");
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return verifyNormParam(*this, getScale(), x.take_back(), "scale");
}

LogicalResult CausalMaskOp::verify() {
  if (shapeOf(getInput()).size() < 2)
    return emitOpError("input must have rank >= 2 (queries x keys)");
  return success();
}

LogicalResult EmbeddingOp::verify() {
  ArrayRef<int64_t> t = shapeOf(getTable()), ids = shapeOf(getIds());
  if (t.size() != 2)
    return emitOpError("table must have rank 2 (vocabulary x hidden)");
  SmallVector<int64_t> expected(ids);
  expected.push_back(t[1]);
  if (ArrayRef<int64_t>(expected) != shapeOf(getOutput()))
    return emitOpError("result shape must be the ids' shape followed by the "
                       "table's row size");
  return success();
}

template <typename ReduceOp>
static LogicalResult verifyReduce(ReduceOp op) {
  ArrayRef<int64_t> x = shapeOf(op.getInput());
  SmallVector<bool> reduced(x.size(), false);
  for (int64_t a : op.getAxes()) {
    FailureOr<int64_t> axis = normaliseAxis(op, a, x.size());
    if (failed(axis))
      return failure();
    if (reduced[*axis])
      return op.emitOpError() << "axis " << a << " is listed twice";
    reduced[*axis] = true;
  }
  SmallVector<int64_t> expected;
  for (auto [dim, isReduced] : llvm::zip(x, reduced)) {
    if (!isReduced)
      expected.push_back(dim);
    else if (op.getKeepdims())
      expected.push_back(1);
  }
  if (ArrayRef<int64_t>(expected) != shapeOf(op.getOutput()))
    return op.emitOpError("result shape does not match the reduction");
  return success();
}

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this); }

/// Shape ops move elements around; they never change the element type.
static LogicalResult verifySameElementType(Operation *op, Value a, Value b) {
  if (getElementTypeOrSelf(a.getType()) != getElementTypeOrSelf(b.getType()))
    return op->emitOpError("result element type must match the input's");
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << in.getNumElements()
                         << " elements into " << out.getNumElements();
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput());
  ArrayRef<int64_t> perm = getPermutation();
  if (perm.size() != x.size())
    return emitOpError("permutation must list every dimension once");
  SmallVector<bool> seen(x.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[p])
      return emitOpError("permutation must list every dimension once");
    seen[p] = true;
    expected.push_back(x[p]);
  }
  if (ArrayRef<int64_t>(expected) != shapeOf(getOutput()))
    return emitOpError("result shape does not match the permutation");
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult ExpandOp::verify() {
  ArrayRef<int64_t> out = shapeOf(getOutput());
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(shapeOf(getInput()), out, shape) ||
      ArrayRef<int64_t>(shape) != out)
    return emitOpError("input shape does not broadcast to the result shape");
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  ArrayRef<int64_t> out = shapeOf(getOutput());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(out.size()))
    return emitOpError() << "axis " << axis << " is out of range";
  int64_t total = 0;
  for (Value in : getInputs()) {
    ArrayRef<int64_t> s = shapeOf(in);
    if (s.size() != out.size())
      return emitOpError("inputs must have the result's rank");
    for (auto [d, pair] : llvm::enumerate(llvm::zip(s, out)))
      if (static_cast<int64_t>(d) != axis &&
          std::get<0>(pair) != std::get<1>(pair))
        return emitOpError() << "inputs differ from the result in dimension "
                             << d;
    total += s[axis];
    if (failed(verifySameElementType(*this, in, getOutput())))
      return failure();
  }
  if (total != out[axis])
    return emitOpError("result size along the axis must be the inputs' sum");
  return success();
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getInput()), y = shapeOf(getOutput());
  ArrayRef<int64_t> offsets = getOffsets(), strides = getStrides();
  if (offsets.size() != x.size() || strides.size() != x.size() ||
      y.size() != x.size())
    return emitOpError("offsets, strides and result must have the input's "
                       "rank");
  for (size_t d = 0; d < x.size(); ++d) {
    if (strides[d] <= 0)
      return emitOpError("strides must be positive");
    if (offsets[d] < 0 || (y[d] > 0 && offsets[d] + (y[d] - 1) * strides[d] >=
                                           x[d]))
      return emitOpError() << "slice exceeds the input in dimension " << d;
  }
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult GatherOp::verify() {
  ArrayRef<int64_t> x = shapeOf(getData()), idx = shapeOf(getIndices());
  FailureOr<int64_t> axis = normaliseAxis(*this, getAxis(), x.size());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> expected(x.take_front(*axis));
  llvm::append_range(expected, idx);
  llvm::append_range(expected, x.drop_front(*axis + 1));
  if (ArrayRef<int64_t>(expected) != shapeOf(getOutput()))
    return emitOpError("result shape does not match the gather");
  return verifySameElementType(*this, getData(), getOutput());
}
