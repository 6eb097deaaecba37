//===- Npy.h - Minimal .npy reader/writer ----------------------*- C++ -*-===//
#pragma once
#include "umbra/runtime/Program.h"
#include <string>
#include <vector>

namespace umbra::rt {

struct NpyArray {
  Shape shape;
  std::vector<double> data;
};
/// Reads little-endian, C-ordered f4/f8/i4/i8/u1/b1 arrays (npy v1-v3).
NpyArray readNpy(const std::string &path);
/// The same from a whole file's bytes in memory (the .npy fuzz target);
/// `path` names the input in error messages.
NpyArray readNpyBytes(const std::string &all, const std::string &path);
/// Writes a float64 array, or, for an integer or bool `elemType`
/// (fb::ElemType), that type's array of the values (integers keep their
/// low bits: ONNX's wrap-around; bools are value != 0).
void writeNpy(const std::string &path, const Shape &shape,
              const std::vector<double> &data, uint8_t elemType = 0);

} // namespace umbra::rt
