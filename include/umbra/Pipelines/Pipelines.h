//===- Pipelines.h - Umbra's compilation pipeline and its options -*- C++ -*-===//
//
// One pipeline from imported tfm IR to the mpc IR the artifact exporter
// accepts, shared by `mpc-compile` and `mpc-opt --umbra-pipeline`. As in
// IREE, its options come in one struct per phase; each struct lists its
// options once (`bind`), and a binder turns that list into the tool's
// command-line flags (mpc-compile) or into pass-pipeline options
// (umbra-pipeline), with the names of the pass options they set. Defaults
// are the passes' own (their TableGen declarations).
//
// Phases: import (roles of inputs and weights), approximation (the
// non-linear functions' strategies and fits), lowering (fixed point). Sparsity and optimisation
// get a struct when they get their first option.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_PIPELINES_PIPELINES_H
#define UMBRA_PIPELINES_PIPELINES_H

#include "umbra/Conversion/Passes.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace umbra {

/// How far a compilation goes: imported and fused tfm, protocol-level mpc,
/// or the runtime's artifact (mpc, then exported).
enum class CompileTo { tfm, mpc, artifact };

/// Who holds what (mpc-assign-roles).
struct ImportPhaseOptions {
  MpcAssignRolesOptions roles;

  template <typename Binder>
  void bind(Binder &b) {
    b.opt("public-weights", roles.publicWeights,
          "Every weight is public (an open model whose prompt alone is "
          "private)");
    b.opt("public-weight-names", roles.publicWeightNames,
          "Regular expression (full match) over weight names, the ONNX "
          "initializer names, that are public: a frozen public base, public "
          "LoRA bases; the client computes what depends only on them and "
          "its input");
    b.list("role", roles.roles,
           "NAME=client|owner|public for a graph input or a weight, "
           "NAME=state for a graph input or output carried secret-shared "
           "between the programs of a session, NAME=public for an output "
           "every role learns (repeatable; defaults: inputs are the "
           "client's, initializers the model owner's, outputs revealed to "
           "the client)");
    b.opt("public-structure", roles.publicStructure,
          "Make public the weights whose values equal a function of the "
          "architecture: rotary cos/sin tables, position ids, causal and "
          "sliding-window masks, ALiBi slopes (on by default; each one is "
          "listed by the leakage report with its formula; "
          "--public-structure=false or --no-public-structure keeps them the "
          "owner's)");
    b.opt("outsourced", roles.outsourced,
          "The outsourced deployment: the client is not a server, so its "
          "real-valued inputs are secret-shared to P0 and P1 at once and "
          "everything computed from them runs under MPC (by default the "
          "client is P0 and computes in plaintext what depends on its data "
          "alone)");
  }
};

/// How the non-linear functions are approximated: mpc-approximate's
/// strategies, and the accurate lowering's fits (convert-tfm-to-mpc).
struct ApproximationOptions {
  MpcApproximateOptions strategies;
  // Defaults: the pass's own.
  double geluThreshold = ConvertTfmToMpcOptions().geluThreshold,
         siluThreshold = ConvertTfmToMpcOptions().siluThreshold;
  unsigned geluDegree = ConvertTfmToMpcOptions().geluDegree,
           siluDegree = ConvertTfmToMpcOptions().siluDegree;
  int64_t expSquarings = ConvertTfmToMpcOptions().expSquarings;

  template <typename Binder>
  void bind(Binder &b) {
    b.opt("approx", strategies.approx,
          "MPC-friendly strategies: OP:STRATEGY[@FIRST-LAST],... with OP "
          "gelu|silu|softmax|layer_norm|rms_norm, e.g. "
          "gelu:relu,softmax:2quad@0-5 (strategies: "
          "lib/Utils/Approximation/strategies.json; default: the model's "
          "metadata umbra.approximations, else accurate)");
    b.opt("approx-poly-degree", strategies.polyDegree,
          "Degree of each piece of the `poly` strategy (0: the table's)");
    b.opt("approx-poly-pieces", strategies.polyPieces,
          "Pieces of the `poly` strategy (0: the table's)");
    b.opt("approx-poly-domain", strategies.polyDomain,
          "LO:HI the `poly` strategy is fitted on (default: the table's)");
    b.opt("approx-poly-fit", strategies.polyFit,
          "least-squares | minimax fit of `poly` (default: the table's)");
    b.opt("approx-report", strategies.report,
          "Write every approximated op's strategy, layer, fitted pieces and "
          "error to this JSON file");
    b.opt("gelu-threshold", geluThreshold,
          "GeLU is ReLU(x) exactly for |x| >= this");
    b.opt("gelu-degree", geluDegree, "Degree of the GeLU correction polynomial");
    b.opt("silu-threshold", siluThreshold,
          "SiLU is ReLU(x) exactly for |x| >= this");
    b.opt("silu-degree", siluDegree, "Degree of the SiLU correction polynomial");
    b.opt("exp-squarings", expSquarings,
          "exp(x) = (1 + x / 2^t)^(2^t) with t squarings (softmax)");
  }
};

/// Predicted activation sparsity (mpc-insert-predictors, mpc-sparsify-ffn).
struct SparsityPhaseOptions {
  std::string sparsity = "off";
  int64_t block = 0, bucket = 0;
  double recall = 0.0;
  std::string threshold;
  std::string leakage = "per-deployment";

