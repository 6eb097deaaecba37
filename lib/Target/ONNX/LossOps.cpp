//===- LossOps.cpp - ONNX losses and selections by labels to tfm ----------===//
//
// NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss and GatherElements
// select entries by integer indices. Public (constant) indices are
// structure: the selection is public data movement or a product with a
// public 0/1 constant. Indices that are a model input are the client's
// private data (class labels): the client expands them into one-hot rows
// in plaintext (`tfm.one_hot`, lowered to `mpc.one_hot` at the client, then
// shared), and a selection becomes a product with the rows and a sum, so
// the labels are never revealed. Indices computed inside the model have no
// such form and are refused. (LogSoftmax, ReduceLogSum and ReduceLogSumExp
// share the Softmax and Reduce handlers of NormalizationOps.cpp.)
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

/// 0/1 rows of the integer indices `ind` over `depth` classes, as a float
/// tensor of shape ind.shape + [depth]: a public constant for constant
/// indices (an index equal to `ignore`, if given, gets a zero row),
/// `tfm.one_hot` for the
/// client's (a graph input, in [0, depth)). Null after a diagnostic.
static Value oneHotRows(OpBuilder &b, Location loc,
                        llvm::function_ref<InFlightDiagnostic()> error,
                        const Entry &ind, Value indValue,
                        llvm::ArrayRef<int64_t> indShape,
                        llvm::ArrayRef<int64_t> constIdx, int64_t depth,
                        std::optional<int64_t> ignore,
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
  if (!isa<BlockArgument>(ids)) {
    error() << "selects by indices computed inside the model, which have no "
               "MPC form; constant indices and indices that are a model "
               "input (the client's, one-hot encoded by the client) are "
               "supported";
    return {};
  }
  SmallVector<int64_t> idsShape(cast<RankedTensorType>(ids.getType()).getShape());
  idsShape.push_back(depth);
  Value rows = tfm::OneHotOp::create(
      b, loc, RankedTensorType::get(idsShape, b.getF32Type()), ids,
      b.getI64IntegerAttr(depth));
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
  } else if (ignore && (*ignore < 0 || *ignore >= c)) {
    return nodeError() << "ignore_index " << *ignore << " is outside [0, " << c
                       << ") and the target is the client's: its one-hot "
                          "rows are built for labels in [0, "
                       << c << ") only",
           failure();
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
      ignore, [&](ConstPtr k) { return materialize(*k); });
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
  // Per-class factors w'[c] = w[c] [c != ignore]: the weights (if any) and
  // the public mask of an in-range ignore_index (a client's label equal to
  // it then selects 0); null when every factor is 1.
  Value wp;
  auto cTy = tensorType({c}, dt);
  if (weight)
    wp = valueOf(weight);
  if (ignore && *ignore >= 0 && *ignore < c && !target.cst) {
    ceval::Tensor m = ceval::Tensor::zeros({c}, /*isFloat=*/true);
    auto &md = std::get<std::vector<double>>(m.data);
    std::fill(md.begin(), md.end(), 1.0);
    md[*ignore] = 0.0;
    Value mask = materialize(*literal(makeConst(dt, std::move(m))));
    if (!mask)
      return failure();
    wp = wp ? tfm::MulOp::create(b, loc, cTy, wp, mask).getResult() : mask;
  }
  if (weight && !wp)
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
  if (!wp) {
    // Every element counts once (no weights, nothing ignored by a client's
    // label): a public count.
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
  // The mean weighted by the selected factors: a divisor computed from the
  // labels (and weights), so a division under MPC.
  Value den = tfm::ReduceSumOp::create(
      b, loc, scalarTy,
      tfm::ReduceSumOp::create(
          b, loc, lossTy,
          tfm::MulOp::create(b, loc, lastTy, hot, wp),
          lastAxis, noKeep),
      b.getDenseI64ArrayAttr(all), noKeep);
  out[0].value = tfm::DivOp::create(b, loc, scalarTy, sum, den);
  return success();
}

LogicalResult Importer::gatherElementsOp(Ins in, Outs out) {
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
  if (ind.cst) {
    // Public indices: a gather from the flattened data at the flat
    // positions (slices where they run consecutively).
    if (failed(decode(*ind.cst)))
      return failure();
    llvm::ArrayRef<int64_t> iv = ind.cst->ints();
    SmallVector<int64_t> dstr = ceval::rowMajorStrides(s),
                         istr = ceval::rowMajorStrides(is), flat;
    for (size_t k = 0; k < iv.size(); ++k) {
      int64_t j = iv[k];
      if (j < -n || j >= n)
        return nodeError() << "index " << j << " is out of range for "
                           << "dimension " << n,
               failure();
      int64_t pos = 0, rest = k;
      for (int64_t d = 0; d < r; ++d) {
        int64_t coord = rest / istr[d];
        rest %= istr[d];
        pos += (d == *axis ? (j < 0 ? j + n : j) : coord) * dstr[d];
      }
      flat.push_back(pos);
    }
    Value f = emitReshape(v, {numElements(s)});
    Value g = emitIndexAlong(f, 0, flat, 0.0);
    if (!g)
      return failure();
    out[0].value = emitReshape(g, is);
    return success();
  }
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
      std::nullopt,
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

} // namespace umbra::onnx_import
