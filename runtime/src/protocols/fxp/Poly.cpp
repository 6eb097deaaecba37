//===- Poly.cpp - Polynomials by Paterson-Stockmeyer ---------------------===//
#include "umbra/runtime/protocols/Fxp.h"

#include <algorithm>

namespace umbra::rt {

Vec polyGate(Party &P, const Vec &x, int f, const std::vector<double> &c) {
  // Paterson-Stockmeyer: with k baby powers x..x^k and y = x^k,
  //   p(x) = q_0(x) + y (q_1(x) + y (q_2(x) + ...)),  deg q_j < k,
  // costs k - 1 + ceil((d + 1) / k) - 1 products instead of d - 1. k is the
  // smallest power of two >= sqrt(d + 1) (so the baby powers take log2 k
  // rounds), or d itself when that leaves no giant step.
  size_t n = x.size();
  int d = int(c.size()) - 1;
  if (d <= 0) {
    Vec out(n, 0);
    addConst(P, out, d == 0 ? c[0] : 0.0, f);
    return out;
  }
  int k = 1;
  while (k * k < d + 1)
    k *= 2;
  if (k >= d - 1)
    k = d;
  std::vector<Vec> pw(k + 1);
  pw[1] = x;
  for (int have = 1; have < k;) {
    // pw[have + j] = pw[have] * pw[j], j = 1..m: one round of products and
    // one of truncation.
    int m = std::min(have, k - have);
    std::vector<Factors> pairs;
    for (int j = 1; j <= m; ++j)
      pairs.push_back({&pw[have], &pw[j]});
    std::vector<Vec> z = products(P, pairs);
    Vec all;
    for (const Vec &v : z)
      all.insert(all.end(), v.begin(), v.end());
    all = trunc(P, all, f);
    for (int j = 1; j <= m; ++j)
      pw[have + j].assign(all.begin() + (j - 1) * n, all.begin() + j * n);
    have += m;
  }
  // q_j(x) at 2f bits (local), c_0 of the block encoded at 2f.
  auto block = [&](int j) {
    Vec acc(n, 0);
    for (int i = 1; i < k && j * k + i <= d; ++i) {
      uint64_t ce = encodeFixed(c[j * k + i], f);
      for (size_t e = 0; e < n; ++e)
        acc[e] += ce * pw[i][e];
    }
    addConst(P, acc, c[j * k], 2 * f);
    return acc;
  };
  int giant = d / k; // index of the last block
  if (giant == 1 && k == d) {
    // No giant step (k = d): q_0 + c_d x^d, one truncation.
    Vec acc = block(0);
    uint64_t ce = encodeFixed(c[d], f);
    for (size_t e = 0; e < n; ++e)
      acc[e] += ce * pw[d][e];
    return trunc(P, acc, f);
  }
  Vec acc = trunc(P, block(giant), f);
  for (int j = giant - 1; j >= 0; --j) {
    Vec z = std::move(products(P, {{&pw[k], &acc}})[0]);
    Vec q = block(j);
    for (size_t e = 0; e < n; ++e)
      z[e] += q[e];
    acc = trunc(P, z, f);
  }
  return acc;
}

} // namespace umbra::rt
