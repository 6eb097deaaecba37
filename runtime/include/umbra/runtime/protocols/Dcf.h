//===- Dcf.h - Distributed comparison functions ----------------*- C++ -*-===//
//
// The function-secret-sharing primitive of the DCF comparison backend
// (src/protocols/dealer2pc/cmp/Dcf.cpp), exposed for the reciprocal's
// thresholds and for tests.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/protocols/Party.h"

namespace umbra::rt {

/// Distributed comparison function (Boyle et al., Eurocrypt 2021, Fig. 1)
/// over `nbits`-bit inputs with `np` payload words: the parties get
/// additive shares of beta_e * 1{x_e < alpha_e} for each element e, where
/// alpha/beta are dealer values (computed on the dealer by `alpha`/`beta`)
/// and x is public to both parties. No communication; the dealer sends the
/// correction words to both parties. With pts > 1 there are
/// x.size() / pts keys and key e is evaluated at the pts public points
/// x[e*pts .. e*pts + pts) (one key answers several thresholds against the
/// same masked value; alpha/beta have one entry per key).
std::vector<Vec> dcfLessThan(Party &P, const Vec &x, int nbits, int np,
                             const std::function<Vec()> &alpha,
                             const std::function<std::vector<Vec>()> &beta,
                             size_t pts = 1);
/// DReLU and ReLU in one round through a DCF on the masked input (valid
/// for |x| < 2^(bits-1)); wantRelu also returns ReLU(x).
void dcfSign(Party &P, const Vec &x, int bits, Vec *dreluOut, Vec *reluOut);

} // namespace umbra::rt
