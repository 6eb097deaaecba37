//===- RuntimeBench.cpp - Protocol costs on loopback ----------------------===//
//
//   bench-runtime [--reps N]
//
// Runs P0, P1 and the dealer as threads connected by TCP on 127.0.0.1 (the
// runtime tests' harness, umbra/runtime/testing/Harness.h) and
// prints, per workload: P0's wall time (and without the time it waited for
// dealer material, which a deployment generates ahead), online bytes (both
// directions, frame headers included), rounds, dealer material, and a
// projection to a 1 Gbit/s, 20 ms RTT link.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/testing/Harness.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

using namespace umbra::rt;

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Measure {
  double seconds = 0, online = 0;
  Counters p0, dealer;
};

Cmp gCmp = Cmp::Dcf;

/// prep(P) runs untimed (input sharing, deployment); body(P) is measured,
/// as one instruction per repetition.
Measure runTrio(const std::function<void(Party &)> &prep,
                const std::function<void(Party &)> &body, int reps) {
  Measure m;
  SessionConfig cfg;
  cfg.ioTimeout = 300;
  cfg.cmp = gCmp;
  test::runParties(
      [&](Party &P) {
        prep(P);
        P.flushMaterial();
        Counters d;
        double w0 = P.materialWait;
        double t0 = now();
        for (int i = 0; i < reps; ++i) {
          Counters c = test::measured(P, [&] { body(P); });
          d.sent += c.sent;
          d.recv += c.recv;
          d.rounds += c.rounds;
          d.dealerBytes += c.dealerBytes;
        }
        double el = (now() - t0) / reps;
        d.sent /= reps;
        d.recv /= reps;
        d.rounds /= reps;
        d.dealerBytes /= reps;
        if (P.role == Role::P0) {
          m.seconds = el;
          m.online = el - (P.materialWait - w0) / reps;
          m.p0 = d;
        }
        if (P.role == Role::Dealer)
          m.dealer = d;
      },
      cfg);
  return m;
}

using test::randomFixed;

void row(const std::string &nm, size_t elems, const Measure &m) {
  const char *name = nm.c_str();
  double online = double(m.p0.sent + m.p0.recv);
  // Projected on a 1 Gbit/s, 20 ms RTT link: measured compute plus
  // transfer time plus one RTT per round (dealer traffic is offline).
  double wan = m.online + online / 1.25e8 + 0.02 * double(m.p0.rounds);
  std::printf("| %-46s | %8.4f | %8.4f | %12.0f | %7.1f | %6llu | %12llu | "
              "%8.1f | %7.2f |\n",
              name, m.seconds, m.online, online, online / double(elems),
              (unsigned long long)m.p0.rounds,
              (unsigned long long)m.dealer.dealerBytes,
              double(m.dealer.dealerBytes) / double(elems), wan);
}

