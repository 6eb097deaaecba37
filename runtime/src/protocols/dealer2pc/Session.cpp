//===- Session.cpp - Connections, handshake and seeds ---------------------===//
#include "umbra/runtime/Session.h"
#include "umbra/runtime/Program.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <mutex>
#include <sys/socket.h>
#include <thread>

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
  /// Inferences, or tokens generated, in this session (public).
  int32_t runs;
};
static_assert(sizeof(Hello) == 64);

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
  mine.runs = cfg.runs;
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
  UMBRA_CHECK(theirs.runs == cfg.runs, "handshake with ", who,
              " refused: session length mismatch (", cfg.runs, " vs ",
              theirs.runs, " inferences or generated tokens)");
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

namespace {
/// A connection being identified on its own thread (each Link has its own
/// io loop, so identifications run side by side).
struct Candidate {
  std::string from;
  int fd = -1;
  std::unique_ptr<Channel> c;
  Hello hello{};
  std::string role, error; // the role it proved (or claimed), or why not
  bool done = false;       // under the mutex
  std::thread worker;
};
} // namespace

void Session::acceptPeers(
    Listener &l, std::vector<Role> want,
    const std::function<void(Role, std::unique_ptr<Channel>)> &up) {
  auto waitingFor = [&] {
    std::string s;
    for (Role r : want)
      s += (s.empty() ? "" : " and ") + std::string(roleName(r));
    return s;
  };
  const double ct = cfg_.connectTimeout;
  const double quick = std::min(cfg_.ioTimeout, kStrangerSec);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(ct));
  std::mutex m;
  std::list<Candidate> cands; // stable addresses for the workers
  // Whatever ends this function (success, timeout, a fatal mismatch),
  // unfinished identifications are cut off and every worker is joined.
  struct Reaper {
    std::list<Candidate> &cands;
    std::mutex &m;
    ~Reaper() {
      {
        std::lock_guard<std::mutex> g(m);
        for (Candidate &k : cands)
          if (!k.done)
            ::shutdown(k.fd, SHUT_RDWR); // the worker's transfer fails now
      }
      for (Candidate &k : cands)
        if (k.worker.joinable())
          k.worker.join();
    }
  } reaper{cands, m};
  // The roles this listener serves (fixed: workers read it, main updates
  // `want`).
  const std::vector<Role> serves = want;
  const std::string servesNames = waitingFor();
  auto identify = [&](Candidate &k) {
    std::string role, error;
    Hello h{};
    try {
      std::string certRole;
      if (cfg_.tls) {
        certRole = k.c->secure(*cfg_.tls, /*server=*/true, quick);
        bool served = false;
        for (Role r : serves)
          served |= certRole == roleName(r);
        UMBRA_CHECK(served, "its certificate is bound to role ", certRole,
                    ", expected ", servesNames);
      }
      h = exchangeHello(*k.c, cfg_);
      std::string claimed = declaredRole(h.role);
      if (cfg_.tls)
        UMBRA_CHECK(claimed == certRole, "its hello claims role ", claimed,
                    " but its certificate is bound to role ", certRole);
      role = claimed;
    } catch (const std::exception &e) { // nothing may escape the thread
      error = e.what();
    }
    std::lock_guard<std::mutex> g(m);
    k.hello = h;
    k.role = role;
    k.error = error;
    k.done = true;
  };
  std::string refused;
  auto refuse = [&](const std::string &from, const std::string &why) {
    note("refused connection from " + from + ": " + why);
    refused += (refused.empty() ? "" : "; ") + from + " (" + why + ")";
  };
  while (!want.empty()) {
    // Take the identified ones, in the order they finished.
    std::vector<std::list<Candidate>::iterator> finished;
    {
      std::lock_guard<std::mutex> g(m);
      for (auto it = cands.begin(); it != cands.end(); ++it)
        if (it->done)
          finished.push_back(it);
    }
    for (auto it : finished) {
      Candidate &k = *it;
      k.worker.join();
      Role r = k.role == "p0" ? Role::P0 : Role::P1;
      bool wanted = (k.role == "p0" || k.role == "p1") &&
                    std::find(want.begin(), want.end(), r) != want.end();
      if (!k.error.empty()) {
        refuse(k.from, k.error);
      } else if (!wanted) {
        refuse(k.from, std::string(cfg_.tls ? "its certificate is bound to"
                                            : "it claims") +
                           " role " + k.role + ", expected " + waitingFor());
      } else {
        std::unique_ptr<Channel> c = std::move(k.c);
        c->setPeerName(std::string(roleName(r)) + " at " + k.from);
        c->setTimeout(cfg_.ioTimeout);
        c->setKeepAliveKind(FrameKind(FrameType::Alive));
        checkHello(k.hello, c->peerName(), cfg_);
        linkUp(*c, r);
        want.erase(std::find(want.begin(), want.end(), r));
        up(r, std::move(c));
      }
      std::lock_guard<std::mutex> g(m);
      cands.erase(it);
    }
    if (want.empty())
      break;
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0)
      fail("timed out after ", ct, " s waiting for ", waitingFor(),
           " to connect", refused.empty() ? "" : "; refused: " + refused);
    std::string from;
    int fd = -1;
    try {
      fd = l.accept(std::min(left, 0.05), waitingFor(), &from);
    } catch (const Error &) {
      continue; // nobody in this slice: look at the identifications again
    }
    std::lock_guard<std::mutex> g(m);
    Candidate &k = cands.emplace_back();
    k.from = from;
    k.fd = fd;
    k.c = Channel::adopt(fd, "unidentified peer " + from, quick);
    // A stranger's empty frames must not count as progress.
    k.c->setKeepAliveKind(0);
    k.worker = std::thread(identify, std::ref(k));
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
    // Each party gets its seed as soon as it is identified.
    acceptPeers(*l, {Role::P0, Role::P1},
                [&](Role r, std::unique_ptr<Channel> c) {
                  c->send(FrameType::Seed, (r == Role::P0 ? s0 : s1).data(),
                          16);
                  (r == Role::P0 ? dealerP0 : dealerP1) = std::move(c);
                });
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
    acceptPeers(*l, {Role::P1}, [&](Role, std::unique_ptr<Channel> c) {
      peer = std::move(c);
    });
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
