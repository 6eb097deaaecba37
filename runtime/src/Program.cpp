//===- Program.cpp - Artifact loading, verification and building ----------===//
#include "umbra/runtime/Program.h"
#include "program_generated.h"

#include <cmath>
#include <cstring>
#include <fstream>

namespace umbra::rt {

static const char *kOpNames[] = {
    "share",  "reveal",  "add",       "sub",        "neg",    "mul",
    "matmul", "scale",   "trunc",     "drelu",      "ltz",    "select",
    "relu",   "max",     "argmax",    "reciprocal", "rsqrt",  "exp",
    "poly",   "reshape", "transpose", "slice",      "concat", "broadcast",
    "copy",   "onehot",  "reduce_sum"};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == size_t(Op::NumOps));

const char *opName(Op op) {
  return size_t(op) < size_t(Op::NumOps) ? kOpNames[size_t(op)] : "?";
}
const char *visName(Vis v) {
  switch (v) {
  case Vis::Public:
    return "public";
  case Vis::Client:
    return "client";
  case Vis::Owner:
    return "owner";
  case Vis::Shared:
    return "shared";
  }
  return "?";
}

int64_t numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s) {
    UMBRA_CHECK(d >= 0 && d <= (int64_t(1) << 40), "invalid dimension ", d);
    UMBRA_CHECK(d == 0 || n <= (int64_t(1) << 40) / d,
                "tensor too large: ", shapeStr(s));
    n *= d;
  }
  return n;
}
std::string shapeStr(const Shape &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "x" : "") + std::to_string(s[i]);
  return r + "]";
}

uint64_t encodeFixed(double v, int frac) {
  double s = std::ldexp(v, frac);
  UMBRA_CHECK(std::isfinite(s) && std::fabs(s) < 9.2e18, "value ", v,
              " does not fit the fixed-point range (", frac,
              " fractional bits)");
  return uint64_t(int64_t(std::llround(s)));
}
double decodeFixed(uint64_t v, int frac) {
  return std::ldexp(double(int64_t(v)), -frac);
}

