//===- ShapeOps.cpp - ONNX data movement to tfm ---------------------------===//
//
// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Split,
// Gather and Expand. Public constants are moved by the evaluator (index
// maps, umbra::ceval); owner constants and computed values become tfm ops.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "umbra/runtime/Program.h"

using namespace mlir;

namespace umbra::onnx_import {

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

Value Importer::emitReshape(Value v, llvm::ArrayRef<int64_t> shape) {
  auto ty = cast<RankedTensorType>(v.getType());
  if (ty.getShape() == shape)
    return v;
  return tfm::ReshapeOp::create(b, loc, ty.clone(shape), v);
}

Value Importer::emitTranspose(Value v, llvm::ArrayRef<int64_t> perm) {
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(ty.getShape()[p]);
  return tfm::TransposeOp::create(b, loc, ty.clone(shape), v, perm);
}

Value Importer::emitSlice(Value v, llvm::ArrayRef<int64_t> offsets,
                          llvm::ArrayRef<int64_t> strides,
                          llvm::ArrayRef<int64_t> sizes) {
  auto ty = cast<RankedTensorType>(v.getType());
  bool identity = ty.getShape() == sizes;
  for (size_t d = 0; d < offsets.size() && identity; ++d)
    identity = offsets[d] == 0 && (strides[d] == 1 || sizes[d] <= 1);
  if (identity)
    return v;
  return tfm::SliceOp::create(b, loc, ty.clone(sizes), v, offsets, strides);
}

Value Importer::emitConstIndices(llvm::ArrayRef<int64_t> idx) {
  ceval::Tensor t;
  t.shape = {static_cast<int64_t>(idx.size())};
  t.data = std::vector<int64_t>(idx.begin(), idx.end());
  return materialize(*literal(makeConst(TP::INT64, std::move(t))));
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult Importer::reshapeLike(Ins in, Outs out,
                                    llvm::ArrayRef<int64_t> shape) {
  const Entry &x = in[0];
  if (numElements(shape) != numElements(shapeOf(x)))
    return nodeError() << "cannot reshape " << shapeStr(shapeOf(x)) << " to "
                       << shapeStr(shape),
           failure();
  if (foldable(in.take_front())) {
    if (failed(decode(*x.cst)))
      return failure();
    out[0].cst = makeConst(x.cst->dtype, ceval::reshape(x.cst->value, shape));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  out[0].value = emitReshape(v, shape);
  return success();
}

LogicalResult Importer::reshapeOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects data and shape inputs", failure();
  auto target = constInts(in[1], "shape");
  if (failed(target))
    return failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  bool allowZero = attrInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferIdx = -1, known = 1;
  for (auto [k, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if (k >= s.size())
        return nodeError() << "0 in the target shape copies a dimension the "
                              "input does not have",
               failure();
      d = s[k];
    }
    if (d == -1) {
      if (inferIdx >= 0)
        return nodeError() << "more than one -1 in the target shape", failure();
      inferIdx = k;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return nodeError() << "invalid target dimension " << d, failure();
    shape.push_back(d);
    // Checked before multiplying: a fuzzed [2^62, 4, -1] overflowed.
    if (d != 0 && known > rt::kMaxElements / d)
      return nodeError() << "target shape " << shapeStr(*target)
                         << " has more elements than the runtime's limit",
             failure();
    known *= d;
  }
  if (inferIdx >= 0) {
    int64_t total = numElements(s);
    if (known == 0 || total % known != 0)
      return nodeError() << "cannot infer -1 reshaping " << shapeStr(s)
                         << " to " << shapeStr(*target),
             failure();
    shape[inferIdx] = total / known;
  }
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::flattenOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  int64_t axis = attrInt("axis", 1);
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis > r)
    return nodeError() << "axis out of range", failure();
  SmallVector<int64_t> shape = {numElements(s.take_front(axis)),
                                numElements(s.drop_front(axis))};
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::squeezeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  auto axesOr = listArg(in, 1, "axes", opset >= 13);
  if (failed(axesOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr;
  SmallVector<bool> drop(r, false);
  if (axes.empty()) {
    for (int64_t d = 0; d < r; ++d)
      drop[d] = s[d] == 1;
  }
  for (int64_t a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    if (s[*n] != 1)
      return nodeError() << "cannot squeeze dimension " << a << " of size "
                         << s[*n],
             failure();
    drop[*n] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < r; ++d)
    if (!drop[d])
      shape.push_back(s[d]);
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::unsqueezeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  auto axesOr = listArg(in, 1, "axes", opset >= 13, /*required=*/true);
  if (failed(axesOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr;
  int64_t r = s.size() + axes.size();
  SmallVector<bool> isNew(r, false);
  for (int64_t a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    if (isNew[*n])
      return nodeError() << "axis " << a << " repeated", failure();
    isNew[*n] = true;
  }
  SmallVector<int64_t> shape;
  size_t next = 0;
  for (int64_t d = 0; d < r; ++d)
    shape.push_back(isNew[d] ? 1 : s[next++]);
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::transposeOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  SmallVector<int64_t> perm;
  if (auto p = attrInts("perm")) {
    perm = *p;
  } else {
    for (int64_t d = r - 1; d >= 0; --d)
      perm.push_back(d);
  }
  SmallVector<bool> seen(r, false);
  if (static_cast<int64_t>(perm.size()) != r)
    return nodeError() << "perm must list every dimension once", failure();
  for (int64_t &p : perm) {
    if (p < 0)
      p += r;
    if (p < 0 || p >= r || seen[p])
      return nodeError() << "perm must list every dimension once", failure();
    seen[p] = true;
  }
  if (foldable(in)) {
    if (failed(decode(*x.cst)))
      return failure();
    SmallVector<int64_t> shape;
    std::vector<int64_t> map = ceval::transposeMap(s, perm, shape);
    out[0].cst = makeConst(x.cst->dtype, ceval::remap(x.cst->value, shape, map));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  bool identity = true;
  for (int64_t d = 0; d < r; ++d)
    identity &= perm[d] == d;
  out[0].value = identity ? v : emitTranspose(v, perm);
  return success();
}

LogicalResult Importer::concatOp(Ins in, Outs out) {
  if (in.empty())
    return nodeError() << "expects inputs", failure();
  int64_t r = rankOf(in[0]);
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  int32_t dt = dtypeOf(in[0]);
  SmallVector<int64_t> shape(shapeOf(in[0]));
  shape[*axis] = 0;
  for (const Entry &e : in) {
    if (!e)
      return nodeError() << "missing input", failure();
    llvm::ArrayRef<int64_t> s = shapeOf(e);
    if (static_cast<int64_t>(s.size()) != r || dtypeOf(e) != dt)
      return nodeError() << "inputs differ in rank or element type", failure();
    for (int64_t d = 0; d < r; ++d)
      if (d != *axis && s[d] != shape[d])
        return nodeError() << "inputs differ in dimension " << d, failure();
    shape[*axis] += s[*axis];
  }
  if (foldable(in)) {
    if (failed(checkFoldSize(numElements(shape))))
      return failure();
    if (failed(decodeAll(in)))
      return failure();
    SmallVector<const ceval::Tensor *> parts;
    for (const Entry &e : in)
      parts.push_back(&e.cst->value);
    out[0].cst = makeConst(dt, ceval::concat(parts, *axis));
    return success();
  }
  SmallVector<Value> vals;
  for (const Entry &e : in) {
    if (shapeOf(e)[*axis] == 0)
      continue;
    Value v = valueOf(e);
    if (!v)
      return failure();
    vals.push_back(v);
  }
  if (vals.empty()) {
    // Every input is empty.
    out[0].cst = makeConst(dt, ceval::Tensor::zeros(shape, isFloatDT(dt)));
    return success();
  }
  if (vals.size() == 1) {
    out[0].value = vals[0];
    return success();
  }
  out[0].value = tfm::ConcatOp::create(b, loc, tensorType(shape, dt), vals,
                                       b.getI64IntegerAttr(*axis));
  return success();
}

LogicalResult Importer::sliceImpl(const Entry &x,
                                  llvm::ArrayRef<int64_t> offsets,
                                  llvm::ArrayRef<int64_t> steps,
                                  llvm::ArrayRef<int64_t> sizes, Entry &out) {
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (x.cst && !x.cst->isOwner()) {
    if (failed(decode(*x.cst)))
      return failure();
    out.cst = makeConst(x.cst->dtype,
                        ceval::remap(x.cst->value, sizes,
                                     ceval::sliceMap(s, offsets, steps, sizes)));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  // Positive-step part as one tfm.slice; each reversed axis then as a gather
  // with constant indices.
  SmallVector<int64_t> o1(offsets), st1(steps), sz1(sizes);
  SmallVector<int64_t> negAxes;
  for (size_t d = 0; d < s.size(); ++d) {
    if (steps[d] < 0) {
      negAxes.push_back(d);
      o1[d] = 0;
      st1[d] = 1;
      sz1[d] = s[d];
    }
  }
  v = emitSlice(v, o1, st1, sz1);
  for (int64_t d : negAxes) {
    SmallVector<int64_t> idx;
    for (int64_t k = 0; k < sizes[d]; ++k)
      idx.push_back(offsets[d] + k * steps[d]);
    auto ty = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(ty.getShape());
    shape[d] = sizes[d];
    Value iv = emitConstIndices(idx);
    if (!iv)
      return failure();
    v = tfm::GatherOp::create(b, loc, ty.clone(shape), v, iv,
                              b.getI64IntegerAttr(d));
  }
  out.value = v;
  return success();
}

LogicalResult Importer::sliceOp(Ins in, Outs out) {
  // Before opset 10 starts, ends and axes are attributes (and no steps).
  bool fromInputs = opset >= 10;
  if (fromInputs && (in.size() < 3 || !in[0] || !in[1] || !in[2]))
    return nodeError() << "expects data, starts and ends inputs", failure();
  if (!fromInputs && (!attr("starts") || !attr("ends")))
    return nodeError() << "expects starts and ends attributes", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  auto starts = listArg(in, 1, "starts", fromInputs);
  auto ends = listArg(in, 2, "ends", fromInputs);
  if (failed(starts) || failed(ends))
    return failure();
  // Absent axes are 0..n-1, absent steps 1.
  auto axesOr = listArg(in, 3, "axes", fromInputs);
  auto stepsOr = listArg(in, 4, "steps", /*fromInput=*/true);
  if (failed(axesOr) || failed(stepsOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr, steps = *stepsOr;
  if (axes.empty())
    for (size_t k = 0; k < starts->size(); ++k)
      axes.push_back(k);
  if (steps.empty())
    steps.assign(starts->size(), 1);
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return nodeError() << "starts, ends, axes and steps differ in length",
           failure();
  SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
  SmallVector<bool> seen(r, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    auto a = normAxis(axes[k], r);
    if (failed(a))
      return failure();
    if (seen[*a])
      return nodeError() << "axis " << axes[k] << " repeated", failure();
    seen[*a] = true;
    int64_t dim = s[*a], st = steps[k];
    if (st == 0)
      return nodeError() << "step is zero", failure();
    int64_t b0 = (*starts)[k], e0 = (*ends)[k];
    if (b0 < 0)
      b0 += dim;
    if (e0 < 0)
      e0 += dim;
    int64_t size;
    if (st > 0) {
      b0 = std::clamp<int64_t>(b0, 0, dim);
      e0 = std::clamp<int64_t>(e0, 0, dim);
      size = e0 > b0 ? (e0 - b0 + st - 1) / st : 0;
    } else {
      b0 = std::clamp<int64_t>(b0, -1, dim - 1);
      e0 = std::clamp<int64_t>(e0, -1, dim - 1);
      size = b0 > e0 ? (b0 - e0 + (-st) - 1) / (-st) : 0;
      if (size == 0)
        b0 = 0, st = 1;
    }
    offsets[*a] = size == 0 ? 0 : b0;
    strides[*a] = st;
    sizes[*a] = size;
  }
  return sliceImpl(in[0], offsets, strides, sizes, out[0]);
}

LogicalResult Importer::splitOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  auto splitOr = listArg(in, 1, "split", opset >= 13);
  if (failed(splitOr))
    return failure();
  SmallVector<int64_t> split = *splitOr;
  if (split.empty() && opset >= 18 && attr("num_outputs")) {
    // Since opset 18: num_outputs chunks of ceil(dim / n), the last smaller.
    int64_t n = attrInt("num_outputs", 0), dim = s[*axis];
    if (n < 1 || n != static_cast<int64_t>(out.size()))
      return nodeError() << "num_outputs is " << n << " but the node has "
                         << out.size() << " outputs",
             failure();
    int64_t chunk = (dim + n - 1) / n;
    for (int64_t k = 0; k < n; ++k)
      split.push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  if (split.empty()) {
    int64_t n = out.size();
    if (s[*axis] % n != 0)
      return nodeError() << "dimension " << s[*axis]
                         << " does not split evenly into " << n << " outputs",
             failure();
    split.assign(n, s[*axis] / n);
  }
  if (split.size() != out.size())
    return nodeError() << "'split' has " << split.size() << " sizes for "
                       << out.size() << " outputs",
           failure();
  int64_t total = 0;
  for (int64_t v : split)
    total += v;
  if (total != s[*axis])
    return nodeError() << "split sizes sum to " << total << ", not "
                       << s[*axis],
           failure();
  int64_t offset = 0;
  for (size_t k = 0; k < split.size(); ++k) {
    SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
    offsets[*axis] = offset;
    sizes[*axis] = split[k];
    if (failed(sliceImpl(in[0], offsets, strides, sizes, out[k])))
      return failure();
    offset += split[k];
  }
  return success();
}

LogicalResult Importer::gatherOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects data and indices", failure();
  const Entry &data = in[0], &ind = in[1];
  llvm::ArrayRef<int64_t> s = shapeOf(data), is = shapeOf(ind);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  if (!isIntDT(dtypeOf(ind)))
    return nodeError() << "indices must be integers", failure();
  SmallVector<int64_t> shape(s.take_front(*axis));
  llvm::append_range(shape, is);
  llvm::append_range(shape, s.drop_front(*axis + 1));
  int64_t dim = s[*axis];

  SmallVector<int64_t> idx;
  if (ind.cst) {
    if (failed(decode(*ind.cst)))
      return failure();
    for (int64_t v : ind.cst->ints()) {
      if (v < -dim || v >= dim)
        return nodeError() << "index " << v << " is out of range for "
                           << "dimension " << dim,
               failure();
      idx.push_back(v < 0 ? v + dim : v);
    }
  }

  if (foldable(in)) {
    if (failed(decode(*data.cst)) || failed(checkFoldSize(numElements(shape))))
      return failure();
    out[0].cst = makeConst(dtypeOf(data),
                           ceval::remap(data.cst->value, shape,
                                        ceval::gatherMap(s, *axis, idx)));
    return success();
  }

  // Token ids into a constant [V, D] table: an embedding lookup.
  if (!ind.cst && data.cst && data.cst->isFloat() && r == 2 && *axis == 0) {
    Value t = valueOf(data), i = valueOf(ind);
    if (!t || !i)
      return failure();
    out[0].value = tfm::EmbeddingOp::create(
        b, loc, tensorType(shape, dtypeOf(data)), t, i);
    return success();
  }

  Value d = valueOf(data);
  if (!d)
    return failure();
  if (ind.cst) {
    // A scalar index or an arithmetic progression is a slice.
    bool progression = !idx.empty();
    int64_t step = idx.size() > 1 ? idx[1] - idx[0] : 1;
    for (size_t k = 1; k < idx.size() && progression; ++k)
      progression = idx[k] - idx[k - 1] == step;
    if (progression && step >= 1) {
      SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
      offsets[*axis] = idx[0];
      strides[*axis] = step;
      sizes[*axis] = idx.size();
      Value v = emitSlice(d, offsets, strides, sizes);
      out[0].value = emitReshape(v, shape);
      return success();
    }
  }
  Value i = valueOf(ind);
  if (!i)
    return failure();
  out[0].value = tfm::GatherOp::create(b, loc, tensorType(shape, dtypeOf(data)),
                                       d, i, b.getI64IntegerAttr(*axis));
  return success();
}

LogicalResult Importer::expandOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects a shape input", failure();
  auto target = constInts(in[1], "shape");
  if (failed(target))
    return failure();
  SmallVector<int64_t> shape;
  if (!ceval::broadcastShapes(shapeOf(in[0]), *target, shape))
    return nodeError() << "cannot expand " << shapeStr(shapeOf(in[0])) << " to "
                       << shapeStr(*target),
           failure();
  const Entry &x = in[0];
  // A public constant is broadcast here: masks expanded to the batch
  // (`mask[None, None].expand(bsz, 1, T, T)`) must reach tfm-fuse as
  // constants, and the canonicalizer would fold a tfm.expand of it later
  // anyway. Beyond the fold limit it stays a tfm.expand.
  if (x.cst && !x.cst->isOwner() &&
      numElements(shape) <= kMaxFoldedElements) {
    if (failed(decode(*x.cst)))
      return failure();
    out[0].cst =
        makeConst(x.cst->dtype,
                  ceval::remap(x.cst->value, shape,
                               ceval::broadcastMap(shape, x.cst->shape)));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  if (shapeOf(x) == llvm::ArrayRef<int64_t>(shape)) {
    out[0].value = v;
    return success();
  }
  out[0].value =
      tfm::ExpandOp::create(b, loc, tensorType(shape, dtypeOf(x)), v);
  return success();
}

} // namespace umbra::onnx_import

namespace umbra::onnx_import {

//===----------------------------------------------------------------------===//
// Index maps along one axis: DepthToSpace, SpaceToDepth, Tile, Pad
//===----------------------------------------------------------------------===//

Value Importer::emitConcat(llvm::ArrayRef<Value> parts, int64_t axis) {
  if (parts.size() == 1)
    return parts[0];
  auto ty = cast<RankedTensorType>(parts[0].getType());
  SmallVector<int64_t> shape(ty.getShape());
  shape[axis] = 0;
  for (Value p : parts)
    shape[axis] += cast<RankedTensorType>(p.getType()).getShape()[axis];
  return tfm::ConcatOp::create(b, loc, ty.clone(shape), parts,
                               b.getI64IntegerAttr(axis));
}

Value Importer::emitIndexAlong(Value v, int64_t axis,
                               llvm::ArrayRef<int64_t> idx, double fill) {
  auto ty = cast<RankedTensorType>(v.getType());
  llvm::ArrayRef<int64_t> s = ty.getShape();
  int64_t r = s.size();
  if (idx.empty()) {
    SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
    sizes[axis] = 0;
    return tfm::SliceOp::create(b, loc, ty.clone(sizes), v, offsets, strides);
  }
  SmallVector<Value> parts;
  size_t k = 0;
  while (k < idx.size()) {
    size_t e = k + 1;
    SmallVector<int64_t> shape(s);
    if (idx[k] < 0) {
      while (e < idx.size() && idx[e] < 0)
        ++e;
      shape[axis] = e - k;
      int32_t dt = dtOfType(ty.getElementType());
      ceval::Tensor t = ceval::Tensor::zeros(shape, isFloatDT(dt));
      if (t.isFloat())
        llvm::fill(std::get<0>(t.data), fill);
      else
        llvm::fill(std::get<1>(t.data), static_cast<int64_t>(fill));
      Value c = materialize(*literal(makeConst(dt, std::move(t))));
      if (!c)
        return {};
      parts.push_back(c);
    } else {
      while (e < idx.size() && idx[e] == idx[e - 1] + 1)
        ++e;
      bool run = e - k > 1;
      // Single positions out of order are gathered together; one alone is a
      // slice.
      if (!run)
        while (e < idx.size() && idx[e] >= 0 &&
               !(e + 1 < idx.size() && idx[e + 1] == idx[e] + 1))
          ++e;
      if (run || e - k == 1) {
        SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
        offsets[axis] = idx[k];
        sizes[axis] = e - k;
        parts.push_back(emitSlice(v, offsets, strides, sizes));
      } else {
        Value iv = emitConstIndices(idx.slice(k, e - k));
        if (!iv)
          return {};
        shape[axis] = e - k;
        parts.push_back(tfm::GatherOp::create(b, loc, ty.clone(shape), v, iv,
                                              b.getI64IntegerAttr(axis)));
      }
    }
    k = e;
  }
  return emitConcat(parts, axis);
}

LogicalResult Importer::depthToSpaceOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t bs = attrInt("blocksize", 0);
  if (s.size() != 4 || bs < 1 || s[1] % (bs * bs) != 0)
    return nodeError() << "expects an [N, C, H, W] input with C divisible by "
                          "blocksize^2",
           failure();
  Value v = valueOf(in[0]);
  if (!v)
    return failure();
  int64_t n = s[0], c = s[1] / (bs * bs), h = s[2], w = s[3];
  bool crd = attr("mode") && attr("mode")->s() == "CRD";
  if (attr("mode") && !crd && attr("mode")->s() != "DCR")
    return nodeError() << "unknown mode '" << attr("mode")->s() << "'",
           failure();
  Value t = crd ? emitTranspose(emitReshape(v, {n, c, bs, bs, h, w}),
                                {0, 1, 4, 2, 5, 3})
                : emitTranspose(emitReshape(v, {n, bs, bs, c, h, w}),
                                {0, 3, 4, 1, 5, 2});
  out[0].value = emitReshape(t, {n, c, h * bs, w * bs});
  return success();
}

LogicalResult Importer::spaceToDepthOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t bs = attrInt("blocksize", 0);
  if (s.size() != 4 || bs < 1 || s[2] % bs != 0 || s[3] % bs != 0)
    return nodeError() << "expects an [N, C, H, W] input with H and W "
                          "divisible by blocksize",
           failure();
  Value v = valueOf(in[0]);
  if (!v)
    return failure();
  int64_t n = s[0], c = s[1], h = s[2] / bs, w = s[3] / bs;
  Value t = emitTranspose(emitReshape(v, {n, c, h, bs, w, bs}),
                          {0, 3, 5, 1, 2, 4});
  out[0].value = emitReshape(t, {n, c * bs * bs, h, w});
  return success();
}

LogicalResult Importer::tileOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects input and repeats", failure();
  auto reps = constInts(in[1], "repeats");
  if (failed(reps))
    return failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  if (reps->size() != s.size())
    return nodeError() << "repeats has " << reps->size()
                       << " entries for rank " << s.size(),
           failure();
  SmallVector<int64_t> shape(s);
  for (auto [d, rep] : llvm::enumerate(*reps)) {
    if (rep < 0)
      return nodeError() << "negative repeat " << rep, failure();
    shape[d] *= rep;
  }
  if (failed(checkFoldSize(numElements(shape))))
    return failure();
  if (foldable(in)) {
    if (failed(decode(*in[0].cst)))
      return failure();
    // Element k of the result is element (k_d mod s_d) of the input.
    std::vector<int64_t> map(numElements(shape));
    for (int64_t k = 0; k < static_cast<int64_t>(map.size()); ++k) {
      int64_t rem = k, src = 0, stride = 1;
      for (int64_t d = shape.size() - 1; d >= 0; --d) {
        int64_t i = rem % shape[d];
        rem /= shape[d];
        src += (i % s[d]) * stride;
        stride *= s[d];
      }
      map[k] = src;
    }
    out[0].cst = makeConst(in[0].cst->dtype,
                           ceval::remap(in[0].cst->value, shape, map));
    return success();
  }
  Value v = valueOf(in[0]);
  if (!v)
    return failure();
  for (auto [d, rep] : llvm::enumerate(*reps))
    if (rep != 1)
      v = emitConcat(SmallVector<Value>(rep, v), d);
  out[0].value = v;
  return success();
}

LogicalResult Importer::padOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  // Pads (and the constant value) are inputs since opset 11, attributes
  // before; axes an input since 18.
  bool fromInputs = opset >= 11;
  auto padsOr = listArg(in, 1, opset < 2 ? "paddings" : "pads", fromInputs,
                        /*required=*/fromInputs);
  auto axesOr = listArg(in, 3, "axes", /*fromInput=*/true);
  if (failed(padsOr) || failed(axesOr))
    return failure();
  SmallVector<int64_t> axes = *axesOr;
  if (axes.empty())
    for (int64_t d = 0; d < r; ++d)
      axes.push_back(d);
  int64_t na = axes.size();
  if (static_cast<int64_t>(padsOr->size()) != 2 * na)
    return nodeError() << "pads has " << padsOr->size() << " entries for "
                       << na << " axes",
           failure();
  std::string mode = attr("mode") ? attr("mode")->s() : "constant";
  if (mode != "constant" && mode != "edge" && mode != "reflect")
    return nodeError() << "mode '" << mode << "' is not supported", failure();
  double fill = fromInputs ? 0.0 : attrFloat("value", 0.0);
  // A computed (or owner's) constant_value: padded with 0, then the value
  // added on the public mask of padded positions.
  bool computedFill = fromInputs && in.size() > 2 && in[2] &&
                      mode == "constant" &&
                      (!in[2].cst || in[2].cst->isOwner());
  if (computedFill && numElements(shapeOf(in[2])) != 1)
    return nodeError() << "constant_value must be one value", failure();
  if (fromInputs && in.size() > 2 && in[2] && !computedFill) {
    if (failed(decode(*in[2].cst)) || in[2].cst->numElements() != 1)
      return nodeError() << "constant_value must be one value", failure();
    const auto &val = in[2].cst->value;
    fill = val.isFloat() ? std::get<0>(val.data)[0]
                         : static_cast<double>(std::get<1>(val.data)[0]);
  }
  if (!isFloatDT(dtypeOf(x)) && !isIntDT(dtypeOf(x)))
    return nodeError() << "pads only float and integer tensors", failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  SmallVector<std::pair<int64_t, SmallVector<int64_t>>> padded;
  for (int64_t k = 0; k < na; ++k) {
    auto a = normAxis(axes[k], r);
    if (failed(a))
      return failure();
    int64_t before = (*padsOr)[k], after = (*padsOr)[k + na], n = s[*a];
    if (before == 0 && after == 0)
      continue;
    int64_t len = n + before + after;
    if (len < 0 || (mode != "constant" && n == 0) ||
        (mode == "reflect" && (n < 2 ? std::max(before, after) > 0 : false)))
      return nodeError() << "cannot pad dimension " << n << " by (" << before
                         << ", " << after << ") in mode " << mode,
             failure();
    SmallVector<int64_t> idx;
    for (int64_t j = 0; j < len; ++j) {
      int64_t src = j - before;
      if (src >= 0 && src < n) {
        idx.push_back(src);
      } else if (mode == "constant") {
        idx.push_back(-1);
      } else if (mode == "edge") {
        idx.push_back(src < 0 ? 0 : n - 1);
      } else {
        // Reflect without repeating the edge: period 2(n - 1).
        int64_t p = 2 * (n - 1), m = ((src % p) + p) % p;
        idx.push_back(m < n ? m : p - m);
      }
    }
    v = emitIndexAlong(v, *a, idx, fill);
    if (!v)
      return failure();
    padded.emplace_back(*a, std::move(idx));
  }
  out[0].value = v;
  if (!computedFill || padded.empty())
    return success();
  llvm::ArrayRef<int64_t> os = cast<RankedTensorType>(v.getType()).getShape();
  if (failed(checkFoldSize(numElements(os))))
    return failure();
  ceval::Tensor mask = ceval::Tensor::zeros(os, isFloatDT(dtypeOf(x)));
  SmallVector<int64_t> strides = ceval::rowMajorStrides(os);
  for (int64_t k = 0; k < numElements(os); ++k)
    for (const auto &[axis, idx] : padded)
      if (idx[(k / strides[axis]) % os[axis]] < 0) {
        if (mask.isFloat())
          std::get<0>(mask.data)[k] = 1.0;
        else
          std::get<1>(mask.data)[k] = 1;
      }
  Entry maskE{makeConst(dtypeOf(x), std::move(mask)), Value()};
  FailureOr<Entry> fillAt =
      fnBinary(ceval::BinaryOp::Mul, buildOp<tfm::MulOp>, maskE, in[2]);
  if (failed(fillAt))
    return failure();
  FailureOr<Entry> sum =
      fnBinary(ceval::BinaryOp::Add, buildOp<tfm::AddOp>, out[0], *fillAt);
  if (failed(sum))
    return failure();
  out[0] = *sum;
  return success();
}

} // namespace umbra::onnx_import
