//===- mpc-compile.cpp - ONNX model to Umbra artifact ---------------------===//
//
// The user's driver, in the manner of iree-compile:
//
//   mpc-compile model.onnx -o model.umbra [--compile-to=tfm|mpc|artifact]
//               [--input-shape input_ids=1x32] [--const-input NAME=FILE.npy]
//               [--role NAME=client|owner|public]
//               [--public-weights] [--public-weight-names REGEX]
//               [--frac-bits 16] [--gelu-degree 7] ... [--leakage-report]
//               [--cost-report] [--range-report] [--input-range x=-4:4]
//               [--calibration ranges.json] [--timing]
//
// imports the model (ONNX binary or text; `.mlir` input skips the import),
// runs the Umbra pipeline and writes tfm or mpc IR, or the artifact mpc-run
// executes. The pipeline's flags are its phases' options (Pipelines.h), with
// the names of the pass options they set. Every failure is a diagnostic and
// a non-zero exit status.
//
//===----------------------------------------------------------------------===//
#include "umbra/Analysis/RangeAnalysis.h"
#include "umbra/Conversion/ApproximationDomains.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"
#include "umbra/Pipelines/Pipelines.h"
#include "umbra/Target/ONNX/ImportONNX.h"
#include "umbra/Target/Umbra/ExportUmbra.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <memory>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory category("mpc-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | .onnxtext | "
                                               ".mlir>"),
                                      cl::cat(category));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Output file ('-' for "
                                                "stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(category));
static cl::opt<umbra::CompileTo> compileTo(
    "compile-to", cl::desc("Stop after this phase"),
    cl::init(umbra::CompileTo::artifact),
    cl::values(
        clEnumValN(umbra::CompileTo::tfm, "tfm",
                   "imported and fused tfm IR (text)"),
        clEnumValN(umbra::CompileTo::mpc, "mpc", "protocol-level mpc IR (text)"),
        clEnumValN(umbra::CompileTo::artifact, "artifact",
                   "the runtime's artifact (default)"),
        clEnumValN(umbra::CompileTo::artifact, "umbra", "same as artifact")),
    cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Static shape for a graph input: name=1x32 "
                         "(repeatable)"),
                cl::value_desc("name=shape"), cl::cat(category));
static cl::list<std::string> constInputs(
    "const-input",
    cl::desc("A graph input whose value the deployment knows (a shape, axes, "
             "split sizes, pads, scales), from a .npy file: it becomes a "
             "public constant (repeatable)"),
    cl::value_desc("name=file.npy"), cl::cat(category));
static cl::opt<bool> leakageReport(
    "leakage-report",
    cl::desc("List every value the program reveals (on stdout, or on stderr "
             "when the output goes to stdout)"),
    cl::cat(category));
static cl::opt<bool> costReport(
    "cost-report",
    cl::desc("Print the predicted online bytes and rounds per instruction "
             "kind (the runtime's instruction table; on stdout, or on stderr "
             "when the output goes to stdout)"),
    cl::cat(category));
static cl::opt<bool> rangeReport(
    "range-report",
    cl::desc("Print, per op, the interval range, the fixed-point headroom and "
             "whether each approximation's domain is respected (from the "
             "input ranges, the weights and --calibration; for the compiling "
             "owner only, never written into the output; on stdout, or on "
             "stderr when the output goes to stdout)"),
    cl::cat(category));
static cl::list<std::string> inputRanges(
    "input-range",
    cl::desc("Range of a float graph input for the range analysis: "
             "name=lo:hi (repeatable; implies the range warnings)"),
    cl::value_desc("name=lo:hi"), cl::cat(category));
static cl::opt<std::string> calibrationFile(
    "calibration",
    cl::desc("Per-node min/max recorded on real inputs "
             "(umbra_models.calibrate) for the range analysis (implies the "
             "range warnings)"),
    cl::value_desc("file.json"), cl::cat(category));
static cl::opt<bool> noPublicStructure(
    "no-public-structure",
    cl::desc("Same as --public-structure=false: weights equal to a rotary "
             "table, a mask, position ids or ALiBi slopes stay the owner's"),
    cl::cat(category));
static cl::opt<bool> timing("timing",
                            cl::desc("Print the time spent in each phase "
                                     "(same as --mlir-timing)"),
                            cl::cat(category));

