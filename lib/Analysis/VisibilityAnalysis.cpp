//===- VisibilityAnalysis.cpp - who can see each value --------------------===//
#include "umbra/Analysis/VisibilityAnalysis.h"

#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace umbra;
using mpc::Visibility;

VisibilityValue VisibilityValue::join(const VisibilityValue &lhs,
                                      const VisibilityValue &rhs) {
  if (lhs.isUninitialized())
    return rhs;
  if (rhs.isUninitialized())
    return lhs;
  // Unlike the op verifiers, the analysis answers "where must this be
  // computed": a client value meeting an owner value needs MPC.
  FailureOr<Visibility> joined = mpc::joinVisibility(lhs.get(), rhs.get());
  return VisibilityValue(succeeded(joined) ? *joined : Visibility::shared);
}

void VisibilityValue::print(raw_ostream &os) const {
  if (isUninitialized())
    os << "<uninitialized>";
  else
    os << mpc::stringifyVisibility(get());
}

/// An explicit `mpc.visibility` attribute on an op or argument.
static std::optional<Visibility> explicitVisibility(Attribute attr) {
  if (auto v = dyn_cast_or_null<mpc::VisibilityAttr>(attr))
    return v.getValue();
  return std::nullopt;
}

Visibility VisibilityAnalysis::constantVisibility(Operation *constant) {
  if (auto v = explicitVisibility(constant->getAttr(kVisibilityAttrName)))
    return *v;
  // Undeclared real data is a secret of the model owner: a constant nobody
  // marked can cost MPC work, never leak a weight.
  for (Type t : constant->getResultTypes())
    if (isa<FloatType>(getElementTypeOrSelf(t)))
      return Visibility::owner;
  return Visibility::public_;
}

LogicalResult VisibilityAnalysis::visitOperation(
    Operation *op, ArrayRef<const VisibilityLattice *> operands,
    ArrayRef<VisibilityLattice *> results) {
  VisibilityValue v;
  if (op->hasTrait<OpTrait::ConstantLike>()) {
    v = VisibilityValue(constantVisibility(op));
  } else {
    v = VisibilityValue(Visibility::public_);
    for (const VisibilityLattice *operand : operands)
      v = VisibilityValue::join(v, operand->getValue());
  }
  for (VisibilityLattice *result : results)
    propagateIfChanged(result, result->join(v));
  return success();
}

void VisibilityAnalysis::setToEntryState(VisibilityLattice *lattice) {
  Visibility v = Visibility::client;
  if (auto arg = dyn_cast<BlockArgument>(lattice->getAnchor()))
    if (auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      if (arg.getOwner()->isEntryBlock())
        if (auto e = explicitVisibility(
                func.getArgAttr(arg.getArgNumber(), kVisibilityAttrName)))
          v = *e;
  propagateIfChanged(lattice, lattice->join(VisibilityValue(v)));
}

LogicalResult umbra::runVisibilityAnalysis(Operation *root,
                                           DataFlowSolver &solver) {
  dataflow::loadBaselineAnalyses(solver);
  solver.load<VisibilityAnalysis>();
  return solver.initializeAndRun(root);
}

std::optional<Visibility> umbra::getVisibility(const DataFlowSolver &solver,
                                               Value v) {
  const auto *lattice = solver.lookupState<VisibilityLattice>(v);
  if (!lattice || lattice->getValue().isUninitialized())
    return std::nullopt;
  return lattice->getValue().get();
}
