//===- Harness.h - The three roles in one process over loopback -*- C++ -*-===//
//
// The one local harness of the runtime's tests and benchmarks: the dealer,
// P0 and P1 each run in a thread of their own with a real Session (TCP on
// 127.0.0.1, ports picked by the OS), so handshakes, framing, deadlines and
// material streaming are the production code paths. Library
// umbra_runtime_testing (runtime/testing/Harness.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Session.h"
#include <functional>
#include <vector>

namespace umbra::rt::test {

/// Runs fn on the dealer, P0 and P1 (base's role and addresses are filled
/// in per role). After fn the dealer's last material is flushed and the
/// session finished. Rethrows the first error of any role once all three
/// threads have ended.
void runSessions(const std::function<void(Session &)> &fn,
                 SessionConfig base = {});

/// The outsourced mode in one process, connected as the serving mode
/// connects (docs/serving.md): the dealer, P0 and P1 each accept on a
/// Switchboard; a thin client dials P0 and P1 with a fresh session id.
/// `server` runs on the three servers' sessions, `client` on the client's;
/// then the servers finish. Rethrows the first error of any role.
void runOutsourced(const std::function<void(Session &)> &server,
                   const std::function<void(Session &)> &client,
                   SessionConfig base = {});

/// runSessions for gate-level code that needs only the party.
void runParties(const std::function<void(Party &)> &fn,
                SessionConfig base = {});

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

/// A plaintext input and the role that owns it.
struct Input {
  Role owner;
  Vec plain;
};
/// What a gate computed (P0's and P1's output shares added up) and what it
/// cost each role (indexed by int(Role)).
struct GateRun {
  Vec out;
  Counters c[3];
};
/// Shares every input from its owner (in order), then runs `gate` on the
/// shares as one measured instruction on all three roles.
GateRun
runGate(const std::vector<Input> &inputs,
        const std::function<Vec(Party &, const std::vector<Vec> &)> &gate,
        SessionConfig cfg = {});

/// n reals uniform in [lo, hi), reproducible from `seed`.
std::vector<double> randomReal(size_t n, double lo, double hi, uint64_t seed);
/// The same, encoded at `frac` fractional bits.
Vec randomFixed(size_t n, double lo, double hi, int frac, uint64_t seed);

/// The value shared as out[0] (P0's share) and out[1] (P1's).
Vec reconstruct(const Vec *out);

} // namespace umbra::rt::test
