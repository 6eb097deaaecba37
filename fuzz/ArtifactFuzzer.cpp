//===- ArtifactFuzzer.cpp - Fuzz target: the artifact loader --------------===//
//
// Feeds the bytes to Program::loadBytes, the loader behind Program::loadFile
// (container header, program hash, FlatBuffers verifier, blob layout and
// hashes, then the semantic checks of every slot and instruction). Random
// edits of the program section would nearly always stop at the program's
// SHA-256, so each input is loaded twice: as it is, and with the header's
// program hash recomputed (and its blobs size fitted to the file), which
// lets mutations reach the verifier and the semantic checks. A hostile artifact
// must end in umbra::rt::Error; any other exception, a crash or a sanitizer
// report is a bug. An accepted program must also survive what mpc-run does next
// with it: its stripped copy (P0's and the dealer's) loads with the same hash,
// and its weights decode.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Program.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace umbra::rt;

namespace {

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "artifact loader: %s\n", what);
    std::abort();
  }
}

void load(std::vector<uint8_t> bytes) {
  try {
    Program p = Program::loadBytes(std::move(bytes));
    check(p.instrs.size() < (size_t(1) << 31), "absurd instruction count");
    for (size_t s = 0; s < p.slots.size(); ++s)
      if (p.slots[s].weight >= 0 && p.weights.at(p.slots[s].weight).present)
        (void)p.weightReal(int(s), 16);
    Program stripped = Program::loadBytes(p.artifact().withoutOwnerBlobs());
    check(stripped.hash() == p.hash(), "stripped copy has another hash");
    check(stripped.slots.size() == p.slots.size(),
          "stripped copy has other slots");
  } catch (const Error &e) {
    if (std::getenv("UMBRA_FUZZ_VERBOSE"))
      std::fprintf(stderr, "refused: %s\n", e.what());
    // A refused artifact: the expected outcome for most inputs.
  }
}

uint64_t le64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  load(bytes);
  // The same with the program hash ([48,80) of the header) recomputed and
  // a blobs section that overruns the file cut to its end: what a
  // mutation that inserts or erases bytes would otherwise always break.
  if (size < kHeaderSize)
    return 0;
  uint64_t off = le64(data + 16), len = le64(data + 24);
  uint64_t blobsOff = le64(data + 32), blobsLen = le64(data + 40);
  if (off > size || len > size - off)
    return 0;
  bool changed = false;
  if (blobsOff <= size && blobsLen > size - blobsOff) {
    uint64_t fit = size - blobsOff;
    std::memcpy(bytes.data() + 40, &fit, 8);
    changed = true;
  }
  Sha256 h = sha256(data + off, len);
  if (std::memcmp(h.data(), data + 48, h.size()) != 0) {
    std::memcpy(bytes.data() + 48, h.data(), h.size());
    changed = true;
  }
  if (changed)
    load(std::move(bytes));
  return 0;
}
