//===- TfmRoles.cpp - who may see a tfm constant --------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmRoles.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace umbra::tfm {

void setRole(Operation *op, mpc::Visibility role) {
  op->setAttr(mpc::kVisibilityAttrName, mpc::VisibilityAttr::get(op->getContext(), role));
}

std::optional<mpc::Visibility> getRole(Operation *op) {
  if (auto v = op->getAttrOfType<mpc::VisibilityAttr>(mpc::kVisibilityAttrName))
    return v.getValue();
  return std::nullopt;
}

bool isPublicConstant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  return cst && getRole(cst) == mpc::Visibility::public_;
}

} // namespace umbra::tfm