Shape broadcastShapes(const Shape &a, const Shape &b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    UMBRA_CHECK(da == db || da == 1 || db == 1, "shapes ", shapeStr(a), " and ",
                shapeStr(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool isPrivate(Vis v) { return v == Vis::Client || v == Vis::Owner; }

/// Who may see a combination of operands. Public data joins anything; a
/// party's private data joins only public data and its own (the holder
/// computes in plaintext); shared data joins public data. Anything else
/// would hand one party's plaintext to an instruction the other party or
/// the protocol evaluates: the compiler must insert a `share` first.
static Vis joinOperands(Op op, const std::vector<const SlotInfo *> &in) {
  const SlotInfo *priv = nullptr, *shared = nullptr;
  for (const SlotInfo *s : in) {
    if (s->vis == Vis::Shared && !shared)
      shared = s;
    if (!isPrivate(s->vis))
      continue;
    UMBRA_CHECK(!priv || priv->vis == s->vis, opName(op), ": mixes '",
                priv->name, "' (", visName(priv->vis), "-private) with '",
                s->name, "' (", visName(s->vis), "-private); share them first");
    priv = priv ? priv : s;
  }
  UMBRA_CHECK(!priv || !shared, opName(op), ": operand '", priv->name, "' is ",
              visName(priv->vis), "-private but '", shared->name,
              "' is secret-shared; share '", priv->name, "' first");
  return shared ? Vis::Shared : priv ? priv->vis : Vis::Public;
}

SlotInfo inferOutput(Op op, const std::vector<const SlotInfo *> &in,
                     const std::vector<int64_t> &ia,
                     const std::vector<double> &fa) {
  auto nIn = [&](size_t lo, size_t hi) {
    UMBRA_CHECK(in.size() >= lo && in.size() <= hi, opName(op), " expects ", lo,
                (lo == hi ? "" : "+"), " operands, got ", in.size());
  };
  auto nI = [&](size_t n) {
    UMBRA_CHECK(ia.size() == n, opName(op), " expects ", n,
                " integer attributes, got ", ia.size());
  };
  // Non-linear gates run under MPC on shared operands, or in plaintext at
  // the holder of private ones; public operands are folded by the compiler.
  auto gateVis = [&]() {
    Vis v = joinOperands(op, in);
    UMBRA_CHECK(v != Vis::Public, opName(op),
                ": operands are public; the runtime evaluates this gate on "
                "shared or private values only (fold it at compile time)");
    return v;
  };
  // Optional trailing comparison width (exact for |x| < 2^(bits-1)).
  auto needBits = [&](size_t base) {
    UMBRA_CHECK(ia.size() == base || ia.size() == base + 1, opName(op),
                " expects ", base,
                " integer attributes (+ optional bit "
                "width), got ",
                ia.size());
    if (ia.size() == base + 1)
      UMBRA_CHECK(ia[base] >= 2 && ia[base] <= 64, opName(op),
                  ": comparison bit width ", ia[base], " not in [2, 64]");
  };
  SlotInfo o;
  switch (op) {
  case Op::Share:
    nIn(1, 1);
    UMBRA_CHECK(isPrivate(in[0]->vis), "share: operand '", in[0]->name,
                "' must be client or owner");
    o = *in[0];
    o.vis = Vis::Shared;
    break;
  case Op::Reveal:
    nIn(1, 1);
    nI(1);
    UMBRA_CHECK(in[0]->vis == Vis::Shared, "reveal: operand '", in[0]->name,
                "' is ", visName(in[0]->vis),
                (isPrivate(in[0]->vis)
                     ? "-private: its holder knows it already, and nobody "
                       "else may learn it"
                     : ": there is nothing to reveal"));
    UMBRA_CHECK(ia[0] >= 0 && ia[0] <= 3, "reveal: bad target ", ia[0]);
    o = *in[0];
    o.vis = Vis::Public;
    break;
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
    nIn(2, 2);
    o.shape = broadcastShapes(in[0]->shape, in[1]->shape);
    o.vis = joinOperands(op, in);
    if (op == Op::Mul) {
      o.frac = in[0]->frac + in[1]->frac;
    } else {
      UMBRA_CHECK(in[0]->frac == in[1]->frac, opName(op),
                  ": fractional bits differ (", in[0]->frac, " vs ",
                  in[1]->frac, ")");
      o.frac = in[0]->frac;
    }
    break;
  case Op::Neg:
  case Op::Copy:
    nIn(1, 1);
    o = *in[0];
    break;
  case Op::MatMul: {
    nIn(2, 2);
    const Shape &a = in[0]->shape, &b = in[1]->shape;
    UMBRA_CHECK(a.size() >= 2 && b.size() >= 2,
                "matmul: operands must have rank >= 2");
    UMBRA_CHECK(a.back() == b[b.size() - 2], "matmul: inner dimensions ",
                shapeStr(a), " x ", shapeStr(b), " differ");
    if (b.size() > 2) {
      UMBRA_CHECK(a.size() == b.size() &&
                      std::equal(a.begin(), a.end() - 2, b.begin()),
                  "matmul: batch dimensions ", shapeStr(a), " x ", shapeStr(b),
                  " differ");
    }
    o.shape = a;
    o.shape.back() = b.back();
    o.vis = joinOperands(op, in);
    o.frac = in[0]->frac + in[1]->frac;
    break;
  }
  case Op::Scale:
    nIn(1, 1);
    nI(1);
    o = *in[0];
    break;
  case Op::Trunc:
    nIn(1, 1);
    nI(1);
    UMBRA_CHECK(ia[0] >= 1 && ia[0] <= 62 && ia[0] <= in[0]->frac,
                "trunc: bits ", ia[0], " invalid for an operand with ",
                in[0]->frac, " fractional bits");
    o = *in[0];
    o.frac -= int(ia[0]);
    break;
  case Op::DRelu:
  case Op::Ltz:
    nIn(1, 1);
    needBits(0);
    o = *in[0];
    o.vis = gateVis();
    o.frac = 0;
    break;
  case Op::Select:
    nIn(3, 3);
    o = *in[1];
    o.vis = gateVis();
    // The MPC protocol needs every operand shared; the holder of private
    // operands may mix in public ones.
    if (o.vis == Vis::Shared)
      for (auto *s : in)
        UMBRA_CHECK(s->vis == Vis::Shared, "select: operand '", s->name,
                    "' must be secret-shared like the others");
    UMBRA_CHECK(in[0]->shape == in[1]->shape && in[1]->shape == in[2]->shape,
                "select: operand shapes differ");
    UMBRA_CHECK(in[0]->frac == 0 && in[1]->frac == in[2]->frac,
                "select: condition must have 0 fractional bits and the "
                "branches equal ones");
    break;
  case Op::Relu:
    nIn(1, 1);
    needBits(0);
    o = *in[0];
    o.vis = gateVis();
    break;
  case Op::Max:
  case Op::ArgMax: {
    nIn(1, 1);
    needBits(2);
    gateVis();
    int64_t r = in[0]->shape.size();
    UMBRA_CHECK(ia[0] >= 0 && ia[0] < r, opName(op), ": axis ", ia[0],
                " out of range for ", shapeStr(in[0]->shape));
    UMBRA_CHECK(in[0]->shape[ia[0]] >= 1, opName(op), ": empty axis");
    o = *in[0];
    if (ia[1])
      o.shape[ia[0]] = 1;
    else
      o.shape.erase(o.shape.begin() + ia[0]);
    if (op == Op::ArgMax)
      o.frac = 0;
    break;
  }
  case Op::Reciprocal:
  case Op::Rsqrt:
    nIn(1, 1);
    nI(1);
    gateVis();
    UMBRA_CHECK(fa.size() == 2 && fa[0] > 0 && fa[1] >= fa[0] &&
                    std::isfinite(fa[1]),
                opName(op), ": needs an input range 0 < lo <= hi");
    UMBRA_CHECK(ia[0] >= 0 && ia[0] <= 64, opName(op), ": bad iterations");
    o = *in[0];
    break;
  case Op::Exp:
    nIn(1, 1);
    needBits(1);
    gateVis();
    UMBRA_CHECK(ia[0] >= 1 && ia[0] <= 16 && ia[0] <= in[0]->frac,
                "exp: t must be in [1, min(16, frac)]");
    o = *in[0];
    break;
  case Op::Poly:
    nIn(1, 1);
    gateVis();
    UMBRA_CHECK(!fa.empty() && fa.size() <= 33,
                "poly: needs 1..33 coefficients");
    for (double c : fa)
      UMBRA_CHECK(std::isfinite(c), "poly: non-finite coefficient");
    o = *in[0];
    break;
  case Op::Transpose: {
    nIn(1, 1);
    size_t r = in[0]->shape.size();
    UMBRA_CHECK(ia.size() == r, "transpose: permutation rank mismatch");
    std::vector<bool> seen(r);
    o = *in[0];
    for (size_t i = 0; i < r; ++i) {
      UMBRA_CHECK(ia[i] >= 0 && size_t(ia[i]) < r && !seen[ia[i]],
                  "transpose: invalid permutation");
      seen[ia[i]] = true;
      o.shape[i] = in[0]->shape[ia[i]];
    }
    break;
  }
  case Op::Slice: {
    nIn(1, 1);
    size_t r = in[0]->shape.size();
    UMBRA_CHECK(ia.size() == 2 * r, "slice: needs starts and ends per dim");
    o = *in[0];
    for (size_t i = 0; i < r; ++i) {
      UMBRA_CHECK(0 <= ia[i] && ia[i] <= ia[r + i] &&
                      ia[r + i] <= in[0]->shape[i],
                  "slice: range [", ia[i], ",", ia[r + i], ") out of bounds");
      o.shape[i] = ia[r + i] - ia[i];
    }
    break;
  }
  case Op::Concat: {
    nIn(1, 1 << 20);
    nI(1);
    o = *in[0];
    int64_t r = o.shape.size();
    UMBRA_CHECK(ia[0] >= 0 && ia[0] < r, "concat: bad axis");
    o.shape[ia[0]] = 0;
    o.vis = joinOperands(op, in);
    for (auto *s : in) {
      UMBRA_CHECK(int64_t(s->shape.size()) == r && s->frac == in[0]->frac,
                  "concat: operands differ in rank or scale");
      for (int64_t d = 0; d < r; ++d)
        UMBRA_CHECK(d == ia[0] || s->shape[d] == in[0]->shape[d],
                    "concat: shape mismatch");
      o.shape[ia[0]] += s->shape[ia[0]];
    }
    break;
  }
  case Op::Reshape:
  case Op::Broadcast:
    nIn(1, 1);
    o = *in[0]; // shape comes from the declared slot
    break;
  case Op::OneHot:
    nIn(1, 1);
    nI(1);
    UMBRA_CHECK(in[0]->frac == 0, "onehot: ids must have 0 fractional bits");
    UMBRA_CHECK(ia[0] >= 1 && ia[0] <= (int64_t(1) << 32), "onehot: depth ",
                ia[0], " out of range");
    UMBRA_CHECK(in[0]->vis != Vis::Shared,
                "onehot: ids must be held by one party (or public)");
    UMBRA_CHECK(in[0]->shape.size() < 8, "onehot: rank too large");
    // Expanded in plaintext by whoever holds the ids (share it after).
    o = *in[0];
    o.shape.push_back(ia[0]);
    break;
  case Op::ReduceSum: {
    nIn(1, 1);
    UMBRA_CHECK(ia.size() >= 2, "reduce_sum: needs keepdims and >= 1 axis");
    int64_t r = in[0]->shape.size();
    std::vector<bool> red(r, false);
    for (size_t i = 1; i < ia.size(); ++i) {
      UMBRA_CHECK(ia[i] >= 0 && ia[i] < r && !red[ia[i]], "reduce_sum: axis ",
                  ia[i], " invalid or repeated for ", shapeStr(in[0]->shape));
      red[ia[i]] = true;
    }
    o = *in[0];
    o.shape.clear();
    for (int64_t d = 0; d < r; ++d)
      if (!red[d])
        o.shape.push_back(in[0]->shape[d]);
      else if (ia[0])
        o.shape.push_back(1);
    break;
  }
  default:
    fail("unknown opcode ", int(op));
  }
  o.name.clear();
  o.weight = -1;
  o.numel = numel(o.shape);
  return o;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Program Program::loadFile(const std::string &path) {
  Program p(Artifact::open(path));
  try {
    p.verify();
  } catch (const Error &e) {
    fail("invalid program '", path, "': ", e.what());
  }
  return p;
}

Program Program::loadBytes(std::vector<uint8_t> bytes) {
  Program p(Artifact::fromBytes(std::move(bytes)));
  p.verify();
  return p;
}

int Program::slotByName(const std::string &name) const {
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].name == name)
      return int(i);
  return -1;
}

const uint8_t *Program::weightData(int s) const {
  const BlobEntry &w = weights.at(slots.at(s).weight);
  UMBRA_CHECK(w.present, "weight '", slots[s].name,
              "' is not in this copy of the artifact (owner weights were "
              "stripped; the model owner needs the full file)");
  return artifact_->blobData(slots[s].weight);
}

std::vector<double> Program::weightReal(int s, int64_t limit) const {
  const SlotInfo &si = slots.at(s);
  const BlobEntry &w = weights.at(si.weight);
  const uint8_t *d = weightData(s);
  std::vector<double> out(limit < 0 ? si.numel : std::min(limit, si.numel));
  for (int64_t i = 0; i < int64_t(out.size()); ++i) {
    if (w.dtype == DType::F64) {
      std::memcpy(&out[i], d + 8 * i, 8);
    } else if (w.dtype == DType::F32) {
      float f;
      std::memcpy(&f, d + 4 * i, 4);
      out[i] = f;
    } else {
      uint64_t v;
      std::memcpy(&v, d + 8 * i, 8);
      out[i] = decodeFixed(v, si.frac);
    }
  }
  return out;
}

std::vector<uint64_t> Program::weightRing(int s) const {
  const SlotInfo &si = slots.at(s);
  const BlobEntry &w = weights.at(si.weight);
  if (w.dtype == DType::I64) {
    std::vector<uint64_t> out(si.numel);
    std::memcpy(out.data(), weightData(s), 8 * si.numel);
    return out;
  }
  std::vector<double> r = weightReal(s);
  std::vector<uint64_t> out(r.size());
  for (size_t i = 0; i < r.size(); ++i)
    out[i] = encodeFixed(r[i], si.frac);
  return out;
}

void Program::verify() {
  // The container (header, hashes, FlatBuffers verifier, blob layout) was
  // checked by Artifact; what follows is what the program means.
  const fb::Program *fp = fb::GetProgram(artifact_->program());
  UMBRA_CHECK(fp->isa_version() == kIsaVersion, "instruction-set version ",
              fp->isa_version(), " is not supported (runtime has ", kIsaVersion,
              ")");
  fracBits = fp->frac_bits();
  UMBRA_CHECK(fracBits >= 0 && fracBits <= 40, "frac_bits ", fracBits,
              " out of range [0, 40]");
  UMBRA_CHECK(fp->slots() && fp->instrs(), "missing slots or instructions");
  weights = artifact_->blobs();
  std::vector<bool> weightUsed(weights.size());
  for (const fb::Slot *s : *fp->slots()) {
    SlotInfo si;
    size_t idx = slots.size();
    si.name = s->name() ? s->name()->str() : "%" + std::to_string(idx);
    if (s->shape())
      si.shape.assign(s->shape()->begin(), s->shape()->end());
    UMBRA_CHECK(si.shape.size() <= 8, "slot ", idx, ": rank > 8");
    si.numel = numel(si.shape);
    si.frac = s->frac_bits();
    UMBRA_CHECK(si.frac >= 0 && si.frac <= 62, "slot ", idx,
                ": fractional bits ", si.frac, " out of range");
    si.vis = Vis(s->visibility());
    UMBRA_CHECK(uint8_t(si.vis) <= 3, "slot ", idx, ": bad visibility");
    si.weight = s->weight();
    if (si.weight != -1) {
      UMBRA_CHECK(si.weight >= 0 && size_t(si.weight) < weights.size(), "slot ",
                  idx, ": weight index ", si.weight, " out of range");
      UMBRA_CHECK(si.vis == Vis::Public || si.vis == Vis::Owner, "slot ", idx,
                  ": only public or owner slots can carry weights");
      const BlobEntry &w = weights[si.weight];
      UMBRA_CHECK(w.present || si.vis == Vis::Owner, "slot ", idx, ": weight ",
                  si.weight, " out of bounds (file truncated?)");
      uint64_t es = w.dtype == DType::F32 ? 4 : 8;
      UMBRA_CHECK(w.size == uint64_t(si.numel) * es, "slot ", idx,
                  ": weight size ", w.size, " does not match shape ",
                  shapeStr(si.shape));
      UMBRA_CHECK(!weightUsed[si.weight], "weight ", si.weight,
                  " used by two slots");
      weightUsed[si.weight] = true;
    }
    slots.push_back(std::move(si));
  }
  size_t ns = slots.size();
  std::vector<bool> defined(ns, false);
  isConst.assign(ns, false);
  for (size_t i = 0; i < ns; ++i)
    if (slots[i].weight >= 0) {
      defined[i] = true;
      isConst[i] = true;
    }
  // Inputs: slots that no instruction produces and that carry no weight.
  std::vector<bool> produced(ns, false);
  for (const fb::Instr *in : *fp->instrs())
    if (in->outputs())
      for (int o : *in->outputs())
        if (o >= 0 && size_t(o) < ns)
          produced[o] = true;
  for (size_t i = 0; i < ns; ++i)
    if (!produced[i] && !defined[i]) {
      inputs.push_back(int(i));
      defined[i] = true;
    }

  for (const fb::Instr *fi : *fp->instrs()) {
    size_t idx = instrs.size();
    try {
      InstrInfo ii;
      ii.op = Op(fi->op());
      UMBRA_CHECK(uint16_t(ii.op) < uint16_t(Op::NumOps), "unknown opcode ",
                  uint16_t(ii.op));
      if (fi->inputs())
        ii.in.assign(fi->inputs()->begin(), fi->inputs()->end());
      if (fi->outputs())
        ii.out.assign(fi->outputs()->begin(), fi->outputs()->end());
      if (fi->iattrs())
        ii.iattrs.assign(fi->iattrs()->begin(), fi->iattrs()->end());
      if (fi->fattrs())
        ii.fattrs.assign(fi->fattrs()->begin(), fi->fattrs()->end());
      if (fi->reason())
        ii.reason = fi->reason()->str();
      if (fi->name())
        ii.name = fi->name()->str();
      UMBRA_CHECK(ii.out.size() == 1, "expects exactly one output");
      std::vector<const SlotInfo *> ins;
      bool allConst = true;
      for (int s : ii.in) {
        UMBRA_CHECK(s >= 0 && size_t(s) < ns, "operand index ", s,
                    " out of range (", ns, " slots)");
        UMBRA_CHECK(defined[s], "operand '", slots[s].name,
                    "' used before it is defined");
        ins.push_back(&slots[s]);
        allConst = allConst && isConst[s];
      }
      int o = ii.out[0];
      UMBRA_CHECK(o >= 0 && size_t(o) < ns, "result index ", o,
                  " out of range (", ns, " slots)");
      UMBRA_CHECK(!defined[o], "result '", slots[o].name, "' is defined twice");
      SlotInfo want = inferOutput(ii.op, ins, ii.iattrs, ii.fattrs);
      const SlotInfo &got = slots[o];
      if (ii.op == Op::Reshape) {
        UMBRA_CHECK(got.numel == ins[0]->numel, "reshape ",
                    shapeStr(ins[0]->shape), " -> ", shapeStr(got.shape),
                    " changes the element count");
        want.shape = got.shape;
      } else if (ii.op == Op::Broadcast) {
        broadcastShapes(ins[0]->shape, got.shape);
        UMBRA_CHECK(broadcastShapes(ins[0]->shape, got.shape) == got.shape,
                    "cannot broadcast ", shapeStr(ins[0]->shape), " to ",
                    shapeStr(got.shape));
        want.shape = got.shape;
      } else if (ii.op == Op::Scale) {
        want.frac = got.frac;
      }
      UMBRA_CHECK(want.shape == got.shape, "result '", got.name, "' has shape ",
                  shapeStr(got.shape), ", expected ", shapeStr(want.shape));
      UMBRA_CHECK(want.frac == got.frac, "result '", got.name, "' has ",
                  got.frac, " fractional bits, expected ", want.frac);
      UMBRA_CHECK(want.vis == got.vis, "result '", got.name, "' is ",
                  visName(got.vis), ", expected ", visName(want.vis));
      UMBRA_CHECK(got.weight < 0, "result '", got.name, "' carries a weight");
      ii.deploy = allConst && !ii.in.empty() && ii.op != Op::Reveal;
      if (ii.op == Op::Share)
        ii.deploy = isConst[ii.in[0]];
      defined[o] = true;
      isConst[o] = ii.deploy;
      instrs.push_back(std::move(ii));
    } catch (const Error &e) {
      fail("instruction ", idx, " (",
           uint16_t(fi->op()) < uint16_t(Op::NumOps) ? opName(Op(fi->op()))
                                                     : "?",
           "): ", e.what());
    }
  }
  lastUse.assign(ns, -1);
  for (size_t i = 0; i < instrs.size(); ++i)
    for (int s : instrs[i].in)
      lastUse[s] = int64_t(i);
  if (fp->outputs())
    for (int o : *fp->outputs()) {
      UMBRA_CHECK(o >= 0 && size_t(o) < ns, "output index ", o,
                  " out of range");
      outputs.push_back(o);
    }
}

//===----------------------------------------------------------------------===//
// Builder
//===----------------------------------------------------------------------===//

int ProgramBuilder::slot(const std::string &name, Shape shape, Vis vis,
                         int frac) {
  SlotInfo s;
  s.name = name.empty() ? "%" + std::to_string(slots_.size()) : name;
  s.shape = std::move(shape);
  s.numel = numel(s.shape);
  s.frac = frac < 0 ? frac_ : frac;
  s.vis = vis;
  slots_.push_back(std::move(s));
  return int(slots_.size() - 1);
}

int ProgramBuilder::input(const std::string &name, Shape shape, Vis vis,
                          int frac) {
  return slot(name, std::move(shape), vis, frac);
}

int ProgramBuilder::constant(const std::string &name, Shape shape, Vis vis,
                             const std::vector<double> &values, int frac,
                             DType dtype) {
  int s = slot(name, std::move(shape), vis, frac);
  UMBRA_CHECK(int64_t(values.size()) == slots_[s].numel, "constant '", name,
              "': value count mismatch");
  std::vector<uint8_t> blob(values.size() * (dtype == DType::F32 ? 4 : 8));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::F64) {
      std::memcpy(blob.data() + 8 * i, &values[i], 8);
    } else if (dtype == DType::F32) {
      float f = float(values[i]);
      std::memcpy(blob.data() + 4 * i, &f, 4);
    } else {
      uint64_t v = encodeFixed(values[i], slots_[s].frac);
      std::memcpy(blob.data() + 8 * i, &v, 8);
    }
  }
  blobTypes_.push_back(dtype);
  slots_[s].weight = int(blobs_.size());
  blobs_.push_back(std::move(blob));
  return s;
}

