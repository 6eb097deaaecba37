//===- TfmDialect.cpp - tfm dialect registration --------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace umbra::tfm;

#include "umbra/Dialect/Tfm/IR/TfmOpsDialect.cpp.inc"
#include "umbra/Dialect/Tfm/IR/TfmEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "umbra/Dialect/Tfm/IR/TfmAttributes.cpp.inc"

void TfmDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "umbra/Dialect/Tfm/IR/TfmAttributes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "umbra/Dialect/Tfm/IR/TfmOps.cpp.inc"
      >();
}
