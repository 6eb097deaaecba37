//===- Common.cpp - Output-rule helpers, index maps, primitive costs ------===//
#include "Rows.h"

namespace umbra::rt::isa {

//===----------------------------------------------------------------------===//
// Output rules
//===----------------------------------------------------------------------===//

Vis joinOperands(Op op, const Ins &in) {
  const SlotInfo *priv = nullptr, *shared = nullptr;
  for (const SlotInfo *s : in) {
    if (s->vis == Vis::Shared && !shared)
      shared = s;
    if (!isPrivate(s->vis))
      continue;
    UMBRA_CHECK(!priv || priv->vis == s->vis, opName(op), ": mixes '",
                priv->name, "' (", visName(priv->vis), "-private) with '",
                s->name, "' (", visName(s->vis), "-private); share them first");
    priv = priv ? priv : s;
  }
  UMBRA_CHECK(!priv || !shared, opName(op), ": operand '", priv->name, "' is ",
              visName(priv->vis), "-private but '", shared->name,
              "' is secret-shared; share '", priv->name, "' first");
  return shared ? Vis::Shared : priv ? priv->vis : Vis::Public;
}

Vis gateVis(Op op, const Ins &in) {
  Vis v = joinOperands(op, in);
  UMBRA_CHECK(v != Vis::Public, opName(op),
              ": operands are public; the runtime evaluates this gate on "
              "shared or private values only (fold it at compile time)");
  return v;
}

SlotInfo like(const SlotInfo &in) {
  SlotInfo o = in;
  o.name.clear();
  o.weight = -1;
  return o;
}

int64_t axisOf(Op op, int64_t axis, size_t rank) {
  int64_t r = int64_t(rank);
  int64_t a = axis < 0 ? axis + r : axis;
  UMBRA_CHECK(a >= 0 && a < r, opName(op), ": axis ", axis,
              " out of range for rank ", r);
  return a;
}

void checkBits(Op op, int bits) {
  UMBRA_CHECK(bits >= 2 && bits <= 64, opName(op), ": comparison bit width ",
              bits, " not in [2, 64]");
}

//===----------------------------------------------------------------------===//
// Index maps
//===----------------------------------------------------------------------===//

std::vector<int64_t> stridesOf(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t i = int64_t(s.size()) - 2; i >= 0; --i)
    st[i] = st[i + 1] * s[i + 1];
  return st;
}

std::vector<int64_t> broadcastMap(const Shape &in, const Shape &out) {
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  size_t off = out.size() - in.size();
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < in.size(); ++d)
      src += (in[d] == 1 ? 0 : idx[off + d]) * st[d];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> transposeMap(const Shape &in,
                                  const std::vector<int64_t> &perm) {
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = in[perm[i]];
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < out.size(); ++d)
      src += idx[d] * st[perm[d]];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> sliceMap(const Shape &in, const Shape &out,
                              const std::vector<int64_t> &offsets,
                              const std::vector<int64_t> &strides) {
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < in.size(); ++d)
      src += (offsets[d] + idx[d] * (strides.empty() ? 1 : strides[d])) * st[d];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> axisLastPerm(size_t rank, int64_t axis) {
  std::vector<int64_t> p;
  for (size_t i = 0; i < rank; ++i)
    if (int64_t(i) != axis)
      p.push_back(int64_t(i));
  p.push_back(axis);
  return p;
}

//===----------------------------------------------------------------------===//
// Primitive costs: each mirrors the messages and dealer requests of the
// function of the same name in runtime/src/protocols/ (dealer2pc/, cmp/, fxp/).
//===----------------------------------------------------------------------===//

namespace cost {
constexpr uint64_t kHdr = 16; // frame header per message

void open(CostAcc &c, uint64_t words) {
  c.bytes += 2 * (8 * words + kHdr);
  c.rounds += 1;
}
void oneWay(CostAcc &c, uint64_t words) {
  c.bytes += 8 * words + kHdr;
  c.rounds += 1;
}
void mul(CostAcc &c, uint64_t n) {
  corr(c, n);
  open(c, 2 * n);
}
void square(CostAcc &c, uint64_t n) {
  corr(c, n);
  open(c, n);
}
void trunc(CostAcc &c, uint64_t n) {
  corr(c, 2 * n);
  open(c, n);
}
void msbBits(CostAcc &c, uint64_t n, int bits) {
  uint64_t W = (n + 63) / 64;
  corr(c, n);
  open(c, n);
  // The (lt, eq) prefix tree over bits - 1 positions: one AND round per
  // level, both products except at the last level.
  uint64_t size = std::max(1, bits - 1);
  while (size > 1) {
    uint64_t pairs = size / 2, q = size == 2 ? 1 : 2;
    corr(c, q * pairs * W);
    open(c, 2 * q * pairs * W);
    size = pairs + size % 2;
  }
}
void b2a(CostAcc &c, uint64_t n) {
  corr(c, n);
  open(c, (n + 63) / 64);
}
void bitMul(CostAcc &c, uint64_t n) {
  corr(c, 2 * n);
  open(c, (n + 63) / 64 + n);
}
void dcf(CostAcc &c, uint64_t n, int bits, int np) {
  corrBoth(c, uint64_t(bits) * (2 + np) * n);
  corrBoth(c, uint64_t(np) * n);
}
void dcfSign(CostAcc &c, uint64_t n, int bits, bool relu) {
  corr(c, relu ? 2 * n : n);
  open(c, n);
  dcf(c, n, bits - 1, relu ? 2 : 1);
}
void drelu(CostAcc &c, uint64_t n, int bits) {
  if (c.cmp == Cmp::Dcf)
    return dcfSign(c, n, bits, false);
  msbBits(c, n, bits);
  b2a(c, n);
}
void relu(CostAcc &c, uint64_t n, int bits) {
  if (c.cmp == Cmp::Dcf)
    return dcfSign(c, n, bits, true);
  msbBits(c, n, bits);
  bitMul(c, n);
}
} // namespace cost

} // namespace umbra::rt::isa
