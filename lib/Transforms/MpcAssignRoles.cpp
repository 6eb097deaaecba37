//===- MpcAssignRoles.cpp - declare who holds each input and weight -------===//
//
// The one place where the user's role declarations become IR: the importer
// writes the defaults (inputs are the client's, initializers the model
// owner's, literals public) and this pass applies the overrides by name, so
// that the visibility analysis reads attributes and never guesses.
//
//===----------------------------------------------------------------------===//
#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/IR/Provenance.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"
#include "umbra/Support/PublicStructure.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <map>

namespace umbra {
#define GEN_PASS_DEF_MPCASSIGNROLES
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

/// The weight's name: the ONNX initializer name the importer put in the
/// location, else the resource key, else "" (an anonymous constant).
std::string weightName(arith::ConstantOp cst) {
  std::optional<std::string> name;
  cst.getLoc()->walk([&](Location loc) {
    if (auto n = dyn_cast<NameLoc>(loc)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!name)
    if (auto r = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
      name = r.getRawHandle().getKey().str();
  return name.value_or("");
}

/// A weight: a real-valued constant the model owner holds unless declared
/// otherwise (marked `owner` by the importer, or unmarked).
bool isWeight(arith::ConstantOp cst) {
  auto ty = dyn_cast<ShapedType>(cst.getType());
  if (!ty || !isa<FloatType>(ty.getElementType()))
    return false;
  auto v = cst->getAttrOfType<VisibilityAttr>(kVisibilityAttrName);
  return !v || v.getValue() == Visibility::owner;
}

/// A role a user may declare: the holder of a plaintext value, or `state`
/// (secret-shared, carried from one program of a session to the next),
/// which is shared.
std::optional<Visibility> parseRole(StringRef role) {
  if (role == "state")
    return Visibility::shared;
  std::optional<Visibility> v = symbolizeVisibility(role);
  if (v == Visibility::shared)
    return std::nullopt;
  return v;
}

} // namespace

std::string umbra::verifyMpcAssignRolesOptions(const MpcAssignRolesOptions &o) {
  if (std::string err; !o.publicWeightNames.empty() &&
                       !llvm::Regex(o.publicWeightNames).isValid(err))
    return "public-weight-names is not a valid regular expression: " + err;
  for (const std::string &spec : o.roles) {
    auto [name, role] = StringRef(spec).split('=');
    if (name.empty() || !parseRole(role))
      return "role '" + spec + "' is not NAME=client|owner|public|state";
  }
  return "";
}

namespace {

struct MpcAssignRoles : umbra::impl::MpcAssignRolesBase<MpcAssignRoles> {
  using MpcAssignRolesBase::MpcAssignRolesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MpcAssignRolesOptions given;
    given.publicWeightNames = publicWeightNames;
    given.roles.assign(roles.begin(), roles.end());
    if (std::string err = verifyMpcAssignRolesOptions(given); !err.empty()) {
      emitError(module.getLoc(), err);
      return signalPassFailure();
    }
    llvm::Regex re("^(" + publicWeightNames + ")$");
    // NAME=role declarations; a later one for the same name wins.
    llvm::StringMap<Visibility> byName;
    for (const std::string &spec : roles) {
      auto [name, role] = StringRef(spec).split('=');
      byName[name] = *parseRole(role);
    }
    llvm::StringMap<bool> used;
    MLIRContext *ctx = &getContext();
    // A declared role replaces the constant's provenance: the user's
    // declaration about this tensor is now its only source (an owner role,
    // or a public one that the leakage report lists with how it was made).
    auto set = [&](arith::ConstantOp cst, Visibility v, StringRef how) {
      cst->setAttr(kVisibilityAttrName, VisibilityAttr::get(ctx, v));
      std::string name = weightName(cst);
      setSource(cst, name.empty() ? "%anonymous" : StringRef(name),
                v == Visibility::owner ? StringRef(kOwnerOrigin) : how);
    };

    int64_t matched = 0;
    module.walk([&](arith::ConstantOp cst) {
      bool byPattern = !publicWeightNames.empty() && re.match(weightName(cst));
      if (isWeight(cst) && (publicWeights || byPattern)) {
        set(cst, Visibility::public_,
            byPattern ? "--public-weight-names" : "--public-weights");
        ++numPublicWeights;
        matched += byPattern;
      }
    });
    // A pattern that matches nothing is a mistake (a typo, names not kept by
    // the exporter), never a silent "everything stays private".
    if (!publicWeightNames.empty() && matched == 0) {
      emitError(module.getLoc(), "public-weight-names '")
          << publicWeightNames << "' matches no weight of the model";
      return signalPassFailure();
    }
    // Tables that equal a function of the public architecture (rotary
    // cos/sin, position ids, masks, ALiBi slopes): public, with the
    // formula's values in place of the owner's, so that nothing of the
    // owner's bits but the fact "this is that formula" is disclosed. A name
    // the user gave a role is left to that role.
    if (publicStructure) {
      std::map<std::string, std::string> decisions;
      if (auto old =
              module->getAttrOfType<DictionaryAttr>(kPublicStructureAttrName))
        for (NamedAttribute e : old)
          if (auto f = dyn_cast<StringAttr>(e.getValue()))
            decisions[e.getName().str()] = f.str();
      module.walk([&](arith::ConstantOp cst) {
        if (!isWeight(cst))
          return;
        std::string name = weightName(cst);
        if (byName.count(name))
          return;
        auto type = cast<ShapedType>(cst.getType());
        std::optional<ceval::Tensor> t = getConstantTensor(cst.getValue());
        if (!t || !t->isFloat())
          return;
        auto elem = cast<FloatType>(type.getElementType());
        double unitRoundoff = std::ldexp(
            1.0, -int(APFloat::semanticsPrecision(elem.getFloatSemantics())));
        std::optional<structure::Recognized> r = structure::recognize(
            type.getShape(), std::get<0>(t->data), unitRoundoff);
        if (!r)
          return;
        ceval::Tensor formula;
        formula.shape.assign(type.getShape().begin(), type.getShape().end());
        formula.data = std::vector<double>(r->values);
        cst.setValueAttr(getElementsAttr(formula, type));
        set(cst, Visibility::public_, kPublicStructureOrigin);
        if (name.empty())
          name = "%anonymous";
        std::string dims;
        for (int64_t d : type.getShape())
          dims += (dims.empty() ? "" : "x") + std::to_string(d);
        decisions[name] = "[" + dims + "] " + r->formula;
        ++numStructure;
      });
      if (!decisions.empty()) {
        SmallVector<NamedAttribute> entries;
        for (const auto &[name, formula] : decisions)
          entries.push_back(NamedAttribute(StringAttr::get(ctx, name),
                                           StringAttr::get(ctx, formula)));
        module->setAttr(kPublicStructureAttrName,
                        DictionaryAttr::get(ctx, entries));
      }
    }

    // Roles by name come last: they may override either rule above.
    WalkResult named = module.walk([&](arith::ConstantOp cst) {
      auto ty = dyn_cast<ShapedType>(cst.getType());
      if (!ty || !isa<FloatType>(ty.getElementType()))
        return WalkResult::advance();
      auto it = byName.find(weightName(cst));
      if (it == byName.end())
        return WalkResult::advance();
      used[it->first()] = true;
      if (it->second == Visibility::shared) {
        cst.emitError("weight '")
            << it->first() << "' cannot be state: state is a graph input "
            << "or output carried between the programs of a session";
        return WalkResult::interrupt();
      }
      if (it->second == Visibility::client) {
        cst.emitError("weight '")
            << it->first() << "' cannot be the client's: constants are "
            << "public or the model owner's (a client value is a graph input)";
        return WalkResult::interrupt();
      }
      set(cst, it->second, "--role");
      ++numRoles;
      return WalkResult::advance();
    });
    if (named.wasInterrupted())
      return signalPassFailure();

    for (auto func : module.getOps<func::FuncOp>())
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
        auto name = func.getArgAttrOfType<StringAttr>(i, "onnx.name");
        auto it = name ? byName.find(name.getValue()) : byName.end();
        if (it == byName.end())
          continue;
        used[it->first()] = true;
        func.setArgAttr(i, kVisibilityAttrName,
                        VisibilityAttr::get(ctx, it->second));
        if (it->second == Visibility::shared)
          func.setArgAttr(i, kStateAttrName, UnitAttr::get(ctx));
        ++numRoles;
      }
    // A state output stays secret-shared for the next program of the
    // session; any other role names an output by mistake.
    for (auto func : module.getOps<func::FuncOp>())
      for (unsigned i = 0, e = func.getNumResults(); i < e; ++i) {
        auto name = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
        auto it = name ? byName.find(name.getValue()) : byName.end();
        if (it == byName.end())
          continue;
        if (it->second != Visibility::shared &&
            it->second != Visibility::public_) {
          emitError(module.getLoc(), "role for '")
              << it->first() << "': a graph output can only be declared "
              << "state or public (outputs are revealed to the client "
              << "otherwise)";
          return signalPassFailure();
        }
        used[it->first()] = true;
        func.setResultAttr(i,
                           it->second == Visibility::shared
                               ? kStateAttrName
                               : kPublicOutputAttrName,
                           UnitAttr::get(ctx));
        ++numRoles;
      }

    for (const auto &entry : byName)
      if (!used.count(entry.first())) {
        emitError(module.getLoc(), "role for '")
            << entry.first()
            << "': the model has no graph input, output or weight of that "
             "name";
        return signalPassFailure();
      }

    // The outsourced client shares its real-valued inputs at once: no
    // server holds them in the clear, so nothing is computed on them alone.
    // So are its integer and bool inputs used as values; only ids that it
    // one-hot encodes itself (an embedding's or a gather's indices, a loss's
    // labels) stay its own until it shares the rows.
    auto onlyIds = [](BlockArgument arg) {
      return llvm::all_of(arg.getUses(), [](OpOperand &use) {
        return (isa<tfm::EmbeddingOp>(use.getOwner()) &&
                use.getOperandNumber() == 1) ||
               (isa<tfm::GatherOp>(use.getOwner()) &&
                use.getOperandNumber() == 1) ||
               isa<tfm::OneHotOp>(use.getOwner());
      });
    };
    if (outsourced)
      for (auto func : module.getOps<func::FuncOp>())
        for (BlockArgument arg : func.getArguments()) {
          auto ty = dyn_cast<ShapedType>(arg.getType());
          auto v = func.getArgAttrOfType<VisibilityAttr>(arg.getArgNumber(),
                                                         kVisibilityAttrName);
          if (ty &&
              (isa<FloatType>(ty.getElementType()) ||
               (isa<IntegerType>(ty.getElementType()) && !onlyIds(arg))) &&
              (!v || v.getValue() == Visibility::client))
            func.setArgAttr(arg.getArgNumber(), kVisibilityAttrName,
                            VisibilityAttr::get(ctx, Visibility::shared));
        }
  }
};

} // namespace
