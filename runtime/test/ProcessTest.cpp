//===- ProcessTest.cpp - mpc-run end to end, and every failure mode -------===//
//
// These tests spawn the real mpc-run (path from $UMBRA_MPC_RUN, set by
// ctest; the fault-injection tests its test build mpc-run-testing) and
// check that each fault ends every party with a clear error and a non-zero
// exit within a bounded time.
//
//===----------------------------------------------------------------------===//
#include "ProcessUtil.h"

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

} // namespace
