//===- SortOps.cpp - ONNX TopK to tfm ----------------------------------------===//
//
// Selections on secret values by comparisons only: TopK with a public K is
// K rounds of argmax-and-remove along the axis. Each round's `tfm.argmax`
// (a tree of comparisons, the first index on ties) is the output index;
// its one-hot row (`tfm.one_hot`: one stacked comparison gate) selects the
// value (one product) and removes the winner by a public offset, so the
// next round finds the next one, equal values in index order (ONNX's tie
// rule). Also the window selection helpers of MaxPool's Indices output.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <cmath>

using namespace mlir;

namespace umbra::onnx_import {

/// A removed element is lowered by this much, so later rounds never pick
/// it: the data must lie in (-2^39, 2^39) (reals) or (-2^60, 2^60)
/// (integers), where the comparisons of the lowered and the live values
/// stay exact (differences below 2^63 ring units).
static double removalOffset(bool isFloat) {
  return isFloat ? std::ldexp(1.0, 40) : std::ldexp(1.0, 61);
}

Value Importer::indexRows(Value ids, ArrayRef<int64_t> rows, int64_t n,
                          int32_t dt) {
  // ids [rows..., 1] -> one-hot [rows..., 1, n] -> [rows..., n].
  SmallVector<int64_t> hotShape(rows);
  hotShape.push_back(1);
  hotShape.push_back(n);
  Value hot = tfm::OneHotOp::create(b, loc, tensorType(hotShape, TP::FLOAT),
                                    ids, b.getI64IntegerAttr(n),
                                    IntegerAttr(), UnitAttr());
  SmallVector<int64_t> flat(rows);
  flat.push_back(n);
  hot = emitReshape(hot, flat);
  if (!isFloatDT(dt))
    hot = tfm::CastOp::create(b, loc, tensorType(flat, dt), hot);
  return hot;
}

Value Importer::sumLastAxis(Value v, int32_t dt) {
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(ty.getShape());
  int64_t r = shape.size(), n = shape.back();
  SmallVector<int64_t> kept(shape);
  kept.back() = 1;
  if (isFloatDT(dt))
    return tfm::ReduceSumOp::create(b, loc, tensorType(kept, dt), v,
                                    b.getDenseI64ArrayAttr({r - 1}),
                                    b.getBoolAttr(true));
  // Integers: a chain of additions of the slices (local).
  Value acc;
  SmallVector<int64_t> strides(r, 1);
  for (int64_t j = 0; j < n; ++j) {
    SmallVector<int64_t> offsets(r, 0);
    offsets.back() = j;
    Value s = emitSlice(v, offsets, strides, kept);
    acc = acc ? tfm::AddOp::create(b, loc, tensorType(kept, dt), acc, s)
                    .getResult()
              : s;
  }
  return acc;
}

LogicalResult Importer::topKOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects X and K", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  bool isFloat = isFloatDT(dt);
  if (!isFloat && !isIntDT(dt))
    return nodeError() << "expects a numeric tensor, got " << dtName(dt),
           failure();
  if (!in[1].cst)
    return nodeError() << "the K input '" << node->input(1)
                       << "' must be a constant (it sets the output shape)",
           failure();
  auto kv = constInts(in[1], "K");
  if (failed(kv))
    return failure();
  if (kv->size() != 1)
    return nodeError() << "K must hold one value", failure();
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t rank = s.size();
  if (rank == 0)
    return nodeError() << "expects a tensor of rank >= 1", failure();
  auto axis = normAxis(attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  int64_t n = s[*axis], k = (*kv)[0];
  if (k < 1 || k > n)
    return nodeError() << "K = " << k << " must be in [1, " << n << "]",
           failure();
  bool largest = attrInt("largest", 1) != 0;
  Value v = valueOf(x);
  if (!v)
    return failure();
  // The axis last: [rows..., n].
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < rank; ++d)
    perm.push_back(d);
  std::swap(perm[*axis], perm[rank - 1]);
  bool moved = *axis != rank - 1;
  if (moved)
    v = emitTranspose(v, perm);
  SmallVector<int64_t> rows;
  for (int64_t d = 0; d < rank - 1; ++d)
    rows.push_back(s[perm[d]]);
  SmallVector<int64_t> full(rows), one(rows);
  full.push_back(n);
  one.push_back(1);
  Type fullTy = tensorType(full, dt);
  // The smallest are the largest of -x, in the same index order.
  Value cur = largest ? v : tfm::NegOp::create(b, loc, fullTy, v).getResult();
  Value offset = materialize(*scalarConst(dt, removalOffset(isFloat)));
  if (!offset)
    return failure();
  SmallVector<Value> vals, idxs;
  for (int64_t r = 0; r < k; ++r) {
    Value i = tfm::ArgMaxOp::create(b, loc, tensorType(one, TP::INT64), cur,
                                    b.getI64IntegerAttr(rank - 1),
                                    b.getBoolAttr(true), b.getBoolAttr(false));
    idxs.push_back(i);
    Value hot = indexRows(i, rows, n, dt);
    vals.push_back(sumLastAxis(
        tfm::MulOp::create(b, loc, fullTy, hot, cur).getResult(), dt));
    if (r + 1 < k)
      cur = tfm::SubOp::create(
          b, loc, fullTy, cur,
          tfm::MulOp::create(b, loc, fullTy, hot, offset).getResult());
  }
  Value values = emitConcat(vals, rank - 1);
  Value indices = emitConcat(idxs, rank - 1);
  if (!largest) {
    SmallVector<int64_t> outShape(rows);
    outShape.push_back(k);
    values = tfm::NegOp::create(b, loc, tensorType(outShape, dt), values);
  }
  if (moved) {
    values = emitTranspose(values, perm);
    indices = emitTranspose(indices, perm);
  }
  out[0].value = values;
  if (out.size() > 1)
    out[1].value = indices;
  return success();
}

} // namespace umbra::onnx_import
