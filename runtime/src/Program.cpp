//===- Program.cpp - Artifact loading, verification and building ----------===//
#include "umbra/runtime/Program.h"
#include "umbra/runtime/EnumName.h"
#include "umbra/runtime/Isa.h"
#include "program_generated.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

namespace umbra::rt {

const char *visName(Vis v) {
  static const char *const kNames[] = {"public", "client", "owner", "shared"};
  static_assert(std::size(kNames) == size_t(Vis::Shared) + 1);
  return enumName(kNames, size_t(v));
}

int64_t numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s) {
    UMBRA_CHECK(d >= 0 && d <= kMaxDim, "invalid dimension ", d);
    UMBRA_CHECK(d == 0 || n <= kMaxElements / d, "tensor too large: ",
                shapeStr(s));
    n *= d;
  }
  return n;
}

bool isPlainFileName(const std::string &name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}
std::string shapeStr(const Shape &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "x" : "") + std::to_string(s[i]);
  return r + "]";
}

bool fitsFixed(double v, int frac) {
  double s = std::ldexp(v, frac);
  return std::isfinite(s) && std::fabs(s) < 9.2e18;
}

uint64_t encodeFixed(double v, int frac) {
  double s = std::ldexp(v, frac);
  UMBRA_CHECK(fitsFixed(v, frac), "value ", v,
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

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Program Program::loadFile(const std::string &path) {
  Program p(Artifact::open(path));
  try {
    p.verify(fb::GetProgram(p.artifact_->program()), -1);
  } catch (const Error &e) {
    fail("invalid program '", path, "': ", e.what());
  }
  return p;
}

Program Program::loadBytes(std::vector<uint8_t> bytes) {
  Program p(Artifact::fromBytes(std::move(bytes)));
  p.verify(fb::GetProgram(p.artifact_->program()), -1);
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

Program Program::decodeStep(int64_t p) const {
  UMBRA_CHECK(generation, "the artifact has no decode step (compile it with "
                          "mpc-compile --decode-step)");
  UMBRA_CHECK(p >= generation->promptLen && p < generation->maxSeq,
              "context length ", p, " outside the decode step's range [",
              generation->promptLen, ", ", generation->maxSeq, ")");
  const fb::Program *root = fb::GetProgram(artifact_->program());
  Program d(artifact_);
  try {
    d.verify(root->generation()->decode_nested_root(), p);
  } catch (const Error &e) {
    fail("decode step at context ", p, ": ", e.what());
  }
  return d;
}

void Program::verifyGeneration(const fb::Generation &g) {
  GenerationInfo info;
  info.promptLen = g.prompt_len();
  info.maxSeq = g.max_seq();
  UMBRA_CHECK(info.promptLen >= 1 && info.promptLen + 1 < info.maxSeq &&
                  info.maxSeq <= kMaxDim,
              "generation: prompt length ", info.promptLen,
              " and maximum sequence ", info.maxSeq, " are inconsistent");
  UMBRA_CHECK(g.decode() && g.decode_nested_root() && g.cache() &&
                  g.cache()->size() > 0,
              "generation: missing decode step or cache");
  info.prefillToken = g.prefill_token();
  info.decodeToken = g.decode_token();
  info.decodeIds = g.decode_ids();
  info.decodePosition = g.decode_position();
  info.prefillStop = g.prefill_stop();
  info.decodeStop = g.decode_stop();
  for (const fb::CacheEntry *c : *g.cache())
    info.cache.push_back({c->name() ? c->name()->str() : "",
                          c->prefill_output(), c->decode_input(),
                          c->decode_output()});
  generation = info;
  // Both ends of the context range, so that a bad extent fails at load.
  Program first = decodeStep(info.promptLen);
  Program last = decodeStep(info.maxSeq - 1);
  auto isOutput = [](const Program &p, int s) {
    return std::find(p.outputs.begin(), p.outputs.end(), s) != p.outputs.end();
  };
  auto isInput = [](const Program &p, int s) {
    return std::find(p.inputs.begin(), p.inputs.end(), s) != p.inputs.end();
  };
  // The token is revealed to the client alone, as one integer.
  auto token = [&](const Program &p, int s, const char *what) {
    bool toClient = false;
    for (const InstrInfo &I : p.instrs)
      if (I.out[0] == s)
        toClient = I.op() == Op::Reveal &&
                   (I.attrs.AsReveal()->to == RevealTo::Client ||
                    I.attrs.AsReveal()->to == RevealTo::P0);
    UMBRA_CHECK(s >= 0 && size_t(s) < p.slots.size() && isOutput(p, s) &&
                    toClient && p.slots[s].numel == 1 && p.slots[s].frac == 0,
                "generation: the ", what,
                " token is not one integer output revealed to the client");
  };
  token(*this, info.prefillToken, "prefill's");
  token(first, info.decodeToken, "decode step's");
  // The opt-in stop: one integer revealed to every role, in both or neither.
  auto stop = [&](const Program &p, int s) {
    bool toAll = false;
    for (const InstrInfo &I : p.instrs)
      if (I.out[0] == s)
        toAll = I.op() == Op::Reveal &&
                I.attrs.AsReveal()->to == RevealTo::Both;
    UMBRA_CHECK(s >= 0 && size_t(s) < p.slots.size() && isOutput(p, s) &&
                    toAll && p.slots[s].numel == 1 && p.slots[s].frac == 0,
                "generation: the stop output is not one integer revealed to "
                "every role");
  };
  UMBRA_CHECK((info.prefillStop < 0) == (info.decodeStop < 0),
              "generation: only one program has a stop output");
  if (info.prefillStop >= 0) {
    stop(*this, info.prefillStop);
    stop(first, info.decodeStop);
  }
  // The token is the client's; the position (the cache length) public.
  UMBRA_CHECK(info.decodeIds >= 0 && size_t(info.decodeIds) < first.slots.size() &&
                  isInput(first, info.decodeIds) &&
                  first.slots[info.decodeIds].vis == Vis::Client &&
                  first.slots[info.decodeIds].numel == 1,
              "generation: the decode step's token input is not one client "
              "input");
  int pos = info.decodePosition;
  UMBRA_CHECK(pos == -1 || (pos >= 0 && size_t(pos) < first.slots.size() &&
                            isInput(first, pos) &&
                            first.slots[pos].vis == Vis::Public &&
                            first.slots[pos].numel == 1),
              "generation: the decode step's position input is not one "
              "public input");
  Program next = decodeStep(info.promptLen + 1);
  for (const CacheLink &c : info.cache) {
    UMBRA_CHECK(c.prefillOutput >= 0 && size_t(c.prefillOutput) < slots.size() &&
                    isOutput(*this, c.prefillOutput) &&
                    slots[c.prefillOutput].vis == Vis::Shared,
                "generation: cache '", c.name,
                "' is not a shared output of the prefill");
    for (const Program *p : {&first, &last})
      UMBRA_CHECK(c.decodeInput >= 0 &&
                      size_t(c.decodeInput) < p->slots.size() &&
                      c.decodeOutput >= 0 &&
                      size_t(c.decodeOutput) < p->slots.size() &&
                      isInput(*p, c.decodeInput) &&
                      isOutput(*p, c.decodeOutput) &&
                      p->slots[c.decodeInput].vis == Vis::Shared &&
                      p->slots[c.decodeOutput].vis == Vis::Shared &&
                      p->slots[c.decodeInput].frac ==
                          slots[c.prefillOutput].frac &&
                      p->slots[c.decodeOutput].frac ==
                          slots[c.prefillOutput].frac,
                  "generation: cache '", c.name,
                  "' is not a shared input and output of the decode step "
                  "with the prefill's fixed point");
    UMBRA_CHECK(first.slots[c.decodeInput].shape ==
                    slots[c.prefillOutput].shape,
                "generation: cache '", c.name, "' leaves the prefill as ",
                shapeStr(slots[c.prefillOutput].shape),
                " but the first step reads ",
                shapeStr(first.slots[c.decodeInput].shape));
    UMBRA_CHECK(first.slots[c.decodeOutput].shape ==
                    next.slots[c.decodeInput].shape,
                "generation: cache '", c.name,
                "' does not chain from one step to the next");
  }
}

void Program::verify(const fb::Program *fp, int64_t ctx) {
  // The container (header, hashes, FlatBuffers verifier, blob layout) was
  // checked by Artifact; what follows is what the program means.
  context = ctx;
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
    UMBRA_CHECK(si.shape.size() <= kMaxRank, "slot ", idx, ": rank ",
                si.shape.size(), " > ", kMaxRank);
    si.contextAxis = s->context_axis();
    if (si.contextAxis != -1) {
      UMBRA_CHECK(ctx >= 0 && si.contextAxis >= 0 &&
                      size_t(si.contextAxis) < si.shape.size(),
                  "slot ", idx, ": context axis ", si.contextAxis,
                  " outside a decode step or its rank");
      si.contextScale = s->context_scale();
      si.contextOffset = s->context_offset();
      // In 128 bits: a hostile artifact's scale times the context must
      // not overflow before numel() checks the extent.
      __int128 d = __int128(si.contextScale) * ctx + si.contextOffset;
      UMBRA_CHECK(d >= 0 && d <= kMaxDim, "slot ", idx,
                  ": context extent out of range");
      si.shape[si.contextAxis] = int64_t(d);
    }
    si.numel = numel(si.shape);
    si.frac = s->frac_bits();
    UMBRA_CHECK(si.frac >= 0 && si.frac <= 62, "slot ", idx,
                ": fractional bits ", si.frac, " out of range");
    si.vis = Vis(s->visibility());
    UMBRA_CHECK(uint8_t(si.vis) <= 3, "slot ", idx, ": bad visibility");
    si.weight = s->weight();
    si.elemType = uint8_t(s->elem_type());
    UMBRA_CHECK(si.elemType <= uint8_t(fb::ElemType::MAX), "slot ", idx,
                ": bad element type");
    UMBRA_CHECK(si.elemType == 0 || si.frac == 0, "slot ", idx,
                ": an integer or bool slot has 0 fractional bits");
    if (si.weight != -1) {
      UMBRA_CHECK(si.weight >= 0 && size_t(si.weight) < weights.size(), "slot ",
                  idx, ": weight index ", si.weight, " out of range");
      UMBRA_CHECK(si.vis == Vis::Public || si.vis == Vis::Owner, "slot ", idx,
                  ": only public or owner slots can carry weights");
      const BlobEntry &w = weights[si.weight];
      // The compiler refuses this too; a hand-made or altered artifact that
      // would publish an owner-derived value is refused here, before any
      // role sees a byte of it.
      UMBRA_CHECK(si.vis != Vis::Public || w.origin != Origin::Owner, "slot ",
                  idx, " ('", si.name, "'): public constant whose weight ",
                  si.weight, " has origin owner",
                  w.source.empty() ? "" : " (from '" + w.source + "')",
                  "; an owner-derived value is never public");
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
  isPrepared.assign(ns, false);
  // Slots the dealer holds in the clear: public blobs and inputs, what is
  // computed from them, and reveals to it (a live-block mask must be one:
  // it sizes the dealer's material).
  std::vector<bool> dealerKnows(ns);
  for (size_t i = 0; i < ns; ++i)
    dealerKnows[i] = slots[i].vis == Vis::Public;
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
      Op op = fi->attrs_type();
      UMBRA_CHECK(op != Op::NONE && op <= Op::MAX && fi->attrs(),
                  "unknown opcode ", int(op));
      ii.attrs.type = op;
      ii.attrs.value = Attrs::UnPack(fi->attrs(), op, nullptr);
      if (fi->inputs())
        ii.in.assign(fi->inputs()->begin(), fi->inputs()->end());
      if (fi->outputs())
        ii.out.assign(fi->outputs()->begin(), fi->outputs()->end());
      if (fi->name())
        ii.name = fi->name()->str();
      UMBRA_CHECK(ii.out.size() == 1, "expects exactly one output");
      std::vector<const SlotInfo *> ins;
      bool allConst = true, allFixed = true, anyPrepared = false;
      for (int s : ii.in) {
        UMBRA_CHECK(s >= 0 && size_t(s) < ns, "operand index ", s,
                    " out of range (", ns, " slots)");
        UMBRA_CHECK(defined[s], "operand '", slots[s].name,
                    "' used before it is defined");
        ins.push_back(&slots[s]);
        allConst = allConst && isConst[s];
        allFixed = allFixed && (isConst[s] || isPrepared[s]);
        anyPrepared = anyPrepared || isPrepared[s];
      }
      int o = ii.out[0];
      UMBRA_CHECK(o >= 0 && size_t(o) < ns, "result index ", o,
                  " out of range (", ns, " slots)");
      UMBRA_CHECK(!defined[o], "result '", slots[o].name, "' is defined twice");
      const SlotInfo &got = slots[o];
      SlotInfo want = inferOutput(ii.attrs, ins, &got);
      UMBRA_CHECK(want.shape == got.shape, "result '", got.name, "' has shape ",
                  shapeStr(got.shape), ", expected ", shapeStr(want.shape));
      UMBRA_CHECK(want.frac == got.frac, "result '", got.name, "' has ",
                  got.frac, " fractional bits, expected ", want.frac);
      UMBRA_CHECK(want.vis == got.vis, "result '", got.name, "' is ",
                  visName(got.vis), ", expected ", visName(want.vis));
      UMBRA_CHECK(got.weight < 0, "result '", got.name, "' carries a weight");
      ii.deploy = allConst && !ii.in.empty() && op != Op::Reveal &&
                  !(op == Op::Shuffle && ii.attrs.AsShuffle()->per_inference);
      if (op == Op::Share)
        ii.deploy = isConst[ii.in[0]];
      // Input-independent work of every inference: a per-inference shuffle
      // of constants and what is computed from it (InstrInfo::prepare).
      ii.prepare = !ii.deploy && !ii.in.empty() && op != Op::Reveal &&
                   allFixed && (anyPrepared || op == Op::Shuffle);
      int maskOperand = op == Op::BlockMatmul ? 2
                        : (op == Op::Relu || op == Op::Trunc) && ii.in.size() == 2
                            ? 1
                            : -1;
      if (maskOperand >= 0)
        UMBRA_CHECK(dealerKnows[ii.in[size_t(maskOperand)]], opName(op),
                    ": the live-block mask '",
                    slots[ii.in[size_t(maskOperand)]].name,
                    "' is not known to the dealer, whose material it sizes "
                    "(it must come from a reveal to P0, P1 and the dealer)");
      bool known = got.vis == Vis::Public;
      if (op == Op::Reveal)
        known = ii.attrs.AsReveal()->to == RevealTo::BothAndDealer;
      else
        for (int s : ii.in)
          known = known && dealerKnows[s];
      dealerKnows[o] = known;
      defined[o] = true;
      isConst[o] = ii.deploy;
      isPrepared[o] = ii.prepare;
      instrs.push_back(std::move(ii));
    } catch (const Error &e) {
      fail("instruction ", idx, " (", opName(fi->attrs_type()), "): ",
           e.what());
    }
  }
  // Products that share an opened left operand (InstrInfo::lhsFrom).
  std::map<int, size_t> firstProduct;
  for (size_t i = 0; i < instrs.size(); ++i) {
    InstrInfo &I = instrs[i];
    bool product =
        I.op() == Op::Matmul ||
        (I.op() == Op::BlockMatmul && !I.attrs.AsBlockMatmul()->sparse_input);
    if (!product || I.deploy || I.prepare || !fixedOperand(I.in[1]) ||
        slots[I.in[0]].vis != Vis::Shared ||
        slots[I.in[1]].vis != Vis::Shared || slots[I.in[1]].shape.size() != 2)
      continue;
    auto [it, first] = firstProduct.emplace(I.in[0], i);
    if (!first) {
      I.lhsFrom = int64_t(it->second);
      instrs[it->second].lhsKept = true;
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
      UMBRA_CHECK(isPlainFileName(slots[o].name), "output name '",
                  slots[o].name,
                  "' is not a plain file name (outputs are written as "
                  "NAME.npy under the output directory)");
      outputs.push_back(o);
    }
  if (ctx < 0 && fp->generation())
    verifyGeneration(*fp->generation());
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

void ProgramBuilder::instr(std::vector<int> in, std::vector<int> out,
                           Attrs attrs, std::string name) {
  InstrInfo ii;
  ii.attrs = std::move(attrs);
  ii.in = std::move(in);
  ii.out = std::move(out);
  ii.name = std::move(name);
  instrs_.push_back(std::move(ii));
}

int ProgramBuilder::emit(std::vector<int> in, Attrs attrs) {
  std::vector<const SlotInfo *> ins;
  for (int s : in)
    ins.push_back(&slots_.at(s));
  SlotInfo o = inferOutput(attrs, ins);
  int s = slot("", o.shape, o.vis, o.frac);
  instr(std::move(in), {s}, std::move(attrs));
  return s;
}

int ProgramBuilder::reveal(int x, RevealTo to, std::string why) {
  fb::RevealT r;
  r.to = to;
  r.reason = std::move(why);
  return emit({x}, std::move(r));
}
int ProgramBuilder::trunc(int a, int bits) {
  fb::TruncT t;
  t.bits = bits;
  return emit({a}, t);
}
int ProgramBuilder::scale(int a, int64_t factor) {
  fb::ScaleT t;
  t.factor = factor;
  return emit({a}, t);
}
/// A comparison's attribute table with its width (and reduction axis).
template <typename T> static T compare(int bits) {
  T t;
  t.bits = uint8_t(bits);
  return t;
}
template <typename T> static T reduction(int axis, bool keepdims, int bits) {
  T t = compare<T>(bits);
  t.axis = axis;
  t.keepdims = keepdims;
  return t;
}
int ProgramBuilder::drelu(int a, int bits) {
  return emit({a}, compare<fb::DreluT>(bits));
}
int ProgramBuilder::ltz(int a, int bits) {
  return emit({a}, compare<fb::LtzT>(bits));
}
int ProgramBuilder::relu(int a, int bits) {
  return emit({a}, compare<fb::ReluT>(bits));
}
int ProgramBuilder::max(int a, int axis, bool keepdims, int bits) {
  return emit({a}, reduction<fb::MaxT>(axis, keepdims, bits));
}
int ProgramBuilder::argmax(int a, int axis, bool keepdims, int bits) {
  return emit({a}, reduction<fb::ArgmaxT>(axis, keepdims, bits));
}
int ProgramBuilder::exp(int a, int squarings, int bits) {
  fb::ExpT t;
  t.squarings = squarings;
  t.bits = uint8_t(bits);
  return emit({a}, t);
}
template <typename T> static T inverse(double lo, double hi, int iterations) {
  T t;
  t.lo = lo;
  t.hi = hi;
  t.iterations = iterations;
  return t;
}
int ProgramBuilder::reciprocal(int a, double lo, double hi, int iterations) {
  return emit({a}, inverse<fb::ReciprocalT>(lo, hi, iterations));
}
int ProgramBuilder::rsqrt(int a, double lo, double hi, int iterations) {
  return emit({a}, inverse<fb::RsqrtT>(lo, hi, iterations));
}
int ProgramBuilder::poly(int a, std::vector<double> coefficients) {
  fb::PolyT t;
  t.coefficients = std::move(coefficients);
  return emit({a}, std::move(t));
}
int ProgramBuilder::transpose(int a, std::vector<int64_t> permutation) {
  fb::TransposeT t;
  t.permutation = std::move(permutation);
  return emit({a}, std::move(t));
}
int ProgramBuilder::slice(int a, const std::vector<int64_t> &starts,
                          const std::vector<int64_t> &ends) {
  const SlotInfo &si = slots_.at(a);
  UMBRA_CHECK(starts.size() == si.shape.size() && ends.size() == starts.size(),
              "slice: needs a start and an end per dimension");
  Shape out(starts.size());
  for (size_t d = 0; d < out.size(); ++d)
    out[d] = ends[d] - starts[d];
  fb::SliceT t;
  t.offsets = starts;
  Attrs at;
  at.Set(std::move(t));
  SlotInfo declared;
  declared.shape = out;
  SlotInfo o = inferOutput(at, {&si}, &declared);
  int s = slot("", o.shape, o.vis, o.frac);
  instr({a}, {s}, std::move(at));
  return s;
}
int ProgramBuilder::concat(std::vector<int> in, int axis) {
  fb::ConcatT t;
  t.axis = axis;
  return emit(std::move(in), t);
}
int ProgramBuilder::oneHot(int ids, int64_t depth,
                           std::optional<int64_t> ignore) {
  fb::OneHotT t;
  t.depth = depth;
  if (ignore) {
    t.ignore_index = *ignore;
    t.has_ignore_index = true;
  }
  return emit({ids}, t);
}
int ProgramBuilder::reduceSum(int a, std::vector<int64_t> axes, bool keepdims) {
  fb::ReduceSumT t;
  t.axes = std::move(axes);
  t.keepdims = keepdims;
  return emit({a}, std::move(t));
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
  instr({a}, {s}, makeAttrs(fb::ReshapeT{}));
  return s;
}
int ProgramBuilder::broadcast(int a, Shape shape) {
  const SlotInfo &si = slots_.at(a);
  int s = slot("", std::move(shape), si.vis, si.frac);
  instr({a}, {s}, makeAttrs(fb::BroadcastT{}));
  return s;
}

std::vector<uint8_t> ProgramBuilder::finish() const {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Slot>> slots;
  for (const SlotInfo &s : slots_)
    slots.push_back(fb::CreateSlot(fbb, fbb.CreateString(s.name),
                                   fbb.CreateVector(s.shape), s.frac,
                                   fb::Visibility(s.vis), s.weight,
                                   fb::ElemType(s.elemType)));
  std::vector<flatbuffers::Offset<fb::Instr>> instrs;
  for (const InstrInfo &i : instrs_)
    instrs.push_back(fb::CreateInstr(
        fbb, i.op(), i.attrs.Pack(fbb), fbb.CreateVector(i.in),
        fbb.CreateVector(i.out), fbb.CreateString(i.name)));
  std::vector<bool> ownerBlob(blobs_.size(), false);
  std::vector<std::string> blobName(blobs_.size());
  for (const SlotInfo &s : slots_)
    if (s.weight >= 0) {
      ownerBlob[s.weight] = s.vis == Vis::Owner;
      blobName[s.weight] = s.name;
    }
  // A public constant of the builder is the builder's own declaration.
  ArtifactWriter writer;
  for (size_t i = 0; i < blobs_.size(); ++i)
    writer.addBlob(blobs_[i].data(), blobs_[i].size(), blobTypes_[i],
                   ownerBlob[i],
                   ownerBlob[i] ? Origin::Owner : Origin::MarkedPublic,
                   blobName[i] + " (ProgramBuilder)");
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
