//===- ElementwiseOps.cpp - ONNX elementwise ops to tfm -------------------===//
//
// Add/Sub/Mul/Div/Pow/Max/Min/Mod, comparisons and logic, unary math, Where
// and Cast. On public constants they are evaluated (umbra::ceval); values
// computed from graph inputs or owner constants become tfm ops.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;
using ceval::UnaryOp;

Value buildMin(OpBuilder &b, Location loc, Type type, Value x, Value y) {
  Value nx = tfm::NegOp::create(b, loc, x.getType(), x);
  Value ny = tfm::NegOp::create(b, loc, y.getType(), y);
  Value m = tfm::MaxOp::create(b, loc, type, nx, ny);
  return tfm::NegOp::create(b, loc, type, m);
}

Value buildGreater(OpBuilder &b, Location loc, Type type, Value x, Value y) {
  return tfm::LessOp::create(b, loc, type, y, x);
}

LogicalResult Importer::binary(BinaryOp k, BinaryBuilder build, Ins in,
                               Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects two inputs", failure();
  const Entry &x = in[0], &y = in[1];
  SmallVector<int64_t> shape;
  if (!ceval::broadcastShapes(shapeOf(x), shapeOf(y), shape))
    return nodeError() << "input shapes " << shapeStr(shapeOf(x)) << " and "
                       << shapeStr(shapeOf(y)) << " do not broadcast",
           failure();
  int32_t dx = dtypeOf(x), dy = dtypeOf(y);
  if (dx != dy && k != BinaryOp::Pow)
    return nodeError() << "inputs have different element types (" << dtName(dx)
                       << " vs " << dtName(dy) << ")",
           failure();
  int32_t resT = ceval::isComparison(k) ? TP::BOOL : dx;

  if (foldable(in)) {
    if (failed(checkFoldSize(numElements(shape))) || failed(decodeAll(in)))
      return failure();
    ceval::Tensor r;
    if (failed(evalError(ceval::binary(k, x.cst->value, y.cst->value,
                                       isFloatDT(resT), r))))
      return failure();
    out[0].cst = makeConst(resT, std::move(r));
    return success();
  }

  if (k == BinaryOp::Mod && isFloatDT(dx) && attrInt("fmod", 0) == 0)
    return nodeError() << "on float tensors needs fmod = 1 (ONNX)",
           failure();
  if (const char *why = integerRefusal(k, dx))
    return nodeError() << "on " << dtName(dx) << " tensors: " << why,
           failure();

  Entry yy = y;
  if (k == BinaryOp::Pow && isFloatDT(dx) && !isFloatDT(dy) && y.cst) {
    // A constant integer exponent of a float base: converted to the base's
    // type (its integer and half powers have cheaper lowerings).
    if (failed(decode(*y.cst)))
      return failure();
    yy.cst = makeConst(dx, ceval::cast(y.cst->value, /*toFloat=*/true,
                                       /*toBool=*/false, /*toDouble=*/true),
                       y.cst->role);
  }

  Value a = valueOf(x), c = valueOf(yy);
  if (!a || !c)
    return failure();
  if (!build)
    return nodeError() << "is only supported on constants", failure();
  out[0].value = build(b, loc, tensorType(shape, resT), a, c);
  return success();
}

LogicalResult Importer::variadic(BinaryOp k, BinaryBuilder build, Ins in,
                                 Outs out) {
  if (in.empty())
    return nodeError() << "expects at least one input", failure();
  Entry acc = in[0];
  for (size_t j = 1; j < in.size(); ++j) {
    Entry pair[2] = {acc, in[j]};
    Entry res;
    if (failed(binary(k, build, pair, llvm::MutableArrayRef<Entry>(res))))
      return failure();
    acc = res;
  }
  out[0] = acc;
  return success();
}

