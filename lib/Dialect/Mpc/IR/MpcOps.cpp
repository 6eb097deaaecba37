//===- MpcOps.cpp - mpc op verifiers --------------------------------------===//
#include "umbra/Dialect/Mpc/IR/MpcOps.h"

#include "umbra/Support/ShapeVerifiers.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static MpcTensorType typeOf(Value v) { return cast<MpcTensorType>(v.getType()); }

/// The result of combining `operands` has the join of their visibilities.
static LogicalResult verifyJoinedVisibility(Operation *op, ValueRange operands,
                                            MpcTensorType result) {
  Visibility joined = Visibility::public_;
  for (Value v : operands) {
    FailureOr<Visibility> next =
        joinVisibility(joined, typeOf(v).getVisibility());
    if (failed(next))
      return op->emitOpError("combines a client value with an owner value; "
                             "share them first");
    joined = *next;
  }
  if (result.getVisibility() != joined)
    return op->emitOpError()
           << "result visibility must be '" << stringifyVisibility(joined)
           << "', the join of the operands'";
  return success();
}

static LogicalResult verifySameShapeAndFrac(Operation *op, MpcTensorType a,
                                            MpcTensorType b) {
  if (a.getShape() != b.getShape())
    return op->emitOpError("result shape must match the input's");
  if (a.getFrac() != b.getFrac())
    return op->emitOpError("result frac must match the input's");
  return success();
}

/// encode and decode convert, at the value's holder, between a float tensor
/// and its fixed-point form: the shape is kept and the value is never
/// shared (`ifShared` says why).
static LogicalResult verifyCodec(Operation *op, Shape plaintext,
                                 MpcTensorType fixedPoint, StringRef ifShared) {
  if (plaintext != fixedPoint.getShape())
    return op->emitOpError("result shape must match the input's");
  if (fixedPoint.isShared())
    return op->emitOpError(ifShared);
  return success();
}

LogicalResult EncodeOp::verify() {
  if (isa<IntegerType>(getInput().getType().getElementType()) &&
      typeOf(getOutput()).getFrac() != 0)
    return emitOpError("encodes an integer tensor: the result must have "
                       "frac = 0");
  // State arrives already secret-shared (each party's share of the
  // previous program's result), so its encoding is shared.
  if (isStateArgument(getInput()) && typeOf(getOutput()).isShared())
    return verifyCodec(*this, getInput().getType().getShape(),
                       typeOf(getOutput()).withVisibility(Visibility::public_),
                       "");
  return verifyCodec(*this, getInput().getType().getShape(),
                     typeOf(getOutput()),
                     "encodes a plaintext: the result cannot be shared "
                     "(use mpc.share, or declare the argument state)");
}

LogicalResult DecodeOp::verify() {
  return verifyCodec(*this, getOutput().getType().getShape(),
                     typeOf(getInput()),
                     "cannot decode a shared value: reveal it first");
}

LogicalResult ShareOp::verify() {
  MpcTensorType in = typeOf(getInput()), out = typeOf(getOutput());
  if (in.getVisibility() != Visibility::client &&
      in.getVisibility() != Visibility::owner)
    return emitOpError("input must be held by the client or the model owner");
  if (!out.isShared())
    return emitOpError("result must be shared");
  return verifySameShapeAndFrac(*this, in, out);
}

LogicalResult RevealOp::verify() {
  MpcTensorType in = typeOf(getInput()), out = typeOf(getOutput());
  if (!in.isShared())
    return emitOpError("input must be shared");
  if (getReason().trim().empty())
    return emitOpError("must state a reason for the leak");
  Visibility expected = getTo() == RevealTarget::client
                            ? Visibility::client
                            : Visibility::public_;
  if (out.getVisibility() != expected)
    return emitOpError() << "result visibility must be '"
                         << stringifyVisibility(expected) << "'";
  return verifySameShapeAndFrac(*this, in, out);
}

/// Elementwise ops broadcast their operands (numpy rules).
static LogicalResult verifyBroadcastShape(Operation *op, MpcTensorType a,
                                          MpcTensorType b,
                                          MpcTensorType result) {
  return verifyBroadcast(op, {a.getShape(), b.getShape()}, result.getShape());
}

template <typename LinearOp>
static LogicalResult verifyLinear(LinearOp op) {
  MpcTensorType a = typeOf(op.getLhs()), b = typeOf(op.getRhs()),
             c = typeOf(op.getOutput());
  if (a.getFrac() != b.getFrac() || c.getFrac() != a.getFrac())
    return op.emitOpError("operands and result must have the same frac");
  if (failed(verifyBroadcastShape(op, a, b, c)))
    return failure();
  return verifyJoinedVisibility(op, {op.getLhs(), op.getRhs()}, c);
}

LogicalResult AddOp::verify() { return verifyLinear(*this); }
LogicalResult SubOp::verify() { return verifyLinear(*this); }

