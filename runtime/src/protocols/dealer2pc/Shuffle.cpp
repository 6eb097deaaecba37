//===- Shuffle.cpp - Oblivious shuffle of shared rows ---------------------===//
//
// The building block of Comet's oblivious block-sparse FFN (issue 13,
// docs/protocols.md): the rows of a shared matrix permuted by
// pi = pi1 . pi0, where P0 alone knows pi0 and P1 alone knows pi1, so that
// to each server the permutation applied is uniform whatever it knows.
// Phase k applies pi_k (known to party k and the dealer, drawn from the
// words they share); o is the other party:
//   a       random words known to o and the dealer;
//   c       shares of pi_k(a), made by the dealer;
//   o -> k  z = x_o - a                   (uniform to k: a is unknown);
//   k       y_k = pi_k(x_k + z) + c_k = pi_k(x) - pi_k(a) + c_k;
//   o       y_o = c_o                     (uniform to o: c_k is unknown).
// Then both servers apply pi_c, drawn from a seed P0 sends P1 with its
// phase-1 message: the dealer knows pi1 . pi0 but not pi_c, so it too sees
// rows in an order unknown to it (the block-sparse FFN opens a permuted
// mask to all three roles).
// Cost: two rounds, one n*w-word message per round (plus P0's 2-word seed)
// and n*w correction words from the dealer per round.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/protocols/Dealer2pc.h"

#include <cstring>

namespace umbra::rt {

namespace {
/// A uniform permutation of n from random words (Fisher-Yates; the modulo
/// bias is below n / 2^64).
std::vector<uint32_t> permutationOf(const Vec &words, size_t n) {
  std::vector<uint32_t> p(n);
  for (size_t i = 0; i < n; ++i)
    p[i] = uint32_t(i);
  for (size_t i = n; i-- > 1;)
    std::swap(p[i], p[words[i] % (i + 1)]);
  return p;
}

/// out row i = in row p[i] (rows of `width` words).
Vec permuteRows(const Vec &in, const std::vector<uint32_t> &p, size_t width) {
  Vec out(in.size());
  for (size_t i = 0; i < p.size(); ++i)
    std::copy(in.begin() + p[i] * width, in.begin() + (p[i] + 1) * width,
              out.begin() + i * width);
  return out;
}
} // namespace

Vec shuffleRows(Party &P, const Vec &x, size_t rows, size_t width,
                ShufflePerms *perms) {
  UMBRA_CHECK(rows * width == x.size() && rows < (size_t(1) << 32),
              "shuffle: ", x.size(), " words are not ", rows, " rows of ",
              width);
  const size_t n = x.size();
  Vec y = x;
  Seed seedC{};
  std::vector<uint32_t> composed(rows);
  for (size_t i = 0; i < rows; ++i)
    composed[i] = uint32_t(i);
  for (int k = 0; k < 2; ++k) {
    const int o = 1 - k;
    Vec permWords = P.seedOf(k, rows); // at k and the dealer
    Vec a = P.seedOf(o, n);            // at o and the dealer
    std::vector<uint32_t> pk;
    if (!permWords.empty())
      pk = permutationOf(permWords, rows);
    Vec c = P.corr(n, [&] { return permuteRows(a, pk, width); });
    const bool iAmK = int(P.role) == k, iAmO = int(P.role) == o;
    // P0's phase-1 message carries the seed of pi_c.
    const size_t extra = k == 1 ? 2 : 0;
    Vec z(n + extra);
    if (iAmO) {
      for (size_t e = 0; e < n; ++e)
        z[e] = y[e] - a[e];
      if (extra) {
        Seed s = Prg::osSeed();
        std::memcpy(&z[n], s.data(), sizeof s);
        std::memcpy(seedC.data(), s.data(), sizeof s);
      }
      P.peerChannel().oneWay(FrameType::Share, true, z, n + extra);
      y = c;
    } else if (iAmK) {
      z = P.peerChannel().oneWay(FrameType::Share, false, {}, n + extra);
      if (extra)
        std::memcpy(seedC.data(), &z[n], sizeof seedC);
      z.resize(n);
      for (size_t e = 0; e < n; ++e)
        z[e] += y[e];
      y = permuteRows(z, pk, width);
      for (size_t e = 0; e < n; ++e)
        y[e] += c[e];
    } else {
      y.assign(n, 0); // the dealer: placeholders
    }
    if (perms && (iAmK || P.dealer()))
      (k == 0 ? perms->p0 : perms->p1) = pk;
    if (P.dealer()) {
      std::vector<uint32_t> next(rows);
      for (size_t i = 0; i < rows; ++i)
        next[i] = composed[pk[i]];
      composed = next;
    }
  }
  if (perms && P.dealer())
    perms->composed = composed;
  if (P.dealer())
    return y;
  Prg g(seedC);
  std::vector<uint32_t> pc = permutationOf(g.vec(rows), rows);
  if (perms)
    perms->pc = pc;
  return permuteRows(y, pc, width);
}

} // namespace umbra::rt
