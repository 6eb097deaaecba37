//===- ExportNames.h - names and shapes in export diagnostics ---*- C++ -*-===//
//
// How the exporter and the reports name an op (its ONNX name, kept in the
// location) and print a shape, in one place.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H
#define UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H

#include "umbra/Support/LocationNames.h"

#include <string>

namespace umbra {

/// "2x3", or "scalar" for rank 0.
inline std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "scalar" : s;
}

} // namespace umbra

#endif // UMBRA_LIB_TARGET_UMBRA_EXPORTNAMES_H
