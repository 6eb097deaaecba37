//===- Error.h - The runtime's single error type ---------------*- C++ -*-===//
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace umbra::rt {

/// Every user-facing failure (bad artifact, bad input, peer gone, protocol
/// mismatch) is thrown as this type; mpc-run prints it and exits non-zero.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

template <typename... Ts> [[noreturn]] void fail(const Ts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

#define UMBRA_CHECK(cond, ...)                                                 \
  do {                                                                         \
    if (!(cond))                                                               \
      ::umbra::rt::fail(__VA_ARGS__);                                          \
  } while (0)

} // namespace umbra::rt
