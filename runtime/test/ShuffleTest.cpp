//===- ShuffleTest.cpp - The oblivious shuffle: result, permutation, views ===//
#include "TestUtil.h"

#include <gtest/gtest.h>
#include <map>
#include <mutex>

using namespace umbra::rt;

namespace {

/// One shuffle of `x` (rows of `width`): the reconstructed result, the
/// permutations as each role knows them, and what each party received.
struct ShuffleRun {
  Vec y;
  ShufflePerms at[3];
  Vec view[2];
  Counters c[3];
};
ShuffleRun shuffleOnce(const Vec &x, size_t rows, size_t width) {
  ShuffleRun r;
  Vec out[3];
  std::mutex m;
  test::runParties([&](Party &P) {
    Vec mine = P.dealer() ? Vec(x.size()) : Vec(x.size(), 0);
    // P0 holds x, P1 zero: a sharing of x.
    if (P.p0())
      mine = x;
    if (!P.dealer())
      P.peer->onRecv = [&, role = int(P.role)](FrameType, const uint8_t *d,
                                               size_t n) {
        std::lock_guard<std::mutex> g(m);
        r.view[role].insert(r.view[role].end(),
                            reinterpret_cast<const uint64_t *>(d),
                            reinterpret_cast<const uint64_t *>(d) + n / 8);
      };
    ShufflePerms perms;
    Counters c = test::measured(
        P, [&] { out[int(P.role)] = shuffleRows(P, mine, rows, width, &perms); });
    std::lock_guard<std::mutex> g(m);
    r.at[int(P.role)] = perms;
    r.c[int(P.role)] = c;
  });
  r.y = test::reconstruct(out);
  return r;
}

/// The permutation applied: out row i = in row full[i].
std::vector<uint32_t> fullPermutation(const ShufflePerms at[3]) {
  const auto &c = at[int(Role::Dealer)].composed, &pc = at[0].pc;
  std::vector<uint32_t> full(c.size());
  for (size_t i = 0; i < c.size(); ++i)
    full[i] = c[pc[i]];
  return full;
}

TEST(Shuffle, PermutesRowsByTheComposedPermutation) {
  const size_t rows = 64, width = 5;
  Vec x(rows * width);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = i * 0x9e3779b97f4a7c15ull;
  ShuffleRun r = shuffleOnce(x, rows, width);
  std::vector<uint32_t> p = fullPermutation(r.at);
  ASSERT_EQ(p.size(), rows);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < width; ++j)
      EXPECT_EQ(r.y[i * width + j], x[p[i] * width + j]);
  // Each role knows two of the three pieces: P0 pi0 and pi_c, P1 pi1 and
  // pi_c, the dealer pi0 and pi1 (never pi_c).
  EXPECT_EQ(r.at[0].p0, r.at[int(Role::Dealer)].p0);
  EXPECT_EQ(r.at[1].p1, r.at[int(Role::Dealer)].p1);
  EXPECT_TRUE(r.at[0].p1.empty() && r.at[1].p0.empty());
  EXPECT_EQ(r.at[0].pc, r.at[1].pc);
  EXPECT_TRUE(r.at[int(Role::Dealer)].pc.empty());
  const auto &c = r.at[int(Role::Dealer)].composed;
  for (size_t i = 0; i < rows; ++i)
    EXPECT_EQ(c[i], r.at[0].p0[r.at[1].p1[i]]);
  // Two rounds; each party sends rows * width words once (plus a frame
  // header), P0 also the 2-word seed of pi_c; the dealer sends P1
  // rows * width correction words per phase.
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(r.c[k].rounds, 2u);
    EXPECT_EQ(r.c[k].sent, rows * width * 8 + 16 + (k == 0 ? 16 : 0));
  }
}

TEST(Shuffle, ThePermutationIsUniformWhateverARoleKnows) {
  // Over many shuffles of 3 rows, the permutation applied is uniform over
  // the 6, and so it is for every value of what one role knows (P0: pi0
  // and pi_c; P1: pi1 and pi_c; the dealer: pi0 and pi1): no role learns
  // anything about the order applied.
  const size_t rows = 3;
  const int runs = 2400;
  using Perm = std::vector<uint32_t>;
  std::map<Perm, int> all;
  std::map<std::pair<Perm, Perm>, std::map<Perm, int>> by[3];
  // All in one session (the permutations come fresh from each call's
  // dealer words and P0's seed).
  std::vector<ShufflePerms> at[3];
  test::runParties([&](Party &P) {
    Vec x = {10, 20, 30};
    std::vector<ShufflePerms> mine(runs);
    for (int t = 0; t < runs; ++t)
      test::measured(P, [&] { shuffleRows(P, x, rows, 1, &mine[t]); });
    at[int(P.role)] = std::move(mine);
  });
  for (int t = 0; t < runs; ++t) {
    ShufflePerms one[3] = {at[0][t], at[1][t], at[2][t]};
    Perm full = fullPermutation(one);
    ++all[full];
    ++by[0][{one[0].p0, one[0].pc}][full];
    ++by[1][{one[1].p1, one[1].pc}][full];
    ++by[2][{one[2].p0, one[2].p1}][full];
  }
  auto chi2 = [](const std::map<Perm, int> &h, int total) {
    double e = total / 6.0, s = 0;
    for (const auto &[k, n] : h)
      s += (n - e) * (n - e) / e;
    s += (6 - double(h.size())) * e; // outcomes never seen
    return s;
  };
  EXPECT_EQ(all.size(), 6u);
  EXPECT_LT(chi2(all, runs), 25); // 5 dof: p ~ 1e-4
  for (int role = 0; role < 3; ++role) {
    EXPECT_EQ(by[role].size(), 36u) << "role " << role;
    for (const auto &[known, h] : by[role]) {
      int n = 0;
      for (const auto &[k, c] : h)
        n += c;
      EXPECT_LT(chi2(h, n), 32) << "given what role " << role << " knows";
    }
  }
}

TEST(Shuffle, EachServersViewIsUniformWhateverTheRows) {
  // One-hot-like rows and random rows: what each party receives is
  // uniform on the top byte and the same for both inputs.
  const size_t rows = 256, width = 64;
  Vec sparse(rows * width, 0), dense = test::randomFixed(rows * width, -9, 9,
                                                         16, 3);
  for (size_t i = 0; i < rows; i += 7)
    sparse[i * width] = 1;
  ShuffleRun a = shuffleOnce(sparse, rows, width), b = shuffleOnce(dense, rows, width);
  for (int k = 0; k < 2; ++k) {
    EXPECT_LT(test::topByteChi2(a.view[k]), 400);
    EXPECT_LT(test::topByteChi2(b.view[k]), 400);
    EXPECT_LT(test::twoSampleTopByteChi2(a.view[k], b.view[k]), 400);
  }
}

} // namespace
