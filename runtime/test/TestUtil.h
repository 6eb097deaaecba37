//===- TestUtil.h - The local harness plus statistics of the tests --------===//
#pragma once
#include "umbra/runtime/Program.h"
#include "umbra/runtime/testing/Harness.h"
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace umbra::rt::test {

/// The message of the Error that `f()` throws, "" when it returns: a test
/// checks a rejection by the text it expects in the message.
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

/// The loader's message for the program that `build` writes into a fresh
/// builder (16 fractional bits), "" when it loads.
inline std::string
buildError(const std::function<void(ProgramBuilder &)> &build) {
  ProgramBuilder b(16);
  build(b);
  return errorOf([&] { Program::loadBytes(b.finish()); });
}

/// Chi-square (255 dof) of the top byte of every 64-bit word a party
/// received: near 255 when the words are uniform.
inline double topByteChi2(const std::vector<uint64_t> &words) {
  std::vector<double> h(256, 0);
  for (uint64_t w : words)
    h[w >> 56] += 1;
  double e = double(words.size()) / 256, chi = 0;
  for (double c : h)
    chi += (c - e) * (c - e) / e;
  return chi;
}

/// Two-sample chi-square of the top bytes of two equally long views: near
/// 255 when the views come from the same distribution (e.g. for two
/// different secrets).
inline double twoSampleTopByteChi2(const std::vector<uint64_t> &a,
                                   const std::vector<uint64_t> &b) {
  std::vector<double> h0(256, 0), h1(256, 0);
  for (uint64_t w : a)
    h0[w >> 56] += 1;
  for (uint64_t w : b)
    h1[w >> 56] += 1;
  double chi = 0;
  for (int i = 0; i < 256; ++i)
    if (h0[i] + h1[i] > 0)
      chi += (h0[i] - h1[i]) * (h0[i] - h1[i]) / (h0[i] + h1[i]);
  return chi;
}

} // namespace umbra::rt::test
