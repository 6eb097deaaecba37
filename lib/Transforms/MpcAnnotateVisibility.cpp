//===- MpcAnnotateVisibility.cpp - print the visibility analysis ----------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Analysis/DataFlowFramework.h"

#include <array>

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

  /// Counts `v` in its statistic (the four are declared in Passes.td).
  void count(Visibility v) {
    std::array<Statistic *, getMaxEnumValForVisibility() + 1> byVisibility = {
        &numPublic, &numClient, &numOwner, &numShared};
    static_assert(static_cast<unsigned>(Visibility::public_) == 0 &&
                      static_cast<unsigned>(Visibility::client) == 1 &&
                      static_cast<unsigned>(Visibility::owner) == 2 &&
                      static_cast<unsigned>(Visibility::shared) == 3,
                  "byVisibility is indexed by the enum's values");
    ++*byVisibility[static_cast<unsigned>(v)];
  }
};
} // namespace
