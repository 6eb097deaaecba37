//===- Session.cpp - Connections, handshake and seeds ---------------------===//
#include "umbra/runtime/Session.h"
#include "umbra/runtime/Program.h"

#include <cstring>

namespace umbra::rt {

namespace {
struct Hello {
  char magic[8];
  uint32_t protocol;
  uint32_t isa;
  int32_t frac;
  int32_t role;
  uint8_t hash[32];
  int32_t cmp;
};
static_assert(sizeof(Hello) == 60);

using Clock = std::chrono::steady_clock;

/// How long a connection that is not yet identified may stay silent: a
/// real peer answers the TLS handshake and the hello at once.
constexpr double kStrangerSec = 5;

std::string hex16(const uint8_t *h) {
  static const char *hx = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) {
    s += hx[h[i] >> 4];
    s += hx[h[i] & 15];
  }
  return s;
}

std::string declaredRole(int32_t r) {
  return r >= 0 && r <= 2 ? roleName(Role(r)) : "role " + std::to_string(r);
}

/// Sends our hello and reads the peer's; a peer whose hello is not an
/// Umbra hello is a stranger (Error).
Hello exchangeHello(Channel &c, const SessionConfig &cfg) {
  Hello mine{}, theirs{};
  std::memcpy(mine.magic, "UMBRAHS1", 8);
  mine.protocol = cfg.protocolVersion;
  mine.isa = kIsaVersion;
  mine.frac = cfg.fracBits;
  mine.role = int32_t(cfg.role);
  mine.cmp = int32_t(cfg.cmp);
  std::memcpy(mine.hash, cfg.programHash.data(), 32);
  c.exchange(FrameType::Hello, &mine, sizeof mine, &theirs, sizeof theirs);
  UMBRA_CHECK(std::memcmp(theirs.magic, "UMBRAHS1", 8) == 0, "handshake with ",
              c.peerName(), " failed: not an Umbra peer");
  return theirs;
}

/// The checks between identified peers: a mismatch ends the run (the peer
/// makes the same checks and fails too).
void checkHello(const Hello &theirs, const std::string &who,
                const SessionConfig &cfg) {
  UMBRA_CHECK(theirs.protocol == cfg.protocolVersion, "handshake with ", who,
              " refused: protocol version ", theirs.protocol,
              " differs from ours (", cfg.protocolVersion, ")");
  UMBRA_CHECK(theirs.isa == kIsaVersion, "handshake with ", who,
              " refused: instruction-set version ", theirs.isa,
              " differs from ours (", kIsaVersion, ")");
  UMBRA_CHECK(std::memcmp(theirs.hash, cfg.programHash.data(), 32) == 0,
              "handshake with ", who, " refused: program mismatch (",
              roleName(cfg.role), " runs program ",
              hex16(cfg.programHash.data()), "…, ", who, " runs ",
              hex16(theirs.hash), "…)");
  UMBRA_CHECK(theirs.frac == cfg.fracBits, "handshake with ", who,
              " refused: fixed-point mismatch (", cfg.fracBits, " vs ",
              theirs.frac, " fractional bits)");
  UMBRA_CHECK(theirs.cmp == int32_t(cfg.cmp), "handshake with ", who,
              " refused: comparison protocol mismatch (", cmpName(cfg.cmp),
              " vs ", cmpName(Cmp(theirs.cmp)), ")");
}
} // namespace

void Session::linkUp(const Channel &c, Role r) {
  std::string how = c.peerName() + ": " + c.security();
  if (c.isSecure())
    how += std::string(", peer ") + roleName(r) + " verified";
  else
    how += cfg_.insecure ? " (--insecure)" : " (loopback)";
  note("link to " + how);
}

