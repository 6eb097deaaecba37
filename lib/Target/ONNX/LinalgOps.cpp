//===- LinalgOps.cpp - ONNX linear algebra to tfm -------------------------===//
//
// MatMul and Gemm. A Gemm whose B is a constant (or computed from
// constants, e.g. a transposed weight) is a layer, `tfm.linear`; a product
// of two activations is a `tfm.matmul`. Weights are never rewritten: a
// `transB` weight stays the owner's constant under a `tfm.transpose`.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace umbra::onnx_import {

/// Whether `v` is computed from constants only (e.g. a transposed weight):
/// such a B operand makes a Gemm a tfm.linear.
static bool isConstantDerived(Value v, int depth = 0) {
  Operation *def = v.getDefiningOp();
  if (!def || depth > 8)
    return false;
  if (isa<arith::ConstantOp>(def))
    return true;
  if (!isa<tfm::TfmDialect>(def->getDialect()) || def->getNumOperands() == 0)
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return isConstantDerived(o, depth + 1); });
}

LogicalResult Importer::matmulOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects two inputs", failure();
  const Entry &x = in[0], &w = in[1];
  if (!isFloatDT(dtypeOf(x)) || dtypeOf(x) != dtypeOf(w))
    return nodeError() << "expects two float tensors of one type", failure();
  SmallVector<int64_t> a(shapeOf(x)), c(shapeOf(w));
  if (a.empty() || c.empty())
    return nodeError() << "operands must have rank >= 1", failure();
  bool aVec = a.size() == 1, cVec = c.size() == 1;
  if (aVec)
    a.insert(a.begin(), 1);
  if (cVec)
    c.push_back(1);
  if (a.back() != c[c.size() - 2])
    return nodeError() << "contraction dimensions differ: "
                       << shapeStr(shapeOf(x)) << " x " << shapeStr(shapeOf(w)),
           failure();
  SmallVector<int64_t> batch;
  if (!ceval::broadcastShapes(llvm::ArrayRef<int64_t>(a).drop_back(2),
                       llvm::ArrayRef<int64_t>(c).drop_back(2), batch))
    return nodeError() << "batch dimensions do not broadcast", failure();
  SmallVector<int64_t> shape = batch;
  shape.push_back(a[a.size() - 2]);
  shape.push_back(c.back());
  SmallVector<int64_t> finalShape(shape);
  if (cVec)
    finalShape.pop_back();
  if (aVec)
    finalShape.erase(finalShape.end() - (cVec ? 1 : 2));

  Value xv = valueOf(x), wv = valueOf(w);
  if (!xv || !wv)
    return failure();
  int32_t dt = dtypeOf(x);
  if (aVec)
    xv = emitReshape(xv, a);
  // A constant rank-2 right operand is a linear layer: tfm-fuse raises it.
  if (cVec)
    wv = emitReshape(wv, c);
  Value r = tfm::MatMulOp::create(b, loc, tensorType(shape, dt), xv, wv);
  out[0].value = emitReshape(r, finalShape);
  return success();
}

LogicalResult Importer::gemmOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects A and B", failure();
  const Entry &A = in[0], &B = in[1];
  int32_t dt = dtypeOf(A);
  if (!isFloatDT(dt) || dtypeOf(B) != dt || rankOf(A) != 2 || rankOf(B) != 2)
    return nodeError() << "expects rank-2 float A and B", failure();
  float alpha = attrFloat("alpha", 1.0f), beta = attrFloat("beta", 1.0f);
  bool transA = attrInt("transA", 0), transB = attrInt("transB", 0);
  Value av = valueOf(A), bv = valueOf(B);
  if (!av || !bv)
    return failure();
  if (transA)
    av = emitTranspose(av, {1, 0});
  if (transB)
    bv = emitTranspose(bv, {1, 0});
  auto aTy = cast<RankedTensorType>(av.getType());
  auto bTy = cast<RankedTensorType>(bv.getType());
  if (aTy.getShape()[1] != bTy.getShape()[0])
    return nodeError() << "contraction dimensions differ", failure();
  SmallVector<int64_t> shape = {aTy.getShape()[0], bTy.getShape()[1]};
  auto ty = tensorType(shape, dt);
  const Entry *C = in.size() > 2 && in[2] ? &in[2] : nullptr;
  if (C && beta != 0.0f) {
    SmallVector<int64_t> bc;
    if (!ceval::broadcastShapes(shapeOf(*C), shape, bc) ||
        llvm::ArrayRef<int64_t>(bc) != llvm::ArrayRef<int64_t>(shape))
      return nodeError() << "C does not broadcast to " << shapeStr(shape),
             failure();
  } else {
    C = nullptr;
  }
  // A layer (constant B) is a tfm.linear, like MatMul; a product of two
  // activations is a tfm.matmul.
  bool isLayer = isConstantDerived(bv);
  bool biasInLinear = isLayer && C && alpha == 1.0f && beta == 1.0f &&
                      shapeOf(*C) == llvm::ArrayRef<int64_t>{shape[1]};
  Value cv;
  if (biasInLinear && !(cv = valueOf(*C)))
    return failure();
  Value r = isLayer ? Value(tfm::LinearOp::create(b, loc, ty, av, bv, cv))
                    : Value(tfm::MatMulOp::create(b, loc, ty, av, bv));
  if (alpha != 1.0f) {
    Value s = materialize(*scalarConst(dt, alpha));
    if (!s)
      return failure();
    r = tfm::MulOp::create(b, loc, ty, r, s);
  }
  if (C && !biasInLinear) {
    Value c = valueOf(*C);
    if (!c)
      return failure();
    if (beta != 1.0f) {
      Value s = materialize(*scalarConst(dt, beta));
      if (!s)
        return failure();
      c = tfm::MulOp::create(b, loc, c.getType(), c, s);
    }
    r = tfm::AddOp::create(b, loc, ty, r, c);
  }
  out[0].value = r;
  return success();
}

} // namespace umbra::onnx_import
