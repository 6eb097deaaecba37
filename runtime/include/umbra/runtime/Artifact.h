//===- Artifact.h - The .umbra container: one reader, one writer -*- C++ -*-===//
//
// The container around a program: a 128-byte header, the program section (a
// FlatBuffer, runtime/schema/program.fbs) and the weight blobs. This is the
// only code that knows the header layout, the blob layout and the hashes;
// the runtime's loader, ProgramBuilder, weight stripping, `mpc-run --dump`
// and the compiler's exporter all go through it.
//
// File layout (all integers little-endian):
//   [0,8)    magic "UMBRAPRG"
//   [8,12)   u32 container format version (kFormatVersion)
//   [12,16)  u32 flags (kFlagOwnerBlobsStripped); other bits must be 0
//   [16,32)  u64 program offset (= kHeaderSize), u64 program size
//   [32,48)  u64 blobs offset (kBlobAlign-aligned), u64 blobs size
//   [48,80)  SHA-256 of the program section: the content hash the parties
//            compare. The program lists every blob's SHA-256, so it covers
//            the weights too.
//   [80,128) zero
// Blobs are kBlobAlign-aligned (memory-mappable), in a canonical order:
// public blobs first, then the model owner's, each in weight-index order.
// A copy for P0 and the dealer drops the owner's blobs (a prefix of the
// blobs section) and keeps the program section, hence the hash.
//
// The writer does not look inside the program section: the caller adds its
// blobs, gets their layout entries (offset, size, SHA-256) for its Weight
// tables, and hands over the finished FlatBuffer.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Error.h"

#include <flatbuffers/flatbuffers.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace umbra::fb {
struct Weight;
} // namespace umbra::fb

namespace umbra::rt {

/// Container format version (header layout), checked by the reader.
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 128;
constexpr size_t kBlobAlign = 64;
/// Header flag: the owner's blobs are not in this copy.
constexpr uint32_t kFlagOwnerBlobsStripped = 1;

/// How a weight blob stores its elements.
enum class DType : uint8_t { I64 = 0, F32 = 1, F64 = 2 };
const char *dtypeName(DType d);
/// Bytes per element of `d`.
size_t dtypeSize(DType d);

using Sha256 = std::array<uint8_t, 32>;
Sha256 sha256(const void *data, size_t size);
std::string hexString(const Sha256 &digest);

/// Where a blob's value came from (program.fbs's Origin): the loader
/// refuses an Owner-origin blob in a public slot.
enum class Origin : uint8_t { Owner = 0, PublicByRule = 1, MarkedPublic = 2 };
const char *originName(Origin o);

/// One weight blob's entry: where it is in the blobs section and what it
/// holds. `owner` blobs belong to the model owner (referenced by an Owner
/// slot); `present` is false for owner blobs dropped from this copy.
/// `origin` and `source` are the compiler's provenance of the value.
struct BlobEntry {
  uint64_t offset = 0, size = 0;
  DType dtype = DType::F64;
  bool owner = false;
  bool present = true;
  Sha256 sha256{};
  Origin origin = Origin::Owner;
  std::string source;
};

/// The parsed header.
struct ArtifactHeader {
  uint32_t formatVersion = kFormatVersion;
  uint32_t flags = 0;
  uint64_t programOffset = kHeaderSize, programSize = 0;
  uint64_t blobsOffset = 0, blobsSize = 0;
  Sha256 programHash{};
  bool ownerBlobsStripped() const { return flags & kFlagOwnerBlobsStripped; }
};

/// A verified container in memory (memory-mapped or owned bytes): the
/// header is consistent, the program section matches its hash and passes
/// the FlatBuffers verifier, the blobs are in the canonical layout, and
/// every present blob matches its SHA-256. What the program means (slots,
/// instructions) is Program's business.
class Artifact {
public:
  /// Maps and verifies a file; errors name the file.
  static std::shared_ptr<const Artifact> open(const std::string &path);
  /// Verifies bytes in memory.
  static std::shared_ptr<const Artifact> fromBytes(std::vector<uint8_t> bytes);

