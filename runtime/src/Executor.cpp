//===- Executor.cpp - Program execution -----------------------------------===//
#include "umbra/runtime/Executor.h"
#include "umbra/runtime/Isa.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

namespace umbra::rt {

static double nowSec() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

/// The ideal real-number semantics of one instruction (exact exp, 1/x, ...;
/// truncation is the identity on reals): the float reference runs every
/// instruction with it, the MPC executor the gates of private slots.
static std::vector<double>
realOf(const Program &prog, const InstrInfo &I,
       const std::vector<const std::vector<double> *> &ins) {
  RealArgs a{I, prog.slots[I.out[0]], {}, ins};
  for (int s : I.in)
    a.inSlot.push_back(&prog.slots[s]);
  std::vector<double> out = opRow(I.op()).real(a);
  UMBRA_CHECK(out.size() == size_t(a.out.numel), "internal: reference ",
              opName(I.op()), " produced ", out.size(), " elements");
  return out;
}

//===----------------------------------------------------------------------===//
// Input checks (shared by the MPC executor and the float reference)
//===----------------------------------------------------------------------===//

double maxInputMagnitude(int frac) {
  return std::ldexp(double(kMaxEncodedInput), -frac);
}

/// How the ids in `slot` are read: the smallest one_hot depth among the
/// instructions reading it (-1 when it is not an id input), the id every
/// reader maps to a zero row (an ignored label), if they all have the same
/// one, and whether every reader counts negative ids from the end.
struct IdUse {
  int64_t depth = -1;
  std::optional<int64_t> ignore;
  bool wrapNegative = false;
};
static IdUse idUse(const Program &prog, int slot) {
  IdUse use;
  bool first = true;
  for (const InstrInfo &I : prog.instrs)
    if (I.op() == Op::OneHot && I.in.at(0) == slot) {
      const auto *at = I.attrs.AsOneHot();
      int64_t d = at->depth;
      use.depth = use.depth < 0 ? d : std::min(use.depth, d);
      std::optional<int64_t> own;
      if (at->has_ignore_index)
        own = at->ignore_index;
      if (first) {
        use.ignore = own;
        use.wrapNegative = at->wrap_negative;
      } else {
        if (use.ignore != own)
          use.ignore.reset();
        use.wrapNegative = use.wrapNegative && at->wrap_negative;
      }
      first = false;
    }
  return use;
}

/// A value as the input checks print it: integers in full, others with 15
/// significant digits (not the stream's 6: an id of 1234567 stays one).
static std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

/// Values only: shape and size are the caller's (see checkInput).
static void checkInputValues(const Program &prog, int slot,
                             const std::vector<double> &values) {
  const SlotInfo &si = prog.slots.at(slot);
  UMBRA_CHECK(int64_t(values.size()) == si.numel, "input '", si.name, "' has ",
              values.size(), " elements, expected ", si.numel, " (shape ",
              shapeStr(si.shape), ")");
  IdUse ids = idUse(prog, slot);
  int64_t depth = ids.depth;
  int64_t lowest = ids.wrapNegative ? -depth : 0;
  double bound = maxInputMagnitude(si.frac);
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    UMBRA_CHECK(std::isfinite(v), "input '", si.name, "' element ", i, " is ",
                num(v), "; inputs must be finite");
    if (depth >= 0) {
      // Used as an index: rounding or truncating would pick another token.
      UMBRA_CHECK(v == std::floor(v), "input '", si.name, "' element ", i,
                  " is ", num(v), "; token ids must be integers");
      UMBRA_CHECK((v >= double(lowest) && v < double(depth)) ||
                      (ids.ignore && v == double(*ids.ignore)),
                  "input '", si.name, "' element ", i, " is token id ",
                  num(v), ", outside the vocabulary [", lowest, ", ", depth,
                  ")");
      continue;
    }
    UMBRA_CHECK(std::fabs(v) <= bound, "input '", si.name, "' element ", i,
                " is ", num(v), ", outside the representable range [",
                num(-bound), ", ", num(bound), "] (", si.frac,
                " fractional bits: the product of two encoded values must "
                "stay below 2^63)");
  }
}

