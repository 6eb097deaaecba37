//===- Registry.cpp - Cmp -> comparison backend ---------------------------===//
#include "Backends.h"
#include "umbra/runtime/Error.h"

namespace umbra::rt {

const Comparison &comparisonFor(Cmp c) {
  switch (c) {
  case Cmp::Dcf:
    return dcfComparison();
  case Cmp::Bits:
    return bitsComparison();
  }
  fail("internal: unknown comparison backend ", int(c));
}

const char *cmpName(Cmp c) { return comparisonFor(c).name(); }

} // namespace umbra::rt
