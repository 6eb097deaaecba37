//===- ProtocolTest.cpp - Gates over random inputs, edges and costs -------===//
#include "TestUtil.h"
#include <cmath>
#include <gtest/gtest.h>
#include <map>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

std::mt19937_64 rng(12345);

Vec randomSigned(size_t n, int bits) {
  Vec v(n);
  // Uniform in [-2^(bits-1), 2^(bits-1)), computed in the ring (uint64_t):
  // the signed difference overflows for bits = 64.
  for (auto &x : v)
    x = (rng() >> (64 - bits)) - (uint64_t(1) << (bits - 1));
  return v;
}

/// Shares x (owned by P0) and y (owned by P1), runs gate, returns the
/// reconstructed result and the per-role counters.
GateRun run2(const Vec &x, const Vec &y,
             const std::function<Vec(Party &, const Vec &, const Vec &)> &gate,
             Cmp cmp = Cmp::Bits) {
  SessionConfig cfg;
  cfg.cmp = cmp;
  return runGate(
      {{Role::P0, x}, {Role::P1, y}},
      [&](Party &P, const std::vector<Vec> &s) { return gate(P, s[0], s[1]); },
      cfg);
}

constexpr uint64_t kHdr = 16; // frame header bytes per message

/// Gate tests that run with both comparison backends.
class ProtocolCmp : public ::testing::TestWithParam<Cmp> {};

TEST(Protocol, ShareRevealRoundTrip) {
  Vec x = randomSigned(1000, 64);
  Vec got[3];
  runParties([&](Party &P) {
    Vec s = shareInput(P, Role::P1, x, x.size());
    got[int(P.role)] = reveal(P, s, RevealTo::P0);
  });
  EXPECT_EQ(got[0], x);
  EXPECT_TRUE(got[1].empty());
}

TEST(Protocol, BeaverMulExactAndCost) {
  size_t n = 777;
  Vec x = randomSigned(n, 64), y = randomSigned(n, 64);
  GateRun r = run2(
      x, y, [](Party &P, const Vec &a, const Vec &b) { return mul(P, a, b); });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(r.out[i], x[i] * y[i]);
  // 2n words each way, one round; dealer sends n words (c correction).
  EXPECT_EQ(r.c[0].sent, 16 * n + kHdr);
  EXPECT_EQ(r.c[1].recv, 16 * n + kHdr);
  EXPECT_EQ(r.c[0].rounds, 1u);
  EXPECT_EQ(r.c[2].dealerBytes, 8 * n + 8 + kHdr);
  EXPECT_EQ(r.c[1].dealerBytes, 8 * n + 8 + kHdr);
}

TEST_P(ProtocolCmp, EmptyTensors) {
  GateRun r = run2(
      Vec(), Vec(),
      [](Party &P, const Vec &a, const Vec &b) {
        Vec z = relu(P, a);
        z = trunc(P, mul(P, z, b), 4);
        Vec m;
        maxRows(P, a, 0, 3, &m, nullptr);
        return z;
      },
      GetParam());
  EXPECT_TRUE(r.out.empty());
}

TEST(Protocol, SquareExactAndCost) {
  size_t n = 500;
  Vec x = randomSigned(n, 64);
  GateRun r = run2(x, Vec(1, 0), [](Party &P, const Vec &a, const Vec &) {
    return square(P, a);
  });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(r.out[i], x[i] * x[i]);
  EXPECT_EQ(r.c[0].sent, 8 * n + kHdr);
  EXPECT_EQ(r.c[0].rounds, 1u);
  EXPECT_EQ(r.c[2].dealerBytes, 8 * n + 8 + kHdr);
}