void checkInput(const Program &prog, int slot, const Shape &shape,
                const std::vector<double> &values) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < prog.slots.size(), "bad input slot");
  const SlotInfo &si = prog.slots[slot];
  UMBRA_CHECK(shape == si.shape, "input '", si.name, "' has shape ",
              shapeStr(shape), ", expected ", shapeStr(si.shape));
  checkInputValues(prog, slot, values);
}

//===----------------------------------------------------------------------===//
// MPC executor
//===----------------------------------------------------------------------===//

Executor::Executor(const Program &prog, Party &party, const Executor *deployed)
    : prog_(&prog), P_(party), vals_(prog.slots.size()),
      isOutput_(prog.slots.size(), false), isInput_(prog.slots.size(), false),
      base_(deployed), t0_(nowSec()) {
  for (int s : prog.outputs)
    isOutput_[s] = true;
  for (int s : prog.inputs)
    isInput_[s] = true;
  if (base_) {
    UMBRA_CHECK(base_->deployed_ && base_->prog_->hash() == prog.hash() &&
                    base_->vals_.size() == vals_.size() &&
                    base_->P_.role == party.role,
                "internal: a session's deployment is another program's");
    deployed_ = true; // the weights and opened masks are the base's
    return;
  }
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
  const SlotInfo &si = prog_->slots[slot];
  UMBRA_CHECK(int64_t(v.size()) == si.numel, "input '", si.name, "' has ",
              v.size(), " elements, expected ", si.numel, " (shape ",
              shapeStr(si.shape), ")");
  vals_[slot] = {std::move(v), Kind::Plain};
}

void Executor::setShare(int slot, Vec share) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < vals_.size() &&
                  prog_->slots[slot].vis == Vis::Shared,
              "bad shared input slot");
  const SlotInfo &si = prog_->slots[slot];
  if (P_.dealer())
    return;
  UMBRA_CHECK(int64_t(share.size()) == si.numel, "shared input '", si.name,
              "' has ", share.size(), " elements, expected ", si.numel,
              " (shape ", shapeStr(si.shape), ")");
  vals_[slot] = {std::move(share), Kind::Shared};
}

void Executor::rebind(const Program &next) {
  UMBRA_CHECK(next.slots.size() == prog_->slots.size() &&
                  next.instrs.size() == prog_->instrs.size() &&
                  next.hash() == prog_->hash(),
              "internal: rebinding an executor to another program");
  for (size_t s = 0; s < vals_.size(); ++s) {
    UMBRA_CHECK(next.isConst[s] == prog_->isConst[s] &&
                    (!next.isConst[s] || next.slots[s].shape ==
                                             prog_->slots[s].shape),
                "internal: a deployment constant changes between programs");
    if (!next.isConst[s])
      vals_[s] = Value{};
  }
  prog_ = &next;
  std::fill(isOutput_.begin(), isOutput_.end(), false);
  std::fill(isInput_.begin(), isInput_.end(), false);
  for (int s : next.outputs)
    isOutput_[s] = true;
  for (int s : next.inputs)
    isInput_[s] = true;
}

void Executor::setInput(int slot, const std::vector<double> &values) {
  UMBRA_CHECK(slot >= 0 && size_t(slot) < vals_.size(), "bad input slot");
  const SlotInfo &si = prog_->slots[slot];
  checkInputValues(*prog_, slot, values);
  Vec v(values.size());
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = encodeFixed(values[i], si.frac);
  setInputRing(slot, std::move(v));
}

void Executor::setInputs(const std::map<int, std::vector<double>> &inputs) {
  for (const auto &[s, v] : inputs) {
    Vis vis = prog_->slots.at(s).vis;
    if (isPrivate(vis) && P_.role == holderOf(P_, vis))
      setInput(s, v);
  }
}

bool Executor::hasPlain(int slot) const {
  return !P_.dealer() && vals_.at(slot).kind == Kind::Plain;
}

std::vector<double> Executor::plainReal(int slot) const {
  UMBRA_CHECK(hasPlain(slot), "value of '", prog_->slots.at(slot).name,
              "' is not known to ", roleName(P_.role));
  const Vec &d = vals_[slot].data;
  std::vector<double> out(d.size());
  for (size_t i = 0; i < d.size(); ++i)
    out[i] = decodeFixed(d[i], prog_->slots[slot].frac);
  return out;
}

bool Executor::known(int s) const {
  if (vals_[s].kind == Kind::None && base_ && prog_->isConst[s])
    return base_->known(s);
  return vals_[s].kind != Kind::None;
}