/// Products add the operands' fractional bits.
static LogicalResult verifyProductFrac(Operation *op, MpcTensorType a,
                                       MpcTensorType b, MpcTensorType c) {
  if (c.getFrac() != a.getFrac() + b.getFrac())
    return op->emitOpError() << "result frac must be " << a.getFrac() << " + "
                             << b.getFrac() << " (truncate explicitly)";
  return success();
}

LogicalResult MulOp::verify() {
  MpcTensorType a = typeOf(getLhs()), b = typeOf(getRhs()), c = typeOf(getOutput());
  if (failed(verifyProductFrac(*this, a, b, c)) ||
      failed(verifyBroadcastShape(*this, a, b, c)))
    return failure();
  return verifyJoinedVisibility(*this, {getLhs(), getRhs()}, c);
}

LogicalResult MatMulOp::verify() {
  MpcTensorType a = typeOf(getLhs()), b = typeOf(getRhs()), c = typeOf(getOutput());
  if (failed(verifyProductFrac(*this, a, b, c)))
    return failure();
  if (failed(verifyMatMul(*this, a.getShape(), b.getShape(), c.getShape())))
    return failure();
  return verifyJoinedVisibility(*this, {getLhs(), getRhs()}, c);
}

/// A live-block mask: public, frac 0, [x.shape[:-1], nb] with nb | x[-1].
static LogicalResult verifyLiveMask(Operation *op, MpcTensorType x,
                                   MpcTensorType mask) {
  ArrayRef<int64_t> xs = x.getShape(), ms = mask.getShape();
  if (mask.getVisibility() != Visibility::public_ || mask.getFrac() != 0)
    return op->emitOpError("block mask must be public with frac = 0");
  if (xs.empty() || ms.size() != xs.size() || ms.back() < 1 ||
      xs.back() % ms.back() != 0 || xs.drop_back() != ms.drop_back())
    return op->emitOpError("block mask does not split the last axis into "
                           "equal blocks");
  return success();
}

LogicalResult ReluOp::verify() {
  if (getOutput().getType() != getInput().getType())
    return emitOpError("result type must equal the input's");
  if (Value m = getLive())
    return verifyLiveMask(*this, typeOf(getInput()), typeOf(m));
  return success();
}

LogicalResult BlockMatmulOp::verify() {
  MpcTensorType x = typeOf(getInput()), w = typeOf(getWeight()),
                y = typeOf(getOutput());
  if (!x.isShared() || !w.isShared())
    return emitOpError("input and weight must be shared");
  ArrayRef<int64_t> xs = x.getShape(), ws = w.getShape();
  if (ws.size() != 2 || xs.empty() || xs.back() != ws[0])
    return emitOpError("input's last dimension must equal the rank-2 "
                       "weight's first");
  SmallVector<int64_t> ys(xs.drop_back());
  ys.push_back(ws[1]);
  if (y.getShape() != ArrayRef<int64_t>(ys) || !y.isShared() ||
      y.getFrac() != x.getFrac() + w.getFrac())
    return emitOpError("result must be shared [..., m] with frac(x) + frac(w)");
  return verifyLiveMask(*this, getSparseInput() ? x : y, typeOf(getMask()));
}

LogicalResult ShuffleOp::verify() {
  MpcTensorType x = typeOf(getInput());
  if (!x.isShared() || x.getShape().size() != 2)
    return emitOpError("input must be a shared matrix");
  if (getOutput().getType() != getInput().getType())
    return emitOpError("result type must equal the input's");
  return success();
}

LogicalResult TruncOp::verify() {
  MpcTensorType in = typeOf(getInput()), out = typeOf(getOutput());
  if (Value m = getLive())
    if (failed(verifyLiveMask(*this, in, typeOf(m))))
      return failure();
  if (static_cast<uint64_t>(getBits()) > in.getFrac())
    return emitOpError() << "cannot drop " << getBits()
                         << " bits from a value with frac = " << in.getFrac();
  if (out != in.withFrac(in.getFrac() - getBits()))
    return emitOpError("result must be the input type with frac reduced by "
                       "bits");
  return success();
}

LogicalResult DReluOp::verify() {
  MpcTensorType in = typeOf(getInput()), out = typeOf(getOutput());
  if (out != in.withFrac(0))
    return emitOpError("result must be a bit tensor (frac = 0) with the "
                       "input's shape and visibility");
  return success();
}

LogicalResult SelectOp::verify() {
  MpcTensorType c = typeOf(getCondition()), a = typeOf(getOnTrue()),
             b = typeOf(getOnFalse()), out = typeOf(getOutput());
  if (c.getFrac() != 0)
    return emitOpError("condition must be a bit tensor (frac = 0)");
  for (MpcTensorType t : {c, a, b})
    if (t.getShape() != out.getShape())
      return emitOpError("operands must have the result's shape");
  if (a.getFrac() != out.getFrac() || b.getFrac() != out.getFrac())
    return emitOpError("both choices must have the result's frac");
  return verifyJoinedVisibility(
      *this, {getCondition(), getOnTrue(), getOnFalse()}, out);
}

LogicalResult PolyOp::verify() {
  if (getCoefficients().empty())
    return emitOpError("needs at least one coefficient");
  return success();
}

