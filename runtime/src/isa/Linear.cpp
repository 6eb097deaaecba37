//===- Linear.cpp - add, sub, neg, mul, matmul, scale, trunc --------------===//
//
// Exact ring arithmetic. On shares only products and truncation talk;
// everything else is local (P0 absorbs public terms).
//
//===----------------------------------------------------------------------===//
#include "Rows.h"

#include <algorithm>
#include <cmath>

namespace umbra::rt::isa {

static bool anyShared(const CostArgs &a) {
  return std::any_of(a.inSlot.begin(), a.inSlot.end(),
                     [](const SlotInfo *s) { return s->vis == Vis::Shared; });
}
static bool allShared(const CostArgs &a) {
  return std::all_of(a.inSlot.begin(), a.inSlot.end(),
                     [](const SlotInfo *s) { return s->vis == Vis::Shared; });
}

static SlotInfo elementwise(Op op, const Ins &in) {
  SlotInfo o;
  o.shape = broadcastShapes(in[0]->shape, in[1]->shape);
  o.vis = joinOperands(op, in);
  if (op == Op::Mul) {
    o.frac = in[0]->frac + in[1]->frac;
  } else {
    UMBRA_CHECK(in[0]->frac == in[1]->frac, opName(op),
                ": fractional bits differ (", in[0]->frac, " vs ", in[1]->frac,
                ")");
    o.frac = in[0]->frac;
  }
  return o;
}

template <bool Sub> static ExecResult addSub(const ExecArgs &a) {
  Vec av = bcast(a.in(0), a.inSlot[0]->shape, a.out.shape);
  Vec bv = bcast(a.in(1), a.inSlot[1]->shape, a.out.shape);
  bool aS = a.shared(0), bS = a.shared(1);
  // A public operand is added by P0 only.
  bool useA = aS || a.P.p0() || !bS, useB = bS || a.P.p0() || !aS;
  Vec z(a.n());
  for (size_t i = 0; i < z.size(); ++i) {
    uint64_t x = useA ? av[i] : 0, y = useB ? bv[i] : 0;
    z[i] = Sub ? x - y : x + y;
  }
  return {std::move(z)};
}

template <typename F>
static std::vector<double> binaryReal(const RealArgs &a, F f) {
  auto x = bcast(*a.in[0], a.inSlot[0]->shape, a.out.shape);
  auto y = bcast(*a.in[1], a.inSlot[1]->shape, a.out.shape);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = f(x[i], y[i]);
  return x;
}

template <Op O>
static SlotInfo elementwiseRule(const Attrs &, const Ins &in,
                                const SlotInfo *) {
  return elementwise(O, in);
}
template <double (*F)(double, double)>
static std::vector<double> binary(const RealArgs &a) {
  return binaryReal(a, F);
}
static double plus(double x, double y) { return x + y; }
static double minus(double x, double y) { return x - y; }
static double times(double x, double y) { return x * y; }
static const OpRow kAdd{
    Op::Add,      2,      2, false, elementwiseRule<Op::Add>, addSub<false>,
    binary<plus>, nullptr};
static const OpRow kSub{
    Op::Sub,       2,      2, false, elementwiseRule<Op::Sub>, addSub<true>,
    binary<minus>, nullptr};

static const OpRow kNeg{
    Op::Neg,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *) { return like(*in[0]); },
    [](const ExecArgs &a) {
      Vec z = a.in(0);
      for (auto &v : z)
        v = -v;
      return ExecResult{std::move(z)};
    },
    [](const RealArgs &a) { return unaryReal(a, [](double x) { return -x; }); },
    nullptr};

static const OpRow kMul{Op::Mul,
                        2,
                        2,
                        false,
                        elementwiseRule<Op::Mul>,
                        [](const ExecArgs &a) {
                          Vec av =
                              bcast(a.in(0), a.inSlot[0]->shape, a.out.shape);
                          Vec bv =
                              bcast(a.in(1), a.inSlot[1]->shape, a.out.shape);
                          if (a.shared(0) && a.shared(1))
                            return ExecResult{mul(a.P, av, bv)};
                          for (size_t i = 0; i < av.size(); ++i)
                            av[i] *= bv[i];
                          return ExecResult{std::move(av)};
                        },
                        binary<times>,
                        [](const CostArgs &a, CostAcc &c) {
                          if (allShared(a))
                            cost::mul(c, a.out.numel);
                        }};

/// Matmul dimensions: batch, n, k, m and whether the right operand is
/// batched.
struct MatDims {
  int64_t batch, n, k, m;
  bool wB;
};
static MatDims matDims(const Shape &as, const Shape &bs) {
  int64_t n = as[as.size() - 2], k = as.back(), m = bs.back();
  int64_t batch = n * k ? numel(as) / (n * k) : 0;
  return {batch, n, k, m, bs.size() > 2};
}

