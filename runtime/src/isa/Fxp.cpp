//===- Fxp.cpp - reciprocal, rsqrt, exp, poly: fixed-point functions ------===//
//
// Secure execution calls the fixed-point gates of Protocols.h; the cost
// functions walk the same plan (planInverse, the Paterson-Stockmeyer
// schedule, the squaring chain) and charge each primitive it calls.
//
//===----------------------------------------------------------------------===//
#include "Rows.h"

#include <cmath>

namespace umbra::rt::isa {

/// Reciprocal and rsqrt: the same attributes, plan and cost.
template <bool Rsqrt> struct Inverse {
  static constexpr Op O = Rsqrt ? Op::Rsqrt : Op::Reciprocal;
  static void get(const Attrs &at, double &lo, double &hi, int &it) {
    if constexpr (Rsqrt) {
      const fb::RsqrtT &r = *at.AsRsqrt();
      lo = r.lo, hi = r.hi, it = r.iterations;
    } else {
      const fb::ReciprocalT &r = *at.AsReciprocal();
      lo = r.lo, hi = r.hi, it = r.iterations;
    }
  }
  static SlotInfo infer(const Attrs &at, const Ins &in,
                        const SlotInfo *declared) {
    double lo, hi;
    int it;
    get(at, lo, hi, it);
    gateVis(O, in);
    UMBRA_CHECK(lo > 0 && hi >= lo && std::isfinite(hi), opName(O),
                ": needs an input range 0 < lo <= hi");
    UMBRA_CHECK(it >= 0 && it <= 64, opName(O), ": bad iterations");
    // The output may have its own fractional bits (the plan checks them).
    SlotInfo o = like(*in[0]);
    if (declared) {
      UMBRA_CHECK(declared->frac >= 0 && declared->frac <= 62, opName(O),
                  ": bad output fractional bits ", declared->frac);
      o.frac = declared->frac;
    }
    return o;
  }
  static ExecResult secure(const ExecArgs &a) {
    double lo, hi;
    int it;
    get(a.I.attrs, lo, hi, it);
    int f = a.inSlot[0]->frac;
    return {Rsqrt ? rsqrtGate(a.P, a.in(0), f, lo, hi, it, a.out.frac)
                  : reciprocalGate(a.P, a.in(0), f, lo, hi, it, a.out.frac)};
  }
  static std::vector<double> real(const RealArgs &a) {
    return unaryReal(
        a, [](double x) { return Rsqrt ? 1.0 / std::sqrt(x) : 1.0 / x; });
  }
  static void cost(const CostArgs &a, CostAcc &c) {
    double lo, hi;
    int it;
    get(a.I.attrs, lo, hi, it);
    InvPlan pl = planInverse(Rsqrt, lo, hi, a.inSlot[0]->frac, it, c.cmp,
                             a.out.frac);
    uint64_t n = a.out.numel, Q = pl.thr.size();
    // Thresholds: one opening and one DCF key per element, or Q
    // bit-decomposition comparisons per element.
    if (Q && n) {
      if (c.cmp == Cmp::Dcf) {
        cost::corr(c, n);
        cost::open(c, n);
        cost::dcf(c, n, pl.cmpBits - 1, 1);
      } else {
        cost::drelu(c, n * Q, 64);
      }
    }
    // e0, y0 e0 (and a1 y0 e0) as x times tables: x - a opened once.
    uint64_t m = pl.coef[1] != 1.0 ? 3 : 2;
    cost::corr(c, m * n);
    cost::open(c, (m + 1) * n);
    cost::trunc(c, m * n);
    // Series levels: one batched product and one truncation each.
    for (int h = 1; h < pl.d;) {
      int k = std::min(h, pl.d - h);
      bool more = h + k < pl.d;
      bool reuse = more && pl.coef[h + k] == 1.0;
      uint64_t lanes = k + (more && !reuse ? 1 : 0) + (more ? k : 0);
      cost::mul(c, lanes * n);
      cost::trunc(c, lanes * n);
      h += k;
    }
    cost::mul(c, n);
    if (pl.R > 0)
      cost::trunc(c, n);
  }
};

using Recip = Inverse<false>;
using Rsq = Inverse<true>;
static const OpRow kReciprocal{
    Op::Reciprocal, 1,           1,          true, Recip::infer,
    Recip::secure,  Recip::real, Recip::cost};
static const OpRow kRsqrt{Op::Rsqrt,  1,           1,         true,
                          Rsq::infer, Rsq::secure, Rsq::real, Rsq::cost};

static const OpRow kExp{
    Op::Exp,
    1,
    1,
    true,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const fb::ExpT &e = *at.AsExp();
      gateVis(Op::Exp, in);
      checkBits(Op::Exp, e.bits);
      UMBRA_CHECK(e.squarings >= 1 && e.squarings <= 16 &&
                      e.squarings <= in[0]->frac,
                  "exp: squarings must be in [1, min(16, frac)]");
      return like(*in[0]);
    },
    [](const ExecArgs &a) {
      const fb::ExpT &e = *a.I.attrs.AsExp();
      return ExecResult{expGate(a.P, a.in(0), a.out.frac, e.squarings, e.bits)};
    },
    [](const RealArgs &a) {
      return unaryReal(a, [](double x) { return std::exp(x); });
    },
    [](const CostArgs &a, CostAcc &c) {
      const fb::ExpT &e = *a.I.attrs.AsExp();
      uint64_t n = a.out.numel;
      cost::trunc(c, n);
      cost::relu(c, n, e.bits);
      for (int i = 0; i < e.squarings; ++i) {
        cost::square(c, n);
        cost::trunc(c, n);
      }
    }};

