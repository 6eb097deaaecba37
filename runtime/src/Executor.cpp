//===- Executor.cpp - Program execution -----------------------------------===//
#include "umbra/runtime/Executor.h"

#include <chrono>
#include <cmath>

namespace umbra::rt {

static double nowSec() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

//===----------------------------------------------------------------------===//
// Index maps
//===----------------------------------------------------------------------===//

static std::vector<int64_t> stridesOf(const Shape &s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int64_t i = int64_t(s.size()) - 2; i >= 0; --i)
    st[i] = st[i + 1] * s[i + 1];
  return st;
}

/// Calls fn(flat, idx) for every multi-index of `s` in row-major order.
template <typename F> static void forEachIndex(const Shape &s, F fn) {
  int64_t n = numel(s);
  std::vector<int64_t> idx(s.size(), 0);
  for (int64_t f = 0; f < n; ++f) {
    fn(f, idx);
    for (int64_t d = int64_t(s.size()) - 1; d >= 0; --d) {
      if (++idx[d] < s[d])
        break;
      idx[d] = 0;
    }
  }
}

std::vector<int64_t> broadcastMap(const Shape &in, const Shape &out) {
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  size_t off = out.size() - in.size();
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < in.size(); ++d)
      src += (in[d] == 1 ? 0 : idx[off + d]) * st[d];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> transposeMap(const Shape &in,
                                  const std::vector<int64_t> &perm) {
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    out[i] = in[perm[i]];
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < out.size(); ++d)
      src += idx[d] * st[perm[d]];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> sliceMap(const Shape &in, const std::vector<int64_t> &a) {
  size_t r = in.size();
  Shape out(r);
  for (size_t i = 0; i < r; ++i)
    out[i] = a[r + i] - a[i];
  std::vector<int64_t> st = stridesOf(in), map(numel(out));
  forEachIndex(out, [&](int64_t f, const std::vector<int64_t> &idx) {
    int64_t src = 0;
    for (size_t d = 0; d < r; ++d)
      src += (idx[d] + a[d]) * st[d];
    map[f] = src;
  });
  return map;
}

std::vector<int64_t> axisLastPerm(size_t rank, int64_t axis) {
  std::vector<int64_t> p;
  for (size_t i = 0; i < rank; ++i)
    if (int64_t(i) != axis)
      p.push_back(int64_t(i));
  p.push_back(axis);
  return p;
}

/// One-hot rows of integer ids (frac 0, two's complement): ids outside
/// [0, depth) give a zero row.
template <typename T, typename V>
static std::vector<T> oneHotRows(const std::vector<V> &ids, int64_t depth) {
  std::vector<T> out(ids.size() * size_t(depth), T(0));
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = int64_t(ids[i]);
    if (id >= 0 && id < depth)
      out[i * size_t(depth) + size_t(id)] = T(1);
  }
  return out;
}

/// Sum over the axes iattrs[1..] (keepdims does not change the layout).
template <typename T>
static std::vector<T> reduceSumAxes(const std::vector<T> &x, const Shape &s,
                                    const std::vector<int64_t> &ia, size_t n) {
  Shape kept = s;
  for (size_t i = 1; i < ia.size(); ++i)
    kept[ia[i]] = 1;
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

template <typename T>
static std::vector<T> gather(const std::vector<T> &src,
                             const std::vector<int64_t> &map) {
  std::vector<T> out(map.size());
  for (size_t i = 0; i < map.size(); ++i)
    out[i] = src[map[i]];
  return out;
}

template <typename T>
static std::vector<T> bcast(const std::vector<T> &v, const Shape &in,
                            const Shape &out) {
  if (in == out)
    return v;
  return gather(v, broadcastMap(in, out));
}

/// Concatenation along `axis` as a gather over the joined inputs.
template <typename T>
static std::vector<T> concatAxis(const std::vector<const std::vector<T> *> &vs,
                                 const std::vector<const Shape *> &shapes,
                                 int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= (*shapes[0])[d];
  for (size_t d = axis + 1; d < shapes[0]->size(); ++d)
    inner *= (*shapes[0])[d];
  std::vector<T> out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < vs.size(); ++i) {
      int64_t chunk = (*shapes[i])[axis] * inner;
      out.insert(out.end(), vs[i]->begin() + o * chunk,
                 vs[i]->begin() + (o + 1) * chunk);
    }
  return out;
}

