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
static cl::opt<std::string> decodeStep(
    "decode-step",
    cl::desc("The decode step of the same model (one new token against a "
             "key/value cache; the positional input is the prefill): writes "
             "one generation artifact for mpc-run --generate"),
    cl::value_desc("decode.onnx"), cl::cat(category));
static cl::opt<int64_t> maxSeq(
    "max-seq",
    cl::desc("Largest sequence (prompt and generated tokens) a generation "
             "artifact serves: the cache holds at most this many positions"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string> contextDim(
    "context-dim",
    cl::desc("The decode step's dynamic dimension that is the cache length "
             "(ONNX dim_param)"),
    cl::init("past"), cl::cat(category));
static cl::opt<std::string> tokenOutput(
    "token-output",
    cl::desc("Output of both programs that is the chosen token"),
    cl::init("next_token"), cl::cat(category));
static cl::opt<std::string> tokenInput(
    "token-input", cl::desc("The decode step's input that is the last token"),
    cl::init("input_ids"), cl::cat(category));
static cl::opt<std::string> positionInput(
    "position-input",
    cl::desc("The decode step's input that is the new token's position (the "
             "cache length), if it has one"),
    cl::init("position"), cl::cat(category));
static cl::opt<std::string> stopOutput(
    "stop-output",
    cl::desc("Output of both programs that ends generation when 1 (an "
             "opt-in end-of-sequence stop, revealed to every role); used "
             "when the programs have it"),
    cl::init("stop"), cl::cat(category));
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

/// The present name of a cache input: "past_key_0" -> "present_key_0",
/// "past_key_values.0.key" -> "present.0.key" (the torch and Hugging Face
/// export conventions).
static std::string presentNameOf(StringRef past) {
  for (StringRef from : {"past_key_values", "past"})
    if (size_t at = past.find(from); at != StringRef::npos)
      return (past.take_front(at) + "present" + past.drop_front(at + from.size()))
          .str();
  return "";
}

/// The imported model's function (the importer writes one, `main`).
static FailureOr<func::FuncOp> mainFunction(ModuleOp m) {
  if (auto f = m.lookupSymbol<func::FuncOp>("main"))
    return f;
  return m.emitError("the module has no function 'main'");
}

static SmallVector<std::string> resultNames(func::FuncOp f) {
  SmallVector<std::string> names;
  for (unsigned i = 0; i < f.getNumResults(); ++i)
    if (auto n = f.getResultAttrOfType<StringAttr>(i, "onnx.name"))
      names.push_back(n.str());
  return names;
}

/// mpc-compile prefill.onnx --decode-step decode.onnx --max-seq S: the
/// prefill once and the decode step at the smallest and the largest context
/// it serves (the prompt length and S - 1), one artifact. The cache is
/// found by name (decode inputs containing "past" and the outputs named
/// like them with "present"), declared state in both programs.
template <typename Compile>
static int compileGeneration(Compile &compile,
                             const umbra::ImportOptions &importOptions,
                             const umbra::PipelineOptions &options,
                             bool toStdout) {
  if (options.compileTo != umbra::CompileTo::artifact)
    return fail("--decode-step writes a generation artifact; compile each "
                "program alone for --compile-to=tfm or mpc");
  if (maxSeq < 2)
    return fail("--decode-step needs --max-seq (the largest number of "
                "positions the cache holds, at least 2)");
  umbra::GenerationExport g;
  g.maxSeq = maxSeq;
  g.tokenOutput = tokenOutput;
  g.tokenInput = tokenInput;
  g.positionInput = positionInput;
  auto addRole = [](umbra::PipelineOptions &o, StringRef name) {
    o.import.roles.roles.push_back((name + "=state").str());
  };
  OwningOpRef<ModuleOp> prefill = compile(
      inputFile, importOptions, options,
      [&](ModuleOp m, umbra::PipelineOptions &o) -> LogicalResult {
        auto f = mainFunction(m);
        if (failed(f))
          return failure();
        for (const std::string &n : resultNames(*f)) {
          if (StringRef(n).contains("present"))
            addRole(o, n);
          // The opt-in stop: every role learns that generation ended.
          if (n == stopOutput) {
            o.import.roles.roles.push_back(n + "=public");
            g.stopOutput = n;
          }
        }
        for (BlockArgument a : f->getArguments()) {
          auto n = f->getArgAttrOfType<StringAttr>(a.getArgNumber(),
                                                   "onnx.name");
          auto ty = dyn_cast<RankedTensorType>(a.getType());
          if (n && n.getValue() == tokenInput && ty && ty.getRank() > 0)
            g.promptLen = ty.getShape().back();
        }
        if (g.promptLen < 1)
          return emitError(f->getLoc(), "the prefill has no input '")
                 << tokenInput << "' of shape [..., T] (the prompt; see "
                 << "--token-input)";
        return success();
      });
  if (!prefill)
    return 1;
  if (g.promptLen + 1 >= maxSeq)
    return fail("--max-seq " + Twine(maxSeq) + " leaves no room to generate "
                "after a prompt of " + Twine(g.promptLen) + " tokens");
  g.contexts[0] = g.promptLen;
  g.contexts[1] = maxSeq - 1;
  OwningOpRef<ModuleOp> decode[2];
  for (int k = 0; k < 2; ++k) {
    umbra::ImportOptions io = importOptions;
    io.dimParams.emplace_back(contextDim, g.contexts[k]);
    decode[k] = compile(
        decodeStep, io, options,
        [&](ModuleOp m, umbra::PipelineOptions &o) -> LogicalResult {
          auto f = mainFunction(m);
          if (failed(f))
            return failure();
          SmallVector<std::string> outs = resultNames(*f);
          g.cache.clear();
          for (BlockArgument a : f->getArguments()) {
            auto n = f->getArgAttrOfType<StringAttr>(a.getArgNumber(),
                                                     "onnx.name");
            if (!n || !n.getValue().contains("past"))
              continue;
            std::string present = presentNameOf(n.getValue());
            if (!llvm::is_contained(outs, present))
              return emitError(f->getLoc(), "cache input '")
                     << n.getValue() << "' has no output '" << present
                     << "' (the cache with the new position appended)";
            addRole(o, n.getValue());
            addRole(o, present);
            g.cache.emplace_back(n.str(), present);
          }
          if (!g.stopOutput.empty())
            o.import.roles.roles.push_back(g.stopOutput + "=public");
          // The new token's position is the cache length: public.
          for (BlockArgument a : f->getArguments())
            if (auto n = f->getArgAttrOfType<StringAttr>(a.getArgNumber(),
                                                         "onnx.name");
                n && n.getValue() == positionInput)
              o.import.roles.roles.push_back(positionInput + "=public");
          if (g.cache.empty())
            return emitError(f->getLoc(), "the decode step has no cache input (an "
                                "input named past...)");
          return success();
        },
        /*ranges=*/k == 0); // the largest context is the same program
    if (!decode[k])
      return 1;
    g.decodeAt[k] = *decode[k];
  }
  g.prefill = *prefill;
  raw_ostream &report = toStdout ? llvm::errs() : llvm::outs();
  if (leakageReport) {
    report << "== prefill\n";
    (void)umbra::printLeakageReport(*prefill, report);
    report << "== decode step (every step)\n";
    (void)umbra::printLeakageReport(*decode[0], report);
  }
  if (costReport) {
    report << "== prefill\n";
    if (failed(umbra::printCostReport(*prefill, report)))
      return 1;
    report << "== decode step at context " << g.contexts[0] << "\n";
    if (failed(umbra::printCostReport(*decode[0], report)))
      return 1;
  }
  std::string err;
  auto output = openOutputFile(outputFile, &err);
  if (!output)
    return fail(err);
  if (failed(umbra::exportGenerationUmbra(g, output->os())))
    return 1;
  output->os().flush();
  if (output->os().has_error())
    return fail("cannot write '" + outputFile + "'");
  output->keep();
  return 0;
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

  // One model through import, fusion, ranges (unless `ranges` is false:
  // the same program again) and lowering; `prepare` sees the imported
  // module before the pipeline (to declare roles by name).
  auto compile = [&](const std::string &path,
                     const umbra::ImportOptions &importOpts,
                     umbra::PipelineOptions opts,
                     llvm::function_ref<LogicalResult(ModuleOp,
                                                      umbra::PipelineOptions &)>
                         prepare,
                     bool ranges = true) -> OwningOpRef<ModuleOp> {
    OwningOpRef<ModuleOp> module;
    {
      TimingScope t = root.nest("Import");
      if (StringRef(path).ends_with(".mlir")) {
        std::string err;
        auto file = openInputFile(path, &err);
        if (!file) {
          (void)fail(err);
          return nullptr;
        }
        sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
        module = parseSourceFile<ModuleOp>(sourceMgr, &context);
      } else {
        module = umbra::importONNXFile(path, context, importOpts);
      }
      if (!module || failed(prepare(*module, opts)))
        return nullptr; // diagnostics already printed
    }
    {
      TimingScope t = root.nest("Pipeline");
      PassManager pm(&context);
      if (failed(applyPassManagerCLOptions(pm)))
        return nullptr;
      pm.enableTiming(t);
      umbra::buildUmbraTfmPipeline(pm, opts);
      if (failed(pm.run(*module)))
        return nullptr;
    }
    // Ranges, on the fused tfm program: printed and warned about, never
    // written into the output (they derive from the owner's weights).
    if (analyzeRanges && ranges) {
      TimingScope t = root.nest("Ranges");
      auto findings = umbra::analyzeRanges(*module, rangeOptions);
      if (failed(findings))
        return nullptr;
      umbra::emitRangeWarnings(*module, *findings, rangeOptions);
      if (rangeReport)
        umbra::printRangeReport(*findings, rangeOptions,
                                toStdout ? llvm::errs() : llvm::outs());
    }
    if (opts.compileTo != umbra::CompileTo::tfm) {
      TimingScope t = root.nest("Lowering");
      PassManager pm(&context);
      if (failed(applyPassManagerCLOptions(pm)))
        return nullptr;
      pm.enableTiming(t);
      umbra::buildUmbraLoweringPipeline(pm, opts);
      if (failed(pm.run(*module)))
        return nullptr;
    }
    return module;
  };
  auto asIs = [](ModuleOp, umbra::PipelineOptions &) { return success(); };

  if (!decodeStep.empty())
    return compileGeneration(compile, importOptions, options, toStdout);

  OwningOpRef<ModuleOp> module =
      compile(inputFile, importOptions, options, asIs);
  if (!module)
    return 1;

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
