//===- MpcOps.h - mpc operations ------------------------------------------===//
#ifndef UMBRA_DIALECT_MPC_IR_MPCOPS_H
#define UMBRA_DIALECT_MPC_IR_MPCOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Mpc/IR/MpcTypes.h"

#define GET_OP_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcOps.h.inc"

#endif // UMBRA_DIALECT_MPC_IR_MPCOPS_H