const Executor::Value &Executor::get(int s) const {
  const Value &v = vals_[s];
  if (v.kind == Kind::None && base_ && prog_->isConst[s])
    return base_->get(s);
  UMBRA_CHECK(v.kind != Kind::None || P_.dealer(), "slot '",
              prog_->slots[s].name, "' has no value at ", roleName(P_.role),
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

/// The structural key of every deployment constant of `prog` (zero for
/// other slots): a weight by its blob, shape and encoding; a deployment
/// instruction's result by its opcode, attributes, result type and the keys
/// of its operands.
static std::vector<Sha256> deploymentKeys(const Program &prog) {
  std::vector<Sha256> key(prog.slots.size(), Sha256{});
  auto typeOf = [&](int s) {
    const SlotInfo &si = prog.slots[s];
    std::string t = shapeStr(si.shape) + "/" + std::to_string(si.frac) + "/" +
                    std::to_string(int(si.vis));
    return t;
  };
  for (size_t s = 0; s < prog.slots.size(); ++s)
    if (prog.slots[s].weight >= 0) {
      std::string k = "w" + std::to_string(prog.slots[s].weight) + ":" +
                      typeOf(int(s));
      key[s] = sha256(k.data(), k.size());
    }
  for (const InstrInfo &I : prog.instrs) {
    if (!I.deploy)
      continue;
    flatbuffers::FlatBufferBuilder fbb(256);
    fbb.Finish(flatbuffers::Offset<void>(I.attrs.Pack(fbb).o));
    std::string k = "i" + std::to_string(int(I.op())) + ":" +
                    std::string(reinterpret_cast<const char *>(
                                    fbb.GetBufferPointer()),
                                fbb.GetSize()) +
                    ":" + typeOf(I.out[0]);
    for (int s : I.in)
      k.append(reinterpret_cast<const char *>(key[s].data()), key[s].size());
    key[I.out[0]] = sha256(k.data(), k.size());
  }
  return key;
}

/// Instructions whose right operand may be a deployment constant with a
/// mask opened once (matmul, block_matmul).
static bool hasConstWeight(const InstrInfo &I) {
  return I.op() == Op::Matmul || I.op() == Op::BlockMatmul;
}

void Executor::adoptDeployment(Executor &from, bool copy) {
  UMBRA_CHECK(!deployed_ && from.deployed_,
              "internal: adopting a deployment needs a deployed executor");
  const Program &theirs = *from.prog_;
  std::vector<Sha256> mine = deploymentKeys(*prog_),
                      keys = deploymentKeys(theirs);
  std::map<Sha256, int> produced; // key -> their slot
  for (const InstrInfo &I : theirs.instrs)
    if (I.deploy)
      produced.emplace(keys[I.out[0]], I.out[0]);
  std::map<Sha256, int> taken; // key -> my slot that took their value
  // (moved from `from` once; a second slot of the same key copies mine)
  adopted_.assign(prog_->instrs.size(), false);
  for (size_t i = 0; i < prog_->instrs.size(); ++i) {
    const InstrInfo &I = prog_->instrs[i];
    if (!I.deploy)
      continue;
    int o = I.out[0];
    auto it = produced.find(mine[o]);
    if (it == produced.end())
      continue;
    auto t = taken.find(mine[o]);
    if (t != taken.end())
      vals_[o] = vals_[t->second]; // computed twice here, once there
    else
      vals_[o] = copy ? from.vals_[it->second]
                      : std::move(from.vals_[it->second]);
    taken.emplace(mine[o], o);
    adopted_[i] = true;
  }
  // The opened masks of constant matmul operands, by the operand's key
  // (the same conditions as runDeployment's).
  std::map<Sha256, size_t> masked, mineMasked;
  for (const auto &[j, m] : from.masks_)
    masked.emplace(keys[theirs.instrs[j].in[1]], j);
  for (size_t i = 0; i < prog_->instrs.size(); ++i) {
    const InstrInfo &I = prog_->instrs[i];
    if (I.deploy || !hasConstWeight(I) || !prog_->isConst[I.in[1]] ||
        prog_->slots[I.in[1]].vis != Vis::Shared ||
        prog_->slots[I.in[0]].vis != Vis::Shared)
      continue;
    const Sha256 &k = mine[I.in[1]];
    if (auto m = mineMasked.find(k); m != mineMasked.end())
      masks_[i] = masks_.at(m->second);
    else if (auto it = masked.find(k); it != masked.end())
      masks_[i] = copy ? from.masks_.at(it->second)
                       : std::move(from.masks_.at(it->second));
    else
      continue;
    mineMasked.emplace(k, i);
  }
}

void Executor::runDeployment() {
  size_t total = prog_->instrs.size();
  for (size_t i = 0; i < total; ++i) {
    if (!prog_->instrs[i].deploy ||
        (i < adopted_.size() && adopted_[i]))
      continue;
    if (onInstr)
      onInstr(i, total);
    runOne("deploy", int64_t(i), opName(prog_->instrs[i].op()),
           prog_->instrs[i].name, [&] { exec(i); });
  }
  // Constant right operands of shared matmuls: open W - B once.
  openWeightMasks("deploy", prog_->isConst, masks_);
  deployed_ = true;
}

void Executor::openWeightMasks(const std::string &phase,
                               const std::vector<bool> &fixed,
                               std::map<size_t, MatmulMask> &into) {
  if (P_.role == Role::Client) // the servers' business
    return;
  for (size_t i = 0; i < prog_->instrs.size(); ++i) {
    const InstrInfo &ii = prog_->instrs[i];
    if (ii.deploy || ii.prepare || !hasConstWeight(ii))
      continue;
    int w = ii.in[1];
    if (!fixed[w] || prog_->slots[w].vis != Vis::Shared ||
        prog_->slots[ii.in[0]].vis != Vis::Shared || into.count(i))
      continue;
    runOne(phase, int64_t(i), "matmul-mask", ii.name, [&] {
      const Value &wv = get(w);
      prepareMatmulMask(
          P_, wv.kind == Kind::Shared || P_.dealer() ? wv.data : asShare(wv),
          into[i]);
    });
  }
}

void Executor::runInference() {
  if (!deployed_)
    runDeployment();
  lhsMasks_.clear();
  freshMasks_.clear();
  size_t total = prog_->instrs.size();
  // Input-independent work of this inference first (per-inference
  // shuffles), with the masks of the products that read it.
  for (size_t i = 0; i < total; ++i)
    if (prog_->instrs[i].prepare) {
      if (onInstr)
        onInstr(i, total);
      runOne("prepare", int64_t(i), opName(prog_->instrs[i].op()),
             prog_->instrs[i].name, [&] { exec(i); });
    }
  openWeightMasks("prepare", prog_->isPrepared, freshMasks_);
  for (size_t i = 0; i < total; ++i) {
    if (prog_->instrs[i].deploy || prog_->instrs[i].prepare)
      continue;
    if (onInstr)
      onInstr(i, total);
    runOne("inference", int64_t(i), opName(prog_->instrs[i].op()),
           prog_->instrs[i].name, [&] { exec(i); });
    // Free per-inference intermediates after their last use (inputs,
    // constants and program outputs stay).
    for (int s : prog_->instrs[i].in)
      if (prog_->lastUse[s] == int64_t(i) && !prog_->isConst[s] &&
          !isOutput_[s] && !isInput_[s]) {
        vals_[s].data = Vec();
        vals_[s].kind = Kind::None;
      }
  }
}

void Executor::exec(size_t idx) {
  const InstrInfo &I = prog_->instrs[idx];
  const int o = I.out[0];
  const SlotInfo &os = prog_->slots[o];
  const size_t n = size_t(os.numel);
  Party &P = P_;
  const bool D = P.dealer();
  auto in = [&](int k) -> const Value & {
    const int s = I.in[k];
    const Value &v = get(s);
    if (D && v.data.size() != size_t(prog_->slots[s].numel)) {
      // The dealer holds placeholders for values it never sees (its own:
      // a session's deployment base is shared with other sessions).
      Kind kind = v.kind != Kind::None            ? v.kind
                  : prog_->slots[s].vis == Vis::Shared ? Kind::Shared
                                                       : Kind::Plain;
      Value &mv = vals_[s];
      mv.data.assign(prog_->slots[s].numel, 0);
      mv.kind = kind;
      return mv;
    }
    return v;
  };
  // Private work runs at its holder alone: the other party and the dealer
  // skip it, so it costs no messages and no dealer material.
  if (isPrivate(os.vis) && P.role != holderOf(P, os.vis)) {
    vals_[o] = Value{};
    return;
  }
  // The thin client takes part in the sharing of its own values and in
  // the reveals to it; every other computation on shares is the servers'.
  if (P.role == Role::Client) {
    bool takesPart =
        I.op() == Op::Share
            ? prog_->slots[I.in[0]].vis == Vis::Client
        : I.op() == Op::Reveal ? I.attrs.AsReveal()->to == RevealTo::Client
                               : os.vis != Vis::Shared;
    if (!takesPart) {
      vals_[o] = Value{};
      return;
    }
  }
  // A value revealed to the other party only: local ops propagate "not
  // known here"; anything interactive is a program error.
  if (!D)
    for (int s : I.in)
      if (!known(s) && prog_->slots[s].weight < 0 &&
          prog_->slots[s].vis == Vis::Public) {
        // (share and reveal never read public operands: their rules say so)
        bool local = os.vis == Vis::Public;
        bool produced = false;
        for (size_t j = 0; j < idx && !produced; ++j)
          produced = prog_->instrs[j].out[0] == s;
        UMBRA_CHECK(local && produced, "slot '", prog_->slots[s].name,
                    "' is not known to ", roleName(P.role),
                    " (revealed to the other party only, or a missing "
                    "public input) but ",
                    opName(I.op()), " needs it");
        vals_[o] = Value{};
        return;
      }
  const OpRow &row = opRow(I.op());
  auto store = [&](Value v) {
    if (v.kind != Kind::None)
      UMBRA_CHECK(v.data.size() == n, "internal: ", opName(I.op()),
                  " produced ", v.data.size(), " elements, expected ", n);
    vals_[o] = std::move(v);
    if (onValue)
      onValue(o);
  };
  // The holder of private operands evaluates gates on plain reals; every
  // other instruction is the same ring arithmetic for public and private
  // values.
  if (isPrivate(os.vis) && row.gate)
    return store({plainGate(I), Kind::Plain});
  ExecArgs args{P, I, os, {}, [&](int k) -> const Vec & { return in(k).data; },
                [&](int k) { return in(k).kind == Kind::Shared; }};
  for (int s : I.in)
    args.inSlot.push_back(&prog_->slots[s]);
  const auto &masks = base_ ? base_->masks_ : masks_;
  auto it = masks.find(idx);
  args.mask = it != masks.end() ? &it->second : nullptr;
  if (auto fresh = freshMasks_.find(idx); fresh != freshMasks_.end())
    args.mask = &fresh->second;
  // A product of a left operand opened before reuses its opening (the
  // program decides which, so every role does the same).
  if (args.mask && I.lhsKept)
    args.lhs = &lhsMasks_[idx];
  if (args.mask && I.lhsFrom >= 0)
    args.lhs = &lhsMasks_[size_t(I.lhsFrom)];
  ExecResult r = row.secure(args);
  Value out;
  out.kind = !r.known                  ? Kind::None
             : os.vis == Vis::Shared ? Kind::Shared
                                     : Kind::Plain;
  out.data = r.known ? std::move(r.data) : Vec();
  store(std::move(out));
}

Vec Executor::plainGate(const InstrInfo &I) const {
  std::vector<std::vector<double>> reals;
  for (int s : I.in) {
    const Value &v = get(s);
    UMBRA_CHECK(v.kind == Kind::Plain, "slot '", prog_->slots[s].name,
                "' is not known to ", roleName(P_.role), " but ",
                opName(I.op()), " needs it");
    std::vector<double> r(v.data.size());
    for (size_t i = 0; i < r.size(); ++i)
      r[i] = decodeFixed(v.data[i], prog_->slots[s].frac);
    reals.push_back(std::move(r));
  }
  std::vector<const std::vector<double> *> ins;
  for (const auto &r : reals)
    ins.push_back(&r);
  const SlotInfo &os = prog_->slots[I.out[0]];
  std::vector<double> res = realOf(*prog_, I, ins);
  Vec out(res.size());
  for (size_t i = 0; i < res.size(); ++i) {
    UMBRA_CHECK(std::isfinite(res[i]), opName(I.op()), " of '", os.name,
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
  checkInputValues(prog_, slot, v);
  vals_[slot] = v;
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
    vals_[I.out[0]] = realOf(prog_, I, ins);
  }
}

} // namespace umbra::rt
