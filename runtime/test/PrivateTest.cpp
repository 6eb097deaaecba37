//===- PrivateTest.cpp - Private slots run in plaintext at their holder ---===//
//
// MPC minimisation (Marill): work on one party's own plaintext (client or
// owner slots) runs at that party alone, with no messages and no dealer
// material; `share` is the only way it meets the other party's data.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "umbra/runtime/Executor.h"
#include <cmath>
#include <gtest/gtest.h>
#include <map>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

using Frames = std::vector<std::pair<FrameType, size_t>>;

/// What a run of a program left at each role.
struct RunResult {
  std::vector<InstrStat> stats[3];
  /// Frames P0 / P1 received from each other: type and payload bytes.
  Frames frames[2];
  /// Output values each party holds in plaintext.
  std::map<int, std::vector<double>> plain[2];
};

/// Deployment and one inference on all three roles; inputs go to the roles
/// that hold them.
RunResult runProgram(const Program &prog,
                     const std::map<int, std::vector<double>> &inputs) {
  RunResult r;
  runParties([&](Party &P) {
    Executor ex(prog, P);
    int me = int(P.role);
    if (!P.dealer())
      P.peer->onRecv = [&r, me](FrameType t, const uint8_t *, size_t len) {
        if (t != FrameType::Done) // end of session, not data
          r.frames[me].push_back({t, len});
      };
    ex.setInputs(inputs);
    ex.runDeployment();
    ex.runInference();
    r.stats[me] = ex.stats;
    if (!P.dealer())
      for (int s : prog.outputs)
        if (ex.hasPlain(s))
          r.plain[me][s] = ex.plainReal(s);
  });
  return r;
}

std::vector<double> reference(const Program &prog,
                              const std::map<int, std::vector<double>> &in,
                              int slot) {
  FloatExecutor ref(prog);
  for (const auto &[s, v] : in)
    ref.setInput(s, v);
  ref.run();
  return ref.value(slot);
}

void expectNear(const std::vector<double> &got, const std::vector<double> &want,
                double abs, double rel, const char *what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i]))
        << what << " element " << i;
}

uint64_t totalDealerBytes(const std::vector<InstrStat> &stats) {
  uint64_t n = 0;
  for (const InstrStat &s : stats)
    n += s.c.dealerBytes;
  return n;
}

/// The shared tail both programs of ClientWorksInPlaintextThenShares have:
/// the owner transposes its weight in plaintext (deployment), both are
/// shared, then a product and a ReLU under MPC, revealed to the client.
int sharedTail(ProgramBuilder &b, int clientValue, int64_t h, int64_t o) {
  int w = b.constant("w", {o, h}, Vis::Owner, randomReal(o * h, -0.5, 0.5, 33));
  int wt = b.transpose(w, {1, 0});
  int y = b.relu(b.matmulT(b.share(clientValue), b.share(wt)));
  int out = b.reveal(y, RevealTo::Client, "output");
  b.output(out);
  return out;
}

