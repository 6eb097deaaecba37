//===- Session.cpp - Connections, handshake and seeds ---------------------===//
#include "umbra/runtime/Session.h"
#include "umbra/runtime/Program.h"

#include <algorithm>
#include <condition_variable>
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
  /// Inferences, or tokens generated, in this session (public; 0: a
  /// server of the serving mode).
  int32_t runs;
  /// The serving-mode session (zero: none).
  uint8_t session[16];
};
static_assert(sizeof(Hello) == 80);

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
  return r >= 0 && r <= int32_t(Role::Client) ? roleName(Role(r))
                                             : "role " + std::to_string(r);
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
  std::memcpy(mine.session, cfg.session.data(), 16);
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
  // A server of the serving mode (0) takes each session's own length.
  UMBRA_CHECK(theirs.runs == cfg.runs || theirs.runs == 0 || cfg.runs == 0,
              "handshake with ", who,
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
/// The TLS handshake (as server) and the hello of a connection that came to
/// a listener serving `serves`: returns the role it proved (TLS) or claims,
/// and its hello in `h`. Throws on anything else.
std::string identifyConnection(Channel &c, const SessionConfig &cfg,
                               const std::vector<Role> &serves,
                               const std::string &servesNames, double quick,
                               Hello &h) {
  std::string certRole;
  if (cfg.tls) {
    certRole = c.secure(*cfg.tls, /*server=*/true, quick);
    bool served = false;
    for (Role r : serves)
      served |= certRole == roleName(r);
    UMBRA_CHECK(served, "its certificate is bound to role ", certRole,
                ", expected ", servesNames);
  }
  h = exchangeHello(c, cfg);
  std::string claimed = declaredRole(h.role);
  if (cfg.tls)
    UMBRA_CHECK(claimed == certRole, "its hello claims role ", claimed,
                " but its certificate is bound to role ", certRole);
  return claimed;
}

std::string rolesText(const std::vector<Role> &rs) {
  std::string s;
  for (Role r : rs)
    s += (s.empty() ? "" : " and ") + std::string(roleName(r));
  return s;
}

/// A connection that came to a listener, once identified.
struct Candidate {
  std::string from;
  int fd = -1;
  std::unique_ptr<Channel> c;
  Hello hello{};
  std::string role, error; // the role it proved (or claims), or why not
  bool done = false;       // under the mutex
  std::thread worker;
};

/// Connections being identified, each on its own thread (each Link has its
/// own io loop, so identifications run side by side, and silent or slow
/// strangers never hold up real peers). Whatever ends the owner cuts off
/// the unfinished ones and joins every worker.
class Identifications {
public:
  Identifications(const SessionConfig &cfg, std::vector<Role> serves)
      : cfg_(cfg), serves_(std::move(serves)), names_(rolesText(serves_)),
        quick_(std::min(cfg.ioTimeout, kStrangerSec)) {}
  ~Identifications() {
    {
      std::lock_guard<std::mutex> g(m_);
      for (Candidate &k : cands_)
        if (!k.done)
          ::shutdown(k.fd, SHUT_RDWR); // the worker's transfer fails now
    }
    for (Candidate &k : cands_)
      if (k.worker.joinable())
        k.worker.join();
  }
  /// Accepts one connection within `sec` (if any comes) and starts
  /// identifying it.
  void acceptFrom(Listener &l, double sec) {
    std::string from;
    int fd = -1;
    try {
      fd = l.accept(sec, names_, &from);
    } catch (const Error &) {
      return; // nobody in this slice
    }
    std::lock_guard<std::mutex> g(m_);
    Candidate &k = cands_.emplace_back();
    k.from = from;
    k.fd = fd;
    k.c = Channel::adopt(fd, "unidentified peer " + from, quick_);
    // A stranger's empty frames must not count as progress.
    k.c->setKeepAliveKind(0);
    k.worker = std::thread([this, &k] {
      std::string role, error;
      Hello h{};
      try {
        role = identifyConnection(*k.c, cfg_, serves_, names_, quick_, h);
      } catch (const std::exception &e) { // nothing may escape the thread
        error = e.what();
      }
      std::lock_guard<std::mutex> g(m_);
      k.hello = h;
      k.role = role;
      k.error = error;
      k.done = true;
    });
  }
  /// The identifications that ended, in the order they did.
  std::vector<Candidate> finished() {
    std::vector<Candidate> out;
    std::lock_guard<std::mutex> g(m_);
    for (auto it = cands_.begin(); it != cands_.end();) {
      if (!it->done) {
        ++it;
        continue;
      }
      it->worker.join();
      out.push_back(std::move(*it));
      it = cands_.erase(it);
    }
    return out;
  }
  const std::string &names() const { return names_; }

private:
  const SessionConfig &cfg_;
  const std::vector<Role> serves_;
  const std::string names_;
  const double quick_;
  std::mutex m_;
  std::list<Candidate> cands_; // stable addresses for the workers
};
} // namespace

