//===- Pipelines.cpp - Umbra's default compilation pipeline ---------------===//
#include "umbra/Pipelines/Pipelines.h"

#include "umbra/Conversion/Passes.h"
#include "umbra/Dialect/Mpc/Transforms/Passes.h"
#include "umbra/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void umbra::buildUmbraPipeline(OpPassManager &pm,
                               const UmbraPipelineOptions &options) {
  pm.addPass(tfm::createTfmFuse());
  pm.addPass(createCanonicalizerPass());
  if (options.compileTo == CompileTo::tfm)
    return;
  mpc::MpcRelocateOptions relocate;
  relocate.publicWeights =
      options.publicWeights ? ".*" : options.publicWeightNames.getValue();
  pm.addPass(mpc::createMpcRelocate(relocate));
  ConvertTfmToMpcOptions lower;
  lower.fracBits = options.fracBits;
  lower.publicWeights = options.publicWeights;
  pm.addPass(createConvertTfmToMpc(lower));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void umbra::registerUmbraPipelines() {
  PassPipelineRegistration<UmbraPipelineOptions>(
      "umbra-pipeline",
      "Umbra's default pipeline: tfm-fuse, canonicalize, mpc-relocate, "
      "convert-tfm-to-mpc, canonicalize, cse (compile-to=tfm stops after "
      "fusion)",
      buildUmbraPipeline);
}