/// A GPT-2-small-shaped decoder layer (T = 32, d = 768, 12 heads, FFN 3072,
/// ReLU FFN, exp/reciprocal softmax, rsqrt LayerNorm) built with the
/// ProgramBuilder and run through the real executor on all three roles.
void transformerBlock(Cmp cmp) {
  const int64_t T = 32, D = 768, H = 12, Dh = 64, F = 3072;
  ProgramBuilder b(16);
  std::mt19937_64 g(7);
  auto rnd = [&](size_t n, double a) {
    std::uniform_real_distribution<double> d(-a, a);
    std::vector<double> v(n);
    for (auto &x : v)
      x = d(g);
    return v;
  };
  int x = b.input("x", {T, D}, Vis::Client);
  auto owner = [&](const char *nm, int64_t r, int64_t c) {
    return b.share(b.constant(nm, {r, c}, Vis::Owner,
                              rnd(size_t(r * c), 1.7 / std::sqrt(double(r))),
                              -1, DType::F32));
  };
  int wqkv = owner("wqkv", D, 3 * D), wo = owner("wo", D, D);
  int w1 = owner("w1", D, F), w2 = owner("w2", F, D);
  int xs = b.share(x);
  // LayerNorm: (x - mean) * rsqrt(var + eps)
  int invD = b.constant("invD", {1}, Vis::Public, {1.0 / D});
  int mean = b.mulT(b.reduceSum(xs, {1}, true), invD);
  int xc = b.sub(xs, mean);
  int var = b.mulT(b.reduceSum(b.mulT(xc, xc), {1}, true), invD);
  int eps = b.constant("eps", {1}, Vis::Public, {1e-2});
  int inv = b.rsqrt(b.add(var, eps), 0.05, 4.0, 0);
  int ln = b.mulT(xc, inv);
  int qkv = b.matmulT(ln, wqkv);
  auto head = [&](int64_t off, bool transposeK) {
    int sl = b.slice(qkv, {0, off}, {T, off + D});
    int r = b.reshape(sl, {T, H, Dh});
    return b.transpose(r, transposeK ? std::vector<int64_t>{1, 2, 0}
                                     : std::vector<int64_t>{1, 0, 2});
  };
  int q = head(0, false), k = head(D, true), v = head(2 * D, false);
  int scale = b.constant("scale", {1}, Vis::Public, {0.125});
  int sc = b.mulT(b.matmulT(q, k), scale);
  int mx = b.max(sc, 2, true, 40);
  int e = b.exp(b.sub(sc, mx), 8, 40);
  int sum = b.reduceSum(e, {2}, true);
  int rs = b.reciprocal(sum, 1.0, double(T), 0);
  int pr = b.mulT(e, rs);
  int att = b.matmulT(pr, v);
  int merged = b.reshape(b.transpose(att, {1, 0, 2}), {T, D});
  int h1 = b.add(xs, b.matmulT(merged, wo));
  int ff = b.relu(b.matmulT(h1, w1), 40);
  int out = b.add(h1, b.matmulT(ff, w2));
  int y = b.reveal(out, RevealTo::Client, "layer output");
  b.output(y);
  Program prog = Program::loadBytes(b.finish());
  std::vector<double> xv = rnd(size_t(T * D), 1.0);
  FloatExecutor ref(prog);
  ref.setInput(x, xv);
  ref.run();

  std::vector<InstrStat> st[3];
  std::vector<double> got;
  double secs[3] = {0, 0, 0}, waits[3] = {0, 0, 0};
  SessionConfig cfg;
  cfg.ioTimeout = 600;
  cfg.cmp = cmp;
  cfg.programHash = prog.hash();
  cfg.fracBits = prog.fracBits;
  test::runSessions(
      [&](Session &s) {
        const int r = int(s.party.role);
        Executor ex(prog, s.party);
        if (r == 0)
          ex.setInput(x, xv);
        ex.runDeployment();
        double w0 = s.party.materialWait, t0 = now();
        ex.runInference();
        secs[r] = now() - t0;
        waits[r] = s.party.materialWait - w0;
        if (r == 0)
          got = ex.plainReal(y);
        st[r] = ex.stats;
      },
      cfg);
  double err = 0, mag = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::fabs(got[i] - ref.value(y)[i]));
    mag = std::max(mag, std::fabs(ref.value(y)[i]));
  }
  Counters inf, dep;
  uint64_t dealer = 0;
  for (auto &i : st[0])
    if (i.phase == "inference") {
      inf.sent += i.c.sent;
      inf.recv += i.c.recv;
      inf.rounds += i.c.rounds;
    } else {
      dep.sent += i.c.sent;
      dep.recv += i.c.recv;
      dep.rounds += i.c.rounds;
    }
  for (auto &i : st[2])
    if (i.phase == "inference")
      dealer += i.c.dealerBytes;
  std::printf("| GPT-2-small layer, T=32 [%s] | %.2f | %.2f | %.1f | %llu | "
              "%.1f | %.1f | %.2g (max |ref| %.2g) |\n",
              cmpName(cmp), secs[0], secs[0] - waits[0],
              double(inf.sent + inf.recv) / 1e6, (unsigned long long)inf.rounds,
              double(dealer) / 1e6, double(dep.sent + dep.recv) / 1e6, err,
              mag);
}

} // namespace

