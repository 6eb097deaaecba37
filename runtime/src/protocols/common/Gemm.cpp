//===- Gemm.cpp - Local matrix product over Z_2^64 ------------------------===//
//
// See Gemm.h and docs/gemm.md. Compiled with -mavx2 -mfma -mbmi2 (runtime
// CMakeLists.txt). The AVX-512 kernels below are compiled through target
// attributes and only run when the CPU reports AVX-512F/DQ/VL.
//
// Layout of this file: tunables; AVX2 packing and kernels
// (4×4 inline asm + 1..3-row intrinsics); AVX-512 packing and kernels; the
// blocked driver shared by both; the small-M streaming path; the public
// entry points. Kernel-family and thread-count selection and the naive
// oracle are in GemmIsa.cpp; threads come from the runtime's ThreadPool.
//
// Arithmetic. For a = a1·2^32 + a0 and b = b1·2^32 + b0 (32-bit halves):
//   a·b ≡ a0·b0 + 2^32·(a0·b1 + a1·b0)   (mod 2^64)
// a0·b0 is the full 64-bit product of vpmuludq. For the cross term only the
// low 32 bits of a0·b1 + a1·b0 matter, and vpmulld on (a) × (b with its
// halves swapped) yields exactly {a0·b1, a1·b0} in the two 32-bit halves of
// each 64-bit lane. Sums are linear, so over a k-block we accumulate
//   lo += vpmuludq(a, b)          (64-bit lanes)
//   x  += vpmulld(a, swap(b))     (32-bit lanes)
// and fold once at the end: result = lo + ((x.lo32 + x.hi32) << 32)
//                                  = lo + (x << 32) + (x & 0xffffffff00000000).
// That is 2 multiplies + 2 adds per 4 multiply-accumulates, against the
// 3 vpmuludq + shifts + adds of the schoolbook 64-bit emulation.
//
//===----------------------------------------------------------------------===//

#include "umbra/runtime/Gemm.h"
#include "umbra/runtime/protocols/ThreadPool.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

namespace umbra::rt {
namespace {

//===----------------------------------------------------------------------===//
// Tunables
//===----------------------------------------------------------------------===//

// AVX2 register tile: kMR rows × (4·kV) columns, 2·kMR·kV ymm accumulators.
// The default 4×4 runs the inline-asm loop; other values (tuning
// experiments) fall back to the intrinsics kernel.
#ifndef UMBRA_GEMM_MR
#define UMBRA_GEMM_MR 4
#endif
#ifndef UMBRA_GEMM_V
#define UMBRA_GEMM_V 1
#endif
constexpr int kMR = UMBRA_GEMM_MR;
constexpr int kV = UMBRA_GEMM_V;
constexpr int kNR = 4 * kV;
// Cache blocking: a packed kKC×kNR micro-panel of B (b and swap(b), 16 B per
// element) stays in L1 while all rows of the kMC×kKC block of A stream from
// L2. kNC bounds the packed block of B.
#ifndef UMBRA_GEMM_KC
#define UMBRA_GEMM_KC 384
#endif
#ifndef UMBRA_GEMM_NC
#define UMBRA_GEMM_NC 64
#endif
#ifndef UMBRA_GEMM_MC
#define UMBRA_GEMM_MC 192
#endif
constexpr int64_t kKC = UMBRA_GEMM_KC;
constexpr int64_t kMC = UMBRA_GEMM_MC;
constexpr int64_t kNC = UMBRA_GEMM_NC;
// Below this many rows, B is not packed at all (streamed straight from
// memory, GEMV-like; packing would cost more than the product).
#ifndef UMBRA_GEMM_SMALL_M
#define UMBRA_GEMM_SMALL_M 3
#endif
constexpr int64_t kSmallM = UMBRA_GEMM_SMALL_M;
#ifndef UMBRA_GEMM512_SMALL_M
#define UMBRA_GEMM512_SMALL_M 1
#endif
constexpr int64_t kSmallM512 = UMBRA_GEMM512_SMALL_M;
#ifndef UMBRA_GEMM_SMALL_CHUNK
#define UMBRA_GEMM_SMALL_CHUNK 4096
#endif
// Columns per pass of the small-M path (its accumulators stay in L1/L2).
constexpr int64_t kSmallChunk = UMBRA_GEMM_SMALL_CHUNK;
// Products with fewer multiply-accumulates than this run on one thread
// (a pool hand-off costs a few microseconds). Adjustable for tests.
std::atomic<int64_t> gMinParallelWork{int64_t(1) << 18};

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline uint64_t swapHalves(uint64_t v) { return (v >> 32) | (v << 32); }

//===----------------------------------------------------------------------===//
// Problem description (strided views; element (i,j) at p[i*rs + j*cs]).
//===----------------------------------------------------------------------===//

struct Problem {
  int64_t M, N, K;
  const uint64_t *A;
  int64_t lda; // A row-major with unit column stride (transA is materialized)
  const uint64_t *B;
  int64_t rsB, csB;
  uint64_t *C;
  int64_t ldc;
  bool accumulate;
};

/// Per-thread scratch, 64-byte aligned, grown on demand. Slot 0 holds packed
/// B, slot 1 the small-M accumulators.
uint64_t *scratch(int slot, size_t words) {
  struct Buf {
    uint64_t *p = nullptr;
    size_t words = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[2];
  Buf &buf = bufs[slot];
  if (buf.words < words) {
    std::free(buf.p);
    buf.p = nullptr;
    buf.words = 0;
    size_t bytes = (words * sizeof(uint64_t) + 63) / 64 * 64;
    buf.p = static_cast<uint64_t *>(std::aligned_alloc(64, bytes));
    if (!buf.p)
      throw std::bad_alloc();
    buf.words = words;
  }
  return buf.p;
}

//===----------------------------------------------------------------------===//
// Packed path
//===----------------------------------------------------------------------===//

/// Prefetches `cols` words at p into L2: while packing one block of B, the
/// same rows of the next block (to its right), so B is read from memory as
/// long row streams rather than KC short, page-strided segments.
inline void prefetchRow(const uint64_t *p, int64_t cols) {
  for (int64_t q = 0; q < cols; q += 8)
    _mm_prefetch((const char *)(p + q), _MM_HINT_T1);
}

/// Transposing pack of full panels for op(B) = Bᵀ storage (row stride 1,
/// column stride cs): 4×4 blocks are loaded as four 32-byte rows of the
/// stored matrix and transposed in registers. Writes panels [0, nc/NR) in the
/// layout of packPanels (WithSwap: b then swap(b) per k, or b only); returns
/// how many columns it covered (a multiple of NR). k tail is scalar.
template <int NR, bool WithSwap>
int64_t packTransposedPanels(int64_t kc, int64_t nc, const uint64_t *B,
                             int64_t cs, uint64_t *dst) {
  constexpr int64_t w = WithSwap ? 2 : 1;
  const int64_t panels = nc / NR, panelWords = kc * NR * w;
  for (int64_t p = 0; p < panels; ++p) {
    uint64_t *d = dst + p * panelWords;
    for (int g = 0; g < NR / 4; ++g) {
      const uint64_t *r0 = B + (p * NR + 4 * g) * cs, *r1 = r0 + cs,
                     *r2 = r1 + cs, *r3 = r2 + cs;
      int64_t k = 0;
      for (; k + 4 <= kc; k += 4) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(r0 + k));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(r1 + k));
        __m256i v2 = _mm256_loadu_si256((const __m256i *)(r2 + k));
        __m256i v3 = _mm256_loadu_si256((const __m256i *)(r3 + k));
        __m256i t0 = _mm256_unpacklo_epi64(v0, v1);
        __m256i t1 = _mm256_unpackhi_epi64(v0, v1);
        __m256i t2 = _mm256_unpacklo_epi64(v2, v3);
        __m256i t3 = _mm256_unpackhi_epi64(v2, v3);
        __m256i o[4] = {_mm256_permute2x128_si256(t0, t2, 0x20),
                        _mm256_permute2x128_si256(t1, t3, 0x20),
                        _mm256_permute2x128_si256(t0, t2, 0x31),
                        _mm256_permute2x128_si256(t1, t3, 0x31)};
        for (int u = 0; u < 4; ++u) {
          uint64_t *du = d + (k + u) * NR * w + 4 * g;
          _mm256_store_si256((__m256i *)du, o[u]);
          if constexpr (WithSwap)
            _mm256_store_si256((__m256i *)(du + NR),
                               _mm256_shuffle_epi32(o[u], 0xB1));
        }
      }
      for (; k < kc; ++k) {
        const uint64_t *rr[4] = {r0, r1, r2, r3};
        for (int t = 0; t < 4; ++t) {
          uint64_t v = rr[t][k];
          d[k * NR * w + 4 * g + t] = v;
          if constexpr (WithSwap)
            d[k * NR * w + NR + 4 * g + t] = swapHalves(v);
        }
      }
    }
  }
  return panels * NR;
}

