//===- SparseTest.cpp - Block-sparse products and the opened permuted mask ===//
//
// The oblivious block-sparse FFN (docs/sparsity.md): block_matmul equals
// the dense product restricted to the live blocks, exactly, and opens only
// the entries it reads; what a server receives is uniform and depends on
// the mask only through its count of live blocks; the permuted mask each
// role learns is, for a fresh permutation, a uniformly random set of the
// declared size: simulatable from the count alone.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <gtest/gtest.h>
#include <map>
#include <mutex>

using namespace umbra::rt;

namespace {

/// Shares of x: P0 holds x, P1 zero.
Vec shareOf(const Party &P, const Vec &x) {
  return P.p0() ? x : Vec(x.size(), 0);
}

struct BlockRun {
  Vec z;
  Vec view[2];
  Counters c[3];
};

/// blockMatmul of x [rows, k] and w [k, m] under `mask` [rows, nb], with
/// w's mask opened first (as at deployment).
BlockRun blockOnce(const Vec &x, const Vec &w, const Vec &mask, int64_t rows,
                   int64_t k, int64_t m, int64_t nb, bool sparseInput) {
  BlockRun r;
  Vec out[3];
  std::mutex mu;
  test::runParties([&](Party &P) {
    MatmulMask wm;
    prepareMatmulMask(P, shareOf(P, w), wm);
    if (!P.dealer())
      P.peer->onRecv = [&, role = int(P.role)](FrameType, const uint8_t *d,
                                               size_t n) {
        std::lock_guard<std::mutex> g(mu);
        r.view[role].insert(r.view[role].end(),
                            reinterpret_cast<const uint64_t *>(d),
                            reinterpret_cast<const uint64_t *>(d) + n / 8);
      };
    Vec z;
    Counters c = test::measured(P, [&] {
      z = blockMatmul(P, shareOf(P, x), mask, rows, k, m, nb, sparseInput, wm);
    });
    std::lock_guard<std::mutex> g(mu);
    out[int(P.role)] = z;
    r.c[int(P.role)] = c;
  });
  r.z = test::reconstruct(out);
  return r;
}

/// The ring product x w with x's entries (sparse input) or the output's
/// entries (sparse output) outside live blocks set to 0.
Vec restricted(Vec x, const Vec &w, const Vec &mask, int64_t rows, int64_t k,
               int64_t m, int64_t nb, bool sparseInput) {
  auto live = [&](int64_t r, int64_t col, int64_t width) {
    return mask[size_t(r * nb + col / (width / nb))] != 0;
  };
  if (sparseInput)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < k; ++j)
        if (!live(r, j, k))
          x[size_t(r * k + j)] = 0;
  Vec z(size_t(rows * m), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j) {
      if (!sparseInput && !live(r, j, m))
        continue;
      uint64_t s = 0;
      for (int64_t t = 0; t < k; ++t)
        s += x[size_t(r * k + t)] * w[size_t(t * m + j)];
      z[size_t(r * m + j)] = s;
    }
  return z;
}

TEST(BlockMatmul, EqualsTheDenseProductOnLiveBlocks) {
  const int64_t rows = 5, k = 24, m = 40, nb = 8;
  Vec x = test::randomFixed(size_t(rows * k), -3, 3, 16, 1),
      w = test::randomFixed(size_t(k * m), -1, 1, 16, 2);
  // Rows with no, some and all blocks live.
  Vec mask(size_t(rows * nb), 0);
  for (int64_t j = 0; j < nb; ++j)
    mask[size_t(2 * nb + j)] = 1;
  for (int64_t j : {0, 3, 7})
    mask[size_t(1 * nb + j)] = mask[size_t(4 * nb + 7 - j)] = 1;
  mask[size_t(3 * nb + 5)] = 1;
  // Mostly live (the dense-product path): every block but a few.
  Vec most(size_t(rows * nb), 1);
  for (int64_t r : {0, 3})
    most[size_t(r * nb + r)] = 0;
  most[size_t(4 * nb + 2)] = 0;
  for (const Vec *mk : {&mask, &most})
  for (bool sparseInput : {false, true}) {
    const Vec &mask = *mk;
    int64_t kk = sparseInput ? m : k, mm = sparseInput ? k : m;
    Vec xs = sparseInput ? test::randomFixed(size_t(rows * kk), -3, 3, 16, 3)
                         : x;
    Vec ws = sparseInput ? test::randomFixed(size_t(kk * mm), -1, 1, 16, 4)
                         : w;
    BlockRun r = blockOnce(xs, ws, mask, rows, kk, mm, nb, sparseInput);
    EXPECT_EQ(r.z, restricted(xs, ws, mask, rows, kk, mm, nb, sparseInput))
        << "sparse_input=" << sparseInput;
    // One round; each party opens x - A on the entries read: all of x
    // (sparse output) or the live blocks' entries (sparse input).
    int64_t liveBlocks = 0;
    for (uint64_t v : mask)
      liveBlocks += int64_t(v);
    uint64_t opened =
        sparseInput ? uint64_t(liveBlocks * (kk / nb)) : uint64_t(rows * kk);
    for (int p = 0; p < 2; ++p) {
      EXPECT_EQ(r.c[p].rounds, 1u);
      EXPECT_EQ(r.c[p].sent, opened * 8 + 16);
    }
  }
}

