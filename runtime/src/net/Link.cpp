//===- Link.cpp - asio TCP links ------------------------------------------===//
#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include "umbra/runtime/net/Link.h"

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <thread>

namespace umbra::rt {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

static constexpr uint32_t kFrameMagic = 0x464d4255; // "UMBF"
struct FrameHeader {
  uint32_t magic, type;
  uint64_t len;
};
static_assert(sizeof(FrameHeader) == 16);

Endpoint Endpoint::parse(const std::string &s) {
  auto c = s.rfind(':');
  UMBRA_CHECK(c != std::string::npos, "address '", s, "' must be host:port");
  Endpoint e;
  e.host = s.substr(0, c);
  if (e.host.empty())
    e.host = "127.0.0.1";
  try {
    int p = std::stoi(s.substr(c + 1));
    UMBRA_CHECK(p >= 0 && p < 65536, "bad port in '", s, "'");
    e.port = uint16_t(p);
  } catch (const std::logic_error &) {
    fail("bad port in address '", s, "'");
  }
  return e;
}

//===----------------------------------------------------------------------===//

struct Listener::Impl {
  asio::io_context io;
  tcp::acceptor acc{io};
};

Listener::Listener(const Endpoint &ep) : impl_(std::make_unique<Impl>()) {
  asio::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  UMBRA_CHECK(!ec, "bad listen address '", ep.host, "'");
  tcp::endpoint e(addr, ep.port);
  impl_->acc.open(e.protocol(), ec);
  if (!ec)
    impl_->acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    impl_->acc.bind(e, ec);
  if (!ec)
    impl_->acc.listen(asio::socket_base::max_listen_connections, ec);
  UMBRA_CHECK(!ec, "cannot listen on ", ep.str(), ": ", ec.message());
}

Listener::Listener(int fd) : impl_(std::make_unique<Impl>()) {
  asio::error_code ec;
  impl_->acc.assign(tcp::v4(), fd, ec);
  UMBRA_CHECK(!ec, "cannot adopt listening socket ", fd, ": ", ec.message());
}

Listener::~Listener() = default;
uint16_t Listener::port() const { return impl_->acc.local_endpoint().port(); }
int Listener::nativeHandle() const {
  return const_cast<tcp::acceptor &>(impl_->acc).native_handle();
}

int Listener::accept(double timeoutSec, const std::string &waitingFor) {
  tcp::socket sock(impl_->io);
  bool done = false;
  asio::error_code ec;
  impl_->acc.async_accept(sock, [&](const asio::error_code &e) {
    ec = e;
    done = true;
  });
  impl_->io.restart();
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeoutSec));
  while (!done && Clock::now() < deadline)
    impl_->io.run_one_until(deadline);
  if (!done) {
    impl_->acc.cancel();
    impl_->io.restart();
    while (!done)
      impl_->io.run_one();
    fail("timed out after ", timeoutSec, " s waiting for ", waitingFor,
         " to connect");
  }
  UMBRA_CHECK(!ec, "accept failed: ", ec.message());
  sock.set_option(tcp::no_delay(true));
  return sock.release();
}

//===----------------------------------------------------------------------===//

struct Link::Impl {
  asio::io_context io;
  tcp::socket sock{io};
  Clock::time_point lastProgress;
  int pending = 0;
  bool dead = false;

  /// Completion condition of every transfer: records progress (the idle
  /// deadline counts from the last byte moved) and reads in 1 MiB steps.
  auto progress() {
    return [this](const asio::error_code &ec, size_t) -> size_t {
      lastProgress = Clock::now();
      return ec ? 0 : size_t(1) << 20;
    };
  }
  /// Runs handlers until `finished` or until nothing moved for timeoutSec.
  template <typename F> void runUntil(F finished, double timeoutSec) {
    lastProgress = Clock::now();
    auto timeout = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeoutSec));
    io.restart();
    while (!finished()) {
      auto until = lastProgress + timeout;
      if (Clock::now() >= until)
        break;
      io.run_one_until(until);
    }
  }
  /// After a failure: aborts whatever is still in flight and drains its
  /// handlers before the caller's buffers go away.
  void abortPending() {
    dead = true;
    asio::error_code ec;
    sock.close(ec);
    io.restart();
    while (pending > 0)
      io.run_one();
  }
};

