//===- MpcAnnotateRanges.cpp - print the range analysis -------------------===//
#include "umbra/Analysis/RangeAnalysis.h"
#include "umbra/Conversion/ApproximationDomains.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

#include <cmath>

namespace umbra {
#define GEN_PASS_DEF_MPCANNOTATERANGES
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;

namespace {
struct MpcAnnotateRanges
    : umbra::impl::MpcAnnotateRangesBase<MpcAnnotateRanges> {
  using MpcAnnotateRangesBase::MpcAnnotateRangesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    RangeOptions opts;
    opts.domains = approximationDomains(ConvertTfmToMpcOptions());
    for (const std::string &spec : inputRanges)
      if (std::string err = parseInputRange(spec, opts); !err.empty()) {
        emitError(module.getLoc(), err);
        return signalPassFailure();
      }
    if (!calibration.empty())
      if (std::string err = readCalibration(calibration, opts); !err.empty()) {
        emitError(module.getLoc(), err);
        return signalPassFailure();
      }
    FailureOr<SmallVector<RangeFinding>> findings = analyzeRanges(module, opts);
    if (failed(findings))
      return signalPassFailure();
    Builder b(&getContext());
    auto bound = [&](double v) -> Attribute {
      if (std::isinf(v))
        return b.getStringAttr(v > 0 ? "inf" : "-inf");
      return b.getF64FloatAttr(v);
    };
    for (const RangeFinding &fd : *findings) {
      if (fd.range.isUninitialized())
        continue;
      fd.op->setAttr("mpc.range",
                     b.getArrayAttr({bound(fd.range.lo), bound(fd.range.hi)}));
      if (!std::isnan(fd.headroomBits))
        fd.op->setAttr("mpc.headroom",
                       bound(std::round(fd.headroomBits * 10) / 10));
    }
    emitRangeWarnings(module, *findings, opts);
  }
};
} // namespace
