//===- LocationNames.h - the ONNX names ops keep in their locations -*- C++ -*-===//
//
// The importer puts each node's ONNX name in its op's location; fusion keeps
// the names of the fused nodes. The exporter, the reports and the passes
// that address layers read them here.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_SUPPORT_LOCATIONNAMES_H
#define UMBRA_SUPPORT_LOCATIONNAMES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include <optional>
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

/// The layer an op belongs to: the number of the first numbered module in
/// its name, as torch's exporter writes them (`/blocks.3/mlp/act/Gelu`,
/// `/model/layers.3/...`, `/h.3/...`); none for an op outside the layers
/// (`/ln_f/LayerNormalization`) or without a name.
std::optional<int64_t> layerOf(mlir::Location loc);

} // namespace umbra

#endif // UMBRA_SUPPORT_LOCATIONNAMES_H
