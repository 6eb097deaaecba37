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
#include "umbra/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Regex.h"

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

/// A role a user may declare: the holder of a plaintext value.
std::optional<Visibility> parseRole(StringRef role) {
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
      return "role '" + spec + "' is not NAME=client|owner|public";
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
    // Roles by name come last: they may override either rule above.
    WalkResult named = module.walk([&](arith::ConstantOp cst) {
      auto ty = dyn_cast<ShapedType>(cst.getType());
      if (!ty || !isa<FloatType>(ty.getElementType()))
        return WalkResult::advance();
      auto it = byName.find(weightName(cst));
      if (it == byName.end())
        return WalkResult::advance();
      used[it->first()] = true;
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
        ++numRoles;
      }

    for (const auto &entry : byName)
      if (!used.count(entry.first())) {
        emitError(module.getLoc(), "role for '")
            << entry.first()
            << "': the model has no graph input or weight of that name";
        return signalPassFailure();
      }
  }
};

} // namespace
