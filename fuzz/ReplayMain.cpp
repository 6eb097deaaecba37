//===- ReplayMain.cpp - Corpus replay and bounded mutation driver ---------===//
//
// The `main` of a fuzz target in the normal (GCC) build, where libFuzzer is
// not available: runs LLVMFuzzerTestOneInput on every corpus file, then on
// a bounded number of deterministic random mutations of them (bit flips,
// interesting values, erased, inserted and duplicated ranges, truncations,
// splices of two files). ctest runs each target this way for a few seconds
// (fuzz-<target>); scripts/fuzz.sh builds the same targets with clang and
// libFuzzer for coverage-guided campaigns.
//
//   fuzz-<target> [-runs=N] [-seed=S] [-max_len=N] [-emit=K:FILE] PATH...
//
// PATH is a file or a directory (its regular files, sorted by name). The
// flags are spelled like libFuzzer's so that one command line suits both
// builds; -emit writes mutation K (1-based) to FILE instead of running it,
// to extract a failing input. When an input crashes the target, a signal
// handler writes it to fuzz-crash-<target>.bin in the working directory
// and names the mutation, so the failure can be replayed and minimised.
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

namespace {

using Bytes = std::vector<uint8_t>;

/// The input being run, for the crash handler.
const uint8_t *gCurrent = nullptr;
size_t gCurrentSize = 0;
/// 0 while replaying the corpus, else the mutation's number (for -emit).
uint64_t gMutation = 0;
char gCrashFile[256] = "fuzz-crash.bin";

/// Async-signal-safe decimal.
void writeNumber(uint64_t v) {
  char buf[24];
  int i = sizeof buf;
  do
    buf[--i] = char('0' + v % 10);
  while (v /= 10);
  (void)!::write(2, buf + i, sizeof buf - i);
}

/// Writes the input that was running when the target crashed, with
/// async-signal-safe calls only, then lets the default action happen.
void onCrash(int sig) {
  int fd = ::open(gCrashFile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t done = 0;
    while (gCurrent && done < gCurrentSize) {
      ssize_t n = ::write(fd, gCurrent + done, gCurrentSize - done);
      if (n <= 0)
        break;
      done += size_t(n);
    }
    ::close(fd);
    static const char msg[] = "\nreplay: crashing input written to ";
    (void)!::write(2, msg, sizeof msg - 1);
    (void)!::write(2, gCrashFile, std::strlen(gCrashFile));
    if (gMutation) {
      static const char m[] = " (mutation ";
      (void)!::write(2, m, sizeof m - 1);
      writeNumber(gMutation);
      (void)!::write(2, ")", 1);
    }
    (void)!::write(2, "\n", 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

/// SplitMix64: small, fast and the same on every platform, so that a
/// mutation number names one input for good.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n > 0.
  size_t below(size_t n) { return size_t(next() % n); }
};

/// Values at the edges of the integer ranges the parsers compare against.
const uint64_t kInteresting[] = {0,          1,          2,
                                 7,          8,          16,
                                 64,         127,        128,
                                 255,        256,        0x7fff,
                                 0x8000,     0xffff,     0x10000,
                                 0x7fffffff, 0x80000000, 0xffffffff,
                                 1ull << 32, 1ull << 40, 0x7fffffffffffffffull,
                                 ~0ull};

/// Applies 1 to 4 random edits to `b`, never growing it beyond maxLen.
void mutate(Bytes &b, const std::vector<Bytes> &corpus, Rng &rng,
            size_t maxLen) {
  int edits = 1 + int(rng.below(4));
  for (int e = 0; e < edits; ++e) {
    size_t kind = rng.below(9);
    if (b.empty())
      kind = 5; // only insertion makes sense
    switch (kind) {
    case 0: // flip one bit
      b[rng.below(b.size())] ^= uint8_t(1u << rng.below(8));
      break;
    case 1: // random byte
      b[rng.below(b.size())] = uint8_t(rng.next());
      break;
    case 2: { // interesting 1/2/4/8-byte little-endian value
      size_t width = size_t(1) << rng.below(4);
      if (b.size() < width)
        break;
      uint64_t v = kInteresting[rng.below(std::size(kInteresting))];
      if (rng.below(2))
        v = -v;
      size_t at = rng.below(b.size() - width + 1);
      for (size_t i = 0; i < width; ++i)
        b[at + i] = uint8_t(v >> (8 * i));
      break;
    }
    case 3: { // add a small delta to a byte (length fields, counts)
      size_t at = rng.below(b.size());
      b[at] = uint8_t(b[at] + int(rng.below(33)) - 16);
      break;
    }
    case 4: { // erase a range
      size_t at = rng.below(b.size());
      size_t n = 1 + rng.below(std::min<size_t>(b.size() - at, 64));
      b.erase(b.begin() + at, b.begin() + at + n);
      break;
    }
    case 5: { // insert random bytes
      size_t at = b.empty() ? 0 : rng.below(b.size() + 1);
      size_t n = 1 + rng.below(16);
      Bytes ins(n);
      for (uint8_t &c : ins)
        c = uint8_t(rng.next());
      b.insert(b.begin() + at, ins.begin(), ins.end());
      break;
    }
    case 6: { // duplicate a range elsewhere
      size_t from = rng.below(b.size());
      size_t n = 1 + rng.below(std::min<size_t>(b.size() - from, 64));
      Bytes part(b.begin() + from, b.begin() + from + n);
      size_t at = rng.below(b.size() + 1);
      b.insert(b.begin() + at, part.begin(), part.end());
      break;
    }
    case 7: // truncate
      b.resize(rng.below(b.size()));
      break;
    case 8: { // splice: our head, another file's tail
      const Bytes &o = corpus[rng.below(corpus.size())];
      if (o.empty())
        break;
      size_t cut = rng.below(b.size() + 1), from = rng.below(o.size());
      b.resize(cut);
      b.insert(b.end(), o.begin() + from, o.end());
      break;
    }
    }
    if (b.size() > maxLen)
      b.resize(maxLen);
  }
}

bool readFile(const std::string &path, Bytes &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  out.assign(std::istreambuf_iterator<char>(f),
             std::istreambuf_iterator<char>());
  return !f.bad();
}

/// Regular files of a directory, sorted, or the path itself.
std::vector<std::string> expand(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return {};
  if (!S_ISDIR(st.st_mode))
    return {path};
  std::vector<std::string> files;
  if (DIR *d = ::opendir(path.c_str())) {
    while (dirent *e = ::readdir(d)) {
      std::string p = path + "/" + e->d_name;
      if (e->d_name[0] != '.' && ::stat(p.c_str(), &st) == 0 &&
          S_ISREG(st.st_mode))
        files.push_back(p);
    }
    ::closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool flag(const char *arg, const char *name, uint64_t &value) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
    return false;
  value = std::strtoull(arg + n + 1, nullptr, 0);
  return true;
}

void run(const Bytes &b) {
  gCurrent = b.data();
  gCurrentSize = b.size();
  LLVMFuzzerTestOneInput(b.empty() ? nullptr : b.data(), b.size());
  gCurrent = nullptr;
}

} // namespace

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  std::string self = argv[0];
  std::string target = self.substr(self.rfind('/') + 1);
  std::snprintf(gCrashFile, sizeof gCrashFile, "fuzz-crash-%s.bin",
                target.c_str());

  uint64_t runs = 0, seed = 1, maxLen = 0, emitAt = 0;
  std::string emitPath;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (flag(a, "-runs", runs) || flag(a, "-seed", seed) ||
        flag(a, "-max_len", maxLen))
      continue;
    if (std::strncmp(a, "-emit=", 6) == 0) {
      const char *colon = std::strchr(a + 6, ':');
      if (!colon) {
        std::fprintf(stderr, "%s: -emit needs K:FILE\n", target.c_str());
        return 2;
      }
      emitAt = std::strtoull(a + 6, nullptr, 10);
      emitPath = colon + 1;
      continue;
    }
    if (a[0] == '-') {
      std::fprintf(stderr, "%s: unknown option '%s'\n", target.c_str(), a);
      return 2;
    }
    std::vector<std::string> found = expand(a);
    if (found.empty()) {
      std::fprintf(stderr, "%s: no such file or directory '%s'\n",
                   target.c_str(), a);
      return 2;
    }
    files.insert(files.end(), found.begin(), found.end());
  }

  std::vector<Bytes> corpus;
  size_t largest = 0;
  for (const std::string &f : files) {
    Bytes b;
    if (!readFile(f, b)) {
      std::fprintf(stderr, "%s: cannot read '%s'\n", target.c_str(), f.c_str());
      return 2;
    }
    largest = std::max(largest, b.size());
    corpus.push_back(std::move(b));
  }
  if (corpus.empty() && runs) {
    std::fprintf(stderr, "%s: mutations need a corpus\n", target.c_str());
    return 2;
  }
  if (!maxLen)
    maxLen = std::max<size_t>(2 * largest, 4096);

  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL})
    std::signal(sig, onCrash);

  auto start = std::chrono::steady_clock::now();
  if (!emitAt)
    for (size_t i = 0; i < corpus.size(); ++i)
      run(corpus[i]);
  Rng rng{seed};
  for (uint64_t k = 1; k <= runs; ++k) {
    // Each mutation starts from a corpus file, so mutation k depends only
    // on the seed and the corpus, not on what the target did before.
    Bytes b = corpus[rng.below(corpus.size())];
    mutate(b, corpus, rng, maxLen);
    if (emitAt) {
      if (k != emitAt)
        continue;
      std::ofstream out(emitPath, std::ios::binary);
      out.write(reinterpret_cast<const char *>(b.data()),
                std::streamsize(b.size()));
      return out.good() ? 0 : 1;
    }
    gMutation = k;
    run(b);
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("%s: %zu corpus inputs and %llu mutations (seed %llu) ran in "
              "%.2f s without a crash\n",
              target.c_str(), corpus.size(), (unsigned long long)runs,
              (unsigned long long)seed, secs);
  return 0;
}