TEST(Private, ClientWorksInPlaintextThenShares) {
  const int64_t T = 4, D = 8, H = 16, O = 6;
  // The client scales its input, multiplies it by a public matrix, adds a
  // public bias and applies ReLU, all in plaintext; then shares the result,
  // which meets the owner's weight under MPC.
  ProgramBuilder b(16);
  int x = b.input("x", {T, D}, Vis::Client);
  int pm =
      b.constant("pm", {D, H}, Vis::Public, randomReal(D * H, -0.5, 0.5, 31));
  int bias = b.constant("bias", {H}, Vis::Public, randomReal(H, -.2, .2, 32));
  int sx = b.scale(x, 3);
  int r = b.relu(b.add(b.matmulT(sx, pm), bias));
  int out = sharedTail(b, r, H, O);
  b.output(r); // the client's own feature: written by P0, never shared
  Program prog = Program::loadBytes(b.finish());

  std::map<int, std::vector<double>> in = {{x, randomReal(T * D, -1, 1, 34)}};
  RunResult run = runProgram(prog, in);

  // Results: the client's linear work is exact ring arithmetic (the
  // truncation is a floor), its ReLU exact on those values; the MPC tail
  // is within fixed-point error of the float reference.
  auto enc = [](const std::vector<double> &v) {
    std::vector<int64_t> q;
    for (double d : v)
      q.push_back(int64_t(encodeFixed(d, 16)));
    return q;
  };
  std::vector<int64_t> xq = enc(in[x]), pq = enc(prog.weightReal(pm)),
                       bq = enc(prog.weightReal(bias));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < H; ++j) {
      int64_t acc = 0;
      for (int64_t k = 0; k < D; ++k)
        acc += 3 * xq[t * D + k] * pq[k * H + j];
      int64_t want = std::max<int64_t>(0, (acc >> 16) + bq[j]);
      EXPECT_EQ(run.plain[0].at(r)[t * H + j], decodeFixed(want, 16));
    }
  expectNear(run.plain[0].at(r), reference(prog, in, r), 1e-3, 0,
             "client feature");
  expectNear(run.plain[0].at(out), reference(prog, in, out), 2e-3, 1e-3,
             "output");
  EXPECT_EQ(run.plain[1].count(r), 0u); // P1 never holds the client's value
  EXPECT_EQ(run.plain[1].count(out), 0u);

  // Private instructions cost nothing at any role (no bytes, no rounds, no
  // dealer material); the owner's transposition runs once, at deployment.
  int privateInstrs = 0;
  for (int role = 0; role < 3; ++role)
    for (const InstrStat &s : run.stats[role]) {
      if (s.index < 0)
        continue;
      const InstrInfo &I = prog.instrs[s.index];
      if (!isPrivate(prog.slots[I.out[0]].vis))
        continue;
      ++privateInstrs;
      EXPECT_EQ(s.c.sent + s.c.recv + s.c.rounds + s.c.dealerBytes, 0u)
          << roleName(Role(role)) << " instruction " << s.index << " " << s.op;
      if (I.op() == Op::Transpose)
        EXPECT_EQ(s.phase, "deploy");
    }
  // scale, matmul, trunc, add, relu at the client; transpose at the owner.
  EXPECT_EQ(privateInstrs, 3 * 6);

  // P1's view is exactly the one of a program in which the client shares
  // the same value directly: one Share frame with the client's T x H
  // values, then the openings of the MPC tail. The same holds for P0's
  // view of the owner's side, and for the dealer's material.
  ProgramBuilder bd(16);
  int xd = bd.input("r", {T, H}, Vis::Client);
  int outd = sharedTail(bd, xd, H, O);
  Program direct = Program::loadBytes(bd.finish());
  RunResult runD = runProgram(direct, {{xd, reference(prog, in, r)}});
  EXPECT_EQ(run.frames[1], runD.frames[1]);
  EXPECT_EQ(run.frames[0], runD.frames[0]);
  Frames shares;
  for (auto frame : run.frames[1])
    if (frame.first != FrameType::Open)
      shares.push_back(frame);
  EXPECT_EQ(shares, (Frames{{FrameType::Share, size_t(8 * T * H)}}));
  EXPECT_EQ(totalDealerBytes(run.stats[int(Role::Dealer)]),
            totalDealerBytes(runD.stats[int(Role::Dealer)]));
  EXPECT_GT(totalDealerBytes(run.stats[int(Role::Dealer)]), 0u);
  expectNear(run.plain[0].at(out), runD.plain[0].at(outd), 2e-3, 1e-3,
             "output vs direct sharing");
}

