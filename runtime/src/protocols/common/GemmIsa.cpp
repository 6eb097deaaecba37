//===- GemmIsa.cpp - Kernel family and thread-count selection -------------===//
//
// Which kernel family the ring GEMM (Gemm.cpp) runs and how many threads it
// asks the pool for by default, and the naive oracle of the tests. Kept out
// of Gemm.cpp so that file holds the kernels and their driver only.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Gemm.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace umbra::rt {
namespace {

bool cpuHasAvx512() {
  // libgcc's cpuinfo also checks that the OS saves the zmm state (XCR0).
  __builtin_cpu_init(); // may run before libgcc's own constructor
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}

GemmIsa defaultIsa() {
  const char *e = std::getenv("UMBRA_GEMM_ISA");
  if (e && std::strcmp(e, "avx2") == 0)
    return GemmIsa::Avx2;
  return cpuHasAvx512() ? GemmIsa::Avx512 : GemmIsa::Avx2;
}

std::atomic<GemmIsa> &isaSlot() {
  static std::atomic<GemmIsa> isa{defaultIsa()};
  return isa;
}

int envThreads() {
  const char *s = std::getenv("UMBRA_GEMM_THREADS");
  if (!s || !*s)
    return 0;
  int v = std::atoi(s);
  return v > 0 ? v : 0;
}

} // namespace

GemmIsa gemmActiveIsa() { return isaSlot().load(std::memory_order_relaxed); }

GemmIsa detail::setGemmIsa(GemmIsa isa) {
  if (!gemmIsaSupported(isa))
    throw std::invalid_argument("umbra::rt::gemm: ISA not supported here");
  return isaSlot().exchange(isa);
}

bool gemmIsaSupported(GemmIsa isa) {
  return isa == GemmIsa::Avx2 || cpuHasAvx512();
}

const char *gemmIsaName(GemmIsa isa) {
  return isa == GemmIsa::Avx512 ? "avx512" : "avx2";
}

int gemmDefaultThreads() {
  static const int n = [] {
    int e = envThreads();
    if (e > 0)
      return e;
    unsigned hc = std::thread::hardware_concurrency();
    return hc ? int(hc) : 1;
  }();
  return n;
}

void gemmRingNaive(int64_t M, int64_t N, int64_t K, const uint64_t *A,
                   int64_t lda, const uint64_t *B, int64_t ldb, uint64_t *C,
                   int64_t ldc, bool accumulate) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      uint64_t s = accumulate ? C[i * ldc + j] : 0;
      for (int64_t k = 0; k < K; ++k)
        s += A[i * lda + k] * B[k * ldb + j];
      C[i * ldc + j] = s;
    }
}

} // namespace umbra::rt
