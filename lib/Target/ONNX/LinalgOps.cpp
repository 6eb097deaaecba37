//===- LinalgOps.cpp - ONNX linear algebra to tfm -------------------------===//
//
// MatMul, Gemm and Det. A Gemm whose B is a constant (or computed from
// constants, e.g. a transposed weight) is a layer, `tfm.linear`; a product
// of two activations is a `tfm.matmul`. Weights are never rewritten: a
// `transB` weight stays the owner's constant under a `tfm.transpose`.
// Det of small matrices is the Laplace expansion: products only, exact up
// to the products' truncation (no secret division or pivoting).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <functional>

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;

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

/// Largest matrix Det expands: the Laplace expansion along the first row
/// has n!/2 products of n factors (12 at n = 4, 60 at n = 5).
static constexpr int64_t kMaxDetSize = 5;

LogicalResult Importer::detOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> shape = shapeOf(x);
  if (!isFloatDT(dtypeOf(x)) || shape.size() < 2 ||
      shape.back() != shape[shape.size() - 2])
    return nodeError() << "expects float square matrices [..., n, n], got "
                       << dtName(dtypeOf(x)) << " " << shapeStr(shape),
           failure();
  int64_t n = shape.back();
  if (n > kMaxDetSize)
    return nodeError() << "Det of " << n << "x" << n
                       << " matrices: the Laplace expansion (products only) "
                          "is limited to n <= "
                       << kMaxDetSize
                       << "; elimination would divide by secret pivots",
           failure();
  SmallVector<int64_t> batch(shape.drop_back(2));
  // Element (i, j) of every matrix, shaped [..., 1, 1].
  SmallVector<SmallVector<Entry>> m(n, SmallVector<Entry>(n));
  SmallVector<int64_t> offsets(shape.size(), 0), steps(shape.size(), 1),
      sizes(shape);
  sizes[shape.size() - 2] = sizes.back() = 1;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      offsets[shape.size() - 2] = i;
      offsets.back() = j;
      if (failed(sliceImpl(x, offsets, steps, sizes, m[i][j])))
        return failure();
    }
  auto bin = [&](BinaryOp k, BinaryBuilder build, Entry a,
                 Entry c) -> FailureOr<Entry> {
    Entry pair[2] = {a, c}, r;
    if (failed(binary(k, build, pair, llvm::MutableArrayRef<Entry>(r))))
      return failure();
    return r;
  };
  // det of the minor of rows row.. and the columns in `cols` (a bit set),
  // memoised: each column subset is expanded once.
  llvm::DenseMap<unsigned, Entry> minors;
  std::function<FailureOr<Entry>(int64_t, unsigned)> det =
      [&](int64_t row, unsigned cols) -> FailureOr<Entry> {
    if (auto it = minors.find(cols); it != minors.end())
      return it->second;
    Entry acc;
    int64_t sign = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (!(cols & (1u << j)))
        continue;
      FailureOr<Entry> term = m[row][j];
      if (row + 1 < n) {
        auto sub = det(row + 1, cols & ~(1u << j));
        term = failed(sub) ? sub
                           : bin(BinaryOp::Mul, buildOp<tfm::MulOp>, m[row][j],
                                 *sub);
      }
      if (failed(term))
        return failure();
      bool minus = sign++ % 2;
      if (!acc) {
        if (!minus) {
          acc = *term;
          continue;
        }
        Entry neg[1] = {*term};
        if (failed(unary(ceval::UnaryOp::Neg, buildOp<tfm::NegOp>, neg,
                         llvm::MutableArrayRef<Entry>(acc))))
          return failure();
        continue;
      }
      auto next = minus ? bin(BinaryOp::Sub, buildOp<tfm::SubOp>, acc, *term)
                        : bin(BinaryOp::Add, buildOp<tfm::AddOp>, acc, *term);
      if (failed(next))
        return failure();
      acc = *next;
    }
    return minors[cols] = acc;
  };
  auto d = det(0, (1u << n) - 1);
  if (failed(d))
    return failure();
  return reshapeLike(*d, out, batch);
}

} // namespace umbra::onnx_import
