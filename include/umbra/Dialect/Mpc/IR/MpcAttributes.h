//===- MpcAttributes.h - visibility and reveal targets --------------------===//
#ifndef UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_H
#define UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "umbra/Dialect/Mpc/IR/MpcEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h.inc"

namespace umbra::mpc {
/// The discardable attribute that declares who holds a value: on a constant
/// (set by the importer and by passes that create constants), on a function
/// argument, and on every op after `mpc-annotate-visibility`.
inline constexpr llvm::StringLiteral kVisibilityAttrName = "mpc.visibility";
/// On a function result: the integer element type (i1 for bool, ui8, i64,
/// ...) of a model output carried as a ring element at frac 0, which the
/// client writes with that type (the artifact's Slot.elem_type).
inline constexpr llvm::StringLiteral kOutputElementTypeAttrName =
    "mpc.element_type";
/// On a function argument or result: state carried between the programs of
/// one session (a generation's key/value cache). A state argument arrives
/// as each party's share of the previous program's state result; a state
/// result stays secret-shared and is never revealed (role `state`,
/// mpc-assign-roles).
inline constexpr llvm::StringLiteral kStateAttrName = "mpc.state";
/// On a function result: revealed to every role, the servers as well as
/// the client (role `public` on an output; a generation's opt-in
/// end-of-sequence stop), with the reason the leakage report prints.
inline constexpr llvm::StringLiteral kPublicOutputAttrName =
    "mpc.public_output";
/// Whether `v` is a function argument declared state.
bool isStateArgument(mlir::Value v);

/// Who may see the result of combining values of visibility `a` and `b`:
/// public joins to anything, equal holders stay, anything else is shared.
/// Returns failure for a client value combined with an owner value, which
/// must be shared first.
mlir::FailureOr<Visibility> joinVisibility(Visibility a, Visibility b);
} // namespace umbra::mpc

#endif // UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_H
