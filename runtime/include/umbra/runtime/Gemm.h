//===- Gemm.h - Local matrix product over Z_2^64 ---------------*- C++ -*-===//
//
// The local GEMM of the 2PC runtime: secret shares are uint64 values and all
// arithmetic wraps mod 2^64. Matrix Beaver multiplication spends three local
// n×k×m products per party per matmul, so this is the runtime's hot path.
//
// Implementation (see docs/gemm.md): AVX2 has no 64-bit low multiply, so each
// 64×64→64 product is split as a·b = a0·b0 + 2^32·(a0·b1 + a1·b0) (mod 2^64),
// where a0·b0 is one vpmuludq (32×32→64) and both cross terms come from ONE
// vpmulld (8 × 32-bit low products) against a half-swapped copy of b. Cross
// terms are accumulated in 32-bit lanes and folded in once per k-block, so
// the inner loop is 2 multiplies + 2 adds per 4 multiply-accumulates. B is
// packed into cache-resident panels (BLIS-style, 4×4 / 6×4 register tiles),
// and work is split over columns on a persistent thread pool.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_RUNTIME_GEMM_H
#define UMBRA_RUNTIME_GEMM_H

#include <cstddef>
#include <cstdint>
#include <memory>

namespace umbra::rt {

/// C[M×N] = A[M×K]·B[K×N] (or C += A·B when `accumulate`) over Z_2^64.
/// All matrices are row-major with leading dimensions lda ≥ K, ldb ≥ N,
/// ldc ≥ N (elements, not bytes). K == 0 gives C = 0 (or leaves C unchanged
/// when accumulating). `threads` = 0 uses std::thread::hardware_concurrency;
/// the result is bit-identical for every thread count. C must not alias A or
/// B. Thread-safe: concurrent calls (e.g. both parties in one process) share
/// one worker pool and each caller always makes progress on its own work.
void gemmRing(int64_t M, int64_t N, int64_t K, const uint64_t *A, int64_t lda,
              const uint64_t *B, int64_t ldb, uint64_t *C, int64_t ldc,
              bool accumulate = false, int threads = 0);

/// General form: op(A) is M×K, op(B) is K×N, where op(X) = Xᵀ when the
/// corresponding trans flag is set. With transA, A is stored K×M row-major
/// (lda ≥ M); with transB, B is stored N×K row-major (ldb ≥ K), i.e. the
/// usual "X·Wᵀ" layout of a weight matrix stored as [out][in].
void gemmRingEx(bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                const uint64_t *A, int64_t lda, const uint64_t *B, int64_t ldb,
                uint64_t *C, int64_t ldc, bool accumulate = false,
                int threads = 0);

/// Kernel families. Avx2 (the baseline; 2 multiplies + 2 adds per 4 lanes)
/// is always available. Avx512 needs AVX-512F/DQ/VL (vpmullq: 1 multiply +
/// 1 add per lane) and is chosen at run time when the CPU has it, unless
/// $UMBRA_GEMM_ISA=avx2. The library itself is compiled for AVX2 only.
enum class GemmIsa { Avx2, Avx512 };
GemmIsa gemmActiveIsa();
bool gemmIsaSupported(GemmIsa isa);
const char *gemmIsaName(GemmIsa isa);

class GemmPackedB;

/// C[M×N] (+)= A[M×K]·B over Z_2^64 with B packed ahead of time (K×N from
/// B.rows(), B.cols()). For right operands used many times: in matrix Beaver
/// multiplication with constant weights, both W − B and the B share are
/// fixed per deployment, so every per-inference product can skip packing.
/// Same semantics, thread-safety and exactness as gemmRing.
void gemmRingPacked(int64_t M, const uint64_t *A, int64_t lda,
                    const GemmPackedB &B, uint64_t *C, int64_t ldc,
                    bool accumulate = false, int threads = 0);

/// op(B) (K×N; with transB stored N×K row-major) in the blocked panel layout
/// of the kernel family active at construction. Immutable; copies share the
/// buffer. Costs K·roundUp(N, 4 or 16) words.
class GemmPackedB {
public:
  GemmPackedB() = default;
  GemmPackedB(int64_t K, int64_t N, const uint64_t *B, int64_t ldb,
              bool transB = false, int threads = 0);
  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }
  size_t bytes() const { return words_ * sizeof(uint64_t); }

private:
  friend void gemmRingPacked(int64_t, const uint64_t *, int64_t,
                             const GemmPackedB &, uint64_t *, int64_t, bool,
                             int);
  GemmIsa isa() const { return isa_; }
  int64_t K_ = 0, N_ = 0;
  GemmIsa isa_{};
  std::shared_ptr<const uint64_t> data_;
  size_t words_ = 0;
};

/// Straightforward triple loop (single thread, no SIMD); the oracle used by
/// the tests. Same semantics as gemmRing.
void gemmRingNaive(int64_t M, int64_t N, int64_t K, const uint64_t *A,
                   int64_t lda, const uint64_t *B, int64_t ldb, uint64_t *C,
                   int64_t ldc, bool accumulate = false);

/// The thread count gemmRing uses for `threads` = 0: $UMBRA_GEMM_THREADS if
/// set, else std::thread::hardware_concurrency().
int gemmDefaultThreads();

namespace detail {
/// Testing/benchmark hook: switch the kernel family for all later calls
/// (process-wide). Throws std::invalid_argument if unsupported here.
/// Returns the previous one.
GemmIsa setGemmIsa(GemmIsa isa);

/// Testing/tuning hook: products with fewer than `macs` multiply-accumulates
/// run on the calling thread only (default 2^18). Returns the old value.
int64_t setGemmMinParallelWork(int64_t macs);
} // namespace detail

} // namespace umbra::rt

#endif // UMBRA_RUNTIME_GEMM_H
