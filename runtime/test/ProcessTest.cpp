//===- ProcessTest.cpp - mpc-run end to end, and every failure mode -------===//
//
// These tests spawn the real mpc-run (path from $UMBRA_MPC_RUN, set by
// ctest; the fault-injection tests its test build mpc-run-testing) and
// check that each fault ends every party with a clear error and a non-zero
// exit within a bounded time.
//
//===----------------------------------------------------------------------===//
#include "ProcessUtil.h"
#include "Relay.h"
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Npy.h"
#include "umbra/runtime/net/Link.h"

#include <atomic>
#include <cstring>
#include <random>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

class ProcessTest : public ProcessFixture {};

TEST_F(ProcessTest, LocalRunMatchesReference) {
  std::string prog = program();
  Result r = run({prog, "--local", "-i", input(), "-o", (dir / "mpc").string(),
                  "--stats", (dir / "stats.json").string(), "--trace",
                  (dir / "trace.json").string(), "--compare"});
  ASSERT_EQ(r.code, 0) << r.err;
  Result ref =
      run({prog, "--reference", "-i", input(), "-o", (dir / "ref").string()});
  ASSERT_EQ(ref.code, 0) << ref.err;
  // The output slot is unnamed in the builder ("%N"): find the file.
  std::string name;
  for (auto &e : fs::directory_iterator(dir / "ref"))
    name = e.path().filename().string();
  NpyArray a = readNpy((dir / "mpc" / name).string());
  NpyArray b = readNpy((dir / "ref" / name).string());
  ASSERT_EQ(a.data.size(), 32u);
  for (size_t i = 0; i < a.data.size(); ++i)
    EXPECT_NEAR(a.data[i], b.data[i], 1e-3);
  EXPECT_TRUE(fs::exists(dir / "stats.p0.json"));
  EXPECT_TRUE(fs::exists(dir / "stats.dealer.json"));
  EXPECT_TRUE(fs::exists(dir / "trace.p1.json"));
}

TEST_F(ProcessTest, SeparateRolesWithStrippedOwnerWeights) {
  // P0 and the dealer get a copy without the owner's weights; only P1 (the
  // model owner) has the full file. Bits backend, two inferences.
  std::string full = program();
  std::string pub = (dir / "public.umbra").string();
  ASSERT_EQ(run({full, "--strip-owner-weights", pub}).code, 0);
  EXPECT_LT(fs::file_size(pub), fs::file_size(full));
  std::string p0 = "127.0.0.1:" + std::to_string(freePort());
  std::string d = "127.0.0.1:" + std::to_string(freePort());
  auto args = [&](const std::string &prog, const char *role) {
    return std::vector<std::string>{
        prog,
        "--role",
        role,
        "--p0",
        p0,
        "--dealer",
        d,
        "--comparison",
        "bits",
        "--inferences",
        "2",
        "-i",
        input(),
        "-o",
        (dir / "out").string(),
        "--stats",
        (dir / (std::string(role) + ".json")).string()};
  };
  Proc pd = start(args(pub, "dealer"), "dealer");
  Proc p0p = start(args(pub, "p0"), "p0");
  Proc p1p = start(args(full, "p1"), "p1");
  Result rd = wait(pd, 60), r0 = wait(p0p, 60), r1 = wait(p1p, 60);
  EXPECT_EQ(rd.code, 0) << rd.err;
  EXPECT_EQ(r0.code, 0) << r0.err;
  EXPECT_EQ(r1.code, 0) << r1.err;
  EXPECT_NE(r0.err.find("per 2 inferences"), std::string::npos) << r0.err;
  Result ref =
      run({full, "--reference", "-i", input(), "-o", (dir / "ref").string()});
  ASSERT_EQ(ref.code, 0) << ref.err;
  for (auto &e : fs::directory_iterator(dir / "ref")) {
    NpyArray a = readNpy((dir / "out" / e.path().filename()).string());
    NpyArray b = readNpy(e.path().string());
    ASSERT_EQ(a.data.size(), b.data.size());
    for (size_t i = 0; i < a.data.size(); ++i)
      EXPECT_NEAR(a.data[i], b.data[i], 1e-3);
  }
  // P1 with the stripped copy cannot share the weights: clear error.
  Proc qd = start(args(pub, "dealer"), "dealer2");
  Proc q0 = start(args(pub, "p0"), "p02");
  Proc q1 = start(args(pub, "p1"), "p12");
  Result sd = wait(qd, 60), s0 = wait(q0, 60), s1 = wait(q1, 60);
  EXPECT_NE(s1.code, 0);
  EXPECT_NE(s1.err.find("stripped"), std::string::npos) << s1.err;
  EXPECT_NE(s0.code, 0);
  EXPECT_NE(sd.code, 0);
}

