//===- SessionTest.cpp - Keep-alives and hung parties, in process ---------===//
#include "TestUtil.h"
#include "umbra/runtime/Session.h"

#include <chrono>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <thread>

using namespace umbra::rt;

namespace {

using Clock = std::chrono::steady_clock;

/// Runs the three roles in threads (like test::runSessions) with `party`
/// as each party's work; returns each role's error ("" when it succeeded)
/// and the seconds it took, indexed by Role.
struct Outcome {
  std::string err[3];
  double seconds[3] = {0, 0, 0};
};
Outcome runRoles(const std::function<void(Session &)> &party, double io) {
  Listener dl(Endpoint{"127.0.0.1", 0}), pl(Endpoint{"127.0.0.1", 0});
  Outcome o;
  std::thread ts[3];
  auto t0 = Clock::now();
  for (int r = 0; r < 3; ++r)
    ts[r] = std::thread([&, r] {
      SessionConfig c;
      c.role = Role(r);
      c.p0Addr = {"127.0.0.1", pl.port()};
      c.dealerAddr = {"127.0.0.1", dl.port()};
      c.p0Listener = &pl;
      c.dealerListener = &dl;
      c.ioTimeout = io;
      o.err[r] = test::errorOf([&] {
        Session s(c);
        if (c.role != Role::Dealer)
          party(s);
        s.finish();
      });
      o.seconds[r] =
          std::chrono::duration<double>(Clock::now() - t0).count();
    });
  for (auto &t : ts)
    t.join();
  return o;
}

} // namespace

TEST(Session, KeepAlivesLetPartiesComputeLongerThanTheTimeout) {
  // Each party computes (here: sleeps) 2.5 s between transfers with a 1 s
  // timeout, telling the dealer it is alive: nobody times out.
  Outcome o = runRoles(
      [](Session &s) {
        for (int i = 0; i < 50; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          s.keepAlive();
        }
      },
      1.0);
  for (int r = 0; r < 3; ++r)
    EXPECT_EQ(o.err[r], "") << roleName(Role(r));
}

TEST(Session, DealerNoticesASilentPartyWithinTheTimeout) {
  // P0 stays connected but silent for 4 s; the dealer gives up after about
  // its 1 s timeout and names P0 (it used to wait ten timeouts).
  Outcome o = runRoles(
      [](Session &s) {
        if (s.party.role == Role::P0)
          std::this_thread::sleep_for(std::chrono::seconds(4));
      },
      1.0);
  int d = int(Role::Dealer);
  EXPECT_NE(o.err[d].find("timed out after 1 s waiting for p0 at 127.0.0.1:"),
            std::string::npos)
      << o.err[d];
  EXPECT_LT(o.seconds[d], 2.5);
  EXPECT_NE(o.err[int(Role::P1)].find("waiting for p0 at"), std::string::npos)
      << o.err[int(Role::P1)];
}

TEST(Session, KeepAliveFramesAreSkippedAndNotCounted) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Link a("b", 2), b("a", 2);
  a.adoptSocket(sv[0]);
  b.adoptSocket(sv[1]);
  a.setKeepAliveKind(9);
  b.setKeepAliveKind(9);
  a.sendKeepAlive();
  a.sendKeepAlive();
  a.sendFrame(3, "abc", 3);
  std::vector<uint8_t> got = b.recvFrame(3, 16);
  EXPECT_EQ(std::string(got.begin(), got.end()), "abc");
  EXPECT_EQ(a.stats.bytesSent, 16u + 3);
  EXPECT_EQ(b.stats.bytesRecv, 16u + 3);
  // A keep-alive is not a frame of any other kind either: only skipped.
  a.sendKeepAlive();
  a.sendFrame(4, "x", 1);
  EXPECT_NE(test::errorOf([&] { b.recvFrame(3, 16); })
                .find("expected a unknown frame, got unknown"),
            std::string::npos);
}
