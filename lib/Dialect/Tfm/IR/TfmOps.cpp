//===- TfmOps.cpp - tfm op verifiers --------------------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ShapeVerifiers.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"
#include <cmath>

using namespace mlir;
using namespace umbra;
using namespace umbra::tfm;

#define GET_OP_CLASSES
#include "umbra/Dialect/Tfm/IR/TfmOps.cpp.inc"

static Shape shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

template <typename BinaryOp>
static LogicalResult verifyBinary(BinaryOp op) {
  return verifyBroadcast(op, {shapeOf(op.getLhs()), shapeOf(op.getRhs())},
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
LogicalResult AndOp::verify() { return verifyBinary(*this); }
LogicalResult OrOp::verify() { return verifyBinary(*this); }
LogicalResult XorOp::verify() { return verifyBinary(*this); }
LogicalResult ModOp::verify() {
  if (isa<FloatType>(getElementTypeOrSelf(getLhs().getType())) && !getFmod())
    return emitOpError("on floats needs fmod = true");
  return verifyBinary(*this);
}
LogicalResult BitShiftOp::verify() {
  if (!isa<IntegerType>(getElementTypeOrSelf(getLhs().getType())))
    return emitOpError("shifts integers");
  return verifyBinary(*this);
}

LogicalResult ArgMaxOp::verify() {
  Shape in = shapeOf(getInput());
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis >= static_cast<int64_t>(in.size()))
    return emitOpError() << "axis " << axis << " out of range for rank "
                         << in.size();
  if (in[axis] == 0)
    return emitOpError("reduces an empty axis");
  return verifyReduce(*this, in, {axis}, getKeepdims(), shapeOf(getOutput()));
}

LogicalResult WhereOp::verify() {
  return verifyBroadcast(*this,
                         {shapeOf(getCondition()), shapeOf(getOnTrue()),
                          shapeOf(getOnFalse())},
                         shapeOf(getOutput()));
}

LogicalResult MatMulOp::verify() {
  return verifyMatMul(*this, shapeOf(getLhs()), shapeOf(getRhs()),
                      shapeOf(getOutput()));
}

/// y = x W (+ b): W rank 2, x [..., K], W [K, N], b [N], y [..., N].
static LogicalResult verifyAffine(Operation *op, Value input, Value weight,
                                  Value bias, Value output) {
  Shape x = shapeOf(input), w = shapeOf(weight), y = shapeOf(output);
  if (w.size() != 2)
    return op->emitOpError("weight must have rank 2");
  if (x.empty() || x.back() != w[0])
    return op->emitOpError()
           << "input's last dimension must equal the weight's first "
              "dimension ("
           << w[0] << ")";
  if (bias && shapeOf(bias) != Shape{w[1]})
    return op->emitOpError() << "bias must have shape [" << w[1] << "]";
  SmallVector<int64_t> expected(x.drop_back());
  expected.push_back(w[1]);
  if (Shape(expected) != y)
    return op->emitOpError("result shape does not match the operands");
  return success();
}

LogicalResult LinearOp::verify() {
  return verifyAffine(*this, getInput(), getWeight(), getBias(), getOutput());
}

LogicalResult SoftmaxOp::verify() {
  return normaliseAxis(*this, getAxis(), shapeOf(getInput()).size());
}

/// `param` (scale or bias of a normalisation) must have the shape of the
/// normalised trailing dimensions.
static LogicalResult verifyNormParam(Operation *op, Value param,
                                     Shape normalised, StringRef name) {
  if (param && shapeOf(param) != normalised)
    return op->emitOpError() << name
                             << " must have the shape of the normalised "
                                "dimensions";
  return success();
}

/// The largest variance the rsqrt strategy states: positive and finite.
static LogicalResult verifyVarianceMax(Operation *op,
                                       std::optional<llvm::APFloat> v) {
  if (v && (!(v->convertToDouble() > 0) || !v->isFinite()))
    return op->emitOpError("variance_max must be positive and finite");
  return success();
}

LogicalResult LayerNormOp::verify() {
  Shape x = shapeOf(getInput());
  FailureOr<int64_t> axis = normaliseAxis(*this, getAxis(), x.size());
  if (failed(axis))
    return failure();
  if (shapeOf(getOutput()) != x)
    return emitOpError("result must have the input's shape");
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return failure(
      failed(verifyVarianceMax(*this, getVarianceMax())) ||
      failed(verifyNormParam(*this, getScale(), x.drop_front(*axis),
                             "scale")) ||
      failed(verifyNormParam(*this, getBias(), x.drop_front(*axis), "bias")));
}

LogicalResult RmsNormOp::verify() {
  Shape x = shapeOf(getInput());
  if (x.empty())
    return emitOpError("input must have rank >= 1");
  if (shapeOf(getOutput()) != x)
    return emitOpError("result must have the input's shape");
  if (getEpsilon().convertToFloat() < 0)
    return emitOpError("epsilon must be non-negative");
  return failure(
      failed(verifyVarianceMax(*this, getVarianceMax())) ||
      failed(verifyNormParam(*this, getScale(), x.take_back(), "scale")));
}

LogicalResult PolynomialOp::verify() {
  size_t pieces = getKnots().size() + 1;
  if (getCenters().size() != pieces || getHalfWidths().size() != pieces)
    return emitOpError() << "needs one center and one half width per piece ("
                         << pieces << " for " << getKnots().size()
                         << " knots)";
  if (getCoefficients().empty() || getCoefficients().size() % pieces)
    return emitOpError("coefficients must hold the same number (at least "
                       "one) for every piece");
  for (size_t i = 1; i < getKnots().size(); ++i)
    if (!(getKnots()[i - 1] < getKnots()[i]))
      return emitOpError("knots must be strictly ascending");
  for (double h : getHalfWidths())
    if (!(h > 0) || !std::isfinite(h))
      return emitOpError("half widths must be positive");
  for (ArrayRef<double> a : {getKnots(), getCenters(), getCoefficients()})
    if (llvm::any_of(a, [](double v) { return !std::isfinite(v); }))
      return emitOpError("knots, centers and coefficients must be finite");
  return success();
}

LogicalResult KernelSoftmaxOp::verify() {
  if (!(getEpsilon().convertToDouble() > 0))
    return emitOpError("epsilon must be positive (the sum can be 0)");
  if (!(getScoreBound().convertToDouble() > 0) ||
      !std::isfinite(getScoreBound().convertToDouble()))
    return emitOpError("score_bound must be positive");
  if (!std::isfinite(getShift().convertToDouble()))
    return emitOpError("shift must be finite");
  return normaliseAxis(*this, getAxis(), shapeOf(getInput()).size());
}

LogicalResult CausalMaskOp::verify() {
  if (shapeOf(getInput()).size() < 2)
    return emitOpError("input must have rank >= 2 (queries x keys)");
  return success();
}

LogicalResult EmbeddingOp::verify() {
  Shape t = shapeOf(getTable()), ids = shapeOf(getIds());
  if (t.size() != 2)
    return emitOpError("table must have rank 2 (vocabulary x hidden)");
  SmallVector<int64_t> expected(ids);
  expected.push_back(t[1]);
  if (Shape(expected) != shapeOf(getOutput()))
    return emitOpError("result shape must be the ids' shape followed by the "
                       "table's row size");
  return success();
}

template <typename ReduceOp>
static LogicalResult verifyReduction(ReduceOp op) {
  return verifyReduce(op, shapeOf(op.getInput()), op.getAxes(),
                      op.getKeepdims(), shapeOf(op.getOutput()));
}

LogicalResult ReduceSumOp::verify() { return verifyReduction(*this); }
LogicalResult ReduceMeanOp::verify() { return verifyReduction(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduction(*this); }

/// Shape ops move elements around; they never change the element type.
static LogicalResult verifySameElementType(Operation *op, Value a, Value b) {
  if (getElementTypeOrSelf(a.getType()) != getElementTypeOrSelf(b.getType()))
    return op->emitOpError("result element type must match the input's");
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (failed(verifyReshape(*this, shapeOf(getInput()), shapeOf(getOutput()))))
    return failure();
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult TransposeOp::verify() {
  if (failed(verifyTranspose(*this, shapeOf(getInput()), getPermutation(),
                             shapeOf(getOutput()))))
    return failure();
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult ExpandOp::verify() {
  if (failed(verifyExpand(*this, shapeOf(getInput()), shapeOf(getOutput()))))
    return failure();
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult ConcatOp::verify() {
  SmallVector<Shape> shapes;
  for (Value in : getInputs()) {
    shapes.push_back(shapeOf(in));
    if (failed(verifySameElementType(*this, in, getOutput())))
      return failure();
  }
  return verifyConcat(*this, shapes, getAxis(), shapeOf(getOutput()));
}

LogicalResult SliceOp::verify() {
  if (failed(verifySlice(*this, shapeOf(getInput()), getOffsets(),
                         getStrides(), shapeOf(getOutput()))))
    return failure();
  return verifySameElementType(*this, getInput(), getOutput());
}

LogicalResult GatherOp::verify() {
  Shape x = shapeOf(getData()), idx = shapeOf(getIndices());
  FailureOr<int64_t> axis = normaliseAxis(*this, getAxis(), x.size());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> expected(x.take_front(*axis));
  llvm::append_range(expected, idx);
  llvm::append_range(expected, x.drop_front(*axis + 1));
  if (Shape(expected) != shapeOf(getOutput()))
    return emitOpError("result shape does not match the gather");
  return verifySameElementType(*this, getData(), getOutput());
}

//===--- losses and log-domain ops ------------------------------------------===//

LogicalResult LogSoftmaxOp::verify() {
  return normaliseAxis(*this, getAxis(), shapeOf(getInput()).size());
}

LogicalResult OneHotOp::verify() {
  SmallVector<int64_t> expected(shapeOf(getIds()));
  expected.push_back(getDepth());
  if (Shape(expected) != shapeOf(getOutput()))
    return emitOpError("result shape must be the ids' shape followed by "
                       "depth");
  return success();
}

//===----------------------------------------------------------------------===//
// Predicted activation sparsity
//===----------------------------------------------------------------------===//

LogicalResult FfnPredictorOp::verify() {
  Shape u = shapeOf(getU()), v = shapeOf(getV());
  if (u.size() != 2 || v.size() != 2 || u[1] != v[0])
    return emitOpError("u and v must be [d, r] and [r, blocks]");
  if (shapeOf(getBias()) != Shape{v[1]})
    return emitOpError() << "bias must have shape [" << v[1] << "]";
  if (cast<RankedTensorType>(getThreshold().getType()).getNumElements() != 1)
    return emitOpError("threshold must have one element");
  if (Value t = getRecallTable()) {
    Shape s = shapeOf(t);
    if (s.size() != 2 || s[1] != 2 || s[0] < 1)
      return emitOpError("recall_table must be [n, 2] (recall, threshold)");
  }
  return success();
}

/// `mask` splits the last axis of `x` (x.shape[:-1] + [nb], nb | x[-1]).
static LogicalResult verifyBlockMask(Operation *op, Shape x, Shape mask) {
  if (x.empty() || mask.size() != x.size() || mask.back() < 1 ||
      x.back() % mask.back() != 0 || x.drop_back() != mask.drop_back())
    return op->emitOpError() << "mask of shape [" << mask
                             << "] does not split the last axis of [" << x
                             << "] into equal blocks";
  return success();
}

LogicalResult BlockMaskOp::verify() {
  Shape s = shapeOf(getScores()), m = shapeOf(getMask());
  int64_t g = static_cast<int64_t>(getGroup());
  if (cast<RankedTensorType>(getThreshold().getType()).getNumElements() != 1)
    return emitOpError("threshold must have one element");
  if (s.empty() || s.back() % g != 0)
    return emitOpError() << "group " << g
                         << " does not divide the number of scores";
  SmallVector<int64_t> want(s.drop_back());
  want.push_back(s.back() / g);
  if (Shape(want) != m)
    return emitOpError("mask shape does not match the scores and group");
  int64_t bucket = static_cast<int64_t>(getBucket());
  if (bucket > 0 && m.back() % bucket != 0)
    return emitOpError() << "bucket " << bucket << " does not divide the "
                         << m.back() << " blocks";
  return success();
}

LogicalResult BlockSelectOp::verify() {
  if (shapeOf(getInput()) != shapeOf(getOutput()))
    return emitOpError("result shape must equal the input's");
  return verifyBlockMask(*this, shapeOf(getInput()), shapeOf(getMask()));
}

LogicalResult BlockReluOp::verify() {
  if (shapeOf(getInput()) != shapeOf(getOutput()))
    return emitOpError("result shape must equal the input's");
  return verifyBlockMask(*this, shapeOf(getInput()), shapeOf(getMask()));
}

LogicalResult BlockLinearOp::verify() {
  if (failed(verifyAffine(*this, getInput(), getWeight(), getBias(),
                          getOutput())))
    return failure();
  if (getLeakage() != "per-deployment" && getLeakage() != "per-inference")
    return emitOpError() << "leakage '" << getLeakage()
                         << "' is not per-deployment or per-inference";
  return verifyBlockMask(*this,
                         shapeOf(getSparseInput() ? getInput() : getOutput()),
                         shapeOf(getMask()));
}
