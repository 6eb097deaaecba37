//===- mpc-run.cpp - Runs a compiled Umbra program ------------------------===//
//
//   mpc-run model.umbra --role p0 --p0 10.0.0.1:7000 --dealer 10.0.0.2:7001 \
//           -i tokens=tokens.npy -o out/
//   mpc-run model.umbra --local -i tokens=tokens.npy -o out/ --stats s.json
//   mpc-run model.umbra --reference -i tokens=tokens.npy -o ref/
//   mpc-run model.umbra --dump [--json]
//
// --local spawns the dealer, P0 and P1 as separate processes on loopback.
// Every failure prints "mpc-run: error: ..." and exits non-zero.
//
// Built twice: `mpc-run` (production) and `mpc-run-testing`, with
// UMBRA_TEST_HOOKS defined, which alone has --fault (fault injection for
// the process tests) and --dump-shares (each party's shares to a private
// directory). The production binary dumps shares only as a --local child
// of --compare, into a directory its parent made with mkdtemp and passed
// as an inherited descriptor (see dumpDirFd).
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Isa.h"
#include "umbra/runtime/Npy.h"
#include "umbra/runtime/Session.h"
#include "umbra/runtime/Stats.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <map>
#include <set>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;
using namespace umbra::rt;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string program;
  std::string role;
  bool local = false, reference = false, progress = false, compare = false;
  bool dump = false, json = false;
  std::string p0Addr = "127.0.0.1:7100", dealerAddr = "127.0.0.1:7101";
  /// P1's address for clients (the outsourced mode).
  std::string p1Addr;
  /// The serving mode: sessions to serve before exiting (0: until stopped).
  bool serve = false;
  int sessions = 0;
  int p0Fd = -1, dealerFd = -1;
  std::vector<std::string> inputs;
  std::string outDir, statsPath, tracePath;
  /// Test binary only: where --dump-shares puts each party's shares.
  std::string dumpDir;
  /// A --local child of --compare: the inherited private dump directory.
  int dumpFd = -1;
  double connectTimeout = 10, ioTimeout = 60;
  int inferences = 1;
  /// Tokens to generate (a generation artifact), 0: one inference.
  int generate = 0;
  std::string tokenizer;
  std::string fault;
  std::string comparison = "dcf";
  std::string stripTo;
  std::string tlsCert, tlsKey, tlsCa, tlsDir;
  bool insecure = false;
};

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string withRole(const std::string &path, const std::string &role) {
  fs::path p(path);
  return (p.parent_path() /
          (p.stem().string() + "." + role + p.extension().string()))
      .string();
}

