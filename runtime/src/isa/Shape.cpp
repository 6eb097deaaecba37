//===- Shape.cpp - reshape, transpose, slice, concat, broadcast, ... ------===//
//
// Local data movement: every party applies the same index map to its share
// or plaintext. No communication, no dealer material (null cost).
//
//===----------------------------------------------------------------------===//
#include "Rows.h"

#include <cmath>

namespace umbra::rt::isa {

/// A row whose secure and real execution are the same index map.
using InferFn = SlotInfo (*)(const Attrs &, const Ins &, const SlotInfo *);
template <typename MapFn> struct MoveKernels {
  static OpRow row(Op op, InferFn infer) {
    return {op, 1, 1, false, infer, secure, real, nullptr};
  }
  static ExecResult secure(const ExecArgs &a) {
    return {gather(a.in(0), MapFn::map(a.I, *a.inSlot[0], a.out))};
  }
  static std::vector<double> real(const RealArgs &a) {
    return gather(*a.in[0], MapFn::map(a.I, *a.inSlot[0], a.out));
  }
};

static const SlotInfo &needDeclared(Op op, const SlotInfo *declared) {
  UMBRA_CHECK(declared, opName(op),
              ": the output shape comes from a declared output slot");
  return *declared;
}

//===-- reshape, broadcast ------------------------------------------------===//

static const OpRow kReshape{
    Op::Reshape,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *declared) {
      const SlotInfo &d = needDeclared(Op::Reshape, declared);
      UMBRA_CHECK(numel(d.shape) == in[0]->numel, "reshape ",
                  shapeStr(in[0]->shape), " -> ", shapeStr(d.shape),
                  " changes the element count");
      SlotInfo o = like(*in[0]);
      o.shape = d.shape;
      return o;
    },
    [](const ExecArgs &a) { return ExecResult{a.in(0)}; },
    [](const RealArgs &a) { return *a.in[0]; },
    nullptr};

struct BroadcastMap {
  static std::vector<int64_t> map(const InstrInfo &, const SlotInfo &in,
                                  const SlotInfo &out) {
    return broadcastMap(in.shape, out.shape);
  }
};
static const OpRow kBroadcast = MoveKernels<BroadcastMap>::row(
    Op::Broadcast, [](const Attrs &, const Ins &in, const SlotInfo *declared) {
      const SlotInfo &d = needDeclared(Op::Broadcast, declared);
      UMBRA_CHECK(broadcastShapes(in[0]->shape, d.shape) == d.shape,
                  "cannot broadcast ", shapeStr(in[0]->shape), " to ",
                  shapeStr(d.shape));
      SlotInfo o = like(*in[0]);
      o.shape = d.shape;
      return o;
    });

//===-- transpose, slice --------------------------------------------------===//

struct TransposeMap {
  static std::vector<int64_t> map(const InstrInfo &I, const SlotInfo &in,
                                  const SlotInfo &) {
    return transposeMap(in.shape, I.attrs.AsTranspose()->permutation);
  }
};
static const OpRow kTranspose = MoveKernels<TransposeMap>::row(
    Op::Transpose, [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const auto &perm = at.AsTranspose()->permutation;
      size_t r = in[0]->shape.size();
      UMBRA_CHECK(perm.size() == r, "transpose: permutation rank mismatch");
      std::vector<bool> seen(r);
      SlotInfo o = like(*in[0]);
      for (size_t i = 0; i < r; ++i) {
        UMBRA_CHECK(perm[i] >= 0 && size_t(perm[i]) < r && !seen[perm[i]],
                    "transpose: invalid permutation");
        seen[perm[i]] = true;
        o.shape[i] = in[0]->shape[perm[i]];
      }
      return o;
    });

struct SliceMap {
  static std::vector<int64_t> map(const InstrInfo &I, const SlotInfo &in,
                                  const SlotInfo &out) {
    const fb::SliceT &s = *I.attrs.AsSlice();
    return sliceMap(in.shape, out.shape, s.offsets, s.strides);
  }
};
static const OpRow kSlice = MoveKernels<SliceMap>::row(
    Op::Slice, [](const Attrs &at, const Ins &in, const SlotInfo *declared) {
      const fb::SliceT &s = *at.AsSlice();
      const SlotInfo &d = needDeclared(Op::Slice, declared);
      size_t r = in[0]->shape.size();
      UMBRA_CHECK(s.offsets.size() == r && d.shape.size() == r &&
                      (s.strides.empty() || s.strides.size() == r),
                  "slice: needs an offset (and a stride) per dimension");
      for (size_t i = 0; i < r; ++i) {
        int64_t st = s.strides.empty() ? 1 : s.strides[i];
        int64_t len = in[0]->shape[i], o = s.offsets[i], cnt = d.shape[i];
        UMBRA_CHECK(st >= 1 && o >= 0 && o <= len && cnt >= 0 &&
                        (cnt == 0 || (len - 1 - o) / st >= cnt - 1),
                    "slice: ", cnt, " elements from ", o, " by ", st,
                    " out of bounds for dimension ", len);
      }
      SlotInfo o = like(*in[0]);
      o.shape = d.shape;
      return o;
    });

