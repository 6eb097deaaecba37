//===- ProgramTest.cpp - Artifact builder, loader and verifier ------------===//
#include "umbra/runtime/Program.h"
#include "TestUtil.h"
#include <cstdio>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <random>
#include <unistd.h>

using namespace umbra::rt;

namespace {

std::vector<uint8_t> smallProgram() {
  ProgramBuilder b(12);
  int x = b.input("x", {2, 3}, Vis::Client);
  int w = b.constant("w", {3, 4}, Vis::Owner,
                     {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  int xs = b.share(x);
  int wsh = b.share(w);
  int y = b.matmulT(xs, wsh);
  b.output(b.reveal(b.relu(y), RevealTo::Client, "logits"));
  return b.finish();
}

/// The artifact `a` with its program section replaced by `program` (same
/// blobs), written by the container writer so the hashes are right.
std::vector<uint8_t> reseal(const Artifact &a,
                            const std::vector<uint8_t> &program) {
  ArtifactWriter w;
  for (size_t i = 0; i < a.blobs().size(); ++i)
    w.addBlob(a.blobData(i), a.blobs()[i].size, a.blobs()[i].dtype,
              a.blobs()[i].owner);
  return w.bytes(program.data(), program.size());
}

std::string loadError(std::vector<uint8_t> bytes) {
  return test::errorOf([&] { Program::loadBytes(std::move(bytes)); });
}

TEST(Program, BuildWriteLoadRoundTrip) {
  auto bytes = smallProgram();
  std::string path =
      ::testing::TempDir() + "/rt" + std::to_string(getpid()) + ".umbra";
  FILE *f = fopen(path.c_str(), "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  Program p = Program::loadFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(p.fracBits, 12);
  EXPECT_EQ(p.instrs.size(), 6u);
  EXPECT_EQ(p.inputs, std::vector<int>{0});
  ASSERT_EQ(p.slots[1].weight, 0);
  EXPECT_EQ(p.weightReal(1)[11], 12.0);
  EXPECT_EQ(p.weightRing(1)[0], uint64_t(1) << 12);
  EXPECT_TRUE(p.instrs[1].deploy);  // share of the owner's weight
  EXPECT_FALSE(p.instrs[0].deploy); // share of the client's input
  EXPECT_EQ(p.instrs[5].reason(), "logits");
  EXPECT_EQ(p.hashHex().size(), 64u);
  // Deterministic: same program, same hash.
  EXPECT_EQ(Program::loadBytes(smallProgram()).hash(), p.hash());
  EXPECT_EQ(uintptr_t(p.weightData(1)) % kBlobAlign, 0u);
}

TEST(Program, StripOwnerWeightsKeepsHash) {
  ProgramBuilder b(12);
  int x = b.input("x", {2, 3}, Vis::Client);
  int w = b.constant("w", {3, 4}, Vis::Owner, std::vector<double>(12, 0.5));
  int c = b.constant("c", {4}, Vis::Public, {1, 2, 3, 4});
  int xs = b.share(x);
  int ws = b.share(w);
  b.output(b.reveal(b.add(b.matmulT(xs, ws), c)));
  std::string dir = ::testing::TempDir() + "/strip" + std::to_string(getpid());
  std::string full = dir + ".umbra", pub = dir + ".public.umbra";
  b.writeFile(full);
  Program::stripOwnerWeights(full, pub);
  Program pf = Program::loadFile(full), pp = Program::loadFile(pub);
  EXPECT_EQ(pf.hash(), pp.hash());
  EXPECT_TRUE(pf.weights[pf.slots[w].weight].present);
  EXPECT_FALSE(pp.weights[pp.slots[w].weight].present);
  EXPECT_EQ(pp.weightReal(c)[3], 4.0);
  EXPECT_NE(test::errorOf([&] { pp.weightReal(w); }).find("stripped"),
            std::string::npos);
  std::remove(full.c_str());
  std::remove(pub.c_str());
  // A corrupted weight blob is caught by its SHA-256.
  auto bytes = b.finish();
  bytes[bytes.size() - 70] ^= 1;
  EXPECT_NE(loadError(bytes).find("SHA-256 mismatch"), std::string::npos);
}

TEST(Program, RejectsTruncatedFiles) {
  auto bytes = smallProgram();
  for (size_t n = 0; n < bytes.size(); n += 7) {
    std::vector<uint8_t> t(bytes.begin(), bytes.begin() + n);
    EXPECT_NE(loadError(t), "") << "length " << n;
  }
  EXPECT_NE(loadError({}).find("truncated"), std::string::npos);
}

TEST(Program, RejectsCorruption) {
  auto bytes = smallProgram();
  auto c = bytes;
  c[200] ^= 1;
  EXPECT_NE(loadError(c).find("hash mismatch"), std::string::npos);
  c = bytes;
  c[0] = 'X';
  EXPECT_NE(loadError(c).find("bad magic"), std::string::npos);
}

TEST(Program, FuzzedProgramsNeverCrash) {
  // Flip bytes inside the FlatBuffer and fix the hash so the verifier and
  // the semantic checks are what stands between the bytes and execution.
  auto a = Artifact::fromBytes(smallProgram());
  std::vector<uint8_t> program(a->program(), a->program() + a->programSize());
  std::mt19937_64 g(7);
  int rejected = 0;
  for (int it = 0; it < 3000; ++it) {
    auto c = program;
    int flips = 1 + int(g() % 4);
    for (int k = 0; k < flips; ++k)
      c[g() % c.size()] ^= uint8_t(1 + g() % 255);
    rejected += loadError(reseal(*a, c)) != "";
  }
  EXPECT_GT(rejected, 1000);
}

TEST(Program, RejectsBadIndicesShapesAndScales) {
  // Builds a program with one malformed instruction; loading must fail
  // with `what` in the message.
  auto rejects = [](const std::function<void(ProgramBuilder &)> &build,
                    const std::string &what) {
    EXPECT_NE(test::buildError(build).find(what), std::string::npos) << what;
  };
  rejects(
      [](ProgramBuilder &b) {
        int x = b.input("x", {2}, Vis::Client);
        int y = b.slot("y", {2}, Vis::Shared, 16);
        b.instr({x}, {y}, makeAttrs(fb::ShareT{}));
        b.instr({y, 42}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::AddT{}));
      },
      "operand index 42 out of range");
  // Two shared operands x (the client's) and y (of `yVis`) whose shapes the
  // instruction `attrs` does not accept.
  auto rejectsOperands = [&](const Attrs &attrs, const Shape &xShape,
                             const Shape &yShape, Vis yVis,
                             const Shape &zShape, int zFrac,
                             const std::string &what) {
    rejects(
        [&](ProgramBuilder &b) {
          int x = b.share(b.input("x", xShape, Vis::Client));
          int y = b.share(b.input("y", yShape, yVis));
          b.instr({x, y}, {b.slot("z", zShape, Vis::Shared, zFrac)}, attrs);
        },
        what);
  };
  rejectsOperands(makeAttrs(fb::AddT{}), {2, 3}, {4}, Vis::Client, {2, 3}, 16,
                  "do not broadcast");
  rejectsOperands(makeAttrs(fb::MatmulT{}), {2, 3}, {4, 5}, Vis::Owner, {2, 5},
                  32, "inner dimensions");
  rejects(
      [](ProgramBuilder &b) {
        int x = b.share(b.input("x", {2, 3}, Vis::Client));
        b.instr({x}, {b.slot("z", {3, 2}, Vis::Shared, 16)},
                makeAttrs(fb::ReluT{}));
      },
      "has shape [3x2], expected [2x3]");
  rejects(
      [](ProgramBuilder &b) {
        int x = b.share(b.input("x", {2}, Vis::Client));
        fb::TruncT t;
        t.bits = 8;
        b.instr({x}, {b.slot("z", {2}, Vis::Shared, 16)}, makeAttrs(t));
      },
      "fractional bits");
  rejects(
      [](ProgramBuilder &b) {
        // The client's ReLU runs at the client: its result is not shared.
        int x = b.input("x", {2}, Vis::Client);
        b.instr({x}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::ReluT{}));
      },
      "is shared, expected client");
  rejects(
      [](ProgramBuilder &b) {
        // Use before definition.
        int x = b.share(b.input("x", {2}, Vis::Client));
        int later = b.slot("later", {2}, Vis::Shared, 16);
        b.instr({x, later}, {b.slot("z", {2}, Vis::Shared, 16)},
                makeAttrs(fb::AddT{}));
        b.instr({x}, {later}, makeAttrs(fb::CopyT{}));
      },
      "before it is defined");
  rejects(
      [](ProgramBuilder &b) {
        int x = b.share(b.input("x", {2, 3}, Vis::Client));
        b.instr({x}, {b.slot("z", {7}, Vis::Shared, 16)},
                makeAttrs(fb::ReshapeT{}));
      },
      "element count");
  rejects(
      [](ProgramBuilder &b) {
        int x = b.share(b.input("x", {2, 3}, Vis::Client));
        fb::MaxT m;
        m.axis = 5;
        m.keepdims = false;
        b.instr({x}, {b.slot("z", {2}, Vis::Shared, 16)}, makeAttrs(m));
      },
      "axis 5 out of range");
  // A live-block mask the dealer does not hold (opened to P0 and P1 only):
  // its material could not follow the parties'.
  for (RevealTo to : {RevealTo::Both, RevealTo::BothAndDealer}) {
    std::string err = test::buildError([&](ProgramBuilder &b) {
      int x = b.share(b.input("x", {2, 8}, Vis::Client));
      int m = b.reveal(b.share(b.input("m", {2, 4}, Vis::Client, 0)), to);
      b.output(b.emit({x, m}, fb::ReluT{}));
    });
    if (to == RevealTo::Both)
      EXPECT_NE(err.find("relu: the live-block mask '"), std::string::npos)
          << err;
    else
      EXPECT_EQ(err, "");
  }
}

TEST(Program, WeightDTypes) {
  ProgramBuilder b(10);
  int a = b.constant("a", {3}, Vis::Public, {0.5, -1.25, 3}, -1, DType::F32);
  int c = b.constant("c", {3}, Vis::Owner, {0.5, -1.25, 3}, -1, DType::I64);
  int d = b.constant("d", {3}, Vis::Public, {0.5, -1.25, 3});
  b.output(b.add(a, d));
  b.output(c);
  Program p = Program::loadBytes(b.finish());
  for (int s : {a, c, d}) {
    EXPECT_EQ(p.weightReal(s), (std::vector<double>{0.5, -1.25, 3}));
    EXPECT_EQ(int64_t(p.weightRing(s)[1]), -1280);
  }
  EXPECT_EQ(p.weights[p.slots[a].weight].size, 12u);
}

TEST(Program, FixedPointEncoding) {
  EXPECT_EQ(encodeFixed(1.5, 16), uint64_t(3) << 15);
  EXPECT_EQ(int64_t(encodeFixed(-2.0, 8)), -512);
  EXPECT_DOUBLE_EQ(decodeFixed(encodeFixed(-3.25, 20), 20), -3.25);
  EXPECT_THROW(encodeFixed(1e30, 16), Error);
}

} // namespace
