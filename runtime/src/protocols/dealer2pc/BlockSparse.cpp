//===- BlockSparse.cpp - Products restricted to live blocks ---------------===//
//
// The block-sparse FFN of Comet (docs/sparsity.md): after the permuted
// block mask is opened (to P0, P1 and the dealer), each product computes
// only the live blocks. The right operand is a deployment constant W whose
// mask B was opened once (F = W - B public), so for a Beaver pair (A, C):
//   x W = (x - A)(B + F) + A F + A B,   C = A B restricted to live blocks,
// and only x - A on the entries that are read is opened. Every role knows
// the mask, so the dealer makes exactly the material of the live blocks.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/Gemm.h"
#include "umbra/runtime/protocols/Dealer2pc.h"

namespace umbra::rt {

/// Throws unless `mask` is rows x nb values of 0 or 1.
static void checkMask(const Vec &mask, int64_t rows, int64_t nb) {
  UMBRA_CHECK(int64_t(mask.size()) == rows * nb, "block mask: ", mask.size(),
              " values for ", rows, " rows of ", nb, " blocks");
  for (size_t i = 0; i < mask.size(); ++i)
    UMBRA_CHECK(mask[i] <= 1, "block mask: value ", int64_t(mask[i]),
                " at row ", int64_t(i) / nb, " block ", int64_t(i) % nb,
                " is not 0 or 1");
}

std::vector<std::vector<int64_t>> liveRowsPerBlock(const Vec &mask,
                                                   int64_t rows, int64_t nb) {
  checkMask(mask, rows, nb);
  std::vector<std::vector<int64_t>> live(static_cast<size_t>(nb));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < nb; ++j)
      if (mask[size_t(r * nb + j)])
        live[size_t(j)].push_back(r);
  return live;
}

std::vector<int64_t> liveEntries(const Vec &mask, int64_t rows, int64_t nb,
                                 int64_t width) {
  UMBRA_CHECK(nb > 0 && width % nb == 0, "block mask: ", nb,
              " blocks do not divide a last dimension of ", width);
  checkMask(mask, rows, nb);
  const int64_t B = width / nb;
  std::vector<int64_t> idx;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < nb; ++j)
      if (mask[size_t(r * nb + j)])
        for (int64_t e = 0; e < B; ++e)
          idx.push_back(r * width + j * B + e);
  return idx;
}

namespace {
/// Rows `rs` of the row-major [*, cols] matrix x, columns [c0, c0 + w).
Vec gatherRows(const uint64_t *x, int64_t cols, const std::vector<int64_t> &rs,
               int64_t c0, int64_t w) {
  Vec g(rs.size() * size_t(w));
  for (size_t i = 0; i < rs.size(); ++i)
    std::copy(x + rs[i] * cols + c0, x + rs[i] * cols + c0 + w,
              g.begin() + i * w);
  return g;
}

/// The block-sparse product of X (rows x k) and the row-major k x m matrix
/// W, accumulated into Z (rows x m): sparse output computes the live column
/// blocks of each row, sparse input reads the live entry blocks of each
/// row. X is dense [rows, k] for sparse output, and packed (the live
/// entries, in liveEntries order) for sparse input.
void blockProduct(const uint64_t *X, const uint64_t *W, uint64_t *Z,
                  int64_t rows, int64_t k, int64_t m, int64_t nb,
                  bool sparseInput, const std::vector<std::vector<int64_t>> &live,
                  const std::vector<int64_t> &packedOffset) {
  // Mostly live: one dense product (the fast GEMM) beats nb small ones;
  // only the live entries are kept.
  size_t pairs = 0;
  for (const auto &rs : live)
    pairs += rs.size();
  if (2 * pairs >= size_t(rows * nb)) {
    const int64_t width = sparseInput ? k : m, B = width / nb;
    Vec x(size_t(rows * k), 0), z(size_t(rows * m));
    if (sparseInput) {
      for (int64_t j = 0; j < nb; ++j)
        for (int64_t r : live[size_t(j)])
          std::copy(X + packedOffset[size_t(r * nb + j)],
                    X + packedOffset[size_t(r * nb + j)] + B,
                    x.begin() + r * k + j * B);
    } else {
      std::copy(X, X + rows * k, x.begin());
    }
    gemmRing(rows, m, k, x.data(), k, W, m, z.data(), m);
    if (sparseInput) {
      for (size_t i = 0; i < z.size(); ++i)
        Z[i] += z[i];
    } else {
      for (int64_t j = 0; j < nb; ++j)
        for (int64_t r : live[size_t(j)])
          for (int64_t e = 0; e < B; ++e)
            Z[r * m + j * B + e] += z[size_t(r * m + j * B + e)];
    }
    return;
  }
  if (!sparseInput) {
    const int64_t B = m / nb;
    for (int64_t j = 0; j < nb; ++j) {
      const auto &rs = live[size_t(j)];
      if (rs.empty())
        continue;
      Vec xj = gatherRows(X, k, rs, 0, k), zj(rs.size() * size_t(B));
      gemmRing(int64_t(rs.size()), B, k, xj.data(), k, W + j * B, m, zj.data(),
               B);
      for (size_t i = 0; i < rs.size(); ++i)
        for (int64_t e = 0; e < B; ++e)
          Z[rs[i] * m + j * B + e] += zj[i * B + e];
    }
    return;
  }
  const int64_t B = k / nb;
  for (int64_t j = 0; j < nb; ++j) {
    const auto &rs = live[size_t(j)];
    if (rs.empty())
      continue;
    // This block's packed entries of each live row.
    Vec xj(rs.size() * size_t(B));
    for (size_t i = 0; i < rs.size(); ++i) {
      int64_t off = packedOffset[size_t(rs[i] * nb + j)];
      std::copy(X + off, X + off + B, xj.begin() + i * B);
    }
    Vec zj(rs.size() * size_t(m));
    gemmRing(int64_t(rs.size()), m, B, xj.data(), B, W + j * B * m, m,
             zj.data(), m);
    for (size_t i = 0; i < rs.size(); ++i)
      for (int64_t e = 0; e < m; ++e)
        Z[rs[i] * m + e] += zj[i * m + e];
  }
}
} // namespace

