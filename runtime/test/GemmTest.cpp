//===- GemmTest.cpp - gemmRing against a naive Z_2^64 reference -----------===//

#include "umbra/runtime/Gemm.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace umbra::rt;

namespace {

std::vector<uint64_t> randomWords(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> v(n);
  for (auto &x : v)
    x = rng();
  return v;
}

using Words = std::vector<uint64_t>;

/// Calls body(M, N, K, A, B) with random row-major A (M x K) and B (K x N)
/// for each {M, N, K} of `shapes`, seeding A and B from seed, seed + 1, ...
template <typename Body>
void forRandomProducts(
    std::initializer_list<std::tuple<int64_t, int64_t, int64_t>> shapes,
    uint64_t seed, Body body) {
  for (auto [M, N, K] : shapes) {
    Words A = randomWords(M * K, seed++), B = randomWords(K * N, seed++);
    body(M, N, K, A, B);
  }
}

/// Independent reference using unsigned __int128 (truncated), so it does not
/// share code or even the multiply width with gemmRingNaive.
uint64_t refDot(const uint64_t *A, int64_t lda, const uint64_t *B, int64_t ldb,
                int64_t i, int64_t j, int64_t K, bool transA, bool transB) {
  unsigned __int128 s = 0;
  for (int64_t k = 0; k < K; ++k) {
    uint64_t a = transA ? A[k * lda + i] : A[i * lda + k];
    uint64_t b = transB ? B[j * ldb + k] : B[k * ldb + j];
    s += (unsigned __int128)a * b;
  }
  return uint64_t(s);
}

struct Case {
  int64_t M, N, K;
  int64_t padA = 0, padB = 0, padC = 0;
  bool accumulate = false;
  bool transA = false, transB = false;
};

void check(const Case &c, int threads, uint64_t seed) {
  const int64_t rowsA = c.transA ? c.K : c.M, colsA = c.transA ? c.M : c.K;
  const int64_t rowsB = c.transB ? c.N : c.K, colsB = c.transB ? c.K : c.N;
  const int64_t lda = colsA + c.padA, ldb = colsB + c.padB, ldc = c.N + c.padC;
  auto A = randomWords(size_t(std::max<int64_t>(rowsA * lda, 1)), seed);
  auto B = randomWords(size_t(std::max<int64_t>(rowsB * ldb, 1)), seed + 1);
  auto C0 = randomWords(size_t(std::max<int64_t>(c.M * ldc, 1)), seed + 2);
  auto C = C0;
  gemmRingEx(c.transA, c.transB, c.M, c.N, c.K, A.data(), lda, B.data(), ldb,
             C.data(), ldc, c.accumulate, threads);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      uint64_t got = C[size_t(i * ldc + j)];
      if (j >= c.N) { // padding must be untouched
        ASSERT_EQ(got, C0[size_t(i * ldc + j)])
            << "pad clobbered at " << i << "," << j;
        continue;
      }
      uint64_t want =
          refDot(A.data(), lda, B.data(), ldb, i, j, c.K, c.transA, c.transB) +
          (c.accumulate ? C0[size_t(i * ldc + j)] : 0);
      ASSERT_EQ(got, want) << "M=" << c.M << " N=" << c.N << " K=" << c.K
                           << " acc=" << c.accumulate << " tA=" << c.transA
                           << " tB=" << c.transB << " threads=" << threads
                           << " at (" << i << "," << j << ")";
    }
}

const int64_t kDims[] = {1, 2, 3, 4, 5, 7, 8, 13, 17, 31, 64, 67};

/// Every test runs once per kernel family; families this CPU lacks are
/// skipped (AVX2 is always there).
class Gemm : public ::testing::TestWithParam<GemmIsa> {
protected:
  void SetUp() override {
    if (!gemmIsaSupported(GetParam()))
      GTEST_SKIP() << gemmIsaName(GetParam()) << " not supported on this CPU";
    saved_ = detail::setGemmIsa(GetParam());
    active_ = true;
  }
  void TearDown() override {
    if (active_)
      detail::setGemmIsa(saved_);
  }

private:
  GemmIsa saved_ = GemmIsa::Avx2;
  bool active_ = false;
};

} // namespace

INSTANTIATE_TEST_SUITE_P(Isa, Gemm,
                         ::testing::Values(GemmIsa::Avx2, GemmIsa::Avx512),
                         [](const ::testing::TestParamInfo<GemmIsa> &info) {
                           return std::string(gemmIsaName(info.param));
                         });