static const OpRow kPoly{
    Op::Poly, 1, 1, true,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const auto &c = at.AsPoly()->coefficients;
      gateVis(Op::Poly, in);
      UMBRA_CHECK(!c.empty() && c.size() <= 33,
                  "poly: needs 1..33 coefficients");
      for (double v : c)
        UMBRA_CHECK(std::isfinite(v), "poly: non-finite coefficient");
      return like(*in[0]);
    },
    [](const ExecArgs &a) {
      return ExecResult{
          polyGate(a.P, a.in(0), a.out.frac, a.I.attrs.AsPoly()->coefficients)};
    },
    [](const RealArgs &a) {
      const auto &c = a.I.attrs.AsPoly()->coefficients;
      return unaryReal(a, [&](double x) {
        double r = 0;
        for (size_t i = c.size(); i-- > 0;)
          r = r * x + c[i];
        return r;
      });
    },
    // The Paterson-Stockmeyer schedule of polyGate.
    [](const CostArgs &a, CostAcc &c) {
      uint64_t n = a.out.numel;
      int d = int(a.I.attrs.AsPoly()->coefficients.size()) - 1;
      if (d <= 0)
        return;
      int k = 1;
      while (k * k < d + 1)
        k *= 2;
      if (k >= d - 1)
        k = d;
      for (int have = 1; have < k;) {
        int m = std::min(have, k - have);
        // Pairs (x^have, x^j), j = 1..m; j == have is a square.
        uint64_t words = 0;
        for (int j = 1; j <= m; ++j)
          words += j == have ? n : 2 * n;
        cost::corr(c, m * n);
        cost::open(c, words);
        cost::trunc(c, m * n);
        have += m;
      }
      int giant = d / k;
      cost::trunc(c, n);
      if (giant == 1 && k == d)
        return;
      for (int j = giant - 1; j >= 0; --j) {
        cost::mul(c, n);
        cost::trunc(c, n);
      }
    }};

const std::vector<OpRow> &fxpRows() {
  static const std::vector<OpRow> rows{kReciprocal, kRsqrt, kExp, kPoly};
  return rows;
}

} // namespace umbra::rt::isa