/// The pipeline's options as this tool's flags: one flag per phase option,
/// writing straight into the options struct.
struct FlagBinder {
  std::vector<std::unique_ptr<cl::Option>> flags;
  template <typename T>
  void opt(llvm::StringRef name, T &field, llvm::StringRef desc) {
    flags.push_back(std::make_unique<cl::opt<T, true>>(
        name, cl::desc(desc), cl::location(field), cl::cat(category)));
  }
  void list(llvm::StringRef name, llvm::SmallVector<std::string> &field,
            llvm::StringRef desc) {
    flags.push_back(
        std::make_unique<cl::list<std::string, llvm::SmallVector<std::string>>>(
            name, cl::desc(desc), cl::location(field), cl::cat(category),
            cl::value_desc("name=role")));
  }
};

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "mpc-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  umbra::PipelineOptions options;
  FlagBinder flags;
  options.bind(flags);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  // libLLVM registers hundreds of backend options; show only ours (the
  // MLIR ones, such as --mlir-timing, still work: see --help-hidden).
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Umbra compiler: ONNX decoder -> program for 2PC with a dealer\n");

  // User mistakes that need no model to detect.
  options.compileTo = compileTo;
  if (noPublicStructure)
    options.import.roles.publicStructure = false;
  if (std::string err = options.verify(); !err.empty())
    return fail("--" + err);
  umbra::RangeOptions rangeOptions;
  rangeOptions.domains = umbra::approximationDomains(options.convertTfmToMpc());
  for (const std::string &spec : inputRanges)
    if (std::string err = umbra::parseInputRange(spec, rangeOptions);
        !err.empty())
      return fail(err);
  if (!calibrationFile.empty())
    if (std::string err =
            umbra::readCalibration(calibrationFile, rangeOptions);
        !err.empty())
      return fail(err);
  bool analyzeRanges =
      rangeReport || !inputRanges.empty() || !calibrationFile.empty();
  umbra::ImportOptions importOptions;
  for (const std::string &spec : inputShapes) {
    std::string err = umbra::parseInputShapeSpec(spec, importOptions);
    if (!err.empty())
      return fail(err);
  }
  for (const std::string &spec : constInputs) {
    std::string err = umbra::parseConstInputSpec(spec, importOptions);
    if (!err.empty())
      return fail(err);
  }
  if (leakageReport && compileTo == umbra::CompileTo::tfm)
    return fail("--leakage-report needs --compile-to=mpc or artifact (tfm "
                "IR has no reveals yet)");
  if (costReport && compileTo == umbra::CompileTo::tfm)
    return fail("--cost-report needs --compile-to=mpc or artifact");
  bool toStdout = outputFile == "-";
  if (compileTo == umbra::CompileTo::artifact && toStdout &&
      llvm::sys::Process::StandardOutIsDisplayed())
    return fail("refusing to write a binary artifact to a terminal; pass "
                "-o model.umbra");

  DialectRegistry registry;
  registry.insert<umbra::tfm::TfmDialect, umbra::mpc::MpcDialect,
                  arith::ArithDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  if (timing)
    tm.setEnabled(true);
  TimingScope root = tm.getRootScope();

  // Import.
  OwningOpRef<ModuleOp> module;
  {
    TimingScope t = root.nest("Import");
    if (StringRef(inputFile).ends_with(".mlir")) {
      std::string err;
      auto file = openInputFile(inputFile, &err);
      if (!file)
        return fail(err);
      sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
      module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    } else {
      module = umbra::importONNXFile(inputFile, context, importOptions);
    }
    if (!module)
      return 1; // diagnostics already printed
  }

  // Pipeline.
  {
    TimingScope t = root.nest("Pipeline");
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    pm.enableTiming(t);
    umbra::buildUmbraFusionPipeline(pm);
    if (failed(pm.run(*module)))
      return 1;
  }
  // Ranges, on the fused tfm program: printed and warned about, never
  // written into the output (they derive from the owner's weights).
  if (analyzeRanges) {
    TimingScope t = root.nest("Ranges");
    auto findings = umbra::analyzeRanges(*module, rangeOptions);
    if (failed(findings))
      return 1;
    umbra::emitRangeWarnings(*module, *findings, rangeOptions);
    if (rangeReport)
      umbra::printRangeReport(*findings, rangeOptions,
                              toStdout ? llvm::errs() : llvm::outs());
  }
  if (compileTo != umbra::CompileTo::tfm) {
    TimingScope t = root.nest("Lowering");
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    pm.enableTiming(t);
    umbra::buildUmbraLoweringPipeline(pm, options);
    if (failed(pm.run(*module)))
      return 1;
  }

  if (leakageReport)
    (void)umbra::printLeakageReport(*module,
                                    toStdout ? llvm::errs() : llvm::outs());

  if (costReport && failed(umbra::printCostReport(
                        *module, toStdout ? llvm::errs() : llvm::outs())))
    return 1;

  // Output.
  TimingScope t = root.nest("Output");
  std::string err;
  auto output = openOutputFile(outputFile, &err);
  if (!output)
    return fail(err);
  if (compileTo == umbra::CompileTo::artifact) {
    if (failed(umbra::exportUmbra(*module, output->os())))
      return 1;
  } else {
    module->print(output->os());
    output->os() << "\n";
  }
  output->os().flush();
  if (output->os().has_error())
    return fail("cannot write '" + outputFile + "'");
  output->keep();
  return 0;
}