TEST_P(Gemm, NaiveMatchesInt128Reference) {
  const int64_t M = 7, N = 9, K = 11;
  auto A = randomWords(M * K, 1), B = randomWords(K * N, 2);
  std::vector<uint64_t> C(M * N);
  gemmRingNaive(M, N, K, A.data(), K, B.data(), N, C.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      EXPECT_EQ(C[i * N + j],
                refDot(A.data(), K, B.data(), N, i, j, K, false, false));
}

TEST_P(Gemm, KnownValues) {
  // (2^64 - 1)·(2^64 - 1) ≡ 1 and 2^32·2^32 ≡ 0 (mod 2^64); 2×2 by hand.
  const uint64_t m1 = ~uint64_t(0), p32 = uint64_t(1) << 32;
  uint64_t A[4] = {m1, p32, 3, m1}, B[4] = {m1, 2, p32, 5};
  uint64_t C[4];
  gemmRing(2, 2, 2, A, 2, B, 2, C, 2);
  EXPECT_EQ(C[0], 1u);                     // m1·m1 + p32·p32
  EXPECT_EQ(C[1], uint64_t(-2) + 5 * p32); // m1·2 + p32·5
  EXPECT_EQ(C[2], uint64_t(-3) - p32);     // 3·m1 + m1·p32
  EXPECT_EQ(C[3], 6u - 5u);                // 3·2 + m1·5
}

TEST_P(Gemm, AllSmallShapes) {
  uint64_t seed = 100;
  for (int64_t M : kDims)
    for (int64_t N : kDims)
      for (int64_t K : {1, 2, 3, 5, 16, 33}) {
        check({M, N, K}, 1, seed++);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(Gemm, LargerOddShapes) {
  // Cross the cache-block sizes (KC = 256, NC = 512, MC = 192) with primes.
  const Case cases[] = {
      {1, 1031, 257}, {2, 515, 300},   {3, 1030, 513},  {4, 600, 257},
      {5, 521, 769},  {193, 37, 258},  {197, 523, 261}, {37, 1027, 255},
      {64, 64, 1024}, {129, 131, 127}, {11, 2053, 5},   {400, 9, 700},
      {2, 16389, 9},  {3, 9001, 17},   {1, 4096, 5},    {1, 8195, 19},
  };
  uint64_t seed = 5000;
  for (const Case &c : cases)
    for (int threads : {1, 2, 3}) {
      check(c, threads, seed++);
      if (HasFatalFailure())
        return;
    }
}

TEST_P(Gemm, ZeroSizes) {
  uint64_t seed = 9000;
  for (int64_t M : {0, 1, 5})
    for (int64_t N : {0, 1, 6})
      for (bool acc : {false, true}) {
        Case c{M, N, 0};
        c.accumulate = acc;
        check(c, 2, seed++); // K = 0: C = 0, or unchanged when accumulating
        check({M, N, 3, 0, 0, 0, acc}, 2, seed++);
      }
}

TEST_P(Gemm, StridesAndAccumulate) {
  uint64_t seed = 12000;
  const Case shapes[] = {{1, 7, 5},    {3, 9, 4},    {4, 4, 4},
                         {5, 13, 17},  {17, 31, 64}, {33, 70, 300},
                         {2, 300, 33}, {96, 130, 67}};
  for (Case c : shapes)
    for (int pad : {0, 1, 5})
      for (bool acc : {false, true}) {
        c.padA = pad;
        c.padB = 2 * pad + 1;
        c.padC = pad ? pad + 2 : 0;
        c.accumulate = acc;
        check(c, 1, seed++);
        check(c, 2, seed++);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(Gemm, Transposes) {
  uint64_t seed = 15000;
  const Case shapes[] = {{1, 7, 5},      {2, 100, 33},  {5, 13, 17},
                         {17, 31, 64},   {33, 70, 300}, {130, 9, 260},
                         {1, 1031, 258}, {3, 515, 770}, {2, 6, 3},
                         {1, 9, 1},      {37, 131, 389}};
  for (Case c : shapes)
    for (int t = 1; t < 4; ++t)
      for (bool acc : {false, true}) {
        c.transA = t & 1;
        c.transB = t & 2;
        c.padA = 3;
        c.padB = 1;
        c.accumulate = acc;
        check(c, 2, seed++);
        if (HasFatalFailure())
          return;
      }
}

TEST_P(Gemm, ThreadCountsAgree) {
  // The transformer shapes, shrunk in N to keep the test quick; exact match
  // across thread counts and against gemmRingNaive.
  forRandomProducts(
      {{32, 300, 768}, {128, 200, 768}, {1, 5003, 768}, {32, 96, 3072}}, 20000,
      [](int64_t M, int64_t N, int64_t K, const Words &A, const Words &B) {
        std::vector<uint64_t> ref(M * N), c1(M * N), c2(M * N), c0(M * N);
        gemmRingNaive(M, N, K, A.data(), K, B.data(), N, ref.data(), N);
        gemmRing(M, N, K, A.data(), K, B.data(), N, c1.data(), N, false, 1);
        gemmRing(M, N, K, A.data(), K, B.data(), N, c2.data(), N, false, 2);
        gemmRing(M, N, K, A.data(), K, B.data(), N, c0.data(), N);
        EXPECT_EQ(c1, ref) << M << "x" << K << "x" << N;
        EXPECT_EQ(c2, ref) << M << "x" << K << "x" << N;
        EXPECT_EQ(c0, ref) << M << "x" << K << "x" << N;
      });
}

TEST_P(Gemm, ConcurrentCallers) {
  // Two "parties" in one process share the worker pool.
  const int64_t M = 40, N = 260, K = 300;
  auto A = randomWords(M * K, 31), B = randomWords(K * N, 32);
  std::vector<uint64_t> ref(M * N);
  gemmRingNaive(M, N, K, A.data(), K, B.data(), N, ref.data(), N);
  std::vector<std::vector<uint64_t>> out(4, std::vector<uint64_t>(M * N));
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep)
        gemmRing(M, N, K, A.data(), K, B.data(), N, out[t].data(), N, false, 2);
    });
  for (auto &t : ts)
    t.join();
  for (auto &o : out)
    EXPECT_EQ(o, ref);
}

TEST_P(Gemm, SmallShapesOnManyThreads) {
  // Force the pool even for tiny products so task splitting (row and column
  // chunks, partial panels) is exercised on every small shape.
  int64_t old = detail::setGemmMinParallelWork(0);
  uint64_t seed = 30000;
  for (int64_t M : {1, 2, 3, 4, 5, 9, 17, 33})
    for (int64_t N : {1, 3, 4, 5, 31, 64, 129})
      for (int64_t K : {1, 7, 40}) {
        for (int threads : {2, 3, 8}) {
          Case c{M, N, K};
          c.accumulate = (M + N + K + threads) % 2;
          c.padC = threads % 2;
          check(c, threads, seed++);
          if (HasFatalFailure()) {
            detail::setGemmMinParallelWork(old);
            return;
          }
        }
      }
  detail::setGemmMinParallelWork(old);
}

TEST_P(Gemm, PrepackedB) {
  // gemmRingPacked against the reference: odd shapes crossing the block grid,
  // strided A/B/C, accumulate, transposed B, several thread counts, and the
  // same packed operand reused for several left operands.
  int64_t old = detail::setGemmMinParallelWork(0);
  const Case shapes[] = {{1, 1, 1},    {1, 7, 5},      {2, 100, 33},
                         {3, 65, 300}, {4, 64, 256},   {5, 13, 17},
                         {13, 129, 1}, {33, 70, 300},  {29, 131, 257},
                         {1, 1031, 9}, {197, 37, 385}, {12, 16, 0}};
  uint64_t seed = 40000;
  for (Case c : shapes)
    for (bool transB : {false, true})
      for (int threads : {1, 2, 3}) {
        const int64_t M = c.M, N = c.N, K = c.K;
        const int64_t lda = K + 3, ldc = N + 1;
        const int64_t rowsB = transB ? N : K, colsB = transB ? K : N;
        const int64_t ldb = colsB + 2;
        auto B = randomWords(size_t(std::max<int64_t>(rowsB * ldb, 1)), seed++);
        GemmPackedB pb(K, N, B.data(), ldb, transB, threads);
        ASSERT_EQ(pb.rows(), K);
        ASSERT_EQ(pb.cols(), N);
        for (int rep = 0; rep < 2; ++rep) {
          const bool acc = rep == 1;
          auto A = randomWords(size_t(std::max<int64_t>(M * lda, 1)), seed++);
          auto C0 = randomWords(size_t(M * ldc), seed++);
          auto C = C0;
          gemmRingPacked(M, A.data(), lda, pb, C.data(), ldc, acc, threads);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
              uint64_t want = j >= N ? C0[size_t(i * ldc + j)]
                                     : refDot(A.data(), lda, B.data(), ldb, i,
                                              j, K, false, transB) +
                                           (acc ? C0[size_t(i * ldc + j)] : 0);
              ASSERT_EQ(C[size_t(i * ldc + j)], want)
                  << M << "x" << K << "x" << N << " transB=" << transB
                  << " threads=" << threads << " acc=" << acc << " at (" << i
                  << "," << j << ")";
            }
        }
      }
  detail::setGemmMinParallelWork(old);
}

TEST_P(Gemm, PrepackedMatchesGemmRing) {
  // The transformer shapes (N shrunk): packed and unpacked agree exactly.
  forRandomProducts(
      {{32, 200, 768}, {128, 130, 768}, {1, 3001, 768}, {32, 96, 3072}}, 50000,
      [](int64_t M, int64_t N, int64_t K, const Words &A, const Words &B) {
        std::vector<uint64_t> c1(M * N), c2(M * N);
        gemmRing(M, N, K, A.data(), K, B.data(), N, c1.data(), N);
        GemmPackedB pb(K, N, B.data(), N);
        gemmRingPacked(M, A.data(), K, pb, c2.data(), N);
        EXPECT_EQ(c1, c2) << M << "x" << K << "x" << N;
      });
}