TEST_F(ProcessTest, PrivateWorkAndMixedParties) {
  // The client's plaintext ReLU is a program output that P0 writes; a
  // program mixing the client's and the owner's data is refused.
  ProgramBuilder b(16);
  int x = b.input("x", {4, 16}, Vis::Client);
  int r = b.relu(b.scale(x, 3));
  b.output(r);
  std::string prog = (dir / "private.umbra").string();
  b.writeFile(prog);
  program(); // writes x.npy
  Result res = run({prog, "--local", "-i", input(), "-o",
                    (dir / "mpc").string(), "--compare"});
  ASSERT_EQ(res.code, 0) << res.err;
  NpyArray got =
      readNpy((dir / "mpc" / (b.slotInfo(r).name + ".npy")).string());
  ASSERT_EQ(got.data.size(), 64u);
  for (size_t i = 0; i < got.data.size(); ++i)
    EXPECT_NEAR(got.data[i], std::max(0.0, 3 * std::sin(double(i))), 1e-4);

  ProgramBuilder m(16);
  int w = m.constant("w", {4, 16}, Vis::Owner, std::vector<double>(64, 1.0));
  m.instr({m.input("x", {4, 16}, Vis::Client), w},
          {m.slot("y", {4, 16}, Vis::Client, 16)}, makeAttrs(fb::AddT{}));
  std::string bad = (dir / "mixed.umbra").string();
  m.writeFile(bad);
  res = run({bad, "--local", "-i", input()});
  EXPECT_EQ(res.code, 1);
  EXPECT_NE(res.err.find("mixes 'x' (client-private) with 'w' "
                         "(owner-private); share them first"),
            std::string::npos)
      << res.err;
}

