//===- DebugToolsTest.cpp - Debug tools that cannot leak by accident ------===//
//
// --compare reconstructs every value (weights included) from both parties'
// shares: it runs only with --local, its dumps live in a private mkdtemp
// directory (0700, files 0600) that is gone however the run ends. Fault
// injection and share dumps exist only in mpc-run-testing.
//
//===----------------------------------------------------------------------===//
#include "ProcessUtil.h"

#include <csignal>
#include <sys/stat.h>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

class DebugToolsTest : public ProcessFixture {
protected:
  /// A fresh TMPDIR for the run: a leftover of --compare would be in it.
  fs::path useFreshTmp() {
    fs::path tmp = dir / "tmp";
    fs::create_directories(tmp);
    env = {"TMPDIR=" + tmp.string()};
    return tmp;
  }
  static unsigned modeOf(const fs::path &p) {
    struct stat st;
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return unsigned(st.st_mode & 07777);
  }
};

TEST_F(DebugToolsTest, ProductionBinaryHasNoTestHooks) {
  std::string prog = program();
  for (auto extra : std::vector<std::vector<std::string>>{
           {"--fault", "p1:exit:3"}, {"--dump-shares", (dir / "d").string()}}) {
    for (const char *mode : {"--local", "--role"}) {
      std::vector<std::string> args = {prog, mode};
      if (std::string(mode) == "--role")
        args.push_back("p0");
      args.insert(args.end(), {"-i", input()});
      args.insert(args.end(), extra.begin(), extra.end());
      Result r = run(args, 20);
      EXPECT_NE(r.code, 0) << extra[0];
      EXPECT_NE(r.err.find("The following arguments were not expected"),
                std::string::npos)
          << r.err;
      EXPECT_NE(r.err.find(extra[0]), std::string::npos) << r.err;
    }
  }
  EXPECT_FALSE(fs::exists(dir / "d"));
  // The descriptor a --compare parent hands its children is refused from
  // anyone else (no inherited loopback listeners).
  fs::create_directory(dir / "priv");
  fs::permissions(dir / "priv", fs::perms::owner_all);
  Result r = run({prog, "--role", "p0", "-i", input(), "--dump-fd", "0",
                  "--p0-fd", "1", "--dealer-fd", "2"},
                 20);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--dump-fd is for the roles that --local --compare "
                       "starts"),
            std::string::npos)
      << r.err;
}

TEST_F(DebugToolsTest, ModesThatDoNotCombine) {
  std::string prog = program();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--reference", "--local"},
       "--reference is a plaintext run of every role in this one process; it "
       "does not combine with --local or --role"},
      {{"--reference", "--role", "p1"},
       "--reference is a plaintext run of every role in this one process; it "
       "does not combine with --local or --role"},
      {{"--compare", "--role", "p0"},
       "--compare works only with --local (it reconstructs every value from "
       "both parties' shares on this machine)"},
      {{"--compare", "--reference"}, "--compare works only with --local"},
      {{"--local", "--role", "p0"},
       "--local runs all three roles; it does not combine with --role"}};
  for (const Case &c : cases) {
    std::vector<std::string> args = {prog, "-i", input(), "-o",
                                     (dir / "out").string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Result r = run(args, 20);
    EXPECT_EQ(r.code, 1) << c.message;
    EXPECT_NE(r.err.find("mpc-run: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out")) << c.message;
  }
  // A reference run says what it is.
  Result r = run({prog, "--reference", "-i", input()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("mpc-run: reference: a plaintext run of the float "
                       "reference executor: every input and weight is in "
                       "this one process; nothing is secret-shared, "
                       "nothing is secure"),
            std::string::npos)
      << r.err;
}

TEST_F(DebugToolsTest, CompareLeavesNothingBehind) {
  // Success with the production binary, then a failed role (test binary):
  // the private directory is gone either way.
  fs::path tmp = useFreshTmp();
  std::string prog = program();
  Result r = run({prog, "--local", "--compare", "-i", input()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_empty(tmp));
  exe = mpcRunTesting();
  r = run({prog, "--local", "--compare", "-i", input(), "--fault", "p1:exit:3",
           "--timeout", "5"},
          40);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("p1 exited with status 3"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(tmp));
  // An error in the parent itself (bad input) never creates it.
  r = run(
      {prog, "--local", "--compare", "-i", "x=" + (dir / "no.npy").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(fs::is_empty(tmp));
}

TEST_F(DebugToolsTest, CompareDirectoryIsPrivateAndRemovedOnSignals) {
  // A hung P1 keeps the run going: the directory exists (0700, files 0600)
  // until the parent is signalled; then the roles stop and it is removed.
  exe = mpcRunTesting();
  std::string prog = program();
  for (int sig : {SIGTERM, SIGINT}) {
    fs::path tmp = useFreshTmp();
    Proc p = start({prog, "--local", "--compare", "-i", input(), "--fault",
                    "p1:hang:4", "--timeout", "60"},
                   "hang");
    fs::path cmp;
    bool dumped = false;
    for (int i = 0; i < 500 && !dumped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      for (auto &e : fs::directory_iterator(tmp)) {
        cmp = e.path();
        std::error_code ec;
        dumped = !fs::is_empty(cmp, ec) && !ec;
      }
    }
    if (!dumped)
      kill(p.pid, SIGKILL);
    ASSERT_TRUE(dumped) << "no dump appeared";
    EXPECT_EQ(cmp.filename().string().rfind("umbra-compare-", 0), 0u) << cmp;
    EXPECT_EQ(modeOf(cmp), 0700u);
    for (auto &e : fs::directory_iterator(cmp))
      EXPECT_EQ(modeOf(e.path()), 0600u) << e.path();
    kill(p.pid, sig);
    Result r = wait(p, 20);
    EXPECT_EQ(r.code, 128 + sig) << r.err;
    EXPECT_NE(r.err.find("stopped by signal " + std::to_string(sig)),
              std::string::npos)
        << r.err;
    EXPECT_LT(r.seconds, 10);
    EXPECT_TRUE(fs::is_empty(tmp)) << sig;
  }
}

TEST_F(DebugToolsTest, TestBinaryDumpsOnlyIntoAPrivateDirectory) {
  exe = mpcRunTesting();
  std::string prog = program();
  fs::path open = dir / "shared";
  fs::create_directory(open);
  fs::permissions(open, fs::perms::owner_all | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  Result r =
      run({prog, "--local", "-i", input(), "--dump-shares", open.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("dump directory '" + open.string() +
                       "' must be owned by you with mode 0700 (it has mode "
                       "0755"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(open));
  // A fresh one is made 0700; every file is 0600.
  fs::path priv = dir / "private";
  r = run({prog, "--local", "-i", input(), "--dump-shares", priv.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(modeOf(priv), 0700u);
  size_t files = 0;
  for (auto &e : fs::directory_iterator(priv)) {
    ++files;
    EXPECT_EQ(modeOf(e.path()), 0600u) << e.path();
  }
  EXPECT_GT(files, 4u);
}

} // namespace
