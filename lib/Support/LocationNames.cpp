//===- LocationNames.cpp - layers from ONNX names ------------------------===//
#include "umbra/Support/LocationNames.h"

#include "llvm/ADT/StringExtras.h"

using namespace umbra;

std::optional<int64_t> umbra::layerOf(mlir::Location loc) {
  // A path component `<module>.<digits>` followed by '/', '.' or the end.
  std::string text = locName(loc);
  llvm::StringRef name = text;
  for (size_t dot = name.find('.'); dot != llvm::StringRef::npos;
       dot = name.find('.', dot + 1)) {
    if (dot == 0 || (!llvm::isAlpha(name[dot - 1]) && name[dot - 1] != '_'))
      continue;
    size_t end = dot + 1;
    while (end < name.size() && llvm::isDigit(name[end]))
      ++end;
    if (end == dot + 1 || (end < name.size() && name[end] != '/' &&
                           name[end] != '.'))
      continue;
    int64_t layer;
    if (!name.slice(dot + 1, end).getAsInteger(10, layer))
      return layer;
  }
  return std::nullopt;
}
