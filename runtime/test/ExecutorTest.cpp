//===- ExecutorTest.cpp - Programs under MPC vs the float reference -------===//
#include "umbra/runtime/Executor.h"
#include "TestUtil.h"
#include "umbra/runtime/Stats.h"
#include <cmath>
#include <gtest/gtest.h>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

/// A small transformer-shaped block: linear layers with owner weights,
/// ReLU, a ReLU-free softmax (max, exp, sum, reciprocal), an rsqrt norm,
/// a polynomial (GeLU-like) and an argmax.
struct Block {
  ProgramBuilder b{16};
  int x, out, probs, am, norm, gel;
  std::vector<double> xv;
  Block() {
    const int64_t T = 4, D = 8, H = 16;
    x = b.input("x", {T, D}, Vis::Client);
    int w1 =
        b.constant("w1", {D, H}, Vis::Owner, randomReal(D * H, -0.5, 0.5, 1));
    int bias = b.constant("b1", {H}, Vis::Public, randomReal(H, -0.1, 0.1, 2));
    int xs = b.share(x);
    int ws = b.share(w1);
    int h = b.add(b.matmulT(xs, ws), bias);
    int r = b.relu(h);
    // softmax over rows of h
    int mx = b.max(h, 1, true);
    int z = b.sub(h, mx);
    int e = b.exp(z, 8);
    int ones =
        b.constant("ones", {H, 1}, Vis::Public, std::vector<double>(H, 1.0));
    int s = b.matmulT(e, ones);
    int inv = b.reciprocal(s, 1.0, double(H), 0);
    probs = b.mulT(e, inv);
    // rsqrt of the mean square (+1) of r
    int sq = b.mulT(r, r);
    int ms = b.matmulT(sq, ones);
    int one = b.constant("one", {1}, Vis::Public, {1.0});
    int rs = b.rsqrt(b.add(ms, one), 1.0, 64.0, 0);
    norm = b.mulT(r, rs);
    gel = b.poly(h, {0.0, 0.5, 0.25});
    am = b.argmax(h, 1, false);
    int t = b.transpose(probs, {1, 0});
    int sl = b.slice(t, {0, 0}, {8, 4});
    int cat = b.concat({sl, sl}, 0);
    out = b.reveal(cat, RevealTo::P0);
    b.output(out);
    for (int sId : {probs, am, norm, gel})
      b.output(b.reveal(sId, RevealTo::Both));
    xv = randomReal(T * D, -2, 2, 3);
  }
};

TEST(Executor, MpcMatchesFloatReference) {
  Block blk;
  Program prog = Program::loadBytes(blk.b.finish());
  FloatExecutor ref(prog);
  ref.setInput(blk.x, blk.xv);
  ref.run();
  std::vector<std::vector<double>> got(prog.slots.size());
  std::vector<InstrStat> stats[3];
  SessionConfig cfg;
  cfg.programHash = prog.hash();
  runParties(
      [&](Party &P) {
        Executor ex(prog, P);
        if (P.p0())
          ex.setInput(blk.x, blk.xv);
        ex.runInference();
        if (P.p0())
          for (int s : prog.outputs)
            got[s] = ex.plainReal(s);
        stats[int(P.role)] = ex.stats;
      },
      cfg);
  for (int s : prog.outputs) {
    const auto &r = ref.value(s);
    ASSERT_EQ(got[s].size(), r.size());
    for (size_t i = 0; i < r.size(); ++i)
      EXPECT_NEAR(got[s][i], r[i], 0.02 + 0.02 * std::fabs(r[i]))
          << "slot " << s << " element " << i;
  }
  // Stats: every instruction accounted, P0 and P1 agree on rounds.
  ASSERT_EQ(stats[0].size(), stats[1].size());
  for (size_t i = 0; i < stats[0].size(); ++i) {
    EXPECT_EQ(stats[0][i].c.rounds, stats[1][i].c.rounds);
    EXPECT_EQ(stats[0][i].c.sent, stats[1][i].c.recv);
  }
  auto j = statsJson(stats[0], Role::P0, prog.hashHex(), 1.0);
  EXPECT_TRUE(j["phases"].contains("inference"));
  EXPECT_TRUE(j["phases"].contains("deploy"));
  auto t = chromeTrace(stats[0], Role::P0);
  EXPECT_GT(t["traceEvents"].size(), stats[0].size());
}

