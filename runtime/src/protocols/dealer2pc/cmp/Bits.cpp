//===- Bits.cpp - Comparison by dealer bit decomposition -----------------===//
//
// The dealer shares the bits of a mask r; the parties open x + r and compare
// its low bits with r's by a log-depth (lt, eq) prefix tree of Beaver ANDs
// on bit slices. 8 rounds for 64 bits, ~78 B online and ~31 B dealer
// material per DReLU (docs/protocols.md, "Bits backend").
//
//===----------------------------------------------------------------------===//
#include "Backends.h"
#include "umbra/runtime/protocols/Dealer2pc.h"

#include <algorithm>

namespace umbra::rt {

namespace {

/// Beaver AND of XOR-shared word vectors, one round.
Vec andBits(Party &P, const Vec &x, const Vec &y) {
  size_t n = x.size();
  Vec a = P.randBits(n), b = P.randBits(n);
  Vec c = P.corrBits(n, [&] {
    Vec r(n);
    for (size_t i = 0; i < n; ++i)
      r[i] = a[i] & b[i];
    return r;
  });
  Vec de(2 * n);
  for (size_t i = 0; i < n; ++i) {
    de[i] = x[i] ^ a[i];
    de[n + i] = y[i] ^ b[i];
  }
  de = P.openBits(de);
  Vec z(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t d = de[i], e = de[n + i];
    z[i] = c[i] ^ (d & b[i]) ^ (e & a[i]) ^ (P.p0() ? (d & e) : 0);
  }
  return z;
}

/// In-place 64x64 bit-matrix transpose: afterwards bit e of a[i] is bit i
/// of the original a[e] (Hacker's Delight, 6 butterfly stages).
void transpose64(uint64_t a[64]) {
  uint64_t m = 0x00000000FFFFFFFFull;
  for (int j = 32; j; j >>= 1, m ^= m << j)
    for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k] ^= t << j;
      a[k | j] ^= t;
    }
}

/// Element-major values -> 64 bit slices (slice i, word w at s[i*W + w]).
Vec toSlices(const Vec &v) {
  size_t n = v.size(), W = (n + 63) / 64;
  Vec s(64 * W, 0);
  uint64_t blk[64];
  for (size_t w = 0; w < W; ++w) {
    for (size_t e = 0; e < 64; ++e)
      blk[e] = w * 64 + e < n ? v[w * 64 + e] : 0;
    transpose64(blk);
    for (int i = 0; i < 64; ++i)
      s[i * W + w] = blk[i];
  }
  return s;
}

Vec fromSlices(const Vec &s, size_t n) {
  size_t W = (n + 63) / 64;
  Vec v(n);
  uint64_t blk[64];
  for (size_t w = 0; w < W; ++w) {
    for (int i = 0; i < 64; ++i)
      blk[i] = s[i * W + w];
    transpose64(blk);
    for (size_t e = 0; e < 64 && w * 64 + e < n; ++e)
      v[w * 64 + e] = blk[e];
  }
  return v;
}

/// XOR-shared MSB(x) of each element, bit-packed (element e is bit e%64 of
/// word e/64). 7 rounds for 64 bits.
Vec msbBits(Party &P, const Vec &x, int bits) {
  UMBRA_CHECK(bits >= 2 && bits <= 64, "comparison bit width ", bits,
              " out of range [2, 64]");
  const int top = bits - 1;
  size_t n = x.size(), W = (n + 63) / 64;
  // Bit slices of the dealer's mask r: slice i holds bit i of every element.
  Vec rb = P.randBits(64 * W);
  Vec r = P.corr(n, [&] { return fromSlices(rb, n); });
  Vec y(n);
  for (size_t e = 0; e < n; ++e)
    y[e] = x[e] + r[e];
  y = P.open(y); // y = x + r, uniformly masked
  Vec ys = toSlices(y);
  // MSB(x) = y_top ^ r_top ^ [y' < r'] with y', r' the bits below `top`.
  // Compare with a log-depth (lt, eq) prefix tree over positions 0..top-1.
  const uint64_t ones = P.p0() ? ~uint64_t(0) : 0;
  std::vector<Vec> lt(top, Vec(W)), eq(top, Vec(W));
  for (int i = 0; i < top; ++i)
    for (size_t w = 0; w < W; ++w) {
      lt[i][w] = rb[i * W + w] & ~ys[i * W + w];
      eq[i][w] = rb[i * W + w] ^ ((ys[i * W + w] ^ ~uint64_t(0)) & ones);
    }
  if (top == 0) {
    lt.assign(1, Vec(W, 0));
    eq.assign(1, Vec(W, 0));
  }
  while (lt.size() > 1) {
    size_t pairs = lt.size() / 2;
    bool last = lt.size() == 2;
    // Batch: eq_hi & lt_lo for every pair, and eq_hi & eq_lo unless final.
    size_t q = last ? 1 : 2;
    Vec xa(q * pairs * W), ya(q * pairs * W);
    for (size_t j = 0; j < pairs; ++j)
      for (size_t w = 0; w < W; ++w) {
        xa[j * W + w] = eq[2 * j + 1][w];
        ya[j * W + w] = lt[2 * j][w];
        if (!last) {
          xa[(pairs + j) * W + w] = eq[2 * j + 1][w];
          ya[(pairs + j) * W + w] = eq[2 * j][w];
        }
      }
    Vec z = andBits(P, xa, ya);
    std::vector<Vec> nlt, neq;
    for (size_t j = 0; j < pairs; ++j) {
      Vec l(W), e(W);
      for (size_t w = 0; w < W; ++w) {
        l[w] = lt[2 * j + 1][w] ^ z[j * W + w];
        if (!last)
          e[w] = z[(pairs + j) * W + w];
      }
      nlt.push_back(std::move(l));
      neq.push_back(std::move(e));
    }
    if (lt.size() % 2) {
      nlt.push_back(std::move(lt.back()));
      neq.push_back(std::move(eq.back()));
    }
    lt = std::move(nlt);
    eq = std::move(neq);
  }
  Vec msb(W);
  for (size_t w = 0; w < W; ++w)
    msb[w] = lt[0][w] ^ rb[top * W + w] ^ (P.p0() ? ys[top * W + w] : 0);
  return msb;
}

