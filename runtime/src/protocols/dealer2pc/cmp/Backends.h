//===- Backends.h - The comparison backends of 2PC + dealer ----*- C++ -*-===//
//
// One function per backend, each defined in its own file of this folder;
// Registry.cpp maps a Cmp to it. A new backend: a file here, a Cmp value,
// one case in Registry.cpp, and its entry in kAllComparisons.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/protocols/Comparison.h"

namespace umbra::rt {

const Comparison &dcfComparison();  // Dcf.cpp
const Comparison &bitsComparison(); // Bits.cpp

} // namespace umbra::rt
