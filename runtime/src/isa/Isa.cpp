//===- Isa.cpp - The instruction table and typed attributes ---------------===//
#include "Rows.h"

#include "flatbuffers/minireflect.h"
#include <nlohmann/json.hpp>

#include <cctype>

namespace umbra::rt {
using namespace isa;

namespace {

/// Rows indexed by opcode, names derived from the schema's table names.
struct Table {
  std::vector<const OpRow *> byOp;
  std::vector<std::string> names;
  Table() {
    size_t nOps = size_t(Op::MAX) + 1;
    byOp.assign(nOps, nullptr);
    for (auto *family :
         {&ioRows(), &linearRows(), &gateRows(), &fxpRows(), &shapeRows(),
          &sparseRows()})
      for (const OpRow &r : *family) {
        size_t k = size_t(r.op);
        UMBRA_CHECK(k > 0 && k < nOps && !byOp[k], "internal: opcode ", k,
                    " has two rows or none in the schema");
        byOp[k] = &r;
      }
    names.resize(nOps);
    for (size_t k = 1; k < nOps; ++k) {
      UMBRA_CHECK(byOp[k], "internal: opcode ", fb::EnumNamesInstrAttrs()[k],
                  " has no row in runtime/src/isa/");
      // ReduceSum -> reduce_sum.
      std::string camel = fb::EnumNamesInstrAttrs()[k], snake;
      for (size_t i = 0; i < camel.size(); ++i) {
        if (i && std::isupper(camel[i]) && std::islower(camel[i - 1]))
          snake += '_';
        snake += char(std::tolower(camel[i]));
      }
      names[k] = snake;
    }
  }
};

const Table &table() {
  static const Table t;
  return t;
}

const flatbuffers::TypeTable *attrsTable(Op op) {
  const flatbuffers::TypeTable *u = fb::InstrAttrsTypeTable();
  size_t k = size_t(op);
  UMBRA_CHECK(k > 0 && k < u->num_elems, "unknown opcode ", k);
  return u->type_refs[u->type_codes[k].sequence_ref]();
}

} // namespace

const OpRow &opRow(Op op) {
  const Table &t = table();
  size_t k = size_t(op);
  UMBRA_CHECK(k > 0 && k < t.byOp.size(), "unknown opcode ", k);
  return *t.byOp[k];
}

const std::vector<const OpRow *> &opRows() {
  static const std::vector<const OpRow *> rows(table().byOp.begin() + 1,
                                               table().byOp.end());
  return rows;
}

const char *opName(Op op) {
  const Table &t = table();
  size_t k = size_t(op);
  return k > 0 && k < t.names.size() ? t.names[k].c_str() : "?";
}

Op opByName(const std::string &name) {
  const Table &t = table();
  for (size_t k = 1; k < t.names.size(); ++k)
    if (t.names[k] == name)
      return Op(k);
  return Op::NONE;
}

std::string InstrInfo::reason() const {
  const fb::RevealT *r = attrs.AsReveal();
  return r ? r->reason : "";
}

std::string attrsJson(const Attrs &attrs) {
  if (attrs.type == Op::NONE || !attrs.value)
    return "{}";
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceDefaults(true);
  fbb.Finish(attrs.Pack(fbb));
  flatbuffers::ToStringVisitor json(" ", /*quotes=*/true, "");
  flatbuffers::IterateFlatBuffer(fbb.GetBufferPointer(), attrsTable(attrs.type),
                                 &json);
  return json.s;
}

std::string attrsString(const Attrs &attrs) {
  const auto fields = nlohmann::ordered_json::parse(attrsJson(attrs));
  std::string r;
  for (const auto &[name, value] : fields.items())
    r += (r.empty() ? "" : " ") + name + "=" + value.dump();
  return r;
}

std::string
buildAttrs(Op op,
           const std::function<bool(const char *, AttrKind, AttrValue &)> &get,
           Attrs &out) {
  try {
    const flatbuffers::TypeTable *tt = attrsTable(op);
    flatbuffers::FlatBufferBuilder fbb;
    // Every given value is written, also one equal to the sentinel passed
    // to AddElement below (with defaults elided it would read back as the
    // schema default: bits = 255 would silently become 64).
    fbb.ForceDefaults(true);
    // Vectors and strings are written before the table that refers to them.
    std::vector<AttrValue> vals(tt->num_elems);
    std::vector<bool> have(tt->num_elems, false);
    std::vector<flatbuffers::uoffset_t> offs(tt->num_elems, 0);
    for (size_t i = 0; i < tt->num_elems; ++i) {
      flatbuffers::TypeCode tc = tt->type_codes[i];
      auto et = flatbuffers::ElementaryType(tc.base_type);
      AttrKind kind;
      if (et == flatbuffers::ET_STRING && !tc.is_repeating)
        kind = AttrKind::String;
      else if (tc.is_repeating)
        kind = et == flatbuffers::ET_DOUBLE || et == flatbuffers::ET_FLOAT
                   ? AttrKind::Floats
                   : AttrKind::Ints;
      else if (et == flatbuffers::ET_BOOL)
        kind = AttrKind::Bool;
      else if (et == flatbuffers::ET_DOUBLE || et == flatbuffers::ET_FLOAT)
        kind = AttrKind::Float;
      else
        kind = AttrKind::Int;
      if (!get(tt->names[i], kind, vals[i]))
        continue;
      have[i] = true;
      if (kind == AttrKind::String)
        offs[i] = fbb.CreateString(vals[i].s).o;
      else if (kind == AttrKind::Floats)
        offs[i] = fbb.CreateVector(vals[i].floats).o;
      else if (kind == AttrKind::Ints) {
        UMBRA_CHECK(et == flatbuffers::ET_LONG, "field '", tt->names[i],
                    "': only [long] integer lists are supported");
        offs[i] = fbb.CreateVector(vals[i].ints).o;
      }
    }
    auto start = fbb.StartTable();
    for (size_t i = 0; i < tt->num_elems; ++i) {
      if (!have[i])
        continue;
      flatbuffers::TypeCode tc = tt->type_codes[i];
      auto vt = flatbuffers::voffset_t(4 + 2 * i);
      if (tc.is_repeating ||
          flatbuffers::ElementaryType(tc.base_type) == flatbuffers::ET_STRING) {
        fbb.AddOffset(vt, flatbuffers::Offset<void>(offs[i]));
        continue;
      }
      int64_t v = vals[i].i;
      auto range = [&](int64_t lo, int64_t hi) {
        UMBRA_CHECK(v >= lo && v <= hi, "attribute '", tt->names[i], "' = ", v,
                    " out of range [", lo, ", ", hi, "]");
      };
      // The slot of field i is 4 + 2i: attribute tables use no explicit ids
      // and no deprecated fields.
      switch (flatbuffers::ElementaryType(tc.base_type)) {
      case flatbuffers::ET_BOOL:
        fbb.AddElement<uint8_t>(vt, v != 0, 0xff);
        break;
      case flatbuffers::ET_CHAR:
        range(-128, 127);
        fbb.AddElement<int8_t>(vt, int8_t(v), 0x7f);
        break;
      case flatbuffers::ET_UCHAR:
        range(0, 255);
        fbb.AddElement<uint8_t>(vt, uint8_t(v), 0xff);
        break;
      case flatbuffers::ET_INT:
        range(INT32_MIN, INT32_MAX);
        fbb.AddElement<int32_t>(vt, int32_t(v), INT32_MIN);
        break;
      case flatbuffers::ET_LONG:
        fbb.AddElement<int64_t>(vt, v, INT64_MIN);
        break;
      case flatbuffers::ET_DOUBLE:
        fbb.AddElement<double>(vt, vals[i].f, -1.0 / 0.0);
        break;
      default:
        fail("field '", tt->names[i], "' has an unsupported type");
      }
    }
    fbb.Finish(flatbuffers::Offset<void>(fbb.EndTable(start)));
    Attrs a;
    a.type = op;
    a.value = Attrs::UnPack(flatbuffers::GetRoot<void>(fbb.GetBufferPointer()),
                            op, nullptr);
    out = std::move(a);
    return "";
  } catch (const Error &e) {
    return e.what();
  }
}

SlotInfo inferOutput(const Attrs &attrs,
                     const std::vector<const SlotInfo *> &in,
                     const SlotInfo *declared) {
  UMBRA_CHECK(attrs.value, "instruction without attributes");
  const OpRow &r = opRow(attrs.type);
  const char *nm = opName(r.op);
  UMBRA_CHECK(in.size() >= size_t(r.minIn) &&
                  (r.maxIn < 0 || in.size() <= size_t(r.maxIn)),
              nm, " expects ", r.minIn,
              (r.maxIn == r.minIn ? ""
               : r.maxIn < 0      ? "+"
                                  : "-"),
              (r.maxIn > r.minIn ? std::to_string(r.maxIn) : std::string()),
              " operands, got ", in.size());
  SlotInfo o = r.infer(attrs, in, declared);
  o.name.clear();
  o.weight = -1;
  o.numel = numel(o.shape);
  return o;
}

Cost instrCost(const Program &prog, size_t idx, Cmp cmp, int64_t live) {
  const InstrInfo &I = prog.instrs.at(idx);
  const OpRow &r = opRow(I.op());
  if (!r.cost)
    return {};
  const SlotInfo &os = prog.slots[I.out[0]];
  // Private work runs at its holder alone; public work is local.
  if (os.vis != Vis::Shared && I.op() != Op::Reveal)
    return {};
  CostArgs a{I, os, {}, false};
  for (int s : I.in)
    a.inSlot.push_back(&prog.slots[s]);
  a.constRhs = (I.op() == Op::Matmul || I.op() == Op::BlockMatmul) &&
               prog.fixedOperand(I.in[1]) && !I.deploy && !I.prepare;
  a.live = live;
  a.sharedLhs = I.lhsFrom >= 0;
  CostAcc c;
  c.cmp = cmp;
  r.cost(a, c);
  return c.finish();
}

Cost CostAcc::finish() const {
  Cost c{bytes, rounds, 0};
  // One frame per instruction and channel: a tag word and a 16-byte header.
  for (uint64_t w : {matP1, matP0})
    if (w)
      c.dealerBytes += (w + 1) * 8 + 16;
  return c;
}

Vec ExecArgs::share(int k) const {
  if (shared(k) || P.p0())
    return in(k);
  return Vec(in(k).size(), 0);
}

} // namespace umbra::rt
