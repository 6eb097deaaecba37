//===- TfmOps.h - tfm operations ------------------------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMOPS_H
#define UMBRA_DIALECT_TFM_IR_TFMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "umbra/Dialect/Tfm/IR/TfmAttributes.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"

#define GET_OP_CLASSES
#include "umbra/Dialect/Tfm/IR/TfmOps.h.inc"

#endif // UMBRA_DIALECT_TFM_IR_TFMOPS_H