void Session::acceptPeers(
    Listener &l, std::vector<Role> want,
    const std::function<void(Role, std::unique_ptr<Channel>)> &up) {
  auto waitingFor = [&] { return rolesText(want); };
  const double ct = cfg_.connectTimeout;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(ct));
  // The roles this listener serves (fixed: `want` shrinks).
  Identifications ids(cfg_, want);
  std::string refused;
  auto refuse = [&](const std::string &from, const std::string &why) {
    note("refused connection from " + from + ": " + why);
    refused += (refused.empty() ? "" : "; ") + from + " (" + why + ")";
  };
  while (!want.empty()) {
    for (Candidate &k : ids.finished()) {
      std::optional<Role> named = roleNamed(k.role);
      Role r = named.value_or(Role::P0);
      bool wanted = named &&
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
    }
    if (want.empty())
      break;
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0)
      fail("timed out after ", ct, " s waiting for ", waitingFor(),
           " to connect", refused.empty() ? "" : "; refused: " + refused);
    ids.acceptFrom(l, std::min(left, 0.05));
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

std::string sessionName(const SessionId &id) { return hex16(id.data()).substr(0, 8); }

/// This role's own certificate must be bound to its role; without TLS
/// every address must be loopback unless `insecure`.
static void checkTransport(const SessionConfig &cfg) {
  if (cfg.tls) {
    UMBRA_CHECK(cfg.tls->ownRole() == roleName(cfg.role),
                "this process runs as ", roleName(cfg.role),
                " but its certificate is bound to role ", cfg.tls->ownRole());
    return;
  }
  bool client = cfg.role == Role::Client;
  const Endpoint &other = client ? cfg.p1Addr : cfg.dealerAddr;
  bool p1Listens = cfg.role == Role::P1 && cfg.p1Addr.port != 0;
  UMBRA_CHECK(cfg.insecure ||
                  (cfg.p0Addr.isLoopback() && other.isLoopback() &&
                   (!p1Listens || cfg.p1Addr.isLoopback())),
              "plaintext links to a non-loopback address (p0 ",
              cfg.p0Addr.str(), client ? ", p1 " : ", dealer ", other.str(),
              p1Listens ? ", clients at " + cfg.p1Addr.str() : "",
              ") would show the seeds and every share to the network: pass "
              "--tls-cert/--tls-key/--tls-ca (scripts/make-certs.sh makes "
              "them), or --insecure to run in plaintext anyway");
}

Session::Session(const SessionConfig &cfg)
    : party(cfg.role, cfg.fracBits), cfg_(cfg) {
  party.cmp = cfg.cmp;
  checkTransport(cfg);
  lastAlive_ = Clock::now();
  if (cfg.role == Role::Client) {
    // The thin client: its own links to both servers, and the seed of the
    // masks of its input shares to P1 (inside P1's link: P0 never sees it).
    if (cfg_.session == SessionId{}) {
      Seed id = Prg::osSeed();
      std::copy(id.begin(), id.end(), cfg_.session.begin());
    }
    server0 = dial(cfg.p0Addr, Role::P0);
    server1 = dial(cfg.p1Addr, Role::P1);
    Seed m = Prg::osSeed();
    server1->send(FrameType::Seed, m.data(), 16);
    party.clientMask.reseed(m);
    wireParty();
    return;
  }
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
    wireParty();
    return;
  }
  // Parties: dealer first (gets the seed), then P0 <-> P1.
  joinDealer();
  if (cfg.role == Role::P0) {
    Listener *l = cfg.p0Listener;
    if (!l) {
      ownListener_ = std::make_unique<Listener>(cfg.p0Addr);
      l = ownListener_.get();
    }
    acceptPeers(*l, {Role::P1}, [&](Role, std::unique_ptr<Channel> c) {
      peer = std::move(c);
    });
  } else {
    peer = dial(cfg.p0Addr, Role::P0);
  }
  wireParty();
}


