//===- LossOps.cpp - ONNX losses and selections by labels to tfm ----------===//
//
// NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss and GatherElements
// select entries by integer indices. Public (constant) indices are
// structure: the selection is public data movement or a product with a
// public 0/1 constant. Indices that are a model input are the client's
// private data (class labels): the client expands them into one-hot rows
// in plaintext (`tfm.one_hot`, lowered to `mpc.one_hot` at the client, then
// shared), and a selection becomes a product with the rows and a sum, so
// the labels are never revealed. Indices computed inside the model are
// secret: their rows are comparisons under MPC (`tfm.one_hot`'s lowering).
// (LogSoftmax, ReduceLogSum and ReduceLogSumExp
// share the Softmax and Reduce handlers of NormalizationOps.cpp.)
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

/// 0/1 rows of the integer indices `ind` over `depth` classes, as a float
/// tensor of shape ind.shape + [depth] (an index equal to `ignore`, if
/// given, gets a zero row; with `wrapNegative`, indices in [-depth, 0)
/// count from the end): a public constant for constant indices,
/// `tfm.one_hot` otherwise (the client's indices or computed ones). Null
/// after a diagnostic.
static Value oneHotRows(OpBuilder &b, Location loc,
                        llvm::function_ref<InFlightDiagnostic()> error,
                        const Entry &ind, Value indValue,
                        llvm::ArrayRef<int64_t> indShape,
                        llvm::ArrayRef<int64_t> constIdx, int64_t depth,
                        std::optional<int64_t> ignore, bool wrapNegative,
                        llvm::function_ref<Value(ConstPtr)> materializeConst) {
  SmallVector<int64_t> shape(indShape);
  shape.push_back(depth);
  if (ind.cst) {
    ceval::Tensor t = ceval::Tensor::zeros(shape, /*isFloat=*/true);
    auto &data = std::get<std::vector<double>>(t.data);
    for (size_t k = 0; k < constIdx.size(); ++k) {
      int64_t v = constIdx[k];
      if (ignore && v == *ignore)
        continue;
      if (wrapNegative && v < 0)
        v += depth;
      if (v < 0 || v >= depth) {
        error() << "index " << constIdx[k] << " is out of range [0, " << depth
                << ")";
        return {};
      }
      data[k * depth + v] = 1.0;
    }
    return materializeConst(makeConst(TP::FLOAT, std::move(t)));
  }
  // Rows of reshaped ids are the reshaped rows (an Unsqueeze of a label
  // input, as in the expanded NegativeLogLikelihoodLoss).
  Value ids = indValue;
  while (auto r = ids.getDefiningOp<tfm::ReshapeOp>())
    ids = r.getInput();
  SmallVector<int64_t> idsShape(cast<RankedTensorType>(ids.getType()).getShape());
  idsShape.push_back(depth);
  Value rows = tfm::OneHotOp::create(
      b, loc, RankedTensorType::get(idsShape, b.getF32Type()), ids,
      b.getI64IntegerAttr(depth),
      ignore ? b.getI64IntegerAttr(*ignore) : IntegerAttr(),
      wrapNegative ? b.getUnitAttr() : UnitAttr());
  if (ids == indValue)
    return rows;
  return tfm::ReshapeOp::create(
      b, loc, RankedTensorType::get(shape, b.getF32Type()), rows);
}

