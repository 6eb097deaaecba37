//===- ProcessTest.cpp - mpc-run end to end, and every failure mode -------===//
//
// These tests spawn the real mpc-run (path from $UMBRA_MPC_RUN, set by
// ctest) and check that each fault ends every party with a clear error and a
// non-zero exit within a bounded time.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Npy.h"
#include "umbra/runtime/net/Link.h"
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;
using namespace umbra::rt;
namespace fs = std::filesystem;

namespace {

struct Proc {
  pid_t pid = -1;
  std::string errPath;
};
struct Result {
  int code = -1;
  std::string err;
  double seconds = 0;
};

std::string mpcRun() {
  const char *p = std::getenv("UMBRA_MPC_RUN");
  return p ? p : "";
}

class ProcessTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (mpcRun().empty())
      GTEST_SKIP() << "UMBRA_MPC_RUN not set (run through ctest)";
    dir = fs::temp_directory_path() /
          ("umbra-proc-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override {
    if (!dir.empty())
      fs::remove_all(dir);
  }
  Proc start(std::vector<std::string> args, const std::string &tag) {
    Proc p;
    p.errPath = (dir / (tag + ".err")).string();
    args.insert(args.begin(), mpcRun());
    std::vector<char *> av;
    for (auto &a : args)
      av.push_back(a.data());
    av.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, p.errPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    EXPECT_EQ(posix_spawn(&p.pid, av[0], &fa, nullptr, av.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return p;
  }
  Result wait(Proc p, double limit = 60) {
    auto t0 = std::chrono::steady_clock::now();
    Result r;
    int st = 0;
    while (true) {
      pid_t w = waitpid(p.pid, &st, WNOHANG);
      if (w == p.pid)
        break;
      double el =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
      if (el > limit) {
        kill(p.pid, SIGKILL);
        waitpid(p.pid, &st, 0);
        ADD_FAILURE() << "process did not finish within " << limit << " s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::ifstream f(p.errPath);
    r.err.assign(std::istreambuf_iterator<char>(f), {});
    return r;
  }
  Result run(std::vector<std::string> args, double limit = 60) {
    return wait(start(std::move(args), "run"), limit);
  }
  std::string program(int variant = 0) {
    ProgramBuilder b(16);
    int x = b.input("x", {4, 16}, Vis::Client);
    std::vector<double> w(16 * 8);
    std::mt19937_64 g(variant + 1);
    for (auto &v : w)
      v = double(int64_t(g() % 200) - 100) / 100.0;
    int ws = b.share(b.constant("w", {16, 8}, Vis::Owner, w));
    int h = b.relu(b.matmulT(b.share(x), ws));
    int m = b.max(h, 1, true);
    int y = b.reveal(b.sub(h, m), RevealTo::Client, "output");
    b.slotInfo(y);
    int out = b.reshape(y, {32});
    b.output(out);
    std::string path =
        (dir / ("prog" + std::to_string(variant) + ".umbra")).string();
    b.writeFile(path);
    std::vector<double> xv(64);
    for (size_t i = 0; i < xv.size(); ++i)
      xv[i] = std::sin(double(i));
    writeNpy((dir / "x.npy").string(), {4, 16}, xv);
    return path;
  }
  std::string input() { return "x=" + (dir / "x.npy").string(); }
  static uint16_t freePort() {
    Listener l(Endpoint{"127.0.0.1", 0});
    return l.port();
  }
  fs::path dir;
};

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
  Result r = run({program(), "--local", "-i", input(), "--fault",
                  "p1:protocol-version", "--timeout", "5"},
                 40);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("protocol version"), std::string::npos) << r.err;
}

TEST_F(ProcessTest, PeerDisconnectsMidRun) {
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
  for (const char *who : {"p0:malformed:3", "p1:malformed:4"}) {
    Result r = run(
        {program(), "--local", "-i", input(), "--fault", who, "--timeout", "5"},
        40);
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("malformed frame"), std::string::npos) << r.err;
  }
}

TEST_F(ProcessTest, HungPeerTimesOut) {
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
