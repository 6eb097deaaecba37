//===- Artifact.cpp - The .umbra container: reader and writer -------------===//
//
// See Artifact.h for the layout. The reader and the writer share one layout
// rule (`canonicalLayout`), so a file the reader accepts is exactly one the
// writer could have produced, and a stripped copy is written, not patched.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Artifact.h"
#include "program_generated.h"

#include <flatbuffers/minireflect.h>

#include <openssl/sha.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace umbra::rt {

namespace {

constexpr char kMagic[8] = {'U', 'M', 'B', 'R', 'A', 'P', 'R', 'G'};
/// Header field offsets (see Artifact.h).
constexpr size_t kVersionAt = 8, kFlagsAt = 12, kProgramAt = 16,
                 kBlobsAt = 32, kHashAt = 48, kReservedAt = 80;
/// Blobs and offsets beyond this are certainly corrupt (256 TiB).
constexpr uint64_t kMaxBlobBytes = uint64_t(1) << 48;

uint64_t alignUp(uint64_t n) { return (n + kBlobAlign - 1) / kBlobAlign * kBlobAlign; }

uint64_t rd64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// The one blob layout rule: public blobs first, then the owner's, each
/// group in index order, every blob starting on a kBlobAlign boundary.
/// Sets `publicEnd` to where the owner's blobs begin and returns the size
/// of the whole blobs section.
uint64_t canonicalLayout(std::vector<BlobEntry> &blobs, uint64_t &publicEnd) {
  uint64_t off = 0;
  for (int owner = 0; owner < 2; ++owner) {
    if (owner)
      publicEnd = off;
    for (BlobEntry &b : blobs)
      if (b.owner == bool(owner)) {
        b.offset = off;
        off += alignUp(b.size);
      }
  }
  return off;
}

/// FlatBuffers 2.0's verifier checks that a vector's length word is 4-byte
/// aligned, not that its elements are aligned to their size: a crafted
/// [long] or [double] vector at 4 mod 8 verifies and is then read
/// misaligned. Walks the verified table `t` of type `tt` (the schema has
/// tables, vectors and one union; no structs) and refuses such a vector
/// before anything reads its elements. (flatbuffers' minireflect walker
/// cannot be used: it dereferences a null type for a NONE union value.)
void checkVectorAlignment(const flatbuffers::Table *t,
                          const flatbuffers::TypeTable *tt) {
  uint8_t utype = 0;
  for (size_t i = 0; i < tt->num_elems; ++i) {
    const flatbuffers::TypeCode tc = tt->type_codes[i];
    const uint8_t *field = t->GetAddressOf(
        flatbuffers::FieldIndexToOffset(flatbuffers::voffset_t(i)));
    if (!field)
      continue;
    auto type = flatbuffers::ElementaryType(tc.base_type);
    const flatbuffers::TypeTable *ref =
        tc.sequence_ref >= 0 ? tt->type_refs[tc.sequence_ref]() : nullptr;
    if (type == flatbuffers::ET_UTYPE && !tc.is_repeating) {
      utype = *field;
      continue;
    }
    if (tc.is_repeating) {
      auto *vec = reinterpret_cast<const flatbuffers::Vector<uint8_t> *>(
          field + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(field));
      size_t size = flatbuffers::InlineSize(type, ref);
      if (size == 8 && vec->size() &&
          reinterpret_cast<uintptr_t>(vec->Data()) % 8)
        fail("a vector of 8-byte elements is misaligned");
      if (type == flatbuffers::ET_SEQUENCE &&
          ref->st == flatbuffers::ST_TABLE) {
        auto *tabs = reinterpret_cast<const flatbuffers::Vector<
            flatbuffers::Offset<flatbuffers::Table>> *>(vec);
        for (flatbuffers::uoffset_t k = 0; k < tabs->size(); ++k)
          checkVectorAlignment(tabs->Get(k), ref);
      }
      continue;
    }
    if (type != flatbuffers::ET_SEQUENCE)
      continue;
    const flatbuffers::TypeTable *sub = ref;
    if (ref->st == flatbuffers::ST_UNION) {
      // The member the type field names; NONE and unknown members (not
      // verified either) have no table to walk.
      int64_t k = flatbuffers::LookupEnum(utype, ref->values, ref->num_elems);
      sub = nullptr;
      if (k >= 0 && size_t(k) < ref->num_elems &&
          ref->type_codes[k].base_type == flatbuffers::ET_SEQUENCE &&
          ref->type_codes[k].sequence_ref >= 0)
        sub = ref->type_refs[ref->type_codes[k].sequence_ref]();
    }
    if (sub && sub->st == flatbuffers::ST_TABLE)
      checkVectorAlignment(
          reinterpret_cast<const flatbuffers::Table *>(
              field + flatbuffers::ReadScalar<flatbuffers::uoffset_t>(field)),
          sub);
  }
}

std::vector<uint8_t> header(uint32_t flags, uint64_t programSize,
                            uint64_t blobsSize, const Sha256 &hash) {
  std::vector<uint8_t> h(kHeaderSize, 0);
  uint64_t fields[4] = {kHeaderSize, programSize,
                        alignUp(kHeaderSize + programSize), blobsSize};
  std::memcpy(h.data(), kMagic, 8);
  std::memcpy(h.data() + kVersionAt, &kFormatVersion, 4);
  std::memcpy(h.data() + kFlagsAt, &flags, 4);
  std::memcpy(h.data() + kProgramAt, fields, sizeof(fields));
  std::memcpy(h.data() + kHashAt, hash.data(), 32);
  return h;
}

} // namespace

