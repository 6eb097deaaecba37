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
// A link is plaintext TCP or mutual TLS 1.3 (`secure`, OpenSSL through
// asio::ssl). TLS changes neither the framing nor the byte counts in
// `stats` (payload + frame headers, as in plaintext); `wire()` reports
// what actually crossed the socket.
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
  /// 127.0.0.0/8 or ::1 (plaintext is allowed there without --insecure).
  bool isLoopback() const;
};

/// One role's TLS identity: its certificate and key (PEM), and the CA
/// (PEM) every peer's certificate must chain to.
struct TlsConfig {
  std::string certFile, keyFile, caFile;
};

/// A loaded TLS 1.3 context, shared by all links of one role. A
/// certificate is bound to a role by a subjectAltName URI
/// "umbra-role:<role>" (dealer, p0, p1 or client); a certificate with none,
/// or with more than one, is refused.
class TlsContext {
public:
  /// Loads and checks the files (key matches certificate, certificate
  /// chains to the CA, exactly one role); every problem names the file.
  explicit TlsContext(const TlsConfig &cfg);
  ~TlsContext();
  /// The role our own certificate is bound to.
  const std::string &ownRole() const { return ownRole_; }
  struct Impl;
  Impl &impl() { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
  std::string ownRole_;
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
  /// Accepts one connection or throws after `timeout` seconds; `from`
  /// receives the peer's address ("10.0.0.3:41234").
  int accept(double timeoutSec, const std::string &waitingFor,
             std::string *from = nullptr);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ChannelStats {
  uint64_t bytesSent = 0, bytesRecv = 0;
};

/// Bytes that crossed the socket (TLS records and handshake included), from
/// the kernel's TCP_INFO.
struct WireStats {
  uint64_t sent = 0, recv = 0;
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
  /// Runs the TLS 1.3 handshake on the connected socket (as server when we
  /// accepted, as client when we dialled) within `timeoutSec`; both sides
  /// present a certificate and verify the other's against the CA. Returns
  /// the role the peer's certificate is bound to. Throws a clear Error on
  /// any failure (no TLS, unknown CA, no role, ...).
  std::string secure(TlsContext &ctx, bool server, double timeoutSec);
  /// "TLS 1.3 (TLS_AES_256_GCM_SHA384)" or "plaintext".
  std::string security() const;
  bool isSecure() const;
  /// The remote address, "host:port" ("?" when unknown).
  std::string remoteAddress() const;
  WireStats wire() const;
  /// Frames of this kind with an empty payload are keep-alives: any
  /// receive skips them (they count as progress for the idle deadline) and
  /// they are not counted in `stats`. 0 = none.
  void setKeepAliveKind(FrameKind k) { keepAlive_ = k; }
  /// Sends one keep-alive frame (not counted in `stats`).
  void sendKeepAlive();
  /// Called after every completed transfer, outside any I/O of this link
  /// (the session sends keep-alives on another link from it).
  std::function<void()> afterTransfer;

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
  /// Renames the peer once it is identified ("p1 at 10.0.0.3:41234").
  void setPeerName(const std::string &p) { peer_ = p; }
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
  FrameKind keepAlive_ = 0;
};

} // namespace umbra::rt
