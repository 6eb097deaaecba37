//===- OnnxImportFuzzer.cpp - Fuzz target: the ONNX importer --------------===//
//
// Feeds the bytes to importONNX, the importer behind mpc-compile and
// mpc-translate --import-onnx: protobuf parsing (or ONNX's textual syntax,
// sniffed from the first bytes as for a file of unknown extension), ONNX
// shape inference, the graph walk, constant evaluation and the op
// translations into tfm. A module it returns is then verified (the tfm and
// mpc op verifiers) and printed. The importer's contract is that it never
// throws or aborts: every problem is an MLIR diagnostic and a null module.
// The diagnostics are collected here and dropped; a crash, an escaping
// exception or a sanitizer report is a bug.
//
// Each input gets a fresh MLIRContext: attributes, types and weight
// resources are uniqued in the context for its lifetime, so one long-lived
// context would grow with every input and hide what one input costs.
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/ONNX/ImportONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  static const bool verbose = std::getenv("UMBRA_FUZZ_VERBOSE");
  mlir::ScopedDiagnosticHandler collect(&context, [&](mlir::Diagnostic &d) {
    if (verbose)
      llvm::errs() << "diagnostic: " << d << "\n";
    return mlir::success();
  });
  umbra::ImportOptions options;
  // No extension: the importer sniffs binary protobuf or textual ONNX.
  mlir::OwningOpRef<mlir::ModuleOp> module = umbra::importONNX(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz-input",
      context, options);
  if (!module)
    return 0;
  if (mlir::succeeded(mlir::verify(*module))) {
    mlir::OpPrintingFlags flags;
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
    llvm::raw_null_ostream os;
    module->print(os, flags);
  }
  return 0;
}