TEST(Executor, ConstantWeightsOpenedOncePerDeployment) {
  ProgramBuilder b(12);
  int x = b.input("x", {2, 64}, Vis::Client);
  int w = b.constant("w", {64, 32}, Vis::Owner, randomReal(64 * 32, -1, 1, 5));
  int y = b.reveal(b.matmulT(b.share(x), b.share(w)), RevealTo::P0);
  b.output(y);
  Program prog = Program::loadBytes(b.finish());
  std::vector<InstrStat> stats;
  std::vector<double> xv = randomReal(128, -1, 1, 6), out;
  runParties([&](Party &P) {
    Executor ex(prog, P);
    if (P.p0())
      ex.setInput(x, xv);
    ex.runDeployment();
    for (int i = 0; i < 3; ++i)
      ex.runInference();
    if (P.p0()) {
      stats = ex.stats;
      out = ex.plainReal(y);
    }
  });
  uint64_t deployOpen = 0, matmulSent = 0;
  int matmuls = 0;
  for (auto &s : stats) {
    if (s.op == "matmul-mask")
      deployOpen += s.c.sent;
    if (s.op == "matmul" && s.phase == "inference") {
      matmulSent = s.c.sent;
      ++matmuls;
    }
  }
  EXPECT_EQ(matmuls, 3);
  EXPECT_EQ(deployOpen, 64u * 32 * 8 + 16);
  EXPECT_EQ(matmulSent, 2u * 64 * 8 + 16); // only X - A per inference
  FloatExecutor ref(prog);
  ref.setInput(x, xv);
  ref.run();
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_NEAR(out[i], ref.value(y)[i], 0.01);
}

TEST(Executor, BatchedAttentionShapes) {
  // [heads, T, d] x [heads, d, T] (both shared), a causal-style select, a
  // row max with keepdims and broadcasting subtraction, concat and slice.
  ProgramBuilder b(16);
  const int64_t H = 3, T = 5, D = 4;
  int q = b.share(b.input("q", {H, T, D}, Vis::Client));
  int k = b.share(b.input("k", {H, D, T}, Vis::Owner));
  int s = b.matmulT(q, k);
  int mx = b.max(s, 2, true, 40);
  int z = b.sub(s, mx);
  int c = b.drelu(b.add(z, b.constant("half", {1}, Vis::Public, {0.5})), 40);
  int sel = b.select(c, z, b.broadcast(mx, {H, T, T}));
  int am = b.argmax(s, 1, false);
  int cat = b.concat({sel, z}, 2);
  int sl = b.slice(cat, {0, 1, 2}, {3, 5, 9});
  int o1 = b.reveal(sl), o2 = b.reveal(am);
  b.output(o1);
  b.output(o2);
  Program prog = Program::loadBytes(b.finish());
  auto qv = randomReal(H * T * D, -1, 1, 11),
       kv = randomReal(H * D * T, -1, 1, 12);
  FloatExecutor ref(prog);
  ref.setInput(0, qv);
  ref.setInput(2, kv);
  ref.run();
  for (Cmp cmp : {Cmp::Dcf, Cmp::Bits}) {
    std::vector<double> g1, g2;
    SessionConfig cfg;
    cfg.cmp = cmp;
    runParties(
        [&](Party &P) {
          Executor ex(prog, P);
          if (P.p0())
            ex.setInput(0, qv);
          if (P.role == Role::P1)
            ex.setInput(2, kv);
          ex.runInference();
          if (P.p0()) {
            g1 = ex.plainReal(o1);
            g2 = ex.plainReal(o2);
          }
        },
        cfg);
    ASSERT_EQ(g1.size(), ref.value(o1).size());
    for (size_t i = 0; i < g1.size(); ++i)
      EXPECT_NEAR(g1[i], ref.value(o1)[i], 1e-3) << i;
    for (size_t i = 0; i < g2.size(); ++i)
      EXPECT_EQ(g2[i], ref.value(o2)[i]) << i;
  }
}

} // namespace

