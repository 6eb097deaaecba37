//===- Matmul.cpp - Matrix Beaver products and local products ------------===//
#include "umbra/runtime/Gemm.h"
#include "umbra/runtime/protocols/Dealer2pc.h"

namespace umbra::rt {

static void gemmBatched(const uint64_t *A, const uint64_t *B, uint64_t *C,
                        int64_t batch, int64_t n, int64_t k, int64_t m,
                        bool bBatched, bool acc) {
  if (!bBatched) {
    gemmRing(batch * n, m, k, A, k, B, m, C, m, acc);
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    gemmRing(n, m, k, A + b * n * k, k, B + b * k * m, m, C + b * n * m, m,
             acc);
}

Vec matmulLocal(const Vec &x, const Vec &w, int64_t batch, int64_t n, int64_t k,
                int64_t m, bool wBatched, bool dealer) {
  Vec z(size_t(batch * n * m), 0);
  if (!dealer)
    gemmBatched(x.data(), w.data(), z.data(), batch, n, k, m, wBatched, false);
  return z;
}

Vec weightShare(const Party &P, const Vec &maskShare, const uint64_t *opened) {
  Vec w = maskShare;
  if (P.p0())
    for (size_t i = 0; i < w.size(); ++i)
      w[i] += opened[i];
  return w;
}

void prepareMatmulMask(Party &P, const Vec &w, MatmulMask &m) {
  m.maskShare = P.randShared(w.size());
  Vec f(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    f[i] = w[i] - m.maskShare[i];
  m.opened = P.open(f);
  m.ready = true;
}

Vec matmulShared(Party &P, const Vec &x, const Vec &w, int64_t batch, int64_t n,
                 int64_t k, int64_t m, bool wBatched, const MatmulMask *mask,
                 LhsMask *lhs) {
  size_t nx = size_t(batch * n * k),
         nw = size_t((wBatched ? batch : 1) * k * m);
  size_t nz = size_t(batch * n * m);
  const bool reuse = lhs && lhs->ready();
  UMBRA_CHECK(!lhs || mask, "internal: a shared left mask needs a constant "
                            "right operand");
  Vec A = reuse ? lhs->A : P.randShared(nx);
  Vec Bfresh;
  const Vec *B;
  if (mask) {
    B = &mask->maskShare;
  } else {
    Bfresh = P.randShared(nw);
    B = &Bfresh;
  }
  Vec C = P.corr(nz, [&] {
    Vec c(nz, 0);
    gemmBatched(A.data(), B->data(), c.data(), batch, n, k, m, wBatched, false);
    return c;
  });
  Vec ef;
  if (reuse) {
    ef = lhs->E;
  } else {
    ef.resize(nx + (mask ? 0 : nw));
    for (size_t i = 0; i < nx; ++i)
      ef[i] = x[i] - A[i];
    if (!mask)
      for (size_t i = 0; i < nw; ++i)
        ef[nx + i] = w[i] - (*B)[i];
    ef = P.open(ef);
    if (lhs) {
      lhs->A = A;
      lhs->E = ef;
    }
  }
  if (P.dealer())
    return Vec(nz, 0);
  const uint64_t *E = ef.data();
  const uint64_t *F = mask ? mask->opened.data() : ef.data() + nx;
  // Z = C + E·(B_i [+ F at P0]) + A_i·F
  Vec Bp = weightShare(P, *B, F);
  Vec Z = std::move(C);
  gemmBatched(E, Bp.data(), Z.data(), batch, n, k, m, wBatched, true);
  gemmBatched(A.data(), F, Z.data(), batch, n, k, m, wBatched, true);
  return Z;
}

} // namespace umbra::rt
