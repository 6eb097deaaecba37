//===- IndexOps.cpp - ONNX ops that move elements by constant indices -----===//
//
// ScatterElements, Scatter, ScatterND, GatherElements, GatherND,
// ReverseSequence, Compress, MaxUnpool and EyeLike. With public indices (constants, or structure the
// deployment knows) each is a public index map on the flattened operands:
// indexMap computes it (folded for public constants, else one gather by
// constant indices: data movement, no communication). Reductions of
// scatters combine gathered layers with `tfm.add`/`tfm.mul`/`tfm.max`.
// Indices held privately (the client's) would need an oblivious one-hot
// product per element; they are refused at import.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

LogicalResult Importer::indexMap(llvm::ArrayRef<Entry> srcs,
                                 llvm::ArrayRef<int64_t> shape,
                                 llvm::ArrayRef<int64_t> map, double fill,
                                 Entry &out) {
  int32_t dt = dtypeOf(srcs[0]);
  if (foldable(srcs)) {
    SmallVector<const ceval::Tensor *> parts;
    int64_t total = 0;
    for (const Entry &e : srcs) {
      if (failed(decode(*e.cst)))
        return failure();
      parts.push_back(&e.cst->value);
      total += e.cst->numElements();
    }
    // The flat sources then the fill element.
    ceval::Tensor flat;
    flat.shape = {total + 1};
    if (isFloatDT(dt)) {
      std::vector<double> d;
      for (const ceval::Tensor *t : parts)
        for (int64_t k = 0, n = t->size(); k < n; ++k)
          d.push_back(t->at(k));
      d.push_back(fill);
      flat.data = std::move(d);
    } else {
      std::vector<int64_t> d;
      for (const ceval::Tensor *t : parts) {
        const auto &v = std::get<std::vector<int64_t>>(t->data);
        d.insert(d.end(), v.begin(), v.end());
      }
      d.push_back(static_cast<int64_t>(fill));
      flat.data = std::move(d);
    }
    std::vector<int64_t> m(map.begin(), map.end());
    for (int64_t &k : m)
      if (k < 0)
        k = total;
    out = Entry{makeConst(dt, ceval::remap(flat, shape, m)), {}};
    return success();
  }
  SmallVector<Value> flats;
  for (const Entry &e : srcs) {
    Value v = valueOf(e);
    if (!v)
      return failure();
    flats.push_back(emitReshape(v, {ceval::numElements(shapeOf(e))}));
  }
  Value v = emitIndexAlong(emitConcat(flats, 0), 0, map, fill);
  if (!v)
    return failure();
  out = Entry{{}, emitReshape(v, shape)};
  return success();
}

FailureOr<SmallVector<int64_t>> Importer::constIndices(const Entry &e,
                                                      StringRef what) {
  if (!e.cst) {
    nodeError() << "the " << what
                << " input must be a constant (indices held by the client "
                   "or computed in the model would need an oblivious "
                   "one-hot product per element, which is not supported)";
    return failure();
  }
  return constInts(e, what);
}

LogicalResult Importer::scatterFinish(StringRef reduction, const Entry &data,
                                      const Entry &updates,
                                      llvm::ArrayRef<Writers> writers,
                                      Entry &out) {
  llvm::ArrayRef<int64_t> shape = shapeOf(data);
  int64_t n = writers.size();
  if (reduction == "none") {
    SmallVector<int64_t> map;
    for (int64_t p = 0; p < n; ++p)
      map.push_back(writers[p].empty() ? p : n + writers[p].back());
    return indexMap({data, updates}, shape, map, 0.0, out);
  }
  bool isMax = reduction == "max", isMin = reduction == "min";
  if (reduction != "add" && reduction != "mul" && !isMax && !isMin)
    return nodeError() << "reduction '" << reduction << "' is not supported",
           failure();
  if (!isFloatDT(dtypeOf(data)))
    return nodeError() << "a scatter with a reduction expects float data",
           failure();
  size_t layers = 0;
  for (const Writers &w : writers)
    layers = std::max(layers, w.size());
  Value acc = valueOf(data);
  if (!acc)
    return failure();
  Type ty = acc.getType();
  for (size_t l = 0; l < layers; ++l) {
    // Layer l: the l-th update written to each position; elsewhere the
    // reduction's identity (max, min: the data itself).
    SmallVector<int64_t> map;
    for (int64_t p = 0; p < n; ++p)
      map.push_back(writers[p].size() > l ? n + writers[p][l]
                                          : (isMax || isMin ? p : -1));
    Entry layer;
    if (failed(indexMap({data, updates}, shape, map,
                        reduction == "mul" ? 1.0 : 0.0, layer)))
      return failure();
    Value lv = valueOf(layer);
    if (!lv)
      return failure();
    if (reduction == "add")
      acc = tfm::AddOp::create(b, loc, ty, acc, lv);
    else if (reduction == "mul")
      acc = tfm::MulOp::create(b, loc, ty, acc, lv);
    else if (isMax)
      acc = tfm::MaxOp::create(b, loc, ty, acc, lv);
    else
      acc = buildMin(b, loc, ty, acc, lv);
  }
  out.value = acc;
  return success();
}