/// Packs B(0..kc, 0..nc) into NR-wide micro-panels, columns past nc zero.
/// WithSwap (the AVX2 kernel's layout): per k, a panel holds NR/4 vectors of
/// b followed by NR/4 vectors of swap(b). Without (the AVX-512 layout, and
/// the AVX2 prepacked one): b only. Panel p starts at dst + p*kc*w*NR, w = 2
/// with the swapped copy, else 1. For unit column stride the source is read
/// row by row (sequential, prefetch-friendly), writing all panels.
template <int NR, bool WithSwap>
void packPanels(int64_t kc, int64_t nc, const uint64_t *B, int64_t rs,
                int64_t cs, uint64_t *dst, int64_t pfCols = 0) {
  static_assert(NR % 4 == 0, "panels are whole ymm vectors");
  constexpr int64_t w = WithSwap ? 2 : 1;
  const int64_t panelWords = kc * w * NR;
  int64_t fullPanels = cs == 1 ? nc / NR : 0;
  if (rs == 1 && cs != 1)
    fullPanels = packTransposedPanels<NR, WithSwap>(kc, nc, B, cs, dst) / NR;
  else if (fullPanels > 0) {
    for (int64_t k = 0; k < kc; ++k) {
      const uint64_t *s = B + k * rs;
      prefetchRow(s + nc, pfCols);
      uint64_t *d = dst + k * w * NR;
      for (int64_t p = 0; p < fullPanels; ++p) {
        for (int v = 0; v < NR / 4; ++v) {
          __m256i b = _mm256_loadu_si256((const __m256i *)(s + p * NR + 4 * v));
          _mm256_store_si256((__m256i *)(d + p * panelWords + 4 * v), b);
          if constexpr (WithSwap)
            _mm256_store_si256((__m256i *)(d + p * panelWords + NR + 4 * v),
                               _mm256_shuffle_epi32(b, 0xB1));
        }
      }
    }
  }
  // Remaining (partial or strided) panels, element by element.
  for (int64_t jp = fullPanels * NR; jp < nc; jp += NR) {
    int64_t nr = std::min<int64_t>(NR, nc - jp);
    const uint64_t *src = B + jp * cs;
    uint64_t *d = dst + (jp / NR) * panelWords;
    for (int64_t k = 0; k < kc; ++k) {
      const uint64_t *s = src + k * rs;
      for (int j = 0; j < NR; ++j) {
        uint64_t v = j < nr ? s[j * cs] : 0;
        d[j] = v;
        if constexpr (WithSwap)
          d[NR + j] = swapHalves(v);
      }
      d += w * NR;
    }
  }
}

