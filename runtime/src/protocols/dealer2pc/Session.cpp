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

std::string hex16(const uint8_t *h) {
  static const char *hx = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) {
    s += hx[h[i] >> 4];
    s += hx[h[i] & 15];
  }
  return s;
}
} // namespace

void Session::handshake(Channel &c, Role expect) {
  Hello mine{}, theirs{};
  std::memcpy(mine.magic, "UMBRAHS1", 8);
  mine.protocol = cfg_.protocolVersion;
  mine.isa = kIsaVersion;
  mine.frac = cfg_.fracBits;
  mine.role = int32_t(cfg_.role);
  mine.cmp = int32_t(cfg_.cmp);
  std::memcpy(mine.hash, cfg_.programHash.data(), 32);
  c.exchange(FrameType::Hello, &mine, sizeof mine, &theirs, sizeof theirs);
  const std::string who = c.peerName();
  UMBRA_CHECK(std::memcmp(theirs.magic, "UMBRAHS1", 8) == 0, "handshake with ",
              who, " failed: not an Umbra peer");
  UMBRA_CHECK(theirs.protocol == mine.protocol, "handshake with ", who,
              " refused: protocol version ", theirs.protocol,
              " differs from ours (", mine.protocol, ")");
  UMBRA_CHECK(theirs.isa == mine.isa, "handshake with ", who,
              " refused: instruction-set version ", theirs.isa,
              " differs from ours (", mine.isa, ")");
  UMBRA_CHECK(std::memcmp(theirs.hash, mine.hash, 32) == 0, "handshake with ",
              who, " refused: program mismatch (", roleName(cfg_.role),
              " runs program ", hex16(mine.hash), "…, ", who, " runs ",
              hex16(theirs.hash), "…)");
  UMBRA_CHECK(theirs.frac == mine.frac, "handshake with ", who,
              " refused: fixed-point mismatch (", mine.frac, " vs ",
              theirs.frac, " fractional bits)");
  UMBRA_CHECK(theirs.cmp == mine.cmp, "handshake with ", who,
              " refused: comparison protocol mismatch (",
              cmpName(Cmp(mine.cmp)), " vs ", cmpName(Cmp(theirs.cmp)), ")");
  // The dealer accepts either party (it learns which from the role frame
  // that follows); a party insists on the role it dialled or accepted.
  bool roleOk = cfg_.role == Role::Dealer
                    ? (theirs.role == 0 || theirs.role == 1)
                    : theirs.role == int32_t(expect);
  UMBRA_CHECK(roleOk, "handshake with ", who, " refused: unexpected role ",
              theirs.role);
}

Session::Session(const SessionConfig &cfg)
    : party(cfg.role, cfg.fracBits), cfg_(cfg) {
  party.cmp = cfg.cmp;
  const double ct = cfg.connectTimeout, io = cfg.ioTimeout;
  if (cfg.role == Role::Dealer) {
    Listener *l = cfg.dealerListener;
    if (!l) {
      ownListener_ = std::make_unique<Listener>(cfg.dealerAddr);
      l = ownListener_.get();
    }
    Seed s0 = Prg::osSeed(), s1 = Prg::osSeed();
    for (int i = 0; i < 2; ++i) {
      int fd = l->accept(ct, i == 0 ? "p0 and p1" : (dealerP0 ? "p1" : "p0"));
      auto c = Channel::adopt(fd, "a party", io);
      handshake(*c, Role::Dealer);
      // The party confirms its role in a second tiny frame.
      int32_t r = -1;
      c->recvExact(FrameType::Seed, &r, sizeof r);
      UMBRA_CHECK(r == 0 || r == 1, "handshake: bad role ", r);
      UMBRA_CHECK(!(r == 0 ? dealerP0 : dealerP1), "two parties claim role p",
                  r);
      c->send(FrameType::Seed, (r == 0 ? s0 : s1).data(), 16);
      (r == 0 ? dealerP0 : dealerP1) = std::move(c);
    }
    party.setSeeds(s0, s1);
    party.material = dealerP1.get();
    party.material0 = dealerP0.get();
    return;
  }
  // Parties: dealer first (gets the seed), then P0 <-> P1.
  auto d = Channel::connect(cfg.dealerAddr, ct, "dealer", io);
  handshake(*d, Role::Dealer);
  int32_t r = int32_t(cfg.role);
  d->send(FrameType::Seed, &r, sizeof r);
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
    int fd = l->accept(ct, "p1");
    peer = Channel::adopt(fd, "p1", io);
    handshake(*peer, Role::P1);
  } else {
    party.setSeeds(Seed{}, s);
    dealerP1 = std::move(d);
    party.material = dealerP1.get();
    peer = Channel::connect(cfg.p0Addr, ct, "p0", io);
    handshake(*peer, Role::P0);
  }
  party.peer = peer.get();
}

Session::~Session() = default;

void Session::finish() {
  uint8_t ok = 1, theirs = 0;
  if (cfg_.role == Role::Dealer) {
    // The parties may still be computing their last instructions.
    dealerP0->setTimeout(cfg_.ioTimeout * 10);
    dealerP1->setTimeout(cfg_.ioTimeout * 10);
    dealerP0->recvExact(FrameType::Done, &theirs, 1);
    dealerP1->recvExact(FrameType::Done, &theirs, 1);
    return;
  }
  peer->exchange(FrameType::Done, &ok, 1, &theirs, 1);
  (cfg_.role == Role::P0 ? dealerP0 : dealerP1)->send(FrameType::Done, &ok, 1);
}

} // namespace umbra::rt
