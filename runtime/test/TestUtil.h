//===- TestUtil.h - Run the three roles in-process over loopback ----------===//
#pragma once
#include "umbra/runtime/Session.h"
#include <exception>
#include <functional>
#include <random>
#include <thread>
#include <vector>

namespace umbra::rt::test {

/// Runs fn on P0, P1 and the dealer, each in its own thread with real TCP
/// channels on 127.0.0.1 (ports picked by the OS). Rethrows the first error.
inline void runParties(const std::function<void(Party &)> &fn,
                       SessionConfig base = {}) {
  Listener dl(Endpoint{"127.0.0.1", 0}), pl(Endpoint{"127.0.0.1", 0});
  std::exception_ptr errs[3];
  std::thread ts[3];
  for (int r = 0; r < 3; ++r)
    ts[r] = std::thread([&, r] {
      try {
        SessionConfig c = base;
        c.role = Role(r);
        c.p0Addr = {"127.0.0.1", pl.port()};
        c.dealerAddr = {"127.0.0.1", dl.port()};
        c.p0Listener = &pl;
        c.dealerListener = &dl;
        Session s(c);
        fn(s.party);
        s.party.flushMaterial();
        s.finish();
      } catch (...) {
        errs[r] = std::current_exception();
      }
    });
  for (auto &t : ts)
    t.join();
  for (auto &e : errs)
    if (e)
      std::rethrow_exception(e);
}

/// Runs `fn` as one instruction of its own (fresh material tag, the dealer's
/// material flushed before and after, so that it is charged to `fn`) and
/// returns what it cost this party.
template <typename F> Counters measured(Party &P, F &&fn) {
  P.flushMaterial();
  Counters before = P.ctr;
  ++P.tag;
  fn();
  P.flushMaterial();
  return P.ctr - before;
}

/// n reals uniform in [lo, hi), reproducible from `seed`.
inline std::vector<double> randomReal(size_t n, double lo, double hi,
                                      uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto &x : v)
    x = d(g);
  return v;
}

/// Chi-square (255 dof) of the top byte of every 64-bit word a party
/// received: near 255 when the words are uniform.
inline double topByteChi2(const std::vector<uint64_t> &words) {
  std::vector<double> h(256, 0);
  for (uint64_t w : words)
    h[w >> 56] += 1;
  double e = double(words.size()) / 256, chi = 0;
  for (double c : h)
    chi += (c - e) * (c - e) / e;
  return chi;
}

/// Two-sample chi-square of the top bytes of two equally long views: near
/// 255 when the views come from the same distribution (e.g. for two
/// different secrets).
inline double twoSampleTopByteChi2(const std::vector<uint64_t> &a,
                                   const std::vector<uint64_t> &b) {
  std::vector<double> h0(256, 0), h1(256, 0);
  for (uint64_t w : a)
    h0[w >> 56] += 1;
  for (uint64_t w : b)
    h1[w >> 56] += 1;
  double chi = 0;
  for (int i = 0; i < 256; ++i)
    if (h0[i] + h1[i] > 0)
      chi += (h0[i] - h1[i]) * (h0[i] - h1[i]) / (h0[i] + h1[i]);
  return chi;
}

inline Vec reconstruct(const Vec *out) {
  Vec r(out[0].size());
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = out[0][i] + out[1][i];
  return r;
}

} // namespace umbra::rt::test