// Hand-scheduled 4×4 inner loop. GCC's register allocator inserts a register
// copy per 32-bit accumulator per k when this is written with intrinsics,
// which costs ~15% on Zen 4 (measured); the asm has exactly 2 loads,
// 4 broadcasts, 8 multiplies and 8 adds per k, unrolled by 2.
// Registers: ymm(2r) = lo accumulator of row r, ymm(2r+1) = cross
// accumulator, ymm12 = b, ymm13 = swap(b), ymm14/15 = temporaries.
#define UMBRA_GEMM_ROW(A, OFFA, LO, X)                                         \
  "vpbroadcastq " OFFA "(%[" A "],%[k],8), %%ymm14\n\t"                        \
  "vpmuludq %%ymm12, %%ymm14, %%ymm15\n\t"                                     \
  "vpmulld %%ymm13, %%ymm14, %%ymm14\n\t"                                      \
  "vpaddq %%ymm15, %%ymm" LO ", %%ymm" LO "\n\t"                               \
  "vpaddd %%ymm14, %%ymm" X ", %%ymm" X "\n\t"
// Panel with b and swap(b) per k (64 bytes per k).
#define UMBRA_GEMM_STEP4(OFFA, OFFB)                                           \
  "vmovdqa " OFFB "(%[bp]), %%ymm12\n\t"                                       \
  "vmovdqa " OFFB "+32(%[bp]), %%ymm13\n\t" UMBRA_GEMM_ROW("a0", OFFA, "0",    \
                                                           "1")                \
      UMBRA_GEMM_ROW("a1", OFFA, "2", "3") UMBRA_GEMM_ROW("a2", OFFA, "4", "5") \
          UMBRA_GEMM_ROW("a3", OFFA, "6", "7")
// Panel with b only (32 bytes per k); swap(b) by one vpshufd.
#define UMBRA_GEMM_STEP4S(OFFA, OFFB)                                          \
  "vmovdqa " OFFB "(%[bp]), %%ymm12\n\t"                                       \
  "vpshufd $0xb1, %%ymm12, %%ymm13\n\t" UMBRA_GEMM_ROW("a0", OFFA, "0", "1")   \
      UMBRA_GEMM_ROW("a1", OFFA, "2", "3") UMBRA_GEMM_ROW("a2", OFFA, "4", "5") \
          UMBRA_GEMM_ROW("a3", OFFA, "6", "7")
#define UMBRA_GEMM_ASM_BODY(STEP, BYTES1, BYTES2, OFF2)                        \
  "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"                                           \
  "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"                                           \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"                                           \
  "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"                                           \
  "vpxor %%xmm4, %%xmm4, %%xmm4\n\t"                                           \
  "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"                                           \
  "vpxor %%xmm6, %%xmm6, %%xmm6\n\t"                                           \
  "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"                                           \
  "test $1, %[k]\n\t"                                                          \
  "jz 1f\n\t" STEP("0", "0") "add $" BYTES1 ", %[bp]\n\t"                      \
  "add $1, %[k]\n\t"                                                           \
  "1:\n\t"                                                                     \
  "test %[k], %[k]\n\t"                                                        \
  "jz 3f\n\t"                                                                  \
  ".p2align 5\n\t"                                                             \
  "2:\n\t" STEP("0", "0") STEP("8", OFF2) "add $" BYTES2 ", %[bp]\n\t"         \
  "add $2, %[k]\n\t"                                                           \
  "jnz 2b\n\t"                                                                 \
  "3:\n\t"                                                                     \
  "vmovdqu %%ymm0, 0(%[acc])\n\t"                                              \
  "vmovdqu %%ymm1, 32(%[acc])\n\t"                                             \
  "vmovdqu %%ymm2, 64(%[acc])\n\t"                                             \
  "vmovdqu %%ymm3, 96(%[acc])\n\t"                                             \
  "vmovdqu %%ymm4, 128(%[acc])\n\t"                                            \
  "vmovdqu %%ymm5, 160(%[acc])\n\t"                                            \
  "vmovdqu %%ymm6, 192(%[acc])\n\t"                                            \
  "vmovdqu %%ymm7, 224(%[acc])\n\t"
#define UMBRA_GEMM_ASM_OPERANDS                                                \
  : [k] "+r"(k), [bp] "+r"(bp)                                                 \
  : [a0] "r"(a0), [a1] "r"(a1), [a2] "r"(a2), [a3] "r"(a3), [acc] "r"(acc)     \
  : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",   \
    "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",       \
    "xmm15"

/// acc[2r] = Σ_k vpmuludq(a[r][k], b_k), acc[2r+1] = Σ_k vpmulld(a[r][k],
/// swap(b_k)) for r < 4 over one 4-column panel. SwapInKernel: the panel
/// holds only b (prepacked layout) instead of b and swap(b).
template <bool SwapInKernel>
inline void kernel4x4Asm(int64_t kc, const uint64_t *a, int64_t lda,
                         const uint64_t *bp, __m256i *acc) {
  const uint64_t *a0 = a + kc, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
  int64_t k = -kc; // counts up to 0; rows are addressed as a_r[k]
  if constexpr (SwapInKernel)
    __asm__ volatile(UMBRA_GEMM_ASM_BODY(UMBRA_GEMM_STEP4S, "32", "64", "32")
                         UMBRA_GEMM_ASM_OPERANDS);
  else
    __asm__ volatile(UMBRA_GEMM_ASM_BODY(UMBRA_GEMM_STEP4, "64", "128", "64")
                         UMBRA_GEMM_ASM_OPERANDS);
}
#undef UMBRA_GEMM_ASM_OPERANDS
#undef UMBRA_GEMM_ASM_BODY
#undef UMBRA_GEMM_STEP4S
#undef UMBRA_GEMM_STEP4
#undef UMBRA_GEMM_ROW

