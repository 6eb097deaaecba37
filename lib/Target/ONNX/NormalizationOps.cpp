//===- NormalizationOps.cpp - ONNX normalisation and reductions to tfm ----===//
//
// Softmax and LogSoftmax (opset-dependent axis semantics),
// LayerNormalization and the reductions (ReduceLogSum and ReduceLogSumExp
// included).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

LogicalResult Importer::softmaxOp(Ins in, Outs out) {
  const Entry &x = in[0];
  if (!isFloatDT(dtypeOf(x)))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", opset >= 13 ? -1 : 1), r);
  if (failed(axis))
    return failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  // LogSoftmax has the same axis semantics (LossOps.cpp lowers it).
  auto build = [&](Value in, int64_t ax) -> Value {
    if (node->op_type() == "LogSoftmax")
      return tfm::LogSoftmaxOp::create(b, loc, in.getType(), in,
                                       b.getI64IntegerAttr(ax));
    return tfm::SoftmaxOp::create(b, loc, in.getType(), in,
                                  b.getI64IntegerAttr(ax));
  };
  if (opset >= 13 || *axis == r - 1) {
    out[0].value = build(v, *axis - r);
    return success();
  }
  // Before opset 13 Softmax normalises the input coerced to 2-D at `axis`.
  SmallVector<int64_t> flat = {numElements(s.take_front(*axis)),
                               numElements(s.drop_front(*axis))};
  out[0].value = emitReshape(build(emitReshape(v, flat), -1), s);
  return success();
}

LogicalResult Importer::layerNormOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects X and Scale", failure();
  bool statsUsed = false;
  for (size_t k = 1; k < out.size(); ++k)
    statsUsed |= !node->output(k).empty() && useCount.lookup(node->output(k));
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", -1), r);
  if (failed(axis))
    return failure();
  float eps = attrFloat("epsilon", 1e-5f);
  llvm::ArrayRef<int64_t> normShape = s.drop_front(*axis);
  auto param = [&](const Entry &e) -> Value {
    Value v = valueOf(e);
    if (!v)
      return {};
    if (shapeOf(e) == normShape)
      return v;
    // [1, ..., 1, normalised dims]: drop the leading ones.
    llvm::ArrayRef<int64_t> ps = shapeOf(e);
    while (ps.size() > normShape.size() && ps.front() == 1)
      ps = ps.drop_front();
    if (ps == normShape)
      return emitReshape(v, normShape);
    SmallVector<int64_t> bc;
    if (!ceval::broadcastShapes(ps, normShape, bc) ||
        llvm::ArrayRef<int64_t>(bc) != normShape) {
      nodeError() << "scale/bias shape " << shapeStr(shapeOf(e))
                  << " does not match the normalised shape "
                  << shapeStr(normShape);
      return {};
    }
    if (ps.size() < shapeOf(e).size())
      v = emitReshape(v, ps);
    return tfm::ExpandOp::create(b, loc, tensorType(normShape, dt), v);
  };
  Value xv = valueOf(x);
  Value scale = param(in[1]);
  Value bias;
  if (!xv || !scale)
    return failure();
  if (in.size() > 2 && in[2] && !(bias = param(in[2])))
    return failure();
  out[0].value = tfm::LayerNormOp::create(b, loc, xv.getType(), xv, scale, bias,
                                          b.getI64IntegerAttr(*axis - r),
                                          b.getF32FloatAttr(eps));
  if (statsUsed) {
    // Training-style outputs (never used by exported transformers): the mean
    // and 1/sqrt(var + eps) over the normalised axes, decomposed.
    SmallVector<int64_t> axes;
    for (int64_t d = *axis; d < r; ++d)
      axes.push_back(d);
    auto [mean, var] = meanAndVariance(xv, axes);
    auto statTy = mean.getType();
    Value e = materialize(*scalarConst(dt, eps));
    if (!e)
      return failure();
    Value sd = tfm::SqrtOp::create(
        b, loc, statTy, tfm::AddOp::create(b, loc, statTy, var, e));
    if (out.size() > 1)
      out[1].value = mean;
    if (out.size() > 2)
      out[2].value = tfm::ReciprocalOp::create(b, loc, statTy, sd);
  }
  return success();
}

