//===- Npy.cpp ------------------------------------------------------------===//
#include "umbra/runtime/Npy.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <fstream>
#include <sstream>

namespace umbra::rt {

static std::string field(const std::string &h, const std::string &key) {
  auto p = h.find("'" + key + "'");
  UMBRA_CHECK(p != std::string::npos, "npy header lacks '", key, "'");
  p = h.find(':', p);
  UMBRA_CHECK(p != std::string::npos, "bad npy header");
  return h.substr(p + 1);
}

NpyArray readNpy(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  UMBRA_CHECK(f.good(), "cannot open '", path, "'");
  std::string all((std::istreambuf_iterator<char>(f)),
                  std::istreambuf_iterator<char>());
  return readNpyBytes(all, path);
}

NpyArray readNpyBytes(const std::string &all, const std::string &path) {
  UMBRA_CHECK(all.size() >= 10 && all.compare(0, 6, "\x93NUMPY") == 0, "'",
              path, "' is not a .npy file");
  uint8_t major = uint8_t(all[6]);
  size_t hlen, off;
  if (major == 1) {
    hlen = uint8_t(all[8]) | (size_t(uint8_t(all[9])) << 8);
    off = 10;
  } else {
    UMBRA_CHECK(all.size() >= 12, "'", path, "': truncated npy header");
    uint32_t l;
    std::memcpy(&l, all.data() + 8, 4);
    hlen = l;
    off = 12;
  }
  UMBRA_CHECK(off + hlen <= all.size(), "'", path, "': truncated npy header");
  std::string h = all.substr(off, hlen);
  std::string descr = field(h, "descr");
  auto q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  UMBRA_CHECK(q1 != std::string::npos && q2 != std::string::npos, "'", path,
              "': bad dtype");
  std::string dt = descr.substr(q1 + 1, q2 - q1 - 1);
  std::string fo = field(h, "fortran_order");
  UMBRA_CHECK(fo.find("False") < fo.find(','), "'", path,
              "': Fortran-ordered arrays are not supported");
  std::string sh = field(h, "shape");
  auto a = sh.find('('), b = sh.find(')');
  UMBRA_CHECK(a != std::string::npos && b != std::string::npos, "'", path,
              "': bad shape");
  NpyArray arr;
  std::stringstream ss(sh.substr(a + 1, b - a - 1));
  std::string tok;
  // Dimensions are plain non-negative integers, and the element count can
  // never exceed the file's size (each element takes at least one byte):
  // a hostile header cannot overflow the count or ask for a huge buffer.
  const size_t avail = all.size() - off - hlen;
  int64_t n = 1;
  while (std::getline(ss, tok, ',')) {
    size_t first = tok.find_first_not_of(' '), last = tok.find_last_not_of(' ');
    if (first == std::string::npos)
      continue;
    std::string digits = tok.substr(first, last - first + 1);
    UMBRA_CHECK(!digits.empty() && digits.size() <= 18 &&
                    digits.find_first_not_of("0123456789") == std::string::npos,
                "'", path, "': bad shape dimension '", digits, "'");
    arr.shape.push_back(std::stoll(digits));
  }
  // An empty array (a zero dimension anywhere) has no data whatever its
  // other dimensions; otherwise the count is checked as it grows.
  if (std::find(arr.shape.begin(), arr.shape.end(), 0) != arr.shape.end())
    n = 0;
  else
    for (int64_t d : arr.shape) {
      UMBRA_CHECK(n <= int64_t(avail) / d, "'", path,
                  "': data size does not match shape");
      n *= d;
    }
  size_t es;
  if (dt == "<f8" || dt == "<i8" || dt == "<u8")
    es = 8;
  else if (dt == "<f4" || dt == "<i4")
    es = 4;
  else if (dt == "|u1" || dt == "|b1" || dt == "|i1")
    es = 1;
  else
    fail("'", path, "': unsupported dtype ", dt,
         " (use float32/64, int32/64 or uint8)");
  const char *d = all.data() + off + hlen;
  UMBRA_CHECK(avail == size_t(n) * es, "'", path,
              "': data size does not match shape");
  arr.data.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const char *p = d + i * es;
    if (dt == "<f8") {
      std::memcpy(&arr.data[i], p, 8);
    } else if (dt == "<f4") {
      float v;
      std::memcpy(&v, p, 4);
      arr.data[i] = v;
    } else if (dt == "<i8") {
      int64_t v;
      std::memcpy(&v, p, 8);
      arr.data[i] = double(v);
    } else if (dt == "<u8") {
      uint64_t v;
      std::memcpy(&v, p, 8);
      arr.data[i] = double(v);
    } else if (dt == "<i4") {
      int32_t v;
      std::memcpy(&v, p, 4);
      arr.data[i] = v;
    } else if (dt == "|i1") {
      arr.data[i] = int8_t(*p);
    } else {
      arr.data[i] = uint8_t(*p);
    }
  }
  return arr;
}

void writeNpy(const std::string &path, const Shape &shape,
              const std::vector<double> &data, uint8_t elemType) {
  // descr and width per fb::ElemType (Real, Bool, Int8, ..., UInt64).
  static const char *const kDescr[] = {"<f8", "|b1", "|i1", "<i2", "<i4",
                                       "<i8", "|u1", "<u2", "<u4", "<u8"};
  static const int kWidth[] = {8, 1, 1, 2, 4, 8, 1, 2, 4, 8};
  UMBRA_CHECK(elemType < std::size(kWidth), "'", path,
              "': unknown element type ", int(elemType));
  std::string sh = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    sh += std::to_string(shape[i]) + (shape.size() == 1      ? ","
                                      : i + 1 < shape.size() ? ", "
                                                             : "");
  sh += ")";
  std::string h = std::string("{'descr': '") + kDescr[elemType] +
                  "', 'fortran_order': False, 'shape': " + sh + ", }";
  size_t total = 10 + h.size() + 1;
  h += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string body;
  if (elemType == 0) {
    body.assign(reinterpret_cast<const char *>(data.data()), data.size() * 8);
  } else {
    int w = kWidth[elemType];
    body.resize(data.size() * w);
    for (size_t i = 0; i < data.size(); ++i) {
      // A ring element at 0 fractional bits, decoded exactly (|v| < 2^53);
      // the target type keeps its low bits (little-endian).
      uint64_t v = elemType == 1 ? uint64_t(data[i] != 0)
                                 : uint64_t(int64_t(std::llround(data[i])));
      std::memcpy(&body[i * w], &v, w);
    }
  }
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t hl = uint16_t(h.size());
  f.write(reinterpret_cast<const char *>(&hl), 2);
  f.write(h.data(), h.size());
  f.write(body.data(), body.size());
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
}

} // namespace umbra::rt
