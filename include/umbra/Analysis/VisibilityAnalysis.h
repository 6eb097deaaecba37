//===- VisibilityAnalysis.h - who can see each value ----------------------===//
//
// A sparse forward dataflow analysis over `tfm` programs that computes, for
// every SSA value, who may see it in plaintext: `public` (derived from
// public values only), `client` (from the client's inputs and public
// values), `owner` (from the model owner's weights and public values) or
// `shared` (mixes client and owner data, so it must be computed under MPC).
//
// Sources are declarations, never guesses from a constant's shape: function
// arguments carry `mpc.visibility` (default `client`: the graph inputs are
// the client's prompt); constants carry `mpc.visibility` (the importer marks
// initializers `owner` and literals `public`; `mpc-assign-roles` applies the
// user's overrides). An unmarked float constant is `owner`: secret by
// default, never public by accident. An unmarked integer or boolean constant
// (a shape, indices, a mask) is `public` structure.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_ANALYSIS_VISIBILITYANALYSIS_H
#define UMBRA_ANALYSIS_VISIBILITYANALYSIS_H

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"

#include "mlir/Analysis/DataFlow/SparseAnalysis.h"

#include <optional>

namespace umbra {

using mpc::kVisibilityAttrName;

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
  using SparseForwardDataFlowAnalysis::SparseForwardDataFlowAnalysis;

  llvm::LogicalResult
  visitOperation(mlir::Operation *op,
                 llvm::ArrayRef<const VisibilityLattice *> operands,
                 llvm::ArrayRef<VisibilityLattice *> results) override;
  void setToEntryState(VisibilityLattice *lattice) override;

  /// The visibility a constant introduces: its declaration, else the safe
  /// default (owner for real values, public for integer structure).
  static mpc::Visibility constantVisibility(mlir::Operation *constant);
};

/// Runs the analysis on `root`; returns nullopt-like failure if the solver
/// fails. The solver holds the results.
llvm::LogicalResult runVisibilityAnalysis(mlir::Operation *root,
                                          mlir::DataFlowSolver &solver);

/// The computed visibility of `v`, if the analysis reached it.
std::optional<mpc::Visibility>
getVisibility(const mlir::DataFlowSolver &solver, mlir::Value v);

} // namespace umbra

#endif // UMBRA_ANALYSIS_VISIBILITYANALYSIS_H
