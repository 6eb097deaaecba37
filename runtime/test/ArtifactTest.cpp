//===- ArtifactTest.cpp - The .umbra container reader and writer ----------===//
//
// Container-level tests: no instructions, only slots that say which blobs
// are the owner's, so they do not depend on the instruction encoding.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Artifact.h"
#include "umbra/runtime/Program.h"
#include "program_generated.h"
#include "TestUtil.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace umbra::rt;
namespace fb = umbra::fb;

namespace {

/// Blob sizes chosen so that padding matters (13 and 100 are not multiples
/// of 64) and an owner blob is added between two public ones.
struct Container {
  std::vector<std::vector<uint8_t>> blobs = {
      std::vector<uint8_t>(13, 0x11),  // public
      std::vector<uint8_t>(100, 0x22), // owner
      std::vector<uint8_t>(64, 0x33),  // public
      std::vector<uint8_t>(8, 0x44)};  // owner
  std::vector<bool> owner = {false, true, false, true};
  std::vector<uint8_t> program;
  std::vector<BlobEntry> layout;

  /// A program section with one slot per blob (Owner or Public) and the
  /// writer's Weight tables; `offsetShift` moves blob 0's offset.
  std::vector<uint8_t> bytes(uint64_t offsetShift = 0,
                             bool ownerFirst = false) {
    ArtifactWriter w;
    for (size_t i = 0; i < blobs.size(); ++i)
      w.addBlob(blobs[i].data(), blobs[i].size(), DType::I64, owner[i]);
    layout = w.layout();
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<fb::Slot>> slots;
    for (size_t i = 0; i < blobs.size(); ++i)
      slots.push_back(fb::CreateSlot(
          fbb, fbb.CreateString("w" + std::to_string(i)), 0, 0,
          owner[i] ? fb::Visibility::Owner : fb::Visibility::Public, int(i)));
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Weight>>>
        weights;
    if (offsetShift || ownerFirst) {
      // A layout the writer would never produce.
      std::vector<flatbuffers::Offset<fb::Weight>> ws;
      for (size_t i = 0; i < layout.size(); ++i) {
        uint64_t off = layout[i].offset + (i == 0 ? offsetShift : 0);
        if (ownerFirst)
          off = i == 1 ? 0 : layout[i].offset + 128;
        ws.push_back(fb::CreateWeight(fbb, off, layout[i].size,
                                      fb::DType::I64,
                                      fbb.CreateVector(layout[i].sha256.data(),
                                                       32)));
      }
      weights = fbb.CreateVector(ws);
    } else {
      weights = w.weightTables(fbb);
    }
    fb::FinishProgramBuffer(
        fbb, fb::CreateProgram(fbb, kIsaVersion, 16, fbb.CreateVector(slots),
                               0, weights));
    program.assign(fbb.GetBufferPointer(),
                   fbb.GetBufferPointer() + fbb.GetSize());
    return w.bytes(program.data(), program.size());
  }
};

std::string readError(std::vector<uint8_t> bytes) {
  return test::errorOf([&] { Artifact::fromBytes(std::move(bytes)); });
}

#define EXPECT_REJECTED(bytes, text)                                           \
  do {                                                                         \
    std::string err_ = readError(bytes);                                       \
    EXPECT_NE(err_.find(text), std::string::npos)                              \
        << "expected '" << text << "', got '" << err_ << "'";                  \
  } while (0)

TEST(Artifact, RoundTrip) {
  Container c;
  auto bytes = c.bytes();
  // Public blobs first, then the owner's, each in index order and aligned.
  EXPECT_EQ(c.layout[0].offset, 0u);
  EXPECT_EQ(c.layout[2].offset, 64u);
  EXPECT_EQ(c.layout[1].offset, 128u);
  EXPECT_EQ(c.layout[3].offset, 256u);
  auto a = Artifact::fromBytes(bytes);
  EXPECT_EQ(a->header().formatVersion, kFormatVersion);
  EXPECT_FALSE(a->header().ownerBlobsStripped());
  EXPECT_EQ(a->header().programSize, c.program.size());
  EXPECT_EQ(a->header().blobsOffset % kBlobAlign, 0u);
  EXPECT_EQ(a->header().blobsOffset + a->header().blobsSize, bytes.size());
  EXPECT_EQ(a->header().blobsSize, 320u);
  EXPECT_EQ(a->hash(), sha256(c.program.data(), c.program.size()));
  ASSERT_EQ(a->programSize(), c.program.size());
  EXPECT_EQ(std::memcmp(a->program(), c.program.data(), c.program.size()), 0);
  ASSERT_EQ(a->blobs().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const BlobEntry &b = a->blobs()[i];
    EXPECT_EQ(b.offset, c.layout[i].offset);
    EXPECT_EQ(b.size, c.blobs[i].size());
    EXPECT_EQ(b.owner, c.owner[i]);
    EXPECT_TRUE(b.present);
    EXPECT_EQ(b.sha256, sha256(c.blobs[i].data(), c.blobs[i].size()));
    EXPECT_EQ(std::memcmp(a->blobData(i), c.blobs[i].data(), b.size), 0);
    EXPECT_EQ((a->header().blobsOffset + b.offset) % kBlobAlign, 0u);
  }
  // Deterministic: the same blobs and program give the same bytes.
  Container d;
  EXPECT_EQ(d.bytes(), bytes);
  // A file on disk is memory-mapped and reads the same.
  std::string path = ::testing::TempDir() + "/artifact" +
                     std::to_string(getpid()) + ".umbra";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  auto f = Artifact::open(path);
  std::remove(path.c_str());
  EXPECT_EQ(f->hash(), a->hash());
  EXPECT_EQ(uintptr_t(f->blobData(2)) % kBlobAlign, 0u);
}

TEST(Artifact, RejectsTruncatedFiles) {
  auto bytes = Container().bytes();
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_NE(readError({bytes.begin(), bytes.begin() + n}), "")
        << "length " << n;
  EXPECT_REJECTED({}, "truncated header");
  EXPECT_REJECTED(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 200),
                  "program section out of bounds (file truncated?)");
  EXPECT_REJECTED(std::vector<uint8_t>(bytes.begin(), bytes.end() - 64),
                  "weights section out of bounds (file truncated?)");
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_REJECTED(longer, "weights section out of bounds");
  EXPECT_REJECTED(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100),
                  "truncated header (100 bytes)");
}

