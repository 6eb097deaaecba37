//===- ProcessUtil.h - Spawning the real mpc-run from a test -----*- C++
//-*-===//
//
// The fixture of the process-level tests: a fresh directory per test, the
// real binaries (mpc-run from $UMBRA_MPC_RUN, set by ctest, and
// mpc-run-testing next to it, with the fault and dump hooks), a small
// program with a client input and an owner weight.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Npy.h"
#include "umbra/runtime/net/Link.h"
#include <chrono>
#include <cstdlib>
#include <cstring>
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

namespace umbra::rt::test {

namespace fs = std::filesystem;

struct Proc {
  pid_t pid = -1;
  std::string errPath;
};
struct Result {
  int code = -1;
  std::string err;
  double seconds = 0;
};

/// The production binary (no test hooks).
inline std::string mpcRun() {
  const char *p = std::getenv("UMBRA_MPC_RUN");
  return p ? p : "";
}
/// The test binary (--fault, --dump-shares), built next to mpc-run.
inline std::string mpcRunTesting() { return mpcRun() + "-testing"; }

class ProcessFixture : public ::testing::Test {
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
    args.insert(args.begin(), exe.empty() ? mpcRun() : exe);
    // The environment with `env` ("NAME=value") replacing its entries.
    std::vector<std::string> envs(env);
    for (char **e = environ; *e; ++e) {
      std::string kv = *e;
      bool replaced = false;
      for (const std::string &o : env)
        replaced |= kv.compare(0, o.find('=') + 1, o, 0, o.find('=') + 1) == 0;
      if (!replaced)
        envs.push_back(kv);
    }
    std::vector<char *> ev;
    for (auto &e : envs)
      ev.push_back(e.data());
    ev.push_back(nullptr);
    std::vector<char *> av;
    for (auto &a : args)
      av.push_back(a.data());
    av.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, p.errPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    EXPECT_EQ(posix_spawn(&p.pid, av[0], &fa, nullptr, av.data(), ev.data()),
              0);
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
  /// The binary `start` runs (mpc-run unless a test picks mpcRunTesting())
  /// and extra environment entries for it.
  std::string exe;
  std::vector<std::string> env;
  fs::path dir;
};

} // namespace umbra::rt::test
