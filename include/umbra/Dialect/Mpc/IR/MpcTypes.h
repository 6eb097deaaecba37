//===- MpcTypes.h - fixed-point tensor type -------------------------------===//
#ifndef UMBRA_DIALECT_MPC_IR_MPCTYPES_H
#define UMBRA_DIALECT_MPC_IR_MPCTYPES_H

#include "mlir/IR/Types.h"

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"

#define GET_TYPEDEF_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcOpsTypes.h.inc"

#endif // UMBRA_DIALECT_MPC_IR_MPCTYPES_H
