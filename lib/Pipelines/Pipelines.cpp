//===- Pipelines.cpp - Umbra's compilation pipeline and its options -------===//
#include "umbra/Pipelines/Pipelines.h"

#include "umbra/Dialect/Tfm/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace umbra;

ConvertTfmToMpcOptions PipelineOptions::convertTfmToMpc() const {
  ConvertTfmToMpcOptions o;
  o.fracBits = lowering.fracBits;
  o.maskedScore = lowering.maskedScore;
  o.varianceMax = lowering.varianceMax;
  o.reciprocalMin = lowering.reciprocalMin;
  o.reciprocalMax = lowering.reciprocalMax;
  o.sqrtMax = lowering.sqrtMax;
  o.logMin = lowering.logMin;
  o.logMax = lowering.logMax;
  o.expMax = lowering.expMax;
  o.geluThreshold = approximation.geluThreshold;
  o.geluDegree = approximation.geluDegree;
  o.siluThreshold = approximation.siluThreshold;
  o.siluDegree = approximation.siluDegree;
  o.expSquarings = approximation.expSquarings;
  return o;
}

std::string PipelineOptions::verify() const {
  if (std::string err = verifyMpcAssignRolesOptions(import.roles); !err.empty())
    return err;
  if (std::string err = verifyMpcApproximateOptions(approximation.strategies);
      !err.empty())
    return err;
  if (sparsity.sparsity != "off" && sparsity.sparsity != "predicted")
    return "--sparsity must be off or predicted, not '" + sparsity.sparsity +
           "'";
  if (sparsity.sparsity == "off" &&
      (sparsity.block != 0 || sparsity.bucket != 0 || sparsity.recall != 0.0 ||
       !sparsity.threshold.empty() || sparsity.leakage != "per-deployment"))
    return "--sparsity-block, --sparsity-bucket, --sparsity-recall, "
           "--sparsity-threshold and --sparsity-leakage need "
           "--sparsity=predicted";
  if (sparsity.recall != 0.0 && !sparsity.threshold.empty())
    return "give --sparsity-recall or --sparsity-threshold, not both";
  if (sparsity.recall < 0.0 || sparsity.recall > 1.0)
    return "--sparsity-recall must be in [0, 1]";
  if (sparsity.leakage != "per-deployment" &&
      sparsity.leakage != "per-inference")
    return "--sparsity-leakage must be per-deployment or per-inference, not '" +
           sparsity.leakage + "'";
  return verifyConvertTfmToMpcOptions(convertTfmToMpc());
}

/// The canonicalizer never merges equal constants (its constant CSE keys on
/// value and type only, not on mpc.visibility or mpc.sources): an owner's
/// weight equal to a public literal must stay the owner's, and a public
/// constant must keep its own provenance. CSE merges only constants whose
/// attributes, role and provenance included, are all equal.
static GreedyRewriteConfig keepConstants() {
  GreedyRewriteConfig config;
  config.enableConstantCSE(false);
  return config;
}

void umbra::buildUmbraTfmPipeline(OpPassManager &pm,
                                  const PipelineOptions &options) {
  // Import phase (after the importer): semantic ops.
  pm.addPass(tfm::createTfmFuse());
  pm.addPass(createCanonicalizerPass(keepConstants()));
  // The MPC-friendly forms the user (or the model's fine-tuning) chose.
  pm.addPass(createMpcApproximate(options.approximation.strategies));
}

void umbra::buildUmbraPipeline(OpPassManager &pm,
                               const PipelineOptions &options) {
  buildUmbraTfmPipeline(pm, options);
  if (options.compileTo == CompileTo::tfm)
    return;
  buildUmbraLoweringPipeline(pm, options);
}

void umbra::buildUmbraLoweringPipeline(OpPassManager &pm,
                                       const PipelineOptions &options) {
  // The declared roles, then Marill's relocation.
  pm.addPass(createMpcAssignRoles(options.import.roles));
  pm.addPass(createMpcRelocate());
  // Comet's predicted sparsity.
  if (options.sparsity.sparsity == "predicted") {
    MpcInsertPredictorsOptions ip;
    ip.recall = options.sparsity.recall;
    ip.threshold = options.sparsity.threshold;
    ip.block = options.sparsity.block;
    ip.bucket = options.sparsity.bucket;
    pm.addPass(createMpcInsertPredictors(ip));
    MpcSparsifyFfnOptions sf;
    sf.leakage = options.sparsity.leakage;
    pm.addPass(createMpcSparsifyFfn(sf));
  }
  pm.addPass(createConvertTfmToMpc(options.convertTfmToMpc()));
  // Optimisation.
  pm.addPass(createCanonicalizerPass(keepConstants()));
  pm.addPass(createCSEPass());
}

namespace {
/// Declares one pass-pipeline option per phase option, defaulted to the
/// phase's default.
struct DeclareBinder {
  UmbraPipelineOptions &parent;
  template <typename T>
  void opt(StringRef name, T &field, StringRef desc) {
    auto o = std::make_unique<UmbraPipelineOptions::Option<T>>(
        parent, name, llvm::cl::desc(desc), llvm::cl::init(field));
    parent.byName[name] = o.get();
    parent.owned.push_back(std::move(o));
  }
  void list(StringRef name, llvm::SmallVector<std::string> &, StringRef desc) {
    auto o = std::make_unique<UmbraPipelineOptions::ListOption<std::string>>(
        parent, name, llvm::cl::desc(desc));
    parent.byName[name] = o.get();
    parent.owned.push_back(std::move(o));
  }
};

/// Reads the parsed values back into the phases' structs.
struct ReadBinder {
  const UmbraPipelineOptions &parent;
  template <typename T>
  void opt(StringRef name, T &field, StringRef) {
    field = *static_cast<UmbraPipelineOptions::Option<T> *>(
        parent.byName.lookup(name));
  }
  void list(StringRef name, llvm::SmallVector<std::string> &field, StringRef) {
    auto *o = static_cast<UmbraPipelineOptions::ListOption<std::string> *>(
        parent.byName.lookup(name));
    field.assign(o->begin(), o->end());
  }
};
} // namespace

UmbraPipelineOptions::UmbraPipelineOptions() {
  PipelineOptions defaults;
  DeclareBinder binder{*this};
  defaults.bind(binder);
}

PipelineOptions UmbraPipelineOptions::get() const {
  PipelineOptions out;
  ReadBinder binder{*this};
  out.bind(binder);
  out.compileTo = compileTo;
  return out;
}

void umbra::registerUmbraPipelines() {
  PassPipelineRegistration<UmbraPipelineOptions>(
      "umbra-pipeline",
      "Umbra's pipeline: tfm-fuse, canonicalize, mpc-approximate, "
      "mpc-assign-roles, "
      "mpc-relocate, [mpc-insert-predictors, mpc-sparsify-ffn (sparsity="
      "predicted),] convert-tfm-to-mpc, canonicalize, cse (compile-to=tfm "
      "stops after fusion); options as mpc-compile's flags",
      [](OpPassManager &pm, const UmbraPipelineOptions &options) {
        buildUmbraPipeline(pm, options.get());
      });
}
