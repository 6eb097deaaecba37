//===- Party.cpp - Roles and the peer channel -----------------------------===//
#include "umbra/runtime/protocols/Party.h"
#include "umbra/runtime/EnumName.h"

#include <iterator>

namespace umbra::rt {

const char *roleName(Role r) {
  static const char *const kNames[] = {"p0", "p1", "dealer", "client"};
  static_assert(std::size(kNames) == size_t(Role::Client) + 1);
  return enumName(kNames, size_t(r));
}

std::optional<Role> roleNamed(const std::string &name) {
  for (Role r : {Role::P0, Role::P1, Role::Dealer, Role::Client})
    if (name == roleName(r))
      return r;
  return std::nullopt;
}

Party::Party(Role r, int f) : PartyState(r, f) {}

Vec PeerChannel::exchange(const Vec &mine) {
  if (S_.dealer())
    return Vec(mine.size(), 0);
  Channel &c = *S_.peer;
  Vec theirs(mine.size());
  uint64_t s0 = c.stats.bytesSent, r0 = c.stats.bytesRecv;
  c.exchange(FrameType::Open, mine.data(), mine.size() * 8, theirs.data(),
             theirs.size() * 8);
  S_.ctr.sent += c.stats.bytesSent - s0;
  S_.ctr.recv += c.stats.bytesRecv - r0;
  S_.ctr.rounds += 1;
  return theirs;
}

Vec PeerChannel::open(const Vec &share) {
  Vec t = exchange(share);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] += share[i];
  return t;
}

Vec PeerChannel::openBits(const Vec &share) {
  Vec t = exchange(share);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] ^= share[i];
  return t;
}

Vec PeerChannel::oneWay(FrameType t, bool sending, const Vec &words, size_t n) {
  if (S_.dealer())
    return {};
  Channel &c = *S_.peer;
  uint64_t s0 = c.stats.bytesSent, r0 = c.stats.bytesRecv;
  Vec got;
  if (sending) {
    c.send(t, words.data(), words.size() * 8);
  } else {
    got.resize(n);
    c.recvExact(t, got.data(), n * 8);
  }
  S_.ctr.sent += c.stats.bytesSent - s0;
  S_.ctr.recv += c.stats.bytesRecv - r0;
  S_.ctr.rounds += 1;
  return got;
}

} // namespace umbra::rt