std::pair<Value, Value> Importer::meanAndVariance(Value x,
                                                  ArrayRef<int64_t> axes) {
  auto ty = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> kept(ty.getShape());
  for (int64_t a : axes)
    kept[a] = 1;
  auto statTy = RankedTensorType::get(kept, ty.getElementType());
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  auto keep = b.getBoolAttr(true);
  Value mean = tfm::ReduceMeanOp::create(b, loc, statTy, x, axesAttr, keep);
  Value d = tfm::SubOp::create(b, loc, ty, x, mean);
  Value sq = tfm::MulOp::create(b, loc, ty, d, d);
  return {mean, tfm::ReduceMeanOp::create(b, loc, statTy, sq, axesAttr, keep)};
}

LogicalResult Importer::globalPoolOp(Ins in, Outs out) {
  const Entry &x = in[0];
  if (!isFloatDT(dtypeOf(x)) || rankOf(x) < 3)
    return nodeError() << "expects a float [N, C, ...] tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  SmallVector<int64_t> axes, shape(s.take_front(2));
  for (int64_t d = 2; d < static_cast<int64_t>(s.size()); ++d) {
    axes.push_back(d);
    shape.push_back(1);
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  auto ty = tensorType(shape, dtypeOf(x));
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  auto keepAttr = b.getBoolAttr(true);
  if (node->op_type() == "GlobalMaxPool")
    out[0].value = tfm::ReduceMaxOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else
    out[0].value = tfm::ReduceMeanOp::create(b, loc, ty, v, axesAttr, keepAttr);
  return success();
}

LogicalResult Importer::reduceOp(Ins in, Outs out) {
  const Entry &x = in[0];
  StringRef op = node->op_type();
  if (!isFloatDT(dtypeOf(x)))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  // Axes are an input since opset 13 for ReduceSum and since 18 for the
  // other reductions, an attribute before.
  bool axesInput = opset >= 18 || (op == "ReduceSum" && opset >= 13);
  auto axesOr = listArg(in, 1, "axes", axesInput);
  if (failed(axesOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr;
  bool keep = attrInt("keepdims", 1) != 0;
  if (axes.empty()) {
    if (axesInput && attrInt("noop_with_empty_axes", 0)) {
      out[0] = x;
      return success();
    }
    for (int64_t d = 0; d < r; ++d)
      axes.push_back(d);
  }
  SmallVector<bool> red(r, false);
  for (int64_t &a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    a = *n;
    red[a] = true;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < r; ++d) {
    if (!red[d])
      shape.push_back(s[d]);
    else if (keep)
      shape.push_back(1);
  }
  if (foldable(in.take_front()) &&
      (op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" ||
       op == "ReduceMin")) {
    // A public constant (a count or mask derived from constant labels):
    // reduced at import, so that no gate runs on public values.
    if (failed(decode(*x.cst)))
      return failure();
    const ceval::Tensor &xt = x.cst->value;
    int64_t n = numElements(shape), m = xt.size() / std::max<int64_t>(n, 1);
    ceval::Tensor t = ceval::Tensor::zeros(shape, /*isFloat=*/true);
    auto &acc = std::get<std::vector<double>>(t.data);
    SmallVector<int64_t> strides = ceval::rowMajorStrides(s);
    std::vector<bool> seen(acc.size(), false);
    for (int64_t k = 0; k < xt.size(); ++k) {
      int64_t rest = k, o = 0;
      for (int64_t d = 0; d < r; ++d) {
        int64_t coord = rest / strides[d];
        rest %= strides[d];
        if (!red[d])
          o = o * s[d] + coord;
      }
      double v = xt.at(k);
      if (op == "ReduceMax" || op == "ReduceMin")
        acc[o] = !seen[o]              ? v
                 : op == "ReduceMax" ? std::max(acc[o], v)
                                     : std::min(acc[o], v);
      else
        acc[o] += v;
      seen[o] = true;
    }
    if (op == "ReduceMean")
      for (double &a : acc)
        a /= double(m);
    out[0].cst = makeConst(dtypeOf(x), std::move(t));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  auto ty = tensorType(shape, dtypeOf(x));
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  auto keepAttr = b.getBoolAttr(keep);
  if (op == "ReduceL1") {
    // A sum of |x|.
    v = tfm::AbsOp::create(b, loc, v.getType(), v);
    op = "ReduceSum";
  }
  if (op == "ReduceProd") {
    // A product of the slices along each reduced axis (a chain of
    // elementwise products), then the kept dimensions dropped.
    Value acc = v;
    for (int64_t a : axes) {
      auto at = cast<RankedTensorType>(acc.getType());
      SmallVector<int64_t> sizes(at.getShape()), strides(r, 1);
      int64_t n = sizes[a];
      sizes[a] = 1;
      if (n == 0)
        return nodeError() << "reduces an empty axis", failure();
      Value prod;
      for (int64_t k = 0; k < n; ++k) {
        SmallVector<int64_t> offsets(r, 0);
        offsets[a] = k;
        Value part = emitSlice(acc, offsets, strides, sizes);
        prod = prod ? tfm::MulOp::create(b, loc, part.getType(), prod, part)
                          .getResult()
                    : part;
      }
      acc = prod;
    }
    out[0].value = emitReshape(acc, shape);
    return success();
  }
  if (op == "ReduceSumSquare" || op == "ReduceL2") {
    Value sq = tfm::MulOp::create(b, loc, v.getType(), v, v);
    Value sum = tfm::ReduceSumOp::create(b, loc, ty, sq, axesAttr, keepAttr);
    out[0].value =
        op == "ReduceL2" ? tfm::SqrtOp::create(b, loc, ty, sum) : sum;
  } else if (op == "ReduceLogSum") {
    out[0].value = tfm::LogOp::create(
        b, loc, ty, tfm::ReduceSumOp::create(b, loc, ty, v, axesAttr, keepAttr));
  } else if (op == "ReduceLogSumExp") {
    // m + log(sum(exp(x - m))) with m the maximum: exp of values <= 0 and
    // log of a sum in [1, n].
    SmallVector<int64_t> kept(s);
    for (int64_t a : axes)
      kept[a] = 1;
    auto keptTy = tensorType(kept, dtypeOf(x));
    auto keepTrue = b.getBoolAttr(true);
    Value m = tfm::ReduceMaxOp::create(b, loc, keptTy, v, axesAttr, keepTrue);
    Value e = tfm::ExpOp::create(b, loc, v.getType(),
                                 tfm::SubOp::create(b, loc, v.getType(), v, m));
    Value lse = tfm::AddOp::create(
        b, loc, keptTy,
        tfm::LogOp::create(b, loc, keptTy,
                           tfm::ReduceSumOp::create(b, loc, keptTy, e,
                                                    axesAttr, keepTrue)),
        m);
    out[0].value = keep ? lse : emitReshape(lse, shape);
  } else if (op == "ReduceSum")
    out[0].value = tfm::ReduceSumOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else if (op == "ReduceMean")
    out[0].value = tfm::ReduceMeanOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else if (op == "ReduceMax")
    out[0].value = tfm::ReduceMaxOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else if (op == "ReduceMin") {
    // min(x) = -max(-x).
    Value neg = tfm::NegOp::create(b, loc, v.getType(), v);
    Value mx = tfm::ReduceMaxOp::create(b, loc, ty, neg, axesAttr, keepAttr);
    out[0].value = tfm::NegOp::create(b, loc, ty, mx);
  } else
    return nodeError() << "is not a reduction the importer knows", failure();
  return success();
}

} // namespace umbra::onnx_import
