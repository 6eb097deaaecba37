//===- Relocate.cpp - move work on public values out of MPC ---------------===//
//
// Marill et al. (2024): work that depends on public values alone, or on one
// party's data and public values, should never be paid for under MPC. The
// visibility analysis already places single-party work at its holder; this
// pass makes more of the model public-only or single-party: it marks the
// weights the user names as public, folds ops on public constants, and
// distributes products over public + private sums so that the public part is
// a plaintext product.
//
//===----------------------------------------------------------------------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/Transforms/Passes.h"
#include "umbra/Dialect/Tfm/IR/TfmFolding.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Regex.h"

namespace umbra::mpc {
#define GEN_PASS_DEF_MPCRELOCATE
#include "umbra/Dialect/Mpc/Transforms/Passes.h.inc"
} // namespace umbra::mpc

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

/// The weight's name: the ONNX initializer name the importer put in the
/// location, else the resource key.
std::optional<std::string> weightName(arith::ConstantOp cst) {
  std::optional<std::string> name;
  cst.getLoc()->walk([&](Location loc) {
    if (auto n = dyn_cast<NameLoc>(loc)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!name)
    if (auto r = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
      name = r.getRawHandle().getKey().str();
  return name;
}

struct MpcRelocate : umbra::mpc::impl::MpcRelocateBase<MpcRelocate> {
  using MpcRelocateBase::MpcRelocateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(markPublicWeights(module)))
      return signalPassFailure();
    fold(module);
    distribute(module);
  }

  LogicalResult markPublicWeights(ModuleOp module) {
    if (publicWeights.empty())
      return success();
    llvm::Regex re("^(" + publicWeights + ")$");
    if (std::string err; !re.isValid(err))
      return emitError(module.getLoc(), "public-weights is not a valid regular "
                              "expression: ")
             << err;
    auto pub = VisibilityAttr::get(&getContext(), Visibility::public_);
    module.walk([&](arith::ConstantOp cst) {
      std::optional<std::string> name = weightName(cst);
      if (name && re.match(*name)) {
        cst->setAttr(kVisibilityAttrName, pub);
        ++numPublicWeights;
      }
    });
    return success();
  }

  /// Folds, in program order, every foldable op on public constants (a
  /// folded result can make its users foldable).
  void fold(ModuleOp module) {
    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(module, solver, /*publicWeights=*/false)))
      return;
    SmallVector<Operation *> folded;
    module.walk([&](Operation *op) {
      if (op->getNumResults() != 1 || !isa<tfm::TfmDialect>(op->getDialect()))
        return;
      auto ty = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!ty ||
          getVisibility(solver, op->getResult(0)) != Visibility::public_)
        return;
      // The one constant evaluator (the tfm ops' fold hooks use it too).
      SmallVector<Attribute> operands;
      for (Value v : op->getOperands()) {
        auto def = v.getDefiningOp<arith::ConstantOp>();
        if (!def)
          return;
        operands.push_back(def.getValue());
      }
      auto value =
          dyn_cast_or_null<TypedAttr>(tfm::evaluateTfmOp(op, operands));
      if (!value)
        return;
      OpBuilder b(op);
      auto cst = arith::ConstantOp::create(b, op->getLoc(), ty, value);
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
    if (failed(runVisibilityAnalysis(module, solver, /*publicWeights=*/false)))
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