/// C[MR×nValid] (+)= A[MR×kc] · panel, A rows at a + r*lda. The panel holds
/// b and swap(b) per k, or only b when SwapInKernel (prepacked layout).
template <int MR, bool SwapInKernel>
inline __attribute__((always_inline)) void
microKernel(int64_t kc, const uint64_t *a, int64_t lda, const uint64_t *bp,
            uint64_t *c, int64_t ldc, bool add, int64_t nValid) {
  constexpr int64_t kStep = SwapInKernel ? kNR : 2 * kNR; // words per k
  __m256i lo[MR][kV], x[MR][kV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < kV; ++v)
      lo[r][v] = x[r][v] = _mm256_setzero_si256();
  if constexpr (MR == 4 && kV == 1) {
    alignas(32) __m256i acc[8];
    kernel4x4Asm<SwapInKernel>(kc, a, lda, bp, acc);
    for (int r = 0; r < 4; ++r)
      lo[r][0] = acc[2 * r], x[r][0] = acc[2 * r + 1];
  } else {
  const uint64_t *ar[MR];
  for (int r = 0; r < MR; ++r)
    ar[r] = a + r * lda;
  for (int64_t k = 0; k < kc; ++k) {
    __m256i b[kV], bs[kV];
    for (int v = 0; v < kV; ++v) {
      b[v] = _mm256_load_si256((const __m256i *)(bp + 4 * v));
      if constexpr (SwapInKernel)
        bs[v] = _mm256_shuffle_epi32(b[v], 0xB1);
      else
        bs[v] = _mm256_load_si256((const __m256i *)(bp + kNR + 4 * v));
    }
    bp += kStep;
    for (int r = 0; r < MR; ++r) {
      __m256i av = _mm256_set1_epi64x((long long)ar[r][k]);
      for (int v = 0; v < kV; ++v) {
        // (Operand order matters to GCC: product first avoids a register
        // copy per accumulator per k.)
        lo[r][v] = _mm256_add_epi64(_mm256_mul_epu32(av, b[v]), lo[r][v]);
        x[r][v] = _mm256_add_epi32(x[r][v], _mm256_mullo_epi32(bs[v], av));
      }
    }
  }
  }
  const __m256i hiMask = _mm256_set1_epi64x((long long)0xFFFFFFFF00000000ull);
  for (int r = 0; r < MR; ++r) {
    uint64_t *cr = c + r * ldc;
    for (int v = 0; v < kV; ++v) {
      __m256i res = _mm256_add_epi64(
          lo[r][v], _mm256_add_epi64(_mm256_slli_epi64(x[r][v], 32),
                                     _mm256_and_si256(x[r][v], hiMask)));
      if (nValid == kNR) {
        __m256i *p = (__m256i *)(cr + 4 * v);
        if (add)
          res = _mm256_add_epi64(res, _mm256_loadu_si256(p));
        _mm256_storeu_si256(p, res);
      } else {
        alignas(32) uint64_t t[4];
        _mm256_store_si256((__m256i *)t, res);
        for (int j = 0; j < 4; ++j) {
          int64_t col = 4 * v + j;
          if (col < nValid)
            cr[col] = (add ? cr[col] : 0) + t[j];
        }
      }
    }
  }
}

template <int MR, bool SwapInKernel>
__attribute__((noinline)) void
microKernelN(int64_t kc, const uint64_t *a, int64_t lda, const uint64_t *bp,
             uint64_t *c, int64_t ldc, bool add, int64_t nValid) {
  microKernel<MR, SwapInKernel>(kc, a, lda, bp, c, ldc, add, nValid);
}

using KernelFn = void (*)(int64_t, const uint64_t *, int64_t, const uint64_t *,
                          uint64_t *, int64_t, bool, int64_t);

template <bool SwapInKernel, int... Is>
constexpr auto makeKernelTable(std::integer_sequence<int, Is...>) {
  return std::array<KernelFn, sizeof...(Is)>{
      &microKernelN<Is + 1, SwapInKernel>...};
}
// kKernels[s][m - 1]: m-row kernel; s = 1 for the prepacked (b-only) layout.
const std::array<KernelFn, kMR> kKernels[2] = {
    makeKernelTable<false>(std::make_integer_sequence<int, kMR>{}),
    makeKernelTable<true>(std::make_integer_sequence<int, kMR>{})};


//===----------------------------------------------------------------------===//
// AVX-512 packed path (runtime-dispatched). With AVX-512DQ the 64-bit low
// multiply exists (vpmullq), so a multiply-accumulate is 1 multiply + 1 add
// per lane and B needs no swapped copy. Compiled via target attributes; only
// called when the CPU and OS support AVX-512F/DQ/VL (see gemmActiveIsa()).
//===----------------------------------------------------------------------===//

#define UMBRA_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl")))

#ifndef UMBRA_GEMM512_MR
#define UMBRA_GEMM512_MR 12
#endif
#ifndef UMBRA_GEMM512_V
#define UMBRA_GEMM512_V 2
#endif
constexpr int k5MR = UMBRA_GEMM512_MR; // rows per register tile
constexpr int k5V = UMBRA_GEMM512_V;   // zmm vectors (8 columns) per row
constexpr int k5NR = 8 * k5V;
#ifndef UMBRA_GEMM512_KC
#define UMBRA_GEMM512_KC 256
#endif
constexpr int64_t k5KC = UMBRA_GEMM512_KC;
constexpr int64_t k5NC = 4 * k5NR;
constexpr int64_t k5MC = 192;


template <int MR>
UMBRA_AVX512 __attribute__((noinline)) void
kernel512(int64_t kc, const uint64_t *a, int64_t lda, const uint64_t *bp,
          uint64_t *c, int64_t ldc, bool add, int64_t nValid) {
  __m512i acc[MR][k5V];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < k5V; ++v)
      acc[r][v] = _mm512_setzero_si512();
  for (int64_t k = 0; k < kc; ++k) {
    __m512i b[k5V];
    for (int v = 0; v < k5V; ++v)
      b[v] = _mm512_load_si512((const void *)(bp + 8 * v));
    bp += k5NR;
    for (int r = 0; r < MR; ++r) {
      __m512i av = _mm512_set1_epi64((long long)a[r * lda + k]);
      for (int v = 0; v < k5V; ++v)
        acc[r][v] = _mm512_add_epi64(acc[r][v], _mm512_mullo_epi64(av, b[v]));
    }
  }
  for (int r = 0; r < MR; ++r) {
    uint64_t *cr = c + r * ldc;
    for (int v = 0; v < k5V; ++v) {
      int64_t cols = std::min<int64_t>(8, nValid - 8 * v);
      if (cols <= 0)
        break;
      __mmask8 m = __mmask8((1u << cols) - 1);
      __m512i res = acc[r][v];
      if (add)
        res = _mm512_add_epi64(res, _mm512_maskz_loadu_epi64(m, cr + 8 * v));
      _mm512_mask_storeu_epi64(cr + 8 * v, m, res);
    }
  }
}