TEST(BlockMatmul, RefusesAMaskThatIsNotZeroOrOne) {
  Vec mask = {1, 2};
  EXPECT_THROW(liveEntries(mask, 1, 2, 4), Error);
  EXPECT_THROW(liveEntries({1, 0, 1}, 1, 3, 4), Error); // 3 does not divide 4
}

TEST(BlockMatmul, AServersViewDependsOnTheCountOnly) {
  // Two masks with the same number of live blocks per row, one input all
  // zeros outside them and one random: each server receives as many words
  // in both runs, uniform on the top byte, and the two are
  // indistinguishable.
  const int64_t rows = 64, k = 64, m = 32, nb = 8;
  Vec a(size_t(rows * nb), 0), b(size_t(rows * nb), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < 3; ++j) {
      a[size_t(r * nb + j)] = 1;
      b[size_t(r * nb + (r + 3 * j) % nb)] = 1;
    }
  Vec xa(size_t(rows * k), 0), xb = test::randomFixed(size_t(rows * k), -9, 9,
                                                      16, 7);
  for (size_t i = 0; i < xa.size(); i += 5)
    xa[i] = 1 << 16;
  Vec w = test::randomFixed(size_t(k * m), -1, 1, 16, 8);
  BlockRun ra = blockOnce(xa, w, a, rows, k, m, nb, true),
           rb = blockOnce(xb, w, b, rows, k, m, nb, true);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(ra.view[p].size(), rb.view[p].size());
    EXPECT_LT(test::topByteChi2(ra.view[p]), 400);
    EXPECT_LT(test::topByteChi2(rb.view[p]), 400);
    EXPECT_LT(test::twoSampleTopByteChi2(ra.view[p], rb.view[p]), 400);
  }
}

/// Opens m P^T for a fresh shuffle of the identity (the compiled FFN's
/// permuted mask) `runs` times; returns the opened live sets as every role
/// sees them (P0's; P1 and the dealer see the same, checked).
std::vector<std::vector<uint32_t>> openedMasks(const Vec &m, size_t nb,
                                               int runs) {
  std::vector<std::vector<uint32_t>> seen[3];
  test::runParties([&](Party &P) {
    Vec eye(nb * nb, 0);
    for (size_t j = 0; j < nb; ++j)
      eye[j * nb + j] = 1;
    for (int t = 0; t < runs; ++t) {
      // (one instruction each: the dealer ships its material at the end)
      Vec perm = shuffleRows(P, shareOf(P, eye), nb, nb);
      P.flushMaterial();
      Vec permT(nb * nb);
      for (size_t i = 0; i < nb; ++i)
        for (size_t j = 0; j < nb; ++j)
          permT[j * nb + i] = perm[i * nb + j];
      Vec product = matmulShared(P, shareOf(P, m), permT, 1, 1, int64_t(nb),
                                 int64_t(nb), false);
      P.flushMaterial();
      Vec opened = reveal(P, product, RevealTo::BothAndDealer);
      std::vector<uint32_t> live;
      for (size_t j = 0; j < nb; ++j)
        if (opened[j] == 1)
          live.push_back(uint32_t(j));
        else
          EXPECT_EQ(opened[j], 0u);
      seen[int(P.role)].push_back(live);
    }
  });
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[0], seen[2]); // the dealer learns the same, no more
  return seen[0];
}

TEST(PermutedMask, IsAUniformSetOfTheDeclaredSize) {
  // Two masks with 2 of 6 blocks live: what every role learns is uniform
  // over the 15 sets of 2 (so it is simulatable from the count), the same
  // for both.
  const size_t nb = 6;
  const int runs = 900;
  auto histogram = [&](const Vec &m) {
    std::map<std::vector<uint32_t>, int> h;
    for (const auto &s : openedMasks(m, nb, runs)) {
      EXPECT_EQ(s.size(), 2u);
      ++h[s];
    }
    return h;
  };
  auto ha = histogram({1, 1, 0, 0, 0, 0}), hb = histogram({0, 0, 0, 1, 0, 1});
  for (const auto *h : {&ha, &hb}) {
    EXPECT_EQ(h->size(), 15u);
    double e = runs / 15.0, chi2 = 0;
    for (const auto &[s, n] : *h)
      chi2 += (n - e) * (n - e) / e;
    EXPECT_LT(chi2, 45); // 14 dof: p ~ 5e-5
  }
  double two = 0;
  for (const auto &[s, n] : ha) {
    double nbv = hb.count(s) ? hb.at(s) : 0;
    two += (n - nbv) * (n - nbv) / (n + nbv);
  }
  EXPECT_LT(two, 45);
}

} // namespace
