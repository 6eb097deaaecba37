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
#include "umbra/Dialect/Tfm/IR/TfmFolding.h"
#include "umbra/Transforms/Passes.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"

namespace umbra {
#define GEN_PASS_DEF_MPCRELOCATE
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

struct MpcRelocate : umbra::impl::MpcRelocateBase<MpcRelocate> {
  using MpcRelocateBase::MpcRelocateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    fold(module);
    distribute(module);
  }

  /// Folds, in program order, every foldable op on public constants (a
  /// folded result can make its users foldable), with the tfm dialect's
  /// one folding helper: the result is public and carries the union of its
  /// operands' provenance.
  void fold(ModuleOp module) {
    SmallVector<Operation *> folded;
    module.walk([&](Operation *op) {
      if (op->getNumResults() != 1 || !isa<tfm::TfmDialect>(op->getDialect()))
        return;
      OpBuilder b(op);
      FailureOr<arith::ConstantOp> cst = tfm::foldToPublicConstant(b, op);
      if (failed(cst))
        return;
      op->getResult(0).replaceAllUsesWith(cst->getResult());
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

  /// x (W + D) -> x W + x D for a public W and a private D (x not public).
  /// Owner data never moves to a public or client-computed position: the
  /// public product has only x and W (and a public bias) as operands, the
  /// private one D, and the visibility analysis places each by its
  /// operands' declared roles.
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
      // The bias is added once: with the public product when it is public
      // (the client's plaintext work), else with the private one, so that
      // an owner's bias never turns the public product into MPC work (or
      // lands next to the client's plaintext).
      if (auto lin = dyn_cast<tfm::LinearOp>(op); lin && lin.getBias()) {
        Operation *without = isPublic(lin.getBias()) ? withPriv : withPub;
        cast<tfm::LinearOp>(without).getBiasMutable().clear();
      }
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
