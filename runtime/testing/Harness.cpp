//===- Harness.cpp - The three roles in one process over loopback ---------===//
#include "umbra/runtime/testing/Harness.h"
#include "umbra/runtime/Program.h"

#include <exception>
#include <random>
#include <thread>

namespace umbra::rt::test {

/// Runs fn(0), ..., fn(n - 1) on threads of their own and rethrows the
/// first error once all have ended.
static void runThreads(int n, const std::function<void(int)> &fn) {
  std::vector<std::exception_ptr> errs(n);
  std::vector<std::thread> ts;
  for (int r = 0; r < n; ++r)
    ts.emplace_back([&, r] {
      try {
        fn(r);
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

void runSessions(const std::function<void(Session &)> &fn, SessionConfig base) {
  Listener dl(Endpoint{"127.0.0.1", 0}), pl(Endpoint{"127.0.0.1", 0});
  runThreads(3, [&](int r) {
    SessionConfig c = base;
    c.role = Role(r);
    c.p0Addr = {"127.0.0.1", pl.port()};
    c.dealerAddr = {"127.0.0.1", dl.port()};
    c.p0Listener = &pl;
    c.dealerListener = &dl;
    Session s(c);
    fn(s);
    s.party.flushMaterial();
    s.finish();
  });
}

void runOutsourced(const std::function<void(Session &)> &server,
                   const std::function<void(Session &)> &client,
                   SessionConfig base) {
  Listener dl(Endpoint{"127.0.0.1", 0}), pl(Endpoint{"127.0.0.1", 0}),
      cl(Endpoint{"127.0.0.1", 0});
  base.p0Addr = {"127.0.0.1", pl.port()};
  base.dealerAddr = {"127.0.0.1", dl.port()};
  base.p1Addr = {"127.0.0.1", cl.port()};
  runThreads(4, [&](int r) {
    SessionConfig c = base;
    c.role = Role(r);
    if (c.role == Role::Client) {
      Session s(c);
      client(s);
      return;
    }
    Listener &l = c.role == Role::P0 ? pl : c.role == Role::P1 ? cl : dl;
    Switchboard board(l, c);
    auto mt = board.meet(c.connectTimeout);
    UMBRA_CHECK(mt, roleName(c.role), ": no session came");
    c.session = mt->id;
    c.runs = mt->runs.begin()->second;
    Session s(c, std::move(mt->links));
    server(s);
    s.party.flushMaterial();
    s.finish();
  });
}

void runParties(const std::function<void(Party &)> &fn, SessionConfig base) {
  runSessions([&](Session &s) { fn(s.party); }, base);
}

GateRun
runGate(const std::vector<Input> &inputs,
        const std::function<Vec(Party &, const std::vector<Vec> &)> &gate,
        SessionConfig cfg) {
  Vec outs[3];
  GateRun r;
  runParties(
      [&](Party &P) {
        std::vector<Vec> shares;
        for (const Input &in : inputs)
          shares.push_back(shareInput(P, in.owner, in.plain, in.plain.size()));
        r.c[int(P.role)] =
            measured(P, [&] { outs[int(P.role)] = gate(P, shares); });
      },
      cfg);
  r.out = reconstruct(outs);
  return r;
}

std::vector<double> randomReal(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto &x : v)
    x = d(g);
  return v;
}

Vec randomFixed(size_t n, double lo, double hi, int frac, uint64_t seed) {
  std::vector<double> r = randomReal(n, lo, hi, seed);
  Vec v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = encodeFixed(r[i], frac);
  return v;
}

Vec reconstruct(const Vec *out) {
  Vec r(out[0].size());
  for (size_t i = 0; i < r.size(); ++i)
    r[i] = out[0][i] + out[1][i];
  return r;
}

} // namespace umbra::rt::test
