//===- Passes.h - tfm passes ----------------------------------------------===//
#ifndef UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_H
#define UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"

namespace umbra::tfm {
#define GEN_PASS_DECL
#include "umbra/Dialect/Tfm/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "umbra/Dialect/Tfm/Transforms/Passes.h.inc"
} // namespace umbra::tfm

#endif // UMBRA_DIALECT_TFM_TRANSFORMS_PASSES_H
