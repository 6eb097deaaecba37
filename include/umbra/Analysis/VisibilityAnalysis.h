//===- VisibilityAnalysis.h - who can see each value ----------------------===//
//
// A sparse forward dataflow analysis over `tfm` programs that computes, for
// every SSA value, who may see it in plaintext: `public` (derived from
// public values only), `client` (from the client's inputs and public
// values), `owner` (from the model owner's weights and public values) or
// `shared` (mixes client and owner data, so it must be computed under MPC).
//
// Sources: function arguments carry `mpc.visibility` (default `client`: the
// graph inputs are the client's prompt); constants carry `mpc.visibility`,
// or else a non-splat floating-point constant is a weight (`owner`, or
// `public` when the weights are declared public) and every other constant
// (scalars, splats, integer and boolean masks) is `public` structure.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_ANALYSIS_VISIBILITYANALYSIS_H
#define UMBRA_ANALYSIS_VISIBILITYANALYSIS_H

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"

#include "mlir/Analysis/DataFlow/SparseAnalysis.h"

#include <optional>

namespace umbra {

/// The name of the attribute that states a value's visibility.
inline constexpr llvm::StringLiteral kVisibilityAttrName = "mpc.visibility";

/// A lattice value: uninitialised < public < {client, owner} < shared.
class VisibilityValue {
public:
  VisibilityValue() = default;
  explicit VisibilityValue(mpc::Visibility v) : value(v) {}

  bool isUninitialized() const { return !value; }
  mpc::Visibility get() const { return *value; }
  bool operator==(const VisibilityValue &rhs) const {
    return value == rhs.value;
  }

  static VisibilityValue join(const VisibilityValue &lhs,
                              const VisibilityValue &rhs);
  void print(llvm::raw_ostream &os) const;

private:
  std::optional<mpc::Visibility> value;
};

class VisibilityLattice : public mlir::dataflow::Lattice<VisibilityValue> {
public:
  using Lattice::Lattice;
};

class VisibilityAnalysis
    : public mlir::dataflow::SparseForwardDataFlowAnalysis<VisibilityLattice> {
public:
  VisibilityAnalysis(mlir::DataFlowSolver &solver, bool publicWeights)
      : SparseForwardDataFlowAnalysis(solver), publicWeights(publicWeights) {}

  llvm::LogicalResult
  visitOperation(mlir::Operation *op,
                 llvm::ArrayRef<const VisibilityLattice *> operands,
                 llvm::ArrayRef<VisibilityLattice *> results) override;
  void setToEntryState(VisibilityLattice *lattice) override;

  /// The visibility a constant introduces.
  mpc::Visibility constantVisibility(mlir::Operation *constant) const;

private:
  bool publicWeights;
};

/// Runs the analysis on `root`; returns nullopt-like failure if the solver
/// fails. The solver holds the results.
llvm::LogicalResult runVisibilityAnalysis(mlir::Operation *root,
                                          mlir::DataFlowSolver &solver,
                                          bool publicWeights);

/// The computed visibility of `v`, if the analysis reached it.
std::optional<mpc::Visibility>
getVisibility(const mlir::DataFlowSolver &solver, mlir::Value v);

} // namespace umbra

#endif // UMBRA_ANALYSIS_VISIBILITYANALYSIS_H
