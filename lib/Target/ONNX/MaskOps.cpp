//===- MaskOps.cpp - ONNX attention-mask idioms to tfm --------------------===//
//
// Trilu: causal-mask buffers are public constants and fold; a Trilu of a
// computed tensor is a `tfm.where` with a constant mask. (The masks
// themselves are raised to `tfm.causal_mask` by `tfm-fuse`.)
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

LogicalResult Importer::triluOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (s.size() < 2)
    return nodeError() << "input must have rank >= 2", failure();
  int64_t k = 0;
  if (in.size() > 1 && in[1]) {
    auto kv = constInts(in[1], "k");
    if (failed(kv) || kv->size() != 1)
      return nodeError() << "k must be a constant scalar", failure();
    k = (*kv)[0];
  }
  bool upper = attrInt("upper", 1) != 0;
  int64_t rows = s[s.size() - 2], cols = s.back();
  if (x.cst && !x.cst->isOwner()) {
    if (failed(decode(*x.cst)))
      return failure();
    out[0].cst = makeConst(x.cst->dtype, ceval::trilu(x.cst->value, k, upper));
    return success();
  }
  if (!isFloatDT(dtypeOf(x)) && !isIntDT(dtypeOf(x)))
    return nodeError() << "Trilu of " << dtName(dtypeOf(x))
                       << " values computed from graph inputs is not "
                          "supported",
           failure();
  // where(mask, x, 0) with a constant [rows, cols] mask.
  if (failed(checkFoldSize(ceval::numElements({rows, cols}))))
    return failure();
  ceval::Tensor ones;
  ones.data = std::vector<int64_t>{1};
  ConstPtr mask = literal(makeConst(
      TP::BOOL, ceval::trilu(ceval::fill(ones, {rows, cols}), k, upper)));
  ConstPtr zero = scalarConst(dtypeOf(x), 0);
  Value m = materialize(*mask), z = materialize(*zero), v = valueOf(x);
  if (!m || !z || !v)
    return failure();
  out[0].value = tfm::WhereOp::create(b, loc, v.getType(), m, v, z);
  return success();
}

} // namespace umbra::onnx_import
