//===- Nonlinear.cpp - Gates built on the session's comparison -----------===//
//
// DReLU, LTZ, ReLU and max/argmax ask P.comparison() (Comparison.h); the
// boolean-sharing helpers below are shared by the backends.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/protocols/Dealer2pc.h"

#include <algorithm>

namespace umbra::rt {

Vec drelu(Party &P, const Vec &x, int bits) {
  return P.comparison().drelu(P, x, bits);
}
Vec ltz(Party &P, const Vec &x, int bits) {
  return P.comparison().ltz(P, x, bits);
}
Vec relu(Party &P, const Vec &x, int bits) {
  return P.comparison().relu(P, x, bits);
}

void maxRows(Party &P, const Vec &x, int64_t rows, int64_t len, Vec *maxOut,
             Vec *argOut, int bits) {
  const Comparison &cmp = P.comparison();
  // cur[r][j]: current candidates of row r; idx holds their shared indices.
  std::vector<Vec> cur(rows), idx(rows);
  for (int64_t r = 0; r < rows; ++r) {
    cur[r].assign(x.begin() + r * len, x.begin() + (r + 1) * len);
    idx[r].resize(len);
    for (int64_t j = 0; j < len; ++j)
      idx[r][j] = P.p0() ? uint64_t(j) : 0;
  }
  int64_t L = len;
  while (L > 1) {
    int64_t pairs = L / 2;
    size_t n = size_t(rows * pairs);
    Vec diff(n), didx(n);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < pairs; ++j) {
        diff[r * pairs + j] = cur[r][2 * j] - cur[r][2 * j + 1];
        didx[r * pairs + j] = idx[r][2 * j] - idx[r][2 * j + 1];
      }
    // One comparison per pair: ReLU of the difference for the max; with
    // argmax the same bit also selects the index difference.
    Vec z;
    if (argOut) {
      Vec both(2 * n);
      std::copy(diff.begin(), diff.end(), both.begin());
      std::copy(didx.begin(), didx.end(), both.begin() + n);
      z = cmp.gate(P, diff, both, bits);
    } else {
      z = cmp.relu(P, diff, bits);
    }
    for (int64_t r = 0; r < rows; ++r) {
      Vec nc, ni;
      for (int64_t j = 0; j < pairs; ++j) {
        nc.push_back(cur[r][2 * j + 1] + z[r * pairs + j]);
        if (argOut)
          ni.push_back(idx[r][2 * j + 1] + z[n + r * pairs + j]);
      }
      if (L % 2) {
        nc.push_back(cur[r][L - 1]);
        ni.push_back(idx[r][L - 1]);
      }
      cur[r] = std::move(nc);
      if (argOut)
        idx[r] = std::move(ni);
    }
    L = pairs + L % 2;
  }
  if (maxOut) {
    maxOut->resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      (*maxOut)[r] = cur[r][0];
  }
  if (argOut) {
    argOut->resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      (*argOut)[r] = idx[r][0];
  }
}

//===----------------------------------------------------------------------===//
// Boolean sharings
//===----------------------------------------------------------------------===//

Vec packBits(const std::vector<uint8_t> &b) {
  Vec w((b.size() + 63) / 64, 0);
  for (size_t i = 0; i < b.size(); ++i)
    w[i / 64] |= uint64_t(b[i] & 1) << (i % 64);
  return w;
}
std::vector<uint8_t> unpackBits(const Vec &w, size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = (w[i / 64] >> (i % 64)) & 1;
  return b;
}

Vec b2a(Party &P, const Vec &bits, size_t n) {
  size_t W = (n + 63) / 64;
  Vec c = P.randBits(W);
  Vec ca = P.corrEach(n, [&](size_t e) { return (c[e / 64] >> (e % 64)) & 1; });
  Vec m(W);
  for (size_t w = 0; w < W; ++w)
    m[w] = bits[w] ^ c[w];
  m = P.openBits(m);
  Vec z(n);
  for (size_t e = 0; e < n; ++e) {
    uint64_t eb = (m[e / 64] >> (e % 64)) & 1;
    z[e] = (P.p0() ? eb : 0) + ca[e] * (1 - 2 * eb);
  }
  return z;
}

Vec bitMul(Party &P, const Vec &bits, const Vec &x) {
  size_t n = x.size(), W = (n + 63) / 64;
  Vec c = P.randBits(W);
  Vec ca = P.corrEach(n, [&](size_t e) { return (c[e / 64] >> (e % 64)) & 1; });
  Vec a = P.randShared(n);
  Vec cxa = P.corrEach(
      n, [&](size_t e) { return ((c[e / 64] >> (e % 64)) & 1) * a[e]; });
  // One round: open b ^ c (bits) and x - a (ring) together.
  Vec msg(W + n);
  for (size_t w = 0; w < W; ++w)
    msg[w] = bits[w] ^ c[w];
  for (size_t e = 0; e < n; ++e)
    msg[W + e] = x[e] - a[e];
  Vec t = P.exchange(msg);
  Vec z(n);
  for (size_t e = 0; e < n; ++e) {
    uint64_t eb = (((t[e / 64] ^ msg[e / 64])) >> (e % 64)) & 1;
    uint64_t d = t[W + e] + msg[W + e];
    // b·x = e·x + (1 - 2e)·(c·d + c·a)
    z[e] = eb * x[e] + (1 - 2 * eb) * (ca[e] * d + cxa[e]);
  }
  return z;
}

} // namespace umbra::rt