/// The ideal real-number semantics of one instruction (Float reference).
static std::vector<double>
realInstr(const Program &prog, const InstrInfo &I,
          const std::vector<const std::vector<double> *> &ins);

/// The party that holds a private slot in plaintext (DESIGN.md roles).
static Role holderOf(Vis v) { return v == Vis::Client ? Role::P0 : Role::P1; }

/// Non-linear gates: an MPC protocol on shared operands, plain real
/// arithmetic (realInstr) at the holder of private ones. Every other
/// instruction is exact ring arithmetic on either.
static bool isGate(Op op) {
  switch (op) {
  case Op::DRelu:
  case Op::Ltz:
  case Op::Select:
  case Op::Relu:
  case Op::Max:
  case Op::ArgMax:
  case Op::Reciprocal:
  case Op::Rsqrt:
  case Op::Exp:
  case Op::Poly:
    return true;
  default:
    return false;
  }
}

//===----------------------------------------------------------------------===//
// MPC executor
//===----------------------------------------------------------------------===//

Executor::Executor(const Program &prog, Party &party)
    : prog_(prog), P_(party), vals_(prog.slots.size()),
      isOutput_(prog.slots.size(), false), isInput_(prog.slots.size(), false),
      t0_(nowSec()) {
  for (int s : prog.outputs)
    isOutput_[s] = true;
  for (int s : prog.inputs)
    isInput_[s] = true;
  for (size_t s = 0; s < prog.slots.size(); ++s) {
    const SlotInfo &si = prog.slots[s];
    if (si.weight < 0)
      continue;
    if (si.vis == Vis::Public || (si.vis == Vis::Owner && P_.role == Role::P1))
      vals_[s] = {prog.weightRing(int(s)), Kind::Plain};
  }
}

void Executor::setInputRing(int slot, Vec v) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < vals_.size(), "bad input slot");
  const SlotInfo &si = prog_.slots[slot];
  UMBRA_CHECK(int64_t(v.size()) == si.numel, "input '", si.name, "' has ",
              v.size(), " elements, expected ", si.numel, " (shape ",
              shapeStr(si.shape), ")");
  vals_[slot] = {std::move(v), Kind::Plain};
}

void Executor::setInput(int slot, const std::vector<double> &values) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < vals_.size(), "bad input slot");
  const SlotInfo &si = prog_.slots[slot];
  Vec v(values.size());
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = encodeFixed(values[i], si.frac);
  setInputRing(slot, std::move(v));
}

bool Executor::hasPlain(int slot) const {
  return !P_.dealer() && vals_.at(slot).kind == Kind::Plain;
}

std::vector<double> Executor::plainReal(int slot) const {
  UMBRA_CHECK(hasPlain(slot), "value of '", prog_.slots.at(slot).name,
              "' is not known to ", roleName(P_.role));
  const Vec &d = vals_[slot].data;
  std::vector<double> out(d.size());
  for (size_t i = 0; i < d.size(); ++i)
    out[i] = decodeFixed(d[i], prog_.slots[slot].frac);
  return out;
}

const Executor::Value &Executor::get(int s) const {
  const Value &v = vals_[s];
  UMBRA_CHECK(v.kind != Kind::None || P_.dealer(), "slot '",
              prog_.slots[s].name, "' has no value at ", roleName(P_.role),
              " (missing input?)");
  return v;
}

Vec Executor::asShare(const Value &v) const {
  if (v.kind == Kind::Shared)
    return v.data;
  if (P_.p0())
    return v.data;
  return Vec(v.data.size(), 0);
}

