//===- Passes.h - passes that span dialects -------------------------------===//
//
// Passes on `tfm` programs that decide or use facts for the `mpc` lowering
// (roles, visibility, relocation of public work). Declared in Passes.td.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_TRANSFORMS_PASSES_H
#define UMBRA_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Pass/Pass.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"

namespace umbra {
#define GEN_PASS_DECL
#include "umbra/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "umbra/Transforms/Passes.h.inc"

/// The first invalid option of mpc-assign-roles, as a message naming it, or
/// empty: the pass and mpc-compile (before reading a model) use it.
std::string verifyMpcAssignRolesOptions(const MpcAssignRolesOptions &options);
/// A mistake in mpc-approximate's options (the spec, the `poly`
/// parameters), named; empty when there is none.
std::string verifyMpcApproximateOptions(const MpcApproximateOptions &options);
} // namespace umbra

#endif // UMBRA_TRANSFORMS_PASSES_H