TEST(Artifact, RejectsCorruption) {
  Container c;
  auto bytes = c.bytes();
  auto a = Artifact::fromBytes(bytes);
  uint64_t blobs = a->header().blobsOffset;
  auto flip = [&](size_t at, uint8_t x = 1) {
    auto b = bytes;
    b[at] ^= x;
    return b;
  };
  EXPECT_REJECTED(flip(0), "bad magic");
  EXPECT_REJECTED(flip(8), "unsupported format version 0");
  EXPECT_REJECTED(flip(12, 2), "unknown header flags");
  EXPECT_REJECTED(flip(100), "reserved header byte 100");
  EXPECT_REJECTED(flip(48), "content hash mismatch (file corrupted)");
  EXPECT_REJECTED(flip(kHeaderSize + 20), "content hash mismatch");
  EXPECT_REJECTED(flip(blobs + 128 + 50), "weight 1: SHA-256 mismatch");
  EXPECT_REJECTED(flip(blobs + 64), "weight 2: SHA-256 mismatch");
  // Padding is not covered by a hash, but is not part of any blob either.
  EXPECT_EQ(readError(flip(blobs + 20)), "");
  // The blobs section must start at the first boundary after the program.
  EXPECT_REJECTED(flip(32, 64), "weights section at offset");
  // Not a FlatBuffer with the program's identifier.
  ArtifactWriter w;
  std::vector<uint8_t> junk(40, 7);
  EXPECT_REJECTED(w.bytes(junk.data(), junk.size()),
                  "FlatBuffers verification failed");
}

TEST(Artifact, RejectsMisalignedOrReorderedBlobs) {
  EXPECT_REJECTED(Container().bytes(8),
                  "weight 0 at offset 8, expected 0 (blobs are 64-byte "
                  "aligned, public before owner, in order)");
  EXPECT_REJECTED(Container().bytes(64), "weight 0 at offset 64, expected 0");
  EXPECT_REJECTED(Container().bytes(0, /*ownerFirst=*/true),
                  "weight 0 at offset 128, expected 0");
}

