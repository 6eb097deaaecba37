//===- MpcDialect.cpp - mpc dialect, types and attributes -----------------===//
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Mpc/IR/MpcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace umbra::mpc;

#include "umbra/Dialect/Mpc/IR/MpcOpsDialect.cpp.inc"
#include "umbra/Dialect/Mpc/IR/MpcEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcAttributes.cpp.inc"
#define GET_TYPEDEF_CLASSES
#include "umbra/Dialect/Mpc/IR/MpcOpsTypes.cpp.inc"

void MpcDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "umbra/Dialect/Mpc/IR/MpcAttributes.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "umbra/Dialect/Mpc/IR/MpcOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "umbra/Dialect/Mpc/IR/MpcOps.cpp.inc"
      >();
}

FailureOr<Visibility> umbra::mpc::joinVisibility(Visibility a, Visibility b) {
  if (a == Visibility::public_)
    return b;
  if (b == Visibility::public_ || a == b)
    return a;
  if (a == Visibility::shared || b == Visibility::shared)
    return Visibility::shared;
  return failure(); // client with owner: neither may see the other's value.
}

bool umbra::mpc::isStateArgument(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  auto func = arg ? dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp())
                  : FunctionOpInterface();
  return func && func.getArgAttr(arg.getArgNumber(), kStateAttrName);
}

//===----------------------------------------------------------------------===//
// MpcTensorType: !mpc.tensor<32x768, shared, frac = 16>, or
// !mpc.tensor<public, frac = 0> for a scalar.
//===----------------------------------------------------------------------===//

int64_t MpcTensorType::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

LogicalResult
MpcTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                   ArrayRef<int64_t> shape, Visibility visibility,
                   unsigned frac) {
  for (int64_t d : shape)
    if (d < 0)
      return emitError() << "mpc tensors have static, non-negative dimensions";
  // Two operands of a product carry frac bits each; keep headroom for the
  // integer part in the 64-bit ring.
  if (frac > 48)
    return emitError() << "frac = " << frac
                       << " leaves too few integer bits (at most 48)";
  return success();
}

Type MpcTensorType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  StringRef keyword;
  if (parser.parseLess())
    return {};
  if (failed(parser.parseOptionalKeyword(&keyword))) {
    if (parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                  /*withTrailingX=*/false) ||
        parser.parseComma() || parser.parseKeyword(&keyword))
      return {};
  }
  std::optional<Visibility> visibility = symbolizeVisibility(keyword);
  if (!visibility) {
    parser.emitError(parser.getCurrentLocation())
        << "expected visibility (public, client, owner or shared), got '"
        << keyword << "'";
    return {};
  }
  unsigned frac;
  if (parser.parseComma() || parser.parseKeyword("frac") ||
      parser.parseEqual() || parser.parseInteger(frac) ||
      parser.parseGreater())
    return {};
  return getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                    parser.getContext(), shape, *visibility, frac);
}

void MpcTensorType::print(AsmPrinter &printer) const {
  printer << "<";
  if (!getShape().empty()) {
    llvm::interleave(getShape(), printer.getStream(), "x");
    printer << ", ";
  }
  printer << stringifyVisibility(getVisibility()) << ", frac = " << getFrac()
          << ">";
}
