//===- Prg.h - AES-128-CTR pseudo-random generator -------------*- C++ -*-===//
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace umbra::rt {

using Seed = std::array<uint8_t, 16>;

/// AES-128 in counter mode (OpenSSL EVP, AES-NI) over a 128-bit seed. The
/// dealer and P0 expand the same seed, so P0's correlated randomness never
/// travels; likewise for P1's random (non-correlated) parts.
class Prg {
public:
  Prg();
  explicit Prg(const Seed &seed);
  ~Prg();
  Prg(Prg &&) noexcept;
  Prg &operator=(Prg &&) noexcept;
  void reseed(const Seed &seed);
  void fill(void *out, size_t bytes);
  uint64_t next();
  std::vector<uint64_t> vec(size_t n);
  /// A fresh seed from the operating system (getrandom via RAND_bytes).
  static Seed osSeed();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace umbra::rt
