//===- IntegerOps.cpp - ONNX integer and bool ops to tfm ------------------===//
//
// Integer and bool tensors computed from graph inputs are ring elements at
// 0 fractional bits under MPC (bools: 0/1), so the ops that are exact on
// them have a tfm form: add, sub, mul, max/min, neg, abs, sign, the
// comparisons, the logic ops and Where. Integer division, modulo, powers
// and bit shifts become `tfm.div`, `tfm.mod`, `tfm.pow` and
// `tfm.bitshift` (exact lowerings on bounded domains,
// TfmToMpc/IntegerDivision.cpp). ArgMax/ArgMin and Hardmax become
// `tfm.argmax` (on constants, all of them are evaluated).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;
using ceval::UnaryOp;

Type integerOutputType(MLIRContext *ctx, int32_t dt) {
  if (isFloatDT(dt) || (!isIntDT(dt) && !isBoolDT(dt)))
    return {};
  if (isBoolDT(dt))
    return IntegerType::get(ctx, 1);
  bool u = dt == TP::UINT8 || dt == TP::UINT16 || dt == TP::UINT32 ||
           dt == TP::UINT64;
  return IntegerType::get(ctx, byteWidth(dt) * 8,
                          u ? IntegerType::Unsigned : IntegerType::Signed);
}

const char *integerRefusal(BinaryOp k, int32_t dt) {
  bool logic = k == BinaryOp::And || k == BinaryOp::Or || k == BinaryOp::Xor;
  if (logic)
    return isBoolDT(dt) ? nullptr : "logic ops take bool tensors";
  if (isFloatDT(dt))
    return nullptr;
  switch (k) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
  case BinaryOp::Mul:
  case BinaryOp::Max:
  case BinaryOp::Min:
  case BinaryOp::Equal:
  case BinaryOp::Less:
  case BinaryOp::Greater:
  case BinaryOp::LessOrEqual:
  case BinaryOp::GreaterOrEqual:
    return isBoolDT(dt) && k != BinaryOp::Equal
               ? "arithmetic on bools is not defined by ONNX"
               : nullptr;
  case BinaryOp::Div:
  case BinaryOp::Mod:
  case BinaryOp::Pow:
    return isBoolDT(dt) ? "arithmetic on bools is not defined by ONNX"
                        : nullptr;
  default:
    return "this integer op has no MPC lowering";
  }
}

bool integerUnaryOk(UnaryOp k, int32_t dt) {
  if (k == UnaryOp::Not)
    return isBoolDT(dt);
  return isIntDT(dt) &&
         (k == UnaryOp::Neg || k == UnaryOp::Abs || k == UnaryOp::Sign);
}

/// a <= b = not(b < a); a >= b = not(a < b).
Value buildLessOrEqual(OpBuilder &b, Location loc, Type type, Value x,
                       Value y) {
  return tfm::NotOp::create(b, loc, tfm::LessOp::create(b, loc, type, y, x));
}
Value buildGreaterOrEqual(OpBuilder &b, Location loc, Type type, Value x,
                          Value y) {
  return tfm::NotOp::create(b, loc, tfm::LessOp::create(b, loc, type, x, y));
}

static Value buildFloorMod(OpBuilder &b, Location loc, Type type, Value x,
                           Value y) {
  return tfm::ModOp::create(b, loc, type, x, y, b.getBoolAttr(false));
}
static Value buildFmod(OpBuilder &b, Location loc, Type type, Value x,
                       Value y) {
  return tfm::ModOp::create(b, loc, type, x, y, b.getBoolAttr(true));
}

/// ONNX Mod: `tfm.mod` with the `fmod` attribute (0: the divisor's sign,
/// 1: the dividend's).
LogicalResult Importer::modOp(Ins in, Outs out) {
  bool fmod = attrInt("fmod", 0) != 0;
  if (failed(binary(BinaryOp::Mod, fmod ? buildFmod : buildFloorMod, in, out)))
    return failure();
  // ceval's integer Mod has the divisor's sign: on constants with fmod = 1
  // the dividend's is restored (r - y where r != 0 and the signs differ).
  if (!fmod || !out[0].cst || out[0].cst->value.isFloat())
    return success();
  ceval::Tensor r = out[0].cst->value;
  auto &o = std::get<std::vector<int64_t>>(r.data);
  auto &xs = std::get<std::vector<int64_t>>(in[0].cst->value.data);
  auto &ys = std::get<std::vector<int64_t>>(in[1].cst->value.data);
  std::vector<int64_t> xi = ceval::broadcastMap(r.shape, shapeOf(in[0])),
                       yi = ceval::broadcastMap(r.shape, shapeOf(in[1]));
  for (size_t k = 0; k < o.size(); ++k)
    if (o[k] != 0 && (xs[xi[k]] < 0) != (ys[yi[k]] < 0))
      o[k] -= ys[yi[k]];
  out[0].cst = makeConst(dtypeOf(in[0]), std::move(r), out[0].cst->role);
  return success();
}

