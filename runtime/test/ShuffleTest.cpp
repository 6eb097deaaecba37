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

TEST(Shuffle, PermutesRowsByTheComposedPermutation) {
  const size_t rows = 64, width = 5;
  Vec x(rows * width);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = i * 0x9e3779b97f4a7c15ull;
  ShuffleRun r = shuffleOnce(x, rows, width);
  const auto &p = r.at[int(Role::Dealer)].composed;
  ASSERT_EQ(p.size(), rows);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < width; ++j)
      EXPECT_EQ(r.y[i * width + j], x[p[i] * width + j]);
  // Each server knows its own half only; the dealer's halves are theirs.
  EXPECT_EQ(r.at[0].p0, r.at[int(Role::Dealer)].p0);
  EXPECT_EQ(r.at[1].p1, r.at[int(Role::Dealer)].p1);
  EXPECT_TRUE(r.at[0].p1.empty() && r.at[1].p0.empty());
  for (size_t i = 0; i < rows; ++i)
    EXPECT_EQ(p[i], r.at[0].p0[r.at[1].p1[i]]);
  // Two rounds; each party sends rows * width words once (plus a frame
  // header); the dealer sends P1 rows * width correction words per phase.
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(r.c[k].rounds, 2u);
    EXPECT_EQ(r.c[k].sent, rows * width * 8 + 16);
  }
}

TEST(Shuffle, ThePermutationIsUniformWhateverAServerKnows) {
  // Over many shuffles of 3 rows, the composed permutation is uniform
  // over the 6, and so it is for every value of P0's own half (and of
  // P1's): what one server knows says nothing about the order applied.
  const size_t rows = 3;
  const int runs = 600;
  std::map<std::vector<uint32_t>, int> all;
  std::map<std::vector<uint32_t>, std::map<std::vector<uint32_t>, int>> byP0,
      byP1;
  // All in one session (the permutations come fresh from each call's
  // dealer words).
  std::vector<ShufflePerms> at[3];
  test::runParties([&](Party &P) {
    Vec x = {10, 20, 30};
    std::vector<ShufflePerms> mine(runs);
    for (int t = 0; t < runs; ++t)
      test::measured(P, [&] { shuffleRows(P, x, rows, 1, &mine[t]); });
    at[int(P.role)] = std::move(mine);
  });
  for (int t = 0; t < runs; ++t) {
    const auto &c = at[int(Role::Dealer)][t].composed;
    ++all[c];
    ++byP0[at[0][t].p0][c];
    ++byP1[at[1][t].p1][c];
  }
  auto chi2 = [](const std::map<std::vector<uint32_t>, int> &h, int total) {
    double e = total / 6.0, s = 0;
    for (const auto &[k, n] : h)
      s += (n - e) * (n - e) / e;
    s += (6 - double(h.size())) * e; // outcomes never seen
    return s;
  };
  EXPECT_EQ(all.size(), 6u);
  EXPECT_LT(chi2(all, runs), 25); // 5 dof: p ~ 1e-4
  for (const auto *by : {&byP0, &byP1})
    for (const auto &[mine, h] : *by) {
      int n = 0;
      for (const auto &[k, c] : h)
        n += c;
      EXPECT_LT(chi2(h, n), 30) << "given one server's half";
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
