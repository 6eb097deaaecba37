//===- ImportONNX.h - ONNX to tfm importer ----------------------*- C++ -*-===//
//
// Reads an ONNX model (binary protobuf `.onnx` or ONNX's textual syntax
// `.onnxtext`) and builds a `func.func` of `tfm` ops with static shapes.
// Shape computations (Shape/Gather/Concat chains, causal-mask buffers) are
// evaluated at import time; weights become `arith.constant`s holding
// `dense_resource` blobs that take over the protobuf's bytes without copying.
// Every constant is marked with its role (`mpc.visibility`): float
// initializers are the model owner's, everything else is public.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_TARGET_ONNX_IMPORTONNX_H
#define UMBRA_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <utility>
#include <vector>

namespace umbra {

struct ImportOptions {
  /// Static shapes for graph inputs, replacing their dynamic (or
  /// agreeing static) dimensions: `{"input_ids", {1, 32}}`.
  std::vector<std::pair<std::string, llvm::SmallVector<int64_t>>> inputShapes;
  /// Graph inputs whose values the deployment knows (shapes, axes, split
  /// sizes, pads, scales: structure, not private data), as `.npy` files:
  /// `{"shape", "shape.npy"}`. Each becomes a public constant (provenance
  /// `--const-input`) and is no longer an argument of the function.
  std::vector<std::pair<std::string, std::string>> constInputs;
  /// Values for named dynamic dimensions (ONNX dim_param) of graph inputs
  /// that --input-shape does not fix: `{"past", 31}` (a decode step's
  /// context length).
  std::vector<std::pair<std::string, int64_t>> dimParams;
  /// Float constants with more elements than this become `dense_resource`
  /// blobs; smaller ones (and all integer/bool constants) stay readable
  /// `dense<...>` literals.
  int64_t resourceThreshold = 16;
  /// Name of the generated function.
  std::string funcName = "main";
  /// Cross-check every computed shape against ONNX shape inference.
  bool checkInferredShapes = true;
};

/// Parses `name=1x32` (dimensions separated by `x` or `,`) into `options`.
/// Returns an error message, empty on success.
std::string parseInputShapeSpec(llvm::StringRef spec, ImportOptions &options);

/// Parses `name=file.npy` into `options.constInputs`. Returns an error
/// message, empty on success.
std::string parseConstInputSpec(llvm::StringRef spec, ImportOptions &options);

/// Imports a model held in `buffer`; `bufferName` (the file name) selects the
/// syntax (`.onnxtext`/`.onnxtxt` is text, `.onnx` binary, anything else is
/// sniffed) and names the diagnostics' location. Errors are reported as MLIR
/// diagnostics in `context` and yield a null module; never throws or aborts.
/// The module does not reference `buffer`, which may be freed on return.
mlir::OwningOpRef<mlir::ModuleOp> importONNX(llvm::StringRef buffer,
                                             llvm::StringRef bufferName,
                                             mlir::MLIRContext &context,
                                             const ImportOptions &options);

/// Reads `path` and imports it (see above). Binary models are streamed
/// through protobuf, so peak memory is about the size of the weights rather
/// than twice it. A missing or unreadable file is a diagnostic.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(llvm::StringRef path,
                                                 mlir::MLIRContext &context,
                                                 const ImportOptions &options);

/// Prints the supported ONNX operators (one markdown table row each: name,
/// opsets, family, tfm form), generated from the importer's op table.
void printONNXOpTable(llvm::raw_ostream &os);

/// Registers `--onnx-op-table` (prints the above) and `--import-onnx` (with `--input-shape name=1x32`, repeatable, and
/// `--import-only`) for mlir-translate style drivers.
void registerONNXImportTranslation();

} // namespace umbra

#endif // UMBRA_TARGET_ONNX_IMPORTONNX_H
