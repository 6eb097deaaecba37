//===- PublicStructure.h - tables that are functions of the architecture --===//
//
// torch folds constants computed from the architecture alone into ONNX
// initializers: rotary cos/sin tables, position ids, causal and
// sliding-window masks, ALiBi slopes. They arrive looking like the owner's
// weights. This recogniser checks, by value, whether a table *equals* one
// of those standard formulas for some parameters (found by fitting, then
// checked element by element within the rounding of the element type), and
// returns the formula, its parameters and the formula's own values.
//
// The caller (mpc-assign-roles) replaces the owner's values with the
// formula's, so what becomes public is a function of the parameters alone
// (the base θ, the layout, the band, the slope rule): nothing of the
// owner's bits beyond the one fact "this table is that formula", which the
// leakage report lists. A table that is close but not equal (learned,
// perturbed) is not recognised and stays the owner's.
//
// Plain C++ (no MLIR), with its GoogleTests beside the implementation.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_SUPPORT_PUBLICSTRUCTURE_H
#define UMBRA_SUPPORT_PUBLICSTRUCTURE_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace umbra::structure {

/// A table proved equal to a formula of the public architecture.
struct Recognized {
  /// What it is: "rotary cos", "rotary sin", "position ids", "mask",
  /// "alibi slopes".
  std::string kind;
  /// The formula with its parameters, for the leakage report.
  std::string formula;
  /// The formula's values in the table's (row-major) order, exactly
  /// representable in the table's element type where the formula is.
  std::vector<double> values;
};

/// Checks `values` (row-major, of shape `shape`) against the formulas
/// above. `unitRoundoff` is the element type's (2^-24 for f32): rotary and
/// ALiBi values must match within a few units of it (scaled by the angle
/// for rotary, whose argument p·ω is itself rounded); masks and position
/// ids must match exactly.
std::optional<Recognized> recognize(llvm::ArrayRef<int64_t> shape,
                                    llvm::ArrayRef<double> values,
                                    double unitRoundoff);

} // namespace umbra::structure

#endif // UMBRA_SUPPORT_PUBLICSTRUCTURE_H