  template <typename Binder>
  void bind(Binder &b) {
    b.opt("sparsity", sparsity,
          "off | predicted: compute only the FFN blocks the model's "
          "activation predictors select, obliviously (docs/sparsity.md)");
    b.opt("sparsity-block", block,
          "Neurons per block of a sparse FFN: a multiple of the predictor's "
          "block (0: the predictor's)");
    b.opt("sparsity-bucket", bucket,
          "Pad each token's count of active blocks up to a multiple of this "
          "many blocks, so that only the bucket is revealed (0: the exact "
          "count, Comet's choice)");
    b.opt("sparsity-recall", recall,
          "Target block recall: each predictor's threshold from its recall "
          "table (0: the threshold the model ships)");
    b.opt("sparsity-threshold", threshold,
          "Replace every predictor's threshold by this number");
    b.opt("sparsity-leakage", leakage,
          "per-deployment (the blocks are permuted once per deployment; "
          "opened masks are linkable across queries up to that permutation) "
          "| per-inference (a fresh permutation per inference)");
  }
};

/// The fixed-point encoding (convert-tfm-to-mpc).
struct LoweringPhaseOptions {
  unsigned fracBits = ConvertTfmToMpcOptions().fracBits;
  double maskedScore = ConvertTfmToMpcOptions().maskedScore,
         varianceMax = ConvertTfmToMpcOptions().varianceMax;
  // Domains of functions of secret data (the pass's defaults).
  double reciprocalMin = ConvertTfmToMpcOptions().reciprocalMin,
         reciprocalMax = ConvertTfmToMpcOptions().reciprocalMax,
         sqrtMax = ConvertTfmToMpcOptions().sqrtMax,
         logMin = ConvertTfmToMpcOptions().logMin,
         logMax = ConvertTfmToMpcOptions().logMax,
         expMax = ConvertTfmToMpcOptions().expMax;

  template <typename Binder>
  void bind(Binder &b) {
    b.opt("frac-bits", fracBits, "Fractional bits of the encoding (1-24)");
    b.opt("masked-score", maskedScore, "Score of causally masked positions");
    b.opt("variance-max", varianceMax, "Largest variance a norm may see");
    b.opt("reciprocal-min", reciprocalMin,
          "Smallest |y| of a computed divisor or reciprocal");
    b.opt("reciprocal-max", reciprocalMax,
          "Largest |y| of a computed divisor or reciprocal");
    b.opt("sqrt-max", sqrtMax, "Largest x of sqrt(x) on computed data");
    b.opt("log-min", logMin, "Smallest x of log(x) on computed data");
    b.opt("log-max", logMax, "Largest x of log(x) on computed data");
    b.opt("exp-max", expMax, "Largest x of exp(x) on computed data");
  }
};

struct PipelineOptions {
  ImportPhaseOptions import;
  ApproximationOptions approximation;
  SparsityPhaseOptions sparsity;
  LoweringPhaseOptions lowering;
  CompileTo compileTo = CompileTo::artifact;

  template <typename Binder>
  void bind(Binder &b) {
    import.bind(b);
    approximation.bind(b);
    sparsity.bind(b);
    lowering.bind(b);
  }

  /// The options of convert-tfm-to-mpc these phases set.
  ConvertTfmToMpcOptions convertTfmToMpc() const;
  /// A user mistake in the options, found before any model is read; empty
  /// when there is none. The passes check the same when run alone.
  std::string verify() const;
};

/// tfm-fuse, canonicalize, mpc-approximate; then (unless compile-to=tfm)
/// mpc-assign-roles, mpc-relocate, [mpc-insert-predictors,
/// mpc-sparsify-ffn,] convert-tfm-to-mpc, canonicalize, cse.
void buildUmbraPipeline(mlir::OpPassManager &pm, const PipelineOptions &options);
/// Its two halves: the tfm program (tfm-fuse, canonicalize,
/// mpc-approximate: what compile-to=tfm runs), and the rest. mpc-compile
/// runs the range analysis between them, on the program that is lowered.
void buildUmbraTfmPipeline(mlir::OpPassManager &pm,
                           const PipelineOptions &options);
void buildUmbraLoweringPipeline(mlir::OpPassManager &pm,
                                const PipelineOptions &options);

/// `umbra-pipeline`'s options: the phases' options as pass-pipeline options
/// (same names as mpc-compile's flags), plus compile-to.
struct UmbraPipelineOptions
    : public mlir::PassPipelineOptions<UmbraPipelineOptions> {
  UmbraPipelineOptions();
  /// The parsed values.
  PipelineOptions get() const;

  Option<CompileTo> compileTo{
      *this, "compile-to",
      llvm::cl::desc("Last phase of the pipeline (artifact: the same passes "
                     "as mpc; the exporter writes the artifact)"),
      llvm::cl::init(CompileTo::mpc),
      llvm::cl::values(
          clEnumValN(CompileTo::tfm, "tfm", "imported and fused tfm"),
          clEnumValN(CompileTo::mpc, "mpc", "protocol-level mpc"),
          clEnumValN(CompileTo::artifact, "artifact", "same as mpc"))};

  /// One pass-pipeline option per phase option, by name (made by `bind`).
  std::vector<std::unique_ptr<llvm::cl::Option>> owned;
  llvm::StringMap<llvm::cl::Option *> byName;
};

/// Registers `umbra-pipeline` with the pass registry.
void registerUmbraPipelines();

} // namespace umbra

#endif // UMBRA_PIPELINES_PIPELINES_H
