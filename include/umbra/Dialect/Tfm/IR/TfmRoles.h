//===- TfmRoles.h - who may see a tfm constant ------------------*- C++ -*-===//
//
// Roles are explicit: the ONNX importer marks every `arith.constant` it
// creates with `mpc.visibility` (initializers are the model owner's; Constant
// nodes, shape computations and literals are public), and compile-time
// folding (the tfm folding pattern) only evaluates constants marked public, whose
// result is public again.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMROLES_H
#define UMBRA_DIALECT_TFM_IR_TFMROLES_H

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

namespace umbra::tfm {

/// Marks `op` (a constant) as visible to `role`.
void setRole(mlir::Operation *op, mpc::Visibility role);
/// The role `op` is marked with, if any.
std::optional<mpc::Visibility> getRole(mlir::Operation *op);
/// Whether `v` is an `arith.constant` explicitly marked public.
bool isPublicConstant(mlir::Value v);

} // namespace umbra::tfm

#endif // UMBRA_DIALECT_TFM_IR_TFMROLES_H