const char *dtypeName(DType d) {
  static const char *names[] = {"I64", "F32", "F64"};
  return size_t(d) < 3 ? names[size_t(d)] : "?";
}

const char *originName(Origin o) {
  static const char *names[] = {"owner", "public by rule", "marked public"};
  return size_t(o) < 3 ? names[size_t(o)] : "?";
}

size_t dtypeSize(DType d) { return d == DType::F32 ? 4 : 8; }

Sha256 sha256(const void *data, size_t size) {
  // OpenSSL uses the CPU's SHA extensions: hashing the weights of a
  // GPT-2-sized model takes a second instead of several.
  Sha256 d;
  SHA256(static_cast<const uint8_t *>(data), size, d.data());
  return d;
}

std::string hexString(const Sha256 &digest) {
  static const char *hx = "0123456789abcdef";
  std::string s;
  for (uint8_t b : digest) {
    s += hx[b >> 4];
    s += hx[b & 15];
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

std::shared_ptr<const Artifact> Artifact::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  UMBRA_CHECK(fd >= 0, "cannot open program '", path,
              "': ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("program '", path, "' is not a regular file");
  }
  size_t size = size_t(st.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    fail("program '", path, "' is truncated (", size, " bytes)");
  }
  void *m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  UMBRA_CHECK(m != MAP_FAILED, "cannot map program '", path, "'");
  std::shared_ptr<Artifact> a(new Artifact);
  a->storage_ = std::shared_ptr<void>(m, [size](void *q) { ::munmap(q, size); });
  a->base_ = static_cast<const uint8_t *>(m);
  a->size_ = size;
  try {
    a->verify();
  } catch (const Error &e) {
    fail("invalid program '", path, "': ", e.what());
  }
  return a;
}

std::shared_ptr<const Artifact> Artifact::fromBytes(std::vector<uint8_t> bytes) {
  std::shared_ptr<Artifact> a(new Artifact);
  auto holder = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  a->base_ = holder->data();
  a->size_ = holder->size();
  a->storage_ = holder;
  a->verify();
  return a;
}

void Artifact::verify() {
  const uint8_t *h = base_;
  UMBRA_CHECK(size_ >= kHeaderSize, "truncated header (", size_, " bytes)");
  UMBRA_CHECK(std::memcmp(h, kMagic, 8) == 0,
              "not an Umbra program (bad magic)");
  ArtifactHeader &hd = header_;
  hd.formatVersion = rd32(h + kVersionAt);
  UMBRA_CHECK(hd.formatVersion == kFormatVersion,
              "unsupported format version ", hd.formatVersion,
              " (this runtime reads ", kFormatVersion, ")");
  hd.flags = rd32(h + kFlagsAt);
  UMBRA_CHECK((hd.flags & ~kFlagOwnerBlobsStripped) == 0, "unknown header flags 0x",
              std::hex, hd.flags);
  for (size_t i = kReservedAt; i < kHeaderSize; ++i)
    UMBRA_CHECK(h[i] == 0, "reserved header byte ", i, " is not zero");
  hd.programOffset = rd64(h + kProgramAt);
  hd.programSize = rd64(h + kProgramAt + 8);
  hd.blobsOffset = rd64(h + kBlobsAt);
  hd.blobsSize = rd64(h + kBlobsAt + 8);
  std::memcpy(hd.programHash.data(), h + kHashAt, 32);
  UMBRA_CHECK(hd.programOffset == kHeaderSize &&
                  hd.programSize <= size_ - kHeaderSize,
              "program section out of bounds (file truncated?)");
  UMBRA_CHECK(hd.blobsOffset == alignUp(kHeaderSize + hd.programSize),
              "weights section at offset ", hd.blobsOffset, ", expected ",
              alignUp(kHeaderSize + hd.programSize),
              " (the first 64-byte boundary after the program)");
  UMBRA_CHECK(hd.blobsOffset <= size_ && hd.blobsSize == size_ - hd.blobsOffset,
              "weights section out of bounds (file truncated?)");
  // Bytes from a caller (a fuzzer, a network buffer) may start anywhere:
  // FlatBuffers' alignment checks are relative to the buffer, so an
  // unaligned buffer would make every in-place scalar read misaligned.
  program_ = base_ + hd.programOffset;
  if (reinterpret_cast<uintptr_t>(program_) % alignof(uint64_t) &&
      hd.programSize) {
    programCopy_.assign((hd.programSize + 7) / 8, 0);
    std::memcpy(programCopy_.data(), program_, hd.programSize);
    program_ = reinterpret_cast<const uint8_t *>(programCopy_.data());
  }
  UMBRA_CHECK(sha256(program(), programSize()) == hd.programHash,
              "content hash mismatch (file corrupted)");

  flatbuffers::Verifier::Options vo;
  vo.max_depth = 16;
  vo.max_tables = 1u << 26;
  flatbuffers::Verifier v(program(), programSize(), vo);
  UMBRA_CHECK(fb::VerifyProgramBuffer(v), "FlatBuffers verification failed");
  checkVectorAlignment(flatbuffers::GetRoot<flatbuffers::Table>(program()),
                       fb::ProgramTypeTable());
  const fb::Program *fp = fb::GetProgram(program());

  if (fp->weights())
    for (const fb::Weight *w : *fp->weights()) {
      BlobEntry b;
      size_t i = blobs_.size();
      b.offset = w->offset();
      b.size = w->size();
      b.dtype = DType(w->dtype());
      UMBRA_CHECK(uint8_t(b.dtype) <= 2, "weight ", i, ": bad dtype");
      UMBRA_CHECK(b.size < kMaxBlobBytes && b.offset < kMaxBlobBytes, "weight ",
                  i, " too large");
      UMBRA_CHECK(w->sha256() && w->sha256()->size() == 32, "weight ", i,
                  ": missing SHA-256");
      std::memcpy(b.sha256.data(), w->sha256()->data(), 32);
      b.origin = Origin(w->origin());
      UMBRA_CHECK(uint8_t(b.origin) <= 2, "weight ", i, ": bad origin ",
                  int(w->origin()));
      if (w->source())
        b.source = w->source()->str();
      blobs_.push_back(b);
    }
  // A blob is the owner's when an Owner slot refers to it, in the program
  // or in a generation's decode step, which shares the program's blobs;
  // Program checks the references themselves (range, one slot per blob,
  // sizes).
  for (const fb::Program *p :
       {fp, fp->generation() && fp->generation()->decode()
                ? fp->generation()->decode_nested_root()
                : nullptr})
    if (p && p->slots())
      for (const fb::Slot *s : *p->slots())
        if (s->visibility() == fb::Visibility::Owner && s->weight() >= 0 &&
            size_t(s->weight()) < blobs_.size())
          blobs_[s->weight()].owner = true;

  std::vector<BlobEntry> want = blobs_;
  uint64_t publicEnd = 0;
  uint64_t total = canonicalLayout(want, publicEnd);
  for (size_t i = 0; i < blobs_.size(); ++i)
    UMBRA_CHECK(blobs_[i].offset == want[i].offset, "weight ", i,
                " at offset ", blobs_[i].offset, ", expected ", want[i].offset,
                " (blobs are 64-byte aligned, public before owner, in order)");
  bool stripped = hd.ownerBlobsStripped();
  uint64_t expect = stripped ? publicEnd : total;
  UMBRA_CHECK(hd.blobsSize == expect, "weights section has ", hd.blobsSize,
              " bytes, expected ", expect,
              stripped ? " (the public weights of a stripped copy)"
                       : " (file truncated?)");
  for (size_t i = 0; i < blobs_.size(); ++i) {
    BlobEntry &b = blobs_[i];
    b.present = !(stripped && b.owner);
    // Implied by the layout unless its sum wrapped around; checked anyway
    // before any byte is read.
    if (b.present)
      UMBRA_CHECK(b.offset + b.size <= hd.blobsSize, "weight ", i,
                  " out of bounds (file truncated?)");
    if (b.present)
      UMBRA_CHECK(sha256(base_ + hd.blobsOffset + b.offset, b.size) == b.sha256,
                  "weight ", i, ": SHA-256 mismatch (file corrupted)");
  }
}

const uint8_t *Artifact::blobData(size_t i) const {
  const BlobEntry &b = blobs_.at(i);
  UMBRA_CHECK(b.present, "weight ", i,
              " is not in this copy of the artifact (owner weights were "
              "stripped; the model owner needs the full file)");
  return base_ + header_.blobsOffset + b.offset;
}

std::vector<uint8_t> Artifact::withoutOwnerBlobs() const {
  ArtifactWriter w;
  for (size_t i = 0; i < blobs_.size(); ++i) {
    const BlobEntry &b = blobs_[i];
    w.addBlob(b.present ? blobData(i) : nullptr, b.size, b.dtype, b.owner,
              b.origin, b.source);
  }
  return w.bytes(program(), programSize(), /*ownerBlobs=*/false);
}

void Artifact::writeWithoutOwnerBlobs(const std::string &path) const {
  std::vector<uint8_t> b = withoutOwnerBlobs();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(b.data()), b.size());
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

size_t ArtifactWriter::addBlob(const void *data, size_t size, DType dtype,
                               bool owner, Origin origin, std::string source) {
  UMBRA_CHECK(size < kMaxBlobBytes, "weight blob of ", size,
              " bytes is too large");
  Blob b;
  b.data = static_cast<const uint8_t *>(data);
  b.entry.size = size;
  b.entry.dtype = dtype;
  b.entry.owner = owner;
  b.entry.origin = origin;
  b.entry.source = std::move(source);
  blobs_.push_back(b);
  hashed_ = false;
  return blobs_.size() - 1;
}

size_t ArtifactWriter::addBlob(std::vector<uint8_t> bytes, DType dtype,
                               bool owner, Origin origin, std::string source) {
  owned_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(bytes)));
  return addBlob(owned_.back()->data(), owned_.back()->size(), dtype, owner,
                 origin, std::move(source));
}

