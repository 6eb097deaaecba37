//===- InverseTest.cpp - Reciprocal / rsqrt: accuracy, costs, privacy -----===//
//
// The gates normalise obliviously (one comparison round against all
// thresholds of the stated range), so the error and the round count must
// not depend on the range's width. Inputs are log-uniform over [lo, hi]
// plus the edges (a few LSB above zero, the top of the range).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include <cmath>
#include <gtest/gtest.h>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

using GateOut = GateRun;

GateOut runGate(const Vec &x, Cmp cmp,
                const std::function<Vec(Party &, const Vec &)> &gate) {
  SessionConfig cfg;
  cfg.cmp = cmp;
  return test::runGate(
      {{Role::P0, x}},
      [&](Party &P, const std::vector<Vec> &s) { return gate(P, s[0]); }, cfg);
}

/// Integer inputs: log-uniform over [lo, hi] plus edges.
Vec inputs(double lo, double hi, int f, size_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  double sc = std::ldexp(1.0, f);
  Vec x;
  uint64_t xlo = uint64_t(std::max(1.0, std::floor(lo * sc)));
  uint64_t xhi = uint64_t(std::ceil(hi * sc));
  for (uint64_t k = 0; k < 6; ++k) {
    x.push_back(xlo + k);
    x.push_back(xhi - k);
  }
  while (x.size() < n)
    x.push_back(uint64_t(std::max(1.0, std::round(std::exp(u(g)) * sc))));
  return x;
}

/// Error in output LSB: |out - 2^f g(X / 2^f)|, allowed 2 LSB plus a
/// relative 2^-(F-3) (F = internal bits of the plan).
struct ErrStats {
  double maxLsb = 0, maxRel = 0;
};
ErrStats check(const Vec &x, const Vec &out, int f, bool rsqrt, double relTol,
               const std::string &what) {
  ErrStats s;
  double sc = std::ldexp(1.0, f);
  for (size_t i = 0; i < x.size(); ++i) {
    double xv = double(x[i]) / sc;
    double want = (rsqrt ? 1 / std::sqrt(xv) : 1 / xv) * sc;
    double got = double(int64_t(out[i]));
    double err = std::fabs(got - want);
    s.maxLsb = std::max(s.maxLsb, err);
    s.maxRel = std::max(s.maxRel, (err - 1) / want); // beyond 1 LSB
    EXPECT_LE(err, 2 + relTol * want) << what << " x=" << xv << " X=" << x[i]
                                      << " got " << got << " want " << want;
  }
  return s;
}

struct RangeCase {
  double lo, hi;
};
const RangeCase kRanges[] = {{1e-5, 1e4 + 1e-5}, {0.5, 32}, {1, 2}};

/// Lanes of each series level (see inverseGate): m terms, plus the unscaled
/// next left factor unless its coefficient is 1, plus m powers.
int levelLanes(const InvPlan &p) {
  int lanes = 0;
  for (int h = 1; h < p.d;) {
    int m = std::min(h, p.d - h);
    bool more = h + m < p.d;
    lanes += m + (more && p.coef[h + m] != 1.0 ? 1 : 0) + (more ? m : 0);
    h += m;
  }
  return lanes;
}

class Inverse : public ::testing::TestWithParam<std::tuple<bool, int>> {};