TEST(Private, PlaintextOnlyProgramSendsNothing) {
  // Every gate on private values, at the client and at the owner: no frame
  // between the parties, no dealer material, results as the float
  // reference (the gates are evaluated in plaintext reals).
  const int64_t T = 3, D = 4, H = 5;
  ProgramBuilder b(16);
  int x = b.input("x", {T, D}, Vis::Client);
  int ids = b.input("ids", {T}, Vis::Client, 0);
  int pm =
      b.constant("pm", {D, H}, Vis::Public, randomReal(D * H, -0.5, 0.5, 41));
  int h = b.matmulT(x, pm);
  int c = b.drelu(h);
  int half =
      b.constant("half", {T, H}, Vis::Public, std::vector<double>(T * H, 0.5));
  int sel = b.select(c, h, half);
  int z = b.sub(h, b.max(h, 1, true));
  int e = b.exp(z, 8);
  int sum = b.reduceSum(e, {1}, true);
  int probs = b.mulT(e, b.reciprocal(sum, 1.0, 8.0, 0));
  int ms = b.rsqrt(b.add(b.mulT(h, h), half), 0.25, 64.0, 0);
  int poly = b.poly(b.relu(h), {0.1, 0.5, 0.25});
  int am = b.argmax(h, 1, false);
  int neg = b.ltz(h);
  int oh = b.oneHot(ids, H);
  int cat = b.concat({sel, probs, ms, poly}, 0);
  // The owner's own input (not a weight): computed at P1 per inference.
  int u = b.input("u", {H}, Vis::Owner);
  int uo = b.poly(b.neg(u), {1.0, 0.0, 0.5});
  std::vector<int> clientOut = {cat, am, neg, oh};
  for (int s : clientOut)
    b.output(s);
  b.output(uo);
  Program prog = Program::loadBytes(b.finish());

  std::map<int, std::vector<double>> in = {{x, randomReal(T * D, -2, 2, 42)},
                                           {ids, {2, 0, 4}},
                                           {u, randomReal(H, -1, 1, 43)}};
  RunResult run = runProgram(prog, in);
  for (int s : clientOut) {
    expectNear(run.plain[0].at(s), reference(prog, in, s), 1e-3, 1e-3,
               prog.slots[s].name.c_str());
    EXPECT_EQ(run.plain[1].count(s), 0u);
  }
  expectNear(run.plain[1].at(uo), reference(prog, in, uo), 1e-4, 0,
             "owner's value");
  EXPECT_EQ(run.plain[0].count(uo), 0u);

  EXPECT_TRUE(run.frames[0].empty());
  EXPECT_TRUE(run.frames[1].empty());
  for (int role = 0; role < 3; ++role) {
    ASSERT_EQ(run.stats[role].size(), prog.instrs.size());
    for (const InstrStat &s : run.stats[role])
      EXPECT_EQ(s.c.sent + s.c.recv + s.c.rounds + s.c.dealerBytes, 0u)
          << roleName(Role(role)) << " " << s.op;
  }
}