/// BitShift of unsigned integers: `tfm.bitshift`; on constants evaluated
/// (a shift by the width or more gives 0).
LogicalResult Importer::bitShiftOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects two inputs", failure();
  const onnx::AttributeProto *d = attr("direction");
  std::string dir = d ? d->s() : "";
  if (dir != "LEFT" && dir != "RIGHT")
    return nodeError() << "direction must be LEFT or RIGHT", failure();
  bool left = dir == "LEFT";
  const Entry &x = in[0], &y = in[1];
  int32_t dt = dtypeOf(x);
  // ONNX types BitShift on unsigned integers only; values computed from
  // graph inputs are signless here (their width is what the shift needs).
  if (!isIntDT(dt))
    return nodeError() << "shifts unsigned integers, got " << dtName(dt),
           failure();
  if (dtypeOf(y) != dt)
    return nodeError() << "inputs have different element types", failure();
  SmallVector<int64_t> shape;
  if (!ceval::broadcastShapes(shapeOf(x), shapeOf(y), shape))
    return nodeError() << "input shapes " << shapeStr(shapeOf(x)) << " and "
                       << shapeStr(shapeOf(y)) << " do not broadcast",
           failure();
  int64_t width = byteWidth(dt) * 8;
  if (foldable(in)) {
    if (failed(checkFoldSize(numElements(shape))) || failed(decodeAll(in)))
      return failure();
    ceval::Tensor r = ceval::Tensor::zeros(shape, /*isFloat=*/false);
    auto &o = std::get<std::vector<int64_t>>(r.data);
    auto &xs = std::get<std::vector<int64_t>>(x.cst->value.data);
    auto &ys = std::get<std::vector<int64_t>>(y.cst->value.data);
    std::vector<int64_t> xi = ceval::broadcastMap(shape, shapeOf(x)),
                         yi = ceval::broadcastMap(shape, shapeOf(y));
    uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
    for (size_t k = 0; k < o.size(); ++k) {
      uint64_t v = uint64_t(xs[xi[k]]) & mask, s = uint64_t(ys[yi[k]]) & mask;
      o[k] = s >= uint64_t(width) ? 0
                                  : int64_t(((left ? v << s : v >> s)) & mask);
    }
    out[0].cst = makeConst(dt, std::move(r));
    return success();
  }
  Value a = valueOf(x), c = valueOf(y);
  if (!a || !c)
    return failure();
  out[0].value = tfm::BitShiftOp::create(b, loc, tensorType(shape, dt), a, c,
                                         b.getBoolAttr(left));
  return success();
}

/// ArgMax, ArgMin (the argmax of -x) and Hardmax (1.0 at the first
/// maximum along `axis`: a comparison of the argmax with each index).
LogicalResult Importer::argMaxOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  StringRef op = node->op_type();
  bool hard = op == "Hardmax", argmin = op == "ArgMin";
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt) && !isIntDT(dt))
    return nodeError() << "expects a numeric tensor, got " << dtName(dt),
           failure();
  if (hard && !isFloatDT(dt))
    return nodeError() << "expects a float tensor", failure();
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t rank = shape.size();
  int64_t axis = attrInt("axis", hard ? -1 : 0);
  if (axis < -rank || axis >= rank || rank == 0)
    return nodeError() << "axis " << axis << " out of range for rank " << rank,
           failure();
  if (axis < 0)
    axis += rank;
  if (shape[axis] == 0)
    return nodeError() << "reduces an empty axis", failure();
  // Before opset 13 Hardmax works on the 2-D view [prod(dims < axis),
  // prod(dims >= axis)]: the same as per-axis only for the last axis.
  if (hard && opset < 13 && axis != rank - 1)
    return nodeError() << "before opset 13 works on a flattened 2-D view; "
                          "only axis = rank - 1 is supported",
           failure();
  bool keepdims = hard || attrInt("keepdims", 1) != 0;
  bool last = !hard && attrInt("select_last_index", 0) != 0;
  SmallVector<int64_t> idxShape(shape);
  if (keepdims)
    idxShape[axis] = 1;
  else
    idxShape.erase(idxShape.begin() + axis);

  if (foldable(in)) {
    if (failed(checkFoldSize(numElements(shape))) || failed(decodeAll(in)))
      return failure();
    const ceval::Tensor &t = x.cst->value;
    auto at = [&](int64_t i) {
      return std::visit([&](const auto &v) { return double(v[i]); }, t.data);
    };
    int64_t n = shape[axis], inner = 1;
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= shape[d];
    int64_t outer = x.cst->numElements() / (n * inner);
    std::vector<int64_t> idx(outer * inner);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        for (int64_t j = 1; j < n; ++j) {
          double a = at((o * n + j) * inner + i),
                 c = at((o * n + best) * inner + i);
          if (argmin ? (a < c || (last && a == c)) : (a > c || (last && a == c)))
            best = j;
        }
        idx[o * inner + i] = best;
      }
    if (!hard) {
      out[0].cst = makeConst(TP::INT64, ceval::Tensor{idxShape, std::move(idx)});
      return success();
    }
    std::vector<double> h(x.cst->numElements(), 0.0);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        h[(o * n + idx[o * inner + i]) * inner + i] = 1.0;
    out[0].cst = makeConst(dt, ceval::Tensor{SmallVector<int64_t>(shape),
                                              std::move(h)});
    return success();
  }

  Value v = valueOf(x);
  if (!v)
    return failure();
  if (argmin)
    v = tfm::NegOp::create(b, loc, v.getType(), v);
  Value i = tfm::ArgMaxOp::create(
      b, loc, tensorType(idxShape, TP::INT64), v, b.getI64IntegerAttr(axis),
      b.getBoolAttr(keepdims), b.getBoolAttr(last));
  if (!hard) {
    out[0].value = i;
    return success();
  }
  // Hardmax: [argmax == j] for each index j of the axis, as a real.
  SmallVector<int64_t> iotaShape(rank, 1);
  iotaShape[axis] = shape[axis];
  std::vector<int64_t> iota(shape[axis]);
  for (int64_t j = 0; j < shape[axis]; ++j)
    iota[j] = j;
  Value js = materialize(
      *makeConst(TP::INT64, ceval::Tensor{iotaShape, std::move(iota)}));
  if (!js)
    return failure();
  Value eq =
      tfm::EqualOp::create(b, loc, tensorType(shape, TP::BOOL), i, js);
  out[0].value = tfm::CastOp::create(b, loc, tensorType(shape, dt), eq);
  return success();
}

} // namespace umbra::onnx_import