LogicalResult Importer::nllLossOp(Ins in, Outs out) {
  bool sce = node->op_type() == "SoftmaxCrossEntropyLoss";
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects scores and a target", failure();
  const Entry &x = in[0], &target = in[1];
  Entry weight = in.size() > 2 ? in[2] : Entry{};
  int32_t dt = dtypeOf(x);
  llvm::ArrayRef<int64_t> s = shapeOf(x), ts = shapeOf(target);
  int64_t r = s.size();
  if (!isFloatDT(dt) || r < 2)
    return nodeError() << "expects float scores of shape [N, C, d...]",
           failure();
  if (!isIntDT(dtypeOf(target)))
    return nodeError() << "expects an integer target", failure();
  SmallVector<int64_t> lossShape{s[0]};
  llvm::append_range(lossShape, s.drop_front(2));
  if (ts != llvm::ArrayRef<int64_t>(lossShape))
    return nodeError() << "target shape " << shapeStr(ts)
                       << " does not match the scores' [N, d...] "
                       << shapeStr(lossShape),
           failure();
  int64_t c = s[1];
  if (weight && (!isFloatDT(dtypeOf(weight)) ||
                 shapeOf(weight) != llvm::ArrayRef<int64_t>{c}))
    return nodeError() << "weights must be a float tensor of shape [" << c
                       << "]",
           failure();
  std::string reduction = "mean";
  if (const auto *a = attr("reduction"))
    reduction = a->s();
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return nodeError() << "unknown reduction '" << reduction << "'",
           failure();
  std::optional<int64_t> ignore;
  if (attr("ignore_index"))
    ignore = attrInt("ignore_index", 0);

  Value xv = valueOf(x);
  Value tv = target.cst ? Value() : target.value;
  if (!xv)
    return failure();
  SmallVector<int64_t> idx;
  if (target.cst) {
    if (failed(decode(*target.cst)))
      return failure();
    idx.assign(target.cst->ints().begin(), target.cst->ints().end());
  }
  // The log-probabilities: SoftmaxCrossEntropyLoss's second output.
  auto xTy = tensorType(s, dt);
  if (sce) {
    xv = tfm::LogSoftmaxOp::create(b, loc, xTy, xv, b.getI64IntegerAttr(1));
    if (out.size() > 1)
      out[1].value = xv;
  }
  Value hot = oneHotRows(
      b, loc, [&] { return nodeError(); }, target, tv, ts, idx, c,
      ignore, /*wrapNegative=*/false, [&](ConstPtr k) { return materialize(*k); });
  if (!hot)
    return failure();
  // Scores with the classes last: [N, d..., C].
  SmallVector<int64_t> perm{0}, lastShape{s[0]};
  for (int64_t d = 2; d < r; ++d) {
    perm.push_back(d);
    lastShape.push_back(s[d]);
  }
  perm.push_back(1);
  lastShape.push_back(c);
  Value xl = r > 2 ? emitTranspose(xv, perm) : xv;
  // The weights (if any) per class; ignored labels have zero rows.
  Value wp;
  if (weight && !(wp = valueOf(weight)))
    return failure();
  auto lastTy = tensorType(lastShape, dt);
  auto lossTy = tensorType(lossShape, dt);
  auto lastAxis = b.getDenseI64ArrayAttr({r - 1});
  auto noKeep = b.getBoolAttr(false);
  Value xw = wp ? tfm::MulOp::create(b, loc, lastTy, xl, wp).getResult() : xl;
  Value picked = tfm::ReduceSumOp::create(
      b, loc, lossTy, tfm::MulOp::create(b, loc, lastTy, hot, xw), lastAxis,
      noKeep);
  Value loss = tfm::NegOp::create(b, loc, lossTy, picked);
  if (reduction == "none") {
    out[0].value = loss;
    return success();
  }
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < r - 1; ++d)
    all.push_back(d);
  auto scalarTy = tensorType({}, dt);
  Value sum = tfm::ReduceSumOp::create(b, loc, scalarTy, loss,
                                       b.getDenseI64ArrayAttr(all), noKeep);
  if (reduction == "sum") {
    out[0].value = sum;
    return success();
  }
  if (!wp && (!ignore || target.cst)) {
    // Every element counts once (no weights; ignored labels, if any, are
    // public): a public count.
    int64_t n = numElements(lossShape);
    if (target.cst && ignore)
      n = llvm::count_if(idx, [&](int64_t v) { return v != *ignore; });
    if (n == 0)
      return nodeError() << "averages over no element (every label is "
                            "ignore_index)",
             failure();
    Value inv = materialize(*scalarConst(dt, 1.0 / double(n)));
    if (!inv)
      return failure();
    out[0].value = tfm::MulOp::create(b, loc, scalarTy, sum, inv);
    return success();
  }
  // The mean weighted by the selected weights, or over the labels that are
  // not ignored: a divisor computed from the client's labels (and the
  // weights), so a division under MPC.
  Value sel = wp ? tfm::MulOp::create(b, loc, lastTy, hot, wp).getResult() : hot;
  Value den = tfm::ReduceSumOp::create(
      b, loc, scalarTy,
      tfm::ReduceSumOp::create(b, loc, lossTy, sel, lastAxis, noKeep),
      b.getDenseI64ArrayAttr(all), noKeep);
  out[0].value = tfm::DivOp::create(b, loc, scalarTy, sum, den);
  return success();
}