Link::Link(const std::string &peer, double timeoutSec, KindName names)
    : impl_(std::make_unique<Impl>()), peer_(peer), timeoutSec_(timeoutSec),
      names_(names) {}
Link::~Link() { close(); }

std::string Link::kindName(FrameKind t) const {
  const char *n = names_ ? names_(t) : nullptr;
  return n ? n : "unknown";
}

void Link::close() {
  if (impl_ && impl_->sock.is_open()) {
    asio::error_code ec;
    impl_->sock.shutdown(tcp::socket::shutdown_both, ec);
    impl_->sock.close(ec);
  }
}

void Link::adoptSocket(int fd) {
  asio::error_code ec;
  impl_->sock.assign(tcp::v4(), fd, ec);
  UMBRA_CHECK(!ec, "cannot adopt socket: ", ec.message());
}

void Link::connectTo(const Endpoint &ep, double deadlineSec) {
  const std::string &peer = peer_;
  asio::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  UMBRA_CHECK(!ec, "bad address '", ep.host, "' for ", peer);
  tcp::endpoint e(addr, ep.port);
  auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(deadlineSec));
  std::string last = "no attempt";
  while (true) {
    Impl &im = *impl_;
    if (im.sock.is_open())
      im.sock.close(ec);
    bool done = false;
    asio::error_code cec;
    im.sock.async_connect(e, [&](const asio::error_code &x) {
      cec = x;
      done = true;
    });
    im.io.restart();
    auto tryEnd = std::min(deadline, Clock::now() + std::chrono::seconds(2));
    while (!done && Clock::now() < tryEnd)
      im.io.run_one_until(tryEnd);
    if (!done) {
      im.sock.close(ec);
      im.io.restart();
      while (!done)
        im.io.run_one();
      cec = asio::error::timed_out;
    }
    if (!cec) {
      im.sock.set_option(tcp::no_delay(true));
      return;
    }
    last = cec.message();
    if (Clock::now() + std::chrono::milliseconds(100) >= deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fail("cannot connect to ", peer, " at ", ep.str(), " within ", deadlineSec,
       " s (", last, ")");
}

namespace {
/// Tracks one transfer (write of a frame, or read of a frame).
struct Xfer {
  bool done = false;
  asio::error_code ec;
};
} // namespace

void Link::exchangeFrames(FrameKind t, const void *out, size_t n, void *in,
                          size_t m) {
  Impl &im = *impl_;
  UMBRA_CHECK(!im.dead && im.sock.is_open(), "connection to ", peer_,
              " is closed");
  FrameHeader oh{kFrameMagic, t, n};
  FrameHeader ih{};
  Xfer wx, rx;
  bool wantWrite = out != nullptr, wantRead = in != nullptr;
  std::string malformed;
  auto progress = im.progress();
  if (wantWrite) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(&oh, sizeof oh),
                                           asio::buffer(out, n)};
    ++im.pending;
    asio::async_write(im.sock, bufs, progress,
                      [&](const asio::error_code &ec, size_t) {
                        --im.pending;
                        wx.ec = ec;
                        wx.done = true;
                      });
  }
  if (wantRead) {
    ++im.pending;
    asio::async_read(
        im.sock, asio::buffer(&ih, sizeof ih), progress,
        [&](const asio::error_code &ec, size_t) {
          if (ec) {
            --im.pending;
            rx.ec = ec;
            rx.done = true;
            return;
          }
          if (ih.magic != kFrameMagic)
            malformed = "bad frame magic";
          else if (ih.type != t)
            malformed = "expected a " + kindName(t) + " frame, got " +
                        kindName(ih.type) + " (type " +
                        std::to_string(ih.type) + ")";
          else if (m != size_t(-1) && ih.len != m)
            malformed = "frame length " + std::to_string(ih.len) +
                        ", expected " + std::to_string(m);
          if (!malformed.empty()) {
            --im.pending;
            rx.done = true;
            return;
          }
          asio::async_read(im.sock, asio::buffer(in, ih.len), progress,
                           [&](const asio::error_code &ec2, size_t) {
                             --im.pending;
                             rx.ec = ec2;
                             rx.done = true;
                           });
        });
  }
  im.runUntil(
      [&] {
        return (!wantWrite || wx.done) && (!wantRead || rx.done) ||
               (wx.done && wx.ec) ||
               (rx.done && (rx.ec || !malformed.empty()));
      },
      timeoutSec_);
  bool ok = (!wantWrite || (wx.done && !wx.ec)) &&
            (!wantRead || (rx.done && !rx.ec && malformed.empty()));
  if (!ok) {
    im.abortPending();
    if (!malformed.empty())
      fail("malformed frame from ", peer_, ": ", malformed);
    asio::error_code e = wx.ec ? wx.ec : rx.ec;
    if (e && e != asio::error::operation_aborted) {
      if (e == asio::error::eof || e == asio::error::connection_reset ||
          e == asio::error::broken_pipe)
        fail("connection to ", peer_, " lost (peer disconnected: ", e.message(),
             ")");
      fail("connection to ", peer_, " failed: ", e.message());
    }
    fail("timed out after ", timeoutSec_, " s waiting for ", peer_,
         " (no progress)");
  }
  if (wantWrite)
    stats.bytesSent += sizeof oh + n;
  if (wantRead) {
    stats.bytesRecv += sizeof ih + ih.len;
    received(t, static_cast<const uint8_t *>(in), ih.len);
  }
}