template <typename NewtonOp>
static LogicalResult verifyRange(NewtonOp op) {
  double lo = op.getLo().convertToDouble(), hi = op.getHi().convertToDouble();
  if (!(lo > 0.0 && lo < hi))
    return op.emitOpError() << "input range must satisfy 0 < lo < hi, got ["
                            << lo << ", " << hi << "]";
  auto in = cast<MpcTensorType>(op.getInput().getType());
  auto out = cast<MpcTensorType>(op.getOutput().getType());
  if (in.withFrac(out.getFrac()) != out)
    return op.emitOpError() << "result " << out
                            << " must have the input's shape and visibility ("
                            << in << "); only the fractional bits may differ";
  return success();
}

LogicalResult ReciprocalOp::verify() { return verifyRange(*this); }
LogicalResult RsqrtOp::verify() { return verifyRange(*this); }

/// The shape rule of each data-movement op, given its input and result
/// shapes (the tfm op it lowers from has the same rule).
static LogicalResult verifyMoveShape(MaxOp op, Shape in, Shape out) {
  return verifyReduce(op, in, {static_cast<int64_t>(op.getAxis())},
                      /*keepdims=*/true, out);
}
static LogicalResult verifyMoveShape(ReduceSumOp op, Shape in, Shape out) {
  return verifyReduce(op, in, op.getAxes(), op.getKeepdims(), out);
}
static LogicalResult verifyMoveShape(ReshapeOp op, Shape in, Shape out) {
  return verifyReshape(op, in, out);
}
static LogicalResult verifyMoveShape(TransposeOp op, Shape in, Shape out) {
  return verifyTranspose(op, in, op.getPermutation(), out);
}
static LogicalResult verifyMoveShape(BroadcastOp op, Shape in, Shape out) {
  return verifyExpand(op, in, out);
}
static LogicalResult verifyMoveShape(SliceOp op, Shape in, Shape out) {
  return verifySlice(op, in, op.getOffsets(), op.getStrides(), out);
}

/// Data movement keeps visibility and fractional bits; only the shape
/// changes, by the op's rule.
template <typename MoveOp>
static LogicalResult verifyMove(MoveOp op) {
  MpcTensorType in = typeOf(op.getInput()), out = typeOf(op.getOutput());
  if (in.getVisibility() != out.getVisibility())
    return op.emitOpError("result visibility must match the input's");
  if (in.getFrac() != out.getFrac())
    return op.emitOpError("result frac must match the input's");
  return verifyMoveShape(op, in.getShape(), out.getShape());
}

// The local move ops' verify() is generated (Mpc_MoveOp in MpcOps.td);
// mpc.max moves data the same way but communicates.
LogicalResult MaxOp::verify() { return verifyMove(*this); }

LogicalResult ArgMaxOp::verify() {
  MpcTensorType in = typeOf(getInput()), out = typeOf(getOutput());
  if (in.getVisibility() != out.getVisibility())
    return emitOpError("result visibility must match the input's");
  if (out.getFrac() != 0)
    return emitOpError("result must have frac = 0 (an index)");
  return verifyReduce(*this, in.getShape(),
                      {static_cast<int64_t>(getAxis())}, /*keepdims=*/true,
                      out.getShape());
}

LogicalResult ConcatOp::verify() {
  MpcTensorType out = typeOf(getOutput());
  SmallVector<Shape> shapes;
  for (Value in : getInputs()) {
    if (typeOf(in).getFrac() != out.getFrac())
      return emitOpError("inputs must have the result's frac");
    shapes.push_back(typeOf(in).getShape());
  }
  if (failed(verifyConcat(*this, shapes, getAxis(), out.getShape())))
    return failure();
  return verifyJoinedVisibility(*this, getInputs(), out);
}

LogicalResult OneHotOp::verify() {
  MpcTensorType out = typeOf(getOutput());
  if (out.isShared())
    return emitOpError("is computed in plaintext by the ids' holder: the "
                       "result cannot be shared (use mpc.share)");
  if (out.getFrac() != 0)
    return emitOpError("result must have frac = 0");
  SmallVector<int64_t> expected(getIds().getType().getShape());
  expected.push_back(getDepth());
  if (Shape(expected) != out.getShape())
    return emitOpError("result shape must be the ids' shape followed by "
                       "depth");
  return success();
}

// The op definitions come last: the generated verify() of the move ops calls
// verifyMove above.
/// `: input-type` and, when the result's precision differs, `-> type`.
static ParseResult parseInverseResult(OpAsmParser &parser, Type &input,
                                      Type &output) {
  if (parser.parseType(input))
    return failure();
  output = input;
  if (succeeded(parser.parseOptionalArrow()))
    return parser.parseType(output);
  return success();
}

static void printInverseResult(OpAsmPrinter &printer, Operation *, Type input,
                               Type output) {
  printer.printType(input);
  if (output != input) {
    printer << " -> ";
    printer.printType(output);
  }
}

#define GET_OP_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcOps.cpp.inc"
