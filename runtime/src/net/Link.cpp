//===- Link.cpp - asio TCP links ------------------------------------------===//
#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include "umbra/runtime/net/Link.h"

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <cstring>
#include <sys/stat.h>
#include <thread>

namespace umbra::rt {

WireStats tcpWireStats(int fd); // Wire.cpp

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

bool Endpoint::isLoopback() const {
  asio::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

//===----------------------------------------------------------------------===//
// TLS: one context per role, roles bound to certificates
//===----------------------------------------------------------------------===//

namespace {
const char *const kRoles[] = {"dealer", "p0", "p1", "client"};
constexpr const char *kRoleUri = "umbra-role:";

/// Every "umbra-role:<role>" URI in the certificate's subjectAltName.
std::vector<std::string> certRoles(X509 *x) {
  std::vector<std::string> r;
  auto *names = static_cast<GENERAL_NAMES *>(
      X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (!names)
    return r;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_URI)
      continue;
    const ASN1_IA5STRING *u = g->d.uniformResourceIdentifier;
    std::string v(reinterpret_cast<const char *>(ASN1_STRING_get0_data(u)),
                  size_t(ASN1_STRING_length(u)));
    if (v.rfind(kRoleUri, 0) == 0)
      r.push_back(v.substr(std::strlen(kRoleUri)));
  }
  GENERAL_NAMES_free(names);
  return r;
}

/// The one role `x` is bound to; `what` names the certificate in errors.
std::string roleOf(X509 *x, const std::string &what) {
  std::vector<std::string> r = certRoles(x);
  UMBRA_CHECK(!r.empty(), what,
              " is bound to no Umbra role (it needs a subjectAltName URI "
              "umbra-role:<dealer|p0|p1|client>; see scripts/make-certs.sh)");
  UMBRA_CHECK(r.size() == 1, what, " names ", r.size(),
              " Umbra roles; exactly one is allowed");
  UMBRA_CHECK(std::find(std::begin(kRoles), std::end(kRoles), r[0]) !=
                  std::end(kRoles),
              what, " names an unknown role '", r[0], "'");
  return r[0];
}

/// OpenSSL's reason for an SSL failure (its queue is per thread), else
/// asio's message.
std::string sslReason(const asio::error_code &ec) {
  unsigned long e = ec.category() == asio::error::get_ssl_category() || !ec
                        ? ERR_peek_last_error()
                        : 0;
  const char *r = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return r ? r : ec.message();
}
} // namespace

struct TlsContext::Impl {
  asio::ssl::context ctx{asio::ssl::context::tlsv13};
};

TlsContext::TlsContext(const TlsConfig &c) : impl_(std::make_unique<Impl>()) {
  asio::ssl::context &ctx = impl_->ctx;
  SSL_CTX *h = ctx.native_handle();
  // TLS 1.3 only; no resumption (every link is one long connection).
  SSL_CTX_set_min_proto_version(h, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(h, TLS1_3_VERSION);
  SSL_CTX_set_options(h, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(h, 0);
  SSL_CTX_set_session_cache_mode(h, SSL_SESS_CACHE_OFF);
  for (const auto *f : {&c.certFile, &c.keyFile, &c.caFile})
    UMBRA_CHECK(!f->empty(), "TLS needs --tls-cert, --tls-key and --tls-ca");
  // A private key others can read is not private: refuse it as ssh does.
  struct stat st {};
  UMBRA_CHECK(stat(c.keyFile.c_str(), &st) == 0, "cannot read TLS key '",
              c.keyFile, "'");
  UMBRA_CHECK(!(st.st_mode & (S_IRWXG | S_IRWXO)), "TLS key '", c.keyFile,
              "' is accessible by other users (mode ", std::oct,
              st.st_mode & 0777, std::dec, "); chmod 600 it");
  asio::error_code ec;
  ctx.load_verify_file(c.caFile, ec);
  UMBRA_CHECK(!ec, "cannot load the CA certificate '", c.caFile,
              "': ", sslReason(ec));
  ctx.use_certificate_chain_file(c.certFile, ec);
  UMBRA_CHECK(!ec, "cannot load the certificate '", c.certFile,
              "': ", sslReason(ec));
  ctx.use_private_key_file(c.keyFile, asio::ssl::context::pem, ec);
  UMBRA_CHECK(!ec, "cannot load the key '", c.keyFile,
              "' (does it belong to certificate '", c.certFile,
              "'?): ", sslReason(ec));
  UMBRA_CHECK(SSL_CTX_check_private_key(h) == 1, "key '", c.keyFile,
              "' does not belong to certificate '", c.certFile, "'");
  ctx.set_verify_mode(asio::ssl::verify_peer |
                      asio::ssl::verify_fail_if_no_peer_cert);
  // Our own certificate must chain to the CA too: a mixed-up --tls-ca would
  // otherwise show up only as every peer refusing us.
  X509 *own = SSL_CTX_get0_certificate(h);
  X509_STORE_CTX *v = X509_STORE_CTX_new();
  STACK_OF(X509) *chain = nullptr;
  SSL_CTX_get0_chain_certs(h, &chain);
  int ok = v && X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(h), own,
                                    chain) == 1
               ? X509_verify_cert(v)
               : 0;
  std::string why =
      v ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(v)) : "";
  X509_STORE_CTX_free(v);
  UMBRA_CHECK(ok == 1, "certificate '", c.certFile,
              "' is not signed by the CA '", c.caFile, "' (", why, ")");
  ownRole_ = roleOf(own, "certificate '" + c.certFile + "'");
}

TlsContext::~TlsContext() = default;

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

int Listener::accept(double timeoutSec, const std::string &waitingFor,
                     std::string *from) {
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
  if (from) {
    auto re = sock.remote_endpoint(ec);
    *from = ec ? "?" : re.address().to_string() + ":" +
                           std::to_string(re.port());
  }
  return sock.release();
}

//===----------------------------------------------------------------------===//

namespace {
/// Tracks one transfer (write of a frame, or read of a frame).
struct Xfer {
  bool done = false;
  asio::error_code ec;
};
} // namespace

struct Link::Impl {
  asio::io_context io;
  tcp::socket sock{io};
  /// Set once `secure` has run: every transfer then goes through it.
  std::unique_ptr<asio::ssl::stream<tcp::socket &>> tls;
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
  /// Runs f on the stream transfers go through: TLS, or the plain socket.
  template <typename F> void onStream(F &&f) {
    if (tls)
      f(*tls);
    else
      f(sock);
  }
  template <typename B, typename C, typename H> void read(const B &b, C c, H h) {
    onStream([&](auto &s) { asio::async_read(s, b, c, std::move(h)); });
  }
  template <typename B, typename C, typename H>
  void write(const B &b, C c, H h) {
    onStream([&](auto &s) { asio::async_write(s, b, c, std::move(h)); });
  }
  /// Reads one frame header, skipping keep-alive frames (kind `ka`, empty).
  template <typename H> void readHeader(FrameHeader &ih, FrameKind ka, H h) {
    read(asio::buffer(&ih, sizeof ih), progress(),
         [this, &ih, ka, h](const asio::error_code &ec, size_t n) mutable {
           if (!ec && ka && ih.magic == kFrameMagic && ih.type == ka &&
               ih.len == 0) {
             readHeader(ih, ka, std::move(h));
             return;
           }
           h(ec, n);
         });
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

std::string Link::secure(TlsContext &ctx, bool server, double timeoutSec) {
  Impl &im = *impl_;
  UMBRA_CHECK(im.sock.is_open() && !im.tls, "cannot start TLS with ", peer_);
  im.tls = std::make_unique<asio::ssl::stream<tcp::socket &>>(
      im.sock, ctx.impl().ctx);
  Xfer x;
  ++im.pending;
  im.tls->async_handshake(server ? asio::ssl::stream_base::server
                                 : asio::ssl::stream_base::client,
                          [&](const asio::error_code &ec) {
                            --im.pending;
                            x.ec = ec;
                            x.done = true;
                          });
  im.runUntil([&] { return x.done; }, timeoutSec);
  if (!x.done || x.ec) {
    long vr = SSL_get_verify_result(im.tls->native_handle());
    std::string why;
    if (!x.done)
      why = "no TLS handshake within " + std::to_string(int(timeoutSec)) +
            " s";
    else if (vr != X509_V_OK)
      why = std::string("its certificate is not accepted (") +
            X509_verify_cert_error_string(vr) + ")";
    else if (x.ec == asio::error::eof ||
             x.ec == asio::ssl::error::stream_truncated ||
             x.ec == asio::error::connection_reset)
      why = "the peer closed the connection (does it run without TLS, or "
            "did it refuse our certificate?)";
    else {
      why = sslReason(x.ec);
      if (why.find("wrong version number") != std::string::npos ||
          why.find("packet length too long") != std::string::npos ||
          why.find("http request") != std::string::npos)
        why += " (the peer does not speak TLS)";
    }
    im.abortPending();
    fail("TLS handshake with ", peer_, " failed: ", why);
  }
  X509 *pc = SSL_get0_peer_certificate(im.tls->native_handle());
  UMBRA_CHECK(pc, "TLS handshake with ", peer_,
              " failed: no peer certificate");
  return roleOf(pc, peer_ + "'s certificate");
}

bool Link::isSecure() const { return impl_ && impl_->tls; }

std::string Link::security() const {
  if (!isSecure())
    return "plaintext";
  SSL *s = impl_->tls->native_handle();
  return std::string(SSL_get_version(s) == std::string("TLSv1.3")
                         ? "TLS 1.3"
                         : SSL_get_version(s)) +
         " (" + SSL_get_cipher_name(s) + ")";
}

std::string Link::remoteAddress() const {
  asio::error_code ec;
  auto e = impl_->sock.remote_endpoint(ec);
  return ec ? "?" : e.address().to_string() + ":" + std::to_string(e.port());
}

WireStats Link::wire() const {
  return tcpWireStats(
      impl_->sock.is_open()
          ? int(const_cast<tcp::socket &>(impl_->sock).native_handle())
          : -1);
}

void Link::sendKeepAlive() {
  UMBRA_CHECK(keepAlive_ != 0, "no keep-alive kind set on the link to ", peer_);
  ChannelStats before = stats;
  static const uint8_t dummy = 0;
  exchangeFrames(keepAlive_, &dummy, 0, nullptr, 0);
  stats = before;
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
    im.write(bufs, progress,
                      [&](const asio::error_code &ec, size_t) {
                        --im.pending;
                        wx.ec = ec;
                        wx.done = true;
                      });
  }
  if (wantRead) {
    ++im.pending;
    im.readHeader(
        ih, keepAlive_, [&](const asio::error_code &ec, size_t) {
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
          im.read(asio::buffer(in, ih.len), progress,
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
          e == asio::error::broken_pipe ||
          e == asio::ssl::error::stream_truncated)
        fail("connection to ", peer_, " lost (peer disconnected: ", e.message(),
             ")");
      fail("connection to ", peer_, " failed: ",
           e.category() == asio::error::get_ssl_category() ? "TLS: " : "",
           sslReason(e));
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
  if (afterTransfer)
    afterTransfer();
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
  im.readHeader(
      ih, keepAlive_, [&](const asio::error_code &ec, size_t) {
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
            im.read(asio::buffer(buf, ih.len), progress,
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
  if (afterTransfer)
    afterTransfer();
}

} // namespace umbra::rt
