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
// The serving mode (docs/serving.md): P0, P1 and the dealer connect once as
// above for the deployment, then keep a Switchboard on their listeners (P1
// gets one for clients). A thin client picks a random session id and dials
// P0 and P1; each server, once its client has come, connects the session's
// own links (P1 dials P0, each party dials the dealer, all with the id),
// so every session has its own links, seeds and material streams.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Protocols.h"
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace umbra::rt {

/// A serving-mode session's id, chosen at random by its client; all zero
/// for a deployment's links and for the one-off modes.
using SessionId = std::array<uint8_t, 16>;
std::string sessionName(const SessionId &id); // first 8 hex digits

struct SessionConfig {
  Role role = Role::P0;
  /// P1's address is the one its clients dial (the outsourced mode).
  Endpoint p0Addr, p1Addr, dealerAddr;
  /// Already-listening sockets (in-process tests / mpc-run --local); when
  /// null the role listens on its address itself.
  Listener *p0Listener = nullptr, *dealerListener = nullptr;
  double connectTimeout = 10; // seconds to wait for peers to show up
  double ioTimeout = 30;      // seconds without progress on a receive
  std::array<uint8_t, 32> programHash{};
  int fracBits = 16;
  Cmp cmp = Cmp::Dcf;
  /// Inferences, or tokens generated, in this session: public, and the
  /// same at every role (checked in the handshake). 0: a server of the
  /// serving mode, whose sessions each bring their own.
  int32_t runs = 1;
  /// The serving-mode session these links belong to (zero: none).
  SessionId session{};
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

/// The links of a serving-mode session that came to this role's
/// switchboard (by role); the session dials the others itself.
using ArrivedLinks = std::map<Role, std::unique_ptr<Channel>>;

class Session {
public:
  /// The two-party mode (dealer, P0, P1: all links made here), and the
  /// thin client of the outsourced mode (it dials P0 and P1 with
  /// cfg.session, or with a fresh random id when that is zero).
  explicit Session(const SessionConfig &cfg);
  /// A serving-mode session at a server: `arrived` holds the links its
  /// switchboard identified for cfg.session (the client's at P0 and P1,
  /// P1's at P0, both parties' at the dealer); the rest are dialled.
  Session(const SessionConfig &cfg, ArrivedLinks arrived);
  ~Session();
  Party party;
  /// P0<->P1, dealer<->P0, dealer<->P1 (whichever this role has).
  std::unique_ptr<Channel> peer, dealerP0, dealerP1;
  /// The outsourced mode: the client's link (at P0 and P1), or the
  /// client's links to P0 and P1.
  std::unique_ptr<Channel> client, server0, server1;
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
  const SessionConfig &config() const { return cfg_; }

private:
  friend class Switchboard;
  void wireParty();  // party's links and keep-alive hooks
  void joinDealer(); // a party: dial the dealer, take the seed
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

/// The serving mode's front door: for as long as it lives it accepts
/// connections on a listener, identifies each on its own thread (TLS
/// certificate, hello: the same program, protocol and parameters, a
/// session id) and files it by session id. Strangers, mismatches and a
/// second link of a role to the same session are refused with a notice;
/// links whose session does not fill up within the connect timeout are
/// dropped. Nothing a peer does ends the server.
class Switchboard {
public:
  /// The links a serving-mode session brings to a server of role
  /// `cfg.role`: the client's and P1's to P0, the client's to P1, both
  /// parties' to the dealer. Only those roles may connect here.
  Switchboard(Listener &l, const SessionConfig &cfg);
  static std::vector<Role> linksOf(Role server);
  ~Switchboard();
  struct Meeting {
    SessionId id{};
    /// Each link's hello: the session length it asks for.
    std::map<Role, int32_t> runs;
    ArrivedLinks links;
  };
  /// Waits up to `sec` for a session whose links have all arrived.
  std::optional<Meeting> meet(double sec);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace umbra::rt