TEST(Protocol, MatmulSharedAndConstantMask) {
  int64_t n = 5, k = 7, m = 3;
  Vec x = randomSigned(n * k, 64), w = randomSigned(k * m, 64);
  Vec ref(n * m, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t t = 0; t < k; ++t)
        ref[i * m + j] += x[i * k + t] * w[t * m + j];
  GateRun r = run2(x, w, [&](Party &P, const Vec &a, const Vec &b) {
    return matmulShared(P, a, b, 1, n, k, m, false);
  });
  EXPECT_EQ(r.out, ref);
  EXPECT_EQ(r.c[0].sent, 8 * uint64_t(n * k + k * m) + kHdr);
  // Constant weights: the mask is opened once, each inference opens X - A.
  Counters inf[3];
  Vec outs[3];
  runParties([&](Party &P) {
    Vec xs = shareInput(P, Role::P0, x, x.size());
    Vec ws = shareInput(P, Role::P1, w, w.size());
    MatmulMask mask;
    prepareMatmulMask(P, ws, mask);
    for (int rep = 0; rep < 3; ++rep)
      inf[int(P.role)] = measured(P, [&] {
        outs[int(P.role)] = matmulShared(P, xs, ws, 1, n, k, m, false, &mask);
      });
  });
  EXPECT_EQ(reconstruct(outs), ref);
  EXPECT_EQ(inf[0].sent, 8 * uint64_t(n * k) + kHdr);
  EXPECT_EQ(inf[0].rounds, 1u);
  EXPECT_EQ(inf[2].dealerBytes, 8 * uint64_t(n * m) + 8 + kHdr);
}

TEST(Protocol, TruncationErrorBoundAndCost) {
  size_t n = 4096;
  int f = 16;
  Vec x = randomSigned(n, 63); // full range |x| < 2^62
  x[0] = uint64_t(-(int64_t(1) << 62));
  x[1] = (uint64_t(1) << 62) - 1;
  x[2] = 0;
  x[3] = uint64_t(-1);
  GateRun r = run2(x, Vec(1, 0), [&](Party &P, const Vec &a, const Vec &) {
    return trunc(P, a, f);
  });
  for (size_t i = 0; i < n; ++i) {
    int64_t want = int64_t(x[i]) >> f; // floor
    int64_t got = int64_t(r.out[i]);
    ASSERT_TRUE(got == want || got == want + 1)
        << "x=" << int64_t(x[i]) << " got " << got << " want " << want;
  }
  EXPECT_EQ(r.c[0].sent, 8 * n + kHdr);
  EXPECT_EQ(r.c[0].rounds, 1u);
  EXPECT_EQ(r.c[2].dealerBytes, 16 * n + 8 + kHdr);
}

TEST(Protocol, TruncationMillionsNoCatastrophicFailure) {
  // 2^21 truncations of values near the range limit (|x| up to 2^62).
  size_t n = size_t(1) << 21;
  Vec x = randomSigned(n, 63);
  GateRun r = run2(x, Vec(1, 0), [&](Party &P, const Vec &a, const Vec &) {
    return trunc(P, a, 12);
  });
  size_t bad = 0, up = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t want = int64_t(x[i]) >> 12, got = int64_t(r.out[i]);
    bad += !(got == want || got == want + 1);
    up += got == want + 1;
  }
  EXPECT_EQ(bad, 0u);
  // Rounds up with probability (x mod 2^f)/2^f: about half for random x.
  EXPECT_NEAR(double(up) / n, 0.5, 0.01);
}

TEST(Protocol, DReluLtzEdgesAndCost) {
  Vec x = randomSigned(1000, 64);
  std::vector<int64_t> edges = {0,
                                1,
                                -1,
                                INT64_MAX,
                                INT64_MIN,
                                INT64_MAX - 1,
                                INT64_MIN + 1,
                                int64_t(1) << 62,
                                -(int64_t(1) << 62)};
  for (int64_t e : edges)
    x.push_back(uint64_t(e));
  size_t n = x.size(), W = (n + 63) / 64;
  GateRun r = run2(x, Vec(1, 0), [&](Party &P, const Vec &a, const Vec &) {
    return drelu(P, a);
  });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(r.out[i], int64_t(x[i]) >= 0 ? 1u : 0u) << int64_t(x[i]);
  // open 8n; 6 AND levels with 62,32,16,8,4,1 slices (2W words each); B2A W.
  uint64_t ands = 62 + 32 + 16 + 8 + 4 + 1;
  EXPECT_EQ(r.c[0].sent, 8 * n + 16 * W * ands + 8 * W + 8 * kHdr);
  EXPECT_EQ(r.c[0].rounds, 8u);
  EXPECT_EQ(r.c[2].dealerBytes, 8 * n + 8 * W * ands + 8 * n + 8 + kHdr);
  GateRun l = run2(x, Vec(1, 0), [&](Party &P, const Vec &a, const Vec &) {
    return ltz(P, a);
  });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(l.out[i], int64_t(x[i]) < 0 ? 1u : 0u);
}

