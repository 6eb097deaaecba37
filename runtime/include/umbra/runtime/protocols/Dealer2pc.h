//===- Dealer2pc.h - 2PC + dealer gates over Z_2^64 ------------*- C++ -*-===//
//
// The gates of the 2PC + dealer backend: sharing and opening, Beaver and
// matrix Beaver products, faithful truncation, select, and the nonlinear
// gates built on the session's Comparison (Comparison.h). Costs per element
// are in docs/protocols.md and are checked exactly by ProtocolTest.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Program.h"
#include "umbra/runtime/protocols/Party.h"
#include <utility>

namespace umbra::rt {

// -- linear ---------------------------------------------------------------
/// Secret-shares `plain` (meaningful at `owner` only; n elements).
Vec shareInput(Party &P, Role owner, const Vec &plain, size_t n);
/// Opens to `to` (P0, P1 or both). Non-recipients get an empty vector.
Vec reveal(Party &P, const Vec &share, RevealTo to);
/// Adds a public vector to a sharing (P0's share absorbs it).
void addPublic(Party &P, Vec &share, const Vec &pub);
/// Adds the fixed-point constant c (at f fractional bits) to a sharing.
void addConst(Party &P, Vec &x, double c, int f);

// -- oblivious shuffle (Shuffle.cpp) --------------------------------------
/// The permutations of a shuffle as each role knows them (for tests): P0
/// gets p0 and pc, P1 gets p1 and pc, the dealer p0, p1 and `composed`
/// (composed[i] = p0[p1[i]]); out row i = in row composed[pc[i]].
struct ShufflePerms {
  std::vector<uint32_t> p0, p1, composed, pc;
};
/// Shares of the `rows` rows (of `width` words) of shared x permuted by
/// pi_c . pi1 . pi0: pi0 known to P0 and the dealer, pi1 to P1 and the
/// dealer, pi_c to P0 and P1; so no role knows it alone. Two rounds.
Vec shuffleRows(Party &P, const Vec &x, size_t rows, size_t width,
                ShufflePerms *perms = nullptr);

// -- block sparsity (BlockSparse.cpp) ------------------------------------
struct MatmulMask;
struct LhsMask;
/// Per block j of a public 0/1 mask [rows, nb]: the rows where it is live
/// (throws on a value other than 0 or 1).
std::vector<std::vector<int64_t>> liveRowsPerBlock(const Vec &mask,
                                                   int64_t rows, int64_t nb);
/// The flat indices of the entries of a [rows, width] tensor in live
/// blocks (blocks of width / nb along the last axis), row by row.
std::vector<int64_t> liveEntries(const Vec &mask, int64_t rows, int64_t nb,
                                 int64_t width);
/// Shared x [rows, k] times the deployment constant W [k, m] whose mask is
/// `wm`, on the live blocks only: of the output's columns (sparse output;
/// the other columns are 0), or of x's entries (sparse input). Opens x - A
/// on the entries read; one round.
/// `lhs` (sparse output only): x's opened mask shared with other products
/// of x (see LhsMask).
Vec blockMatmul(Party &P, const Vec &x, const Vec &mask, int64_t rows,
                int64_t k, int64_t m, int64_t nb, bool sparseInput,
                const MatmulMask &wm, LhsMask *lhs = nullptr);

// -- multiplication -------------------------------------------------------
Vec mul(Party &P, const Vec &x, const Vec &y);
/// x² with a square pair (a, a²): opens only x − a (16 B, 1 round).
Vec square(Party &P, const Vec &x);
/// Products x * y of several pairs in one round: a pair whose factors are
/// the same vector is a square and opens one masked value, any other pair
/// two (Beaver).
using Factors = std::pair<const Vec *, const Vec *>;
std::vector<Vec> products(Party &P, const std::vector<Factors> &pairs);
/// x times several shared vectors, opening x - a once (one round).
std::vector<Vec> mulShared1(Party &P, const Vec &x, const std::vector<Vec> &ys);
/// Mask of a constant right operand, opened once per deployment.
struct MatmulMask {
  Vec maskShare; // dealer: the full mask
  Vec opened;    // W - mask (public)
  bool ready = false;
};
void prepareMatmulMask(Party &P, const Vec &w, MatmulMask &m);
/// This party's share of W = B + F from its share of the mask B and the
/// opened F (P0 adds F): the Beaver product's E (B_i [+ F at P0]) term.
Vec weightShare(const Party &P, const Vec &maskShare, const uint64_t *opened);
/// The Beaver mask A of a left operand x and its opening E = x - A, kept so
/// that other products of the same x with constant weights (a predictor and
/// its FFN, a gated FFN's gate and up projections) open nothing: each
/// product has its own weight mask B and correlation A B, so E is the only
/// value the products share, as if one product with [W1 | W2]. Empty: not
/// opened yet (the product opens it and fills it in). The dealer keeps A.
struct LhsMask {
  Vec A, E;
  bool ready() const { return !A.empty() || !E.empty(); }
};
/// Shared X[batch][n][k] times shared W[k][m] (wBatched: W[batch][k][m]).
/// With `mask` (constant W), only X - A is opened; with `lhs` ready, not
/// even that.
Vec matmulShared(Party &P, const Vec &x, const Vec &w, int64_t batch, int64_t n,
                 int64_t k, int64_t m, bool wBatched,
                 const MatmulMask *mask = nullptr, LhsMask *lhs = nullptr);
/// Local product (either operand public): shares times public or public×public.
Vec matmulLocal(const Vec &x, const Vec &w, int64_t batch, int64_t n, int64_t k,
                int64_t m, bool wBatched, bool dealer);

// -- truncation -----------------------------------------------------------
/// Faithful truncation by `bits`: result is floor(x / 2^bits) or that + 1
/// (never a wrap error) for |x| < 2^62. One round, 16 B online per element.
Vec trunc(Party &P, const Vec &x, int bits);

// -- comparison-based gates (through P.comparison()) ------------------------
/// With bits < 64 only the low `bits` bits are compared: exact when
/// |x| < 2^(bits-1) (the compiler's range analysis supplies the width).
Vec drelu(Party &P, const Vec &x, int bits = 64); // 1{x >= 0}
Vec ltz(Party &P, const Vec &x, int bits = 64);   // 1{x < 0}
Vec relu(Party &P, const Vec &x, int bits = 64);
/// c ? a : b with c an arithmetic 0/1 sharing.
Vec select(Party &P, const Vec &c, const Vec &a, const Vec &b);
/// Max (and optionally argmax) over rows of length `len`.
void maxRows(Party &P, const Vec &x, int64_t rows, int64_t len, Vec *maxOut,
             Vec *argOut, int bits = 64);

// -- boolean sharings -----------------------------------------------------
/// Boolean to arithmetic (one round).
Vec b2a(Party &P, const Vec &bits, size_t n);
/// bits[e] * x[e] for XOR-shared bits and additive x, one round.
Vec bitMul(Party &P, const Vec &bits, const Vec &x);
/// Bit packing: element e is bit e%64 of word e/64.
Vec packBits(const std::vector<uint8_t> &b);
std::vector<uint8_t> unpackBits(const Vec &w, size_t n);

} // namespace umbra::rt
