//===- LeakageReport.cpp - What a run of the program discloses ------------===//
//
// Everything a role learns beyond its own data and the secret shares:
//   - every mpc.reveal (target, shape, reason, what it feeds);
//   - every public weight that came from a weight the user marked public
//     (--public-weights, --public-weight-names, --role NAME=public), with
//     its name, shape and how it was marked: the provenance (mpc.sources)
//     says so, the same facts the artifact records as the blob's origin;
//   - a summary of what is public by rule (constants computed only from
//     literals and integer/bool structural tensors);
//   - every weight mpc-assign-roles recognised as a function of the
//     architecture (--public-structure: rotary tables, position ids, masks,
//     ALiBi slopes), with the formula and parameters that replaced it;
//   - every model input declared public (every role, the dealer too, gets
//     it in the clear).
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/Umbra/ExportUmbra.h"

#include "ExportNames.h"

#include "umbra/Dialect/Mpc/IR/MpcOps.h"
#include "umbra/Dialect/Mpc/IR/Provenance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"

#include <map>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

static void printReveals(ModuleOp module, raw_ostream &os) {
  SmallVector<RevealOp> reveals;
  module.walk([&](RevealOp r) { reveals.push_back(r); });
  os << "leakage report: " << reveals.size()
     << (reveals.size() == 1 ? " reveal" : " reveals") << "\n";
  for (auto [i, r] : llvm::enumerate(reveals)) {
    auto t = cast<MpcTensorType>(r.getInput().getType());
    os << "  reveal #" << i << " to " << stringifyRevealTarget(r.getTo())
       << ": " << shapeString(t.getShape()) << " (" << t.getNumElements()
       << " values, frac " << t.getFrac() << ")\n";
    os << "    reason: \"" << r.getReason() << "\"\n";
    os << "    feeds:";
    if (r->use_empty())
      os << " nothing";
    for (OpOperand &use : r->getUses()) {
      Operation *user = use.getOwner();
      os << " " << user->getName();
      if (auto ret = dyn_cast<func::ReturnOp>(user)) {
        auto f = ret->getParentOfType<func::FuncOp>();
        unsigned n = use.getOperandNumber();
        os << " (result #" << n;
        if (auto name = f.getResultAttrOfType<StringAttr>(n, "onnx.name"))
          os << " '" << name.getValue() << "'";
        os << ")";
      } else if (std::string name = locName(user->getLoc()); !name.empty()) {
        os << " ('" << name << "')";
      }
    }
    os << "\n    at: " << r.getLoc() << "\n";
  }
}

