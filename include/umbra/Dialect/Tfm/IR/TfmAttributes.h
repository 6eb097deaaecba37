//===- TfmAttributes.h - tfm attributes and enums -------------------------===//
#ifndef UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_H
#define UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "umbra/Dialect/Tfm/IR/TfmEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "umbra/Dialect/Tfm/IR/TfmAttributes.h.inc"

#endif // UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_H