Session::Session(const SessionConfig &cfg, ArrivedLinks arrived)
    : party(cfg.role, cfg.fracBits), cfg_(cfg) {
  party.cmp = cfg.cmp;
  checkTransport(cfg);
  lastAlive_ = Clock::now();
  auto take = [&](Role r) {
    auto it = arrived.find(r);
    UMBRA_CHECK(it != arrived.end() && it->second,
                "internal: a session without its ", roleName(r), " link");
    return std::move(it->second);
  };
  if (cfg.role == Role::Dealer) {
    dealerP0 = take(Role::P0);
    dealerP1 = take(Role::P1);
    Seed s0 = Prg::osSeed(), s1 = Prg::osSeed();
    dealerP0->send(FrameType::Seed, s0.data(), 16);
    dealerP1->send(FrameType::Seed, s1.data(), 16);
    party.setSeeds(s0, s1);
    wireParty();
    return;
  }
  // A server: the client came to us; the session's own links to the
  // dealer (its seed) and between P0 and P1 (P1 dials) follow.
  party.clientHolder = Role::Client;
  client = take(Role::Client);
  // P1 dials P0 first: P0 starts the session once P1's link has come, and
  // the dealer once both parties have.
  if (cfg.role == Role::P1)
    peer = dial(cfg.p0Addr, Role::P0);
  joinDealer();
  if (cfg.role == Role::P0) {
    peer = take(Role::P1);
  } else {
    Seed m{};
    client->recvExact(FrameType::Seed, m.data(), 16);
    party.clientMask.reseed(m);
  }
  wireParty();
}

void Session::joinDealer() {
  auto d = dial(cfg_.dealerAddr, Role::Dealer);
  Seed s{};
  d->recvExact(FrameType::Seed, s.data(), 16);
  if (cfg_.role == Role::P0) {
    party.setSeeds(s, Seed{});
    dealerP0 = std::move(d);
  } else {
    party.setSeeds(Seed{}, s);
    dealerP1 = std::move(d);
  }
}

void Session::wireParty() {
  if (cfg_.role == Role::Client) {
    party.clientHolder = Role::Client;
    party.server[0] = server0.get();
    party.server[1] = server1.get();
    return;
  }
  party.client = client.get();
  if (cfg_.role == Role::Dealer) {
    party.material = dealerP1.get();
    party.material0 = dealerP0.get();
    return;
  }
  party.material = (cfg_.role == Role::P0 ? dealerP0 : dealerP1).get();
  party.peer = peer.get();
  // Every transfer is a chance to tell the dealer we are alive.
  peer->afterTransfer = [this] { keepAlive(); };
  party.material->afterTransfer = [this] { keepAlive(); };
  if (client)
    client->afterTransfer = [this] { keepAlive(); };
}

Session::~Session() = default;