TEST_P(ProtocolCmp, ReducedBitWidth) {
  // |x| < 2^(bits-1): exact with a 24-bit comparison, max over rows too.
  Vec x = randomSigned(700, 23);
  x[0] = uint64_t(-(int64_t(1) << 22));
  x[1] = (uint64_t(1) << 22) - 1;
  GateRun d = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) { return relu(P, a, 24); },
      GetParam());
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(int64_t(d.out[i]), std::max<int64_t>(0, int64_t(x[i])));
  GateRun m = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) {
        Vec mx;
        maxRows(P, a, 70, 10, &mx, nullptr, 25);
        return mx;
      },
      GetParam());
  for (int r = 0; r < 70; ++r) {
    int64_t best = INT64_MIN;
    for (int j = 0; j < 10; ++j)
      best = std::max(best, int64_t(x[r * 10 + j]));
    ASSERT_EQ(int64_t(m.out[r]), best);
  }
}

TEST(Protocol, ReluSelectAndCost) {
  Vec x = randomSigned(300, 50), y = randomSigned(300, 50);
  size_t n = x.size(), W = (n + 63) / 64;
  GateRun r = run2(
      x, y, [&](Party &P, const Vec &a, const Vec &) { return relu(P, a); });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(int64_t(r.out[i]), std::max<int64_t>(0, int64_t(x[i])));
  uint64_t ands = 123;
  EXPECT_EQ(r.c[0].sent, 8 * n + 16 * W * ands + (8 * W + 8 * n) + 8 * kHdr);
  EXPECT_EQ(r.c[0].rounds, 8u);
  GateRun s = run2(x, y, [&](Party &P, const Vec &a, const Vec &b) {
    Vec c = drelu(P, a);
    return select(P, c, a, b);
  });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(s.out[i], int64_t(x[i]) >= 0 ? x[i] : y[i]);
}

TEST_P(ProtocolCmp, MaxArgmaxRows) {
  int64_t rows = 7, len = 13;
  SessionConfig cfg;
  cfg.cmp = GetParam();
  Vec x = randomSigned(rows * len, 40);
  x[5] = x[6]; // ties pick the first index
  Vec mx[3], am[3];
  runParties(
      [&](Party &P) {
        Vec xs = shareInput(P, Role::P0, x, x.size());
        maxRows(P, xs, rows, len, &mx[int(P.role)], &am[int(P.role)]);
      },
      cfg);
  Vec m = reconstruct(mx), a = reconstruct(am);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = 0;
    for (int64_t j = 1; j < len; ++j)
      if (int64_t(x[r * len + j]) > int64_t(x[r * len + best]))
        best = j;
    EXPECT_EQ(m[r], x[r * len + best]);
    EXPECT_EQ(int64_t(a[r]), best);
  }
}

/// Each backend states its own online cost (Comparison::cost); it must be
/// what the gates measure, for several widths.
TEST_P(ProtocolCmp, BackendStatesItsCost) {
  const Comparison &backend = comparisonFor(GetParam());
  EXPECT_EQ(backend.id(), GetParam());
  const size_t n = 640; // a multiple of 64: bit-packed rounds are exact
  for (int bits : {64, 40, 32, 21})
    for (bool isRelu : {false, true}) {
      Vec x = randomSigned(n, bits - 1);
      GateRun r = run2(
          x, Vec(1, 0),
          [&](Party &P, const Vec &a, const Vec &) {
            return isRelu ? relu(P, a, bits) : drelu(P, a, bits);
          },
          GetParam());
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(r.out[i], isRelu ? std::max<int64_t>(0, int64_t(x[i]))
                                   : uint64_t(int64_t(x[i]) >= 0));
      CmpCost c = backend.cost(isRelu, bits);
      EXPECT_EQ(r.c[0].rounds, c.rounds) << bits << " " << isRelu;
      EXPECT_EQ(double(r.c[0].sent + r.c[0].recv),
                c.bytesPerElem * double(n) + 2.0 * kHdr * double(c.rounds))
          << bits << " " << isRelu;
    }
}

std::vector<double>
fixedRun(const std::vector<double> &xs, int f,
         const std::function<Vec(Party &, const Vec &)> &gate,
         Cmp cmp = Cmp::Dcf) {
  Vec x(xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    x[i] = encodeFixed(xs[i], f);
  GateRun r = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) { return gate(P, a); }, cmp);
  std::vector<double> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    out[i] = decodeFixed(r.out[i], f);
  return out;
}

