//===- TfmFolding.h - evaluate tfm ops on constants -------------*- C++ -*-===//
//
// The tfm ops' fold hooks and `mpc-relocate` evaluate ops with the one
// constant evaluator (umbra/Support/ConstantEval.h). The hooks fold only
// when every operand is an `arith.constant` marked public (TfmRoles.h), and
// the constant they materialise is public; `mpc-relocate` decides
// publicness with the visibility analysis and calls `evaluateTfmOp`
// directly.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMFOLDING_H
#define UMBRA_DIALECT_TFM_IR_TFMFOLDING_H

#include "mlir/IR/Operation.h"

namespace umbra::tfm {

/// The value of `op`'s single result given the values of its operands
/// (`operands[i]` is null when operand i is not a constant), or null when
/// `op` cannot be evaluated (not a data-moving or elementwise op, an operand
/// is unknown, or the result would be too large to hold).
mlir::Attribute evaluateTfmOp(mlir::Operation *op,
                              llvm::ArrayRef<mlir::Attribute> operands);

} // namespace umbra::tfm

#endif // UMBRA_DIALECT_TFM_IR_TFMFOLDING_H