/// GatherElements by indices that are not constants (IndexOps.cpp handles
/// constant ones): one-hot rows of the indices times the data, summed over the axis.
LogicalResult Importer::gatherElementsByIndexRows(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects data and indices", failure();
  const Entry &data = in[0], &ind = in[1];
  llvm::ArrayRef<int64_t> s = shapeOf(data), is = shapeOf(ind);
  int64_t r = s.size();
  if (!isFloatDT(dtypeOf(data)))
    return nodeError() << "expects float data", failure();
  if (!isIntDT(dtypeOf(ind)))
    return nodeError() << "indices must be integers", failure();
  if (static_cast<int64_t>(is.size()) != r)
    return nodeError() << "indices must have the data's rank " << r,
           failure();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  for (int64_t d = 0; d < r; ++d)
    if (d != *axis && is[d] > s[d])
      return nodeError() << "indices shape " << shapeStr(is)
                         << " exceeds the data's " << shapeStr(s)
                         << " outside the axis",
             failure();
  Value v = valueOf(data);
  if (!v)
    return failure();
  int64_t n = s[*axis];
  int32_t dt = dtypeOf(data);
  // The client's indices: y[i...] = sum_m hot[i..., m] x'[i..., m] with x'
  // the data cut to the indices' extent outside the axis and the axis last.
  SmallVector<int64_t> sizes(is), offsets(r, 0), strides(r, 1);
  sizes[*axis] = n;
  Value cut = llvm::ArrayRef<int64_t>(sizes) == s
                  ? v
                  : emitSlice(v, offsets, strides, sizes);
  SmallVector<int64_t> perm, lastShape;
  for (int64_t d = 0; d < r; ++d)
    if (d != *axis) {
      perm.push_back(d);
      lastShape.push_back(is[d]);
    }
  perm.push_back(*axis);
  lastShape.push_back(n);
  Value xl = *axis == r - 1 ? cut : emitTranspose(cut, perm);
  // hot [is..., n] with the indices' axis moved next to last:
  // [others..., is[axis], n], against x' broadcast along that axis.
  Value hot = oneHotRows(
      b, loc, [&] { return nodeError(); }, ind, ind.value, is, {}, n,
      std::nullopt, /*wrapNegative=*/true,
      [&](ConstPtr k) { return materialize(*literal(k)); });
  if (!hot)
    return failure();
  SmallVector<int64_t> permIdx(perm);
  permIdx.push_back(r);
  Value hotT = *axis == r - 1 ? hot : emitTranspose(hot, permIdx);
  // x'' [others..., 1, n] broadcast to [others..., is[axis], n].
  SmallVector<int64_t> others(lastShape.begin(), lastShape.end() - 1);
  SmallVector<int64_t> oneShape(others), bcShape(others);
  oneShape.push_back(1);
  oneShape.push_back(n);
  bcShape.push_back(is[*axis]);
  bcShape.push_back(n);
  Value xb = tfm::ExpandOp::create(b, loc, tensorType(bcShape, dt),
                                   emitReshape(xl, oneShape));
  SmallVector<int64_t> redShape(others);
  redShape.push_back(is[*axis]);
  Value y = tfm::ReduceSumOp::create(
      b, loc, tensorType(redShape, dt),
      tfm::MulOp::create(b, loc, tensorType(bcShape, dt), hotT, xb),
      b.getDenseI64ArrayAttr({r}), b.getBoolAttr(false));
  if (*axis != r - 1) {
    // [others..., axis] back to the indices' order.
    SmallVector<int64_t> back(r);
    for (int64_t k = 0; k < r; ++k)
      back[permIdx[k]] = k;
    y = emitTranspose(y, back);
  }
  out[0].value = y;
  return success();
}

/// OneHot: off + (on - off) * rows, the rows of the indices (negative ones
/// count from the end; an index outside [-depth, depth) gets a row of
/// `off`) with the depth axis moved to `axis`. Float indices are cast to
/// int64 first, as the operator says.
LogicalResult Importer::oneHotOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects indices, depth and values", failure();
  const Entry &ind = in[0], &values = in[2];
  FailureOr<SmallVector<double>> depthVal = constFloats(in[1], 1, "depth");
  if (failed(depthVal))
    return failure();
  if (depthVal->size() != 1 || (*depthVal)[0] < 1 ||
      (*depthVal)[0] != std::floor((*depthVal)[0]))
    return nodeError() << "depth must be one positive integer", failure();
  auto depth = static_cast<int64_t>((*depthVal)[0]);
  if (shapeOf(values).size() != 1 || shapeOf(values)[0] != 2)
    return nodeError() << "values must be [off_value, on_value]", failure();
  llvm::ArrayRef<int64_t> is = shapeOf(ind);
  int64_t r = is.size();
  auto axis = normAxis(attrInt("axis", -1), r + 1);
  if (failed(axis))
    return failure();
  Value iv = valueOf(ind), vv = valueOf(values);
  if (!iv || !vv)
    return failure();
  if (!isIntDT(dtypeOf(ind)))
    iv = tfm::CastOp::create(b, loc, tensorType(is, TP::INT64), iv);
  int32_t dt = dtypeOf(values);
  SmallVector<int64_t> hotShape(is);
  hotShape.push_back(depth);
  Value rows = tfm::OneHotOp::create(
      b, loc, tensorType(hotShape, TP::FLOAT), iv,
      b.getI64IntegerAttr(depth), IntegerAttr(), b.getUnitAttr());
  if (!isFloatDT(dt))
    rows = tfm::CastOp::create(b, loc, tensorType(hotShape, dt), rows);
  auto scalarTy = tensorType({1}, dt);
  Value off = emitSlice(vv, {0}, {1}, {1}), on = emitSlice(vv, {1}, {1}, {1});
  Value span = tfm::SubOp::create(b, loc, scalarTy, on, off);
  Value y = tfm::AddOp::create(
      b, loc, tensorType(hotShape, dt),
      tfm::MulOp::create(b, loc, tensorType(hotShape, dt), rows, span), off);
  if (*axis != r) {
    SmallVector<int64_t> perm;
    for (int64_t d = 0; d < r; ++d) {
      if (d == *axis)
        perm.push_back(r);
      perm.push_back(d);
    }
    y = emitTranspose(y, perm);
  }
  out[0].value = y;
  return success();
}

} // namespace umbra::onnx_import
