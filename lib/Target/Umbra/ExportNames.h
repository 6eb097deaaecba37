//===- ExportNames.h - names and shapes in export diagnostics ---*- C++ -*-===//
//
// How the exporter and the reports name an op (its ONNX name, kept in the
// location) and print a shape, in one place.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H
#define UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H

#include "mlir/IR/Location.h"

#include <string>

namespace umbra {

/// The first name in `loc` (a NameLoc, possibly inside a FusedLoc), or "".
inline std::string locName(mlir::Location loc) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(loc))
    return name.getName().str();
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location l : fused.getLocations())
      if (std::string s = locName(l); !s.empty())
        return s;
  return "";
}

/// "2x3", or "scalar" for rank 0.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "scalar" : s;
}

} // namespace umbra

#endif // UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H