/// Unary ops with no tfm form (`build` is null) only ever apply to constants
/// (position and rotary tables, masks): they are evaluated even on the
/// owner's constants (the result stays the owner's).
LogicalResult Importer::unary(UnaryOp k, UnaryBuilder build, Ins in,
                              Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (foldable(in) || (allConst(in) && !build)) {
    if (failed(decode(*x.cst)))
      return failure();
    ceval::Tensor r;
    if (ceval::unary(k, x.cst->value, r) != ceval::Status::Ok)
      return nodeError() << "is not defined on " << dtName(dt), failure();
    out[0].cst = makeConst(dt, std::move(r), roleOf(in));
    return success();
  }
  if (!isFloatDT(dt) && !integerUnaryOk(k, dt))
    return nodeError() << "only float tensors computed from graph inputs are "
                          "supported here (got "
                       << dtName(dt) << ")",
           failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  if (!build)
    return nodeError() << "is only supported on constants (no tfm form for "
                          "tensors computed from graph inputs)",
           failure();
  out[0].value = build(b, loc, v.getType(), v);
  return success();
}

LogicalResult Importer::whereOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects three inputs", failure();
  SmallVector<int64_t> s1, shape;
  if (!ceval::broadcastShapes(shapeOf(in[0]), shapeOf(in[1]), s1) ||
      !ceval::broadcastShapes(s1, shapeOf(in[2]), shape))
    return nodeError() << "input shapes do not broadcast", failure();
  int32_t dt = dtypeOf(in[1]);
  if (dtypeOf(in[2]) != dt || !isBoolDT(dtypeOf(in[0])))
    return nodeError() << "expects a bool condition and two values of one type",
           failure();
  if (foldable(in)) {
    if (failed(checkFoldSize(numElements(shape))) || failed(decodeAll(in)))
      return failure();
    out[0].cst = makeConst(dt, ceval::where(in[0].cst->value, in[1].cst->value,
                                            in[2].cst->value, shape));
    return success();
  }
  if (!isFloatDT(dt) && !isIntDT(dt) && !isBoolDT(dt))
    return nodeError() << "selecting " << dtName(dt)
                       << " values computed from graph inputs is not supported",
           failure();
  Value c = valueOf(in[0]), t = valueOf(in[1]), f = valueOf(in[2]);
  if (!c || !t || !f)
    return failure();
  out[0].value = tfm::WhereOp::create(b, loc, tensorType(shape, dt), c, t, f);
  return success();
}

/// One binary op on two entries, folded when both are public constants.
static LogicalResult apply(Importer &im, BinaryOp k, BinaryBuilder build,
                           Entry x, Entry y, Entry &out) {
  Entry pair[2] = {x, y};
  return im.binary(k, build, pair, llvm::MutableArrayRef<Entry>(out));
}

LogicalResult Importer::meanOp(Ins in, Outs out) {
  Entry sum;
  if (failed(variadic(BinaryOp::Add, buildOp<tfm::AddOp>, in,
                      llvm::MutableArrayRef<Entry>(sum))))
    return failure();
  if (in.size() == 1) {
    out[0] = sum;
    return success();
  }
  Entry pair[2] = {sum, Entry{scalarConst(dtypeOf(sum), 1.0 / in.size()), {}}};
  return binary(BinaryOp::Mul, buildOp<tfm::MulOp>, pair, out);
}

LogicalResult Importer::preluOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects x and slope", failure();
  SmallVector<int64_t> shape;
  if (!ceval::broadcastShapes(shapeOf(in[0]), shapeOf(in[1]), shape) ||
      llvm::ArrayRef<int64_t>(shape) != shapeOf(in[0]))
    return nodeError() << "slope " << shapeStr(shapeOf(in[1]))
                       << " does not broadcast to x " << shapeStr(shapeOf(in[0])),
           failure();
  if (!isFloatDT(dtypeOf(in[0])) || dtypeOf(in[1]) != dtypeOf(in[0]))
    return nodeError() << "expects float x and slope of one type", failure();
  // prelu(x) = relu(x) + slope * (x - relu(x)): one comparison.
  Entry relu, negPart, scaled;
  if (failed(unary(UnaryOp::Relu, buildOp<tfm::ReluOp>, in.take_front(),
                   llvm::MutableArrayRef<Entry>(relu))) ||
      failed(apply(*this, BinaryOp::Sub, buildOp<tfm::SubOp>, in[0], relu,
                   negPart)) ||
      failed(apply(*this, BinaryOp::Mul, buildOp<tfm::MulOp>, in[1], negPart,
                   scaled)))
    return failure();
  return apply(*this, BinaryOp::Add, buildOp<tfm::AddOp>, relu, scaled,
               out[0]);
}