template <int... Is>
constexpr auto makeKernel512Table(std::integer_sequence<int, Is...>) {
  return std::array<KernelFn, sizeof...(Is)>{&kernel512<Is + 1>...};
}
const auto kKernels512 =
    makeKernel512Table(std::make_integer_sequence<int, k5MR>{});


//===----------------------------------------------------------------------===//
// Blocked driver shared by both kernel families, packing B on the fly or
// reading a GemmPackedB. Prepacked blocks follow the global grid: the block
// for columns [jb*NC, ...) and rows [pc, pc+kc) starts at
// pre + jb*K*NC + pc*roundUp(nc, NR). A family's packWordsPerElem is the
// on-the-fly layout (2: b and swap(b), packPanels WithSwap); prepacked
// panels are plain in both families.
//===----------------------------------------------------------------------===//

struct Avx2Family {
  static constexpr int64_t NR = kNR, MR = kMR, KC = kKC, NC = kNC, MC = kMC;
  static constexpr int64_t packWordsPerElem = 2; // b and swap(b)
  static KernelFn kernel(bool prepacked, int64_t m) {
    return kKernels[prepacked ? 1 : 0][size_t(m - 1)];
  }
  template <bool Pre> static constexpr KernelFn fullKernel() {
    return &microKernelN<kMR, Pre>;
  }
};

struct Avx512Family {
  static constexpr int64_t NR = k5NR, MR = k5MR, KC = k5KC, NC = k5NC,
                           MC = k5MC;
  static constexpr int64_t packWordsPerElem = 1;
  static KernelFn kernel(bool, int64_t m) { return kKernels512[size_t(m - 1)]; }
  template <bool Pre> static constexpr KernelFn fullKernel() {
    return &kernel512<k5MR>;
  }
};

/// Words of a GemmPackedB for family F.
template <class F> size_t prepackedWords(int64_t K, int64_t N) {
  int64_t fullBlocks = N / F::NC, rest = N - fullBlocks * F::NC;
  return size_t(K) * size_t(fullBlocks * F::NC + ceilDiv(rest, F::NR) * F::NR);
}