void Executor::runOne(const std::string &phase, int64_t idx,
                      const std::string &op, const std::string &name,
                      const std::function<void()> &fn) {
  Counters before = P_.ctr;
  double t = nowSec();
  P_.tag = tag_++;
  fn();
  P_.flushMaterial();
  InstrStat st;
  st.index = idx;
  st.op = op;
  st.name = name;
  st.phase = phase;
  st.start = t - t0_;
  st.seconds = nowSec() - t;
  st.c.sent = P_.ctr.sent - before.sent;
  st.c.recv = P_.ctr.recv - before.recv;
  st.c.rounds = P_.ctr.rounds - before.rounds;
  st.c.dealerBytes = P_.ctr.dealerBytes - before.dealerBytes;
  stats.push_back(std::move(st));
}

void Executor::runDeployment() {
  size_t total = prog_.instrs.size();
  for (size_t i = 0; i < total; ++i) {
    if (!prog_.instrs[i].deploy)
      continue;
    if (onInstr)
      onInstr(i, total);
    runOne("deploy", int64_t(i), opName(prog_.instrs[i].op),
           prog_.instrs[i].name, [&] { exec(i); });
  }
  // Constant right operands of shared matmuls: open W - B once.
  for (size_t i = 0; i < total; ++i) {
    const InstrInfo &ii = prog_.instrs[i];
    if (ii.deploy || ii.op != Op::MatMul)
      continue;
    int w = ii.in[1];
    if (!prog_.isConst[w] || prog_.slots[w].vis != Vis::Shared ||
        prog_.slots[ii.in[0]].vis != Vis::Shared)
      continue;
    runOne("deploy", int64_t(i), "matmul-mask", ii.name, [&] {
      const Value &wv = get(w);
      prepareMatmulMask(
          P_, wv.kind == Kind::Shared || P_.dealer() ? wv.data : asShare(wv),
          masks_[i]);
    });
  }
  deployed_ = true;
}

void Executor::runInference() {
  if (!deployed_)
    runDeployment();
  size_t total = prog_.instrs.size();
  for (size_t i = 0; i < total; ++i) {
    if (prog_.instrs[i].deploy)
      continue;
    if (onInstr)
      onInstr(i, total);
    runOne("inference", int64_t(i), opName(prog_.instrs[i].op),
           prog_.instrs[i].name, [&] { exec(i); });
    // Free per-inference intermediates after their last use (inputs,
    // constants and program outputs stay).
    for (int s : prog_.instrs[i].in)
      if (prog_.lastUse[s] == int64_t(i) && !prog_.isConst[s] &&
          !isOutput_[s] && !isInput_[s]) {
        vals_[s].data = Vec();
        vals_[s].kind = Kind::None;
      }
  }
}

