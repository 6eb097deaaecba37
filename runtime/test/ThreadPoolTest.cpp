//===- ThreadPoolTest.cpp - The runtime's one worker pool -----------------===//
#include "umbra/runtime/protocols/ThreadPool.h"
#include <atomic>
#include <gtest/gtest.h>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace umbra::rt;

namespace {

TEST(ThreadPool, ParallelForCoversEveryElementOnce) {
  for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(50000)}) {
    std::vector<std::atomic<int>> hits(n);
    parallelFor(n, 1000, [&](size_t b, size_t e) {
      ASSERT_LE(b, e);
      for (size_t i = b; i < e; ++i)
        hits[i].fetch_add(1);
    });
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
  }
}

TEST(ThreadPool, FirstErrorReachesTheCaller) {
  std::atomic<int> ran{0};
  EXPECT_THROW(ThreadPool::shared().run(64, 4,
                                        [&](int64_t i) {
                                          ran.fetch_add(1);
                                          if (i == 3)
                                            throw std::runtime_error("x");
                                        }),
               std::runtime_error);
  EXPECT_GE(ran.load(), 1);
  // The pool is still usable afterwards.
  std::atomic<int64_t> sum{0};
  ThreadPool::shared().run(100, 4, [&](int64_t i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(ThreadPool, ConcurrentAndNestedCallsFinish) {
  // Three callers at once (the three roles of a local run), each nesting a
  // second level: the caller always works on its own job, so no deadlock.
  std::atomic<int64_t> total{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&] {
      ThreadPool::shared().run(8, 3, [&](int64_t) {
        ThreadPool::shared().run(16, 3, [&](int64_t) { total.fetch_add(1); });
      });
    });
  for (auto &t : ts)
    t.join();
  EXPECT_EQ(total.load(), 3 * 8 * 16);
}

} // namespace
