//===- WeightOriginTest.cpp - the loader refuses owner-derived public blobs ===//
//
// Every weight blob records its origin (program.fbs's Origin): the compiler
// refuses to write a public blob derived from an owner weight, and the
// loader refuses one again, so that a buggy or altered artifact cannot
// publish the owner's data to P0 and the dealer. Also the file-name rule
// and the tensor limits every tool shares.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Program.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace umbra::rt;

namespace {

/// A program with an owner weight and a public constant (weights 0 and 1).
std::vector<uint8_t> twoConstants() {
  ProgramBuilder b(16);
  int x = b.input("x", {3}, Vis::Client);
  int w = b.constant("w", {3}, Vis::Owner, {2, 4, 8});
  int c = b.constant("c", {3}, Vis::Public, {0.5, 0.25, 0.125});
  int xs = b.share(x);
  int ws = b.share(w);
  b.output(b.reveal(b.add(b.add(xs, ws), c), RevealTo::Client, "y"));
  return b.finish();
}

/// `bytes` with weight `index`'s origin and source set, resealed by the
/// container writer (hashes right, so only the origin check can refuse it).
std::vector<uint8_t> withOrigin(const std::vector<uint8_t> &bytes,
                                size_t index, fb::Origin origin,
                                const std::string &source) {
  auto a = Artifact::fromBytes(bytes);
  std::unique_ptr<fb::ProgramT> prog(fb::GetProgram(a->program())->UnPack());
  prog->weights.at(index)->origin = origin;
  prog->weights.at(index)->source = source;
  flatbuffers::FlatBufferBuilder fbb;
  fb::FinishProgramBuffer(fbb, fb::Program::Pack(fbb, prog.get()));
  ArtifactWriter w;
  for (size_t i = 0; i < a->blobs().size(); ++i)
    w.addBlob(a->blobData(i), a->blobs()[i].size, a->blobs()[i].dtype,
              a->blobs()[i].owner);
  return w.bytes(fbb.GetBufferPointer(), fbb.GetSize());
}

int weightOf(const Program &p, const std::string &slot) {
  for (const SlotInfo &s : p.slots)
    if (s.name == slot)
      return s.weight;
  return -1;
}

TEST(WeightOrigin, BuilderRecordsOrigins) {
  Program p = Program::loadBytes(twoConstants());
  const BlobEntry &w = p.weights.at(weightOf(p, "w"));
  const BlobEntry &c = p.weights.at(weightOf(p, "c"));
  EXPECT_EQ(w.origin, Origin::Owner);
  EXPECT_EQ(c.origin, Origin::MarkedPublic);
  EXPECT_EQ(c.source, "c (ProgramBuilder)");
  EXPECT_STREQ(originName(Origin::PublicByRule), "public by rule");
}

TEST(WeightOrigin, LoaderRefusesOwnerOriginPublicBlob) {
  std::vector<uint8_t> good = twoConstants();
  int c = weightOf(Program::loadBytes(good), "c");
  ASSERT_GE(c, 0);
  // Public by rule and marked public load; origin owner does not, naming
  // the slot, the weight and the source.
  EXPECT_NO_THROW(Program::loadBytes(
      withOrigin(good, c, fb::Origin::PublicByRule, "four")));
  std::string err = test::errorOf([&] {
    Program::loadBytes(withOrigin(good, c, fb::Origin::Owner, "w"));
  });
  EXPECT_NE(err.find("slot 2 ('c'): public constant whose weight " +
                     std::to_string(c) +
                     " has origin owner (from 'w'); an owner-derived value "
                     "is never public"),
            std::string::npos)
      << err;
  // A writer that records no origin gets the schema's default, owner:
  // refused too (fail-closed), with no source to name.
  err = test::errorOf([&] {
    Program::loadBytes(withOrigin(good, c, fb::Origin::Owner, ""));
  });
  EXPECT_NE(err.find("has origin owner; an owner-derived value is never "
                     "public"),
            std::string::npos)
      << err;
  // The stripped copy (what P0 and the dealer load) is refused the same way.
  auto bad = Artifact::fromBytes(withOrigin(good, c, fb::Origin::Owner, "w"));
  err = test::errorOf(
      [&] { Program::loadBytes(bad->withoutOwnerBlobs()); });
  EXPECT_NE(err.find("has origin owner (from 'w')"), std::string::npos) << err;
  // An owner slot may hold any origin (more private is no leak).
  int w = weightOf(Program::loadBytes(good), "w");
  EXPECT_NO_THROW(Program::loadBytes(
      withOrigin(good, w, fb::Origin::PublicByRule, "")));
}

TEST(WeightOrigin, BadOriginValueIsRefused) {
  std::vector<uint8_t> good = twoConstants();
  std::string err = test::errorOf([&] {
    Program::loadBytes(withOrigin(good, 0, fb::Origin(7), ""));
  });
  EXPECT_NE(err.find("weight 0: bad origin 7"), std::string::npos) << err;
}

TEST(FileNames, PlainFileNamesOnly) {
  for (const char *ok : {"y", "logits", "a.b", "..a", "a..", "x-1_2.npy"})
    EXPECT_TRUE(isPlainFileName(ok)) << ok;
  for (const std::string bad :
       {std::string(""), std::string("."), std::string(".."),
        std::string("../x"), std::string("/abs"), std::string("a/b"),
        std::string("a\\b"), std::string("a\0b", 3), std::string(256, 'y')})
    EXPECT_FALSE(isPlainFileName(bad)) << bad;
  EXPECT_TRUE(isPlainFileName(std::string(255, 'y')));
}

TEST(Limits, NumelUsesTheSharedLimits) {
  EXPECT_EQ(numel({2, 3, 4}), 24);
  EXPECT_EQ(numel({kMaxDim}), kMaxDim);
  EXPECT_NE(test::errorOf([] { numel({kMaxDim + 1}); })
                .find("invalid dimension"),
            std::string::npos);
  EXPECT_NE(test::errorOf([] { numel({1, int64_t(1000000000000), 4}); })
                .find("tensor too large"),
            std::string::npos);
}

} // namespace