LogicalResult Importer::castOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  bool like = node->op_type() == "CastLike";
  if (like && (in.size() != 2 || !in[1]))
    return nodeError() << "expects input and target_type", failure();
  // CastLike takes the type of its second input (only its type is read).
  int32_t to = like ? dtypeOf(in[1]) : attrInt("to", TP::UNDEFINED);
  if (!mlirElemType(ctx, to))
    return nodeError() << "cannot cast to " << dtName(to), failure();
  FailureOr<Entry> r = castEntry(in[0], to);
  if (failed(r))
    return failure();
  out[0] = *r;
  onnxTypes[node->output(0)] = to;
  return success();
}

LogicalResult Importer::leakyReluOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  double alpha = attrFloat("alpha", 0.01f);
  int32_t dt = dtypeOf(in[0]);
  // alpha x + (1 - alpha) relu(x): one comparison.
  Entry relu, scaledRelu, scaled;
  Entry a{scalarConst(dt, alpha), {}}, rest{scalarConst(dt, 1 - alpha), {}};
  if (failed(unary(UnaryOp::Relu, buildOp<tfm::ReluOp>, in.take_front(),
                   llvm::MutableArrayRef<Entry>(relu))) ||
      failed(apply(*this, BinaryOp::Mul, buildOp<tfm::MulOp>, relu, rest,
                   scaledRelu)) ||
      failed(apply(*this, BinaryOp::Mul, buildOp<tfm::MulOp>, in[0], a,
                   scaled)))
    return failure();
  return apply(*this, BinaryOp::Add, buildOp<tfm::AddOp>, scaled, scaledRelu,
               out[0]);
}

LogicalResult Importer::hardSigmoidOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  int32_t dt = dtypeOf(in[0]);
  Entry a{scalarConst(dt, attrFloat("alpha", 0.2f)), {}},
      c{scalarConst(dt, attrFloat("beta", 0.5f)), {}},
      zero{scalarConst(dt, 0), {}}, one{scalarConst(dt, 1), {}};
  Entry ax, axc, low;
  if (failed(apply(*this, BinaryOp::Mul, buildOp<tfm::MulOp>, in[0], a, ax)) ||
      failed(apply(*this, BinaryOp::Add, buildOp<tfm::AddOp>, ax, c, axc)) ||
      failed(apply(*this, BinaryOp::Min, buildMin, axc, one, low)))
    return failure();
  return apply(*this, BinaryOp::Max, buildOp<tfm::MaxOp>, low, zero, out[0]);
}

LogicalResult Importer::clipOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects an input", failure();
  // Absent bounds are no bound; present ones may be constants or computed.
  Entry acc = in[0];
  if (in.size() > 1 && in[1]) {
    Entry r;
    if (failed(apply(*this, BinaryOp::Max, buildOp<tfm::MaxOp>, acc, in[1], r)))
      return failure();
    acc = r;
  }
  if (in.size() > 2 && in[2]) {
    Entry r;
    if (failed(apply(*this, BinaryOp::Min, buildMin, acc, in[2], r)))
      return failure();
    acc = r;
  }
  out[0] = acc;
  return success();
}

LogicalResult Importer::geluOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const auto *a = attr("approximate");
  std::string approx = a ? a->s() : "none";
  if (approx != "none" && approx != "tanh")
    return nodeError() << "unknown approximate '" << approx
                       << "' (expected none or tanh)",
           failure();
  if (!isFloatDT(dtypeOf(in[0])))
    return nodeError() << "expects a float tensor", failure();
  Value v = valueOf(in[0]);
  if (!v)
    return failure();
  auto g = tfm::GeluOp::create(b, loc, v.getType(), v);
  if (approx == "tanh")
    g.setApproximation(tfm::GeluApproximation::tanh);
  out[0].value = g;
  return success();
}

} // namespace umbra::onnx_import
