//===- Transport.h - Framed TCP channels with deadlines --------*- C++ -*-===//
//
// Every receive has an idle deadline: a peer that stops sending (crashed,
// partitioned, or never connected) ends the run with an Error, never a hang.
// Frames are [u32 magic][u32 type][u64 length][payload]; a frame with a bad
// magic, an unexpected type or an unexpected or oversized length is refused.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Error.h"
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace umbra::rt {

constexpr uint32_t kProtocolVersion = 1;

enum class FrameType : uint32_t {
  Hello = 1,
  Open = 2,
  Material = 3,
  Share = 4,
  Reveal = 5,
  Done = 6,
  Seed = 7,
};

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

class Channel {
public:
  /// Connects with retries until `deadlineSec` has passed.
  static std::unique_ptr<Channel> connect(const Endpoint &ep,
                                          double deadlineSec,
                                          const std::string &peerName,
                                          double timeoutSec);
  static std::unique_ptr<Channel> adopt(int fd, const std::string &peerName,
                                        double timeoutSec);
  ~Channel();

  void send(FrameType t, const void *data, size_t n);
  /// Receives one frame of type t whose payload must be exactly n bytes.
  void recvExact(FrameType t, void *data, size_t n);
  /// Receives one frame of type t of any length up to maxLen.
  std::vector<uint8_t> recv(FrameType t, size_t maxLen = size_t(1) << 36);
  /// Receives one frame of 64-bit words (length must be a multiple of 8).
  void recvWords(FrameType t, std::vector<uint64_t> &out,
                 size_t maxWords = size_t(1) << 33);
  /// Sends and receives concurrently (both parties call it symmetrically).
  void exchange(FrameType t, const void *out, size_t n, void *in, size_t m);

  const std::string &peerName() const { return peer_; }
  ChannelStats stats;
  /// Test hook: called with every received payload.
  std::function<void(FrameType, const uint8_t *, size_t)> onRecv;
  void setTimeout(double s) { timeoutSec_ = s; }
  void close();

private:
  Channel(const std::string &peer, double timeoutSec);
  void recvSized(FrameType t, size_t maxLen, size_t unit,
                 const std::function<uint8_t *(size_t)> &alloc);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string peer_;
  double timeoutSec_;
};

} // namespace umbra::rt
