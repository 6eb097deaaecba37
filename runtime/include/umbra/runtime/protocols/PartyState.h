//===- PartyState.h - What a role is and what it has spent -----*- C++ -*-===//
//
// The state shared by a party's material provider, its peer channel, the
// gates and the executor: role, fractional bits, links, counters.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Prg.h"
#include "umbra/runtime/protocols/Channel.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace umbra::rt {

/// The compute servers P0 and P1, the dealer, and the thin client of the
/// outsourced mode (docs/serving.md).
enum class Role : int { P0 = 0, P1 = 1, Dealer = 2, Client = 3 };
const char *roleName(Role r);
/// The role named `name` ("p0", "p1", "dealer", "client"), if any.
std::optional<Role> roleNamed(const std::string &name);

using Vec = std::vector<uint64_t>;

struct Counters {
  uint64_t sent = 0, recv = 0, rounds = 0, dealerBytes = 0;
};

/// What was spent between two readings of a party's counters.
inline Counters operator-(Counters a, const Counters &b) {
  a.sent -= b.sent;
  a.recv -= b.recv;
  a.rounds -= b.rounds;
  a.dealerBytes -= b.dealerBytes;
  return a;
}

/// What a party is and what it has spent: read by the material provider,
/// the peer channel, the gates and the executor.
struct PartyState {
  PartyState(Role r, int f) : role(r), frac(f) {}
  Role role;
  int frac;
  bool dealer() const { return role == Role::Dealer; }
  bool p0() const { return role == Role::P0; }

  /// Who holds the client's values in plaintext: P0 in the two-party mode,
  /// the thin client in the outsourced mode. The client's inputs, its
  /// private instructions, its shares and the reveals to it go there.
  Role clientHolder = Role::P0;
  bool outsourced() const { return clientHolder == Role::Client; }
  /// Outsourced mode: P0's and P1's link to the thin client; at the client,
  /// its links to P0 and P1.
  Channel *client = nullptr;
  Channel *server[2] = {nullptr, nullptr};
  /// Outsourced mode, the client and P1: the stream that masks the
  /// client's input shares (P1's share is the mask itself, so only P0
  /// receives words: x - mask).
  Prg clientMask;

  /// P0<->P1 channel (parties only).
  Channel *peer = nullptr;
  /// Material channel from the dealer (P0, P1); on the dealer: to P1.
  Channel *material = nullptr;
  /// Dealer only: material channel to P0 (DCF correction words).
  Channel *material0 = nullptr;

  Counters ctr;
  /// Seconds spent waiting for dealer material (offline work in a real
  /// deployment, where the dealer runs ahead).
  double materialWait = 0;
  uint64_t tag = 0; // instruction counter, checked in material frames
};

} // namespace umbra::rt
