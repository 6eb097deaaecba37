//===- Passes.h - mpc passes ----------------------------------------------===//
#ifndef UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_H
#define UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Pass/Pass.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"

namespace umbra::mpc {
#define GEN_PASS_DECL
#include "umbra/Dialect/Mpc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "umbra/Dialect/Mpc/Transforms/Passes.h.inc"
} // namespace umbra::mpc

#endif // UMBRA_DIALECT_MPC_TRANSFORMS_PASSES_H
