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
#include <utility>
#include <vector>

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

/// A generation artifact's parts: the prefill and the decode step, each
/// compiled to mpc IR; the decode step twice, at the smallest and the
/// largest context length, from which the exporter derives how its extents
/// grow with the context.
struct GenerationExport {
  mlir::ModuleOp prefill;
  mlir::ModuleOp decodeAt[2];
  int64_t contexts[2] = {0, 0};
  int64_t promptLen = 0, maxSeq = 0;
  /// (decode state input, its state output = the prefill's) per tensor.
  std::vector<std::pair<std::string, std::string>> cache;
  std::string tokenOutput = "next_token", tokenInput = "input_ids",
              positionInput = "position";
  /// The opt-in stop output of both programs ("" without one).
  std::string stopOutput;
};

/// Writes one artifact: the prefill as the root program, the decode step
/// nested in its `generation` table, the weights they share stored once.
/// Anything of the decode step other than its extents that depends on the
/// context length, and a cache whose shapes do not chain, is a diagnostic.
mlir::LogicalResult exportGenerationUmbra(const GenerationExport &g,
                                          llvm::raw_ostream &os);

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
