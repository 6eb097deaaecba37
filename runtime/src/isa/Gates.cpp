//===- Gates.cpp - drelu, ltz, relu, select, max, argmax ------------------===//
//
// Comparisons through the backend chosen at the handshake (Cmp::Dcf or
// Cmp::Bits); `bits` is the comparison width (exact for |x| < 2^(bits-1)).
//
//===----------------------------------------------------------------------===//
#include "Rows.h"

namespace umbra::rt::isa {

/// drelu, ltz, relu: one operand, same shape (frac 0 for the 0/1 results),
/// one comparison by the backend.
using SignGate = Vec (*)(Party &, const Vec &, int);
template <Op O, SignGate G, double (*R)(double)> struct SignRow {
  static int bits(const Attrs &at) {
    return O == Op::Relu    ? at.AsRelu()->bits
           : O == Op::Drelu ? at.AsDrelu()->bits
                            : at.AsLtz()->bits;
  }
  static SlotInfo infer(const Attrs &at, const Ins &in, const SlotInfo *) {
    SlotInfo o = like(*in[0]);
    o.vis = gateVis(O, in);
    if (in.size() == 2) // relu's live-block mask
      checkBlockMask(O, *in[0], *in[1]);
    if (O != Op::Relu)
      o.frac = 0;
    checkBits(O, bits(at));
    return o;
  }
  static ExecResult secure(const ExecArgs &a) {
    int b = bits(a.I.attrs);
    if (a.inSlot.size() == 2)
      return {onLiveEntries(a, 1, [&](const Vec &x) { return G(a.P, x, b); })};
    return {G(a.P, a.in(0), b)};
  }
  static std::vector<double> real(const RealArgs &a) {
    std::vector<double> y = unaryReal(a, R);
    if (a.in.size() == 2)
      y = maskReal(std::move(y), *a.inSlot[0], *a.in[1],
                   a.inSlot[1]->shape.back());
    return y;
  }
  static void cost(const CostArgs &a, CostAcc &c) {
    if (O == Op::Relu)
      cost::relu(c, liveOrAll(a, a.out.numel), bits(a.I.attrs));
    else
      cost::drelu(c, a.out.numel, bits(a.I.attrs));
  }
  static OpRow row() {
    return {O, 1, O == Op::Relu ? 2 : 1, true, infer, secure, real, cost};
  }
};
static double geZero(double x) { return x >= 0 ? 1.0 : 0.0; }
static double ltZero(double x) { return x < 0 ? 1.0 : 0.0; }
static double ramp(double x) { return x > 0 ? x : 0.0; }
static const OpRow kDrelu = SignRow<Op::Drelu, drelu, geZero>::row();
static const OpRow kLtz = SignRow<Op::Ltz, ltz, ltZero>::row();
static const OpRow kRelu = SignRow<Op::Relu, relu, ramp>::row();

static const OpRow kSelect{
    Op::Select,
    3,
    3,
    true,
    [](const Attrs &, const Ins &in, const SlotInfo *) {
      SlotInfo o = like(*in[1]);
      o.vis = gateVis(Op::Select, in);
      // The MPC protocol needs every operand shared; the holder of private
      // operands may mix in public ones.
      if (o.vis == Vis::Shared)
        for (auto *s : in)
          UMBRA_CHECK(s->vis == Vis::Shared, "select: operand '", s->name,
                      "' must be secret-shared like the others");
      UMBRA_CHECK(in[0]->shape == in[1]->shape && in[1]->shape == in[2]->shape,
                  "select: operand shapes differ");
      UMBRA_CHECK(in[0]->frac == 0 && in[1]->frac == in[2]->frac,
                  "select: condition must have 0 fractional bits and the "
                  "branches equal ones");
      return o;
    },
    [](const ExecArgs &a) {
      return ExecResult{select(a.P, a.in(0), a.in(1), a.in(2))};
    },
    [](const RealArgs &a) {
      const auto &c = *a.in[0], &x = *a.in[1], &y = *a.in[2];
      std::vector<double> z(c.size());
      for (size_t i = 0; i < z.size(); ++i)
        z[i] = c[i] != 0 ? x[i] : y[i];
      return z;
    },
    [](const CostArgs &a, CostAcc &c) { cost::mul(c, a.out.numel); }};

/// Max and argmax share the rule, the tree and its cost.
template <typename T> struct Reduction {
  static const T &attrs(const Attrs &at);
};
template <> const fb::MaxT &Reduction<fb::MaxT>::attrs(const Attrs &at) {
  return *at.AsMax();
}
template <> const fb::ArgmaxT &Reduction<fb::ArgmaxT>::attrs(const Attrs &at) {
  return *at.AsArgmax();
}

template <typename T, Op O> struct MaxRow {
  static SlotInfo infer(const Attrs &at, const Ins &in, const SlotInfo *) {
    const T &m = Reduction<T>::attrs(at);
    checkBits(O, m.bits);
    SlotInfo o = like(*in[0]);
    o.vis = gateVis(O, in);
    int64_t axis = axisOf(O, m.axis, in[0]->shape.size());
    UMBRA_CHECK(in[0]->shape[axis] >= 1, opName(O), ": empty axis");
    if (m.keepdims)
      o.shape[axis] = 1;
    else
      o.shape.erase(o.shape.begin() + axis);
    if (O == Op::Argmax)
      o.frac = 0;
    return o;
  }
  static ExecResult secure(const ExecArgs &a) {
    const T &m = Reduction<T>::attrs(a.I.attrs);
    const Shape &s = a.inSlot[0]->shape;
    int64_t axis = axisOf(O, m.axis, s.size()), len = s[axis];
    Vec x = a.in(0);
    if (axis != int64_t(s.size()) - 1)
      x = gather(x, transposeMap(s, axisLastPerm(s.size(), axis)));
    int64_t rows = numel(s) / len;
    ExecResult r;
    maxRows(a.P, x, rows, len, O == Op::Max ? &r.data : nullptr,
            O == Op::Argmax ? &r.data : nullptr, m.bits);
    return r;
  }
  static std::vector<double> real(const RealArgs &a) {
    const T &m = Reduction<T>::attrs(a.I.attrs);
    const Shape &s = a.inSlot[0]->shape;
    int64_t axis = axisOf(O, m.axis, s.size()), len = s[axis];
    auto x = gather(*a.in[0], transposeMap(s, axisLastPerm(s.size(), axis)));
    std::vector<double> out(size_t(a.out.numel));
    for (size_t r = 0; r < out.size(); ++r) {
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j)
        if (x[r * len + j] > x[r * len + best])
          best = j;
      out[r] = O == Op::Max ? x[r * len + best] : double(best);
    }
    return out;
  }
  /// The pairwise tree of maxRows: per level, one comparison per pair.
  static void cost(const CostArgs &a, CostAcc &c) {
    const T &m = Reduction<T>::attrs(a.I.attrs);
    const Shape &s = a.inSlot[0]->shape;
    int64_t len = s[axisOf(O, m.axis, s.size())];
    uint64_t rows = len ? numel(s) / len : 0;
    for (int64_t L = len; L > 1; L = L / 2 + L % 2) {
      uint64_t n = rows * uint64_t(L / 2);
      if (c.cmp == Cmp::Dcf) {
        cost::dcfSign(c, n, m.bits, O == Op::Max);
        if (O == Op::Argmax)
          cost::mul(c, 2 * n);
      } else {
        cost::msbBits(c, n, m.bits);
        cost::bitMul(c, O == Op::Argmax ? 2 * n : n);
      }
    }
  }
};

using MaxR = MaxRow<fb::MaxT, Op::Max>;
using ArgmaxR = MaxRow<fb::ArgmaxT, Op::Argmax>;
static const OpRow kMax{Op::Max,      1,          1,         true, MaxR::infer,
                        MaxR::secure, MaxR::real, MaxR::cost};
static const OpRow kArgmax{
    Op::Argmax,   1, 1, true, ArgmaxR::infer, ArgmaxR::secure, ArgmaxR::real,
    ArgmaxR::cost};

const std::vector<OpRow> &gateRows() {
  static const std::vector<OpRow> rows{kDrelu,  kLtz, kRelu,
                                       kSelect, kMax, kArgmax};
  return rows;
}

} // namespace umbra::rt::isa