TEST(Private, LoaderRejectsMixedParties) {
  auto expectError = [](const std::function<void(ProgramBuilder &)> &build,
                        const std::string &want) {
    std::string err = test::buildError(build);
    EXPECT_NE(err.find(want), std::string::npos)
        << "got '" << err << "', want '" << want << "'";
  };
  // The client's and the owner's data meet only after sharing.
  expectError(
      [](ProgramBuilder &b) {
        int x = b.input("x", {2, 3}, Vis::Client);
        int w = b.constant("w", {3, 2}, Vis::Owner, std::vector<double>(6, 1));
        b.instr({x, w}, {b.slot("y", {2, 2}, Vis::Client, 32)},
                makeAttrs(fb::MatmulT{}));
      },
      "instruction 0 (matmul): matmul: mixes 'x' (client-private) with 'w' "
      "(owner-private); share them first");
  // Private data and shared data: the holder must share first.
  expectError(
      [](ProgramBuilder &b) {
        int x = b.input("x", {2}, Vis::Client);
        int y = b.share(b.input("y", {2}, Vis::Client));
        b.instr({x, y}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::AddT{}));
      },
      "add: operand 'x' is client-private but '%2' is secret-shared; share "
      "'x' first");
  expectError(
      [](ProgramBuilder &b) {
        int c = b.share(b.input("c", {2}, Vis::Client, 0));
        int a = b.input("a", {2}, Vis::Owner);
        b.instr({c, a, a}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::SelectT{}));
      },
      "select: operand 'a' is owner-private but '%1' is secret-shared");
  // One instruction on one input: a private result belongs to the holder
  // of its inputs; reveals and gates make no sense on private or public
  // values respectively.
  struct Single {
    Attrs attrs;
    Vis in, out;
    std::string want;
  };
  for (const Single &c : std::vector<Single>{
           {makeAttrs(fb::NegT{}), Vis::Client, Vis::Owner,
            "is owner, expected client"},
           {makeAttrs(fb::NegT{}), Vis::Public, Vis::Client,
            "is client, expected public"},
           {makeAttrs(fb::RevealT{}), Vis::Client, Vis::Public,
            "reveal: operand 'x' is client-private: its holder knows it "
            "already"},
           {makeAttrs(fb::ReluT{}), Vis::Public, Vis::Public,
            "relu: operands are public"},
       })
    expectError(
        [&](ProgramBuilder &b) {
          int x = b.input("x", {2}, c.in);
          b.instr({x}, {b.slot("z", {2}, c.out, 16)}, c.attrs);
        },
        c.want);
  expectError(
      [](ProgramBuilder &b) {
        int c = b.share(b.input("c", {2}, Vis::Client, 0));
        int a = b.share(b.input("a", {2}, Vis::Owner));
        int p = b.constant("p", {2}, Vis::Public, {1, 2});
        b.instr({c, a, p}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::SelectT{}));
      },
      "select: operand 'p' must be secret-shared like the others");
  expectError(
      [](ProgramBuilder &b) {
        int x = b.input("x", {2}, Vis::Client);
        b.instr({b.neg(x)}, {b.slot("z", {2}, Vis::Client, 16)},
                makeAttrs(fb::ShareT{}));
      },
      "result 'z' is client, expected shared");
  // Concat checks every operand, not just the first two.
  expectError(
      [](ProgramBuilder &b) {
        int x = b.input("x", {2}, Vis::Client);
        int p = b.constant("p", {2}, Vis::Public, {1, 2});
        int w = b.input("w", {2}, Vis::Owner);
        b.instr({x, p, w}, {b.slot("z", {6}, Vis::Client, 16)},
                makeAttrs(fb::ConcatT{}));
      },
      "concat: mixes 'x' (client-private) with 'w' (owner-private)");
}

TEST(Private, OwnerWeightWorkRunsOnceAtDeployment) {
  // Deployment constants computed from owner weights stay constants: the
  // share of the owner's plaintext result is a deployment instruction, and
  // the matmul against it opens W - B once.
  ProgramBuilder b(16);
  int x = b.input("x", {2, 3}, Vis::Client);
  int w = b.constant("w", {3, 3}, Vis::Owner, randomReal(9, -1, 1, 51));
  int w2 = b.trunc(b.mul(w, w), 16); // the owner squares its weights
  int ws = b.share(w2);
  b.output(b.reveal(b.matmulT(b.share(x), ws), RevealTo::Client));
  Program prog = Program::loadBytes(b.finish());
  for (const InstrInfo &I : prog.instrs) {
    bool ownerWork = I.out[0] == w2 || I.out[0] == ws ||
                     prog.slots[I.out[0]].vis == Vis::Owner;
    EXPECT_EQ(I.deploy, ownerWork) << opName(I.op());
  }
  EXPECT_TRUE(prog.isConst[ws]);
  std::map<int, std::vector<double>> in = {{x, randomReal(6, -1, 1, 52)}};
  RunResult run = runProgram(prog, in);
  int masks = 0;
  for (const InstrStat &s : run.stats[int(Role::P0)])
    masks += s.op == "matmul-mask";
  EXPECT_EQ(masks, 1);
  int out = prog.outputs[0];
  expectNear(run.plain[0].at(out), reference(prog, in, out), 1e-3, 0, "out");
}

} // namespace