/// The flat position in data of shape `ds` of every element of indices of
/// shape `is` (ScatterElements, GatherElements): the index along `axis`,
/// the element's own coordinate elsewhere.
FailureOr<SmallVector<int64_t>>
Importer::axisPositions(llvm::ArrayRef<int64_t> ds, llvm::ArrayRef<int64_t> is,
                        int64_t axis, llvm::ArrayRef<int64_t> idx) {
  int64_t r = ds.size();
  SmallVector<int64_t> dst = ceval::rowMajorStrides(ds), positions;
  for (int64_t e = 0, n = idx.size(); e < n; ++e) {
    int64_t rem = e, flat = 0;
    for (int64_t d = r - 1; d >= 0; --d) {
      int64_t pos = rem % is[d];
      rem /= is[d];
      if (d == axis) {
        int64_t i = idx[e];
        if (i < -ds[d] || i >= ds[d])
          return nodeError() << "index " << i << " is out of range for axis "
                             << d << " of size " << ds[d],
                 failure();
        pos = i < 0 ? i + ds[d] : i;
      } else if (pos >= ds[d])
        return nodeError() << "indices are larger than the data", failure();
      flat += pos * dst[d];
    }
    positions.push_back(flat);
  }
  return positions;
}

LogicalResult Importer::scatterElementsOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[1] || !in[2])
    return nodeError() << "expects data, indices and updates", failure();
  const Entry &data = in[0], &updates = in[2];
  llvm::ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(in[1]),
                          us = shapeOf(updates);
  int64_t r = ds.size();
  if (dtypeOf(updates) != dtypeOf(data) || is != us ||
      static_cast<int64_t>(is.size()) != r)
    return nodeError() << "indices and updates must have one shape, of the "
                          "data's rank, and updates the data's type",
           failure();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  auto idx = constIndices(in[1], "indices");
  if (failed(idx))
    return failure();
  std::string reduction =
      attr("reduction") ? attr("reduction")->s() : std::string("none");
  auto targets = axisPositions(ds, is, *axis, *idx);
  if (failed(targets))
    return failure();
  std::vector<Writers> writers(ceval::numElements(ds));
  for (auto [e, target] : llvm::enumerate(*targets))
    writers[target].push_back(e);
  return scatterFinish(reduction, data, updates, writers, out[0]);
}

LogicalResult Importer::scatterNDOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[1] || !in[2])
    return nodeError() << "expects data, indices and updates", failure();
  const Entry &data = in[0], &updates = in[2];
  llvm::ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(in[1]),
                          us = shapeOf(updates);
  int64_t r = ds.size();
  if (is.empty() || is.back() > r)
    return nodeError() << "indices must have rank >= 1 and a last "
                          "dimension at most the data's rank",
           failure();
  int64_t k = is.back();
  SmallVector<int64_t> want(is.drop_back());
  want.append(ds.begin() + k, ds.end());
  if (dtypeOf(updates) != dtypeOf(data) || us != llvm::ArrayRef(want))
    return nodeError() << "updates must have shape " << shapeStr(want)
                       << " and the data's type",
           failure();
  auto idx = constIndices(in[1], "indices");
  if (failed(idx))
    return failure();
  std::string reduction =
      attr("reduction") ? attr("reduction")->s() : std::string("none");
  SmallVector<int64_t> dst = ceval::rowMajorStrides(ds);
  int64_t inner = ceval::numElements(ds.drop_front(k));
  int64_t tuples = ceval::numElements(is.drop_back());
  std::vector<Writers> writers(ceval::numElements(ds));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t base = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t i = (*idx)[t * k + j];
      if (i < -ds[j] || i >= ds[j])
        return nodeError() << "index " << i << " is out of range for axis "
                           << j << " of size " << ds[j],
               failure();
      base += (i < 0 ? i + ds[j] : i) * dst[j];
    }
    for (int64_t e = 0; e < inner; ++e)
      writers[base + e].push_back(t * inner + e);
  }
  return scatterFinish(reduction, data, updates, writers, out[0]);
}

