//===- TfmFolding.h - evaluate tfm ops on constants -------------*- C++ -*-===//
//
// The tfm dialect's canonicalization pattern and `mpc-relocate` evaluate
// ops with the one constant evaluator (umbra/Support/ConstantEval.h),
// through foldToPublicConstant: it folds only when every operand is an
// `arith.constant` marked public (TfmRoles.h), and the constant it builds
// is public with the union of its operands' provenance (Provenance.h).
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMFOLDING_H
#define UMBRA_DIALECT_TFM_IR_TFMFOLDING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace umbra::tfm {

/// The value of `op`'s single result given the values of its operands
/// (`operands[i]` is null when operand i is not a constant), or null when
/// `op` cannot be evaluated (not a data-moving or elementwise op, an operand
/// is unknown, or the result would be too large to hold).
mlir::Attribute evaluateTfmOp(mlir::Operation *op,
                              llvm::ArrayRef<mlir::Attribute> operands);

/// `op` (one result) evaluated into a new public `arith.constant` before
/// it, carrying the union of its operands' sources; fails unless every
/// operand is a public constant and the evaluator computes the result.
mlir::FailureOr<mlir::arith::ConstantOp>
foldToPublicConstant(mlir::OpBuilder &b, mlir::Operation *op);

} // namespace umbra::tfm

#endif // UMBRA_DIALECT_TFM_IR_TFMFOLDING_H
