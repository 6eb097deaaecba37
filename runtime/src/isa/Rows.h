//===- Rows.h - Helpers shared by the instruction rows ---------*- C++ -*-===//
//
// Internal to runtime/src/isa/: operand checks for the output rules, the
// index maps of the local shape kernels, and the cost of the protocol
// primitives the gate rows compose.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Isa.h"

namespace umbra::rt::isa {

/// The rows of one family (Io.cpp, Linear.cpp, Gates.cpp, Fxp.cpp,
/// Shape.cpp), collected by Isa.cpp.
const std::vector<OpRow> &ioRows();
const std::vector<OpRow> &linearRows();
const std::vector<OpRow> &gateRows();
const std::vector<OpRow> &fxpRows();
const std::vector<OpRow> &shapeRows();
const std::vector<OpRow> &sparseRows();

//===----------------------------------------------------------------------===//
// The live-block mask (Sparse.cpp): an optional public 0/1 operand
// [..., nb] that restricts a row to the live blocks of x's last axis.
//===----------------------------------------------------------------------===//

/// Throws unless `mask` is a public 0/1-valued (frac 0) [x.shape[:-1], nb]
/// whose nb divides x's last dimension.
void checkBlockMask(Op op, const SlotInfo &x, const SlotInfo &mask);
/// fn on operand 0's live entries (packed), scattered back; 0 elsewhere.
Vec onLiveEntries(const ExecArgs &a, int maskOperand,
                  const std::function<Vec(const Vec &)> &fn);
/// y with the entries outside live blocks set to 0 (float reference).
std::vector<double> maskReal(std::vector<double> y, const SlotInfo &x,
                             const std::vector<double> &mask, int64_t nb);
/// The live entries a masked row works on (CostArgs::live), or `all`.
uint64_t liveOrAll(const CostArgs &a, uint64_t all);

//===----------------------------------------------------------------------===//
// Output rules
//===----------------------------------------------------------------------===//

using Ins = std::vector<const SlotInfo *>;
/// Who may see a combination of operands (public joins anything; one
/// party's private data joins only public data and its own; shared joins
/// public). Throws for a mix that needs a `share` first.
Vis joinOperands(Op op, const Ins &in);
/// Visibility of a gate's result: shared or private, never public.
Vis gateVis(Op op, const Ins &in);
/// A result slot like `in` (shape, frac, visibility), unnamed.
SlotInfo like(const SlotInfo &in);
/// Normalised axis (negative counts from the end) or throws.
int64_t axisOf(Op op, int64_t axis, size_t rank);
void checkBits(Op op, int bits);

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

std::vector<int64_t> stridesOf(const Shape &s);
std::vector<int64_t> broadcastMap(const Shape &in, const Shape &out);
std::vector<int64_t> transposeMap(const Shape &in,
                                  const std::vector<int64_t> &perm);
/// out[i] = in[offsets + i * strides] for the multi-index i of `out`.
std::vector<int64_t> sliceMap(const Shape &in, const Shape &out,
                              const std::vector<int64_t> &offsets,
                              const std::vector<int64_t> &strides);
/// Permutation moving `axis` last (for max/argmax rows).
std::vector<int64_t> axisLastPerm(size_t rank, int64_t axis);

/// Calls fn(flat, idx) for every multi-index of `s` in row-major order.
template <typename F> void forEachIndex(const Shape &s, F fn) {
  int64_t n = numel(s);
  std::vector<int64_t> idx(s.size(), 0);
  for (int64_t f = 0; f < n; ++f) {
    fn(f, idx);
    for (int64_t d = int64_t(s.size()) - 1; d >= 0; --d) {
      if (++idx[d] < s[d])
        break;
      idx[d] = 0;
    }
  }
}

template <typename T>
std::vector<T> gather(const std::vector<T> &src,
                      const std::vector<int64_t> &map) {
  std::vector<T> out(map.size());
  for (size_t i = 0; i < map.size(); ++i)
    out[i] = src[map[i]];
  return out;
}

template <typename T>
std::vector<T> bcast(const std::vector<T> &v, const Shape &in,
                     const Shape &out) {
  if (in == out)
    return v;
  return gather(v, broadcastMap(in, out));
}

/// Elementwise real function of the single operand (float reference).
template <typename F> std::vector<double> unaryReal(const RealArgs &a, F f) {
  std::vector<double> z = *a.in[0];
  for (auto &v : z)
    v = f(v);
  return z;
}

//===----------------------------------------------------------------------===//
// Cost of the protocol primitives (mirrors protocols/dealer2pc/ and its cmp/ backends)
//===----------------------------------------------------------------------===//

namespace cost {
/// One exchange of `words` each way (open, openBits, exchange).
void open(CostAcc &c, uint64_t words);
/// One one-way message of `words` (share, reveal to one party).
void oneWay(CostAcc &c, uint64_t words);
/// Dealer words to P1 (corr / corrBits) and to both parties (corrBoth).
inline void corr(CostAcc &c, uint64_t words) { c.matP1 += words; }
inline void corrBoth(CostAcc &c, uint64_t words) {
  c.matP1 += words;
  c.matP0 += words;
}
void mul(CostAcc &c, uint64_t n);
void square(CostAcc &c, uint64_t n);
void trunc(CostAcc &c, uint64_t n);
void msbBits(CostAcc &c, uint64_t n, int bits);
void b2a(CostAcc &c, uint64_t n);
void bitMul(CostAcc &c, uint64_t n);
/// DCF keys: n keys over `bits`-bit inputs with np payload words.
void dcf(CostAcc &c, uint64_t n, int bits, int np);
/// dcfSign: one opening and a DCF key per element.
void dcfSign(CostAcc &c, uint64_t n, int bits, bool relu);
void drelu(CostAcc &c, uint64_t n, int bits);
void relu(CostAcc &c, uint64_t n, int bits);
} // namespace cost

} // namespace umbra::rt::isa
