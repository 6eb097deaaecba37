//===- PublicStructureTest.cpp - recognising architecture tables ----------===//
//
// Tables are computed here the way torch computes them, in float32
// (inv_freq = 1 / θ^(2j/d), angle = p * inv_freq, cos/sin of it), so that
// the recogniser is tested against float rounding, not against its own
// double-precision formula.
//
//===----------------------------------------------------------------------===//
#include "umbra/Support/PublicStructure.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

using namespace umbra::structure;

namespace {

constexpr double kF32 = 0x1p-24;

enum class Layout { Half, Interleaved, Unique };

/// [T, cols] table of a rotary width `rot` (<= cols; the rest pass
/// through), in float32 like torch.
std::vector<double> rotary(int T, int cols, int rot, float theta, bool cosine,
                           Layout l, float scale = 1.0f) {
  int freqs = l == Layout::Unique ? rot : rot / 2;
  int dim = 2 * freqs;
  std::vector<float> inv(freqs);
  for (int j = 0; j < freqs; ++j)
    inv[j] = 1.0f / std::pow(theta, float(2 * j) / float(dim));
  std::vector<double> out;
  for (int p = 0; p < T; ++p)
    for (int c = 0; c < cols; ++c) {
      if (c >= rot) {
        out.push_back(cosine ? 1.0 : 0.0);
        continue;
      }
      int j = l == Layout::Half ? c % freqs : l == Layout::Interleaved ? c / 2 : c;
      float angle = (float(p) * scale) * inv[j];
      out.push_back(cosine ? std::cos(angle) : std::sin(angle));
    }
  return out;
}

TEST(PublicStructure, RotaryHalfSplitCosAndSin) {
  for (float theta : {10000.0f, 500000.0f, 1e6f})
    for (int d : {16, 64, 128})
      for (int T : {16, 2048})
        for (bool cosine : {true, false}) {
          auto t = rotary(T, d, d, theta, cosine, Layout::Half);
          auto r = recognize({1, 1, T, d}, t, kF32);
          ASSERT_TRUE(r) << "theta " << theta << " d " << d << " T " << T
                         << (cosine ? " cos" : " sin");
          EXPECT_EQ(r->kind, cosine ? "rotary cos" : "rotary sin");
          char want[64];
          std::snprintf(want, sizeof want, "theta = %.9g,", double(theta));
          EXPECT_NE(r->formula.find(want), std::string::npos) << r->formula;
          EXPECT_NE(r->formula.find("half-split"), std::string::npos);
          // The formula's values replace the owner's: within rounding.
          for (size_t i = 0; i < t.size(); ++i)
            ASSERT_NEAR(r->values[i], t[i], 1e-3);
        }
}

TEST(PublicStructure, RotaryInterleavedUniqueAndOddBase) {
  auto r = recognize({64, 32}, rotary(64, 32, 32, 10000, true,
                                      Layout::Interleaved), kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("interleaved"), std::string::npos) << r->formula;
  r = recognize({64, 16}, rotary(64, 16, 16, 10000, false, Layout::Unique),
                kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("one column per frequency"), std::string::npos);
  // Any base: found by fitting.
  r = recognize({128, 32}, rotary(128, 32, 32, 12345.0f, true, Layout::Half),
                kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("theta = 12345,"), std::string::npos) << r->formula;
  // Linear position scaling.
  r = recognize({128, 32},
                rotary(128, 32, 32, 10000, true, Layout::Half, 0.25f), kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("* 0.25 (linear position scaling)"),
            std::string::npos)
      << r->formula;
}

TEST(PublicStructure, PartialRotary) {
  for (bool cosine : {true, false}) {
    auto r = recognize({1, 32, 1, 64},
                       rotary(32, 64, 16, 10000, cosine, Layout::Half), kF32);
    ASSERT_TRUE(r);
    EXPECT_NE(r->formula.find("R = 16 of 64 columns (partial rotary"),
              std::string::npos)
        << r->formula;
  }
}

TEST(PublicStructure, PerturbedOrLearnedRotaryStaysPrivate) {
  auto t = rotary(64, 32, 32, 10000, true, Layout::Half);
  auto bad = t;
  bad[5 * 32 + 3] += 1e-3;
  EXPECT_FALSE(recognize({64, 32}, bad, kF32));
  bad = t;
  bad[63 * 32 + 31] -= 2e-5; // the lowest frequency, last position
  EXPECT_FALSE(recognize({64, 32}, bad, kF32));
  // A learned table initialised at the formula and trained a little.
  std::mt19937 gen(1);
  std::normal_distribution<double> noise(0, 1e-4);
  bad = t;
  for (size_t i = 32; i < bad.size(); ++i)
    bad[i] += noise(gen);
  EXPECT_FALSE(recognize({64, 32}, bad, kF32));
  // Random values with a first row of ones.
  std::uniform_real_distribution<double> uni(-1, 1);
  for (size_t i = 32; i < bad.size(); ++i)
    bad[i] = uni(gen);
  EXPECT_FALSE(recognize({64, 32}, bad, kF32));
}

std::vector<double> band(int rows, int cols, int lo, int hi, double in,
                         double out) {
  std::vector<double> m;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      m.push_back(lo <= j - i && j - i <= hi ? in : out);
  return m;
}

TEST(PublicStructure, Masks) {
  double inf = INFINITY;
  auto r = recognize({1, 1, 8, 8}, band(8, 8, -7, 0, 1, 0), kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("0/1 causal (lower-triangular) mask"),
            std::string::npos)
      << r->formula;
  // torch.triu(ones, 1): 1 where masked.
  r = recognize({8, 8}, band(8, 8, 1, 7, 1, 0), kF32);
  ASSERT_TRUE(r);
  for (double fill : {-inf, double(-FLT_MAX), -1e9, -1e4}) {
    r = recognize({8, 8}, band(8, 8, -7, 0, 0, fill), kF32);
    ASSERT_TRUE(r) << fill;
    EXPECT_NE(r->formula.find("additive causal"), std::string::npos);
  }
  r = recognize({8, 8}, band(8, 8, -3, 0, 0, -inf), kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("sliding window of 4"), std::string::npos)
      << r->formula;
  r = recognize({4, 8}, band(4, 8, -7, 4, 1, 0), kF32);
  ASSERT_TRUE(r);
  EXPECT_NE(r->formula.find("causal with offset 4"), std::string::npos);
  // Not a band: one flipped element, an unconventional fill, three values.
  auto bad = band(8, 8, -7, 0, 1, 0);
  bad[2 * 8 + 0] = 0;
  EXPECT_FALSE(recognize({8, 8}, bad, kF32));
  EXPECT_FALSE(recognize({8, 8}, band(8, 8, -7, 0, 0, -37.5), kF32));
  bad = band(8, 8, -7, 0, 0, -inf);
  bad[0] = 0.5;
  EXPECT_FALSE(recognize({8, 8}, bad, kF32));
}

TEST(PublicStructure, PositionIds) {
  auto r = recognize({1, 6}, {0, 1, 2, 3, 4, 5}, kF32);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->formula, "position ids arange(0, 6)");
  r = recognize({4}, {2, 3, 4, 5}, kF32);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->formula, "position ids arange(2, 6)");
  EXPECT_FALSE(recognize({4}, {0, 1, 2, 3.5}, kF32));
  EXPECT_FALSE(recognize({2}, {0, 1}, kF32)); // too short a witness
  EXPECT_FALSE(recognize({4}, {0.5, 1.5, 2.5, 3.5}, kF32));
}

