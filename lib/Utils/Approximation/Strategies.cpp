//===- Strategies.cpp - strategies.json, compiled in ----------------------===//
#include "umbra/Utils/Approximation/Strategies.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"

using namespace llvm;
using namespace umbra::approx;

static const char *const kTableText =
#include "StrategiesJson.inc"
    ;

const json::Object &umbra::approx::strategyTable() {
  static const json::Object table = [] {
    Expected<json::Value> v = json::parse(kTableText);
    if (!v)
      report_fatal_error(Twine("strategies.json is not JSON: ") +
                         toString(v.takeError()));
    if (!v->getAsObject())
      report_fatal_error("strategies.json is not a JSON object");
    return std::move(*v->getAsObject());
  }();
  return table;
}

/// The families in the table: every member that has "ops".
static SmallVector<std::pair<StringRef, const json::Object *>> families() {
  SmallVector<std::pair<StringRef, const json::Object *>> out;
  for (const auto &[name, v] : strategyTable())
    if (const json::Object *f = v.getAsObject(); f && f->getArray("ops"))
      out.push_back({name, f});
  llvm::sort(out, [](auto &a, auto &b) { return a.first < b.first; });
  return out;
}

StringRef umbra::approx::familyOf(StringRef op) {
  for (auto [name, f] : families())
    for (const json::Value &o : *f->getArray("ops"))
      if (o.getAsString() == op)
        return name;
  return "";
}

std::vector<std::string> umbra::approx::approximableOps() {
  std::vector<std::string> out;
  for (auto [name, f] : families())
    for (const json::Value &o : *f->getArray("ops"))
      out.push_back(o.getAsString().value_or("").str());
  return out;
}

static const json::Object *strategiesOf(StringRef family) {
  const json::Object *f = strategyTable().getObject(family);
  return f ? f->getObject("strategies") : nullptr;
}

std::vector<std::string> umbra::approx::strategyNames(StringRef family) {
  std::vector<std::string> out;
  if (const json::Object *s = strategiesOf(family))
    for (const auto &kv : *s)
      out.push_back(kv.first.str());
  llvm::sort(out);
  return out;
}

const json::Object *umbra::approx::strategyOf(StringRef op,
                                              StringRef strategy) {
  const json::Object *s = strategiesOf(familyOf(op));
  return s ? s->getObject(strategy) : nullptr;
}

double umbra::approx::number(const json::Object &s, StringRef key) {
  if (std::optional<double> v = s.getNumber(key))
    return *v;
  report_fatal_error(Twine("strategies.json: missing number '") + key + "'");
}

std::vector<double> umbra::approx::numbers(const json::Object &s,
                                           StringRef key) {
  std::vector<double> out;
  if (const json::Array *a = s.getArray(key))
    for (const json::Value &v : *a)
      if (std::optional<double> d = v.getAsNumber())
        out.push_back(*d);
  if (out.empty())
    report_fatal_error(Twine("strategies.json: missing numbers '") + key +
                       "'");
  return out;
}

StringRef Spec::strategyFor(StringRef op, std::optional<int64_t> layer) const {
  StringRef chosen = kAccurate;
  for (const Entry &e : entries)
    if (e.op == op && (!e.layers || (layer && *layer >= e.layers->first &&
                                     *layer <= e.layers->second)))
      chosen = e.strategy;
  return chosen;
}

std::optional<Spec> umbra::approx::parseSpec(StringRef text,
                                             std::string &error) {
  Spec spec;
  SmallVector<StringRef> items;
  text.trim().split(items, ',', -1, /*KeepEmpty=*/false);
  for (StringRef item : items) {
    item = item.trim();
    auto [op, rest] = item.split(':');
    auto [strategy, range] = rest.split('@');
    op = op.trim();
    strategy = strategy.trim();
    auto fail = [&](const Twine &why) {
      error = ("approximation '" + item + "': " + why).str();
      return std::nullopt;
    };
    if (rest.empty() || strategy.empty())
      return fail("expected OP:STRATEGY[@FIRST-LAST], e.g. gelu:relu or "
                  "softmax:2quad@0-5");
    StringRef family = familyOf(op);
    if (family.empty())
      return fail("'" + op + "' takes no approximation; the ops that do are " +
                  join(approximableOps(), ", "));
    if (!strategyOf(op, strategy))
      return fail("'" + strategy + "' is no strategy of " + op +
                  "; its strategies are " + join(strategyNames(family), ", "));
    Spec::Entry e{op.str(), strategy.str(), std::nullopt};
    if (rest.contains('@')) {
      auto [a, b] = range.split('-');
      int64_t first, last;
      if (a.trim().getAsInteger(10, first) || first < 0)
        return fail("the layer range '" + range +
                    "' is not FIRST or FIRST-LAST (layers count from 0)");
      last = first;
      if (range.contains('-') && (b.trim().getAsInteger(10, last) || last < first))
        return fail("the layer range '" + range +
                    "' is not FIRST or FIRST-LAST with FIRST <= LAST");
      e.layers = {first, last};
    }
    spec.entries.push_back(std::move(e));
  }
  return spec;
}
