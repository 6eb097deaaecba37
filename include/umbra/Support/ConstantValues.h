//===- ConstantValues.h - read the elements of constant tensors -----------===//
//
// The bridge between MLIR constants and the constant evaluator
// (umbra/Support/ConstantEval.h): reads an inline dense attribute or a dense
// resource blob into a `ceval::Tensor`, and builds the attribute of an
// evaluated tensor.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_SUPPORT_CONSTANTVALUES_H
#define UMBRA_SUPPORT_CONSTANTVALUES_H

#include "umbra/Support/ConstantEval.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace umbra {
/// The elements of a constant tensor attribute (inline dense or dense
/// resource; float, integer or boolean). nullopt for anything else.
std::optional<ceval::Tensor> getConstantTensor(mlir::Attribute attr);

/// The attribute of type `type` holding `t` (floats rounded to the element
/// type, integers truncated to its width).
mlir::DenseElementsAttr getElementsAttr(const ceval::Tensor &t,
                                        mlir::ShapedType type);

/// The elements of a constant tensor (`arith.constant` with an inline dense
/// attribute or a dense resource blob) as doubles: floats, integers and
/// booleans alike. nullopt for anything else.
std::optional<llvm::SmallVector<double>> getConstantValues(mlir::Value v);

/// The value of a constant whose elements are all equal (a scalar, a
/// one-element tensor or a splat).
std::optional<double> getScalarConstant(mlir::Value v);
} // namespace umbra

#endif // UMBRA_SUPPORT_CONSTANTVALUES_H
