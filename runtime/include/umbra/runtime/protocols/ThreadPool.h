//===- ThreadPool.h - The runtime's one pool of worker threads -*- C++ -*-===//
//
// Everything in the runtime that parallelises (the local GEMM, DCF key
// generation and evaluation) runs on this pool. Workers are persistent and
// the caller always works on its own job, so concurrent calls (three roles
// in one process) and nested calls cannot deadlock, and a job finishes even
// when no worker thread could be started.
//
//===----------------------------------------------------------------------===//
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace umbra::rt {

class ThreadPool {
public:
  /// The process-wide pool (created on first use, never destroyed: workers
  /// may outlive static destructors).
  static ThreadPool &shared();

  /// Runs fn(0..n-1) on up to `threads` threads (the caller included). If a
  /// call throws, the remaining calls are skipped and the first exception is
  /// rethrown here once every thread has let go of the job.
  void run(int64_t n, int threads, const std::function<void(int64_t)> &fn);

  struct Impl;

private:
  ThreadPool();
  Impl *impl_;
};

/// fn(begin, end) over [0, n) in at most hardware_concurrency contiguous
/// ranges of at least `grain` elements each (fewer when n is small).
void parallelFor(size_t n, size_t grain,
                 const std::function<void(size_t, size_t)> &fn);

} // namespace umbra::rt
