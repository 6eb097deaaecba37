//===- GemmBench.cpp - gemmRing vs Eigen float64 / int64 ------------------===//
//
// For each transformer shape (M×K · K×N) and thread count (1, 2):
//   BM_Ring/...     gemmRing over Z_2^64 (avx512:0 = AVX2 kernels, 1 =
//                   AVX-512 kernels; skipped if the CPU lacks AVX-512), with
//                   the Eigen double product of the same shape interleaved in
//                   the same iterations, so both see the same background
//                   load. Reported time is gemmRing's; counters: f64_ms,
//                   ring_over_f64 = Σ t_ring / Σ t_f64, and packed_ms /
//                   packed_over_f64 for gemmRingPacked with B packed once
//                   (GemmPackedB, built outside the timed loop), also
//                   interleaved; *_cpu: the same ratios in process CPU time.
//   BM_EigenF64/... Eigen::Matrix<double, RowMajor> product alone
//   BM_EigenI64/... Eigen::Matrix<int64_t, RowMajor> product alone
// GFLOPS counters count 2·M·N·K operations per product for every kernel
// ("GFLOP/s-equivalent" for the integer products). Eigen runs with
// Eigen::setNbThreads(thr) (OpenMP), gemmRing with threads = thr.
//
// Run: bench-gemm --benchmark_repetitions=3 --benchmark_report_aggregates_only
//
//===----------------------------------------------------------------------===//

#include "umbra/runtime/Gemm.h"

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The Eigen product c = a · b of one element type, its operands converted
/// from the ring inputs.
template <typename T> struct EigenProduct {
  RowMat<T> a, b, c;
  void init(int64_t M, int64_t K, int64_t N, const std::vector<uint64_t> &ra,
            const std::vector<uint64_t> &rb, T (*convert)(uint64_t)) {
    a.resize(M, K), b.resize(K, N), c.setZero(M, N);
    for (int64_t i = 0; i < M * K; ++i)
      a.data()[i] = convert(ra[i]);
    for (int64_t i = 0; i < K * N; ++i)
      b.data()[i] = convert(rb[i]);
  }
  void run() { c.noalias() = a * b; }
};

struct Inputs {
  int64_t M, K, N;
  std::vector<uint64_t> a, b, c;
  EigenProduct<double> f64;
  EigenProduct<int64_t> i64;
};

/// Inputs are generated once per shape (the 1×768·768×50257 B is 300 MB).
Inputs &inputs(int64_t M, int64_t K, int64_t N) {
  static std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<Inputs>>
      cache;
  auto &slot = cache[{M, K, N}];
  if (!slot) {
    slot = std::make_unique<Inputs>();
    Inputs &in = *slot;
    in.M = M, in.K = K, in.N = N;
    std::mt19937_64 rng(M * 1000003 + K * 1009 + N);
    in.a.resize(M * K);
    in.b.resize(K * N);
    in.c.assign(M * N, 0);
    for (auto &x : in.a)
      x = rng();
    for (auto &x : in.b)
      x = rng();
    in.f64.init(M, K, N, in.a, in.b,
                [](uint64_t w) { return double(w >> 40); });
    in.i64.init(M, K, N, in.a, in.b, [](uint64_t w) { return int64_t(w); });
  }
  return *slot;
}

double processCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void setRate(benchmark::State &st, const Inputs &in) {
  // With UseRealTime, rates are per wall-clock second.
  st.counters["GFLOPS"] = benchmark::Counter(
      2e-9 * double(in.M) * double(in.N) * double(in.K),
      benchmark::Counter::kIsIterationInvariantRate);
}