std::unique_ptr<Channel> Session::acceptPeer(Listener &l, Role &got) {
  const bool dealer = cfg_.role == Role::Dealer;
  auto wanted = [&](Role r) {
    return dealer ? (r == Role::P0 && !dealerP0) || (r == Role::P1 && !dealerP1)
                  : r == Role::P1;
  };
  const std::string waitingFor =
      !dealer ? "p1" : dealerP0 ? "p1" : dealerP1 ? "p0" : "p0 and p1";
  const double ct = cfg_.connectTimeout;
  const double quick = std::min(cfg_.ioTimeout, kStrangerSec);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(ct));
  std::string refused;
  while (true) {
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    std::string from;
    int fd = -1;
    try {
      UMBRA_CHECK(left > 0, "deadline");
      fd = l.accept(left, waitingFor, &from);
    } catch (const Error &) {
      fail("timed out after ", ct, " s waiting for ", waitingFor,
           " to connect", refused.empty() ? "" : "; refused: " + refused);
    }
    auto c = Channel::adopt(fd, "unidentified peer " + from, quick);
    Hello theirs{};
    Role r = Role::Dealer;
    try {
      // Identify the peer: by its certificate (TLS), else by its hello.
      auto identify = [&](const std::string &role, const char *how) {
        r = role == "p0" ? Role::P0 : Role::P1;
        UMBRA_CHECK((role == "p0" || role == "p1") && wanted(r), how, " role ",
                    role, ", expected ", waitingFor);
      };
      std::string certRole;
      if (cfg_.tls) {
        certRole = c->secure(*cfg_.tls, /*server=*/true, quick);
        identify(certRole, "its certificate is bound to");
      }
      theirs = exchangeHello(*c, cfg_);
      std::string claimed = declaredRole(theirs.role);
      if (cfg_.tls)
        UMBRA_CHECK(claimed == certRole, "its hello claims role ", claimed,
                    " but its certificate is bound to role ", certRole);
      else
        identify(claimed, "it claims");
    } catch (const Error &e) {
      // Not the peer we wait for: drop it, keep listening.
      note("refused connection from " + from + ": " + e.what());
      refused += (refused.empty() ? "" : "; ") + from + " (" + e.what() + ")";
      continue;
    }
    c->setPeerName(std::string(roleName(r)) + " at " + from);
    c->setTimeout(cfg_.ioTimeout);
    checkHello(theirs, c->peerName(), cfg_);
    linkUp(*c, r);
    got = r;
    return c;
  }
}

std::unique_ptr<Channel> Session::dial(const Endpoint &ep, Role want) {
  const double io = cfg_.ioTimeout;
  auto c = Channel::connect(ep, cfg_.connectTimeout, roleName(want), io);
  const std::string name = std::string(roleName(want)) + " at " + ep.str();
  c->setPeerName(name);
  if (cfg_.tls) {
    std::string r = c->secure(*cfg_.tls, /*server=*/false, io);
    UMBRA_CHECK(r == roleName(want), "refused ", name,
                ": its certificate is bound to role ", r, ", expected ",
                roleName(want));
  }
  Hello theirs{};
  try {
    theirs = exchangeHello(*c, cfg_);
  } catch (const Error &e) {
    // With TLS 1.3 the listener judges our certificate after our side of
    // the handshake has finished: its refusal shows up here.
    std::string m = e.what();
    if (m.find(" lost") == std::string::npos &&
        m.find("TLS:") == std::string::npos)
      throw;
    if (cfg_.tls)
      fail(m, " (", name, " may have refused our certificate or role; see "
           "its log)");
    fail(m, " during the handshake (", name, " may require TLS: pass "
         "--tls-dir, or --tls-cert, --tls-key and --tls-ca)");
  }
  checkHello(theirs, name, cfg_);
  UMBRA_CHECK(theirs.role == int32_t(want), "handshake with ", name,
              " refused: it runs as ", declaredRole(theirs.role));
  linkUp(*c, want);
  return c;
}