TEST(Artifact, StrippingDropsExactlyTheOwnerBlobs) {
  Container c;
  auto full = Artifact::fromBytes(c.bytes());
  auto bytes = full->withoutOwnerBlobs();
  auto pub = Artifact::fromBytes(bytes);
  EXPECT_TRUE(pub->header().ownerBlobsStripped());
  EXPECT_EQ(pub->hash(), full->hash());
  ASSERT_EQ(pub->programSize(), full->programSize());
  EXPECT_EQ(std::memcmp(pub->program(), full->program(), pub->programSize()),
            0);
  // The blobs section holds the two public blobs, padded: 64 + 64 bytes.
  EXPECT_EQ(pub->header().blobsSize, 128u);
  EXPECT_EQ(full->header().blobsSize - pub->header().blobsSize,
            128u + 64u); // the owner's 100 and 8 bytes, padded
  for (size_t i = 0; i < 4; ++i) {
    const BlobEntry &b = pub->blobs()[i];
    EXPECT_EQ(b.offset, full->blobs()[i].offset);
    EXPECT_EQ(b.sha256, full->blobs()[i].sha256);
    EXPECT_EQ(b.present, !c.owner[i]);
    if (b.present) {
      EXPECT_EQ(std::memcmp(pub->blobData(i), c.blobs[i].data(), b.size), 0);
    } else {
      std::string err = test::errorOf([&] { pub->blobData(i); });
      EXPECT_NE(err.find("owner weights were stripped"), std::string::npos)
          << "stripped blob " << i << ": '" << err << "'";
    }
  }
  // Stripping a stripped copy changes nothing.
  EXPECT_EQ(pub->withoutOwnerBlobs(), bytes);
  // A full file cut where the owner's blobs begin is not a stripped copy:
  // the header must say so (and then the section size must match).
  auto cut = c.bytes();
  cut.resize(full->header().blobsOffset + 128);
  EXPECT_REJECTED(cut, "weights section out of bounds");
  auto flagged = c.bytes();
  flagged[12] = uint8_t(kFlagOwnerBlobsStripped);
  EXPECT_REJECTED(flagged, "weights section has 320 bytes, expected 128 (the "
                           "public weights of a stripped copy)");
}

TEST(Artifact, WriterStreamsWhatItLaysOut) {
  // The sink sees the same bytes as `bytes()`, in pieces, and a file
  // written with `writeFile` is read back unchanged.
  Container c;
  auto bytes = c.bytes();
  ArtifactWriter w;
  for (size_t i = 0; i < c.blobs.size(); ++i)
    w.addBlob(std::vector<uint8_t>(c.blobs[i]), DType::I64, c.owner[i]);
  std::vector<uint8_t> streamed;
  size_t pieces = 0;
  w.write(c.program.data(), c.program.size(),
          [&](const uint8_t *p, size_t n) {
            streamed.insert(streamed.end(), p, p + n);
            ++pieces;
          });
  EXPECT_EQ(streamed, bytes);
  EXPECT_GT(pieces, 3u);
  std::string path = ::testing::TempDir() + "/artifact-w" +
                     std::to_string(getpid()) + ".umbra";
  w.writeFile(path, c.program.data(), c.program.size(), /*ownerBlobs=*/false);
  auto a = Artifact::open(path);
  std::remove(path.c_str());
  EXPECT_TRUE(a->header().ownerBlobsStripped());
  EXPECT_EQ(a->withoutOwnerBlobs(),
            Artifact::fromBytes(bytes)->withoutOwnerBlobs());
}

TEST(Artifact, ProgramRefusesStrippedOwnerWeightsOnly) {
  ProgramBuilder b(12);
  int x = b.input("x", {2, 3}, Vis::Client);
  int w = b.constant("w", {3, 4}, Vis::Owner, std::vector<double>(12, 0.5));
  int c = b.constant("c", {4}, Vis::Public, {1, 2, 3, 4}, -1, DType::F32);
  b.output(b.reveal(b.add(b.matmulT(b.share(x), b.share(w)), c)));
  Program full = Program::loadBytes(b.finish());
  Program pub = Program::loadBytes(full.artifact().withoutOwnerBlobs());
  EXPECT_EQ(pub.hash(), full.hash());
  EXPECT_EQ(pub.weightReal(c), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(full.weightReal(w)[11], 0.5);
  EXPECT_TRUE(full.weights[full.slots[w].weight].owner);
  EXPECT_FALSE(full.weights[full.slots[c].weight].owner);
  std::string err = test::errorOf([&] { pub.weightRing(w); });
  EXPECT_NE(err.find("weight 'w' is not in this copy"), std::string::npos)
      << "stripped owner weight: '" << err << "'";
}

} // namespace