void Executor::exec(size_t idx) {
  const InstrInfo &I = prog_.instrs[idx];
  const int o = I.out[0];
  const SlotInfo &os = prog_.slots[o];
  const size_t n = size_t(os.numel);
  Party &P = P_;
  const bool D = P.dealer();
  auto in = [&](int k) -> const Value & {
    const Value &v = get(I.in[k]);
    if (D && v.data.size() != size_t(prog_.slots[I.in[k]].numel)) {
      // The dealer holds placeholders for values it never sees.
      auto &mv = const_cast<Value &>(v);
      mv.data.assign(prog_.slots[I.in[k]].numel, 0);
      if (mv.kind == Kind::None)
        mv.kind = prog_.slots[I.in[k]].vis == Vis::Shared ? Kind::Shared
                                                          : Kind::Plain;
    }
    return v;
  };
  auto inShape = [&](int k) -> const Shape & {
    return prog_.slots[I.in[k]].shape;
  };
  // Private work runs at its holder alone: the other party and the dealer
  // skip it, so it costs no messages and no dealer material.
  if (isPrivate(os.vis) && P.role != holderOf(os.vis)) {
    vals_[o] = Value{};
    return;
  }
  // A value revealed to the other party only: local ops propagate "not
  // known here"; anything interactive is a program error.
  if (!D)
    for (int s : I.in)
      if (vals_[s].kind == Kind::None && prog_.slots[s].weight < 0 &&
          prog_.slots[s].vis == Vis::Public) {
        bool local =
            I.op != Op::Share && I.op != Op::Reveal && os.vis == Vis::Public;
        bool produced = false;
        for (size_t j = 0; j < idx && !produced; ++j)
          produced = prog_.instrs[j].out[0] == s;
        UMBRA_CHECK(local && produced, "slot '", prog_.slots[s].name,
                    "' is not known to ", roleName(P.role),
                    " (revealed to the other party only, or a missing "
                    "public input) but ",
                    opName(I.op), " needs it");
        vals_[o] = Value{};
        return;
      }
  Value out;
  out.kind = os.vis == Vis::Shared ? Kind::Shared : Kind::Plain;
  auto store = [&](Value v) {
    if (v.kind != Kind::None)
      UMBRA_CHECK(v.data.size() == n, "internal: ", opName(I.op), " produced ",
                  v.data.size(), " elements, expected ", n);
    vals_[o] = std::move(v);
    if (onValue)
      onValue(o);
  };
  // The holder of private operands evaluates gates on plain reals; every
  // other instruction below is the same ring arithmetic for public and
  // private values.
  if (isPrivate(os.vis) && isGate(I.op))
    return store({plainGate(I), Kind::Plain});
  switch (I.op) {
  case Op::Share: {
    const SlotInfo &is = prog_.slots[I.in[0]];
    Role owner = holderOf(is.vis);
    Vec plain;
    if (P.role == owner) {
      const Value &v = vals_[I.in[0]];
      UMBRA_CHECK(v.kind == Kind::Plain, "missing input '", is.name, "' at ",
                  roleName(P.role));
      plain = v.data;
    }
    out.data = shareInput(P, owner, plain, n);
    break;
  }
  case Op::Reveal: {
    RevealTo to = RevealTo(I.iattrs[0]);
    out.data = reveal(P, in(0).data, to);
    // No data back means another party is the recipient (an empty tensor
    // is known to everyone).
    if (to != RevealTo::Both && n > 0 && out.data.empty()) {
      out.kind = Kind::None;
      out.data.clear();
    }
    if (D)
      out.data.assign(n, 0);
    break;
  }
  case Op::Add:
  case Op::Sub: {
    const Value &a = in(0), &b = in(1);
    Vec av = bcast(a.data, inShape(0), os.shape);
    Vec bv = bcast(b.data, inShape(1), os.shape);
    bool sub = I.op == Op::Sub;
    out.data.resize(n);
    bool aS = a.kind == Kind::Shared, bS = b.kind == Kind::Shared;
    // A public operand is added by P0 only.
    bool useA = aS || P.p0() || !bS, useB = bS || P.p0() || !aS;
    for (size_t i = 0; i < n; ++i) {
      uint64_t x = useA ? av[i] : 0, y = useB ? bv[i] : 0;
      out.data[i] = sub ? x - y : x + y;
    }
    break;
  }
  case Op::Neg:
    out.data = in(0).data;
    for (auto &v : out.data)
      v = -v;
    break;
  case Op::Copy:
  case Op::Reshape:
    out.data = in(0).data;
    break;
  case Op::Mul: {
    const Value &a = in(0), &b = in(1);
    Vec av = bcast(a.data, inShape(0), os.shape);
    Vec bv = bcast(b.data, inShape(1), os.shape);
    if (a.kind == Kind::Shared && b.kind == Kind::Shared) {
      out.data = mul(P, av, bv);
    } else {
      out.data.resize(n);
      for (size_t i = 0; i < n; ++i)
        out.data[i] = av[i] * bv[i];
    }
    break;
  }
  case Op::MatMul: {
    const Value &a = in(0), &b = in(1);
    const Shape &as = inShape(0), &bs = inShape(1);
    int64_t nn = as[as.size() - 2], k = as.back(), m = bs.back();
    int64_t batch = numel(as) / (nn * k);
    bool wB = bs.size() > 2;
    if (a.kind == Kind::Shared && b.kind == Kind::Shared) {
      auto it = masks_.find(idx);
      out.data = matmulShared(P, a.data, b.data, batch, nn, k, m, wB,
                              it != masks_.end() ? &it->second : nullptr);
    } else {
      out.data = matmulLocal(a.data, b.data, batch, nn, k, m, wB, D);
    }
    break;
  }
  case Op::Scale:
    out.data = in(0).data;
    for (auto &v : out.data)
      v *= uint64_t(I.iattrs[0]);
    break;
  case Op::Trunc: {
    const Value &a = in(0);
    int bits = int(I.iattrs[0]);
    if (a.kind == Kind::Shared) {
      out.data = trunc(P, a.data, bits);
    } else {
      out.data = a.data;
      for (auto &v : out.data)
        v = uint64_t(int64_t(v) >> bits);
    }
    break;
  }
  case Op::DRelu:
    out.data = drelu(P, in(0).data, I.iattrs.empty() ? 64 : int(I.iattrs[0]));
    break;
  case Op::Ltz:
    out.data = ltz(P, in(0).data, I.iattrs.empty() ? 64 : int(I.iattrs[0]));
    break;
  case Op::Relu:
    out.data = relu(P, in(0).data, I.iattrs.empty() ? 64 : int(I.iattrs[0]));
    break;
  case Op::Select:
    out.data = select(P, in(0).data, in(1).data, in(2).data);
    break;
  case Op::Max:
  case Op::ArgMax: {
    const Shape &s = inShape(0);
    int64_t axis = I.iattrs[0], len = s[axis];
    Vec x = in(0).data;
    if (axis != int64_t(s.size()) - 1)
      x = gather(x, transposeMap(s, axisLastPerm(s.size(), axis)));
    int64_t rows = numel(s) / len;
    int bits = I.iattrs.size() > 2 ? int(I.iattrs[2]) : 64;
    if (I.op == Op::Max)
      maxRows(P, x, rows, len, &out.data, nullptr, bits);
    else
      maxRows(P, x, rows, len, nullptr, &out.data, bits);
    break;
  }
  case Op::Reciprocal:
    out.data = reciprocalGate(P, in(0).data, os.frac, I.fattrs[0], I.fattrs[1],
                              int(I.iattrs[0]));
    break;
  case Op::Rsqrt:
    out.data = rsqrtGate(P, in(0).data, os.frac, I.fattrs[0], I.fattrs[1],
                         int(I.iattrs[0]));
    break;
  case Op::Exp:
    out.data = expGate(P, in(0).data, os.frac, int(I.iattrs[0]),
                       I.iattrs.size() > 1 ? int(I.iattrs[1]) : 64);
    break;
  case Op::Poly:
    out.data = polyGate(P, in(0).data, os.frac, I.fattrs);
    break;
  case Op::Transpose:
    out.data = gather(in(0).data, transposeMap(inShape(0), I.iattrs));
    break;
  case Op::Slice:
    out.data = gather(in(0).data, sliceMap(inShape(0), I.iattrs));
    break;
  case Op::Broadcast:
    out.data = bcast(in(0).data, inShape(0), os.shape);
    break;
  case Op::OneHot:
    out.data = oneHotRows<uint64_t>(in(0).data, I.iattrs[0]);
    break;
  case Op::ReduceSum:
    out.data = reduceSumAxes(in(0).data, inShape(0), I.iattrs, n);
    break;
  case Op::Concat: {
    std::vector<Vec> parts;
    std::vector<const Vec *> ps;
    std::vector<const Shape *> ss;
    for (size_t k = 0; k < I.in.size(); ++k)
      parts.push_back(out.kind == Kind::Shared ? asShare(in(int(k)))
                                               : in(int(k)).data);
    for (size_t k = 0; k < I.in.size(); ++k) {
      ps.push_back(&parts[k]);
      ss.push_back(&inShape(int(k)));
    }
    out.data = concatAxis(ps, ss, I.iattrs[0]);
    break;
  }
  default:
    fail("unsupported instruction ", opName(I.op));
  }
  store(std::move(out));
}

