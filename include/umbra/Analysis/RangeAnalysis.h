//===- RangeAnalysis.h - interval ranges of every tfm value -----*- C++ -*-===//
//
// A sparse forward dataflow analysis over `tfm` programs that bounds every
// real value by an interval [lo, hi], from
//   - the declared ranges of the graph inputs (`--input-range name=lo:hi`;
//     an undeclared float input is unbounded, token ids do not matter: an
//     embedding's range is its table's),
//   - the constants themselves (the weights' min and max),
//   - optionally, calibration data: per-node min/max that umbra_models
//     recorded on real inputs (`--calibration file.json`); a calibrated
//     node's observed range replaces the static one downstream.
// With the fixed-point encoding and the domains of the lowering's
// approximations it answers, per op: can the encoding overflow (headroom
// in bits), is each approximation evaluated inside its fitted domain.
//
// The weights' values are the model owner's secret: ranges derived from
// them are printed to the compiling user (the owner) only; they are never
// written into the artifact and never change the compiled program.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_ANALYSIS_RANGEANALYSIS_H
#define UMBRA_ANALYSIS_RANGEANALYSIS_H

#include "mlir/Analysis/DataFlow/SparseAnalysis.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <limits>
#include <string>

namespace umbra {

/// A closed interval; empty (lo > hi) means "not reached yet".
class Interval {
public:
  Interval() = default;
  Interval(double lo, double hi) : lo(lo), hi(hi) {}
  static Interval unbounded() {
    return {-std::numeric_limits<double>::infinity(),
            std::numeric_limits<double>::infinity()};
  }

  bool isUninitialized() const { return !(lo <= hi); }
  bool isBounded() const { return std::isfinite(lo) && std::isfinite(hi); }
  /// max(|lo|, |hi|).
  double magnitude() const;
  bool operator==(const Interval &rhs) const {
    return (isUninitialized() && rhs.isUninitialized()) ||
           (lo == rhs.lo && hi == rhs.hi);
  }
  static Interval join(const Interval &a, const Interval &b);
  void print(llvm::raw_ostream &os) const;

  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
};

class RangeLattice : public mlir::dataflow::Lattice<Interval> {
public:
  using Lattice::Lattice;
};

/// The domains on which the lowering's approximations are fitted or valid
/// (filled from the lowering's options by `approximationDomains` in
/// umbra/Conversion/ApproximationDomains.h, the one place that knows them).
struct ApproximationDomains {
  unsigned fracBits = 16;
  /// softmax's exp(x) = (1 + x/2^t)^(2^t) on [-2^t, 0].
  int64_t expSquarings = 8;
  /// rsqrt of a norm's variance on [epsilon, varianceMax + epsilon].
  double varianceMax = 1e4;
  /// GeLU/SiLU: a polynomial on |x| < threshold, ReLU beyond (valid for
  /// every x: reported, never violated).
  double geluThreshold = 4, siluThreshold = 10;
};

struct RangeOptions {
  /// Graph inputs by their ONNX name.
  llvm::StringMap<Interval> inputs;
  /// Observed [min, max] per ONNX node name (calibration data).
  llvm::StringMap<Interval> calibration;
  ApproximationDomains domains;
};

/// Parses `name=lo:hi` into `opts.inputs`; a message naming the mistake,
/// or "".
std::string parseInputRange(llvm::StringRef spec, RangeOptions &opts);
/// Reads calibration JSON ({"nodes": {"name": [min, max], ...}, "inputs":
/// {...}}, as umbra_models.calibrate writes it) into `opts`; a message, or
/// "".
std::string readCalibration(llvm::StringRef path, RangeOptions &opts);

class RangeAnalysis
    : public mlir::dataflow::SparseForwardDataFlowAnalysis<RangeLattice> {
public:
  RangeAnalysis(mlir::DataFlowSolver &solver, const RangeOptions &options)
      : SparseForwardDataFlowAnalysis(solver), options(options) {}

  llvm::LogicalResult
  visitOperation(mlir::Operation *op,
                 llvm::ArrayRef<const RangeLattice *> operands,
                 llvm::ArrayRef<RangeLattice *> results) override;
  void setToEntryState(RangeLattice *lattice) override;

private:
  const RangeOptions &options;
};

/// What the analysis found at one op: its result range, the fixed-point
/// headroom and each approximation domain it meets.
struct RangeFinding {
  mlir::Operation *op;
  std::string name; ///< the ONNX node name ("" if none)
  Interval range;
  bool calibrated = false;
  /// log2(limit / largest magnitude) in bits; +inf for a zero range, NaN
  /// when unbounded. The limit is 2^(63 - f) for a value, 2^(63 - 2f) for
  /// the product a multiplication or a norm's square forms before its
  /// truncation.
  double headroomBits;
  /// The magnitude compared with the limit (a norm's: its input squared).
  double magnitude = 0;
  bool isProduct = false;
  /// "exp argument [-300, 0] in [-256, 0]"-style notes, and whether each
  /// is violated.
  llvm::SmallVector<std::pair<std::string, bool>> domains;
};

/// Runs the analysis on `module` and collects one finding per tfm op.
llvm::FailureOr<llvm::SmallVector<RangeFinding>>
analyzeRanges(mlir::ModuleOp module, const RangeOptions &options);

/// Emits one warning (with the node's location and name) for each place
/// where fixed point could overflow or an approximation is evaluated
/// outside its domain, and for each float input without a declared range.
/// Returns the number of warnings.
unsigned emitRangeWarnings(mlir::ModuleOp module,
                           llvm::ArrayRef<RangeFinding> findings,
                           const RangeOptions &options);

/// Prints the range report: per op, range, headroom, domains.
void printRangeReport(llvm::ArrayRef<RangeFinding> findings,
                      const RangeOptions &options, llvm::raw_ostream &os);

} // namespace umbra

#endif // UMBRA_ANALYSIS_RANGEANALYSIS_H