template <class F, bool Pre>
void packedTaskT(const Problem &p, const uint64_t *pre, int64_t m0,
                 int64_t m1, int64_t n0, int64_t n1) {
  constexpr int64_t w = Pre ? 1 : F::packWordsPerElem;
  uint64_t *buf = Pre ? nullptr : scratch(0, size_t(F::KC * F::NC * w));
  const KernelFn full = F::template fullKernel<Pre>();
  // pc outside jc: consecutive packed blocks continue the same rows of B.
  for (int64_t pc = 0; pc < p.K; pc += F::KC) {
    const int64_t kc = std::min(F::KC, p.K - pc);
    const bool add = p.accumulate || pc > 0;
    for (int64_t jc = n0; jc < n1; jc += F::NC) {
      const int64_t nc = std::min(F::NC, n1 - jc);
      const int64_t ncp = ceilDiv(nc, F::NR) * F::NR;
      const uint64_t *blk;
      if constexpr (Pre) {
        blk = pre + (jc / F::NC) * p.K * F::NC + pc * ncp;
      } else {
        // Prefetch the next block's rows (unit column stride only).
        const int64_t pf =
            p.csB == 1 ? std::min(F::NC, std::max<int64_t>(n1 - jc - nc, 0))
                       : 0;
        packPanels<F::NR, F::packWordsPerElem == 2>(
            kc, nc, p.B + pc * p.rsB + jc * p.csB, p.rsB, p.csB, buf, pf);
        blk = buf;
      }
      for (int64_t ic = m0; ic < m1; ic += F::MC) {
        const int64_t mc = std::min(F::MC, m1 - ic);
        for (int64_t jr = 0; jr < nc; jr += F::NR) {
          const uint64_t *bp = blk + (jr / F::NR) * kc * F::NR * w;
          const int64_t nv = std::min<int64_t>(F::NR, nc - jr);
          const uint64_t *a = p.A + ic * p.lda + pc;
          uint64_t *c = p.C + ic * p.ldc + jc + jr;
          int64_t ir = 0;
          for (; ir + F::MR <= mc; ir += F::MR)
            full(kc, a + ir * p.lda, p.lda, bp, c + ir * p.ldc, p.ldc, add,
                 nv);
          if (ir < mc)
            F::kernel(Pre, mc - ir)(kc, a + ir * p.lda, p.lda, bp,
                                    c + ir * p.ldc, p.ldc, add, nv);
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Small-M path: B (unit column stride) is streamed row by row, four k at a
// time, into accumulators that live in L1. The cross term uses a broadcast
// of swap(a) instead of swap(b), so B needs no shuffles: vpmulld(swap(a), b)
// = {a1·b0, a0·b1}, the same pair in the other order.
//===----------------------------------------------------------------------===//

#ifndef UMBRA_GEMM_SMALL_KU
#define UMBRA_GEMM_SMALL_KU 8
#endif
#ifndef UMBRA_GEMM_SMALL_PF
#define UMBRA_GEMM_SMALL_PF 1
#endif

/// acc{Lo,X}[i][0..nvec) += rows k..k+KU-1 of B (at b, stride ldb) weighted
/// by A[i][k..k+KU-1], for every row i < M.
template <int KU>
inline void smallStep(const Problem &p, int64_t k, const uint64_t *b,
                      int64_t nvec, uint64_t *const *accLo,
                      uint64_t *const *accX) {
  const int64_t ldb = p.rsB;
  for (int64_t i = 0; i < p.M; ++i) {
    const uint64_t *ai = p.A + i * p.lda + k;
    __m256i av[KU], sv[KU];
    for (int u = 0; u < KU; ++u) {
      av[u] = _mm256_set1_epi64x((long long)ai[u]);
      sv[u] = _mm256_set1_epi64x((long long)swapHalves(ai[u]));
    }
    uint64_t *lo = accLo[i], *xx = accX[i];
    for (int64_t j = 0; j < nvec; j += 4) {
#if UMBRA_GEMM_SMALL_PF == 1
      if (KU > 1 && i == 0 && (j & 7) == 0 && k + 2 * KU <= p.K) {
        // The next k-block's rows at these columns, one chunk pass ahead.
        for (int u = 0; u < KU; ++u)
          _mm_prefetch((const char *)(b + (KU + u) * ldb + j), _MM_HINT_T1);
      }
#elif UMBRA_GEMM_SMALL_PF == 2
      if (KU > 1 && i == 0 && (j & 7) == 0) {
        for (int u = 0; u < KU; ++u)
          _mm_prefetch((const char *)(b + u * ldb + j + 128), _MM_HINT_T0);
      }
#endif
      __m256i l = _mm256_load_si256((const __m256i *)(lo + j));
      __m256i c = _mm256_load_si256((const __m256i *)(xx + j));
      for (int u = 0; u < KU; ++u) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + u * ldb + j));
        l = _mm256_add_epi64(l, _mm256_mul_epu32(av[u], v));
        c = _mm256_add_epi32(c, _mm256_mullo_epi32(sv[u], v));
      }
      _mm256_store_si256((__m256i *)(lo + j), l);
      _mm256_store_si256((__m256i *)(xx + j), c);
    }
  }
}

void smallMTask(const Problem &p, int64_t n0, int64_t n1) {
  // Accumulators (lo and cross) for up to kSmallM rows of one chunk.
  uint64_t *accBuf = scratch(1, size_t(2 * kSmallM * kSmallChunk));
  uint64_t *accLo[kSmallM], *accX[kSmallM];
  for (int64_t i = 0; i < kSmallM; ++i) {
    accLo[i] = accBuf + (2 * i) * kSmallChunk;
    accX[i] = accBuf + (2 * i + 1) * kSmallChunk;
  }
  const int64_t M = p.M, K = p.K, ldb = p.rsB;
  constexpr int KU = UMBRA_GEMM_SMALL_KU;
  const __m256i hiMask = _mm256_set1_epi64x((long long)0xFFFFFFFF00000000ull);
  for (int64_t j0 = n0; j0 < n1; j0 += kSmallChunk) {
    const int64_t nch = std::min(kSmallChunk, n1 - j0);
    const int64_t nvec = nch / 4 * 4;
    for (int64_t i = 0; i < M; ++i) {
      std::memset(accLo[i], 0, sizeof(uint64_t) * nvec);
      std::memset(accX[i], 0, sizeof(uint64_t) * nvec);
    }
    const uint64_t *Bj = p.B + j0;
    int64_t k = 0;
    for (; k + KU <= K; k += KU)
      smallStep<KU>(p, k, Bj + k * ldb, nvec, accLo, accX);
    for (; k < K; ++k)
      smallStep<1>(p, k, Bj + k * ldb, nvec, accLo, accX);
    // Fold the accumulators into C; leftover (< 4) columns are scalar.
    for (int64_t i = 0; i < M; ++i) {
      uint64_t *ci = p.C + i * p.ldc + j0;
      for (int64_t j = 0; j < nvec; j += 4) {
        __m256i xv = _mm256_load_si256((const __m256i *)(accX[i] + j));
        __m256i res = _mm256_add_epi64(
            _mm256_load_si256((const __m256i *)(accLo[i] + j)),
            _mm256_add_epi64(_mm256_slli_epi64(xv, 32),
                             _mm256_and_si256(xv, hiMask)));
        if (p.accumulate)
          res = _mm256_add_epi64(res,
                                 _mm256_loadu_si256((const __m256i *)(ci + j)));
        _mm256_storeu_si256((__m256i *)(ci + j), res);
      }
      for (int64_t j = nvec; j < nch; ++j) {
        uint64_t s = 0;
        for (int64_t kk = 0; kk < K; ++kk)
          s += p.A[i * p.lda + kk] * Bj[kk * ldb + j];
        ci[j] = (p.accumulate ? ci[j] : 0) + s;
      }
    }
  }
}

/// Sum of the four 64-bit lanes of lo + 2^32·(x.lo32 + x.hi32).
inline uint64_t foldLanes(__m256i lo, __m256i x) {
  const __m256i hiMask = _mm256_set1_epi64x((long long)0xFFFFFFFF00000000ull);
  __m256i v = _mm256_add_epi64(
      lo, _mm256_add_epi64(_mm256_slli_epi64(x, 32), _mm256_and_si256(x, hiMask)));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(v),
                            _mm256_extracti128_si256(v, 1));
  return uint64_t(_mm_cvtsi128_si64(h)) + uint64_t(_mm_extract_epi64(h, 1));
}

/// Small M with op(B) = Bᵀ stored N×K (the [out][in] weight layout): every
/// output is a contiguous dot product of an A row with a stored row of B,
/// so B streams row by row. The cross term uses a swapped copy of the A row
/// (vpmulld(swap(a), b) = {a1·b0, a0·b1}). Four B rows per pass.
void smallMTransTask(const Problem &p, int64_t n0, int64_t n1) {
  const int64_t M = p.M, K = p.K, ldb = p.csB;
  const int64_t K4 = K / 4 * 4;
  uint64_t *aSwap = scratch(1, size_t(kSmallM * std::max<int64_t>(K, 1)));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      aSwap[i * K + k] = swapHalves(p.A[i * p.lda + k]);
  auto scalarTail = [&](int64_t i, int64_t j) {
    uint64_t s = 0;
    for (int64_t k = K4; k < K; ++k)
      s += p.A[i * p.lda + k] * p.B[j * ldb + k];
    return s;
  };
  int64_t j = n0;
  for (; j + 4 <= n1; j += 4) {
    const uint64_t *b0 = p.B + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb,
                   *b3 = b2 + ldb;
    for (int64_t i = 0; i < M; ++i) {
      const uint64_t *a = p.A + i * p.lda, *as = aSwap + i * K;
      __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0;
      __m256i x0 = l0, x1 = l0, x2 = l0, x3 = l0;
      for (int64_t k = 0; k < K4; k += 4) {
#ifndef UMBRA_GEMM_TPF
#define UMBRA_GEMM_TPF 1
#endif
#if UMBRA_GEMM_TPF == 1
        if (i == 0 && (k & 7) == 0 && j + 8 <= n1) {
          // The next four rows of B, one pass ahead.
          _mm_prefetch((const char *)(b0 + 4 * ldb + k), _MM_HINT_T0);
          _mm_prefetch((const char *)(b1 + 4 * ldb + k), _MM_HINT_T0);
          _mm_prefetch((const char *)(b2 + 4 * ldb + k), _MM_HINT_T0);
          _mm_prefetch((const char *)(b3 + 4 * ldb + k), _MM_HINT_T0);
        }
#elif UMBRA_GEMM_TPF == 2
        if (i == 0 && (k & 7) == 0) {
          _mm_prefetch((const char *)(b0 + k + 128), _MM_HINT_T0);
          _mm_prefetch((const char *)(b1 + k + 128), _MM_HINT_T0);
          _mm_prefetch((const char *)(b2 + k + 128), _MM_HINT_T0);
          _mm_prefetch((const char *)(b3 + k + 128), _MM_HINT_T0);
        }
#endif
        __m256i av = _mm256_loadu_si256((const __m256i *)(a + k));
        __m256i sv = _mm256_loadu_si256((const __m256i *)(as + k));
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(b0 + k));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(b1 + k));
        __m256i v2 = _mm256_loadu_si256((const __m256i *)(b2 + k));
        __m256i v3 = _mm256_loadu_si256((const __m256i *)(b3 + k));
        l0 = _mm256_add_epi64(l0, _mm256_mul_epu32(av, v0));
        l1 = _mm256_add_epi64(l1, _mm256_mul_epu32(av, v1));
        l2 = _mm256_add_epi64(l2, _mm256_mul_epu32(av, v2));
        l3 = _mm256_add_epi64(l3, _mm256_mul_epu32(av, v3));
        x0 = _mm256_add_epi32(x0, _mm256_mullo_epi32(sv, v0));
        x1 = _mm256_add_epi32(x1, _mm256_mullo_epi32(sv, v1));
        x2 = _mm256_add_epi32(x2, _mm256_mullo_epi32(sv, v2));
        x3 = _mm256_add_epi32(x3, _mm256_mullo_epi32(sv, v3));
      }
      uint64_t *ci = p.C + i * p.ldc + j;
      const uint64_t r[4] = {foldLanes(l0, x0) + scalarTail(i, j),
                             foldLanes(l1, x1) + scalarTail(i, j + 1),
                             foldLanes(l2, x2) + scalarTail(i, j + 2),
                             foldLanes(l3, x3) + scalarTail(i, j + 3)};
      for (int t = 0; t < 4; ++t)
        ci[t] = (p.accumulate ? ci[t] : 0) + r[t];
    }
  }
  for (; j < n1; ++j) {
    const uint64_t *b0 = p.B + j * ldb;
    for (int64_t i = 0; i < M; ++i) {
      const uint64_t *a = p.A + i * p.lda, *as = aSwap + i * K;
      __m256i l0 = _mm256_setzero_si256(), x0 = l0;
      for (int64_t k = 0; k < K4; k += 4) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(b0 + k));
        l0 = _mm256_add_epi64(
            l0, _mm256_mul_epu32(_mm256_loadu_si256((const __m256i *)(a + k)),
                                 v0));
        x0 = _mm256_add_epi32(
            x0, _mm256_mullo_epi32(
                    _mm256_loadu_si256((const __m256i *)(as + k)), v0));
      }
      uint64_t &c = p.C[i * p.ldc + j];
      c = (p.accumulate ? c : 0) + foldLanes(l0, x0) + scalarTail(i, j);
    }
  }
}