void Session::keepAlive() {
  if (cfg_.role == Role::Dealer || cfg_.role == Role::Client ||
      !party.material)
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
  for (const Channel *c : {dealerP0.get(), dealerP1.get(), peer.get(),
                           client.get(), server0.get(), server1.get()}) {
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
  if (cfg_.role == Role::Client)
    return; // the servers finish among themselves
  if (client)
    client->afterTransfer = nullptr;
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

//===----------------------------------------------------------------------===//
// Switchboard (the serving mode)
//===----------------------------------------------------------------------===//

namespace umbra::rt {

struct Switchboard::Impl {
  Impl(Listener &l, const SessionConfig &c)
      : l(l), cfg(c), serves(linksOf(c.role)), ids(cfg, serves) {
    cfg.runs = 0; // a server: each session brings its own length
  }
  Listener &l;
  SessionConfig cfg;
  std::vector<Role> serves;
  Identifications ids;
  struct Arrival {
    Role role;
    int32_t runs;
    std::unique_ptr<Channel> c;
    Clock::time_point at;
  };
  std::mutex m; // guards filed
  std::condition_variable filedCv;
  std::map<SessionId, std::vector<Arrival>> filed;
  std::atomic<bool> stop{false};
  std::thread acceptor;

  void note(const std::string &s) const {
    if (cfg.log)
      cfg.log(s);
  }
  void refuse(const std::string &from, const std::string &why) {
    note("refused connection from " + from + ": " + why);
  }
  /// A finished identification: filed, or refused with a notice.
  void settle(Candidate &k) {
    if (!k.error.empty())
      return refuse(k.from, k.error);
    std::optional<Role> r = roleNamed(k.role);
    if (!r || std::find(serves.begin(), serves.end(), *r) == serves.end())
      return refuse(k.from, std::string(cfg.tls ? "its certificate is bound to"
                                                : "it claims") +
                                " role " + k.role + ", expected " +
                                ids.names());
    SessionId id;
    std::memcpy(id.data(), k.hello.session, 16);
    if (id == SessionId{})
      return refuse(k.from, "it names no session (is it a two-party-mode "
                            "role? this server runs the serving mode)");
    std::string name = std::string(roleName(*r)) + " at " + k.from +
                       " (session " + sessionName(id) + ")";
    try {
      checkHello(k.hello, name, cfg);
      UMBRA_CHECK(k.hello.runs > 0, "it asks for ", k.hello.runs, " tokens");
    } catch (const Error &e) {
      return refuse(k.from, e.what());
    }
    std::lock_guard<std::mutex> g(m);
    auto &links = filed[id];
    for (const Arrival &a : links)
      if (a.role == *r)
        return refuse(k.from, "session " + sessionName(id) + " already has "
                                  "its " + roleName(*r));
    k.c->setPeerName(name);
    k.c->setTimeout(cfg.ioTimeout);
    k.c->setKeepAliveKind(FrameKind(FrameType::Alive));
    links.push_back({*r, k.hello.runs, std::move(k.c), Clock::now()});
    filedCv.notify_all();
  }
  /// Drops the links of sessions whose other links never came.
  void expire() {
    std::lock_guard<std::mutex> g(m);
    auto limit = std::chrono::duration<double>(cfg.connectTimeout);
    for (auto it = filed.begin(); it != filed.end();) {
      if (!it->second.empty() && Clock::now() - it->second[0].at > limit) {
        note("session " + sessionName(it->first) + ": dropped its " +
             roleName(it->second[0].role) + " link: the rest of the "
             "session did not connect within " +
             std::to_string(int(cfg.connectTimeout)) + " s");
        it = filed.erase(it);
      } else {
        ++it;
      }
    }
  }
  void run() {
    while (!stop) {
      for (Candidate &k : ids.finished())
        settle(k);
      expire();
      ids.acceptFrom(l, 0.1);
    }
  }
};

std::vector<Role> Switchboard::linksOf(Role server) {
  switch (server) {
  case Role::P0:
    return {Role::Client, Role::P1};
  case Role::P1:
    return {Role::Client};
  case Role::Dealer:
    return {Role::P0, Role::P1};
  default:
    fail("the serving mode has no ", roleName(server), " server");
  }
}

Switchboard::Switchboard(Listener &l, const SessionConfig &cfg)
    : impl_(std::make_unique<Impl>(l, cfg)) {
  impl_->acceptor = std::thread([this] { impl_->run(); });
}

Switchboard::~Switchboard() {
  impl_->stop = true;
  impl_->acceptor.join();
}

std::optional<Switchboard::Meeting>
Switchboard::meet(double sec) {
  const std::vector<Role> &need = impl_->serves;
  std::unique_lock<std::mutex> g(impl_->m);
  std::optional<Meeting> found;
  auto ready = [&] {
    for (auto it = impl_->filed.begin(); it != impl_->filed.end(); ++it) {
      bool all = true;
      for (Role r : need) {
        bool has = false;
        for (const auto &a : it->second)
          has |= a.role == r;
        all &= has;
      }
      if (!all)
        continue;
      Meeting mt;
      mt.id = it->first;
      for (auto &a : it->second) {
        mt.runs[a.role] = a.runs;
        mt.links[a.role] = std::move(a.c);
      }
      impl_->filed.erase(it);
      found = std::move(mt);
      return true;
    }
    return false;
  };
  impl_->filedCv.wait_for(g, std::chrono::duration<double>(sec), ready);
  return found;
}

} // namespace umbra::rt
