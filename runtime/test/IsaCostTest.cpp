//===- IsaCostTest.cpp - The instruction table against the runtime --------===//
//
// Every opcode has exactly one row, and for every instruction of a set of
// programs covering every opcode (both comparison backends, representative
// shapes, lengths that are not multiples of 64) the row's predicted online
// bytes, rounds and dealer bytes equal what the three roles measure over
// loopback TCP, exactly.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Isa.h"
#include <cmath>
#include <gtest/gtest.h>
#include <map>
#include <mutex>
#include <set>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

TEST(Isa, EveryOpcodeHasExactlyOneRow) {
  const auto &rows = opRows();
  ASSERT_EQ(rows.size(), size_t(Op::MAX));
  std::set<std::string> names;
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(size_t(rows[k]->op), k + 1);
    std::string nm = opName(rows[k]->op);
    EXPECT_TRUE(names.insert(nm).second) << nm;
    EXPECT_EQ(opByName(nm), rows[k]->op);
    EXPECT_TRUE(rows[k]->infer && rows[k]->secure && rows[k]->real);
  }
  EXPECT_EQ(opByName("reduce_sum"), Op::ReduceSum);
  EXPECT_EQ(opByName("one_hot"), Op::OneHot);
  EXPECT_EQ(opByName("nope"), Op::NONE);
  EXPECT_THROW(opRow(Op::NONE), Error);
}

TEST(Isa, AttributesByFieldName) {
  Attrs a;
  std::string err = buildAttrs(
      Op::Max,
      [](const char *f, AttrKind k, AttrValue &v) {
        if (std::string(f) != "axis")
          return false;
        EXPECT_EQ(k, AttrKind::Int);
        v.i = -1;
        return true;
      },
      a);
  ASSERT_EQ(err, "");
  ASSERT_TRUE(a.AsMax());
  EXPECT_EQ(a.AsMax()->axis, -1);
  EXPECT_TRUE(a.AsMax()->keepdims); // schema default
  EXPECT_EQ(a.AsMax()->bits, 64);
  EXPECT_EQ(attrsString(a), "axis=-1 keepdims=true bits=64");
  // A given value equal to the builder's internal sentinel is kept, not
  // replaced by the schema default (the loader then rejects bits = 255).
  err = buildAttrs(
      Op::Relu,
      [](const char *f, AttrKind, AttrValue &v) {
        if (std::string(f) != "bits")
          return false;
        v.i = 255;
        return true;
      },
      a);
  ASSERT_EQ(err, "");
  ASSERT_TRUE(a.AsRelu());
  EXPECT_EQ(a.AsRelu()->bits, 255);
  err = buildAttrs(
      Op::Poly,
      [](const char *f, AttrKind k, AttrValue &v) {
        EXPECT_EQ(std::string(f), "coefficients");
        EXPECT_EQ(k, AttrKind::Floats);
        v.floats = {0.5, 0.25};
        return true;
      },
      a);
  ASSERT_EQ(err, "");
  EXPECT_EQ(a.AsPoly()->coefficients, (std::vector<double>{0.5, 0.25}));
  err = buildAttrs(
      Op::Relu,
      [](const char *, AttrKind, AttrValue &v) {
        v.i = 300;
        return true;
      },
      a);
  EXPECT_NE(err.find("out of range"), std::string::npos) << err;
}

/// Runs deployment and one inference on all three roles, compares every
/// instruction's measured cost with instrCost and every output with the
/// float reference (the rows' `real`).
/// The live entries of instruction i, for rows restricted by a public
/// block mask (none: -1).
using LiveOf = std::function<int64_t(const Program &, size_t)>;