Session::Session(const SessionConfig &cfg)
    : party(cfg.role, cfg.fracBits), cfg_(cfg) {
  party.cmp = cfg.cmp;
  if (cfg.tls)
    UMBRA_CHECK(cfg.tls->ownRole() == roleName(cfg.role),
                "this process runs as ", roleName(cfg.role),
                " but its certificate is bound to role ", cfg.tls->ownRole());
  else
    UMBRA_CHECK(cfg.insecure ||
                    (cfg.p0Addr.isLoopback() && cfg.dealerAddr.isLoopback()),
                "plaintext links to a non-loopback address (p0 ",
                cfg.p0Addr.str(), ", dealer ", cfg.dealerAddr.str(),
                ") would show the seeds and every share to the network: pass "
                "--tls-cert/--tls-key/--tls-ca (scripts/make-certs.sh makes "
                "them), or --insecure to run in plaintext anyway");
  lastAlive_ = Clock::now();
  if (cfg.role == Role::Dealer) {
    Listener *l = cfg.dealerListener;
    if (!l) {
      ownListener_ = std::make_unique<Listener>(cfg.dealerAddr);
      l = ownListener_.get();
    }
    Seed s0 = Prg::osSeed(), s1 = Prg::osSeed();
    for (int i = 0; i < 2; ++i) {
      Role r;
      auto c = acceptPeer(*l, r);
      c->send(FrameType::Seed, (r == Role::P0 ? s0 : s1).data(), 16);
      (r == Role::P0 ? dealerP0 : dealerP1) = std::move(c);
    }
    party.setSeeds(s0, s1);
    party.material = dealerP1.get();
    party.material0 = dealerP0.get();
    return;
  }
  // Parties: dealer first (gets the seed), then P0 <-> P1.
  auto d = dial(cfg.dealerAddr, Role::Dealer);
  Seed s{};
  d->recvExact(FrameType::Seed, s.data(), 16);
  if (cfg.role == Role::P0) {
    party.setSeeds(s, Seed{});
    dealerP0 = std::move(d);
    party.material = dealerP0.get();
    Listener *l = cfg.p0Listener;
    if (!l) {
      ownListener_ = std::make_unique<Listener>(cfg.p0Addr);
      l = ownListener_.get();
    }
    Role r;
    peer = acceptPeer(*l, r);
  } else {
    party.setSeeds(Seed{}, s);
    dealerP1 = std::move(d);
    party.material = dealerP1.get();
    peer = dial(cfg.p0Addr, Role::P0);
  }
  party.peer = peer.get();
  // Every transfer is a chance to tell the dealer we are alive.
  peer->afterTransfer = [this] { keepAlive(); };
  party.material->afterTransfer = [this] { keepAlive(); };
}

Session::~Session() = default;

void Session::keepAlive() {
  if (cfg_.role == Role::Dealer || !party.material)
    return;
  auto now = Clock::now();
  if (std::chrono::duration<double>(now - lastAlive_).count() <
      cfg_.ioTimeout / 4)
    return;
  lastAlive_ = now; // before sending: the send's own hook must not recurse
  party.material->sendKeepAlive();
}

std::vector<std::string> Session::describeLinks() const {
  std::vector<std::string> v;
  for (const Channel *c : {dealerP0.get(), dealerP1.get(), peer.get()}) {
    if (!c)
      continue;
    WireStats w = c->wire();
    v.push_back(c->peerName() + ": " + c->security() + ", " +
                std::to_string(c->stats.bytesSent) + " B sent, " +
                std::to_string(c->stats.bytesRecv) + " B received in frames; " +
                std::to_string(w.sent) + " B sent, " + std::to_string(w.recv) +
                " B received on the wire");
  }
  return v;
}

void Session::finish() {
  uint8_t ok = 1, theirs = 0;
  if (cfg_.role == Role::Dealer) {
    // The parties may still be computing their last instructions; their
    // keep-alives keep each link's idle deadline (ioTimeout) from expiring,
    // so a hung party is noticed within about ioTimeout.
    dealerP0->recvExact(FrameType::Done, &theirs, 1);
    dealerP1->recvExact(FrameType::Done, &theirs, 1);
    return;
  }
  peer->afterTransfer = nullptr;
  party.material->afterTransfer = nullptr;
  peer->exchange(FrameType::Done, &ok, 1, &theirs, 1);
  (cfg_.role == Role::P0 ? dealerP0 : dealerP1)->send(FrameType::Done, &ok, 1);
}

} // namespace umbra::rt
