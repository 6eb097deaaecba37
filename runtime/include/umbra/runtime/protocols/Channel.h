//===- Channel.h - The protocol's message kinds over a link ----*- C++ -*-===//
//
// The session layer above net/Link.h: the kinds of message the three roles
// exchange, and a Channel that sends and receives them by kind. Everything
// about framing, deadlines and faults is the link's.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/net/Link.h"

namespace umbra::rt {

/// Compared in the handshake; bump when a message layout changes.
/// 2: the role comes from the certificate or the hello (no role frame);
/// keep-alive frames. 3: the hello carries the session length (runs). 4:
/// the hello carries a serving-mode session id; the thin client's role.
constexpr uint32_t kProtocolVersion = 4;

/// Message kinds of the 2PC + dealer protocol.
enum class FrameType : uint32_t {
  Hello = 1,    // handshake
  Open = 2,     // P0 <-> P1: masked openings (one per round)
  Material = 3, // dealer -> party: correlated randomness of one instruction
  Share = 4,    // P0 <-> P1: input shares
  Reveal = 5,   // P0 <-> P1: one-sided reveal
  Done = 6,     // clean shutdown
  Seed = 7,     // dealer -> party: the party's PRG seed
  Alive = 8,    // party -> dealer: keep-alive (empty; skipped by receives)
};
const char *frameTypeName(FrameKind t);

class Channel : public Link {
public:
  /// Connects with retries until `deadlineSec` has passed.
  static std::unique_ptr<Channel> connect(const Endpoint &ep,
                                          double deadlineSec,
                                          const std::string &peerName,
                                          double timeoutSec);
  static std::unique_ptr<Channel> adopt(int fd, const std::string &peerName,
                                        double timeoutSec);

  void send(FrameType t, const void *data, size_t n) {
    sendFrame(FrameKind(t), data, n);
  }
  /// Receives one message of kind t whose payload must be exactly n bytes.
  void recvExact(FrameType t, void *data, size_t n) {
    recvFrameExact(FrameKind(t), data, n);
  }
  /// Receives one message of kind t of any length up to maxLen.
  std::vector<uint8_t> recv(FrameType t, size_t maxLen = size_t(1) << 36) {
    return recvFrame(FrameKind(t), maxLen);
  }
  /// Receives one message of 64-bit words.
  void recvWords(FrameType t, std::vector<uint64_t> &out,
                 size_t maxWords = size_t(1) << 33) {
    recvFrameWords(FrameKind(t), out, maxWords);
  }
  /// Sends and receives concurrently (both ends call it symmetrically).
  void exchange(FrameType t, const void *out, size_t n, void *in, size_t m) {
    exchangeFrames(FrameKind(t), out, n, in, m);
  }

  /// Test hook: called with every received payload.
  std::function<void(FrameType, const uint8_t *, size_t)> onRecv;

private:
  Channel(const std::string &peer, double timeoutSec)
      : Link(peer, timeoutSec, frameTypeName) {
    setKeepAliveKind(FrameKind(FrameType::Alive));
  }
  void received(FrameKind t, const uint8_t *d, size_t n) override {
    if (onRecv)
      onRecv(FrameType(t), d, n);
  }
};

} // namespace umbra::rt