Vec notBits(Party &P, Vec b) {
  if (P.p0())
    for (auto &w : b)
      w = ~w;
  return b;
}

/// AND gates of the prefix tree over `top` positions.
uint64_t treeAnds(int top) {
  uint64_t ands = 0;
  for (int k = std::max(top, 1); k > 1; k = (k + 1) / 2)
    ands += k == 2 ? 1 : 2 * uint64_t(k / 2);
  return ands;
}

int treeLevels(int top) {
  int levels = 0;
  for (int k = std::max(top, 1); k > 1; k = (k + 1) / 2)
    ++levels;
  return levels;
}

class BitsComparison final : public Comparison {
public:
  BitsComparison()
      : Comparison({Cmp::Bits, "bits", /*inverseLevels=*/3,
                    /*inverseSegments=*/4}) {}

  Vec drelu(Party &P, const Vec &x, int bits) const override {
    return b2a(P, notBits(P, msbBits(P, x, bits)), x.size());
  }
  Vec ltz(Party &P, const Vec &x, int bits) const override {
    return b2a(P, msbBits(P, x, bits), x.size());
  }
  Vec relu(Party &P, const Vec &x, int bits) const override {
    return bitMul(P, notBits(P, msbBits(P, x, bits)), x);
  }
  Vec gate(Party &P, const Vec &x, const Vec &ys, int bits) const override {
    const size_t n = x.size(), k = n ? ys.size() / n : 0;
    Vec ge = notBits(P, msbBits(P, x, bits)); // x >= 0
    // One bit per element, repeated for each of the k vectors.
    std::vector<uint8_t> b = unpackBits(ge, n), bk(k * n);
    for (size_t j = 0; j < k; ++j)
      std::copy(b.begin(), b.end(), bk.begin() + j * n);
    return bitMul(P, packBits(bk), ys);
  }
  Vec atLeast(Party &P, const Vec &x, const std::vector<uint64_t> &thr,
              int) const override {
    // Q full-width comparisons of x - t_q in one batch.
    const size_t n = x.size(), Q = thr.size();
    if (Q == 0 || n == 0)
      return Vec(n * Q, 0);
    Vec d(n * Q);
    for (size_t e = 0; e < n; ++e)
      for (size_t q = 0; q < Q; ++q)
        d[e * Q + q] = x[e] - (P.p0() ? thr[q] : 0);
    return drelu(P, d, 64);
  }

  CmpCost cost(bool relu, int bits) const override {
    // Open x + r (8 B each way), each AND opens 2 bits each way, then one
    // more round: b2a (1 bit each way) or bitMul (1 bit + 8 B each way).
    const int top = bits - 1;
    CmpCost c;
    c.rounds = 2 + uint64_t(treeLevels(top));
    c.bytesPerElem = 16 + double(treeAnds(top)) / 2 + (relu ? 16.25 : 0.25);
    return c;
  }
};

} // namespace

const Comparison &bitsComparison() {
  static const BitsComparison c;
  return c;
}

} // namespace umbra::rt