LogicalResult Importer::gatherNDOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects data and indices", failure();
  const Entry &data = in[0];
  llvm::ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(in[1]);
  int64_t r = ds.size(), bd = attrInt("batch_dims", 0);
  if (is.empty() || bd < 0 || bd >= static_cast<int64_t>(is.size()) ||
      bd + is.back() > r)
    return nodeError() << "indices must have rank > batch_dims and a last "
                          "dimension at most the data's rank minus "
                          "batch_dims",
           failure();
  for (int64_t d = 0; d < bd; ++d)
    if (is[d] != ds[d])
      return nodeError() << "the batch dimensions of data and indices "
                            "differ",
             failure();
  auto idx = constIndices(in[1], "indices");
  if (failed(idx))
    return failure();
  int64_t k = is.back();
  SmallVector<int64_t> shape(is.drop_back());
  shape.append(ds.begin() + bd + k, ds.end());
  if (failed(checkFoldSize(ceval::numElements(shape))))
    return failure();
  SmallVector<int64_t> dst = ceval::rowMajorStrides(ds);
  int64_t inner = ceval::numElements(ds.drop_front(bd + k));
  int64_t tuples = ceval::numElements(is.drop_back());
  int64_t perBatch = ceval::numElements(is.drop_back().drop_front(bd));
  SmallVector<int64_t> map;
  for (int64_t t = 0; t < tuples; ++t) {
    // The batch position of tuple t, then its index tuple.
    int64_t base = 0, rem = t / perBatch;
    for (int64_t d = bd - 1; d >= 0; --d) {
      base += (rem % ds[d]) * dst[d];
      rem /= ds[d];
    }
    for (int64_t j = 0; j < k; ++j) {
      int64_t i = (*idx)[t * k + j], size = ds[bd + j];
      if (i < -size || i >= size)
        return nodeError() << "index " << i << " is out of range for axis "
                           << bd + j << " of size " << size,
               failure();
      base += (i < 0 ? i + size : i) * dst[bd + j];
    }
    for (int64_t e = 0; e < inner; ++e)
      map.push_back(base + e);
  }
  return indexMap({data}, shape, map, 0.0, out[0]);
}

LogicalResult Importer::gatherElementsOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects data and indices", failure();
  if (!in[1].cst)
    return gatherElementsByIndexRows(in, out);
  llvm::ArrayRef<int64_t> ds = shapeOf(in[0]), is = shapeOf(in[1]);
  int64_t r = ds.size();
  if (static_cast<int64_t>(is.size()) != r || r < 1)
    return nodeError() << "indices must have the data's rank", failure();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  auto idx = constIndices(in[1], "indices");
  if (failed(idx))
    return failure();
  auto map = axisPositions(ds, is, *axis, *idx);
  if (failed(map))
    return failure();
  return indexMap({in[0]}, is, *map, 0.0, out[0]);
}

LogicalResult Importer::reverseSequenceOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects input and sequence_lens", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  if (r < 2)
    return nodeError() << "input must have rank >= 2", failure();
  int64_t ba = attrInt("batch_axis", 1), ta = attrInt("time_axis", 0);
  if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return nodeError() << "batch_axis and time_axis must be 0 and 1",
           failure();
  auto lens = constIndices(in[1], "sequence_lens");
  if (failed(lens))
    return failure();
  if (static_cast<int64_t>(lens->size()) != s[ba])
    return nodeError() << "sequence_lens must have " << s[ba] << " values",
           failure();
  for (int64_t l : *lens)
    if (l < 0 || l > s[ta])
      return nodeError() << "sequence length " << l << " is outside [0, "
                         << s[ta] << "]",
             failure();
  SmallVector<int64_t> st = ceval::rowMajorStrides(s);
  int64_t n = ceval::numElements(s);
  SmallVector<int64_t> map;
  for (int64_t e = 0; e < n; ++e) {
    int64_t bi = (e / st[ba]) % s[ba], ti = (e / st[ta]) % s[ta];
    int64_t len = (*lens)[bi];
    map.push_back(ti < len ? e + (len - 1 - 2 * ti) * st[ta] : e);
  }
  return indexMap({in[0]}, s, map, 0.0, out[0]);
}

LogicalResult Importer::compressOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects input and condition", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  auto cond = constIndices(in[1], "condition");
  if (failed(cond))
    return failure();
  SmallVector<int64_t> shape;
  SmallVector<int64_t> map;
  if (const auto *a = attr("axis")) {
    auto axis = normAxis(a->i(), s.size());
    if (failed(axis))
      return failure();
    int64_t len = s[*axis];
    if (static_cast<int64_t>(cond->size()) > len)
      return nodeError() << "condition is longer than axis " << *axis,
             failure();
    SmallVector<int64_t> keep;
    for (int64_t i = 0; i < static_cast<int64_t>(cond->size()); ++i)
      if ((*cond)[i])
        keep.push_back(i);
    shape.assign(s.begin(), s.end());
    shape[*axis] = keep.size();
    int64_t outer = ceval::numElements(s.take_front(*axis)),
            inner = ceval::numElements(s.drop_front(*axis + 1));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i : keep)
        for (int64_t e = 0; e < inner; ++e)
          map.push_back((o * len + i) * inner + e);
  } else {
    int64_t n = ceval::numElements(s);
    if (static_cast<int64_t>(cond->size()) > n)
      return nodeError() << "condition is longer than the input", failure();
    for (int64_t i = 0; i < static_cast<int64_t>(cond->size()); ++i)
      if ((*cond)[i])
        map.push_back(i);
    shape = {static_cast<int64_t>(map.size())};
  }
  return indexMap({in[0]}, shape, map, 0.0, out[0]);
}

