//===- MpcRelocate.cpp - move work on public values out of MPC ------------===//
//
// Marill et al. (2024): work that depends on public values alone, or on one
// party's data and public values, should never be paid for under MPC. The
// visibility analysis already places single-party work at its holder (with
// the roles mpc-assign-roles declared); this pass makes more of the model
// public-only or single-party: it folds ops on public constants and
// distributes products over public + private sums so that the public part is
// a plaintext product.
//
//===----------------------------------------------------------------------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Transforms/Passes.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "llvm/ADT/TypeSwitch.h"

namespace umbra {
#define GEN_PASS_DEF_MPCRELOCATE
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// Element `flat` of the result (of shape `out`) read from an operand of
/// shape `in` under numpy broadcasting.
int64_t broadcastIndex(int64_t flat, ArrayRef<int64_t> out,
                       ArrayRef<int64_t> in) {
  SmallVector<int64_t> os = stridesOf(out), is = stridesOf(in);
  int64_t idx = 0, lead = out.size() - in.size();
  for (size_t d = 0; d < out.size(); ++d) {
    int64_t coord = (flat / os[d]) % out[d];
    if (int64_t k = static_cast<int64_t>(d) - lead; k >= 0 && in[k] != 1)
      idx += coord * is[k];
  }
  return idx;
}

/// The values of `op`'s result when every operand is a constant, for the
/// ops that only move or combine data.
std::optional<SmallVector<double>> evaluate(Operation *op) {
  // Decide before reading any weight: reading a public LM head as doubles
  // for an op that cannot be folded would be wasted work.
  if (!isa<tfm::ReshapeOp, tfm::NegOp, tfm::AddOp, tfm::SubOp, tfm::MulOp,
           tfm::TransposeOp>(op))
    return std::nullopt;
  SmallVector<SmallVector<double>> in;
  for (Value v : op->getOperands()) {
    std::optional<SmallVector<double>> vals = getConstantValues(v);
    if (!vals)
      return std::nullopt;
    in.push_back(std::move(*vals));
  }
  auto outTy = cast<ShapedType>(op->getResult(0).getType());
  ArrayRef<int64_t> out = outTy.getShape();
  int64_t n = outTy.getNumElements();
  auto binary = [&](auto fn) -> std::optional<SmallVector<double>> {
    ArrayRef<int64_t> a = cast<ShapedType>(op->getOperand(0).getType()).getShape(),
                      b = cast<ShapedType>(op->getOperand(1).getType()).getShape();
    SmallVector<double> r(n);
    for (int64_t i = 0; i < n; ++i)
      r[i] = fn(in[0][broadcastIndex(i, out, a)], in[1][broadcastIndex(i, out, b)]);
    return r;
  };
  return TypeSwitch<Operation *, std::optional<SmallVector<double>>>(op)
      .Case<tfm::ReshapeOp>([&](auto) { return in[0]; })
      .Case<tfm::NegOp>([&](auto) {
        SmallVector<double> r(in[0]);
        for (double &x : r)
          x = -x;
        return r;
      })
      .Case<tfm::AddOp>([&](auto) { return binary(std::plus<double>()); })
      .Case<tfm::SubOp>([&](auto) { return binary(std::minus<double>()); })
      .Case<tfm::MulOp>([&](auto) { return binary(std::multiplies<double>()); })
      .Case<tfm::TransposeOp>([&](tfm::TransposeOp t)
                                  -> std::optional<SmallVector<double>> {
        ArrayRef<int64_t> perm = t.getPermutation();
        SmallVector<int64_t> is =
            stridesOf(cast<ShapedType>(t.getInput().getType()).getShape());
        SmallVector<int64_t> os = stridesOf(out);
        SmallVector<double> r(n);
        for (int64_t i = 0; i < n; ++i) {
          int64_t src = 0;
          for (size_t d = 0; d < out.size(); ++d)
            src += ((i / os[d]) % out[d]) * is[perm[d]];
          r[i] = in[0][src];
        }
        return r;
      })
      .Default([](Operation *) { return std::nullopt; });
}

struct MpcRelocate : umbra::impl::MpcRelocateBase<MpcRelocate> {
  using MpcRelocateBase::MpcRelocateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    fold(module);
    distribute(module);
  }

  /// Folds, in program order, every foldable op on public constants (a
  /// folded result can make its users foldable).
  void fold(ModuleOp module) {
    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(module, solver)))
      return;
    SmallVector<Operation *> folded;
    module.walk([&](Operation *op) {
      if (op->getNumResults() != 1 || !isa<tfm::TfmDialect>(op->getDialect()))
        return;
      auto ty = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!ty || !isa<FloatType>(ty.getElementType()) ||
          getVisibility(solver, op->getResult(0)) != Visibility::public_)
        return;
      std::optional<SmallVector<double>> vals = evaluate(op);
      if (!vals)
        return;
      SmallVector<float> f(vals->begin(), vals->end());
      OpBuilder b(op);
      auto cst = arith::ConstantOp::create(
          b, op->getLoc(), ty, DenseElementsAttr::get(ty, ArrayRef<float>(f)));
      // Folded values are public whatever they look like.
      cst->setAttr(kVisibilityAttrName,
                   VisibilityAttr::get(&getContext(), Visibility::public_));
      op->getResult(0).replaceAllUsesWith(cst);
      folded.push_back(op);
      ++numFolded;
    });
    for (Operation *op : folded)
      op->erase();
    // Intermediate results and the weights they came from are dead now.
    module.walk([](arith::ConstantOp cst) {
      if (cst->use_empty())
        cst->erase();
    });
  }

  /// x (W + D) -> x W + x D for a public W and a private D.
  void distribute(ModuleOp module) {
    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(module, solver)))
      return;
    auto isPublic = [&](Value v) {
      return getVisibility(solver, v) == Visibility::public_;
    };
    SmallVector<Operation *> work;
    module.walk([&](Operation *op) {
      if (isa<tfm::LinearOp, tfm::MatMulOp>(op))
        work.push_back(op);
    });
    for (Operation *op : work) {
      Value weight = op->getOperand(1);
      auto sum = weight.getDefiningOp<tfm::AddOp>();
      if (!sum || !sum->hasOneUse() ||
          sum.getLhs().getType() != sum.getRhs().getType() ||
          isPublic(op->getOperand(0)))
        continue;
      Value pub = sum.getLhs(), priv = sum.getRhs();
      if (!isPublic(pub))
        std::swap(pub, priv);
      if (!isPublic(pub) || isPublic(priv))
        continue;
      OpBuilder b(op);
      Operation *withPub = b.clone(*op), *withPriv = b.clone(*op);
      withPub->setOperand(1, pub);
      withPriv->setOperand(1, priv);
      if (auto lin = dyn_cast<tfm::LinearOp>(withPriv); lin && lin.getBias())
        lin.getBiasMutable().clear(); // the bias is added once
      Value total = tfm::AddOp::create(b, op->getLoc(), op->getResult(0).getType(),
                                       withPub->getResult(0),
                                       withPriv->getResult(0));
      op->getResult(0).replaceAllUsesWith(total);
      op->erase();
      sum->erase();
      ++numDistributed;
    }
  }
};

} // namespace
