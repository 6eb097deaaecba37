//===- OutsourcedTest.cpp - The thin client's share and reveal, in process ===//
//
// The outsourced mode (docs/serving.md) over the serving mode's real
// connections (Switchboard, per-session links): the client shares its
// values as x - m to P0, m drawn by P1 from a stream whose seed the client
// gave it; a reveal to the client sends it both shares. Each test checks
// what every party receives, not only the result.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "umbra/runtime/Session.h"

#include <gtest/gtest.h>
#include <mutex>

using namespace umbra::rt;

namespace {

/// What each party of one outsourced run received, and the result.
struct Views {
  Vec shares[2];     // P0's and P1's shares of the client's value
  Vec p0FromClient;  // every word P0 received from the client
  uint64_t p1FromClient = 0, p0FromP1 = 0, p1FromP0 = 0; // frame bytes
  Vec revealed;      // what the client reconstructed
  bool serversLearnedNothing = true;
};

/// The client shares `x`; the servers reveal it back to the client.
Views shareAndReveal(const Vec &x) {
  Views v;
  std::mutex m;
  const size_t n = x.size();
  test::runOutsourced(
      [&](Session &s) {
        Party &P = s.party;
        if (P.role == Role::P0)
          s.client->onRecv = [&](FrameType t, const uint8_t *d, size_t k) {
            if (t == FrameType::Share)
              v.p0FromClient.insert(v.p0FromClient.end(),
                                    reinterpret_cast<const uint64_t *>(d),
                                    reinterpret_cast<const uint64_t *>(d) +
                                        k / 8);
          };
        uint64_t peer0 = P.peer ? P.peer->stats.bytesRecv : 0;
        Vec share = shareInput(P, Role::Client, {}, n);
        Vec back = reveal(P, share, RevealTo::Client);
        std::lock_guard<std::mutex> g(m);
        if (P.role == Role::Dealer)
          return;
        v.shares[int(P.role)] = share;
        v.serversLearnedNothing = v.serversLearnedNothing && back.empty();
        (P.role == Role::P0 ? v.p0FromP1 : v.p1FromP0) =
            P.peer->stats.bytesRecv - peer0;
        if (P.role == Role::P1)
          v.p1FromClient = s.client->stats.bytesRecv;
      },
      [&](Session &s) {
        EXPECT_TRUE(shareInput(s.party, Role::Client, x, n).empty());
        Vec got = reveal(s.party, Vec(n), RevealTo::Client);
        std::lock_guard<std::mutex> g(m);
        v.revealed = got;
      });
  return v;
}

TEST(Outsourced, ClientSharesAndAloneReceivesItsValues) {
  Vec x = test::randomFixed(4096, -100, 100, 16, 1);
  Views v = shareAndReveal(x);
  EXPECT_EQ(test::reconstruct(v.shares), x);
  EXPECT_EQ(v.revealed, x);
  EXPECT_TRUE(v.serversLearnedNothing);
  // P0 receives x - m from the client, nothing from P1; P1 receives from
  // the client its hello (80 B + 16 B header) and the seed (16 + 16) and
  // nothing more, not even its own share, and nothing from P0.
  EXPECT_EQ(v.p0FromClient.size(), x.size());
  EXPECT_EQ(v.p1FromClient, 96u + 32u);
  EXPECT_EQ(v.p0FromP1, 0u);
  EXPECT_EQ(v.p1FromP0, 0u);
}

TEST(Outsourced, P0sViewOfTheClientIsUniformWhateverTheValue) {
  // One-hot rows (almost all zero) and random values: P0's view is
  // uniform on the top byte and the same for both (chi-square, 255 dof).
  Vec onehot(1 << 15, 0), random = test::randomFixed(1 << 15, -5, 5, 16, 2);
  for (size_t i = 0; i < onehot.size(); i += 1536)
    onehot[i] = 1;
  Views a = shareAndReveal(onehot), b = shareAndReveal(random);
  EXPECT_LT(test::topByteChi2(a.p0FromClient), 400);
  EXPECT_LT(test::topByteChi2(b.p0FromClient), 400);
  EXPECT_LT(test::twoSampleTopByteChi2(a.p0FromClient, b.p0FromClient), 400);
  // P1's share is the mask itself: uniform too, and fresh per session.
  EXPECT_LT(test::topByteChi2(a.shares[1]), 400);
  Views again = shareAndReveal(onehot);
  EXPECT_NE(again.shares[1], a.shares[1]);
  EXPECT_EQ(test::reconstruct(again.shares), onehot);
}

TEST(Outsourced, ATwoPartyRoleIsRefusedByTheSwitchboard) {
  // A hello without a session id (a two-party P1) at a serving P0 is
  // refused with a notice; the switchboard goes on.
  Listener pl(Endpoint{"127.0.0.1", 0});
  SessionConfig c;
  c.role = Role::P0;
  c.p0Addr = {"127.0.0.1", pl.port()};
  c.connectTimeout = 2;
  std::vector<std::string> notes;
  std::mutex m;
  c.log = [&](const std::string &s) {
    std::lock_guard<std::mutex> g(m);
    notes.push_back(s);
  };
  Switchboard board(pl, c);
  SessionConfig p1 = c;
  p1.role = Role::P1;
  p1.log = nullptr;
  std::string err = test::errorOf([&] {
    auto ch = Channel::connect(p1.p0Addr, 2, "p0", 2);
    // The stranger's side of the hello exchange, by hand.
    uint8_t hello[80] = {'U', 'M', 'B', 'R', 'A', 'H', 'S', '1'};
    uint8_t theirs[80];
    ch->exchange(FrameType::Hello, hello, sizeof hello, theirs, sizeof theirs);
    ch->recvExact(FrameType::Seed, theirs, 16); // the server hangs up
  });
  EXPECT_NE(err.find("lost"), std::string::npos) << err;
  EXPECT_FALSE(board.meet(0.5));
  std::lock_guard<std::mutex> g(m);
  bool refused = false;
  for (const std::string &s : notes)
    refused |= s.find("refused connection from") != std::string::npos;
  EXPECT_TRUE(refused);
}

} // namespace