TEST(Executor, OneHotAndReduceSum) {
  // The client one-hot encodes its token ids in plaintext and shares the
  // rows (an embedding lookup as a product with the owner's table); sums
  // over one and two axes.
  ProgramBuilder b(16);
  const int64_t T = 3, V = 5, D = 4;
  int ids = b.input("ids", {2, T}, Vis::Client, 0);
  int oh = b.oneHot(ids, V);
  EXPECT_EQ(b.slotInfo(oh).shape, (Shape{2, T, V}));
  EXPECT_EQ(b.slotInfo(oh).vis, Vis::Client);
  EXPECT_EQ(b.slotInfo(oh).frac, 0);
  auto table = randomReal(V * D, -1, 1, 21);
  int w = b.share(b.constant("table", {V, D}, Vis::Owner, table));
  int e = b.matmul(b.share(oh), w); // frac 0 + 16
  int s1 = b.reduceSum(e, {2}, true);
  EXPECT_EQ(b.slotInfo(s1).shape, (Shape{2, T, 1}));
  int s2 = b.reduceSum(e, {0, 2}, false);
  EXPECT_EQ(b.slotInfo(s2).shape, (Shape{T}));
  int o1 = b.reveal(s1, RevealTo::P0), o2 = b.reveal(s2, RevealTo::P0);
  int o3 = b.reveal(e, RevealTo::P0);
  for (int o : {o1, o2, o3})
    b.output(o);
  Program prog = Program::loadBytes(b.finish());
  // An id outside the vocabulary is refused by both executors (it used to
  // be a silent zero row).
  std::vector<double> bad = {4, 0, 2, 1, 7, 3};
  FloatExecutor badRef(prog);
  EXPECT_EQ(test::errorOf([&] { badRef.setInput(ids, bad); }),
            "input 'ids' element 4 is token id 7, outside the vocabulary "
            "[0, 5)");
  std::vector<double> idv = {4, 0, 2, 1, 3, 3};
  FloatExecutor ref(prog);
  ref.setInput(ids, idv);
  ref.run();
  std::vector<double> g1, g2, g3;
  runParties([&](Party &P) {
    Executor ex(prog, P);
    if (P.p0())
      ex.setInput(ids, idv);
    ex.runInference();
    if (P.p0()) {
      g1 = ex.plainReal(o1);
      g2 = ex.plainReal(o2);
      g3 = ex.plainReal(o3);
    }
  });
  // Exact: one-hot products and sums involve no truncation.
  for (int64_t r = 0; r < 2 * T; ++r)
    for (int64_t d = 0; d < D; ++d) {
      double want = idv[r] < V ? table[int64_t(idv[r]) * D + d] : 0.0;
      EXPECT_NEAR(ref.value(o3)[r * D + d], want, 1e-12);
      EXPECT_NEAR(g3[r * D + d], want, 1.0 / 65536);
    }
  for (size_t i = 0; i < g1.size(); ++i)
    EXPECT_NEAR(g1[i], ref.value(o1)[i], 1e-3) << i;
  for (size_t i = 0; i < g2.size(); ++i)
    EXPECT_NEAR(g2[i], ref.value(o2)[i], 1e-3) << i;
  double col0 = 0;
  for (int64_t r : {0, 3})
    for (int64_t d = 0; d < D; ++d)
      col0 += idv[r] < V ? table[int64_t(idv[r]) * D + d] : 0.0;
  EXPECT_NEAR(ref.value(o2)[0], col0, 1e-12);

  // The loader rejects shared ids and repeated or out-of-range axes.
  auto loads = [](const std::function<void(ProgramBuilder &)> &build) {
    return test::buildError(build).empty();
  };
  EXPECT_FALSE(loads([](ProgramBuilder &p) {
    int x = p.share(p.input("ids", {3}, Vis::Client, 0));
    int o = p.slot("", {3, 4}, Vis::Shared, 0);
    fb::OneHotT oh;
    oh.depth = 4;
    p.instr({x}, {o}, makeAttrs(oh));
  }));
  // reduce_sum of a [3, 4] share into [3, 1] over `axes`.
  auto reduceLoads = [&](std::vector<int64_t> axes) {
    return loads([&](ProgramBuilder &p) {
      int x = p.share(p.input("x", {3, 4}, Vis::Client));
      int o = p.slot("", {3, 1}, Vis::Shared, 16);
      fb::ReduceSumT r;
      r.axes = axes;
      p.instr({x}, {o}, makeAttrs(r));
    });
  };
  EXPECT_FALSE(reduceLoads({1, 1})); // repeated axis
  EXPECT_FALSE(reduceLoads({2}));    // out of range
  EXPECT_TRUE(reduceLoads({1}));
  EXPECT_TRUE(reduceLoads({-1})); // counts from the end
}

// A loss's ignored label (ignore_index, here outside [0, V)) gets a zero
// row at the holder; any other id outside [0, V) is still refused.
TEST(Executor, OneHotIgnoredLabel) {
  ProgramBuilder b(16);
  const int64_t V = 4;
  int ids = b.input("labels", {5}, Vis::Client, 0);
  int oh = b.oneHot(ids, V, -1);
  auto x = randomReal(5 * V, -1, 1, 5);
  int xs = b.share(b.constant("x", {5, V}, Vis::Owner, x));
  int picked = b.reduceSum(b.mul(b.share(oh), xs), {1}, false);
  int o = b.reveal(picked, RevealTo::P0);
  b.output(o);
  Program prog = Program::loadBytes(b.finish());
  FloatExecutor badRef(prog);
  EXPECT_EQ(test::errorOf([&] { badRef.setInput(ids, {0, -1, 4, 1, 2}); }),
            "input 'labels' element 2 is token id 4, outside the vocabulary "
            "[0, 4)");
  std::vector<double> idv = {3, -1, 0, -1, 2};
  FloatExecutor ref(prog);
  ref.setInput(ids, idv);
  ref.run();
  std::vector<double> got;
  runParties([&](Party &P) {
    Executor ex(prog, P);
    if (P.p0())
      ex.setInput(ids, idv);
    ex.runInference();
    if (P.p0())
      got = ex.plainReal(o);
  });
  for (int64_t r = 0; r < 5; ++r) {
    double want = idv[r] < 0 ? 0.0 : x[r * V + int64_t(idv[r])];
    EXPECT_NEAR(ref.value(o)[r], want, 1e-12) << r;
    EXPECT_NEAR(got[r], want, 1.0 / 65536) << r;
  }
}