TEST_P(ProtocolCmp, ExpOnSoftmaxDomain) {
  std::vector<double> xs;
  for (int i = 0; i <= 200; ++i)
    xs.push_back(-20.0 + 0.1 * i); // [-20, 0]
  xs.push_back(-300);
  auto out = fixedRun(
      xs, 16, [](Party &P, const Vec &x) { return expGate(P, x, 16, 8); },
      GetParam());
  for (size_t i = 0; i < xs.size(); ++i) {
    double want = std::exp(xs[i]);
    // (1 + x/256)^256 vs e^x: absolute error <= 0.006 on [-20, 0].
    EXPECT_NEAR(out[i], want, 0.006) << xs[i];
  }
}

// Reciprocal and rsqrt: InverseTest.cpp.

TEST(Protocol, Polynomial) {
  // Every degree path: constant, direct (d <= 5) and Paterson-Stockmeyer
  // with one (d = 6, 7) and two (d = 10) giant steps.
  std::vector<double> xs;
  for (int i = 0; i <= 80; ++i)
    xs.push_back(-2 + 0.05 * i);
  for (int d : {0, 1, 2, 3, 4, 5, 6, 7, 10}) {
    std::vector<double> c;
    for (int i = 0; i <= d; ++i)
      c.push_back((i % 2 ? -0.6 : 0.45) / (i + 1));
    auto out = fixedRun(
        xs, 16, [&](Party &P, const Vec &x) { return polyGate(P, x, 16, c); });
    for (size_t i = 0; i < xs.size(); ++i) {
      double want = 0, scale = 0;
      for (size_t k = c.size(); k-- > 0;) {
        want = want * xs[i] + c[k];
        scale = scale * std::abs(xs[i]) + 1;
      }
      // Coefficients are encoded with 16 fractional bits and every power
      // is truncated (<= 1 LSB each): the error grows with sum |x|^i.
      EXPECT_NEAR(out[i], want, std::ldexp(scale, -15))
          << "degree " << d << " at " << xs[i];
    }
  }
}

TEST(Protocol, PolynomialDegree7Cost) {
  // Baby powers x^2 (square), x^3 and x^4 (product, square), the top block's
  // truncation, one giant product: 4 products instead of 6, 7 rounds.
  size_t n = 300;
  Vec x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = encodeFixed(-1 + 2.0 * i / n, 16);
  std::vector<double> c = {0.1, -0.2, 0.3, 0.05, -0.3, 0.2, 0.06, -0.08};
  GateRun r = run2(x, Vec(1, 0), [&](Party &P, const Vec &a, const Vec &) {
    return polyGate(P, a, 16, c);
  });
  // Per element and party: x^2 8 + trunc 8; x^3, x^4 16 + 8 + trunc 16;
  // top block trunc 8; giant product 16 + trunc 8.
  EXPECT_EQ(r.c[0].sent, 88 * n + 7 * kHdr);
  EXPECT_EQ(r.c[0].rounds, 7u);
}

TEST_P(ProtocolCmp, ReceivedMessagesAreUniformlyMasked) {
  // Everything P1 receives while computing trunc(ReLU(x)) must look the
  // same whatever the secret: each view is uniform (chi-square, 255 dof,
  // < 400 ~ p 1e-8), and the two views are indistinguishable from each
  // other (two-sample chi-square on the top byte).
  SessionConfig cfg;
  cfg.cmp = GetParam();
  std::vector<std::vector<uint64_t>> views;
  for (int64_t secret : {int64_t(0), int64_t(123456789) << 20}) {
    size_t n = 20000;
    Vec x(n, uint64_t(secret));
    std::vector<uint64_t> seen;
    std::vector<uint64_t> seenBits;
    Vec outs[3];
    runParties(
        [&](Party &P) {
          Vec xs = shareInput(P, Role::P0, x, n);
          if (P.role == Role::P1)
            P.peer->onRecv = [&](FrameType t, const uint8_t *d, size_t len) {
              const uint64_t *w = reinterpret_cast<const uint64_t *>(d);
              if (t == FrameType::Share) {
                seen.insert(seen.end(), w, w + len / 8);
                return;
              }
              if (t != FrameType::Open)
                return;
              if (len / 8 >= n) // arithmetic openings (after packed bits)
                seen.insert(seen.end(), w + len / 8 - n, w + len / 8);
              else
                seenBits.insert(seenBits.end(), w, w + len / 8);
            };
          outs[int(P.role)] = trunc(P, relu(P, xs), 8);
        },
        cfg);
    ASSERT_GE(seen.size(), 2 * n);
    EXPECT_LT(topByteChi2(seen), 400.0) << secret;
    if (GetParam() == Cmp::Dcf) {
      EXPECT_TRUE(seenBits.empty()); // DCF opens only x + r
    } else {
      uint64_t ones = 0;
      for (uint64_t w : seenBits)
        ones += __builtin_popcountll(w);
      EXPECT_NEAR(double(ones) / (64.0 * seenBits.size()), 0.5, 0.01);
    }
    Vec r = reconstruct(outs);
    EXPECT_NEAR(double(int64_t(r[0])),
                double(std::max<int64_t>(secret, 0) >> 8), 1);
    views.push_back(std::move(seen));
  }
  ASSERT_EQ(views[0].size(), views[1].size());
  EXPECT_LT(twoSampleTopByteChi2(views[0], views[1]), 400.0);
}