void expectCosts(const Program &prog, Cmp cmp,
                 const std::map<int, std::vector<double>> &inputs,
                 std::set<Op> &covered, const LiveOf &liveOf = nullptr) {
  std::vector<InstrStat> st[3];
  std::map<int, std::vector<double>> got;
  std::mutex mu;
  SessionConfig cfg;
  cfg.cmp = cmp;
  runParties(
      [&](Party &P) {
        Executor ex(prog, P);
        ex.setInputs(inputs);
        ex.runDeployment();
        ex.runInference();
        st[int(P.role)] = ex.stats;
        std::lock_guard<std::mutex> lock(mu);
        for (int s : prog.outputs)
          if (ex.hasPlain(s))
            got[s] = ex.plainReal(s);
      },
      cfg);
  FloatExecutor ref(prog);
  for (const auto &[s, v] : inputs)
    ref.setInput(s, v);
  ref.run();
  for (int s : prog.outputs) {
    ASSERT_TRUE(got.count(s)) << prog.slots[s].name;
    const std::vector<double> &want = ref.value(s);
    ASSERT_EQ(got[s].size(), want.size());
    for (size_t e = 0; e < want.size(); ++e)
      ASSERT_NEAR(got[s][e], want[e], 0.02 + 2e-3 * std::fabs(want[e]))
          << "output " << prog.slots[s].name << " element " << e
          << " cmp=" << cmpName(cmp);
  }
  ASSERT_EQ(st[0].size(), st[2].size());
  for (size_t j = 0; j < st[0].size(); ++j) {
    const InstrStat &s0 = st[0][j], &s1 = st[1][j], &sd = st[2][j];
    if (s0.op == "matmul-mask")
      continue; // the deployment's opening of constant matmul operands
    size_t i = size_t(s0.index);
    const InstrInfo &I = prog.instrs[i];
    Cost want = instrCost(prog, i, cmp, liveOf ? liveOf(prog, i) : -1);
    covered.insert(I.op());
    std::string what = std::string(opName(I.op())) + " #" + std::to_string(i) +
                       " " + attrsString(I.attrs) + " cmp=" + cmpName(cmp);
    EXPECT_EQ(want.bytes, s0.c.sent + s1.c.sent) << what;
    EXPECT_EQ(s0.c.sent, s1.c.recv) << what;
    EXPECT_EQ(want.rounds, s0.c.rounds) << what;
    EXPECT_EQ(want.rounds, s1.c.rounds) << what;
    EXPECT_EQ(want.dealerBytes, sd.c.dealerBytes) << what;
  }
}

class IsaCost : public ::testing::TestWithParam<Cmp> {};

