//===- ConstantValues.cpp - read the elements of constant tensors ---------===//
#include "umbra/Support/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

std::optional<umbra::ceval::Tensor> umbra::getConstantTensor(Attribute attr) {
  auto typed = dyn_cast_or_null<ElementsAttr>(attr);
  if (!typed)
    return std::nullopt;
  auto type = cast<ShapedType>(typed.getType());
  Type elt = type.getElementType();
  if (!isa<FloatType, IntegerType>(elt))
    return std::nullopt;
  ceval::Tensor t;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (isa<FloatType>(elt)) {
      std::vector<double> v;
      v.reserve(n);
      for (APFloat f : dense.getValues<APFloat>())
        v.push_back(f.convertToDouble());
      t.data = std::move(v);
    } else {
      std::vector<int64_t> v;
      v.reserve(n);
      for (const APInt &i : dense.getValues<APInt>())
        v.push_back(elt.isInteger(1) ? int64_t(i.getBoolValue())
                                     : i.getSExtValue());
      t.data = std::move(v);
    }
    return t;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getRawHandle().getBlob())
    return std::nullopt;
  ArrayRef<char> raw = resource.getRawHandle().getBlob()->getData();
  // One reader for every stored element type.
  auto read = [&](auto tag, auto out) -> bool {
    using S = decltype(tag);
    if (static_cast<int64_t>(raw.size()) != n * static_cast<int64_t>(sizeof(S)))
      return false;
    const S *data = reinterpret_cast<const S *>(raw.data());
    out.assign(data, data + n);
    t.data = std::move(out);
    return true;
  };
  bool ok = false;
  if (elt.isF32())
    ok = read(float{}, std::vector<double>());
  else if (elt.isF64())
    ok = read(double{}, std::vector<double>());
  else if (elt.isInteger(1) || elt.isInteger(8))
    ok = read(int8_t{}, std::vector<int64_t>());
  else if (elt.isInteger(32))
    ok = read(int32_t{}, std::vector<int64_t>());
  else if (elt.isInteger(64))
    ok = read(int64_t{}, std::vector<int64_t>());
  if (!ok)
    return std::nullopt;
  return t;
}

DenseElementsAttr umbra::getElementsAttr(const ceval::Tensor &t,
                                         ShapedType type) {
  Type elt = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> v;
    for (int64_t k = 0, n = t.size(); k < n; ++k) {
      APFloat f(t.at(k));
      bool loses;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &loses);
      v.push_back(f);
    }
    return DenseElementsAttr::get(type, v);
  }
  unsigned width = elt.getIntOrFloatBitWidth();
  SmallVector<APInt> v;
  for (int64_t k = 0, n = t.size(); k < n; ++k) {
    int64_t x = t.isFloat() ? static_cast<int64_t>(t.at(k))
                            : std::get<1>(t.data)[k];
    v.push_back(width == 1 ? APInt(1, x != 0)
                           : APInt(width, static_cast<uint64_t>(x),
                                   /*isSigned=*/true, /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(type, v);
}

std::optional<SmallVector<double>> umbra::getConstantValues(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  std::optional<ceval::Tensor> t = getConstantTensor(cst.getValue());
  if (!t)
    return std::nullopt;
  SmallVector<double> values;
  values.reserve(t->size());
  for (int64_t k = 0, n = t->size(); k < n; ++k)
    values.push_back(t->at(k));
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