void ProgramBuilder::instr(Op op, std::vector<int> in, std::vector<int> out,
                           std::vector<int64_t> iattrs,
                           std::vector<double> fattrs, std::string reason,
                           std::string name) {
  InstrInfo ii;
  ii.op = op;
  ii.in = std::move(in);
  ii.out = std::move(out);
  ii.iattrs = std::move(iattrs);
  ii.fattrs = std::move(fattrs);
  ii.reason = std::move(reason);
  ii.name = std::move(name);
  instrs_.push_back(std::move(ii));
}

int ProgramBuilder::emit(Op op, std::vector<int> in, std::vector<int64_t> ia,
                         std::vector<double> fa, std::string reason) {
  std::vector<const SlotInfo *> ins;
  for (int s : in)
    ins.push_back(&slots_.at(s));
  SlotInfo o = inferOutput(op, ins, ia, fa);
  int s = slot("", o.shape, o.vis, o.frac);
  instr(op, std::move(in), {s}, std::move(ia), std::move(fa),
        std::move(reason));
  return s;
}

int ProgramBuilder::mulT(int a, int b) {
  int f = slots_.at(b).frac;
  int m = mul(a, b);
  return f ? trunc(m, f) : m;
}
int ProgramBuilder::matmulT(int a, int b) {
  int f = slots_.at(b).frac;
  int m = matmul(a, b);
  return f ? trunc(m, f) : m;
}
int ProgramBuilder::reshape(int a, Shape shape) {
  const SlotInfo &si = slots_.at(a);
  int s = slot("", std::move(shape), si.vis, si.frac);
  instr(Op::Reshape, {a}, {s});
  return s;
}
int ProgramBuilder::broadcast(int a, Shape shape) {
  const SlotInfo &si = slots_.at(a);
  int s = slot("", std::move(shape), si.vis, si.frac);
  instr(Op::Broadcast, {a}, {s});
  return s;
}

