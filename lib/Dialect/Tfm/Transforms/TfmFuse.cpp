//===- TfmFuse.cpp - raise exporter patterns to semantic tfm ops ----------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace umbra::tfm {
#define GEN_PASS_DEF_TFMFUSE
#include "umbra/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace umbra::tfm

using namespace mlir;
using namespace umbra::tfm;

namespace {
struct TfmFuse : umbra::tfm::impl::TfmFuseBase<TfmFuse> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
