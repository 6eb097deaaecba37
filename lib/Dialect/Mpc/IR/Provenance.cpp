//===- Provenance.cpp - where every constant came from --------------------===//
#include "umbra/Dialect/Mpc/IR/Provenance.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace umbra::mpc {

bool isMarkedPublic(StringRef origin) {
  return origin == "--public-weights" || origin == "--public-weight-names" ||
         origin == "--role" || origin == "--const-input" ||
         origin == kPublicStructureOrigin;
}

bool isPublicByRule(StringRef origin) {
  return origin == kIntegerOrigin || origin == kBoolOrigin ||
         origin == kLiteralOrigin;
}

bool isKnownOrigin(StringRef origin) {
  return origin == kOwnerOrigin || isPublicByRule(origin) ||
         isMarkedPublic(origin);
}

DictionaryAttr getSources(Operation *op) {
  return op ? op->getAttrOfType<DictionaryAttr>(kSourcesAttrName)
            : DictionaryAttr();
}

DictionaryAttr getSources(Value v) { return getSources(v.getDefiningOp()); }

void setSources(Operation *op, DictionaryAttr sources) {
  if (sources)
    op->setAttr(kSourcesAttrName, sources);
  else
    op->removeAttr(kSourcesAttrName);
}

void setSource(Operation *op, StringRef name, StringRef origin) {
  setSources(op, toSources(op->getContext(), {{name.str(), origin.str()}}));
}

DictionaryAttr toSources(MLIRContext *ctx, const SourceMap &m) {
  Builder b(ctx);
  SmallVector<NamedAttribute> entries;
  for (const auto &[name, origin] : m)
    entries.push_back(b.getNamedAttr(name, b.getStringAttr(origin)));
  return b.getDictionaryAttr(entries);
}

SourceMap fromSources(DictionaryAttr sources) {
  SourceMap m;
  for (NamedAttribute e : sources) {
    auto origin = dyn_cast<StringAttr>(e.getValue());
    // An origin that is not a string is treated as the owner's.
    m[e.getName().str()] = origin ? origin.str() : kOwnerOrigin.str();
  }
  return m;
}

void mergeSources(SourceMap &into, const SourceMap &from) {
  for (const auto &[name, origin] : from) {
    auto [it, fresh] = into.try_emplace(name, origin);
    if (!fresh && origin == kOwnerOrigin)
      it->second = origin;
  }
}

DictionaryAttr unionSources(MLIRContext *ctx, ArrayRef<DictionaryAttr> all) {
  SourceMap m;
  for (DictionaryAttr d : all) {
    if (!d)
      return {};
    mergeSources(m, fromSources(d));
  }
  return toSources(ctx, m);
}

void deriveSources(Operation *op, ValueRange from) {
  SmallVector<DictionaryAttr> all;
  for (Value v : from)
    all.push_back(getSources(v));
  setSources(op, unionSources(op->getContext(), all));
}

std::string checkPublicProvenance(Operation *cst) {
  DictionaryAttr sources = getSources(cst);
  if (!sources || sources.empty())
    return "has no provenance (mpc.sources): a constant whose sources are "
           "unknown may be derived from an owner weight";
  for (NamedAttribute e : sources) {
    auto origin = dyn_cast<StringAttr>(e.getValue());
    if (!origin || !isKnownOrigin(origin.getValue()))
      return "names source '" + e.getName().str() +
             "' with an unknown origin";
    if (origin.getValue() == kOwnerOrigin)
      return "is derived from the owner weight '" + e.getName().str() + "'";
  }
  return "";
}

} // namespace umbra::mpc
