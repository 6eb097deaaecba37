//===- ThreadPool.cpp - Persistent workers; the caller participates -------===//
#include "umbra/runtime/protocols/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace umbra::rt {

struct ThreadPool::Impl {
  void run(int64_t n, int threads, const std::function<void(int64_t)> &fn) {
    if (n <= 0)
      return;
    if (threads <= 1 || n == 1) {
      for (int64_t i = 0; i < n; ++i)
        fn(i);
      return;
    }
    Job job;
    job.fn = &fn;
    job.n = n;
    job.helpersWanted = int(std::min<int64_t>(threads - 1, n - 1));
    {
      std::lock_guard<std::mutex> lk(mu_);
      ensureWorkers(job.helpersWanted);
      jobs_.push_back(&job);
    }
    // Wake only the helpers this job wants (DCF runs one small job per tree
    // level; waking the whole pool each time is wasted work).
    for (int i = 0; i < job.helpersWanted; ++i)
      workCv_.notify_one();
    work(job);
    std::unique_lock<std::mutex> lk(mu_);
    auto it = std::find(jobs_.begin(), jobs_.end(), &job);
    if (it != jobs_.end())
      jobs_.erase(it);
    doneCv_.wait(lk, [&] {
      return job.done.load(std::memory_order_acquire) == job.n &&
             job.active == 0;
    });
    if (job.error)
      std::rethrow_exception(job.error);
  }

  struct Job {
    const std::function<void(int64_t)> *fn = nullptr;
    int64_t n = 0;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    int helpersWanted = 0;
    int helpers = 0; // guarded by mu_
    int active = 0;  // guarded by mu_
    std::atomic<bool> failed{false};
    std::mutex errorMu;
    std::exception_ptr error; // first exception, guarded by errorMu
  };

  static void work(Job &job) {
    for (;;) {
      int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.n)
        return;
      if (!job.failed.load(std::memory_order_relaxed)) {
        try {
          (*job.fn)(i);
        } catch (...) {
          std::lock_guard<std::mutex> lk(job.errorMu);
          if (!job.error)
            job.error = std::current_exception();
          job.failed.store(true, std::memory_order_relaxed);
        }
      }
      job.done.fetch_add(1, std::memory_order_release);
    }
  }

  void ensureWorkers(int wanted) {
    constexpr int kMaxWorkers = 255;
    wanted = std::min(wanted, kMaxWorkers);
    try {
      while (int(workers_.size()) < wanted)
        workers_.emplace_back([this] { workerLoop(); });
    } catch (const std::system_error &) {
      // Cannot start more threads: the caller (and existing workers) do the
      // work; correctness does not depend on helpers showing up.
    }
  }

  void workerLoop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      workCv_.wait(lk, [&] { return !jobs_.empty(); });
      Job *job = jobs_.front();
      ++job->active;
      if (++job->helpers >= job->helpersWanted)
        jobs_.pop_front();
      lk.unlock();
      work(*job);
      lk.lock();
      if (--job->active == 0)
        doneCv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable workCv_, doneCv_;
  std::deque<Job *> jobs_;
  std::vector<std::thread> workers_;
};

ThreadPool::ThreadPool() : impl_(new Impl()) {}

ThreadPool &ThreadPool::shared() {
  static ThreadPool *pool = new ThreadPool(); // leaked, see the header
  return *pool;
}

void ThreadPool::run(int64_t n, int threads,
                     const std::function<void(int64_t)> &fn) {
  impl_->run(n, threads, fn);
}

void parallelFor(size_t n, size_t grain,
                 const std::function<void(size_t, size_t)> &fn) {
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  size_t T = std::min<size_t>(hw, n / std::max<size_t>(grain, 1) + 1);
  if (T <= 1) {
    fn(size_t(0), n);
    return;
  }
  size_t chunk = (n + T - 1) / T;
  ThreadPool::shared().run(int64_t(T), int(T), [&](int64_t t) {
    fn(std::min(n, size_t(t) * chunk), std::min(n, size_t(t + 1) * chunk));
  });
}

} // namespace umbra::rt
