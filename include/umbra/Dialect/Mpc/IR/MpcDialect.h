//===- MpcDialect.h - MPC protocol dialect --------------------------------===//
#ifndef UMBRA_DIALECT_MPC_IR_MPCDIALECT_H
#define UMBRA_DIALECT_MPC_IR_MPCDIALECT_H

#include "mlir/IR/Dialect.h"

#include "umbra/Dialect/Mpc/IR/MpcOpsDialect.h.inc"

#endif // UMBRA_DIALECT_MPC_IR_MPCDIALECT_H
