//===- EnumName.h - Names of densely numbered enumerators ------*- C++ -*-===//
#pragma once
#include <cstddef>

namespace umbra::rt {

/// The name of enumerator `index` from the enum's one name table (indexed
/// by value minus the first value), or `fallback` for a value outside it: a
/// corrupt artifact or a newer peer can carry any number. Callers
/// static_assert that the table has one entry per enumerator.
template <size_t N>
const char *enumName(const char *const (&names)[N], size_t index,
                     const char *fallback = "?") {
  return index < N ? names[index] : fallback;
}

} // namespace umbra::rt
