//===- ConstantValues.h - read the elements of constant tensors -----------===//
#ifndef UMBRA_SUPPORT_CONSTANTVALUES_H
#define UMBRA_SUPPORT_CONSTANTVALUES_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace umbra {
/// The elements of a constant tensor (`arith.constant` with an inline dense
/// attribute or a dense resource blob) as doubles: floats, integers and
/// booleans alike. nullopt for anything else.
std::optional<llvm::SmallVector<double>> getConstantValues(mlir::Value v);

/// The value of a constant whose elements are all equal (a scalar, a
/// one-element tensor or a splat).
std::optional<double> getScalarConstant(mlir::Value v);
} // namespace umbra

#endif // UMBRA_SUPPORT_CONSTANTVALUES_H