std::map<std::string, std::string> parseInputs(const Options &o) {
  std::map<std::string, std::string> m;
  for (const std::string &s : o.inputs) {
    auto eq = s.find('=');
    UMBRA_CHECK(eq != std::string::npos && eq > 0, "input '", s,
                "' must be name=file.npy");
    m[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return m;
}

/// Reads and checks (checkInput: exact shape, finite, ids in the
/// vocabulary, within the ring's range) the inputs this role owns, before
/// any connection; `all` takes every role's inputs (the float reference,
/// and the --local parent checking everything before it spawns a role).
std::map<int, std::vector<double>>
loadInputs(const Program &prog, const Options &o, Role role, bool all = false) {
  auto files = parseInputs(o);
  for (auto &[name, file] : files) {
    int s = prog.slotByName(name);
    UMBRA_CHECK(s >= 0, "program has no slot named '", name, "'");
    UMBRA_CHECK(std::find(prog.inputs.begin(), prog.inputs.end(), s) !=
                    prog.inputs.end(),
                "slot '", name, "' is not a program input");
  }
  std::map<int, std::vector<double>> loaded;
  for (int s : prog.inputs) {
    const SlotInfo &si = prog.slots[s];
    UMBRA_CHECK(si.vis != Vis::Shared, "input '", si.name,
                "' is state carried secret-shared from one program to the "
                "next; only a generation artifact carries it (mpc-run "
                "--generate)");
    bool mine = all || si.vis == Vis::Public ||
                (si.vis == Vis::Client && role == Role::P0) ||
                (si.vis == Vis::Owner && role == Role::P1);
    if (!mine)
      continue;
    auto it = files.find(si.name);
    UMBRA_CHECK(it != files.end(), "missing input '", si.name, "' (",
                visName(si.vis), ", shape ", shapeStr(si.shape), "): pass -i ",
                si.name, "=file.npy");
    NpyArray a = readNpy(it->second);
    checkInput(prog, s, a.shape, a.data);
    loaded[s] = std::move(a.data);
  }
  return loaded;
}

void writeOutputs(const Program &prog, const Options &o,
                  const std::function<bool(int)> &has,
                  const std::function<std::vector<double>(int)> &get,
                  const std::function<bool(int)> &skip) {
  if (o.outDir.empty())
    return;
  fs::create_directories(o.outDir);
  for (int s : prog.outputs) {
    if (!has(s) || skip(s))
      continue;
    const SlotInfo &si = prog.slots[s];
    // The loader refuses such names; checked again where the path is made.
    UMBRA_CHECK(isPlainFileName(si.name), "output name '", si.name,
                "' is not a plain file name");
    writeNpy((fs::path(o.outDir) / (si.name + ".npy")).string(), si.shape,
             get(s), si.elemType);
  }
}

/// Runs the float reference `ex` of `prog` on the inputs of every role.
void runFloat(FloatExecutor &ex, const Program &prog, const Options &o) {
  for (const auto &[s, v] : loadInputs(prog, o, Role::Dealer, /*all=*/true))
    ex.setInput(s, v);
  ex.run();
}

int runReference(const Options &o) {
  std::fprintf(stderr,
               "mpc-run: reference: a plaintext run of the float reference "
               "executor: every input and weight is in this one process; "
               "nothing is secret-shared, nothing is secure\n");
  Program prog = Program::loadFile(o.program);
  FloatExecutor ex(prog);
  runFloat(ex, prog, o);
  writeOutputs(
      prog, o, [](int) { return true; }, [&](int s) { return ex.value(s); },
      [](int) { return false; });
  for (int s : prog.outputs) {
    const auto &v = ex.value(s);
    std::fprintf(stderr, "reference: %s %s", prog.slots[s].name.c_str(),
                 shapeStr(prog.slots[s].shape).c_str());
    for (size_t i = 0; i < std::min<size_t>(v.size(), 8); ++i)
      std::fprintf(stderr, " %g", v[i]);
    std::fprintf(stderr, "%s\n", v.size() > 8 ? " ..." : "");
  }
  return 0;
}

/// The model owner (P1) computes with its own weights: a copy without them
/// cannot run as P1. Said before any connection, not as a lost peer later.
void checkCopyFits(const Program &prog, Role role, const std::string &path) {
  bool stripped = prog.artifact().header().ownerBlobsStripped();
  UMBRA_CHECK(role != Role::P1 || !stripped, "'", path,
              "' is a stripped copy without the model owner's weights; P1 "
              "(the model owner) needs the full artifact");
}

/// The TLS identity of `role` from --tls-cert/--tls-key/--tls-ca, or from
/// --tls-dir DIR: DIR/ca.pem, DIR/<role>.pem and DIR/<role>.key (the layout
/// scripts/make-certs.sh writes).
void applyTls(const Options &o, Role role, SessionConfig &cfg) {
  TlsConfig t{o.tlsCert, o.tlsKey, o.tlsCa};
  if (!o.tlsDir.empty()) {
    UMBRA_CHECK(t.certFile.empty() && t.keyFile.empty() && t.caFile.empty(),
                "--tls-dir stands for --tls-cert, --tls-key and --tls-ca: "
                "pass one or the others");
    fs::path d(o.tlsDir);
    std::string r = roleName(role);
    t = {(d / (r + ".pem")).string(), (d / (r + ".key")).string(),
         (d / "ca.pem").string()};
  }
  bool any = !t.certFile.empty() || !t.keyFile.empty() || !t.caFile.empty();
  UMBRA_CHECK(!(any && o.insecure), "--insecure contradicts the TLS options");
  cfg.insecure = o.insecure;
  if (any)
    cfg.tls = std::make_shared<TlsContext>(t);
}

//===----------------------------------------------------------------------===//
// Share dumps (--compare; --dump-shares in the test binary)
//===----------------------------------------------------------------------===//

/// Opens directory `path` (made 0700 when `create` and absent) and refuses
/// one that is not a directory owned by this user with mode 0700: dumped
/// shares of both parties reconstruct every value, weights included.
int openPrivateDir(const std::string &path, bool create) {
  if (create && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    fail("cannot create dump directory '", path, "': ", std::strerror(errno));
  int fd =
      ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  UMBRA_CHECK(fd >= 0, "cannot open dump directory '", path,
              "': ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid() ||
      (st.st_mode & 07777) != 0700) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", unsigned(st.st_mode & 07777));
    std::string why = "' must be owned by you with mode 0700 (it has mode ";
    fail("dump directory '", path, why, mode, ", owner uid ", st.st_uid, ")");
  }
  return fd;
}

/// Whether `fd` is a listening TCP socket on 127.0.0.1: what a --local
/// parent passes its children (--p0-fd, --dealer-fd).
bool isLoopbackListener(int fd) {
  int listening = 0;
  socklen_t len = sizeof(listening);
  sockaddr_in a{};
  socklen_t alen = sizeof(a);
  return fd >= 0 &&
         getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
         listening &&
         getsockname(fd, reinterpret_cast<sockaddr *>(&a), &alen) == 0 &&
         a.sin_family == AF_INET && ntohl(a.sin_addr.s_addr) == INADDR_LOOPBACK;
}

/// The directory this role dumps its shares into, or -1. In production
/// only a --local child of --compare dumps: it holds the parent's two
/// loopback listeners and the parent's private directory (inherited
/// descriptors, no path on the command line). The test binary also takes
/// --dump-shares DIR.
int dumpDirFd(const Options &o) {
  if (o.dumpFd >= 0) {
    UMBRA_CHECK(isLoopbackListener(o.p0Fd) && isLoopbackListener(o.dealerFd),
                "--dump-fd is for the roles that --local --compare starts");
    struct stat st;
    UMBRA_CHECK(fstat(o.dumpFd, &st) == 0 && S_ISDIR(st.st_mode) &&
                    st.st_uid == geteuid() && (st.st_mode & 07777) == 0700,
                "--dump-fd ", o.dumpFd,
                " is not a private directory (owned by you, mode 0700)");
    return o.dumpFd;
  }
  if (!o.dumpDir.empty())
    return openPrivateDir(o.dumpDir, /*create=*/true);
  return -1;
}

/// Writes one value's dump (kind byte, then the ring words) as a 0600 file.
void writeDump(int dirFd, const std::string &name, uint8_t kind,
               const Vec &data) {
  int fd =
      ::openat(dirFd, name.c_str(),
               O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  UMBRA_CHECK(fd >= 0, "cannot write share dump '", name,
              "': ", std::strerror(errno));
  auto put = [&](const void *p, size_t n) {
    const char *c = static_cast<const char *>(p);
    while (n) {
      ssize_t w = ::write(fd, c, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        ::close(fd);
        fail("cannot write share dump '", name, "': ", std::strerror(errno));
      }
      c += w;
      n -= size_t(w);
    }
  };
  put(&kind, 1);
  put(data.data(), data.size() * 8);
  ::close(fd);
}

/// A byte-level BPE tokenizer.json (umbra_models.tokenizer): ids below 256
/// are bytes, id 256 + i is merges[i]'s pair. Decoding only.
struct Detokenizer {
  std::vector<std::string> pieces;
  explicit Detokenizer(const std::string &path) {
    std::ifstream f(path);
    UMBRA_CHECK(f, "cannot read tokenizer '", path, "'");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(f);
    } catch (const std::exception &e) {
      fail("tokenizer '", path, "' is not JSON: ", e.what());
    }
    UMBRA_CHECK(j.value("type", "") == "bpe" && j.contains("merges"),
                "tokenizer '", path, "' is not a byte-level BPE tokenizer");
    for (int b = 0; b < 256; ++b)
      pieces.push_back(std::string(1, char(b)));
    for (const auto &m : j["merges"]) {
      int64_t a = m.at(0).get<int64_t>(), b = m.at(1).get<int64_t>();
      UMBRA_CHECK(a >= 0 && b >= 0 && size_t(a) < pieces.size() &&
                      size_t(b) < pieces.size(),
                  "tokenizer '", path, "': bad merge");
      pieces.push_back(pieces[a] + pieces[b]);
    }
  }
  std::string text(int64_t id) const {
    return id >= 0 && size_t(id) < pieces.size() ? pieces[id] : "";
  }
};

/// The client inputs a generation feeds per token (e.g. Gumbel noise): a
/// decode-step client input other than the token and the position, given
/// as one file with a leading axis of one row per generated token; row 0
/// goes to the prefill when it has an input of that name.
struct GenerationInputs {
  /// Prefill inputs (row 0 of the per-token ones).
  std::map<int, std::vector<double>> prefill;
  /// A prompt longer than the prefill's: the tokens after its first T, fed
  /// to decode steps before the first generated token.
  std::vector<double> promptTail;
  /// Per decode-step slot: the rows of every token.
  std::map<int, std::vector<std::vector<double>>> perToken;
};

GenerationInputs loadGenerationInputs(const Program &prog,
                                      const Program &step, const Options &o,
                                      Role role, bool all = false) {
  const GenerationInfo &g = *prog.generation;
  auto files = parseInputs(o);
  GenerationInputs in;
  auto holds = [&](Vis v) {
    return all || v == Vis::Public ||
           (v == Vis::Client && (role == Role::P0 || role == Role::Client)) ||
           (v == Vis::Owner && role == Role::P1);
  };
  std::set<std::string> used;
  for (int s : step.inputs) {
    const SlotInfo &si = step.slots[s];
    bool cache = false;
    for (const CacheLink &c : g.cache)
      cache = cache || c.decodeInput == s;
    if (cache || s == g.decodeIds || s == g.decodePosition || !holds(si.vis))
      continue;
    auto it = files.find(si.name);
    UMBRA_CHECK(it != files.end(), "missing input '", si.name,
                "' of every generated token (", visName(si.vis), ", shape [",
                o.generate, "] + ", shapeStr(si.shape), "): pass -i ", si.name,
                "=file.npy");
    NpyArray a = readNpy(it->second);
    UMBRA_CHECK(!a.shape.empty() && a.shape[0] == o.generate &&
                    numel(Shape(a.shape.begin() + 1, a.shape.end())) ==
                        si.numel,
                "input '", si.name, "' has shape ", shapeStr(a.shape),
                ", expected one row of ", shapeStr(si.shape), " per token: [",
                o.generate, ", ...]");
    auto &rows = in.perToken[s];
    for (int k = 0; k < o.generate; ++k) {
      rows.emplace_back(a.data.begin() + k * si.numel,
                        a.data.begin() + (k + 1) * si.numel);
      checkInput(step, s, si.shape, rows.back());
    }
    used.insert(si.name);
  }
  for (int s : prog.inputs) {
    const SlotInfo &si = prog.slots[s];
    if (!holds(si.vis))
      continue;
    auto it = files.find(si.name);
    UMBRA_CHECK(it != files.end(), "missing input '", si.name, "' (",
                visName(si.vis), ", shape ", shapeStr(si.shape),
                "): pass -i ", si.name, "=file.npy");
    int d = step.slotByName(si.name);
    if (used.count(si.name) && d >= 0 && in.perToken.count(d)) {
      in.prefill[s] = in.perToken[d][0];
      checkInput(prog, s, si.shape, in.prefill[s]);
      continue;
    }
    NpyArray a = readNpy(it->second);
    // The prompt may be longer than the prefill's T: [1, t], t > T.
    int ids = step.slotByName(si.name);
    if (ids == g.decodeIds && a.shape.size() == si.shape.size() &&
        !a.shape.empty() && a.shape.back() > si.shape.back() &&
        int64_t(a.data.size()) == a.shape.back()) {
      int64_t T = si.shape.back(), t = a.shape.back();
      UMBRA_CHECK(t + o.generate - 1 <= g.maxSeq, "a prompt of ", t,
                  " tokens and ", o.generate, " generated tokens exceed the "
                  "artifact's maximum sequence of ", g.maxSeq, " positions");
      in.promptTail.assign(a.data.begin() + T, a.data.end());
      a.data.resize(T);
      a.shape = si.shape;
      for (double v : in.promptTail)
        checkInput(step, ids, step.slots[ids].shape, {v});
    }
    UMBRA_CHECK(ids != g.decodeIds || a.data.size() >= size_t(si.numel),
                "the prompt '", si.name, "' has ", a.data.size(),
                " tokens, fewer than the prefill's ", si.numel,
                " (compile the prefill for the shortest prompt to serve; "
                "longer ones are fed by decode steps)");
    checkInput(prog, s, a.shape, a.data);
    in.prefill[s] = std::move(a.data);
    used.insert(si.name);
  }
  for (const auto &[name, file] : files) {
    int a = prog.slotByName(name), b = step.slotByName(name);
    auto isIn = [](const Program &p, int s) {
      return s >= 0 && std::find(p.inputs.begin(), p.inputs.end(), s) !=
                           p.inputs.end();
    };
    bool carried = b == g.decodeIds || b == g.decodePosition;
    for (const CacheLink &c : g.cache)
      carried = carried || b == c.decodeInput;
    UMBRA_CHECK(isIn(prog, a) || (isIn(step, b) && !carried), "'", name,
                "' is not an input of the prefill or the decode step that "
                "the client gives (the token, its position and the cache "
                "are carried from step to step)");
  }
  return in;
}

/// The counters and seconds of one phase of `stats` from index `from`.
struct PhaseCost {
  Counters c;
  double seconds = 0;
};
PhaseCost phaseSum(const std::vector<InstrStat> &stats, size_t from,
                   const std::string &phase) {
  PhaseCost p;
  for (size_t i = from; i < stats.size(); ++i)
    if (stats[i].phase == phase) {
      p.c.sent += stats[i].c.sent;
      p.c.recv += stats[i].c.recv;
      p.c.rounds += stats[i].c.rounds;
      p.c.dealerBytes += stats[i].c.dealerBytes;
      p.seconds += stats[i].seconds;
    }
  return p;
}

/// One generation session as one role (see runGenerate).
struct GenerationRun {
  Session &session;
  const Program &prog;
  Role role;
  /// Tokens to generate (--generate, or the serving client's request).
  int tokens = 1;
  double t0 = 0;
  int dumpFd = -1;
  /// A server of the serving mode: its deployment of the prefill and of
  /// the decode step, shared read-only by its sessions.
  const Executor *deployedPrefill = nullptr, *deployedDecode = nullptr;
  /// How log lines name this role ("p0", "p0 session 3f2a91c0").
  std::string name;
  /// Where --stats goes for this session ("" : nowhere).
  std::string statsPath;
};

/// mpc-run --generate N as one role: the prefill, then N - 1 decode steps
/// at the public context lengths T, T + 1, ...; the cache is carried as
/// shares from each program to the next and never revealed; each token is
/// revealed to the client alone (P0 in the two-party mode, the thin client
/// in the outsourced mode), which feeds it to the next step.
int runGenerate(const Options &o, const GenerationRun &run) {
  Session &session = run.session;
  const Program &prog = run.prog;
  const Role role = run.role;
  const int nTokens = run.tokens;
  const double t0 = run.t0;
  const int dumpFd = run.dumpFd;
  const GenerationInfo &g = *prog.generation;
  const char *rn = run.name.c_str();
  Party &party = session.party;
  // The client's holder: its inputs, its tokens, its text.
  const bool holder = role == party.clientHolder;
  const bool server = party.outsourced() && role != Role::Client;
  // Who holds cache shares: P0 and P1 (not the dealer, not the client).
  const bool sharesCache = role == Role::P0 || role == Role::P1;
  Program first = prog.decodeStep(g.promptLen);
  GenerationInputs inputs;
  if (!server)
    inputs = loadGenerationInputs(prog, first, o, role);
  std::unique_ptr<Detokenizer> tok;
  if (!o.tokenizer.empty() && holder)
    tok = std::make_unique<Detokenizer>(o.tokenizer);
  std::vector<double> tokens;
  nlohmann::ordered_json steps = nlohmann::json::array();
  // One token's costs: its program's online phase (and deployment, for the
  // first run of each program).
  // One program run's costs: its online phase (and its deployment, for
  // the first run of each program). `token` is the generated token it
  // chose (0-based), or -1 for a run that reads the prompt only.
  auto report = [&](int token, bool prefill, int64_t context,
                    const PhaseCost &online, const PhaseCost &deploy,
                    const PhaseCost &prepare) {
    const Counters &c = online.c;
    double seconds = online.seconds;
    const char *what = prefill ? "prefill" : token < 0 ? "prompt" : "decode";
    nlohmann::ordered_json j;
    j["token"] = token;
    j["program"] = what;
    j["context"] = context;
    j["seconds"] = seconds;
    j["online_bytes_sent"] = c.sent;
    j["online_bytes_received"] = c.recv;
    j["rounds"] = c.rounds;
    j["dealer_bytes"] = c.dealerBytes;
    j["deploy_seconds"] = deploy.seconds;
    j["deploy_bytes_sent"] = deploy.c.sent;
    j["deploy_bytes_received"] = deploy.c.recv;
    j["deploy_dealer_bytes"] = deploy.c.dealerBytes;
    j["prepare_bytes_sent"] = prepare.c.sent;
    j["prepare_rounds"] = prepare.c.rounds;
    j["prepare_dealer_bytes"] = prepare.c.dealerBytes;
    std::string text;
    if (holder && token >= 0) {
      j["id"] = int64_t(tokens.back());
      if (tok) {
        text = tok->text(int64_t(tokens.back()));
        j["text"] = text;
      }
      std::fprintf(stdout, "token %d/%d: %lld%s%s\n", token + 1, nTokens,
                   (long long)tokens.back(), tok ? " " : "",
                   tok ? nlohmann::json(text).dump().c_str() : "");
      std::fflush(stdout);
    }
    steps.push_back(j);
    std::string label = token >= 0 ? "token " + std::to_string(token + 1) +
                                         "/" + std::to_string(nTokens)
                                   : std::string("prompt");
    std::fprintf(stderr,
                 "[%s] %s (%s at context %lld): %.3f s, online %llu B sent, "
                 "%llu rounds, dealer %llu B\n",
                 rn, label.c_str(), what, (long long)context, seconds,
                 (unsigned long long)c.sent, (unsigned long long)c.rounds,
                 (unsigned long long)c.dealerBytes);
  };
  auto keepAlive = [&](size_t, size_t) { session.keepAlive(); };
  // Share dumps (a --compare child or the test binary): each party's share
  // of every cache tensor after each token, and its view during each token
  // (the words it receives): P1's from P0, and in the outsourced mode
  // P0's from the client. A serving session's files carry its id.
  std::vector<uint64_t> view;
  auto record = [&](FrameType t, const uint8_t *d, size_t n) {
    if (t == FrameType::Open || t == FrameType::Share || t == FrameType::Reveal)
      view.insert(view.end(), reinterpret_cast<const uint64_t *>(d),
                  reinterpret_cast<const uint64_t *>(d) + n / 8);
  };
  if (dumpFd >= 0 && role == Role::P1)
    session.peer->onRecv = record;
  if (dumpFd >= 0 && role == Role::P0 && server)
    session.client->onRecv = record;
  const std::string dumpName =
      run.deployedPrefill ? sessionName(session.config().session) + "_" : "";
  auto dump = [&](int k, const std::vector<Vec> &cache) {
    if (dumpFd < 0 || !sharesCache)
      return;
    for (size_t i = 0; i < g.cache.size(); ++i)
      writeDump(dumpFd,
                dumpName + roleName(role) + "_cache_" + std::to_string(k) +
                    "_" + g.cache[i].name + ".bin",
                1, cache[i]);
    if (role == Role::P1 || server)
      writeDump(dumpFd,
                dumpName + roleName(role) + "_view_" + std::to_string(k) +
                    ".bin",
                0, view);
    view.clear();
  };

  // The opt-in end-of-sequence stop: the parties learn it from the
  // program (revealed to every role); P0 tells the dealer, which waits for
  // it before the next step's material.
  bool stopped = false;
  auto stopHere = [&](const Executor &ex, int slot) {
    if (slot < 0)
      return false;
    uint8_t bit = 0;
    if (role == Role::Dealer) {
      session.dealerP0->recvExact(FrameType::Reveal, &bit, 1);
    } else if (role == Role::Client) {
      session.server0->recvExact(FrameType::Reveal, &bit, 1);
    } else {
      bit = ex.plainReal(slot)[0] != 0;
      if (role == Role::P0)
        session.dealerP0->send(FrameType::Reveal, &bit, 1);
      if (role == Role::P0 && server)
        session.client->send(FrameType::Reveal, &bit, 1);
    }
    if (bit)
      std::fprintf(stderr, "[%s] stopped: the end-of-sequence token\n", rn);
    return bit != 0;
  };
  // A prompt longer than the prefill's: its tail goes through decode steps
  // (teacher-forced; their tokens are not generated ones). Its length is
  // public: P0 announces it to P1 and the dealer, which check it fits (in
  // the outsourced mode P0 has it from the client).
  int64_t tail = int64_t(inputs.promptTail.size());
  if (role == Role::Client)
    session.server0->send(FrameType::Reveal, &tail, sizeof tail);
  if (role == Role::P0 && server)
    session.client->recvExact(FrameType::Reveal, &tail, sizeof tail);
  if (role == Role::P0) {
    UMBRA_CHECK(tail >= 0 && g.promptLen + tail + nTokens - 1 <= g.maxSeq,
                "the client's prompt of ", g.promptLen + tail, " tokens and ",
                nTokens, " generated tokens exceed the artifact's maximum "
                "sequence of ", g.maxSeq, " positions");
    session.peer->send(FrameType::Reveal, &tail, sizeof tail);
    session.dealerP0->send(FrameType::Reveal, &tail, sizeof tail);
  } else if (role != Role::Client) {
    (role == Role::P1 ? session.peer : session.dealerP0)
        ->recvExact(FrameType::Reveal, &tail, sizeof tail);
    UMBRA_CHECK(tail >= 0 && g.promptLen + tail + nTokens - 1 <= g.maxSeq,
                "the client's prompt of ", g.promptLen + tail, " tokens and ",
                nTokens, " generated tokens exceed the artifact's maximum "
                "sequence of ", g.maxSeq, " positions");
  }
  // The prefill, then the decode step's executor, which takes over the
  // prefill's deployment (the same weights, shared and masked once); the
  // prefill's executor is gone before the first step.
  std::vector<Vec> cache;
  std::unique_ptr<Program> cur = std::make_unique<Program>(std::move(first));
  Executor dec(*cur, party, run.deployedDecode);
  dec.onInstr = keepAlive;
  {
    Executor pre(prog, party, run.deployedPrefill);
    pre.onInstr = keepAlive;
    for (const auto &[s, v] : inputs.prefill)
      pre.setInput(s, v);
    if (!run.deployedPrefill)
      pre.runDeployment();
    pre.runInference();
    if (holder && tail == 0)
      tokens.push_back(pre.plainReal(g.prefillToken)[0]);
    report(tail == 0 ? 0 : -1, true, g.promptLen,
           phaseSum(pre.stats, 0, "inference"), phaseSum(pre.stats, 0, "deploy"),
           phaseSum(pre.stats, 0, "prepare"));
    stopped = tail == 0 && stopHere(pre, g.prefillStop);
    for (const CacheLink &c : g.cache)
      cache.push_back(sharesCache ? pre.raw(c.prefillOutput) : Vec());
    if (!run.deployedDecode)
      dec.adoptDeployment(pre);
  }
  dump(0, cache);

  // Decode steps: one executor, rebound to each context.
  int runs = int(tail) + nTokens - 1;
  for (int k = 1; k <= runs && !stopped; ++k) {
#ifdef UMBRA_TEST_HOOKS
    // "exit-run:K": this role disappears before decode run K.
    if (o.fault == "exit-run:" + std::to_string(k))
      _exit(3);
#endif
    int64_t context = g.promptLen + k - 1;
    bool promptStep = k <= tail; // feeds prompt token T + k - 1
    int token = k >= tail ? k - int(tail) : -1; // the generated token it chooses
    std::unique_ptr<Program> next;
    if (cur->context != context) {
      next = std::make_unique<Program>(prog.decodeStep(context));
      dec.rebind(*next);
      cur = std::move(next);
    }
    if (sharesCache)
      for (size_t i = 0; i < g.cache.size(); ++i)
        dec.setShare(g.cache[i].decodeInput, std::move(cache[i]));
    // The client feeds its prompt's next token or the last generated one
    // back; the position is public. Per-token inputs of runs whose choice
    // is not a generated token are zero.
    if (holder)
      dec.setInput(g.decodeIds,
                   {promptStep ? inputs.promptTail[k - 1] : tokens.back()});
    if (g.decodePosition >= 0)
      dec.setInput(g.decodePosition, {double(context)});
    for (const auto &[s, rows] : inputs.perToken)
      dec.setInput(s, token < 0 ? std::vector<double>(rows[0].size(), 0.0)
                                : rows[token]);
    size_t from = dec.stats.size();
    dec.runInference();
    if (holder && k >= tail)
      tokens.push_back(dec.plainReal(g.decodeToken)[0]);
    report(token, false, context, phaseSum(dec.stats, from, "inference"),
           phaseSum(dec.stats, from, "deploy"),
           phaseSum(dec.stats, from, "prepare"));
    stopped = k >= tail && stopHere(dec, g.decodeStop);
    for (size_t i = 0; i < g.cache.size(); ++i)
      cache[i] = sharesCache ? dec.raw(g.cache[i].decodeOutput) : Vec();
    dump(k, cache);
  }
  session.finish();
  if (holder && !o.outDir.empty()) {
    fs::create_directories(o.outDir);
    writeNpy((fs::path(o.outDir) / "tokens.npy").string(),
             {int64_t(tokens.size())}, tokens, uint8_t(fb::ElemType::Int64));
  }
  if (!run.statsPath.empty()) {
    nlohmann::ordered_json j;
    j["role"] = rn;
    j["program_hash"] = prog.hashHex();
    j["prompt_len"] = g.promptLen;
    j["max_seq"] = g.maxSeq;
    j["seconds_total"] = now() - t0;
    j["stopped"] = stopped;
    j["steps"] = steps;
    writeJson(run.statsPath, j);
  }
  for (const std::string &l : session.describeLinks())
    std::fprintf(stderr, "[%s] traffic with %s\n", rn, l.c_str());
  size_t generated = 0;
  for (const auto &st : steps)
    generated += st["token"].get<int>() >= 0;
  std::fprintf(stderr, "[%s] generated %zu tokens in %.3f s\n", rn, generated,
               now() - t0);
  return 0;
}

/// What --generate needs, checked before any connection: a generation
/// artifact, a token count it can serve, and this role's inputs.
void checkGenerate(const Program &prog, const Options &o, Role role,
                   bool all = false) {
  UMBRA_CHECK(prog.generation, "--generate needs a generation artifact "
                               "(mpc-compile prefill.onnx --decode-step "
                               "decode.onnx --max-seq S)");
  const GenerationInfo &g = *prog.generation;
  UMBRA_CHECK(o.generate <= g.maxSeq - g.promptLen + 1, "--generate ",
              o.generate, " tokens after a prompt of ", g.promptLen,
              " exceed the artifact's maximum sequence of ", g.maxSeq,
              " positions (at most ", g.maxSeq - g.promptLen + 1, " tokens)");
  UMBRA_CHECK(o.inferences == 1, "--inferences does not combine with "
                                 "--generate");
  loadGenerationInputs(prog, prog.decodeStep(g.promptLen), o, role, all);
}

Role roleOf(const std::string &name) {
  std::optional<Role> r = roleNamed(name);
  UMBRA_CHECK(r, "unknown role '", name, "' (dealer, p0, p1 or client)");
  return *r;
}

/// The session settings every mode of a role shares: addresses, inherited
/// listeners, timeouts, TLS, the log, the program's parameters.
struct RoleSetup {
  SessionConfig cfg;
  std::unique_ptr<Listener> p0Listener, dealerListener;
};
void configure(RoleSetup &rs, const Options &o, Role role,
               const Program &prog, const std::string &logName) {
  SessionConfig &cfg = rs.cfg;
  cfg.role = role;
  cfg.p0Addr = Endpoint::parse(o.p0Addr);
  cfg.dealerAddr = Endpoint::parse(o.dealerAddr);
  if (!o.p1Addr.empty())
    cfg.p1Addr = Endpoint::parse(o.p1Addr);
  if (o.p0Fd >= 0 && role == Role::P0) {
    rs.p0Listener = std::make_unique<Listener>(o.p0Fd);
    cfg.p0Listener = rs.p0Listener.get();
  }
  if (o.dealerFd >= 0 && role == Role::Dealer) {
    rs.dealerListener = std::make_unique<Listener>(o.dealerFd);
    cfg.dealerListener = rs.dealerListener.get();
  }
  cfg.connectTimeout = o.connectTimeout;
  cfg.ioTimeout = o.ioTimeout;
  applyTls(o, role, cfg);
  cfg.log = [logName](const std::string &s) {
    std::fprintf(stderr, "[%s] %s\n", logName.c_str(), s.c_str());
  };
  cfg.programHash = prog.hash();
  cfg.fracBits = prog.fracBits;
  UMBRA_CHECK(o.comparison == "dcf" || o.comparison == "bits",
              "--comparison must be dcf or bits");
  cfg.cmp = o.comparison == "dcf" ? Cmp::Dcf : Cmp::Bits;
#ifdef UMBRA_TEST_HOOKS
  if (o.fault == "protocol-version")
    cfg.protocolVersion = kProtocolVersion + 1;
#endif
}

int runRole(const Options &o) {
  Role role = roleOf(o.role);
  UMBRA_CHECK(role != Role::Client || (o.generate > 0 && !o.p1Addr.empty()),
              "--role client is the thin client of the outsourced mode: it "
              "generates (--generate N) with servers started with --serve, "
              "at --p0 and --p1");
  const char *rn = roleName(role);
  double t0 = now();
  Program prog = Program::loadFile(o.program);
  checkCopyFits(prog, role, o.program);
  // This role's inputs are read and checked before any connection.
  std::map<int, std::vector<double>> inputs;
  if (o.generate > 0)
    checkGenerate(prog, o, role);
  else
    inputs = loadInputs(prog, o, role);
  int dumpFd = dumpDirFd(o);
  RoleSetup rs;
  configure(rs, o, role, prog, rn);
  SessionConfig &cfg = rs.cfg;
  cfg.runs = o.generate > 0 ? o.generate : o.inferences;
  Session session(cfg); // a client picks its session id here

  if (o.generate > 0) {
    GenerationRun run{session, prog, role, o.generate, t0, dumpFd};
    run.name = role == Role::Client
                   ? std::string(rn) + " session " +
                         sessionName(session.config().session)
                   : rn;
    run.statsPath = o.statsPath;
    if (role != Role::Client)
      return runGenerate(o, run);
    try {
      return runGenerate(o, run);
    } catch (const Error &e) {
      // A server that refuses a client only closes the link (it may still
      // be deploying, or not serve at all): say where the reason is.
      std::string m = e.what();
      if (m.find(" lost") == std::string::npos)
        throw;
      fail(m, " (the server ended this session: its log says why; servers "
              "started with --serve take clients once they print "
              "\"serving\")");
    }
  }
  Executor ex(prog, session.party);
  for (const auto &[s, v] : inputs)
    ex.setInput(s, v);

  double lastReport = now();
  size_t done = 0;
#ifdef UMBRA_TEST_HOOKS
  // Fault injection for the tests: "exit:N", "malformed:N", "hang:N".
  std::string fkind;
  long fat = -1;
  if (auto c = o.fault.find(':'); c != std::string::npos) {
    fkind = o.fault.substr(0, c);
    fat = std::stol(o.fault.substr(c + 1));
  }
#endif
  ex.onInstr = [&](size_t idx, size_t total) {
    session.keepAlive();
#ifdef UMBRA_TEST_HOOKS
    if (long(idx) == fat) {
      if (fkind == "exit")
        _exit(3);
      if (fkind == "hang")
        while (true)
          std::this_thread::sleep_for(std::chrono::seconds(1));
      if (fkind == "malformed" && session.peer)
        session.peer->send(FrameType(0x7777), "garbage", 7);
      if (fkind == "malformed" && session.dealerP1)
        session.dealerP1->send(FrameType::Material, "garbage", 7);
    }
#endif
    ++done;
    if (o.progress && now() - lastReport > 1.0) {
      lastReport = now();
      std::fprintf(stderr, "[%s] instruction %zu/%zu (%.1f s)\n", rn, idx,
                   total, now() - t0);
    }
  };
  if (dumpFd >= 0 && role != Role::Dealer)
    ex.onValue = [&](int s) {
      uint8_t k = ex.isShared(s) ? 1 : ex.hasPlain(s) ? 2 : 0;
      writeDump(dumpFd, std::string(rn) + "_" + std::to_string(s) + ".bin", k,
                ex.raw(s));
    };
  ex.runDeployment();
  for (int i = 0; i < o.inferences; ++i)
    ex.runInference();
  session.finish();
  double total = now() - t0;
  for (const std::string &l : session.describeLinks())
    std::fprintf(stderr, "[%s] traffic with %s\n", rn, l.c_str());

  if (role != Role::Dealer)
    writeOutputs(
        prog, o, [&](int s) { return ex.hasPlain(s); },
        [&](int s) { return ex.plainReal(s); },
        [&](int s) {
          // P1 writes only what P0 does not hold (revealed to P1 alone).
          if (role != Role::P1)
            return false;
          for (const InstrInfo &I : prog.instrs)
            if (I.out[0] == s && I.op() == Op::Reveal)
              return I.attrs.AsReveal()->to != RevealTo::P1;
          return true;
        });
  if (!o.statsPath.empty())
    writeJson(o.statsPath, statsJson(ex.stats, role, prog.hashHex(), total));
  if (!o.tracePath.empty())
    writeJson(o.tracePath, chromeTrace(ex.stats, role));
  Counters sum, prep;
  for (const InstrStat &s : ex.stats)
    if (s.phase == "inference" || s.phase == "prepare") {
      Counters &c = s.phase == "inference" ? sum : prep;
      c.sent += s.c.sent;
      c.recv += s.c.recv;
      c.rounds += s.c.rounds;
      c.dealerBytes += s.c.dealerBytes;
    }
  std::fprintf(stderr,
               "[%s] done in %.3f s: online sent %llu B, received %llu B, "
               "%llu rounds, dealer material %llu B (per %d inference%s)\n",
               rn, total, (unsigned long long)sum.sent,
               (unsigned long long)sum.recv, (unsigned long long)sum.rounds,
               (unsigned long long)sum.dealerBytes, o.inferences,
               o.inferences == 1 ? "" : "s, total");
  // Input-independent work of every inference (per-inference shuffles).
  if (prep.rounds)
    std::fprintf(stderr,
                 "[%s] prepared (input-independent, per inference): sent %llu "
                 "B, received %llu B, %llu rounds, dealer material %llu B\n",
                 rn, (unsigned long long)prep.sent,
                 (unsigned long long)prep.recv, (unsigned long long)prep.rounds,
                 (unsigned long long)prep.dealerBytes);
  return 0;
}

/// The serving mode (docs/serving.md): P0, P1 or the dealer, long-running.
/// It connects to the other two servers once and deploys both programs of a
/// generation artifact (the owner's weights shared, the masks of constant
/// matmul operands opened), then serves thin clients' sessions, one after
/// another and side by side, each on its own thread with its own links,
/// seeds, material streams and cache, over that one deployment. A session
/// that fails (its client disappears, a peer times out) ends alone; the
/// server goes on.
int runServe(const Options &o) {
  Role role = roleOf(o.role);
  UMBRA_CHECK(role != Role::Client, "--serve is for p0, p1 and the dealer; "
                                    "a client runs --role client");
  UMBRA_CHECK(o.generate == 0 && o.inputs.empty() && o.outDir.empty() &&
                  o.tracePath.empty(),
              "a server of the serving mode takes no inputs, outputs or "
              "--generate: each client brings its own");
  UMBRA_CHECK(role != Role::P1 || !o.p1Addr.empty(),
              "P1 of the serving mode listens for clients: pass --p1 "
              "HOST:PORT");
  const char *rn = roleName(role);
  Program prog = Program::loadFile(o.program);
  checkCopyFits(prog, role, o.program);
  UMBRA_CHECK(prog.generation, "--serve needs a generation artifact "
                               "(mpc-compile prefill.onnx --decode-step "
                               "decode.onnx --max-seq S)");
  const GenerationInfo &g = *prog.generation;
  Program first = prog.decodeStep(g.promptLen);
  // Every input must be the client's (or carried): a server has no files.
  for (const Program *p : {&prog, &first})
    for (int s : p->inputs) {
      const SlotInfo &si = p->slots[s];
      bool carried = p == &first && (s == g.decodePosition || s == g.decodeIds);
      for (const CacheLink &c : g.cache)
        carried = carried || (p == &first && s == c.decodeInput);
      UMBRA_CHECK(carried || si.vis == Vis::Client,
                  "the serving mode needs every input to be the client's; "
                  "'", si.name, "' is ", visName(si.vis));
    }
  for (const Program *p : {&prog, &first})
    for (const InstrInfo &I : p->instrs)
      UMBRA_CHECK(I.op() != Op::Reveal ||
                      I.attrs.AsReveal()->to != RevealTo::P0,
                  "the program reveals '", p->slots[I.out[0]].name,
                  "' to P0, a server of the outsourced mode; it must go to "
                  "the client");
  RoleSetup rs;
  configure(rs, o, role, prog, rn);
  SessionConfig &cfg = rs.cfg;
  cfg.runs = 0; // sessions bring their own lengths
  // The listener the deployment and the switchboard share.
  std::unique_ptr<Listener> own;
  if (role == Role::P0 && !cfg.p0Listener) {
    own = std::make_unique<Listener>(cfg.p0Addr);
    cfg.p0Listener = own.get();
  }
  if (role == Role::Dealer && !cfg.dealerListener) {
    own = std::make_unique<Listener>(cfg.dealerAddr);
    cfg.dealerListener = own.get();
  }
  std::unique_ptr<Listener> clients;
  if (role == Role::P1)
    clients = std::make_unique<Listener>(cfg.p1Addr);

  // One deployment of both programs, over the servers' own links.
  double t0 = now();
  Session dep(cfg);
  Executor prefill(prog, dep.party), decode(first, dep.party);
  auto keepAlive = [&](size_t, size_t) { dep.keepAlive(); };
  prefill.onInstr = decode.onInstr = keepAlive;
  prefill.runDeployment();
  decode.adoptDeployment(prefill, /*copy=*/true);
  decode.runDeployment();
  dep.finish();
  PhaseCost d1 = phaseSum(prefill.stats, 0, "deploy"),
            d2 = phaseSum(decode.stats, 0, "deploy");
  std::fprintf(stderr,
               "[%s] deployed in %.3f s: %llu B sent, %llu B received, dealer "
               "%llu B\n",
               rn, now() - t0, (unsigned long long)(d1.c.sent + d2.c.sent),
               (unsigned long long)(d1.c.recv + d2.c.recv),
               (unsigned long long)(d1.c.dealerBytes + d2.c.dealerBytes));

  Listener *front = role == Role::P0   ? cfg.p0Listener
                    : role == Role::P1 ? clients.get()
                                       : cfg.dealerListener;
  const int dumpFd = dumpDirFd(o); // the test binary's --dump-shares
  Switchboard board(*front, cfg);
  std::fprintf(stderr, "[%s] serving (%s)\n", rn,
               o.sessions > 0 ? ("until " + std::to_string(o.sessions) +
                                 " sessions have ended")
                                    .c_str()
                              : "until stopped");
  struct Running {
    std::thread t;
    std::atomic<bool> done{false};
  };
  std::list<Running> running;
  std::atomic<int> ended{0}, failed{0};
  int started = 0;
  while (o.sessions == 0 || started < o.sessions) {
    for (auto it = running.begin(); it != running.end();)
      if (it->done) {
        it->t.join();
        it = running.erase(it);
      } else {
        ++it;
      }
    std::optional<Switchboard::Meeting> mt = board.meet(0.25);
    if (!mt)
      continue;
    std::string sn = std::string(rn) + " session " + sessionName(mt->id);
    int32_t n = mt->runs.begin()->second;
    bool agree = true;
    for (const auto &[r, k] : mt->runs)
      agree = agree && k == n;
    if (!agree || n > g.maxSeq - g.promptLen + 1) {
      std::fprintf(stderr,
                   "[%s] refused: %s\n", sn.c_str(),
                   agree ? ("it asks for " + std::to_string(n) +
                            " tokens, more than the artifact's maximum "
                            "sequence allows")
                               .c_str()
                         : "its links ask for different numbers of tokens");
      continue; // its links close; its peers fail it too
    }
    ++started;
    Running &r = running.emplace_back();
    auto links = std::make_shared<ArrivedLinks>(std::move(mt->links));
    SessionConfig sc = cfg;
    sc.session = mt->id;
    sc.runs = n;
    sc.log = [sn](const std::string &m) {
      std::fprintf(stderr, "[%s] %s\n", sn.c_str(), m.c_str());
    };
    r.t = std::thread([&, sc, links, sn, n, rp = &r] {
      try {
        Session session(sc, std::move(*links));
        GenerationRun run{session, prog, role, n, now(), dumpFd};
        run.deployedPrefill = &prefill;
        run.deployedDecode = &decode;
        run.name = sn;
        if (!o.statsPath.empty()) // one file per session: NAME.ROLE.ID.json
          run.statsPath = withRole(o.statsPath, std::string(rn) + "." +
                                                    sessionName(sc.session));
        runGenerate(o, run);
      } catch (const std::exception &e) {
        ++failed;
        std::fprintf(stderr, "[%s] ended with an error: %s\n", sn.c_str(),
                     e.what());
      }
      ++ended;
      rp->done = true;
    });
  }
  for (Running &r : running)
    r.t.join();
  std::fprintf(stderr, "[%s] served %d sessions (%d failed)\n", rn,
               ended.load(), failed.load());
  return 0;
}

int compareDump(const Options &o) {
  Program prog = Program::loadFile(o.program);
  FloatExecutor ref(prog);
  runFloat(ref, prog, o);
  std::printf("%5s  %-10s %-16s %-14s %12s %12s\n", "instr", "op", "result",
              "shape", "max|err|", "max|ref|");
  for (size_t i = 0; i < prog.instrs.size(); ++i) {
    int s = prog.instrs[i].out[0];
    auto readDump = [&](const char *r, uint8_t &kind) {
      std::ifstream f((fs::path(o.dumpDir) /
                       (std::string(r) + "_" + std::to_string(s) + ".bin"))
                          .string(),
                      std::ios::binary);
      Vec v(prog.slots[s].numel);
      kind = 0;
      if (!f)
        return v;
      f.read(reinterpret_cast<char *>(&kind), 1);
      f.read(reinterpret_cast<char *>(v.data()), v.size() * 8);
      return v;
    };
    uint8_t k0, k1;
    Vec a = readDump("p0", k0), b = readDump("p1", k1);
    if (k0 == 0 && k1 == 0)
      continue;
    Vec x = k0 == 2 ? a : k1 == 2 ? b : a;
    if (k0 == 1)
      for (size_t j = 0; j < x.size(); ++j)
        x[j] = a[j] + b[j];
    const auto &rv = ref.value(s);
    double err = 0, mag = 0;
    for (size_t j = 0; j < x.size(); ++j) {
      err = std::max(err,
                     std::fabs(decodeFixed(x[j], prog.slots[s].frac) - rv[j]));
      mag = std::max(mag, std::fabs(rv[j]));
    }
    std::printf("%5zu  %-10s %-16s %-14s %12.3g %12.3g\n", i,
                opName(prog.instrs[i].op()), prog.slots[s].name.c_str(),
                shapeStr(prog.slots[s].shape).c_str(), err, mag);
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// --dump: the artifact for people (text) and for tools (--json)
//===----------------------------------------------------------------------===//

/// An instruction's attributes by schema field name (the instruction table
/// knows their types; a Reveal's reason is shown on its own).
nlohmann::ordered_json attrsJson(const InstrInfo &I) {
  auto j = nlohmann::ordered_json::parse(umbra::rt::attrsJson(I.attrs));
  j.erase("reason");
  return j;
}

/// Who learns the value a Reveal opens.
std::string revealTarget(const InstrInfo &I) {
  std::string to = fb::EnumNameRevealTo(I.attrs.AsReveal()->to);
  for (char &c : to)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return to;
}

/// Numbers as the text dump shows them (%g).
std::string numStr(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

/// [a, b, c] with %g for floats and plain integers.
std::string listStr(const nlohmann::ordered_json &j) {
  std::string r = "[";
  for (size_t i = 0; i < j.size(); ++i)
    r += (i ? ", " : "") + (j[i].is_number_float() ? numStr(j[i].get<double>())
                                                   : j[i].dump());
  return r + "]";
}

/// How many weight values the dump shows.
constexpr int64_t kShownValues = 8;

/// The artifact as JSON: the text dump prints exactly this.
nlohmann::ordered_json dumpJson(const Program &prog) {
  using json = nlohmann::ordered_json;
  const ArtifactHeader &h = prog.artifact().header();
  json j;
  j["format_version"] = h.formatVersion;
  j["isa_version"] = kIsaVersion;
  j["frac_bits"] = prog.fracBits;
  j["program_size"] = h.programSize;
  j["blobs_size"] = h.blobsSize;
  j["owner_weights_stripped"] = h.ownerBlobsStripped();
  j["hash"] = prog.hashHex();
  std::vector<int> weightSlot(prog.weights.size(), -1);
  json slots = json::array();
  for (size_t s = 0; s < prog.slots.size(); ++s) {
    const SlotInfo &si = prog.slots[s];
    if (si.weight >= 0)
      weightSlot[si.weight] = int(s);
    slots.push_back({{"index", s},
                     {"name", si.name},
                     {"shape", si.shape},
                     {"frac_bits", si.frac},
                     {"visibility", visName(si.vis)},
                     {"weight", si.weight}});
    // Integer and bool outputs (written with their type) say which.
    if (si.elemType != 0)
      slots.back()["elem_type"] =
          fb::EnumNameElemType(fb::ElemType(si.elemType));
  }
  j["slots"] = slots;
  json instrs = json::array(), reveals = json::array();
  for (size_t i = 0; i < prog.instrs.size(); ++i) {
    const InstrInfo &I = prog.instrs[i];
    // Who computes it: a party alone (client/owner, in plaintext), both
    // under MPC (shared), or everyone (public).
    const SlotInfo &out = prog.slots[I.out.at(0)];
    instrs.push_back({{"index", i},
                      {"op", opName(I.op())},
                      {"inputs", I.in},
                      {"outputs", I.out},
                      {"attributes", attrsJson(I)},
                      {"reason", I.reason()},
                      {"name", I.name},
                      {"visibility", visName(out.vis)},
                      {"deploy", I.deploy}});
    if (I.op() == Op::Reveal)
      reveals.push_back({{"instruction", i},
                         {"input", I.in.at(0)},
                         {"output", I.out[0]},
                         {"shape", out.shape},
                         {"frac_bits", out.frac},
                         {"to", revealTarget(I)},
                         {"reason", I.reason()}});
  }
  j["instructions"] = instrs;
  j["reveals"] = reveals;
  json weights = json::array();
  for (size_t w = 0; w < prog.weights.size(); ++w) {
    const BlobEntry &b = prog.weights[w];
    int s = weightSlot[w];
    json e = {{"index", w},
              {"slot", s},
              {"visibility", s >= 0 ? visName(prog.slots[s].vis) : "none"},
              {"owner", b.owner},
              {"dtype", dtypeName(b.dtype)},
              {"offset", b.offset},
              {"size", b.size},
              {"sha256", hexString(b.sha256)},
              {"origin", originName(b.origin)},
              {"source", b.source},
              {"present", b.present}};
    if (b.present && s >= 0)
      e["values"] = prog.weightReal(s, kShownValues);
    weights.push_back(e);
  }
  j["weights"] = weights;
  j["inputs"] = prog.inputs;
  j["outputs"] = prog.outputs;
  if (prog.generation) {
    // The decode step, at its smallest context (slot and instruction
    // indices refer to it; shapes grow with the context as listed).
    const GenerationInfo &g = *prog.generation;
    Program step = prog.decodeStep(g.promptLen);
    nlohmann::ordered_json gj;
    gj["prompt_len"] = g.promptLen;
    gj["max_seq"] = g.maxSeq;
    gj["decode_instructions"] = step.instrs.size();
    gj["decode_slots"] = step.slots.size();
    nlohmann::ordered_json grows = nlohmann::json::array();
    for (size_t s = 0; s < step.slots.size(); ++s)
      if (step.slots[s].contextAxis >= 0)
        grows.push_back({{"slot", s},
                         {"name", step.slots[s].name},
                         {"axis", step.slots[s].contextAxis},
                         {"scale", step.slots[s].contextScale},
                         {"offset", step.slots[s].contextOffset}});
    gj["context_slots"] = grows;
    nlohmann::ordered_json cache = nlohmann::json::array();
    for (const CacheLink &c : g.cache)
      cache.push_back({{"name", c.name},
                       {"prefill_output", c.prefillOutput},
                       {"decode_input", c.decodeInput},
                       {"decode_output", c.decodeOutput},
                       {"shape", step.slots[c.decodeInput].shape}});
    gj["cache"] = cache;
    gj["prefill_token"] = g.prefillToken;
    gj["decode_token"] = g.decodeToken;
    gj["decode_ids"] = g.decodeIds;
    gj["decode_position"] = g.decodePosition;
    j["generation"] = gj;
  }
  return j;
}

/// The text form of `dumpJson` (what the README shows).
void dumpText(const nlohmann::ordered_json &j, std::FILE *f) {
  auto shape = [](const nlohmann::ordered_json &s) {
    return shapeStr(s.get<Shape>());
  };
  std::fprintf(f, "artifact: format %d, isa %d, %d fractional bits\n",
               j["format_version"].get<int>(), j["isa_version"].get<int>(),
               j["frac_bits"].get<int>());
  std::fprintf(f, "program: %llu bytes, sha256 %s\n",
               j["program_size"].get<unsigned long long>(),
               j["hash"].get<std::string>().c_str());
  std::fprintf(f, "slots: %zu\n", j["slots"].size());
  for (const auto &s : j["slots"]) {
    std::fprintf(f, "  slot %d: %s %s frac %d %s", s["index"].get<int>(),
                 s["name"].get<std::string>().c_str(),
                 shape(s["shape"]).c_str(), s["frac_bits"].get<int>(),
                 s["visibility"].get<std::string>().c_str());
    if (s["weight"].get<int>() >= 0)
      std::fprintf(f, " weight %d", s["weight"].get<int>());
    if (s.contains("elem_type"))
      std::fprintf(f, " written as %s",
                   s["elem_type"].get<std::string>().c_str());
    std::fprintf(f, "\n");
  }
  std::fprintf(f, "instructions: %zu\n", j["instructions"].size());
  for (const auto &I : j["instructions"]) {
    std::string line = "  instr " + I["index"].dump() + ": " +
                       I["op"].get<std::string>() + " " +
                       listStr(I["inputs"]) + " -> " + listStr(I["outputs"]);
    for (const auto &[k, v] : I["attributes"].items())
      line += " " + k + "=" + (v.is_array() ? listStr(v) : v.dump());
    if (!I["reason"].get<std::string>().empty())
      line += " reason=" + I["reason"].dump();
    line += " vis=" + I["visibility"].get<std::string>();
    if (I["deploy"].get<bool>())
      line += " deploy";
    if (!I["name"].get<std::string>().empty())
      line += " name=" + I["name"].dump();
    std::fprintf(f, "%s\n", line.c_str());
  }
  std::fprintf(f, "reveals: %zu\n", j["reveals"].size());
  for (const auto &r : j["reveals"])
    std::fprintf(f, "  reveal at instr %d: [%d] -> [%d] %s frac %d to %s "
                 "reason=%s\n",
                 r["instruction"].get<int>(), r["input"].get<int>(),
                 r["output"].get<int>(), shape(r["shape"]).c_str(),
                 r["frac_bits"].get<int>(),
                 r["to"].get<std::string>().c_str(),
                 r["reason"].dump().c_str());
  size_t nOwner = 0;
  for (const auto &w : j["weights"])
    nOwner += w["owner"].get<bool>();
  std::fprintf(f, "weights: %zu blobs (%zu the owner's) in %llu bytes%s\n",
               j["weights"].size(), nOwner,
               j["blobs_size"].get<unsigned long long>(),
               j["owner_weights_stripped"].get<bool>()
                   ? ", owner weights stripped"
                   : "");
  for (const auto &w : j["weights"]) {
    std::string line = "  weight " + w["index"].dump() + ": slot " +
                       w["slot"].dump() + " " +
                       w["visibility"].get<std::string>() + " " +
                       w["dtype"].get<std::string>() + " offset " +
                       w["offset"].dump() + " size " + w["size"].dump() +
                       " sha256 " +
                       w["sha256"].get<std::string>().substr(0, 16) +
                       " origin " + w["origin"].get<std::string>();
    if (!w["source"].get<std::string>().empty())
      line += " from '" + w["source"].get<std::string>() + "'";
    if (!w["present"].get<bool>()) {
      line += " absent (stripped)";
    } else if (w.contains("values")) {
      std::string vals;
      for (const auto &v : w["values"])
        vals += (vals.empty() ? "" : " ") + numStr(v.get<double>());
      int64_t slot = w["slot"].get<int64_t>();
      bool more = numel(j["slots"][slot]["shape"].get<Shape>()) > kShownValues;
      line += " [" + vals + (more ? " ...]" : "]");
    }
    std::fprintf(f, "%s\n", line.c_str());
  }
  std::fprintf(f, "inputs: %s\noutputs: %s\n", listStr(j["inputs"]).c_str(),
               listStr(j["outputs"]).c_str());
  if (j.contains("generation")) {
    const auto &g = j["generation"];
    std::fprintf(f,
                 "generation: prompt %lld tokens, at most %lld positions; "
                 "decode step: %zu instructions, %zu slots, %zu growing with "
                 "the context P (from P = %lld)\n",
                 (long long)g["prompt_len"].get<int64_t>(),
                 (long long)g["max_seq"].get<int64_t>(),
                 g["decode_instructions"].get<size_t>(),
                 g["decode_slots"].get<size_t>(), g["context_slots"].size(),
                 (long long)g["prompt_len"].get<int64_t>());
    for (const auto &c : g["cache"])
      std::fprintf(f,
                   "  cache %s %s: prefill slot %d -> decode slot %d -> %d "
                   "(secret-shared, never revealed)\n",
                   c["name"].get<std::string>().c_str(),
                   shape(c["shape"]).c_str(), c["prefill_output"].get<int>(),
                   c["decode_input"].get<int>(), c["decode_output"].get<int>());
    std::fprintf(f,
                 "  token: prefill slot %d, decode slot %d (revealed to the "
                 "client), fed back as decode slot %d; position: decode "
                 "slot %d (public)\n",
                 g["prefill_token"].get<int>(), g["decode_token"].get<int>(),
                 g["decode_ids"].get<int>(), g["decode_position"].get<int>());
  }
}

int runDump(const Options &o) {
  nlohmann::ordered_json j = dumpJson(Program::loadFile(o.program));
  if (o.json)
    std::cout << j.dump(1) << "\n";
  else
    dumpText(j, stdout);
  return 0;
}

/// The private directory of a --compare run (mkdtemp: a fresh name, mode
/// 0700), removed with everything in it however runLocal ends.
struct CompareDir {
  std::string path;
  int fd = -1;
  CompareDir() {
    std::string t =
        (fs::temp_directory_path() / "umbra-compare-XXXXXX").string();
    UMBRA_CHECK(::mkdtemp(t.data()), "cannot create a private directory in '",
                fs::temp_directory_path().string(),
                "': ", std::strerror(errno));
    path = t;
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
      int e = errno;
      ::rmdir(path.c_str()); // no destructor runs for a throwing constructor
      fail("cannot open '", path, "': ", std::strerror(e));
    }
  }
  ~CompareDir() {
    if (fd >= 0)
      ::close(fd);
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// The three role processes: whatever ends the parent (an error, an
/// exception, a signal) ends them first, so no child outlives it or
/// writes into a directory being removed.
struct Children {
  pid_t pids[3] = {-1, -1, -1};
  bool alive[3] = {false, false, false};
  ~Children() {
    for (int r = 0; r < 3; ++r)
      if (alive[r]) {
        kill(pids[r], SIGKILL);
        waitpid(pids[r], nullptr, 0);
      }
  }
};

/// Blocks the signals the parent handles itself (SIGINT, SIGTERM, SIGHUP,
/// and SIGCHLD to wake up when a role ends) for its lifetime; they are
/// taken synchronously with sigtimedwait, so cleanup runs in normal code.
struct BlockedSignals {
  sigset_t set, old;
  BlockedSignals() {
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD})
      sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &old);
  }
  ~BlockedSignals() {
    // Drain what was taken care of, then restore the caller's mask.
    timespec zero{0, 0};
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (sigtimedwait(&chld, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
};

int runLocal(const Options &o, const std::vector<std::string> &argv) {
  // Validate the program and every role's inputs before spawning anything.
  {
    Program prog = Program::loadFile(o.program);
    checkCopyFits(prog, Role::P1, o.program);
    if (o.generate > 0)
      checkGenerate(prog, o, Role::Dealer, /*all=*/true);
    else
      loadInputs(prog, o, Role::Dealer, /*all=*/true);
  }
  UMBRA_CHECK(o.tlsCert.empty() && o.tlsKey.empty() && o.tlsCa.empty(),
              "with --local every role needs its own certificate: pass "
              "--tls-dir DIR (scripts/make-certs.sh DIR makes one)");
  std::fprintf(stderr, "mpc-run: --local: %s\n",
               o.tlsDir.empty()
                   ? "links are plaintext on loopback (--tls-dir DIR for TLS)"
                   : ("links are TLS 1.3 with the certificates in " +
                      o.tlsDir)
                         .c_str());
  BlockedSignals sigs;
  std::unique_ptr<CompareDir> cmpDir;
  std::string dump = o.dumpDir; // the test binary's --dump-shares
  if (!dump.empty())
    ::close(openPrivateDir(dump, /*create=*/true)); // refused before spawning
  if (o.compare && dump.empty()) {
    cmpDir = std::make_unique<CompareDir>();
    dump = cmpDir->path;
    fcntl(cmpDir->fd, F_SETFD, 0);
  }
  Listener pl(Endpoint{"127.0.0.1", 0}), dl(Endpoint{"127.0.0.1", 0});
  int pfd = pl.nativeHandle(), dfd = dl.nativeHandle();
  fcntl(pfd, F_SETFD, 0);
  fcntl(dfd, F_SETFD, 0);
  // The roles start with no signal blocked and default dispositions.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, deflt;
  sigemptyset(&none);
  sigemptyset(&deflt);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGCHLD})
    sigaddset(&deflt, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &deflt);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::unique_ptr<posix_spawnattr_t, int (*)(posix_spawnattr_t *)> attrGuard(
      &attr, posix_spawnattr_destroy);
  const char *roles[3] = {"dealer", "p0", "p1"};
  Children kids;
  pid_t *pids = kids.pids;
  for (int r = 0; r < 3; ++r) {
    std::vector<std::string> args = {argv[0],
                                     o.program,
                                     "--role",
                                     roles[r],
                                     "--p0",
                                     "127.0.0.1:" + std::to_string(pl.port()),
                                     "--dealer",
                                     "127.0.0.1:" + std::to_string(dl.port()),
                                     "--p0-fd",
                                     std::to_string(pfd),
                                     "--dealer-fd",
                                     std::to_string(dfd),
                                     "--connect-timeout",
                                     std::to_string(o.connectTimeout),
                                     "--timeout",
                                     std::to_string(o.ioTimeout),
                                     "--inferences",
                                     std::to_string(o.inferences),
                                     "--comparison",
                                     o.comparison};
    for (const auto &i : o.inputs)
      args.insert(args.end(), {"-i", i});
    if (o.generate > 0)
      args.insert(args.end(), {"--generate", std::to_string(o.generate)});
    if (!o.tokenizer.empty())
      args.insert(args.end(), {"--tokenizer", o.tokenizer});
    if (!o.outDir.empty())
      args.insert(args.end(), {"-o", o.outDir});
    if (!o.statsPath.empty())
      args.insert(args.end(), {"--stats", withRole(o.statsPath, roles[r])});
    if (!o.tracePath.empty())
      args.insert(args.end(), {"--trace", withRole(o.tracePath, roles[r])});
    if (cmpDir)
      args.insert(args.end(), {"--dump-fd", std::to_string(cmpDir->fd)});
#ifdef UMBRA_TEST_HOOKS
    else if (!dump.empty())
      args.insert(args.end(), {"--dump-shares", dump});
    // "--fault role:kind:N" applies to one role only.
    if (!o.fault.empty() && o.fault.rfind(std::string(roles[r]) + ":", 0) == 0)
      args.insert(args.end(),
                  {"--fault", o.fault.substr(strlen(roles[r]) + 1)});
#endif
    if (o.progress)
      args.push_back("--progress");
    if (!o.tlsDir.empty())
      args.insert(args.end(), {"--tls-dir", o.tlsDir});
    std::vector<char *> cargv;
    for (auto &a : args)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int rc = posix_spawn(&pids[r], "/proc/self/exe", nullptr, &attr,
                         cargv.data(), environ);
    UMBRA_CHECK(rc == 0, "cannot start the ", roles[r],
                " process: ", std::strerror(rc));
    kids.alive[r] = true;
  }
  // Wait for all three; once one has failed, give the others a bounded
  // time to notice (they normally do at once) and then stop them. SIGINT,
  // SIGTERM or SIGHUP stops the roles and ends the run (the guards then
  // remove the private directory).
  int status[3] = {0, 0, 0};
  bool *alive = kids.alive;
  int left = 3, stopSignal = 0;
  double failedAt = -1;
  while (left) {
    int st;
    pid_t p = waitpid(-1, &st, WNOHANG);
    if (p > 0) {
      for (int r = 0; r < 3; ++r)
        if (pids[r] == p && alive[r]) {
          alive[r] = false;
          status[r] = st;
          --left;
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && failedAt < 0)
            failedAt = now();
        }
      continue;
    }
    if (failedAt >= 0 && now() - failedAt > o.ioTimeout + 5) {
      for (int r = 0; r < 3; ++r)
        if (alive[r])
          kill(pids[r], SIGKILL);
    }
    timespec wake{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&sigs.set, nullptr, &wake);
    if (sig > 0 && sig != SIGCHLD && !stopSignal) {
      stopSignal = sig;
      for (int r = 0; r < 3; ++r)
        if (alive[r])
          kill(pids[r], SIGTERM);
      failedAt = now() - o.ioTimeout; // SIGKILL after 5 s
    }
  }
  if (stopSignal) {
    std::fprintf(stderr,
                 "mpc-run: error: stopped by signal %d (%s); the "
                 "roles were stopped\n",
                 stopSignal, strsignal(stopSignal));
    return 128 + stopSignal;
  }
  int bad = 0;
  for (int r = 0; r < 3; ++r) {
    int st = status[r];
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
      continue;
    ++bad;
    if (WIFSIGNALED(st))
      std::fprintf(stderr, "mpc-run: error: %s was killed by signal %d\n",
                   roles[r], WTERMSIG(st));
    else
      std::fprintf(stderr, "mpc-run: error: %s exited with status %d\n",
                   roles[r], WEXITSTATUS(st));
  }
  if (bad)
    return 1;
  if (o.compare) {
    Options c = o;
    c.dumpDir = dump;
    compareDump(c);
  }
  return 0;
}

/// Combinations that would silently do something else than asked.
void checkModes(const Options &o) {
  UMBRA_CHECK(!o.reference || (!o.local && o.role.empty()),
              "--reference is a plaintext run of every role in this one "
              "process; it does not combine with --local or --role");
  UMBRA_CHECK(!o.local || o.role.empty(),
              "--local runs all three roles; it does not combine with --role");
  UMBRA_CHECK(!o.compare || o.generate == 0,
              "--compare checks one inference; it does not combine with "
              "--generate");
  UMBRA_CHECK(!o.compare || o.local,
              "--compare works only with --local (it reconstructs every "
              "value from both parties' shares on this machine)");
  UMBRA_CHECK(o.dumpDir.empty() || !o.reference,
              "--dump-shares needs an MPC run (--local or --role)");
  UMBRA_CHECK(!o.serve || (!o.local && !o.reference && !o.compare),
              "--serve runs one server role (--role p0, p1 or dealer); it "
              "does not combine with --local, --reference or --compare");
  UMBRA_CHECK(o.sessions == 0 || o.serve, "--sessions goes with --serve");
}

} // namespace

int main(int argc, char **argv) {
  std::signal(SIGPIPE, SIG_IGN);
  Options o;
  CLI::App app{"Runs a compiled Umbra program under 2PC with a dealer"};
  app.add_option("program", o.program, "program artifact (.umbra)")->required();
  app.add_option("--role", o.role,
                 "run one role: dealer, p0, p1, or client (the thin client "
                 "of the outsourced mode: with --generate, --p0 and --p1)");
  app.add_flag("--local", o.local,
               "run all three roles as processes on loopback");
  app.add_flag("--reference", o.reference,
               "run the float reference executor instead of MPC (a "
               "plaintext run of every role in this process; not with "
               "--local or --role)");
  app.add_option("--p0", o.p0Addr, "P0's listening address host:port");
  app.add_option("--dealer", o.dealerAddr,
                 "dealer's listening address host:port");
  app.add_option("--p1", o.p1Addr,
                 "the outsourced mode: P1's listening address for clients "
                 "host:port (the servers' --serve P1, and --role client)");
  app.add_flag("--serve", o.serve,
               "serving mode (with --role p0, p1 or dealer): deploy once, "
               "then serve the sessions of thin clients (--role client), one "
               "after another and concurrently");
  app.add_option("--sessions", o.sessions,
                 "with --serve: exit once this many sessions have ended "
                 "(default: serve until stopped)")
      ->check(CLI::PositiveNumber);
  app.add_option("-i,--input", o.inputs, "input: name=file.npy (repeatable)");
  app.add_option("-o,--output-dir", o.outDir, "write outputs as .npy here");
  app.add_option("--stats", o.statsPath,
                 "per-instruction statistics JSON (with --local: one file "
                 "per role, NAME.ROLE.json; with --generate: per token; with "
                 "--serve: one file per session, NAME.ROLE.SESSION.json)");
  app.add_option("--trace", o.tracePath, "Chrome trace JSON (per role)");
  app.add_option("--connect-timeout", o.connectTimeout,
                 "seconds to wait for peers to connect")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", o.ioTimeout,
                 "seconds without progress before a receive fails")
      ->check(CLI::PositiveNumber);
  app.add_option("--inferences", o.inferences,
                 "inferences per deployment (weights shared once)")
      ->check(CLI::PositiveNumber);
  app.add_option("--generate", o.generate,
                 "generate N tokens with a generation artifact: the prefill, "
                 "then N - 1 decode steps; each token is revealed to the "
                 "client (P0) alone and printed as soon as it is known; "
                 "-o DIR gets tokens.npy, --stats the per-token costs")
      ->check(CLI::PositiveNumber);
  app.add_option("--tokenizer", o.tokenizer,
                 "with --generate: print each token's text through this "
                 "tokenizer.json (P0)");
  app.add_flag("--progress", o.progress, "report progress on stderr");
  app.add_option("--strip-owner-weights", o.stripTo,
                 "write a copy without the model owner's weights (for P0 and "
                 "the dealer; same program hash) and exit");
  app.add_flag("--dump", o.dump,
               "print the artifact (header, hash, slots, instructions, "
               "reveals, weights) and exit");
  app.add_flag("--json", o.json, "with --dump: print it as JSON");
  app.add_option("--comparison", o.comparison,
                 "comparison protocol: dcf (1 round, large dealer keys) or "
                 "bits (8 rounds, small dealer material)")
      ->check(CLI::IsMember({"dcf", "bits"}));
  app.add_flag("--compare", o.compare,
               "with --local: compare every instruction's result with the "
               "float reference (debugging only: reconstructs all values)");
  app.add_option("--tls-cert", o.tlsCert,
                 "this role's certificate (PEM), bound to its role by a "
                 "subjectAltName URI umbra-role:<role>");
  app.add_option("--tls-key", o.tlsKey, "this role's private key (PEM, 0600)");
  app.add_option("--tls-ca", o.tlsCa,
                 "the CA (PEM) every peer's certificate must chain to");
  app.add_option("--tls-dir", o.tlsDir,
                 "DIR/ca.pem, DIR/<role>.pem, DIR/<role>.key (the layout of "
                 "scripts/make-certs.sh); with --local, TLS for all roles");
  app.add_flag("--insecure", o.insecure,
               "allow plaintext links to non-loopback addresses (anyone on "
               "the path sees the seeds and every share)");
  app.add_option("--p0-fd", o.p0Fd)->group("");
  app.add_option("--dealer-fd", o.dealerFd)->group("");
  app.add_option("--dump-fd", o.dumpFd)->group("");
#ifdef UMBRA_TEST_HOOKS
  app.add_option("--dump-shares", o.dumpDir,
                 "test binary: write each party's share of every value into "
                 "this directory (owned by you, mode 0700; made if absent)");
  app.add_option("--fault", o.fault,
                 "test binary: inject a fault (ROLE:exit:N, ROLE:hang:N, "
                 "ROLE:malformed:N, ROLE:protocol-version, ROLE:exit-run:K "
                 "(--generate: before decode run K); without ROLE: "
                 "with --role)");
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  try {
    if (!o.stripTo.empty()) {
      Program::stripOwnerWeights(o.program, o.stripTo);
      return 0;
    }
    UMBRA_CHECK(!o.json || o.dump, "--json goes with --dump");
    if (o.dump)
      return runDump(o);
    checkModes(o);
    if (o.reference)
      return runReference(o);
    if (o.local) {
      std::vector<std::string> args(argv, argv + argc);
      return runLocal(o, args);
    }
    UMBRA_CHECK(!o.role.empty(), "pass --role dealer|p0|p1|client, --local or "
                                 "--reference");
    return o.serve ? runServe(o) : runRole(o);
  } catch (const umbra::rt::Error &e) {
    std::fprintf(stderr, "mpc-run: error: %s%s%s\n",
                 o.role.empty() ? "" : ("[" + o.role + "] ").c_str(), e.what(),
                 "");
    return 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "mpc-run: error: %s\n", e.what());
    return 1;
  }
}