void Link::sendFrame(FrameKind t, const void *data, size_t n) {
  static const uint8_t dummy = 0;
  exchangeFrames(t, data ? data : &dummy, n, nullptr, 0);
}

void Link::recvFrameExact(FrameKind t, void *data, size_t n) {
  static uint8_t dummy;
  exchangeFrames(t, nullptr, 0, data ? data : &dummy, n);
}

std::vector<uint8_t> Link::recvFrame(FrameKind t, size_t maxLen) {
  std::vector<uint8_t> buf;
  recvSized(t, maxLen, 1, [&](size_t n) {
    buf.resize(n);
    return buf.data();
  });
  return buf;
}

void Link::recvFrameWords(FrameKind t, std::vector<uint64_t> &out,
                          size_t maxWords) {
  recvSized(t, maxWords * 8, 8, [&](size_t n) {
    out.resize(n / 8);
    return reinterpret_cast<uint8_t *>(out.data());
  });
}

void Link::recvSized(FrameKind t, size_t maxLen, size_t unit,
                     const std::function<uint8_t *(size_t)> &alloc) {
  // Read the header first to size the buffer.
  Impl &im = *impl_;
  UMBRA_CHECK(!im.dead && im.sock.is_open(), "connection to ", peer_,
              " is closed");
  FrameHeader ih{};
  Xfer rx;
  auto progress = im.progress();
  uint8_t *buf = nullptr;
  std::string malformed;
  ++im.pending;
  asio::async_read(
      im.sock, asio::buffer(&ih, sizeof ih), progress,
      [&](const asio::error_code &ec, size_t) {
        if (!ec) {
          if (ih.magic != kFrameMagic)
            malformed = "bad frame magic";
          else if (ih.type != t)
            malformed = "expected a " + kindName(t) + " frame, got " +
                        kindName(ih.type);
          else if (ih.len > maxLen)
            malformed = "frame too large (" + std::to_string(ih.len) + ")";
          else if (ih.len % unit)
            malformed = "frame length " + std::to_string(ih.len) +
                        " is not a multiple of " + std::to_string(unit);
          if (malformed.empty()) {
            buf = alloc(ih.len);
            asio::async_read(im.sock, asio::buffer(buf, ih.len), progress,
                             [&](const asio::error_code &ec2, size_t) {
                               --im.pending;
                               rx.ec = ec2;
                               rx.done = true;
                             });
            return;
          }
        }
        --im.pending;
        rx.ec = ec;
        rx.done = true;
      });
  im.runUntil([&] { return rx.done; }, timeoutSec_);
  if (!rx.done || rx.ec || !malformed.empty()) {
    im.abortPending();
    if (!malformed.empty())
      fail("malformed frame from ", peer_, ": ", malformed);
    if (rx.ec && rx.ec != asio::error::operation_aborted)
      fail("connection to ", peer_, " lost (", rx.ec.message(), ")");
    fail("timed out after ", timeoutSec_, " s waiting for ", peer_,
         " (no progress)");
  }
  stats.bytesRecv += sizeof ih + ih.len;
  received(t, buf, ih.len);
}

} // namespace umbra::rt