std::vector<double> slopes(int n) {
  int m = 1;
  while (2 * m <= n)
    m *= 2;
  std::vector<double> s;
  for (int h = 0; h < m; ++h)
    s.push_back(float(std::pow(2.0, -8.0 * (h + 1) / m)));
  for (int k = 0; k < n - m; ++k)
    s.push_back(float(std::pow(2.0, -8.0 * (2 * k + 1) / (2 * m))));
  return s;
}

TEST(PublicStructure, AlibiSlopes) {
  for (int n : {2, 4, 8, 12, 16, 20, 32, 40}) {
    auto r = recognize({1, n, 1, 1}, slopes(n), kF32);
    ASSERT_TRUE(r) << n;
    EXPECT_EQ(r->kind, "alibi slopes");
    EXPECT_EQ(r->formula.find("not a power of two") != std::string::npos,
              (n & (n - 1)) != 0)
        << r->formula;
  }
  auto bad = slopes(12);
  bad[9] *= 1.001;
  EXPECT_FALSE(recognize({12}, bad, kF32));
  // The power-of-two rule applied to 12 heads is not the published one.
  std::vector<double> naive;
  for (int h = 0; h < 12; ++h)
    naive.push_back(std::pow(2.0, -8.0 * (h + 1) / 12));
  EXPECT_FALSE(recognize({12}, naive, kF32));
}

} // namespace
