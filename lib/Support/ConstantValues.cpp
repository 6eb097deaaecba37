//===- ConstantValues.cpp - read the elements of constant tensors ---------===//
#include "umbra/Support/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

std::optional<SmallVector<double>> umbra::getConstantValues(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  SmallVector<double> values;
  if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    Type elt = dense.getElementType();
    if (isa<FloatType>(elt)) {
      for (APFloat f : dense.getValues<APFloat>())
        values.push_back(f.convertToDouble());
    } else if (elt.isInteger(1)) {
      for (bool b : dense.getValues<bool>())
        values.push_back(b);
    } else if (isa<IntegerType>(elt)) {
      for (const APInt &i : dense.getValues<APInt>())
        values.push_back(static_cast<double>(i.getSExtValue()));
    } else {
      return std::nullopt;
    }
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(cst.getValue());
  if (!resource || !resource.getRawHandle().getBlob())
    return std::nullopt;
  ArrayRef<char> raw = resource.getRawHandle().getBlob()->getData();
  Type elt = resource.getType().getElementType();
  int64_t n = resource.getType().getNumElements();
  auto read = [&](auto tag) -> bool {
    using T = decltype(tag);
    if (static_cast<int64_t>(raw.size()) != n * static_cast<int64_t>(sizeof(T)))
      return false;
    const T *data = reinterpret_cast<const T *>(raw.data());
    for (int64_t i = 0; i < n; ++i)
      values.push_back(static_cast<double>(data[i]));
    return true;
  };
  bool ok = false;
  if (elt.isF32())
    ok = read(float{});
  else if (elt.isF64())
    ok = read(double{});
  else if (elt.isInteger(1) || elt.isInteger(8))
    ok = read(int8_t{});
  else if (elt.isInteger(32))
    ok = read(int32_t{});
  else if (elt.isInteger(64))
    ok = read(int64_t{});
  if (!ok)
    return std::nullopt;
  return values;
}

std::optional<double> umbra::getScalarConstant(Value v) {
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue()))
      if (dense.isSplat() && isa<FloatType>(dense.getElementType()))
        return dense.getSplatValue<APFloat>().convertToDouble();
  std::optional<SmallVector<double>> values = getConstantValues(v);
  if (!values || values->empty() ||
      llvm::any_of(*values, [&](double x) { return x != values->front(); }))
    return std::nullopt;
  return values->front();
}

