//===- Fxp.h - Fixed-point functions over the gates ------------*- C++ -*-===//
//
// exp, polynomials (Paterson–Stockmeyer) and reciprocal / rsqrt, written
// once over the products, truncation and the session's Comparison, so a
// new comparison backend changes none of them. frac = P.frac unless given.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/protocols/Dealer2pc.h"

namespace umbra::rt {

/// exp(x) ~ (1 + x/2^t)^(2^t), clamped at 0 for x < -2^t. `bits`: width of
/// the clamp comparison (exact for |1 + x/2^t| < 2^(bits-1-frac)).
Vec expGate(Party &P, const Vec &x, int frac, int t, int bits = 64);
Vec polyGate(Party &P, const Vec &x, int frac, const std::vector<double> &c);
/// 1/x and 1/sqrt(x) for x in [lo, hi] with `frac` fractional bits; the
/// result has `outFrac` (default: frac).
Vec reciprocalGate(Party &P, const Vec &x, int frac, double lo, double hi,
                   int iters, int outFrac = -1);
Vec rsqrtGate(Party &P, const Vec &x, int frac, double lo, double hi,
              int iters, int outFrac = -1);

/// Reciprocal / rsqrt plan for a stated input range (exposed for docs and
/// tests; construction and costs in docs/protocols.md). `iters` is the
/// number L of product levels of the residual series (degree d = 2^L);
/// 0 picks the comparison backend's defaults (L = 2, S = 16 for dcf; L = 3,
/// S = 4 for bits) with S segments per binade; a given L picks the smallest
/// S that meets 2^-(F+1).
struct InvPlan {
  bool rsqrt = false;
  int frac = 0, outFrac = 0; // input and output fractional bits
  uint64_t xlo = 0, xhi = 0; // integer input range
  int jlo = 0, jhi = 0;      // binades of xlo, xhi
  int S = 0, L = 0, d = 0;   // segments per binade, levels, series degree
  int cmpBits = 64;          // DCF comparison width (exact below 2^(jhi+3))
  int F = 0, T = 0, R = 0;   // internal bits, X*table scale, rescale shift
  std::vector<uint64_t> thr; // thresholds (Q of them, ascending)
  std::vector<int> segK;     // per segment: normalising exponent k'
  std::vector<uint64_t> yn0; // per segment: start at F bits
  std::vector<uint64_t> w;   // per segment: rescale 2^(ex + R)
  std::vector<double> coef;  // series coefficients a_0..a_{d+1}
  std::vector<int> levelA;   // extra bits in each level's products
  double e0max = 0;          // max |e0| over the range
  double maxRelErr = 0;      // predicted relative error (plus 1 LSB)
};
InvPlan planInverse(bool rsqrt, double lo, double hi, int frac, int iters,
                    Cmp cmp, int outFrac = -1);

} // namespace umbra::rt