TEST_P(Inverse, AccuracyAndExactCostDcf) {
  auto [rsqrt, f] = GetParam();
  for (const RangeCase &rc : kRanges) {
    InvPlan p = planInverse(rsqrt, rc.lo, rc.hi, f, 0, Cmp::Dcf);
    Vec x = inputs(rc.lo, rc.hi, f, 512, 7 + f);
    GateOut r = runGate(x, Cmp::Dcf, [&](Party &P, const Vec &xs) {
      return rsqrt ? rsqrtGate(P, xs, f, rc.lo, rc.hi, 0)
                   : reciprocalGate(P, xs, f, rc.lo, rc.hi, 0);
    });
    double relTol = std::ldexp(1.0, -(p.F - 3));
    ErrStats s = check(
        x, r.out, f, rsqrt, relTol,
        std::string(rsqrt ? "rsqrt" : "recip") + " f=" + std::to_string(f) +
            " [" + std::to_string(rc.lo) + ", " + std::to_string(rc.hi) + "]");
    // Predicted error in exact arithmetic is well inside the tolerance.
    EXPECT_LT(p.maxRelErr, relTol);
    // Rounds: 1 (comparisons) + 2 (e0, y0 e0) + 2 per level + rescale.
    uint64_t rounds = (p.thr.empty() ? 0 : 1) + 2 + 2 * p.L + (p.R ? 2 : 1);
    EXPECT_EQ(r.c[0].rounds, rounds);
    EXPECT_EQ(r.c[1].rounds, rounds);
    EXPECT_LE(rounds, 9u);
    // Online bytes per element (both directions, headers 2 x 16 B/round).
    const uint64_t n = x.size();
    uint64_t m0 = rsqrt ? 3 : 2;
    uint64_t per = (p.thr.empty() ? 0 : 16) + 16 * (m0 + 1) + 16 * m0 +
                   48 * uint64_t(levelLanes(p)) + 32 + (p.R ? 16 : 0);
    EXPECT_EQ(r.c[0].sent + r.c[0].recv, per * n + 32 * rounds);
    // Dealer: one DCF key (cmpBits - 1 levels x 24 B + 8, to both) + 8
    // (MSB of the mask), 8 + 16 per R2 lane, 24 per level lane, 8 + 16
    // for the rescale; one frame (24 B) per party.
    uint64_t dper = (p.thr.empty() ? 0 : 8 + 2 * ((p.cmpBits - 1) * 24 + 8)) +
                    24 * m0 + 24 * uint64_t(levelLanes(p)) + 8 + (p.R ? 16 : 0);
    EXPECT_EQ(r.c[2].dealerBytes, dper * n + (p.thr.empty() ? 24 : 48));
    std::printf("%s f=%d [%g, %g]: Q=%zu S=%d L=%d F=%d R=%d e0=%.3g "
                "pred=%.2e maxerr=%.2f LSB maxrel=%.2e rounds=%llu "
                "online=%llu B/elem dealer=%llu B/elem\n",
                rsqrt ? "rsqrt" : "recip", f, rc.lo, rc.hi, p.thr.size(), p.S,
                p.L, p.F, p.R, p.e0max, p.maxRelErr, s.maxLsb, s.maxRel,
                (unsigned long long)rounds, (unsigned long long)per,
                (unsigned long long)dper);
  }
}

INSTANTIATE_TEST_SUITE_P(All, Inverse,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(12, 16, 20)));

TEST(InverseBits, AccuracyAndRounds) {
  // Bits backend: one 8-round comparison batch, L = 3.
  for (bool rsqrt : {false, true})
    for (const RangeCase &rc : {kRanges[0], kRanges[1]}) {
      const int f = 16;
      InvPlan p = planInverse(rsqrt, rc.lo, rc.hi, f, 0, Cmp::Bits);
      Vec x = inputs(rc.lo, rc.hi, f, 128, 99);
      GateOut r = runGate(x, Cmp::Bits, [&](Party &P, const Vec &xs) {
        return rsqrt ? rsqrtGate(P, xs, f, rc.lo, rc.hi, 0)
                     : reciprocalGate(P, xs, f, rc.lo, rc.hi, 0);
      });
      check(x, r.out, f, rsqrt, std::ldexp(1.0, -(p.F - 3)), "bits");
      EXPECT_EQ(r.c[0].rounds, uint64_t(8 + 2 + 2 * p.L + (p.R ? 2 : 1)));
      // Online: the batched comparisons (~77.75 B each) plus the
      // arithmetic part of the dcf formula without its 16 B opening.
      const uint64_t n = x.size(), m0 = rsqrt ? 3 : 2;
      uint64_t arith = 16 * (m0 + 1) + 16 * m0 + 48 * uint64_t(levelLanes(p)) +
                       32 + (p.R ? 16 : 0);
      double cmpPer =
          (double(r.c[0].sent + r.c[0].recv - 32 * r.c[0].rounds) / n -
           double(arith)) /
          double(p.thr.size());
      EXPECT_NEAR(cmpPer, 77.75, 0.5);
      std::printf("bits %s Q=%zu: arith %llu B/elem, %.2f B per comparison, "
                  "dealer %.1f B/elem\n",
                  rsqrt ? "rsqrt" : "recip", p.thr.size(),
                  (unsigned long long)arith, cmpPer,
                  double(r.c[2].dealerBytes) / n);
    }
}

TEST(Inverse, ExplicitLevelsPickSegments) {
  // iterations = L fixes the series depth; the segment count follows.
  for (int L = 1; L <= 3; ++L) {
    InvPlan p = planInverse(false, 0.5, 32, 16, L, Cmp::Dcf);
    EXPECT_EQ(p.L, L);
    EXPECT_LE(p.maxRelErr, std::ldexp(1.0, -(p.F - 3)));
    Vec x = inputs(0.5, 32, 16, 64, 3);
    GateOut r = runGate(x, Cmp::Dcf, [&](Party &P, const Vec &xs) {
      return reciprocalGate(P, xs, 16, 0.5, 32, L);
    });
    check(x, r.out, 16, false, std::ldexp(1.0, -(p.F - 3)), "L");
    EXPECT_EQ(r.c[0].rounds, uint64_t(1 + 2 + 2 * L + (p.R ? 2 : 1)));
  }
}

