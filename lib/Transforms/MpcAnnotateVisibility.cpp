//===- MpcAnnotateVisibility.cpp - print the visibility analysis ----------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Analysis/DataFlowFramework.h"

namespace umbra {
#define GEN_PASS_DEF_MPCANNOTATEVISIBILITY
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {
struct MpcAnnotateVisibility
    : umbra::impl::MpcAnnotateVisibilityBase<MpcAnnotateVisibility> {
  using MpcAnnotateVisibilityBase::MpcAnnotateVisibilityBase;

  void runOnOperation() override {
    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(getOperation(), solver)))
      return signalPassFailure();
    MLIRContext *ctx = &getContext();
    getOperation()->walk([&](Operation *op) {
      if (op->getNumResults() == 0)
        return;
      SmallVector<Attribute> attrs;
      for (Value result : op->getResults()) {
        std::optional<Visibility> v = getVisibility(solver, result);
        if (!v)
          return; // unreachable code: nothing to say
        count(*v);
        attrs.push_back(VisibilityAttr::get(ctx, *v));
      }
      op->setAttr(kVisibilityAttrName,
                  attrs.size() == 1 ? attrs.front() : ArrayAttr::get(ctx, attrs));
    });
  }

  void count(Visibility v) {
    switch (v) {
    case Visibility::public_:
      ++numPublic;
      break;
    case Visibility::client:
      ++numClient;
      break;
    case Visibility::owner:
      ++numOwner;
      break;
    case Visibility::shared:
      ++numShared;
      break;
    }
  }
};
} // namespace