TEST_F(ProcessTest, CorruptedProgramIsRefused) {
  std::string prog = program();
  std::vector<char> bytes;
  {
    std::ifstream f(prog, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[bytes.size() / 2] ^= 0x40;
  std::string bad = (dir / "bad.umbra").string();
  std::ofstream(bad, std::ios::binary).write(bytes.data(), bytes.size());
  Result r = run({bad, "--local", "-i", input()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("mpc-run: error: invalid program"), std::string::npos)
      << r.err;
  std::string trunc = (dir / "trunc.umbra").string();
  std::ofstream(trunc, std::ios::binary).write(bytes.data(), 100);
  r = run({trunc, "--role", "p0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(ProcessTest, PeerThatNeverConnects) {
  std::string prog = program();
  uint16_t port = freePort();
  Result r = run({prog, "--role", "p1", "--dealer",
                  "127.0.0.1:" + std::to_string(port), "--connect-timeout", "1",
                  "-i", input()},
                 20);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot connect to dealer"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 10);
  r = run({prog, "--role", "dealer", "--dealer",
           "127.0.0.1:" + std::to_string(freePort()), "--connect-timeout", "1"},
          20);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
}

TEST_F(ProcessTest, MismatchedProgramsAreRefused) {
  std::string a = program(0), b = program(1);
  std::string p0 = "127.0.0.1:" + std::to_string(freePort());
  std::string d = "127.0.0.1:" + std::to_string(freePort());
  std::vector<std::string> common = {
      "--p0", p0,          "--dealer", d,    "--connect-timeout",
      "5",    "--timeout", "5",        "-i", input()};
  auto args = [&](const std::string &prog, const char *role) {
    std::vector<std::string> v = {prog, "--role", role};
    v.insert(v.end(), common.begin(), common.end());
    return v;
  };
  Proc pd = start(args(a, "dealer"), "dealer");
  Proc p0p = start(args(a, "p0"), "p0");
  Proc p1p = start(args(b, "p1"), "p1");
  Result rd = wait(pd, 30), r0 = wait(p0p, 30), r1 = wait(p1p, 30);
  EXPECT_NE(rd.code, 0);
  EXPECT_NE(r0.code, 0);
  EXPECT_NE(r1.code, 0);
  EXPECT_NE(r1.err.find("program mismatch"), std::string::npos) << r1.err;
  EXPECT_NE((rd.err + r0.err).find("program mismatch"), std::string::npos)
      << rd.err << r0.err;
}

TEST_F(ProcessTest, ProtocolVersionMismatchIsRefused) {
  exe = mpcRunTesting();
  Result r = run({program(), "--local", "-i", input(), "--fault",
                  "p1:protocol-version", "--timeout", "5"},
                 40);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("protocol version"), std::string::npos) << r.err;
}

TEST_F(ProcessTest, PeerDisconnectsMidRun) {
  exe = mpcRunTesting();
  for (const char *who : {"p1:exit:3", "p0:exit:4", "dealer:exit:3"}) {
    Result r = run(
        {program(), "--local", "-i", input(), "--fault", who, "--timeout", "5"},
        40);
    EXPECT_EQ(r.code, 1) << who;
    EXPECT_NE(r.err.find("exited with status 3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("lost"), std::string::npos) << who << r.err;
    EXPECT_LT(r.seconds, 20) << who;
  }
}

TEST_F(ProcessTest, MalformedFrame) {
  exe = mpcRunTesting();
  for (const char *who : {"p0:malformed:3", "p1:malformed:4"}) {
    Result r = run(
        {program(), "--local", "-i", input(), "--fault", who, "--timeout", "5"},
        40);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("malformed frame"), std::string::npos) << r.err;
  }
}

TEST_F(ProcessTest, HungPeerTimesOut) {
  exe = mpcRunTesting();
  Result r = run({program(), "--local", "-i", input(), "--fault", "p1:hang:3",
                  "--timeout", "2"},
                 40);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 20);
}

TEST_F(ProcessTest, MissingAndUnknownInputs) {
  std::string prog = program();
  Result r = run({prog, "--local", "--timeout", "5"}, 40);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing input 'x'"), std::string::npos) << r.err;
  r = run({prog, "--reference", "-i", "nope=" + (dir / "x.npy").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no slot named 'nope'"), std::string::npos) << r.err;
}


//===----------------------------------------------------------------------===//
// Transport security: TLS on every link, roles bound to certificates,
// listeners that survive strangers, hung parties noticed by every role.
//===----------------------------------------------------------------------===//

/// The CA and role certificates of scripts/make-certs.sh, made once per
/// test in dir/certs.
std::string makeCerts(const fs::path &dir) {
  std::string d = (dir / "certs").string();
  std::string cmd = std::string(UMBRA_SOURCE_DIR) + "/scripts/make-certs.sh " +
                    d + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return d;
}

std::string loopback(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

/// Occurrences of `needle` in `hay`.
size_t count(const std::string &hay, const std::string &needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos;
       at = hay.find(needle, at + 1))
    ++n;
  return n;
}

/// The frame magic as it appears on the wire (Link.cpp's kFrameMagic).
const std::string kFrameMagicBytes("\x55\x42\x4d\x46", 4);

/// The payloads of every frame of kind `kind` found in a plaintext
/// recording (what a passive observer parses out of the stream).
std::vector<std::string> framesOfKind(const std::string &rec, uint32_t kind) {
  std::vector<std::string> out;
  for (size_t at = rec.find(kFrameMagicBytes); at != std::string::npos;
       at = rec.find(kFrameMagicBytes, at + 1)) {
    if (at + 16 > rec.size())
      break;
    uint32_t k;
    uint64_t len;
    std::memcpy(&k, rec.data() + at + 4, 4);
    std::memcpy(&len, rec.data() + at + 8, 8);
    if (k == kind && at + 16 + len <= rec.size())
      out.push_back(rec.substr(at + 16, len));
  }
  return out;
}

/// Runs the three roles as processes with a recording relay on each link:
/// parties reach the dealer through one relay, P1 reaches P0 through
/// another. Returns what the relays saw; the roles must all succeed.
struct RelayRun {
  std::string recording, errs[3];
};

TEST_F(ProcessTest, RecordingRelaySeesNothingWithTls) {
  std::string prog = program(), certs = makeCerts(dir);
  auto hash = Program::loadFile(prog).hash();
  std::string hashBytes(reinterpret_cast<const char *>(hash.data()), 32);
  Result ref =
      run({prog, "--reference", "-i", input(), "-o", (dir / "ref").string()});
  ASSERT_EQ(ref.code, 0) << ref.err;
  auto runRelayed = [&](bool tls) {
    uint16_t dport = freePort(), pport = freePort();
    test::Relay toDealer(dport), toP0(pport);
    std::string out = (dir / (tls ? "tls" : "plain")).string();
    auto args = [&](const char *role, const std::string &p0,
                    const std::string &d) {
      std::vector<std::string> v = {prog,  "--role", role,   "--p0",
                                    p0,    "--dealer", d,    "-i",
                                    input(), "-o",    out,  "--timeout",
                                    "10",  "--connect-timeout", "20"};
      if (tls)
        v.insert(v.end(), {"--tls-dir", certs});
      return v;
    };
    Proc pd = start(args("dealer", loopback(pport), loopback(dport)), "d");
    Proc p0 = start(args("p0", loopback(pport), loopback(toDealer.port())),
                    "p0");
    Proc p1 = start(
        args("p1", loopback(toP0.port()), loopback(toDealer.port())), "p1");
    RelayRun rr;
    Result r[3] = {wait(pd, 60), wait(p0, 60), wait(p1, 60)};
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(r[i].code, 0) << r[i].err;
      rr.errs[i] = r[i].err;
    }
    for (auto &e : fs::directory_iterator(dir / "ref")) {
      NpyArray a = readNpy((fs::path(out) / e.path().filename()).string());
      NpyArray b = readNpy(e.path().string());
      EXPECT_EQ(a.data.size(), b.data.size());
      for (size_t i = 0; i < a.data.size() && i < b.data.size(); ++i)
        EXPECT_NEAR(a.data[i], b.data[i], 1e-3);
    }
    rr.recording = toDealer.recorded() + toP0.recorded();
    return rr;
  };

  // Plaintext (loopback): the observer reads the hellos, both seeds and
  // every frame; this is what the TLS run must hide.
  RelayRun plain = runRelayed(false);
  EXPECT_GE(count(plain.recording, "UMBRAHS1"), 6u);
  EXPECT_GE(count(plain.recording, kFrameMagicBytes), 20u);
  EXPECT_GE(count(plain.recording, hashBytes), 6u);
  std::vector<std::string> seeds =
      framesOfKind(plain.recording, 7 /* FrameType::Seed */);
  ASSERT_EQ(seeds.size(), 2u);
  EXPECT_EQ(seeds[0].size(), 16u);
  EXPECT_NE(seeds[0], seeds[1]);
  EXPECT_FALSE(framesOfKind(plain.recording, 2 /* Open: W-B, x-A */).empty());
  EXPECT_FALSE(framesOfKind(plain.recording, 5 /* Reveal */).empty());
  EXPECT_NE(plain.errs[0].find("plaintext (loopback)"), std::string::npos);

  // TLS: not one frame header, hello, program hash or seed-frame in the
  // clear on any link, and every role says what it verified.
  RelayRun tls = runRelayed(true);
  EXPECT_GT(tls.recording.size(), 60000u);
  EXPECT_EQ(count(tls.recording, "UMBRAHS1"), 0u);
  EXPECT_EQ(count(tls.recording, kFrameMagicBytes), 0u);
  EXPECT_EQ(count(tls.recording, hashBytes), 0u);
  EXPECT_EQ(count(tls.recording, hashBytes.substr(0, 8)), 0u);
  for (const char *what :
       {"link to p0 at", "link to p1 at", "peer p0 verified",
        "peer p1 verified"})
    EXPECT_NE(tls.errs[0].find(what), std::string::npos) << tls.errs[0];
  EXPECT_NE(tls.errs[1].find("TLS 1.3"), std::string::npos) << tls.errs[1];
  EXPECT_NE(tls.errs[1].find("peer dealer verified"), std::string::npos);
  EXPECT_NE(tls.errs[2].find("peer p0 verified"), std::string::npos)
      << tls.errs[2];
}

TEST_F(ProcessTest, WrongCertificatesAndStrangersAreRefused) {
  std::string prog = program(), certs = makeCerts(dir);
  uint16_t dport = freePort(), pport = freePort();
  std::string out = (dir / "out").string();
  auto args = [&](const char *role, std::vector<std::string> tls) {
    std::vector<std::string> v = {prog, "--role", role, "--p0",
                                  loopback(pport), "--dealer", loopback(dport),
                                  "-i", input(), "-o", out, "--timeout", "10",
                                  "--connect-timeout", "60"};
    v.insert(v.end(), tls.begin(), tls.end());
    return v;
  };
  auto c = [&](const std::string &f) { return certs + "/" + f; };
  Proc pd = start(args("dealer", {"--tls-dir", certs}), "dealer");
  Proc p0 = start(args("p0", {"--tls-dir", certs}), "p0");
  // A TLS client (openssl s_client) presenting `cert`, trusting both CAs.
  std::string both = c("both-ca.pem");
  {
    std::ifstream a(c("ca.pem")), b(c("other-ca.pem"));
    std::ofstream o(both);
    o << a.rdbuf() << b.rdbuf();
  }
  auto sclient = [&](uint16_t port, const std::string &cert,
                     const char *version = "-tls1_3") {
    std::string cmd = "sleep 2 | openssl s_client -quiet " +
                      std::string(version) + " -connect " +
                      loopback(port) + " -cert " + c(cert + ".pem") +
                      " -key " + c(cert + ".key") + " -CAfile " + both +
                      " >/dev/null 2>&1";
    return std::thread([cmd] { (void)std::system(cmd.c_str()); });
  };
  // The strangers come first, one after the other.
  auto stranger = [&](uint16_t port, const std::string &bytes, double hold) {
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; ++i)
      if ((fd = test::loopbackSocket(false, port)) < 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_GE(fd, 0);
    if (!bytes.empty())
      ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                ssize_t(bytes.size()));
    std::this_thread::sleep_for(std::chrono::duration<double>(hold));
    close(fd);
  };
  stranger(dport, "GET / HTTP/1.0\r\n\r\n", 0.5);
  stranger(dport, "", 6.0); // silent past the listener's 5 s
  stranger(pport, kFrameMagicBytes + std::string("\x01\0\0\0garbage-gar", 15),
           0.5);
  std::thread tlsClients[] = {
      sclient(dport, "other-p1"), sclient(dport, "client"),
      sclient(dport, "norole"), sclient(pport, "p0"),
      sclient(dport, "p1", "-tls1_2")};
  for (std::thread &t : tlsClients)
    t.join();
  // P1 without TLS, and P1 trusting another CA: refused, with clear errors.
  Result noTls = run(args("p1", {}), 30);
  EXPECT_EQ(noTls.code, 1);
  EXPECT_NE(noTls.err.find("connection to dealer at " + loopback(dport) +
                           " lost"),
            std::string::npos)
      << noTls.err;
  Result otherCa = run(args("p1", {"--tls-cert", c("other-p1.pem"), "--tls-key",
                                   c("other-p1.key"), "--tls-ca",
                                   c("other-ca.pem")}),
                       30);
  EXPECT_EQ(otherCa.code, 1);
  EXPECT_NE(otherCa.err.find("TLS handshake with dealer at " + loopback(dport) +
                             " failed: its certificate is not accepted"),
            std::string::npos)
      << otherCa.err;
  // The real P1: the session still completes, with the right outputs.
  Proc p1 = start(args("p1", {"--tls-dir", certs}), "p1");
  Result rd = wait(pd, 60), r0 = wait(p0, 60), r1 = wait(p1, 60);
  EXPECT_EQ(rd.code, 0) << rd.err;
  EXPECT_EQ(r0.code, 0) << r0.err;
  EXPECT_EQ(r1.code, 0) << r1.err;
  Result ref =
      run({prog, "--reference", "-i", input(), "-o", (dir / "ref").string()});
  for (auto &e : fs::directory_iterator(dir / "ref")) {
    NpyArray a = readNpy((fs::path(out) / e.path().filename()).string());
    NpyArray b = readNpy(e.path().string());
    ASSERT_EQ(a.data.size(), b.data.size());
    for (size_t i = 0; i < a.data.size(); ++i)
      EXPECT_NEAR(a.data[i], b.data[i], 1e-3);
  }
  // Each refusal is one notice naming the address and the reason.
  for (const char *why :
       {"does not speak TLS", "no TLS handshake within 5 s",
        "its certificate is not accepted", "bound to role client, expected",
        "bound to no Umbra role", "tlsv1 alert unknown ca",
        "unsupported protocol"})
    EXPECT_NE(rd.err.find(why), std::string::npos) << why << "\n" << rd.err;
  EXPECT_GE(count(rd.err, "[dealer] refused connection from 127.0.0.1:"), 8u)
      << rd.err;
  EXPECT_NE(r0.err.find("[p0] refused connection from 127.0.0.1:"),
            std::string::npos)
      << r0.err;
  EXPECT_NE(r0.err.find("bound to role p0, expected p1"), std::string::npos)
      << r0.err;
}

TEST_F(ProcessTest, StrangersHeldOpenDoNotDelayTheRealPeers) {
  // Connections are identified side by side: three silent sockets and one
  // that trickles keep-alive frames (empty Alive frames must not count as
  // progress before a peer is identified) stay open on the dealer's port,
  // two on P0's, for longer than --connect-timeout; the real roles still
  // meet at once, in plaintext and with TLS.
  std::string prog = program(), certs = makeCerts(dir);
  for (bool tls : {false, true}) {
    uint16_t dport = freePort(), pport = freePort();
    std::string out = (dir / (tls ? "tls" : "plain")).string();
    auto args = [&](const char *role) {
      std::vector<std::string> v = {prog, "--role", role, "--p0",
                                    loopback(pport), "--dealer",
                                    loopback(dport), "-i", input(), "-o", out,
                                    "--connect-timeout", "4"};
      if (tls)
        v.insert(v.end(), {"--tls-dir", certs});
      return v;
    };
    Proc pd = start(args("dealer"), "dealer");
    Proc p0 = start(args("p0"), "p0");
    std::atomic<bool> stop{false};
    auto hold = [&](uint16_t port, bool trickle) {
      return std::thread([&, port, trickle] {
        int fd = -1;
        for (int i = 0; i < 100 && fd < 0 && !stop; ++i)
          if ((fd = test::loopbackSocket(false, port)) < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::string alive = kFrameMagicBytes + std::string("\x08\0\0\0", 4) +
                            std::string(8, '\0');
        for (int i = 0; i < 120 && !stop; ++i) {
          if (trickle && fd >= 0)
            (void)::send(fd, alive.data(), alive.size(), MSG_NOSIGNAL);
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (fd >= 0)
          close(fd);
      });
    };
    std::vector<std::thread> strangers;
    for (int i = 0; i < 3; ++i)
      strangers.push_back(hold(dport, false));
    strangers.push_back(hold(dport, true));
    for (int i = 0; i < 2; ++i)
      strangers.push_back(hold(pport, false));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Proc p1 = start(args("p1"), "p1");
    Result r[3] = {wait(pd, 30), wait(p0, 30), wait(p1, 30)};
    stop = true;
    for (std::thread &t : strangers)
      t.join();
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(r[i].code, 0) << tls << " " << r[i].err;
    EXPECT_LT(r[2].seconds, 4.0) << tls << r[2].err;
  }
}

TEST_F(ProcessTest, PlaintextOnlyOnLoopbackAndCertificateChecks) {
  std::string prog = program(), certs = makeCerts(dir);
  auto c = [&](const std::string &f) { return certs + "/" + f; };
  std::vector<std::string> base = {prog,    "--role",
                                   "p1",    "--p0",
                                   "10.255.255.1:7000", "--dealer",
                                   loopback(freePort()), "-i",
                                   input(), "--connect-timeout",
                                   "1"};
  Result r = run(base, 20);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("plaintext links to a non-loopback address"),
            std::string::npos)
      << r.err;
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return run(v, 20);
  };
  // --insecure passes the check (and then finds no dealer there).
  r = with({"--insecure"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot connect to dealer"), std::string::npos) << r.err;
  r = with({"--tls-cert", c("p0.pem"), "--tls-key", c("p0.key"), "--tls-ca",
            c("ca.pem")});
  EXPECT_NE(r.err.find("runs as p1 but its certificate is bound to role p0"),
            std::string::npos)
      << r.err;
  r = with({"--tls-cert", c("other-p1.pem"), "--tls-key", c("other-p1.key"),
            "--tls-ca", c("ca.pem")});
  EXPECT_NE(r.err.find("is not signed by the CA"), std::string::npos) << r.err;
  r = with({"--tls-cert", c("p1.pem"), "--tls-key", c("p0.key"), "--tls-ca",
            c("ca.pem")});
  EXPECT_NE(r.err.find("does it belong to certificate"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("key values mismatch"), std::string::npos) << r.err;
  r = with({"--tls-cert", c("norole.pem"), "--tls-key", c("norole.key"),
            "--tls-ca", c("ca.pem")});
  EXPECT_NE(r.err.find("bound to no Umbra role"), std::string::npos) << r.err;
  fs::permissions(c("p1.key"), fs::perms::owner_read | fs::perms::group_read |
                                   fs::perms::others_read);
  r = with({"--tls-dir", certs});
  EXPECT_NE(r.err.find("is accessible by other users (mode 444)"),
            std::string::npos)
      << r.err;
  r = with({"--tls-dir", certs, "--insecure"});
  EXPECT_NE(r.err.find("--insecure contradicts"), std::string::npos) << r.err;
  // --local says it is plaintext, and runs over TLS with --tls-dir.
  fs::permissions(c("p1.key"), fs::perms::owner_read | fs::perms::owner_write);
  r = run({prog, "--local", "-i", input()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("--local: links are plaintext on loopback"),
            std::string::npos)
      << r.err;
  r = run({prog, "--local", "-i", input(), "--tls-dir", certs});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.err, "TLS 1.3 (TLS_"), 12u) << r.err;
  EXPECT_EQ(r.err.find("plaintext"), std::string::npos) << r.err;
}

TEST_F(ProcessTest, EveryRoleNoticesAHungPartyWithinTimeout) {
  // The hung party stays alive and connected but silent: every role ends
  // within about --timeout (2 s), the dealer too (it used to wait 10x).
  exe = mpcRunTesting();
  for (const char *who : {"p0", "p1"}) {
    std::string prog = program();
    std::string p0 = loopback(freePort()), d = loopback(freePort());
    auto args = [&](const char *role) {
      std::vector<std::string> v = {prog, "--role", role,  "--p0", p0,
                                    "--dealer", d, "-i", input(), "--timeout",
                                    "2"};
      if (std::string(role) == who)
        v.insert(v.end(), {"--fault", "hang:3"});
      return v;
    };
    Proc pd = start(args("dealer"), "dealer");
    Proc q0 = start(args("p0"), "p0");
    Proc q1 = start(args("p1"), "p1");
    Proc &hung = std::string(who) == "p0" ? q0 : q1;
    Proc &other = std::string(who) == "p0" ? q1 : q0;
    Result rd = wait(pd, 15), ro = wait(other, 15);
    kill(hung.pid, SIGKILL);
    wait(hung, 5);
    EXPECT_EQ(rd.code, 1) << who << rd.err;
    EXPECT_EQ(ro.code, 1) << who << ro.err;
    EXPECT_LT(rd.seconds, 2 + 3.0) << who << rd.err;
    EXPECT_LT(ro.seconds, 2 + 3.0) << who << ro.err;
    EXPECT_NE(ro.err.find(std::string("timed out after 2 s waiting for ") +
                          who + " at"),
              std::string::npos)
        << ro.err;
  }
}

} // namespace
