//===- Passes.h - conversion passes ---------------------------------------===//
#ifndef UMBRA_CONVERSION_PASSES_H
#define UMBRA_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"

namespace umbra {
#define GEN_PASS_DECL
#include "umbra/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "umbra/Conversion/Passes.h.inc"

/// The first invalid option, as a message naming it ("frac-bits must be
/// ..."), or empty: the pass and mpc-compile (before reading a model) use it.
std::string verifyConvertTfmToMpcOptions(const ConvertTfmToMpcOptions &options);
} // namespace umbra

#endif // UMBRA_CONVERSION_PASSES_H