//===-- concat ------------------------------------------------------------===//

/// Concatenation along `axis` of the operands' data.
template <typename T>
static std::vector<T> concatAxis(const std::vector<std::vector<T>> &vs,
                                 const std::vector<const SlotInfo *> &in,
                                 int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= in[0]->shape[d];
  for (size_t d = axis + 1; d < in[0]->shape.size(); ++d)
    inner *= in[0]->shape[d];
  std::vector<T> out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < vs.size(); ++i) {
      int64_t chunk = in[i]->shape[axis] * inner;
      out.insert(out.end(), vs[i].begin() + o * chunk,
                 vs[i].begin() + (o + 1) * chunk);
    }
  return out;
}
static const OpRow kConcat{
    Op::Concat,
    1,
    -1,
    false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      SlotInfo o = like(*in[0]);
      int64_t r = o.shape.size();
      int64_t ax = axisOf(Op::Concat, at.AsConcat()->axis, r);
      o.shape[ax] = 0;
      o.vis = joinOperands(Op::Concat, in);
      for (auto *s : in) {
        UMBRA_CHECK(int64_t(s->shape.size()) == r && s->frac == in[0]->frac,
                    "concat: operands differ in rank or scale");
        for (int64_t d = 0; d < r; ++d)
          UMBRA_CHECK(d == ax || s->shape[d] == in[0]->shape[d],
                      "concat: shape mismatch");
        o.shape[ax] += s->shape[ax];
      }
      return o;
    },
    [](const ExecArgs &a) {
      std::vector<Vec> parts;
      bool sh = a.out.vis == Vis::Shared;
      for (size_t k = 0; k < a.inSlot.size(); ++k)
        parts.push_back(sh ? a.share(int(k)) : a.in(int(k)));
      int64_t ax =
          axisOf(Op::Concat, a.I.attrs.AsConcat()->axis, a.out.shape.size());
      return ExecResult{concatAxis(parts, a.inSlot, ax)};
    },
    [](const RealArgs &a) {
      std::vector<std::vector<double>> parts;
      for (auto *v : a.in)
        parts.push_back(*v);
      int64_t ax =
          axisOf(Op::Concat, a.I.attrs.AsConcat()->axis, a.out.shape.size());
      return concatAxis(parts, a.inSlot, ax);
    },
    nullptr};

//===-- one_hot, reduce_sum -----------------------------------------------===//

/// The id at element `i` (frac 0, two's complement in the ring) ...
static int64_t idAt(const std::vector<uint64_t> &ids, size_t i) {
  return int64_t(ids[i]);
}
/// ... or a real that must be an integer (the reference).
static int64_t idAt(const std::vector<double> &ids, size_t i) {
  double v = ids[i];
  UMBRA_CHECK(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e18,
              "one_hot: id ", v, " at element ", i, " is not an integer");
  return int64_t(v);
}
/// One-hot rows of integer ids. An id outside [0, depth) is an error, not
/// a zero row: a silent zero embedding is a wrong answer (the inputs are
/// checked before a run; this holds for ids from anywhere).
template <typename T, typename V>
static std::vector<T> oneHotRows(const std::vector<V> &ids,
                                 const fb::OneHotT &at) {
  int64_t depth = at.depth;
  std::vector<T> out(ids.size() * size_t(depth), T(0));
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = idAt(ids, i);
    if (at.has_ignore_index && id == at.ignore_index)
      continue; // an ignored label: a zero row
    if (at.wrap_negative && id < 0 && id >= -depth)
      id += depth;
    UMBRA_CHECK(id >= 0 && id < depth, "one_hot: id ", id, " at element ", i,
                " is outside the vocabulary [0, ", depth, ")");
    out[i * size_t(depth) + size_t(id)] = T(1);
  }
  return out;
}
static const OpRow kOneHot{
    Op::OneHot,
    1,
    1,
    false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      int64_t depth = at.AsOneHot()->depth;
      UMBRA_CHECK(in[0]->frac == 0, "one_hot: ids must have 0 fractional bits");
      UMBRA_CHECK(depth >= 1 && depth <= (int64_t(1) << 32), "one_hot: depth ",
                  depth, " out of range");
      UMBRA_CHECK(in[0]->vis != Vis::Shared,
                  "one_hot: ids must be held by one party (or public)");
      UMBRA_CHECK(in[0]->shape.size() < 8, "one_hot: rank too large");
      // Expanded in plaintext by whoever holds the ids (share it after).
      SlotInfo o = like(*in[0]);
      o.shape.push_back(depth);
      return o;
    },
    [](const ExecArgs &a) {
      return ExecResult{
          oneHotRows<uint64_t>(a.in(0), *a.I.attrs.AsOneHot())};
    },
    [](const RealArgs &a) {
      return oneHotRows<double>(*a.in[0], *a.I.attrs.AsOneHot());
    },
    nullptr};