/// The public constants that become blobs (encoded as public), by what
/// made them public.
static void printPublicConstants(ModuleOp module, raw_ostream &os) {
  struct Marked {
    std::string name, shape, from;
  };
  SmallVector<Marked> marked, fromModel;
  int64_t byRule = 0, values = 0, unproven = 0, structural = 0,
          structuralValues = 0;
  std::map<std::string, int64_t> kinds;
  module.walk([&](EncodeOp e) {
    auto cst = e.getInput().getDefiningOp<arith::ConstantOp>();
    if (!cst ||
        cast<MpcTensorType>(e.getType()).getVisibility() != Visibility::public_)
      return;
    auto ty = cast<ShapedType>(cst.getType());
    DictionaryAttr sources = getSources(cst.getOperation());
    std::string from, modelSources;
    std::map<std::string, int64_t> mine;
    bool fromStructure = false;
    for (NamedAttribute s : sources ? sources.getValue()
                                    : ArrayRef<NamedAttribute>()) {
      auto origin = dyn_cast<StringAttr>(s.getValue());
      StringRef o = origin ? origin.getValue() : StringRef(kOwnerOrigin);
      if (o == kPublicStructureOrigin) {
        fromStructure = true;
        continue;
      }
      if (isMarkedPublic(o))
        from += (from.empty() ? "" : ", ") + s.getName().str() + " (" +
                o.str() + ")";
      else
        ++mine[o.str()];
      // A model tensor public by rule (an integer/bool initializer, a
      // Constant node) is named: the rule may have caught a weight.
      if (!isMarkedPublic(o) && s.getName().getValue() != "(compiler)")
        modelSources += (modelSources.empty() ? "" : ", ") +
                        s.getName().str() + " (" + o.str() + ")";
    }
    if (!from.empty()) {
      marked.push_back({locName(cst.getLoc()), shapeString(ty.getShape()), from});
    } else if (fromStructure && checkPublicProvenance(cst).empty()) {
      ++structural;
      structuralValues += ty.getNumElements();
    } else if (std::string why = checkPublicProvenance(cst); why.empty()) {
      ++byRule;
      values += ty.getNumElements();
      if (!modelSources.empty())
        fromModel.push_back(
            {locName(cst.getLoc()), shapeString(ty.getShape()), modelSources});
      for (auto &[k, n] : mine)
        kinds[k] += n;
    } else {
      ++unproven; // the exporter refuses these
    }
  });
  os << "public weights the user marked public: " << marked.size() << "\n";
  for (const Marked &m : marked)
    os << "  '" << m.name << "' [" << m.shape << "] from " << m.from << "\n";
  os << "public by rule: " << byRule << (byRule == 1 ? " constant" : " constants")
     << " (" << values << " values) from literals and integer/bool tensors"
     << " (sources: " << kinds["literal"] << " literal, " << kinds["integer"]
     << " integer, " << kinds["bool"] << " bool)\n";
  if (!fromModel.empty())
    os << "  of which computed from the model's own tensors (check that none "
          "is a weight: --role NAME=owner makes a Constant node the owner's; "
          "integer initializers are always public):\n";
  for (const Marked &m : fromModel)
    os << "    '" << m.name << "' [" << m.shape << "] from " << m.from << "\n";
  // The decisions themselves (recorded by mpc-assign-roles), whether or
  // not the table survives as a blob of its own.
  auto decisions =
      module->getAttrOfType<DictionaryAttr>(kPublicStructureAttrName);
  os << "public by structure (--public-structure: weights equal to a function "
        "of the architecture, replaced by the formula's values): "
     << (decisions ? decisions.size() : 0) << "\n";
  if (decisions) {
    for (NamedAttribute d : decisions)
      if (auto f = dyn_cast<StringAttr>(d.getValue()))
        os << "  '" << d.getName().getValue() << "' " << f.getValue() << "\n";
    os << "  public constants computed from them: " << structural << " ("
       << structuralValues << " values)\n";
  }
  if (unproven)
    os << "public constants the exporter refuses (owner-derived or without "
          "provenance): "
       << unproven << "\n";
}

/// Model inputs that every role receives in the clear.
static void printPublicInputs(ModuleOp module, raw_ostream &os) {
  SmallVector<std::string> lines;
  for (auto func : module.getOps<func::FuncOp>())
    for (BlockArgument arg : func.getArguments()) {
      bool isPublic = false;
      for (Operation *user : arg.getUsers())
        if (isa<EncodeOp, OneHotOp>(user))
          isPublic |= cast<MpcTensorType>(user->getResult(0).getType())
                          .getVisibility() == Visibility::public_;
      if (!isPublic)
        continue;
      auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                    "onnx.name");
      auto ty = cast<ShapedType>(arg.getType());
      lines.push_back("  '" +
                      (name ? name.str()
                            : "arg" + std::to_string(arg.getArgNumber())) +
                      "' [" + shapeString(ty.getShape()) + "]" +
                      " (declared public: every role, the dealer too, "
                      "receives it in the clear)");
    }
  os << "public inputs: " << lines.size() << "\n";
  for (const std::string &l : lines)
    os << l << "\n";
}

/// State carried from one program of a session to the next (a
/// generation's key/value cache): secret-shared throughout, never revealed.
static void printState(ModuleOp module, raw_ostream &os) {
  SmallVector<std::string> ins, outs;
  for (auto func : module.getOps<func::FuncOp>()) {
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (func.getArgAttr(i, kStateAttrName))
        if (auto n = func.getArgAttrOfType<StringAttr>(i, "onnx.name"))
          ins.push_back(n.str());
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      if (func.getResultAttr(i, kStateAttrName))
        if (auto n = func.getResultAttrOfType<StringAttr>(i, "onnx.name"))
          outs.push_back(n.str());
  }
  if (ins.empty() && outs.empty())
    return;
  os << "state, secret-shared between programs and never revealed: "
     << ins.size() << " inputs, " << outs.size() << " outputs\n";
  if (!ins.empty())
    os << "  in: " << llvm::join(ins, ", ") << "\n";
  if (!outs.empty())
    os << "  out: " << llvm::join(outs, ", ") << "\n";
}

LogicalResult umbra::printLeakageReport(ModuleOp module, raw_ostream &os) {
  printReveals(module, os);
  printPublicConstants(module, os);
  printPublicInputs(module, os);
  printState(module, os);
  return success();
}