TEST(Inverse, SingleSegmentRangeNeedsNoComparison) {
  // [1, 1.01] at f = 12 has no threshold inside: no comparison round.
  InvPlan p = planInverse(true, 1, 1.01, 12, 0, Cmp::Dcf);
  EXPECT_TRUE(p.thr.empty());
  Vec x = inputs(1, 1.01, 12, 16, 5);
  GateOut r = runGate(x, Cmp::Dcf, [&](Party &P, const Vec &xs) {
    return rsqrtGate(P, xs, 12, 1, 1.01, 0);
  });
  check(x, r.out, 12, true, std::ldexp(1.0, -(p.F - 3)), "single");
  EXPECT_EQ(r.c[0].rounds, uint64_t(2 + 2 * p.L + (p.R ? 2 : 1)));
}

TEST(Inverse, SlightlyOutOfRangeDegradesGracefully) {
  // Documented: relative error ~ |e0|^5 / (1 - |e0|), e0 ~ 1 - X / X_edge.
  const int f = 16;
  Vec x = {uint64_t(1.1 * 32 * 65536), uint64_t(0.9 * 0.5 * 65536)};
  for (bool rsqrt : {false, true}) {
    GateOut r = runGate(x, Cmp::Dcf, [&](Party &P, const Vec &xs) {
      return rsqrt ? rsqrtGate(P, xs, f, 0.5, 32, 0)
                   : reciprocalGate(P, xs, f, 0.5, 32, 0);
    });
    for (size_t i = 0; i < x.size(); ++i) {
      double xv = double(x[i]) / 65536;
      double want = rsqrt ? 1 / std::sqrt(xv) : 1 / xv;
      EXPECT_NEAR(double(int64_t(r.out[i])) / 65536, want, 5e-5 * want + 3e-5)
          << xv;
    }
  }
}

TEST(Inverse, ReceivedMessagesAreUniformlyMasked) {
  // Everything P1 receives during rsqrt (DCF backend: only arithmetic
  // openings) looks uniform whatever the secret, and the views for a tiny
  // and a huge input are indistinguishable.
  const int f = 16;
  std::vector<std::vector<uint64_t>> views;
  for (double secret : {3e-5, 9000.0}) {
    size_t n = 400;
    Vec x(n, uint64_t(std::llround(secret * 65536)));
    std::vector<uint64_t> seen;
    Vec outs[3];
    runParties([&](Party &P) {
      Vec xs = shareInput(P, Role::P0, x, n);
      if (P.role == Role::P1)
        P.peer->onRecv = [&](FrameType t, const uint8_t *d, size_t len) {
          if (t != FrameType::Open)
            return;
          const uint64_t *w = reinterpret_cast<const uint64_t *>(d);
          seen.insert(seen.end(), w, w + len / 8);
        };
      outs[int(P.role)] = rsqrtGate(P, xs, f, 1e-5, 1e4, 0);
    });
    ASSERT_GT(seen.size(), 20 * n);
    EXPECT_LT(topByteChi2(seen), 400.0) << secret;
    Vec r = reconstruct(outs);
    // The documented bound: 2 LSB plus a relative term far below 1e-3.
    EXPECT_NEAR(double(int64_t(r[0])) / 65536,
                1 / std::sqrt(double(x[0]) / 65536),
                std::max(1e-3 / std::sqrt(secret), 2.0 / 65536));
    views.push_back(std::move(seen));
  }
  ASSERT_EQ(views[0].size(), views[1].size());
  EXPECT_LT(twoSampleTopByteChi2(views[0], views[1]), 400.0);
}

TEST(Inverse, ExpFarBelowClampIsZero) {
  // exp clamps (1 + x/2^t) at 0: masked scores (-1024) and very negative
  // scores give exactly 0, for both backends.
  const int f = 16;
  std::vector<double> xs = {-1024, -300, -256.5, -5000, -1e6, -3e7};
  Vec x;
  for (double v : xs)
    x.push_back(uint64_t(int64_t(std::llround(v * 65536))));
  for (Cmp c : {Cmp::Dcf, Cmp::Bits}) {
    GateOut r = runGate(
        x, c, [&](Party &P, const Vec &xs) { return expGate(P, xs, f, 8); });
    for (size_t i = 0; i < xs.size(); ++i)
      EXPECT_EQ(r.out[i], 0u) << xs[i] << " " << cmpName(c);
  }
}

} // namespace
