//===- Inverse.cpp - Reciprocal and rsqrt --------------------------------===//
#include "umbra/runtime/protocols/Fxp.h"

#include <algorithm>
#include <cmath>

namespace umbra::rt {

//===----------------------------------------------------------------------===//
// Reciprocal and rsqrt: oblivious normalisation + series on the residual
//===----------------------------------------------------------------------===//
//
// For an input X (integer, f fractional bits) in [Xlo, Xhi]:
//  1. One batch of comparisons (Comparison::atLeast; with DCF one masked
//     opening X + r and one key evaluated at every public threshold t_q:
//     all powers of two in the range plus S geometric sub-steps per
//     binade) gives shares of b_q = [X >= t_q]. The segment
//     indicator c_q = b_q - b_{q+1} is one-hot, so any per-segment public
//     table v is the *local* linear form  v_0 + sum_q b_q (v_q - v_{q-1}).
//  2. Segment q lies in binade k (m = X / 2^k' in [1, 2) or, for rsqrt,
//     [1, 4) with f - k' even). The start y0 = 1/m (1/sqrt m) at the
//     segment centre, |e0| = |1 - m y0^p| <= (m_hi - m_lo)/(m_hi + m_lo).
//     e0 and y0 e0 are X times per-segment tables: one Beaver round (X - a
//     opened once) and one truncation.
//  3. 1/m = y0 / (1 - e0) (p = 1), 1/sqrt m = y0 (1 - e0)^(-1/2) (p = 2):
//     sum_{i<=d} a_i y0 e0^i, the powers by a log-depth product tree (each
//     level one batched Beaver product + one truncation).
//  4. Rescale by the per-binade power of two: one product with a table
//     (exact integers) and one truncation by R.
// Rounds: cmp + 2 + 2L + (R > 0 ? 2 : 1), independent of the range width.

static double seriesCoef(bool rsqrt, int i) {
  if (!rsqrt)
    return 1.0;
  double a = 1;
  for (int k = 1; k <= i; ++k)
    a *= (2.0 * k - 1) / (2.0 * k); // C(2i, i) / 4^i
  return a;
}

InvPlan planInverse(bool rsqrt, double lo, double hi, int frac, int iters,
                    Cmp cmp, int outFrac) {
  if (outFrac < 0)
    outFrac = frac;
  UMBRA_CHECK(outFrac <= 62, "reciprocal/rsqrt: ", outFrac,
              " fractional bits for the output");
  UMBRA_CHECK(lo > 0 && hi >= lo && std::isfinite(hi),
              "reciprocal/rsqrt: bad input range [", lo, ", ", hi, "]");
  UMBRA_CHECK(iters >= 0, "reciprocal/rsqrt: negative iterations ", iters);
  iters = std::min(iters, 4); // L > 4 (degree > 16) never helps
  InvPlan p;
  p.rsqrt = rsqrt;
  p.frac = frac;
  p.outFrac = outFrac;
  double sc = std::ldexp(1.0, frac);
  double xlo = std::max(1.0, std::floor(lo * sc));
  double xhi = std::max(xlo, std::ceil(hi * sc));
  UMBRA_CHECK(xhi < std::ldexp(1.0, 50), "reciprocal/rsqrt: range [", lo, ", ",
              hi, "] too wide for ", frac, " fractional bits");
  p.xlo = uint64_t(xlo);
  p.xhi = uint64_t(xhi);
  p.jlo = 63 - __builtin_clzll(p.xlo);
  p.jhi = 63 - __builtin_clzll(p.xhi);
  const int span = p.jhi - p.jlo;
  const Comparison &backend = comparisonFor(cmp);
  p.L = iters ? iters : backend.inverseLevels();
  p.d = 1 << p.L;
  // Internal precision: X * V must stay below 2^58 (T = F + jhi + 3) and
  // the rescale product below 2^61.
  p.F = std::min({28, 55 - p.jhi, rsqrt ? 59 - (span + 1) / 2 - 1 : 59 - span});
  UMBRA_CHECK(p.F >= 10, "reciprocal/rsqrt: range [", lo, ", ", hi,
              "] too wide for ", frac, " fractional bits");
  p.T = p.F + p.jhi + 3;
  // Comparison width: exact for inputs up to 2^(jhi+3) (>= 4 hi).
  p.cmpBits = std::min(64, p.jhi + 4);
  for (int i = 0; i <= p.d + 1; ++i)
    p.coef.push_back(seriesCoef(rsqrt, i));

  auto build = [&](int S) {
    p.S = S;
    p.thr.clear();
    for (int k = p.jlo; k <= p.jhi; ++k)
      for (int i = 0; i < S; ++i) {
        double t = std::ceil(std::ldexp(std::exp2(double(i) / S), k));
        if (t > xlo && t <= xhi)
          p.thr.push_back(uint64_t(t));
      }
    std::sort(p.thr.begin(), p.thr.end());
    p.thr.erase(std::unique(p.thr.begin(), p.thr.end()), p.thr.end());
    size_t nseg = p.thr.size() + 1;
    p.yn0.assign(nseg, 0);
    p.segK.assign(nseg, 0);
    p.e0max = 0;
    double series = 0;
    for (size_t q = 0; q < nseg; ++q) {
      uint64_t a = q == 0 ? p.xlo : p.thr[q - 1];
      uint64_t b = q + 1 < nseg ? p.thr[q] - 1 : p.xhi;
      int k = 63 - __builtin_clzll(a);
      int kp = rsqrt && ((frac - k) & 1) ? k - 1 : k;
      p.segK[q] = kp;
      double mlo = std::ldexp(double(a), -kp), mhi = std::ldexp(double(b), -kp);
      double y = 2 / (mlo + mhi);
      if (rsqrt)
        y = std::sqrt(y);
      p.yn0[q] = uint64_t(std::llround(std::ldexp(y, p.F)));
      double yq = std::ldexp(double(p.yn0[q]), -p.F);
      double pw = rsqrt ? yq * yq : yq;
      double e = std::max(std::fabs(1 - mlo * pw), std::fabs(1 - mhi * pw));
      p.e0max = std::max(p.e0max, e);
      series = std::max(series, p.coef[p.d + 1] * std::pow(e, p.d + 1) /
                                    std::max(1e-9, 1 - e));
    }
    p.maxRelErr = series + 4 * std::ldexp(1.0, -p.F);
    return series;
  };
  if (iters == 0) {
    build(backend.inverseSegments());
  } else {
    for (int S = 1;; S *= 2)
      if (build(S) <= std::ldexp(1.0, -(p.F + 1)) || S == 256)
        break;
  }
  // Bits folded into the right factor of each level's products: just
  // enough to make that level's coefficients exact (they are dyadic: 0 for
  // the reciprocal, 3 / 7 / 15 for rsqrt's levels 1 / 2 / 3), so that
  // |left * right| <= 2^(2F + A) e0^(h+1) keeps a margin below 2^62 for
  // inputs somewhat outside the range too.
  double lg = p.e0max > 0 ? std::log2(1 / p.e0max) : 64;
  for (int h = 1; h < p.d; h *= 2) {
    int A = 0;
    for (int i = h + 1; i <= 2 * h; ++i)
      while (std::ldexp(p.coef[i], A) != std::floor(std::ldexp(p.coef[i], A)))
        ++A;
    UMBRA_CHECK(2 * p.F + A - (h + 1) * lg <= 60,
                "internal: reciprocal/rsqrt level would overflow");
    p.levelA.push_back(A);
  }
  // Rescale exponents: output = Z * 2^ex (Z at F bits, input at frac bits,
  // output at outFrac bits).
  int exMin = 1 << 20;
  std::vector<int> ex(p.segK.size());
  for (size_t q = 0; q < ex.size(); ++q) {
    int kp = p.segK[q];
    ex[q] = rsqrt ? outFrac + (frac - kp) / 2 - p.F : outFrac + frac - kp - p.F;
    exMin = std::min(exMin, ex[q]);
  }
  p.R = std::max(0, -exMin);
  // The rescale product is the output times 2^R, largest at the bottom of
  // the range: it must stay below 2^61 (faithful truncation).
  double top = std::log2(rsqrt ? 1 / std::sqrt(std::ldexp(xlo, -frac))
                               : 1 / std::ldexp(xlo, -frac));
  UMBRA_CHECK(top + outFrac + p.R < 61, "reciprocal/rsqrt: ", outFrac,
              " output fractional bits overflow for inputs from ", lo);
  p.w.resize(ex.size());
  for (size_t q = 0; q < ex.size(); ++q)
    p.w[q] = uint64_t(1) << (ex[q] + p.R);
  return p;
}

static Vec inverseGate(Party &P, const Vec &x, const InvPlan &pl) {
  const size_t n = x.size(), Q = pl.thr.size();
  const int F = pl.F;
  Vec b = P.comparison().atLeast(P, x, pl.thr, pl.cmpBits);
  // Per-segment table -> shares of its entry for each element's segment.
  auto lin = [&](const std::vector<uint64_t> &v) {
    Vec o(n, P.p0() ? v[0] : 0);
    for (size_t e = 0; e < n; ++e)
      for (size_t q = 0; q < Q; ++q)
        o[e] += b[e * Q + q] * (v[q + 1] - v[q]);
    return o;
  };
  const size_t nseg = Q + 1;
  const double a1 = pl.coef[1];
  std::vector<uint64_t> v1(nseg), v2(nseg), v2h(nseg), y0(nseg), y0h(nseg);
  for (size_t q = 0; q < nseg; ++q) {
    double yq = std::ldexp(double(pl.yn0[q]), -F);
    double sh = pl.T - pl.segK[q];
    double pw = pl.rsqrt ? yq * yq : yq;
    v1[q] = uint64_t(std::llround(std::ldexp(pw, int(sh))));
    v2[q] = uint64_t(std::llround(std::ldexp(pw * yq, int(sh))));
    v2h[q] = uint64_t(std::llround(std::ldexp(a1 * pw * yq, int(sh))));
    y0[q] = pl.yn0[q];
    y0h[q] = uint64_t(std::llround(a1 * double(pl.yn0[q])));
  }
  Vec Y0 = lin(y0);
  // e0 = 1 - m y0^p, T1 = y0 e0, a1 T1 (rsqrt) in one product round.
  std::vector<Vec> ys = {lin(v1), lin(v2)};
  if (a1 != 1.0)
    ys.push_back(lin(v2h));
  std::vector<Vec> pr = mulShared1(P, x, ys);
  Vec cat;
  for (auto &v : pr)
    cat.insert(cat.end(), v.begin(), v.end());
  cat = trunc(P, cat, pl.T - F);
  Vec E1(n), T1(n), Z(n);
  Vec Y0h = a1 != 1.0 ? lin(y0h) : Y0;
  for (size_t i = 0; i < n; ++i) {
    E1[i] = (P.p0() ? uint64_t(1) << F : 0) - cat[i];
    T1[i] = Y0[i] - cat[n + i];
    uint64_t s1 = a1 != 1.0 ? Y0h[i] - cat[2 * n + i] : T1[i];
    Z[i] = Y0[i] + s1;
  }
  // Powers: Th = y0 e0^h, Pw[j] = e0^j.
  std::vector<Vec> Pw = {Vec(), E1};
  Vec Th = T1;
  int h = 1, lvl = 0;
  while (h < pl.d) {
    int m = std::min(h, pl.d - h);
    bool more = h + m < pl.d;
    int A = pl.levelA[lvl++];
    std::vector<std::pair<const Vec *, Vec>> lanes; // left, scaled right
    auto scaled = [&](const Vec &v, double c) {
      uint64_t ce = uint64_t(std::llround(std::ldexp(c, A)));
      Vec o(n);
      for (size_t i = 0; i < n; ++i)
        o[i] = v[i] * ce;
      return o;
    };
    for (int j = 1; j <= m; ++j)
      lanes.push_back({&Th, scaled(Pw[j], pl.coef[h + j])});
    bool reuse = more && pl.coef[h + m] == 1.0;
    if (more && !reuse)
      lanes.push_back({&Th, scaled(Pw[m], 1.0)});
    if (more)
      for (int j = 1; j <= m; ++j)
        lanes.push_back({&Pw[h], scaled(Pw[j], 1.0)});
    Vec l(lanes.size() * n), r(lanes.size() * n);
    for (size_t k = 0; k < lanes.size(); ++k)
      for (size_t i = 0; i < n; ++i) {
        l[k * n + i] = (*lanes[k].first)[i];
        r[k * n + i] = lanes[k].second[i];
      }
    Vec z = trunc(P, mul(P, l, r), F + A);
    for (int j = 1; j <= m; ++j)
      for (size_t i = 0; i < n; ++i)
        Z[i] += z[(j - 1) * n + i];
    if (more) {
      size_t o = size_t(m) + (reuse ? 0 : 1);
      Vec nt(z.begin() + (o - 1) * n, z.begin() + o * n);
      if (reuse)
        nt.assign(z.begin() + (m - 1) * n, z.begin() + m * n);
      for (int j = 1; j <= m; ++j)
        Pw.push_back(Vec(z.begin() + (o + j - 1) * n, z.begin() + (o + j) * n));
      Th = std::move(nt);
    }
    h += m;
  }
  Vec out = mul(P, Z, lin(pl.w));
  if (pl.R > 0)
    out = trunc(P, out, pl.R);
  return out;
}

Vec reciprocalGate(Party &P, const Vec &x, int f, double lo, double hi,
                   int iters, int outFrac) {
  return inverseGate(P, x,
                     planInverse(false, lo, hi, f, iters, P.cmp, outFrac));
}

Vec rsqrtGate(Party &P, const Vec &x, int f, double lo, double hi, int iters,
              int outFrac) {
  return inverseGate(P, x, planInverse(true, lo, hi, f, iters, P.cmp, outFrac));
}

} // namespace umbra::rt
