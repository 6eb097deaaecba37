//===- ShapeVerifiers.cpp - shape rules shared by tfm and mpc ops ---------===//
#include "umbra/Support/ShapeVerifiers.h"

#include "mlir/Dialect/Traits.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using umbra::Shape;

FailureOr<int64_t> umbra::normaliseAxis(Operation *op, int64_t axis,
                                        int64_t rank) {
  if (axis < -rank || axis >= rank) {
    op->emitOpError() << "axis " << axis << " is out of range for rank "
                      << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

LogicalResult umbra::verifyBroadcast(Operation *op, ArrayRef<Shape> operands,
                                     Shape result) {
  SmallVector<int64_t> shape;
  for (Shape s : operands) {
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, s, next))
      return op->emitOpError("operand shapes do not broadcast together");
    shape = std::move(next);
  }
  if (Shape(shape) != result)
    return op->emitOpError("result shape must be the broadcast shape of the "
                           "operands");
  return success();
}

LogicalResult umbra::verifyMatMul(Operation *op, Shape a, Shape b, Shape c) {
  if (a.size() < 2 || b.size() < 2)
    return op->emitOpError("operands must have rank >= 2");
  if (a.back() != b[b.size() - 2])
    return op->emitOpError() << "contraction dimensions differ: " << a.back()
                             << " vs " << b[b.size() - 2];
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(a.drop_back(2), b.drop_back(2),
                                          shape))
    return op->emitOpError("batch dimensions do not broadcast");
  shape.push_back(a[a.size() - 2]);
  shape.push_back(b.back());
  if (Shape(shape) != c)
    return op->emitOpError("result shape does not match the operands");
  return success();
}

LogicalResult umbra::verifyReduce(Operation *op, Shape in,
                                  ArrayRef<int64_t> axes, bool keepdims,
                                  Shape out) {
  SmallVector<bool> reduced(in.size(), false);
  for (int64_t a : axes) {
    FailureOr<int64_t> axis = normaliseAxis(op, a, in.size());
    if (failed(axis))
      return failure();
    if (reduced[*axis])
      return op->emitOpError() << "axis " << a << " is listed twice";
    reduced[*axis] = true;
  }
  SmallVector<int64_t> expected;
  for (auto [dim, isReduced] : llvm::zip(in, reduced)) {
    if (!isReduced)
      expected.push_back(dim);
    else if (keepdims)
      expected.push_back(1);
  }
  if (Shape(expected) != out)
    return op->emitOpError("result shape does not match the reduction");
  return success();
}

static int64_t numElements(Shape s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

LogicalResult umbra::verifyReshape(Operation *op, Shape in, Shape out) {
  if (numElements(in) != numElements(out))
    return op->emitOpError() << "cannot reshape " << numElements(in)
                             << " elements into " << numElements(out);
  return success();
}

LogicalResult umbra::verifyTranspose(Operation *op, Shape in,
                                     ArrayRef<int64_t> perm, Shape out) {
  if (perm.size() != in.size())
    return op->emitOpError("permutation must list every dimension once");
  SmallVector<bool> seen(in.size(), false);
  SmallVector<int64_t> expected;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size()) || seen[p])
      return op->emitOpError("permutation must list every dimension once");
    seen[p] = true;
    expected.push_back(in[p]);
  }
  if (Shape(expected) != out)
    return op->emitOpError("result shape does not match the permutation");
  return success();
}

LogicalResult umbra::verifyExpand(Operation *op, Shape in, Shape out) {
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(in, out, shape) ||
      Shape(shape) != out)
    return op->emitOpError("input shape does not broadcast to the result "
                           "shape");
  return success();
}

LogicalResult umbra::verifyConcat(Operation *op, ArrayRef<Shape> inputs,
                                  int64_t axis, Shape out) {
  if (inputs.empty())
    return op->emitOpError("needs at least one input");
  if (axis < 0 || axis >= static_cast<int64_t>(out.size()))
    return op->emitOpError() << "axis " << axis << " is out of range";
  int64_t total = 0;
  for (Shape s : inputs) {
    if (s.size() != out.size())
      return op->emitOpError("inputs must have the result's rank");
    for (size_t d = 0; d < s.size(); ++d)
      if (static_cast<int64_t>(d) != axis && s[d] != out[d])
        return op->emitOpError()
               << "inputs differ from the result in dimension " << d;
    total += s[axis];
  }
  if (total != out[axis])
    return op->emitOpError("result size along the axis must be the inputs' "
                           "sum");
  return success();
}

LogicalResult umbra::verifySlice(Operation *op, Shape in,
                                 ArrayRef<int64_t> offsets,
                                 ArrayRef<int64_t> strides, Shape out) {
  if (offsets.size() != in.size() || strides.size() != in.size() ||
      out.size() != in.size())
    return op->emitOpError("offsets, strides and result must have the "
                           "input's rank");
  for (size_t d = 0; d < in.size(); ++d) {
    if (strides[d] <= 0)
      return op->emitOpError("strides must be positive");
    if (offsets[d] < 0 ||
        (out[d] > 0 && offsets[d] + (out[d] - 1) * strides[d] >= in[d]))
      return op->emitOpError() << "slice exceeds the input in dimension " << d;
  }
  return success();
}