/// Runs the product. `pre` (with `preIsa`) is a GemmPackedB's data, or null
/// to pack B on the fly.
void run(const Problem &p, int threads, const uint64_t *pre = nullptr,
         GemmIsa preIsa = GemmIsa::Avx2) {
  const int64_t M = p.M, N = p.N, K = p.K;
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    if (!p.accumulate)
      for (int64_t i = 0; i < M; ++i)
        std::memset(p.C + i * p.ldc, 0, sizeof(uint64_t) * size_t(N));
    return;
  }
  if (threads <= 0)
    threads = gemmDefaultThreads();
  const double work = double(M) * double(N) * double(K);
  if (work < double(gMinParallelWork.load(std::memory_order_relaxed)))
    threads = 1;

  const bool avx512 = (pre ? preIsa : gemmActiveIsa()) == GemmIsa::Avx512;
  // The AVX-512 packed kernels win from M = 2 on (measured); AVX2's from 4.
  const bool smallM = !pre && M <= (avx512 ? kSmallM512 : kSmallM);
  const bool small = smallM && p.csB == 1;
  const bool smallTrans = smallM && !small && p.rsB == 1;
  const int64_t nr = avx512 ? k5NR : kNR, mr = avx512 ? k5MR : kMR;
  // Prepacked blocks sit on the global NC grid, so column tasks must too.
  const int64_t colAlign = pre ? (avx512 ? k5NC : kNC) : nr;
  // Tasks: column chunks first (no duplicated packing), rows only when the
  // columns run out. Several tasks per thread absorb noise from other load.
  struct Task {
    int64_t m0, m1, n0, n1;
  };
  std::vector<Task> tasks;
  if (threads == 1) {
    tasks.push_back({0, M, 0, N});
  } else {
    const int64_t target = int64_t(threads) * 4;
    const int64_t colUnit =
        small || smallTrans ? 64 : std::max<int64_t>(colAlign, 32);
    int64_t tn = std::clamp<int64_t>(ceilDiv(N, colUnit), 1, target);
    int64_t tm = small || smallTrans ? 1
                       : std::clamp<int64_t>(ceilDiv(target, tn), 1,
                                             ceilDiv(M, mr * 4));
    int64_t colStep = ceilDiv(ceilDiv(N, tn), colAlign) * colAlign;
    int64_t rowStep = ceilDiv(ceilDiv(M, tm), mr) * mr;
    for (int64_t n0 = 0; n0 < N; n0 += colStep)
      for (int64_t m0 = 0; m0 < M; m0 += rowStep)
        tasks.push_back(
            {m0, std::min(M, m0 + rowStep), n0, std::min(N, n0 + colStep)});
  }
  std::function<void(int64_t)> fn = [&](int64_t t) {
    const Task &tk = tasks[size_t(t)];
    if (small)
      smallMTask(p, tk.n0, tk.n1);
    else if (smallTrans)
      smallMTransTask(p, tk.n0, tk.n1);
    else if (avx512 && pre)
      packedTaskT<Avx512Family, true>(p, pre, tk.m0, tk.m1, tk.n0, tk.n1);
    else if (avx512)
      packedTaskT<Avx512Family, false>(p, pre, tk.m0, tk.m1, tk.n0, tk.n1);
    else if (pre)
      packedTaskT<Avx2Family, true>(p, pre, tk.m0, tk.m1, tk.n0, tk.n1);
    else
      packedTaskT<Avx2Family, false>(p, pre, tk.m0, tk.m1, tk.n0, tk.n1);
  };
  ThreadPool::shared().run(int64_t(tasks.size()), threads, fn);
}