TEST(Protocol, DcfLessThanExhaustiveSmall) {
  // 6-bit inputs: every (alpha, x) pair, payloads beta and 2*beta + 1.
  Vec alpha, xs, beta;
  for (uint64_t a = 0; a < 64; ++a)
    for (uint64_t x = 0; x < 64; ++x) {
      alpha.push_back(a);
      xs.push_back(x);
      beta.push_back(rng());
    }
  std::vector<Vec> out[3];
  runParties([&](Party &P) {
    out[int(P.role)] = dcfLessThan(
        P, xs, 6, 2, [&] { return alpha; },
        [&] {
          Vec b2(beta.size());
          for (size_t i = 0; i < b2.size(); ++i)
            b2[i] = 2 * beta[i] + 1;
          return std::vector<Vec>{beta, b2};
        });
  });
  for (size_t i = 0; i < xs.size(); ++i) {
    uint64_t lt = xs[i] < alpha[i];
    ASSERT_EQ(out[0][0][i] + out[1][0][i], lt * beta[i])
        << xs[i] << " " << alpha[i];
    ASSERT_EQ(out[0][1][i] + out[1][1][i], lt * (2 * beta[i] + 1));
  }
}

TEST(Protocol, DcfLessThan63Bits) {
  size_t n = 3000;
  Vec alpha(n), xs(n);
  uint64_t m = (uint64_t(1) << 63) - 1;
  for (size_t i = 0; i < n; ++i) {
    alpha[i] = rng() & m;
    xs[i] = i % 3 == 0 ? alpha[i] : i % 3 == 1 ? (alpha[i] + 1) & m : rng() & m;
  }
  xs[0] = 0;
  alpha[0] = 0;
  xs[1] = m;
  alpha[1] = 0;
  std::vector<Vec> out[3];
  runParties([&](Party &P) {
    out[int(P.role)] = dcfLessThan(
        P, xs, 63, 1, [&] { return alpha; },
        [&] { return std::vector<Vec>{Vec(n, 1)}; });
  });
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(out[0][0][i] + out[1][0][i], uint64_t(xs[i] < alpha[i])) << i;
}

TEST(Protocol, DcfSignGatesEdgesAndCost) {
  Vec x = randomSigned(1000, 64);
  for (int64_t e :
       {int64_t(0), int64_t(1), int64_t(-1), INT64_MAX, INT64_MIN,
        INT64_MAX - 1, INT64_MIN + 1, int64_t(1) << 62, -(int64_t(1) << 62)})
    x.push_back(uint64_t(e));
  size_t n = x.size();
  GateRun d = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) { return drelu(P, a); },
      Cmp::Dcf);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(d.out[i], int64_t(x[i]) >= 0 ? 1u : 0u) << int64_t(x[i]);
  EXPECT_EQ(d.c[0].sent, 8 * n + kHdr);
  EXPECT_EQ(d.c[0].rounds, 1u);
  // rtop (8n, to P1) + DCF keys (63 levels x 3 words + 1 final) to both.
  EXPECT_EQ(d.c[2].dealerBytes,
            8 * n + 2 * (63 * 3 + 1) * 8 * n + 2 * (8 + kHdr));
  EXPECT_EQ(d.c[0].dealerBytes, (63 * 3 + 1) * 8 * n + 8 + kHdr);
  GateRun r = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) { return relu(P, a); },
      Cmp::Dcf);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(int64_t(r.out[i]), std::max<int64_t>(0, int64_t(x[i])));
  EXPECT_EQ(r.c[0].sent, 8 * n + kHdr);
  EXPECT_EQ(r.c[1].rounds, 1u);
  EXPECT_EQ(r.c[2].dealerBytes,
            16 * n + 2 * (63 * 4 + 2) * 8 * n + 2 * (8 + kHdr));
  GateRun l = run2(
      x, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) { return ltz(P, a); }, Cmp::Dcf);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(l.out[i], int64_t(x[i]) < 0 ? 1u : 0u);
  // Reduced bit width: exact for |x| < 2^(bits-1).
  Vec small = randomSigned(2000, 20);
  GateRun s = run2(
      small, Vec(1, 0),
      [&](Party &P, const Vec &a, const Vec &) {
        Vec out;
        dcfSign(P, a, 21, nullptr, &out);
        return out;
      },
      Cmp::Dcf);
  for (size_t i = 0; i < small.size(); ++i)
    ASSERT_EQ(int64_t(s.out[i]), std::max<int64_t>(0, int64_t(small[i])));
}