Vec Executor::plainGate(const InstrInfo &I) const {
  std::vector<std::vector<double>> reals;
  for (int s : I.in) {
    const Value &v = get(s);
    UMBRA_CHECK(v.kind == Kind::Plain, "slot '", prog_.slots[s].name,
                "' is not known to ", roleName(P_.role), " but ", opName(I.op),
                " needs it");
    std::vector<double> r(v.data.size());
    for (size_t i = 0; i < r.size(); ++i)
      r[i] = decodeFixed(v.data[i], prog_.slots[s].frac);
    reals.push_back(std::move(r));
  }
  std::vector<const std::vector<double> *> ins;
  for (const auto &r : reals)
    ins.push_back(&r);
  const SlotInfo &os = prog_.slots[I.out[0]];
  std::vector<double> res = realInstr(prog_, I, ins);
  Vec out(res.size());
  for (size_t i = 0; i < res.size(); ++i) {
    UMBRA_CHECK(std::isfinite(res[i]), opName(I.op), " of '", os.name,
                "' gives ", res[i], " at element ", i,
                " (input outside the gate's domain)");
    out[i] = encodeFixed(res[i], os.frac);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Float reference
//===----------------------------------------------------------------------===//

FloatExecutor::FloatExecutor(const Program &prog)
    : prog_(prog), vals_(prog.slots.size()) {
  for (size_t s = 0; s < prog.slots.size(); ++s)
    if (prog.slots[s].weight >= 0)
      vals_[s] = prog.weightReal(int(s));
}

void FloatExecutor::setInput(int slot, const std::vector<double> &v) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < vals_.size(), "bad input slot");
  UMBRA_CHECK(int64_t(v.size()) == prog_.slots[slot].numel, "input '",
              prog_.slots[slot].name, "' has ", v.size(),
              " elements, expected ", prog_.slots[slot].numel);
  vals_[slot] = v;
}