/// Fills a GemmPackedB buffer: every (jc, pc) block in the global grid.
template <class F>
void prepackAll(int64_t K, int64_t N, const uint64_t *B, int64_t rs,
                int64_t cs, uint64_t *dst, int threads) {
  const int64_t nBlocks = ceilDiv(N, F::NC);
  std::function<void(int64_t)> fn = [&](int64_t jb) {
    const int64_t jc = jb * F::NC, nc = std::min(F::NC, N - jc);
    const int64_t ncp = ceilDiv(nc, F::NR) * F::NR;
    for (int64_t pc = 0; pc < K; pc += F::KC)
      packPanels<F::NR, false>(std::min(F::KC, K - pc), nc,
                               B + pc * rs + jc * cs, rs, cs,
                               dst + jb * K * F::NC + pc * ncp);
  };
  if (threads <= 0)
    threads = gemmDefaultThreads();
  if (double(K) * double(N) < double(1 << 16))
    threads = 1;
  ThreadPool::shared().run(nBlocks, threads, fn);
}

} // namespace

int64_t detail::setGemmMinParallelWork(int64_t macs) {
  return gMinParallelWork.exchange(macs);
}

void gemmRing(int64_t M, int64_t N, int64_t K, const uint64_t *A, int64_t lda,
              const uint64_t *B, int64_t ldb, uint64_t *C, int64_t ldc,
              bool accumulate, int threads) {
  gemmRingEx(false, false, M, N, K, A, lda, B, ldb, C, ldc, accumulate,
             threads);
}

void gemmRingEx(bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                const uint64_t *A, int64_t lda, const uint64_t *B, int64_t ldb,
                uint64_t *C, int64_t ldc, bool accumulate, int threads) {
  std::vector<uint64_t> at;
  if (transA && M > 0 && K > 0) {
    // op(A) = Aᵀ: materialize it row-major (O(M·K), negligible vs O(M·N·K)).
    at.resize(size_t(M) * size_t(K));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < M; ++i)
        at[size_t(i * K + k)] = A[k * lda + i];
    A = at.data();
    lda = K;
  }
  Problem p{M, N, K, A, lda, B, transB ? 1 : ldb, transB ? ldb : 1,
            C, ldc, accumulate};
  run(p, threads);
}

GemmPackedB::GemmPackedB(int64_t K, int64_t N, const uint64_t *B,
                         int64_t ldb, bool transB, int threads)
    : K_(std::max<int64_t>(K, 0)), N_(std::max<int64_t>(N, 0)),
      isa_(gemmActiveIsa()) {
  const bool avx512 = isa_ == GemmIsa::Avx512;
  words_ = K_ > 0 && N_ > 0 ? (avx512 ? prepackedWords<Avx512Family>(K_, N_)
                                      : prepackedWords<Avx2Family>(K_, N_))
                            : 0;
  if (words_ == 0)
    return;
  size_t bytes = (words_ * sizeof(uint64_t) + 63) / 64 * 64;
  auto *mem = static_cast<uint64_t *>(std::aligned_alloc(64, bytes));
  if (!mem)
    throw std::bad_alloc();
  data_ = std::shared_ptr<const uint64_t>(mem, [](const uint64_t *q) {
    std::free(const_cast<uint64_t *>(q));
  });
  const int64_t rs = transB ? 1 : ldb, cs = transB ? ldb : 1;
  if (avx512)
    prepackAll<Avx512Family>(K_, N_, B, rs, cs, mem, threads);
  else
    prepackAll<Avx2Family>(K_, N_, B, rs, cs, mem, threads);
}

void gemmRingPacked(int64_t M, const uint64_t *A, int64_t lda,
                    const GemmPackedB &B, uint64_t *C, int64_t ldc,
                    bool accumulate, int threads) {
  Problem p{M, B.cols(), B.rows(), A, lda, nullptr, 0, 0, C, ldc, accumulate};
  if (B.rows() > 0 && B.cols() > 0 && M > 0 && !gemmIsaSupported(B.isa()))
    throw std::invalid_argument("umbra::rt::gemmRingPacked: B was packed for "
                                "an ISA this CPU lacks");
  run(p, threads, B.data_.get(), B.isa());
}

} // namespace umbra::rt
