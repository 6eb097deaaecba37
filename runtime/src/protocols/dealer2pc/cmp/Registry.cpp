//===- Registry.cpp - Cmp -> comparison backend ---------------------------===//
#include "Backends.h"
#include "umbra/runtime/Error.h"

namespace umbra::rt {

static const Comparison *findComparison(Cmp c) {
  switch (c) {
  case Cmp::Dcf:
    return &dcfComparison();
  case Cmp::Bits:
    return &bitsComparison();
  }
  return nullptr;
}

const Comparison &comparisonFor(Cmp c) {
  const Comparison *b = findComparison(c);
  UMBRA_CHECK(b, "unknown comparison backend ", int(c));
  return *b;
}

const char *cmpName(Cmp c) {
  const Comparison *b = findComparison(c);
  return b ? b->name() : "unknown";
}

std::optional<Cmp> cmpFromName(const std::string &name) {
  for (Cmp c : kAllComparisons)
    if (name == cmpName(c))
      return c;
  return std::nullopt;
}

} // namespace umbra::rt