/// Eigen's product alone, of the inputs' `product` (f64 or i64).
/// Args: M, K, N, threads.
template <typename T>
void eigenAlone(benchmark::State &st, EigenProduct<T> Inputs::*product) {
  Inputs &in = inputs(st.range(0), st.range(1), st.range(2));
  EigenProduct<T> &p = in.*product;
  Eigen::setNbThreads(int(st.range(3)));
  for (auto _ : st) {
    p.run();
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  setRate(st, in);
}

void BM_EigenF64(benchmark::State &st) { eigenAlone(st, &Inputs::f64); }
void BM_EigenI64(benchmark::State &st) { eigenAlone(st, &Inputs::i64); }

// Args: M, K, N, threads, isa (0 = AVX2, 1 = AVX-512).
void BM_Ring(benchmark::State &st) {
  using umbra::rt::GemmIsa;
  GemmIsa isa = st.range(4) ? GemmIsa::Avx512 : GemmIsa::Avx2;
  if (!umbra::rt::gemmIsaSupported(isa)) {
    st.SkipWithError("ISA not supported on this CPU");
    for (auto _ : st) {
    }
    return;
  }
  GemmIsa saved = umbra::rt::detail::setGemmIsa(isa);
  Inputs &in = inputs(st.range(0), st.range(1), st.range(2));
  int threads = int(st.range(3));
  Eigen::setNbThreads(threads);
  // The same right operand packed once (constant-weight Beaver products).
  umbra::rt::GemmPackedB packedB(in.K, in.N, in.b.data(), in.N, false,
                                 threads);
  using Clock = std::chrono::steady_clock;
  double ring = 0, f64 = 0, packed = 0;
  double ringCpu = 0, f64Cpu = 0, packedCpu = 0;
  for (auto _ : st) {
    double c0 = processCpuSeconds();
    auto t0 = Clock::now();
    umbra::rt::gemmRing(in.M, in.N, in.K, in.a.data(), in.K, in.b.data(),
                        in.N, in.c.data(), in.N, false, threads);
    benchmark::ClobberMemory();
    auto t1 = Clock::now();
    double c1 = processCpuSeconds();
    in.f64.run();
    benchmark::ClobberMemory();
    auto t2 = Clock::now();
    double c2 = processCpuSeconds();
    umbra::rt::gemmRingPacked(in.M, in.a.data(), in.K, packedB, in.c.data(),
                              in.N, false, threads);
    benchmark::ClobberMemory();
    auto t3 = Clock::now();
    double c3 = processCpuSeconds();
    double r = std::chrono::duration<double>(t1 - t0).count();
    ring += r;
    f64 += std::chrono::duration<double>(t2 - t1).count();
    packed += std::chrono::duration<double>(t3 - t2).count();
    ringCpu += c1 - c0;
    f64Cpu += c2 - c1;
    packedCpu += c3 - c2;
    st.SetIterationTime(r);
  }
  umbra::rt::detail::setGemmIsa(saved);
  double flops = 2.0 * double(in.M) * double(in.N) * double(in.K);
  double iters = double(st.iterations());
  st.counters["GFLOPS"] = ring > 0 ? 1e-9 * flops * iters / ring : 0;
  st.counters["f64_ms"] = iters > 0 ? 1e3 * f64 / iters : 0;
  st.counters["f64_GFLOPS"] = f64 > 0 ? 1e-9 * flops * iters / f64 : 0;
  st.counters["ring_over_f64"] = f64 > 0 ? ring / f64 : 0;
  st.counters["packed_ms"] = iters > 0 ? 1e3 * packed / iters : 0;
  st.counters["packed_over_f64"] = f64 > 0 ? packed / f64 : 0;
  // CPU-time ratios (all threads of the process): on a loaded machine a
  // product longer than a scheduler time slice gets descheduled mid-run, so
  // wall-clock ratios are biased against the slower kernel; with thr = 1
  // these are the cleaner comparison.
  st.counters["ring_over_f64_cpu"] = f64Cpu > 0 ? ringCpu / f64Cpu : 0;
  st.counters["packed_over_f64_cpu"] = f64Cpu > 0 ? packedCpu / f64Cpu : 0;
}

const int64_t kShapes[][3] = {{32, 768, 3072},
                              {128, 768, 768},
                              {32, 768, 768},
                              {32, 3072, 768},
                              {1, 768, 50257}};

void eigenShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"M", "K", "N", "thr"});
  for (int64_t thr : {1, 2})
    for (auto &x : kShapes)
      b->Args({x[0], x[1], x[2], thr});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void ringShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"M", "K", "N", "thr", "avx512"});
  for (int64_t thr : {1, 2})
    for (auto &x : kShapes)
      for (int64_t isa : {0, 1})
        b->Args({x[0], x[1], x[2], thr, isa});
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Ring)->Apply(ringShapes)->UseManualTime();
BENCHMARK(BM_EigenF64)->Apply(eigenShapes);
BENCHMARK(BM_EigenI64)->Apply(eigenShapes);

} // namespace

int main(int argc, char **argv) {
  // libgomp reads OMP_WAIT_POLICY at load time; with its default (spinning)
  // idle Eigen threads would steal a core from gemmRing in BM_Ratio, so
  // re-exec once with a passive wait policy unless the caller chose one.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
