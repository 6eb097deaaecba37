//===- Session.h - Connecting the three roles ------------------*- C++ -*-===//
//
// Topology: the dealer listens for P0 and P1; P0 listens for P1. With TLS
// every link is mutual TLS 1.3 and a peer's role is the one its certificate
// is bound to (net/Link.h); without TLS (loopback or --insecure only) the
// role is the one the peer's hello declares. Then a hello compares the
// program hash, the protocol and instruction-set versions and the
// fixed-point parameters; a mismatch with an identified peer ends the run
// on both sides with a message naming the difference. A connection that
// fails before that (no TLS, a certificate from another CA or for another
// role, garbage, silence) is dropped with a notice and the listener keeps
// waiting until the connect deadline. The dealer then sends each party its
// PRG seed, inside the (TLS) link.
//
// While the parties compute, each sends the dealer an empty keep-alive
// frame at least every ioTimeout/4, so every role notices a hung peer
// within about ioTimeout.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Protocols.h"
#include <array>
#include <chrono>
#include <functional>
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
  /// Inferences, or tokens generated, in this session: public, and the
  /// same at every role (checked in the handshake).
  int32_t runs = 1;
  /// This role's TLS identity (its certificate must be bound to `role`);
  /// null: plaintext, refused unless every address is loopback or
  /// `insecure` is set.
  std::shared_ptr<TlsContext> tls;
  bool insecure = false;
  /// One-line notices: each link's security once it is up, each refused
  /// connection. Null: silent.
  std::function<void(const std::string &)> log;
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
  /// Party: sends the dealer a keep-alive if none went for ioTimeout/4.
  /// Called after every transfer on the party's links; call it also between
  /// long local computations (mpc-run does, per instruction).
  void keepAlive();
  /// This role's links, one line each: "p1 at 127.0.0.1:5555: TLS 1.3
  /// (TLS_AES_256_GCM_SHA384), peer p1 verified".
  std::vector<std::string> describeLinks() const;

private:
  /// Accepts connections on `l` until every role in `want` is identified
  /// (by certificate with TLS, else by hello), calling `up` for each as soon
  /// as it is. Each connection is identified on its own thread, so silent
  /// or slow strangers never hold up the real peers; strangers are dropped.
  void acceptPeers(Listener &l, std::vector<Role> want,
                   const std::function<void(Role, std::unique_ptr<Channel>)> &up);
  std::unique_ptr<Channel> dial(const Endpoint &ep, Role want);
  void linkUp(const Channel &c, Role r);
  void note(const std::string &s) const {
    if (cfg_.log)
      cfg_.log(s);
  }
  SessionConfig cfg_;
  std::unique_ptr<Listener> ownListener_;
  std::chrono::steady_clock::time_point lastAlive_;
};

} // namespace umbra::rt
