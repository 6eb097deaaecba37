//===- Pipelines.h - Umbra's default compilation pipeline -------*- C++ -*-===//
//
// The pass sequence from imported tfm IR to mpc IR that the artifact exporter
// accepts, shared by `mpc-opt --umbra-pipeline` and `mpc-compile`.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_PIPELINES_PIPELINES_H
#define UMBRA_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace umbra {

/// How far a compilation goes: imported and fused tfm, protocol-level mpc,
/// or the runtime's artifact (mpc, then exported).
enum class CompileTo { tfm, mpc, umbra };

struct UmbraPipelineOptions
    : public mlir::PassPipelineOptions<UmbraPipelineOptions> {
  Option<unsigned> fracBits{*this, "frac-bits",
                            llvm::cl::desc("Fractional bits of the "
                                           "fixed-point encoding"),
                            llvm::cl::init(16)};
  Option<bool> publicWeights{*this, "public-weights",
                             llvm::cl::desc("Treat the model's weights as "
                                            "public"),
                             llvm::cl::init(false)};
  Option<std::string> publicWeightNames{
      *this, "public-weight-names",
      llvm::cl::desc("Regular expression over weight names (ONNX "
                     "initializers) that are public, e.g. a frozen base")};
  Option<CompileTo> compileTo{
      *this, "compile-to",
      llvm::cl::desc("Last stage of the pipeline (umbra: the same passes as "
                     "mpc; the artifact is written by the exporter)"),
      llvm::cl::init(CompileTo::mpc),
      llvm::cl::values(
          clEnumValN(CompileTo::tfm, "tfm", "imported and fused tfm"),
          clEnumValN(CompileTo::mpc, "mpc", "protocol-level mpc"),
          clEnumValN(CompileTo::umbra, "umbra", "same as mpc"))};
};

/// tfm-fuse, canonicalize; then (unless compile-to=tfm) mpc-relocate,
/// convert-tfm-to-mpc, canonicalize, cse.
void buildUmbraPipeline(mlir::OpPassManager &pm,
                        const UmbraPipelineOptions &options);

/// Registers `umbra-pipeline` with the pass registry.
void registerUmbraPipelines();

} // namespace umbra

#endif // UMBRA_PIPELINES_PIPELINES_H
