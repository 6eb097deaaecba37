//===- ExportUmbra.h - mpc IR to the runtime's artifact ---------*- C++ -*-===//
//
// Translates a module whose function is in the form `convert-tfm-to-mpc`
// produces into a `.umbra` artifact: the FlatBuffers program described by
// runtime/schema/program.fbs plus 64-byte aligned weight blobs, behind the
// header and content hash runtime/src/Program.cpp checks. Every SSA value
// becomes a slot; encoded constants become weight slots (owner weights are
// laid out last so they can be stripped), encoded float arguments and the
// integer token ids become input slots of the party that holds them, every
// mpc op becomes one or a few runtime instructions and the function's
// results become the program's outputs.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_TARGET_UMBRA_EXPORTUMBRA_H
#define UMBRA_TARGET_UMBRA_EXPORTUMBRA_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace umbra {

struct UmbraExportOptions {
  /// The function to export; empty selects `main`, or the module's only
  /// function.
  std::string funcName;
  /// False writes the copy without the model owner's blobs (the form P0 and
  /// the dealer hold; same program hash): enough to inspect or price it.
  bool ownerBlobs = true;
};

/// Writes the artifact for `module` to `os`. Ops the runtime cannot run and
/// IR not in the expected form are reported as diagnostics naming the op;
/// nothing is written then.
mlir::LogicalResult exportUmbra(mlir::ModuleOp module, llvm::raw_ostream &os,
                                const UmbraExportOptions &options = {});

/// Prints every `mpc.reveal` of the module (reason, target, shape, fixed
/// point, the op it feeds and its source location): what a run of the
/// program discloses beyond the secret shares.
mlir::LogicalResult printLeakageReport(mlir::ModuleOp module,
                                       llvm::raw_ostream &os);

/// Prints, per runtime instruction kind and in total, the online bytes and
/// rounds one inference of the exported program costs under each comparison
/// backend, as the runtime's instruction table predicts them (the artifact
/// is exported in memory and loaded by the runtime).
mlir::LogicalResult printCostReport(mlir::ModuleOp module,
                                    llvm::raw_ostream &os);

/// Registers `--export-umbra`, `--cost-report` and `--leakage-report` for mlir-translate
/// style drivers.
void registerUmbraExportTranslation();

} // namespace umbra

#endif // UMBRA_TARGET_UMBRA_EXPORTUMBRA_H
