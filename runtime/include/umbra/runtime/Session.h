//===- Session.h - Connecting the three roles ------------------*- C++ -*-===//
//
// Topology: the dealer listens for P0 and P1; P0 listens for P1. Every
// connection starts with a handshake that compares the program hash, the
// protocol and instruction-set versions and the fixed-point parameters;
// a mismatch ends the run on both sides with a message naming the
// difference. The dealer then sends each party its PRG seed.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Protocols.h"
#include <array>
#include <memory>

namespace umbra::rt {

struct SessionConfig {
  Role role = Role::P0;
  Endpoint p0Addr, dealerAddr;
  /// Already-listening sockets (in-process tests / mpc-run --local); when
  /// null the role listens on its address itself.
  Listener *p0Listener = nullptr, *dealerListener = nullptr;
  double connectTimeout = 10; // seconds to wait for peers to show up
  double ioTimeout = 30;      // seconds without progress on a receive
  std::array<uint8_t, 32> programHash{};
  int fracBits = 16;
  Cmp cmp = Cmp::Dcf;
  /// Test hook: advertise this protocol version instead of ours.
  uint32_t protocolVersion = kProtocolVersion;
};

class Session {
public:
  explicit Session(const SessionConfig &cfg);
  ~Session();
  Party party;
  /// P0<->P1, dealer<->P0, dealer<->P1 (whichever this role has).
  std::unique_ptr<Channel> peer, dealerP0, dealerP1;
  /// Clean shutdown: parties tell each other and the dealer they are done;
  /// the dealer waits for both, so a party that fails late makes the
  /// dealer fail too.
  void finish();

private:
  void handshake(Channel &c, Role expect);
  SessionConfig cfg_;
  std::unique_ptr<Listener> ownListener_;
};

} // namespace umbra::rt