std::optional<size_t>
ArtifactWriter::findBlob(const void *data, size_t size, DType dtype, bool owner,
                         Origin origin, size_t below,
                         const std::function<bool(size_t)> &taken) const {
  for (size_t i = 0; i < std::min(below, blobs_.size()); ++i) {
    const Blob &b = blobs_[i];
    if (b.entry.size == size && b.entry.dtype == dtype &&
        b.entry.owner == owner && b.entry.origin == origin &&
        !taken(i) &&
        (size == 0 || std::memcmp(b.data, data, size) == 0))
      return i;
  }
  return std::nullopt;
}

const std::vector<BlobEntry> &ArtifactWriter::layout() {
  if (hashed_)
    return layout_;
  layout_.clear();
  for (const Blob &b : blobs_) {
    UMBRA_CHECK(b.data || b.entry.size == 0, "weight ", layout_.size(),
                " has no bytes to hash");
    layout_.push_back(b.entry);
    layout_.back().sha256 = sha256(b.data, b.entry.size);
  }
  uint64_t publicEnd;
  canonicalLayout(layout_, publicEnd);
  hashed_ = true;
  return layout_;
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Weight>>>
ArtifactWriter::weightTables(flatbuffers::FlatBufferBuilder &fbb) {
  std::vector<flatbuffers::Offset<fb::Weight>> w;
  for (const BlobEntry &b : layout())
    w.push_back(fb::CreateWeight(
        fbb, b.offset, b.size, fb::DType(b.dtype),
        fbb.CreateVector(b.sha256.data(), 32), fb::Origin(b.origin),
        b.source.empty() ? 0 : fbb.CreateString(b.source)));
  return fbb.CreateVector(w);
}

void ArtifactWriter::write(const uint8_t *program, size_t programSize,
                           const Sink &sink, bool ownerBlobs) {
  std::vector<BlobEntry> entries;
  for (const Blob &b : blobs_)
    entries.push_back(b.entry);
  uint64_t publicEnd = 0;
  uint64_t total = canonicalLayout(entries, publicEnd);
  uint64_t blobsSize = ownerBlobs ? total : publicEnd;
  std::vector<uint8_t> h =
      header(ownerBlobs ? 0 : kFlagOwnerBlobsStripped, programSize, blobsSize,
             sha256(program, programSize));
  static const uint8_t zeros[kBlobAlign] = {};
  sink(h.data(), h.size());
  sink(program, programSize);
  sink(zeros, alignUp(kHeaderSize + programSize) - kHeaderSize - programSize);
  // Blobs in offset order: the canonical layout is public then owner blobs,
  // each in index order.
  for (int owner = 0; owner < (ownerBlobs ? 2 : 1); ++owner)
    for (size_t i = 0; i < blobs_.size(); ++i) {
      const Blob &b = blobs_[i];
      if (b.entry.owner != bool(owner))
        continue;
      UMBRA_CHECK(b.data || b.entry.size == 0, "weight ", i,
                  " has no bytes to write");
      sink(b.data, b.entry.size);
      sink(zeros, alignUp(b.entry.size) - b.entry.size);
    }
}

std::vector<uint8_t> ArtifactWriter::bytes(const uint8_t *program,
                                           size_t programSize,
                                           bool ownerBlobs) {
  std::vector<uint8_t> out;
  write(
      program, programSize,
      [&](const uint8_t *p, size_t n) { out.insert(out.end(), p, p + n); },
      ownerBlobs);
  return out;
}

void ArtifactWriter::writeFile(const std::string &path, const uint8_t *program,
                               size_t programSize, bool ownerBlobs) {
  std::ofstream f(path, std::ios::binary);
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
  write(
      program, programSize,
      [&](const uint8_t *p, size_t n) {
        f.write(reinterpret_cast<const char *>(p), std::streamsize(n));
      },
      ownerBlobs);
  f.close();
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
}

} // namespace umbra::rt
