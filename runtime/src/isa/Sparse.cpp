//===- Sparse.cpp - block_matmul, shuffle, and the live-block mask ---------===//
//
// Comet's block-sparse FFN (docs/sparsity.md): a deployment-time shuffle of
// the FFN's blocks (with a shared permutation matrix riding along), an
// opened permuted block mask, and products and gates that compute only the
// live blocks. The mask is public (known to P0, P1 and the dealer), so the
// cost of these rows depends on its number of live entries: `CostArgs::live`
// (unknown: every entry, the dense upper bound).
//
//===----------------------------------------------------------------------===//
#include "Rows.h"

namespace umbra::rt::isa {

void checkBlockMask(Op op, const SlotInfo &x, const SlotInfo &mask) {
  UMBRA_CHECK(mask.vis == Vis::Public && mask.frac == 0, opName(op),
              ": the block mask '", mask.name,
              "' must be public with 0 fractional bits");
  UMBRA_CHECK(!x.shape.empty() && !mask.shape.empty(), opName(op),
              ": a block mask needs operands of rank >= 1");
  int64_t nb = mask.shape.back(), width = x.shape.back();
  Shape lead(x.shape.begin(), x.shape.end() - 1);
  lead.push_back(nb);
  UMBRA_CHECK(nb > 0 && width % nb == 0 && mask.shape == lead, opName(op),
              ": block mask ", shapeStr(mask.shape),
              " does not split the last axis of ", shapeStr(x.shape),
              " into equal blocks");
}

Vec onLiveEntries(const ExecArgs &a, int maskOperand,
                  const std::function<Vec(const Vec &)> &fn) {
  const SlotInfo &x = *a.inSlot[0], &m = *a.inSlot[size_t(maskOperand)];
  int64_t width = x.shape.back(), rows = width ? x.numel / width : 0;
  std::vector<int64_t> idx =
      liveEntries(a.in(maskOperand), rows, m.shape.back(), width);
  const Vec &xv = a.in(0);
  Vec packed(idx.size());
  for (size_t i = 0; i < idx.size(); ++i)
    packed[i] = xv[size_t(idx[i])];
  Vec y = fn(packed), out(a.n(), 0);
  for (size_t i = 0; i < idx.size(); ++i)
    out[size_t(idx[i])] = y[i];
  return out;
}

std::vector<double> maskReal(std::vector<double> y, const SlotInfo &x,
                             const std::vector<double> &mask, int64_t nb) {
  int64_t width = x.shape.back(), B = width / nb;
  for (size_t e = 0; e < y.size(); ++e) {
    int64_t r = int64_t(e) / width, j = (int64_t(e) % width) / B;
    if (mask[size_t(r * nb + j)] == 0)
      y[e] = 0;
  }
  return y;
}

uint64_t liveOrAll(const CostArgs &a, uint64_t all) {
  return a.live < 0 ? all : uint64_t(a.live);
}

static int64_t rowsOf(const Shape &s) {
  return s.back() ? numel(s) / s.back() : 0;
}

static const OpRow kBlockMatmul{
    Op::BlockMatmul,
    3,
    3,
    false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const SlotInfo &x = *in[0], &w = *in[1], &m = *in[2];
      UMBRA_CHECK(x.vis == Vis::Shared && w.vis == Vis::Shared,
                  "block_matmul: x and the weight must be secret-shared");
      UMBRA_CHECK(x.shape.size() >= 2 && w.shape.size() == 2 &&
                      x.shape.back() == w.shape[0],
                  "block_matmul: ", shapeStr(x.shape), " x ",
                  shapeStr(w.shape), " is not [..., k] x [k, m]");
      SlotInfo o = like(x);
      o.shape.back() = w.shape[1];
      o.frac = x.frac + w.frac;
      checkBlockMask(Op::BlockMatmul,
                     at.AsBlockMatmul()->sparse_input ? x : o, m);
      return o;
    },
    [](const ExecArgs &a) {
      const Shape &xs = a.inSlot[0]->shape, &ws = a.inSlot[1]->shape;
      bool sparseInput = a.I.attrs.AsBlockMatmul()->sparse_input;
      MatmulMask fresh;
      const MatmulMask *wm = a.mask;
      if (!wm) { // a weight permuted per inference: its mask opens now
        prepareMatmulMask(a.P, a.in(1), fresh);
        wm = &fresh;
      }
      return ExecResult{blockMatmul(a.P, a.in(0), a.in(2), rowsOf(xs), ws[0],
                                    ws[1], a.inSlot[2]->shape.back(),
                                    sparseInput, *wm, a.lhs)};
    },
    [](const RealArgs &a) {
      const Shape &xs = a.inSlot[0]->shape, &ws = a.inSlot[1]->shape;
      int64_t rows = rowsOf(xs), k = ws[0], m = ws[1],
              nb = a.inSlot[2]->shape.back();
      bool sparseInput = a.I.attrs.AsBlockMatmul()->sparse_input;
      std::vector<double> x = *a.in[0];
      if (sparseInput)
        x = maskReal(x, *a.inSlot[0], *a.in[2], nb);
      std::vector<double> out(size_t(rows * m), 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t kk = 0; kk < k; ++kk) {
          double v = x[size_t(r * k + kk)];
          for (int64_t j = 0; j < m; ++j)
            out[size_t(r * m + j)] += v * (*a.in[1])[size_t(kk * m + j)];
        }
      return sparseInput ? out : maskReal(out, a.out, *a.in[2], nb);
    },
    [](const CostArgs &a, CostAcc &c) {
      const Shape &xs = a.inSlot[0]->shape, &ws = a.inSlot[1]->shape;
      bool sparseInput = a.I.attrs.AsBlockMatmul()->sparse_input;
      uint64_t rows = rowsOf(xs), k = ws[0], m = ws[1];
      if (!a.constRhs) { // prepareMatmulMask online
        cost::open(c, k * m);
      }
      if (sparseInput) {
        cost::corr(c, rows * m);
        cost::open(c, liveOrAll(a, rows * k));
      } else {
        cost::corr(c, liveOrAll(a, rows * m));
        if (!a.sharedLhs)
          cost::open(c, rows * k);
      }
    }};

static const OpRow kShuffle{
    Op::Shuffle,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *) {
      UMBRA_CHECK(in[0]->vis == Vis::Shared && in[0]->shape.size() == 2,
                  "shuffle: the operand must be a secret-shared matrix");
      return like(*in[0]);
    },
    [](const ExecArgs &a) {
      const Shape &s = a.inSlot[0]->shape;
      return ExecResult{
          shuffleRows(a.P, a.in(0), size_t(s[0]), size_t(s[1]))};
    },
    // The float reference applies the identity: what a shuffle feeds (a
    // block-sparse FFN and its permuted mask) does not depend on it.
    [](const RealArgs &a) { return *a.in[0]; },
    [](const CostArgs &a, CostAcc &c) {
      uint64_t n = a.out.numel;
      cost::corr(c, n);
      cost::oneWay(c, n);
      cost::corr(c, n);
      cost::oneWay(c, n + 2); // P0's message carries the seed of pi_c
    }};

const std::vector<OpRow> &sparseRows() {
  static const std::vector<OpRow> rows{kBlockMatmul, kShuffle};
  return rows;
}

} // namespace umbra::rt::isa
