//===- NpyFuzzer.cpp - Fuzz target: the .npy reader -----------------------===//
//
// Feeds the bytes to the reader mpc-run uses for every input file
// (runtime/src/Npy.cpp). A hostile file must end in umbra::rt::Error (a
// clear message); any other exception, a crash or a sanitizer report is a
// bug. An accepted array must hold exactly numel(shape) values.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Npy.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  try {
    umbra::rt::NpyArray a = umbra::rt::readNpyBytes(bytes, "fuzz.npy");
    if (int64_t(a.data.size()) != umbra::rt::numel(a.shape)) {
      std::fprintf(stderr, "npy reader: %zu values for shape %s\n",
                   a.data.size(), umbra::rt::shapeStr(a.shape).c_str());
      std::abort();
    }
  } catch (const umbra::rt::Error &e) {
    if (std::getenv("UMBRA_FUZZ_VERBOSE"))
      std::fprintf(stderr, "refused: %s\n", e.what());
    // A refused file: the expected outcome for most inputs.
  }
  return 0;
}