LogicalResult Importer::maxUnpoolOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects X and I", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size(), k = r - 2;
  if (r < 3 || shapeOf(in[1]) != s || !isFloatDT(dtypeOf(in[0])))
    return nodeError() << "expects a float X [N, C, D1, ...] and I of its "
                          "shape",
           failure();
  auto kernel = attrInts("kernel_shape");
  if (!kernel || static_cast<int64_t>(kernel->size()) != k)
    return nodeError() << "kernel_shape must give one size per spatial axis",
           failure();
  SmallVector<int64_t> strides =
      attrInts("strides").value_or(SmallVector<int64_t>(k, 1));
  SmallVector<int64_t> pads =
      attrInts("pads").value_or(SmallVector<int64_t>(2 * k, 0));
  if (static_cast<int64_t>(strides.size()) != k ||
      static_cast<int64_t>(pads.size()) != 2 * k)
    return nodeError() << "strides and pads must have one entry per spatial "
                          "axis (pads two)",
           failure();
  SmallVector<int64_t> shape(s.take_front(2));
  for (int64_t d = 0; d < k; ++d)
    shape.push_back((s[d + 2] - 1) * strides[d] - pads[d] - pads[d + k] +
                    (*kernel)[d]);
  // I indexes the inferred shape; a given output_shape extends it at the
  // end of each axis (as the ONNX reference pads).
  SmallVector<int64_t> inferred = shape;
  if (!validDims(inferred))
    return nodeError() << "bad output shape " << shapeStr(inferred),
           failure();
  if (in.size() > 2 && in[2]) {
    auto os = constIndices(in[2], "output_shape");
    if (failed(os))
      return failure();
    if (static_cast<int64_t>(os->size()) != r || (*os)[0] != s[0] ||
        (*os)[1] != s[1])
      return nodeError() << "output_shape must have " << r
                         << " values, with X's N and C",
             failure();
    shape = *os;
  }
  if (!validDims(shape) || failed(checkFoldSize(ceval::numElements(shape))))
    return nodeError() << "bad output shape " << shapeStr(shape), failure();
  auto idx = constIndices(in[1], "I");
  if (failed(idx))
    return failure();
  int64_t n = ceval::numElements(shape), ni = ceval::numElements(inferred);
  SmallVector<int64_t> ost = ceval::rowMajorStrides(shape);
  SmallVector<int64_t> map(n, -1);
  for (int64_t e = 0, m = idx->size(); e < m; ++e) {
    int64_t t = (*idx)[e], rem = t, pos = 0;
    bool fits = t >= 0 && t < ni;
    for (int64_t d = r - 1; d >= 0 && fits; --d) {
      int64_t c = rem % inferred[d];
      rem /= inferred[d];
      fits = c < shape[d];
      pos += c * ost[d];
    }
    if (!fits)
      return nodeError() << "index " << t << " is outside the output "
                         << shapeStr(shape),
             failure();
    map[pos] = e;
  }
  return indexMap({in[0]}, shape, map, 0.0, out[0]);
}

LogicalResult Importer::eyeLikeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  if (s.size() != 2)
    return nodeError() << "expects a rank-2 input", failure();
  int32_t dt = attr("dtype") ? attrInt("dtype", 0) : dtypeOf(in[0]);
  if (!isFloatDT(dt) && !isIntDT(dt) && !isBoolDT(dt))
    return nodeError() << "dtype " << dt << " is not supported", failure();
  int64_t k = attrInt("k", 0);
  if (failed(checkFoldSize(ceval::numElements(s))))
    return failure();
  ceval::Tensor t = ceval::Tensor::zeros(s, isFloatDT(dt));
  for (int64_t i = 0; i < s[0]; ++i)
    if (i + k >= 0 && i + k < s[1]) {
      if (isFloatDT(dt))
        std::get<std::vector<double>>(t.data)[i * s[1] + i + k] = 1;
      else
        std::get<std::vector<int64_t>>(t.data)[i * s[1] + i + k] = 1;
    }
  out[0].cst = literal(makeConst(dt, std::move(t)));
  return success();
}

} // namespace umbra::onnx_import