/// A provider that forwards to the dealer's streams and records every
/// request: all three roles must ask for the same material in the same
/// order (the lock-step the dealer relies on), whatever the gate.
class RecordingMaterial final : public MaterialProvider {
public:
  explicit RecordingMaterial(MaterialProvider &inner) : inner_(inner) {}
  std::vector<std::pair<char, size_t>> log;
  Vec randShared(size_t n) override { return at('r', n).randShared(n); }
  Vec corr(size_t n, const std::function<Vec()> &f) override {
    return at('c', n).corr(n, f);
  }
  Vec randBits(size_t n) override { return at('b', n).randBits(n); }
  Vec corrBits(size_t n, const std::function<Vec()> &f) override {
    return at('x', n).corrBits(n, f);
  }
  const uint64_t *corrBoth(size_t n,
                           const std::function<void(uint64_t *)> &f) override {
    return at('k', n).corrBoth(n, f);
  }
  Vec seedOf(int w, size_t n) override { return at('0' + w, n).seedOf(w, n); }
  void flush() override { at('f', 0).flush(); }

private:
  MaterialProvider &at(int kind, size_t n) {
    log.push_back({char(kind), n});
    return inner_;
  }
  MaterialProvider &inner_;
};

TEST_P(ProtocolCmp, MaterialProviderIsPluggableAndInLockStep) {
  SessionConfig cfg;
  cfg.cmp = GetParam();
  Vec x = randomSigned(300, 30);
  std::vector<std::pair<char, size_t>> logs[3];
  Vec outs[3];
  runParties(
      [&](Party &P) {
        RecordingMaterial rec(P.materialProvider());
        P.setMaterialProvider(&rec);
        Vec xs = shareInput(P, Role::P0, x, x.size());
        measured(P, [&] {
          Vec r = relu(P, xs, 32);
          Vec m;
          maxRows(P, r, 30, 10, &m, nullptr, 32);
          outs[int(P.role)] = trunc(P, mul(P, r, xs), 4);
        });
        P.setMaterialProvider(nullptr);
        logs[int(P.role)] = rec.log;
      },
      cfg);
  EXPECT_GT(logs[2].size(), 5u);
  EXPECT_EQ(logs[0], logs[2]);
  EXPECT_EQ(logs[1], logs[2]);
  Vec got = reconstruct(outs);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t r = std::max<int64_t>(0, int64_t(x[i]));
    int64_t d = int64_t(got[i]) - ((r * int64_t(x[i])) >> 4);
    ASSERT_TRUE(d == 0 || d == 1) << i << ": " << d; // faithful truncation
  }
}

TEST(Protocol, ComparisonRegistry) {
  for (Cmp c : kAllComparisons) {
    EXPECT_EQ(comparisonFor(c).id(), c);
    EXPECT_EQ(cmpFromName(cmpName(c)), c);
  }
  EXPECT_STREQ(cmpName(Cmp::Dcf), "dcf");
  EXPECT_STREQ(cmpName(Cmp::Bits), "bits");
  EXPECT_FALSE(cmpFromName("garbled"));
  EXPECT_STREQ(cmpName(Cmp(99)), "unknown");
  EXPECT_THROW(comparisonFor(Cmp(99)), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProtocolCmp,
                         ::testing::ValuesIn(kAllComparisons),
                         [](const auto &i) {
                           return std::string(cmpName(i.param));
                         });

} // namespace