  /// Not copyable: program() may point into this object's own copy.
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const ArtifactHeader &header() const { return header_; }
  const Sha256 &hash() const { return header_.programHash; }
  /// The program section (a verified FlatBuffer with identifier "UMBR").
  const uint8_t *program() const { return program_; }
  size_t programSize() const { return header_.programSize; }
  /// One entry per Weight table, in weight-index order.
  const std::vector<BlobEntry> &blobs() const { return blobs_; }
  /// Bytes of blob `i`; throws if the blob was stripped from this copy.
  const uint8_t *blobData(size_t i) const;

  /// Writes a copy without the owner's blobs (through ArtifactWriter): the
  /// same program section, hence the same hash. Stripping a stripped copy
  /// gives the same bytes.
  std::vector<uint8_t> withoutOwnerBlobs() const;
  void writeWithoutOwnerBlobs(const std::string &path) const;

private:
  Artifact() = default;
  void verify();
  std::shared_ptr<void> storage_;
  const uint8_t *base_ = nullptr;
  /// The program section: in place when suitably aligned, else an aligned
  /// copy (FlatBuffers reads scalars in place; its verifier checks their
  /// alignment relative to the buffer start only).
  const uint8_t *program_ = nullptr;
  std::vector<uint64_t> programCopy_;
  size_t size_ = 0;
  ArtifactHeader header_;
  std::vector<BlobEntry> blobs_;
};

/// Writes a container. Add every blob, read `layout()` into the program's
/// Weight tables (or let `weightTables` do it), build the FlatBuffer, then
/// `write` it with the blobs.
class ArtifactWriter {
public:
  /// Adds a blob whose bytes the caller keeps alive until the last write
  /// (e.g. a memory-mapped file or an MLIR resource); returns its index.
  /// `origin` and `source` say where its value came from (the default,
  /// Owner, is what the loader refuses in a public slot).
  size_t addBlob(const void *data, size_t size, DType dtype, bool owner,
                 Origin origin = Origin::Owner, std::string source = "");
  /// Adds a blob the writer keeps.
  size_t addBlob(std::vector<uint8_t> bytes, DType dtype, bool owner,
                 Origin origin = Origin::Owner, std::string source = "");
  size_t numBlobs() const { return blobs_.size(); }
  /// The first blob below index `below` with these bytes, dtype, holder
  /// and origin for which `taken` is false, if any: programs of one
  /// artifact (a generation's prefill and decode step) then share their
  /// weights (the first program's source names stay).
  std::optional<size_t> findBlob(const void *data, size_t size, DType dtype,
                                 bool owner, Origin origin, size_t below,
                                 const std::function<bool(size_t)> &taken) const;

  /// Offsets (canonical layout) and SHA-256 of every blob added so far.
  /// Hashes once; adding a blob afterwards invalidates it.
  const std::vector<BlobEntry> &layout();
  /// The program's `weights` vector, one Weight table per blob.
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Weight>>>
  weightTables(flatbuffers::FlatBufferBuilder &fbb);

  using Sink = std::function<void(const uint8_t *, size_t)>;
  /// Writes header, program section and blobs. Without `ownerBlobs` the
  /// copy ends before the owner's blobs and says so in its flags.
  void write(const uint8_t *program, size_t programSize, const Sink &sink,
             bool ownerBlobs = true);
  std::vector<uint8_t> bytes(const uint8_t *program, size_t programSize,
                             bool ownerBlobs = true);
  void writeFile(const std::string &path, const uint8_t *program,
                 size_t programSize, bool ownerBlobs = true);

private:
  struct Blob {
    const uint8_t *data;
    BlobEntry entry;
  };
  std::vector<Blob> blobs_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;
  std::vector<BlobEntry> layout_;
  bool hashed_ = false;
};

} // namespace umbra::rt