std::vector<uint8_t> ProgramBuilder::finish() const {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Slot>> slots;
  for (const SlotInfo &s : slots_)
    slots.push_back(fb::CreateSlot(fbb, fbb.CreateString(s.name),
                                   fbb.CreateVector(s.shape), s.frac,
                                   fb::Visibility(s.vis), s.weight));
  std::vector<flatbuffers::Offset<fb::Instr>> instrs;
  for (const InstrInfo &i : instrs_)
    instrs.push_back(fb::CreateInstr(
        fbb, fb::OpCode(i.op), fbb.CreateVector(i.in), fbb.CreateVector(i.out),
        fbb.CreateVector(i.iattrs), fbb.CreateVector(i.fattrs),
        fbb.CreateString(i.reason), fbb.CreateString(i.name)));
  std::vector<bool> ownerBlob(blobs_.size(), false);
  for (const SlotInfo &s : slots_)
    if (s.weight >= 0 && s.vis == Vis::Owner)
      ownerBlob[s.weight] = true;
  ArtifactWriter writer;
  for (size_t i = 0; i < blobs_.size(); ++i)
    writer.addBlob(blobs_[i].data(), blobs_[i].size(), blobTypes_[i],
                   ownerBlob[i]);
  auto weights = writer.weightTables(fbb);
  auto prog = fb::CreateProgram(fbb, kIsaVersion, frac_,
                                fbb.CreateVector(slots),
                                fbb.CreateVector(instrs), weights,
                                fbb.CreateVector(outputs_));
  fb::FinishProgramBuffer(fbb, prog);
  return writer.bytes(fbb.GetBufferPointer(), fbb.GetSize());
}

void Program::stripOwnerWeights(const std::string &in, const std::string &out) {
  // Verify the whole program first: a stripped copy of a bad artifact
  // would only fail later, at another party.
  loadFile(in).artifact_->writeWithoutOwnerBlobs(out);
}

void ProgramBuilder::writeFile(const std::string &path) const {
  std::vector<uint8_t> b = finish();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(b.data()), b.size());
  UMBRA_CHECK(f.good(), "cannot write '", path, "'");
}

} // namespace umbra::rt
