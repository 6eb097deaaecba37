//===- Strategies.h - the MPC-friendly strategies of each op ----*- C++ -*-===//
//
// lib/Utils/Approximation/strategies.json is the one definition of every
// strategy mpc-approximate offers and of its constants; it is compiled in
// here and read as it is by python/umbra_models/approx.py, so a model
// fine-tuned in torch computes what the compiled program computes.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_UTILS_APPROXIMATION_STRATEGIES_H
#define UMBRA_UTILS_APPROXIMATION_STRATEGIES_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace umbra::approx {

/// The strategy every op has and that changes nothing.
inline constexpr llvm::StringLiteral kAccurate = "accurate";

/// strategies.json as compiled in.
const llvm::json::Object &strategyTable();

/// The family ("activation", "softmax", "norm") whose strategies `op` (a
/// tfm op name: gelu, silu, softmax, layer_norm, rms_norm) takes; "" when it
/// has none.
llvm::StringRef familyOf(llvm::StringRef op);
/// The ops that take strategies, and the strategies of a family, in the
/// table's order (for messages).
std::vector<std::string> approximableOps();
std::vector<std::string> strategyNames(llvm::StringRef family);
/// The constants of `strategy` for `op`; null when `op` has no such
/// strategy.
const llvm::json::Object *strategyOf(llvm::StringRef op,
                                     llvm::StringRef strategy);
/// A number or a list of numbers of a strategy's constants (the table is
/// checked by the unit tests, so these are present).
double number(const llvm::json::Object &s, llvm::StringRef key);
std::vector<double> numbers(const llvm::json::Object &s, llvm::StringRef key);

/// `OP:STRATEGY[@FIRST[-LAST]]` entries separated by commas, for example
/// `gelu:relu,softmax:2quad@0-5`. A later entry overrides an earlier one;
/// an entry with a layer range applies to the ops of those layers only, one
/// without to every op (those outside any layer too, like a final norm).
struct Spec {
  struct Entry {
    std::string op, strategy;
    std::optional<std::pair<int64_t, int64_t>> layers;
  };
  std::vector<Entry> entries;

  /// The strategy of `op` in `layer` (none: the op is in no layer).
  llvm::StringRef strategyFor(llvm::StringRef op,
                              std::optional<int64_t> layer) const;
  bool empty() const { return entries.empty(); }
};
/// The parsed spec, or a message naming what is wrong.
std::optional<Spec> parseSpec(llvm::StringRef text, std::string &error);

} // namespace umbra::approx

#endif // UMBRA_UTILS_APPROXIMATION_STRATEGIES_H
