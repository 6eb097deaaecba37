//===- TestUtil.h - Run the three roles in-process over loopback ----------===//
#pragma once
#include "umbra/runtime/Session.h"
#include <exception>
#include <functional>
#include <random>
#include <thread>

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

inline Vec reconstruct(const Vec *out) {
  Vec r(out[0].size());
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = out[0][i] + out[1][i];
  return r;
}

} // namespace umbra::rt::test