TEST_P(IsaCost, TableEqualsMeasurement) {
  const Cmp cmp = GetParam();
  std::set<Op> covered;
  const int64_t R = 3, C = 70; // 210 elements: not a multiple of 64
  {
    ProgramBuilder b(16);
    int xc = b.input("x", {R, C}, Vis::Client);
    int yo = b.input("y", {R, C}, Vis::Owner);
    int ids = b.input("ids", {R}, Vis::Client, 0);
    int w = b.constant("w", {C, 5}, Vis::Owner, randomReal(C * 5, -1, 1, 7));
    int pub = b.constant("p", {C}, Vis::Public, randomReal(C, -1, 1, 8));
    int x = b.share(xc), y = b.share(yo), ws = b.share(w);
    std::vector<int> outs;
    outs.push_back(b.add(x, y));
    outs.push_back(b.sub(x, pub));
    outs.push_back(b.neg(x));
    outs.push_back(b.mulT(x, y));
    outs.push_back(b.mulT(x, pub));
    outs.push_back(b.matmulT(x, ws)); // constant right operand (mask)
    outs.push_back(b.matmulT(x, ws)); // x opened once: reused
    int xt = b.transpose(x, {1, 0});
    outs.push_back(b.matmulT(y, xt)); // both fresh
    outs.push_back(b.scale(x, 3));
    outs.push_back(b.drelu(x));
    outs.push_back(b.ltz(x, 40));
    outs.push_back(b.relu(x));
    outs.push_back(b.relu(x, 33));
    outs.push_back(b.select(b.drelu(y, 24), x, y));
    outs.push_back(b.max(x, 1));
    outs.push_back(b.max(x, 0, false, 40));
    outs.push_back(b.argmax(x, -1, false));
    outs.push_back(b.argmax(x, 0, true, 30));
    outs.push_back(b.reshape(x, {C, R}));
    outs.push_back(b.slice(x, {1, 3}, {3, 60}));
    outs.push_back(b.concat({x, y, x}, 0));
    outs.push_back(b.broadcast(b.reduceSum(x, {0}), {2, R, C}));
    outs.push_back(b.reduceSum(x, {-1}, false));
    outs.push_back(b.share(b.oneHot(ids, 9)));
    fb::GatherRowsT rows;
    rows.indices = {2, 0, 2, 1};
    outs.push_back(b.emit({x}, rows));
    int c = b.slot("", {R, C}, Vis::Shared, 16);
    b.instr({x}, {c}, makeAttrs(fb::CopyT{}));
    outs.push_back(c);
    for (size_t k = 0; k < outs.size(); ++k)
      b.output(b.reveal(outs[k], RevealTo(k % 4)));
    Program prog = Program::loadBytes(b.finish());
    expectCosts(prog, cmp,
                {{xc, randomReal(R * C, -4, 4, 1)},
                 {yo, randomReal(R * C, -4, 4, 2)},
                 {ids, {1, 8, 3}}},
                covered);
  }
  {
    // Fixed-point functions on positive inputs in their stated ranges.
    ProgramBuilder b(16);
    int xc = b.input("x", {2, 45}, Vis::Client);
    int x = b.share(xc);
    std::vector<int> outs;
    outs.push_back(b.reciprocal(x, 0.5, 8.0));
    outs.push_back(b.reciprocal(x, 0.5, 8.0, 3));
    outs.push_back(b.rsqrt(x, 0.25, 64.0));
    outs.push_back(b.rsqrt(x, 0.5, 8.0, 1));
    outs.push_back(b.exp(b.neg(x)));
    outs.push_back(b.exp(b.neg(x), 5, 40));
    for (std::vector<double> c : {std::vector<double>{0.5},
                                  {0.1, 0.5},
                                  {0.1, 0.5, 0.25},
                                  {0, 1, 0.5, 0.25},
                                  {1, 1, 1, 1, 1, 1},
                                  {1, 2, 3, 4, 5, 6, 7, 8},
                                  std::vector<double>(11, 0.125)})
      outs.push_back(b.poly(x, c));
    for (int o : outs)
      b.output(b.reveal(o));
    Program prog = Program::loadBytes(b.finish());
    expectCosts(prog, cmp, {{xc, randomReal(90, 0.6, 7.5, 3)}}, covered);
  }
  {
    // Block sparsity: a mask revealed to P0, P1 and the dealer restricts
    // block_matmul, relu and trunc to its live blocks; a shuffle of
    // deployment constants runs at deployment, one per inference online.
    const int64_t R = 3, K = 20, M = 12, NB = 4; // blocks of 3 outputs
    ProgramBuilder b(16);
    int xc = b.input("x", {R, K}, Vis::Client);
    int mc = b.input("m", {R, NB}, Vis::Client, 0);
    int w1 = b.constant("w1", {K, M}, Vis::Owner, randomReal(K * M, -1, 1, 5));
    int w2 = b.constant("w2", {M, K}, Vis::Owner, randomReal(M * K, -1, 1, 6));
    int x = b.share(xc), ws1 = b.share(w1), ws2 = b.share(w2);
    int mask = b.reveal(b.share(mc), RevealTo::BothAndDealer, "block mask");
    fb::BlockMatmulT out, in;
    in.sparse_input = true;
    int w3 = b.constant("w3", {K, 5}, Vis::Owner, randomReal(K * 5, -1, 1, 9));
    int p3 = b.matmulT(x, b.share(w3)); // opens x; the block product reuses it
    int h = b.emit({x, ws1, mask}, out);
    int ht = b.trunc(h, 16);
    int masked = b.emit({h, mask}, [] {
      fb::TruncT t;
      t.bits = 16;
      return t;
    }());
    int r = b.emit({masked, mask}, fb::ReluT{});
    int y = b.emit({r, ws2, mask}, in);
    fb::ShuffleT once, fresh;
    fresh.per_inference = true;
    // A shuffle's row sums do not depend on the permutation (the float
    // reference applies the identity).
    int sw = b.reduceSum(b.emit({ws1}, once), {0});
    int sf = b.reduceSum(b.emit({ws2}, fresh), {0});
    for (int o : {p3, ht, masked, r, y, sw, sf})
      b.output(b.reveal(o));
    Program prog = Program::loadBytes(b.finish());
    // Rows 0 and 2: blocks {0, 3} and {1}; row 1: none.
    std::vector<double> m = {1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0};
    int64_t live = 3;
    expectCosts(
        prog, cmp, {{xc, randomReal(R * K, -2, 2, 4)}, {mc, m}}, covered,
        [&](const Program &p, size_t i) -> int64_t {
          const InstrInfo &I = p.instrs[i];
          bool masked = (I.op() == Op::Relu || I.op() == Op::Trunc)
                            ? I.in.size() == 2
                            : I.op() == Op::BlockMatmul;
          return masked ? live * (M / NB) : -1;
        });
  }
  // Every row was measured at least once.
  for (const OpRow *r : opRows())
    EXPECT_TRUE(covered.count(r->op)) << opName(r->op) << " not covered";
}

INSTANTIATE_TEST_SUITE_P(Backends, IsaCost,
                         ::testing::Values(Cmp::Dcf, Cmp::Bits),
                         [](const auto &i) { return cmpName(i.param); });

} // namespace