Vec blockMatmul(Party &P, const Vec &x, const Vec &mask, int64_t rows,
                int64_t k, int64_t m, int64_t nb, bool sparseInput,
                const MatmulMask &wm, LhsMask *lhs) {
  UMBRA_CHECK(!lhs || !sparseInput,
              "internal: a sparse-input product opens its own entries");
  const bool reuse = lhs && lhs->ready();
  const int64_t width = sparseInput ? k : m;
  UMBRA_CHECK(nb > 0 && width % nb == 0, "block_matmul: ", nb,
              " blocks do not divide ", width);
  auto live = liveRowsPerBlock(mask, rows, nb);
  // Sparse input: only the live entries of x are opened (packed).
  std::vector<int64_t> entries, offset;
  if (sparseInput) {
    entries = liveEntries(mask, rows, nb, k);
    offset.assign(size_t(rows * nb), -1);
    const int64_t B = k / nb;
    int64_t pos = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < nb; ++j)
        if (mask[size_t(r * nb + j)]) {
          offset[size_t(r * nb + j)] = pos;
          pos += B;
        }
  }
  const size_t nx = sparseInput ? entries.size() : size_t(rows * k);
  const size_t nz = size_t(rows * m);
  Vec A = reuse ? lhs->A : P.randShared(nx);
  // C = A B on the live blocks (all of Z's entries with sparse input, whose
  // inactive inputs contribute nothing; the live columns with sparse
  // output, packed).
  std::vector<int64_t> outLive;
  if (!sparseInput)
    outLive = liveEntries(mask, rows, nb, m);
  auto liveOut = [&](const Vec &full) {
    if (sparseInput)
      return full;
    Vec packed(outLive.size());
    for (size_t i = 0; i < outLive.size(); ++i)
      packed[i] = full[size_t(outLive[i])];
    return packed;
  };
  const size_t nc = sparseInput ? nz : outLive.size();
  Vec C = P.corr(nc, [&] {
    Vec c(nz, 0);
    blockProduct(A.data(), wm.maskShare.data(), c.data(), rows, k, m, nb,
                 sparseInput, live, offset);
    return liveOut(c);
  });
  Vec e;
  if (reuse) {
    e = lhs->E;
  } else {
    e.resize(nx);
    for (size_t i = 0; i < nx; ++i)
      e[i] = (sparseInput ? x[size_t(entries[i])] : x[i]) - A[i];
    e = P.open(e);
    if (lhs) {
      lhs->A = A;
      lhs->E = e;
    }
  }
  if (P.dealer())
    return Vec(nz, 0);
  // Z = C + E (B_i [+ F at P0]) + A_i F, on the live blocks.
  Vec Bp = weightShare(P, wm.maskShare, wm.opened.data());
  Vec Z(nz, 0);
  blockProduct(e.data(), Bp.data(), Z.data(), rows, k, m, nb, sparseInput,
               live, offset);
  blockProduct(A.data(), wm.opened.data(), Z.data(), rows, k, m, nb,
               sparseInput, live, offset);
  if (sparseInput) {
    for (size_t i = 0; i < nz; ++i)
      Z[i] += C[i];
  } else {
    for (size_t i = 0; i < outLive.size(); ++i)
      Z[size_t(outLive[i])] += C[i];
  }
  return Z;
}

} // namespace umbra::rt
