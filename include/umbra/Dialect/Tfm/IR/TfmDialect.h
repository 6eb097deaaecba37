//===- TfmDialect.h - transformer model dialect ---------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMDIALECT_H
#define UMBRA_DIALECT_TFM_IR_TFMDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "umbra/Dialect/Tfm/IR/TfmOpsDialect.h.inc"

#endif // UMBRA_DIALECT_TFM_IR_TFMDIALECT_H