static const OpRow kMatmul{
    Op::Matmul,
    2,
    2,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *) {
      const Shape &a = in[0]->shape, &b = in[1]->shape;
      UMBRA_CHECK(a.size() >= 2 && b.size() >= 2,
                  "matmul: operands must have rank >= 2");
      UMBRA_CHECK(a.back() == b[b.size() - 2], "matmul: inner dimensions ",
                  shapeStr(a), " x ", shapeStr(b), " differ");
      if (b.size() > 2)
        UMBRA_CHECK(a.size() == b.size() &&
                        std::equal(a.begin(), a.end() - 2, b.begin()),
                    "matmul: batch dimensions ", shapeStr(a), " x ",
                    shapeStr(b), " differ");
      SlotInfo o;
      o.shape = a;
      o.shape.back() = b.back();
      o.vis = joinOperands(Op::Matmul, in);
      o.frac = in[0]->frac + in[1]->frac;
      return o;
    },
    [](const ExecArgs &a) {
      MatDims d = matDims(a.inSlot[0]->shape, a.inSlot[1]->shape);
      if (a.shared(0) && a.shared(1))
        return ExecResult{matmulShared(a.P, a.in(0), a.in(1), d.batch, d.n, d.k,
                                       d.m, d.wB, a.mask, a.lhs)};
      return ExecResult{matmulLocal(a.in(0), a.in(1), d.batch, d.n, d.k, d.m,
                                    d.wB, a.P.dealer())};
    },
    [](const RealArgs &a) {
      MatDims d = matDims(a.inSlot[0]->shape, a.inSlot[1]->shape);
      const auto &A = *a.in[0], &B = *a.in[1];
      std::vector<double> out(size_t(a.out.numel), 0.0);
      for (int64_t b = 0; b < d.batch; ++b)
        for (int64_t i = 0; i < d.n; ++i)
          for (int64_t kk = 0; kk < d.k; ++kk) {
            double x = A[(b * d.n + i) * d.k + kk];
            const double *brow = &B[((d.wB ? b : 0) * d.k + kk) * d.m];
            double *orow = &out[(b * d.n + i) * d.m];
            for (int64_t j = 0; j < d.m; ++j)
              orow[j] += x * brow[j];
          }
      return out;
    },
    [](const CostArgs &a, CostAcc &c) {
      if (!allShared(a))
        return;
      MatDims d = matDims(a.inSlot[0]->shape, a.inSlot[1]->shape);
      // Opens X - A (unless an earlier product of X did) and W - B (unless
      // W's mask was opened at deployment).
      uint64_t nx = d.batch * d.n * d.k, nw = (d.wB ? d.batch : 1) * d.k * d.m;
      cost::corr(c, d.batch * d.n * d.m);
      uint64_t opened = (a.sharedLhs ? 0 : nx) + (a.constRhs ? 0 : nw);
      if (opened || !a.sharedLhs)
        cost::open(c, opened);
    }};

static const OpRow kScale{
    Op::Scale,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *declared) {
      SlotInfo o = like(*in[0]);
      if (declared)
        o.frac = declared->frac;
      return o;
    },
    [](const ExecArgs &a) {
      Vec z = a.in(0);
      uint64_t f = uint64_t(a.I.attrs.AsScale()->factor);
      for (auto &v : z)
        v *= f;
      return ExecResult{std::move(z)};
    },
    [](const RealArgs &a) {
      double f = double(a.I.attrs.AsScale()->factor) *
                 std::ldexp(1.0, a.inSlot[0]->frac - a.out.frac);
      return unaryReal(a, [f](double x) { return x * f; });
    },
    nullptr};

/// With a second operand (a live-block mask), only the live blocks are
/// truncated and the others are 0.
static const OpRow kTrunc{
    Op::Trunc, 1, 2, false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      int bits = at.AsTrunc()->bits;
      UMBRA_CHECK(bits >= 1 && bits <= 62 && bits <= in[0]->frac,
                  "trunc: bits ", bits, " invalid for an operand with ",
                  in[0]->frac, " fractional bits");
      if (in.size() == 2) {
        checkBlockMask(Op::Trunc, *in[0], *in[1]);
        UMBRA_CHECK(in[0]->vis == Vis::Shared,
                    "trunc: a live-block mask needs a shared operand");
      }
      SlotInfo o = like(*in[0]);
      o.frac -= bits;
      return o;
    },
    [](const ExecArgs &a) {
      int bits = a.I.attrs.AsTrunc()->bits;
      if (a.inSlot.size() == 2)
        return ExecResult{onLiveEntries(
            a, 1, [&](const Vec &x) { return trunc(a.P, x, bits); })};
      if (a.shared(0))
        return ExecResult{trunc(a.P, a.in(0), bits)};
      Vec z = a.in(0);
      for (auto &v : z)
        v = uint64_t(int64_t(v) >> bits);
      return ExecResult{std::move(z)};
    },
    // Truncation is the identity on reals, except to 0 fractional bits:
    // there it is floor(x) (the protocol's floor(x) + b, b in {0, 1}, with
    // b = 0; the compiler's floor/round lowerings remove b by one
    // comparison, so both executions agree exactly).
    [](const RealArgs &a) {
      std::vector<double> y =
          a.out.frac != 0
              ? *a.in[0]
              : unaryReal(a, [](double x) { return std::floor(x); });
      if (a.in.size() == 2)
        y = maskReal(std::move(y), *a.inSlot[0], *a.in[1],
                     a.inSlot[1]->shape.back());
      return y;
    },
    [](const CostArgs &a, CostAcc &c) {
      if (anyShared(a))
        cost::trunc(c, liveOrAll(a, a.out.numel));
    }};

const std::vector<OpRow> &linearRows() {
  static const std::vector<OpRow> rows{kAdd,    kSub,   kNeg,  kMul,
                                       kMatmul, kScale, kTrunc};
  return rows;
}

} // namespace umbra::rt::isa