/// The ideal real-number semantics of one instruction (exact exp, 1/x, ...;
/// truncation is the identity on reals). Home of the plaintext kernels: the
/// float reference runs every instruction with it, the MPC executor the
/// non-linear gates of private slots.
static std::vector<double>
realInstr(const Program &prog, const InstrInfo &I,
          const std::vector<const std::vector<double> *> &ins) {
  const SlotInfo &os = prog.slots[I.out[0]];
  size_t n = size_t(os.numel);
  auto in = [&](int k) -> const std::vector<double> & { return *ins[k]; };
  auto inShape = [&](int k) -> const Shape & {
    return prog.slots[I.in[k]].shape;
  };
  std::vector<double> out(n);
  auto unary = [&](auto f) {
    const auto &x = in(0);
    for (size_t i = 0; i < n; ++i)
      out[i] = f(x[i]);
  };
  switch (I.op) {
  case Op::Share:
  case Op::Reveal:
  case Op::Copy:
  case Op::Reshape:
  case Op::Trunc:
    out = in(0);
    break;
  case Op::Add:
  case Op::Sub:
  case Op::Mul: {
    auto a = bcast(in(0), inShape(0), os.shape);
    auto b = bcast(in(1), inShape(1), os.shape);
    for (size_t i = 0; i < n; ++i)
      out[i] = I.op == Op::Add   ? a[i] + b[i]
               : I.op == Op::Sub ? a[i] - b[i]
                                 : a[i] * b[i];
    break;
  }
  case Op::Neg:
    unary([](double x) { return -x; });
    break;
  case Op::MatMul: {
    const Shape &as = inShape(0), &bs = inShape(1);
    int64_t nn = as[as.size() - 2], k = as.back(), m = bs.back();
    int64_t batch = numel(as) / (nn * k);
    bool wB = bs.size() > 2;
    const auto &A = in(0), &B = in(1);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < nn; ++i)
        for (int64_t kk = 0; kk < k; ++kk) {
          double a = A[(b * nn + i) * k + kk];
          const double *brow = &B[((wB ? b : 0) * k + kk) * m];
          double *orow = &out[(b * nn + i) * m];
          for (int64_t j = 0; j < m; ++j)
            orow[j] += a * brow[j];
        }
    break;
  }
  case Op::Scale: {
    double f = double(I.iattrs[0]) *
               std::ldexp(1.0, prog.slots[I.in[0]].frac - os.frac);
    unary([&](double x) { return x * f; });
    break;
  }
  case Op::DRelu:
    unary([](double x) { return x >= 0 ? 1.0 : 0.0; });
    break;
  case Op::Ltz:
    unary([](double x) { return x < 0 ? 1.0 : 0.0; });
    break;
  case Op::Relu:
    unary([](double x) { return x > 0 ? x : 0.0; });
    break;
  case Op::Select: {
    const auto &c = in(0), &a = in(1), &b = in(2);
    for (size_t i = 0; i < n; ++i)
      out[i] = c[i] != 0 ? a[i] : b[i];
    break;
  }
  case Op::Max:
  case Op::ArgMax: {
    const Shape &s = inShape(0);
    int64_t axis = I.iattrs[0], len = s[axis];
    auto x = gather(in(0), transposeMap(s, axisLastPerm(s.size(), axis)));
    for (size_t r = 0; r < n; ++r) {
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j)
        if (x[r * len + j] > x[r * len + best])
          best = j;
      out[r] = I.op == Op::Max ? x[r * len + best] : double(best);
    }
    break;
  }
  case Op::Reciprocal:
    unary([](double x) { return 1.0 / x; });
    break;
  case Op::Rsqrt:
    unary([](double x) { return 1.0 / std::sqrt(x); });
    break;
  case Op::Exp:
    unary([](double x) { return std::exp(x); });
    break;
  case Op::Poly:
    unary([&](double x) {
      double r = 0;
      for (size_t i = I.fattrs.size(); i-- > 0;)
        r = r * x + I.fattrs[i];
      return r;
    });
    break;
  case Op::Transpose:
    out = gather(in(0), transposeMap(inShape(0), I.iattrs));
    break;
  case Op::Slice:
    out = gather(in(0), sliceMap(inShape(0), I.iattrs));
    break;
  case Op::Broadcast:
    out = bcast(in(0), inShape(0), os.shape);
    break;
  case Op::OneHot:
    out = oneHotRows<double>(in(0), I.iattrs[0]);
    break;
  case Op::ReduceSum:
    out = reduceSumAxes(in(0), inShape(0), I.iattrs, n);
    break;
  case Op::Concat: {
    std::vector<const std::vector<double> *> ps;
    std::vector<const Shape *> ss;
    for (size_t k = 0; k < I.in.size(); ++k) {
      ps.push_back(&in(int(k)));
      ss.push_back(&inShape(int(k)));
    }
    out = concatAxis(ps, ss, I.iattrs[0]);
    break;
  }
  default:
    fail("unsupported instruction ", opName(I.op));
  }
  return out;
}

void FloatExecutor::run() {
  for (const InstrInfo &I : prog_.instrs) {
    std::vector<const std::vector<double> *> ins;
    for (int s : I.in) {
      UMBRA_CHECK(int64_t(vals_[s].size()) == prog_.slots[s].numel,
                  "reference: slot '", prog_.slots[s].name,
                  "' has no value (missing input?)");
      ins.push_back(&vals_[s]);
    }
    vals_[I.out[0]] = realInstr(prog_, I, ins);
  }
}

} // namespace umbra::rt