/// Normalised, checked axes of a reduce_sum.
static std::vector<bool> reducedAxes(const fb::ReduceSumT &r, const Shape &s) {
  std::vector<bool> red(s.size(), false);
  for (int64_t a : r.axes) {
    int64_t ax = axisOf(Op::ReduceSum, a, s.size());
    UMBRA_CHECK(!red[ax], "reduce_sum: axis ", a, " repeated for ",
                shapeStr(s));
    red[ax] = true;
  }
  return red;
}
/// Sum over the reduced axes (keepdims does not change the layout).
template <typename T>
static std::vector<T> reduceSumAxes(const std::vector<T> &x, const Shape &s,
                                    const fb::ReduceSumT &r, size_t n) {
  std::vector<bool> red = reducedAxes(r, s);
  Shape kept = s;
  for (size_t d = 0; d < s.size(); ++d)
    if (red[d])
      kept[d] = 1;
  std::vector<int64_t> st = stridesOf(kept);
  std::vector<T> out(n, T(0));
  forEachIndex(s, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t dst = 0;
    for (size_t d = 0; d < s.size(); ++d)
      dst += (kept[d] == 1 ? 0 : idx[d]) * st[d];
    out[dst] += x[f];
  });
  return out;
}
static const OpRow kReduceSum{
    Op::ReduceSum,
    1,
    1,
    false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const fb::ReduceSumT &r = *at.AsReduceSum();
      UMBRA_CHECK(!r.axes.empty(), "reduce_sum: needs at least one axis");
      std::vector<bool> red = reducedAxes(r, in[0]->shape);
      SlotInfo o = like(*in[0]);
      o.shape.clear();
      for (size_t d = 0; d < red.size(); ++d)
        if (!red[d])
          o.shape.push_back(in[0]->shape[d]);
        else if (r.keepdims)
          o.shape.push_back(1);
      return o;
    },
    [](const ExecArgs &a) {
      return ExecResult{reduceSumAxes(a.in(0), a.inSlot[0]->shape,
                                      *a.I.attrs.AsReduceSum(), a.n())};
    },
    [](const RealArgs &a) {
      return reduceSumAxes(*a.in[0], a.inSlot[0]->shape,
                           *a.I.attrs.AsReduceSum(), size_t(a.out.numel));
    },
    nullptr};

//===-- gather_rows ---------------------------------------------------===//

struct GatherRowsMap {
  static std::vector<int64_t> map(const InstrInfo &I, const SlotInfo &in,
                                  const SlotInfo &) {
    int64_t row = in.shape[0] ? in.numel / in.shape[0] : 0;
    std::vector<int64_t> m;
    for (int64_t r : I.attrs.AsGatherRows()->indices)
      for (int64_t j = 0; j < row; ++j)
        m.push_back(r * row + j);
    return m;
  }
};
static const OpRow kGatherRows = MoveKernels<GatherRowsMap>::row(
    Op::GatherRows, [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const auto &idx = at.AsGatherRows()->indices;
      UMBRA_CHECK(!in[0]->shape.empty(), "gather_rows: operand is a scalar");
      for (int64_t r : idx)
        UMBRA_CHECK(r >= 0 && r < in[0]->shape[0], "gather_rows: index ", r,
                    " out of range for ", in[0]->shape[0], " rows");
      SlotInfo o = like(*in[0]);
      o.shape[0] = int64_t(idx.size());
      return o;
    });

const std::vector<OpRow> &shapeRows() {
  static const std::vector<OpRow> rows{kReshape,   kBroadcast, kTranspose,
                                       kSlice,     kConcat,    kOneHot,
                                       kReduceSum, kGatherRows};
  return rows;
}

} // namespace umbra::rt::isa