int main(int argc, char **argv) {
  int reps = 3;
  std::string only;
  bool blockOnly = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--block") == 0)
      blockOnly = true;
  auto blockTable = [] {
    std::printf(
        "\n| program | seconds (P0) | without dealer wait | online MB | "
        "rounds | dealer MB | deploy MB (once) | max abs error vs "
        "float |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (Cmp c : {Cmp::Dcf, Cmp::Bits})
      transformerBlock(c);
  };
  if (blockOnly) {
    blockTable();
    return 0;
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0)
      reps = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0)
      only = argv[i + 1];
  }
  const int f = 16;
  std::printf("| workload | seconds (P0) | without dealer wait | online "
              "bytes | B/elem | rounds | dealer bytes | dealer B/elem | WAN "
              "est. s |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");

  auto matmulCase = [&](const char *name, int64_t n, int64_t k, int64_t m,
                        bool constW) {
    Vec x = randomFixed(n * k, -1, 1, f, 1),
        w = randomFixed(k * m, -1, 1, f, 2);
    struct St {
      Vec x, w;
      MatmulMask mask;
    };
    St st[3];
    Measure res = runTrio(
        [&](Party &P) {
          St &s = st[int(P.role)];
          s.x = shareInput(P, Role::P0, x, x.size());
          s.w = shareInput(P, Role::P1, w, w.size());
          if (constW)
            prepareMatmulMask(P, s.w, s.mask);
        },
        [&](Party &P) {
          St &s = st[int(P.role)];
          Vec zz = matmulShared(P, s.x, s.w, 1, n, k, m, false,
                                constW ? &s.mask : nullptr);
          zz = trunc(P, zz, f);
        },
        reps);
    row(name, size_t(n * m), res);
  };
  matmulCase("matmul 32x768 . 768x3072, const W (+trunc)", 32, 768, 3072, true);
  matmulCase("matmul 128x768 . 768x768, const W (+trunc)", 128, 768, 768, true);
  matmulCase("matmul 128x768 . 768x768, shared W (+trunc)", 128, 768, 768,
             false);

  auto elementwise = [&](const std::string &name, size_t n,
                         const std::function<Vec(Party &, const Vec &)> &g,
                         double lo, double hi) {
    Vec x = randomFixed(n, lo, hi, f, 3);
    Vec xs[3];
    Measure res = runTrio(
        [&](Party &P) { xs[int(P.role)] = shareInput(P, Role::P0, x, n); },
        [&](Party &P) { (void)g(P, xs[int(P.role)]); }, reps);
    row(name, n, res);
  };
  const size_t ffn = 32 * 3072;
  elementwise(
      "truncation 32x3072", ffn,
      [&](Party &P, const Vec &x) { return trunc(P, x, f); }, -4, 4);
  elementwise(
      "Beaver mul + trunc 32x3072", ffn,
      [&](Party &P, const Vec &x) { return trunc(P, mul(P, x, x), f); }, -4, 4);
  elementwise(
      "GeLU as degree-4 poly 32x3072", ffn,
      [&](Party &P, const Vec &x) {
        return polyGate(P, x, f, {0.0, 0.5, 0.1972, 0.0, -0.0046});
      },
      -4, 4);
  for (Cmp cmp : {Cmp::Dcf, Cmp::Bits}) {
    gCmp = cmp;
    elementwise(
        std::string("ReLU 32x3072, 32-bit compare [") + cmpName(cmp) + "]", ffn,
        [](Party &P, const Vec &x) { return relu(P, x, 32); }, -4, 4);
    elementwise(
        std::string("ReLU 32x3072 [") + cmpName(cmp) + "]", ffn,
        [](Party &P, const Vec &x) { return relu(P, x); }, -4, 4);
    elementwise(
        std::string("DReLU 32x3072 [") + cmpName(cmp) + "]", ffn,
        [](Party &P, const Vec &x) { return drelu(P, x); }, -4, 4);
    elementwise(
        std::string("GeLU as ReLU + poly correction 32x3072 [") + cmpName(cmp) +
            "]",
        ffn,
        [&](Party &P, const Vec &x) {
          // gelu(x) = relu(x) - c(|x|) style: relu + even polynomial
          Vec r = relu(P, x);
          Vec c = polyGate(P, x, f, {-0.17, 0.0, 0.11, 0.0, -0.0075});
          for (size_t i = 0; i < r.size(); ++i)
            r[i] += c[i];
          return r;
        },
        -4, 4);

    // Softmax over rows: 12 heads x 32 queries x 32 keys.
    {
      const int64_t rows = 12 * 32, len = 32;
      size_t n = size_t(rows * len);
      Vec x = randomFixed(n, -6, 6, f, 4);
      Vec xs[3];
      Measure res = runTrio(
          [&](Party &P) { xs[int(P.role)] = shareInput(P, Role::P0, x, n); },
          [&](Party &P) {
            const Vec &v = xs[int(P.role)];
            Vec mx;
            maxRows(P, v, rows, len, &mx, nullptr);
            Vec z(n);
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t j = 0; j < len; ++j)
                z[r * len + j] = v[r * len + j] - mx[r];
            Vec e = expGate(P, z, f, 8);
            Vec s(rows, 0);
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t j = 0; j < len; ++j)
                s[r] += e[r * len + j];
            Vec inv = reciprocalGate(P, s, f, 1.0, double(len), 0);
            Vec invb(n);
            for (size_t i = 0; i < n; ++i)
              invb[i] = inv[i / len];
            (void)trunc(P, mul(P, e, invb), f);
          },
          reps);
      row(std::string("softmax 12x32x32 (max, exp, recip, mul) [") +
              cmpName(cmp) + "]",
          n, res);
    }
  }
  blockTable();
  return 0;
}
