//===- Link.h - Framed TCP links with deadlines ----------------*- C++ -*-===//
//
// The link layer: framing, connect/accept, idle deadlines. Every receive has
// an idle deadline: a peer that stops sending (crashed, partitioned, or
// never connected) ends the run with an Error, never a hang. Frames are
// [u32 magic][u32 kind][u64 length][payload]; a frame with a bad magic, an
// unexpected kind or an unexpected or oversized length is refused.
//
// The link knows nothing of protocols: a frame kind is a number whose
// meaning (and name, for diagnostics) belongs to the layer above
// (protocols/Channel.h defines the protocol's message kinds).
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Error.h"
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace umbra::rt {

/// A frame's kind. The receiver names the kind it expects; the link refuses
/// any other.
using FrameKind = uint32_t;

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  static Endpoint parse(const std::string &s);
  std::string str() const { return host + ":" + std::to_string(port); }
};

/// A listening socket. Port 0 picks a free port (see port()).
class Listener {
public:
  explicit Listener(const Endpoint &ep);
  /// Adopts an already-listening socket (inherited from mpc-run --local).
  explicit Listener(int fd);
  ~Listener();
  uint16_t port() const;
  int nativeHandle() const;
  /// Accepts one connection or throws after `timeout` seconds.
  int accept(double timeoutSec, const std::string &waitingFor);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ChannelStats {
  uint64_t bytesSent = 0, bytesRecv = 0;
};

/// One framed, deadline-guarded TCP connection to a named peer.
class Link {
public:
  /// Names a frame kind in diagnostics ("expected a material frame").
  using KindName = const char *(*)(FrameKind);
  Link(const std::string &peer, double timeoutSec, KindName names = nullptr);
  virtual ~Link();
  Link(const Link &) = delete;
  Link &operator=(const Link &) = delete;

  /// Takes over a connected socket.
  void adoptSocket(int fd);
  /// Connects with retries until `deadlineSec` has passed.
  void connectTo(const Endpoint &ep, double deadlineSec);

  void sendFrame(FrameKind t, const void *data, size_t n);
  /// Receives one frame of kind t whose payload must be exactly n bytes.
  void recvFrameExact(FrameKind t, void *data, size_t n);
  /// Receives one frame of kind t of any length up to maxLen.
  std::vector<uint8_t> recvFrame(FrameKind t, size_t maxLen);
  /// Receives one frame of 64-bit words (length must be a multiple of 8).
  void recvFrameWords(FrameKind t, std::vector<uint64_t> &out, size_t maxWords);
  /// Sends and receives concurrently (both ends call it symmetrically).
  void exchangeFrames(FrameKind t, const void *out, size_t n, void *in,
                      size_t m);

  const std::string &peerName() const { return peer_; }
  ChannelStats stats;
  void setTimeout(double s) { timeoutSec_ = s; }
  void close();

protected:
  /// Called with every received payload (the layer above's test hook).
  virtual void received(FrameKind, const uint8_t *, size_t) {}

private:
  void recvSized(FrameKind t, size_t maxLen, size_t unit,
                 const std::function<uint8_t *(size_t)> &alloc);
  std::string kindName(FrameKind t) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string peer_;
  double timeoutSec_;
  KindName names_;
};

} // namespace umbra::rt
