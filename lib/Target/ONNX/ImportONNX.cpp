//===- ImportONNX.cpp - ONNX to tfm importer: entry points ----------------===//
//
// Parses an ONNX ModelProto (binary, streamed from a file, or ONNX's textual
// syntax) and hands it to the Importer (GraphImport.cpp). Protobuf and ONNX
// throw; this directory is the only one compiled with exceptions, and every
// entry point catches them and turns them into MLIR diagnostics.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/defs/parser.h>

#include <climits>
#include <exception>
#include <unistd.h>

using namespace mlir;
using llvm::SmallVector;
using llvm::StringRef;

namespace umbra {
using onnx_import::Importer;

namespace {

bool looksTextual(StringRef buffer, StringRef name) {
  if (name.ends_with(".onnxtext") || name.ends_with(".onnxtxt"))
    return true;
  if (name.ends_with(".onnx") || name.ends_with(".pb"))
    return false;
  StringRef t = buffer.ltrim();
  while (t.starts_with("#")) {
    t = t.drop_until([](char c) { return c == '\n'; }).ltrim();
  }
  return t.starts_with("<");
}

} // namespace

std::string parseInputShapeSpec(StringRef spec, ImportOptions &options) {
  size_t eq = spec.rfind('=');
  if (eq == StringRef::npos || eq == 0)
    return ("expected name=<d0>x<d1>... in --input-shape, got '" + spec + "'")
        .str();
  StringRef name = spec.take_front(eq), dims = spec.drop_front(eq + 1);
  SmallVector<int64_t> shape;
  SmallVector<StringRef> parts;
  dims.split(parts, dims.contains(',') ? ',' : 'x', -1, /*KeepEmpty=*/true);
  if (!dims.empty())
    for (StringRef p : parts) {
      int64_t d;
      if (p.trim().getAsInteger(10, d) || d < 0)
        return ("invalid dimension '" + p + "' in --input-shape '" + spec + "'")
            .str();
      shape.push_back(d);
    }
  options.inputShapes.emplace_back(name.str(), std::move(shape));
  return {};
}

std::string parseConstInputSpec(StringRef spec, ImportOptions &options) {
  size_t eq = spec.find('=');
  if (eq == StringRef::npos || eq == 0 || eq + 1 == spec.size())
    return ("expected name=file.npy in --const-input, got '" + spec + "'")
        .str();
  StringRef name = spec.take_front(eq);
  for (const auto &[known, path] : options.constInputs)
    if (known == name)
      return ("--const-input gives '" + name + "' twice").str();
  options.constInputs.emplace_back(name.str(), spec.drop_front(eq + 1).str());
  return {};
}

namespace {
/// Parses a binary ModelProto from `stream` (which may be a file read in
/// chunks, so that the file never has to be resident in memory as a whole).
bool parseBinary(google::protobuf::io::ZeroCopyInputStream &stream,
                 onnx::ModelProto &model) {
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(INT_MAX);
  return model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

/// Common tail of both entry points: sanity checks and the import proper.
/// Exceptions are caught by the callers.
OwningOpRef<ModuleOp> importParsed(onnx::ModelProto &model, bool parsedOk,
                                   bool textual, StringRef name,
                                   MLIRContext &context,
                                   const ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, name, 0, 0);
  if (!parsedOk) {
    emitError(fileLoc) << "not a valid ONNX model: the protobuf is "
                          "truncated or corrupted";
    return {};
  }
  if (!textual && (!model.has_graph() || model.ir_version() <= 0)) {
    emitError(fileLoc) << "not an ONNX model: "
                       << (model.has_graph() ? "no IR version" : "no graph");
    return {};
  }
  if (textual && !model.has_graph()) {
    emitError(fileLoc) << "textual ONNX input has no graph";
    return {};
  }
  Importer importer(context, options, name);
  return importer.run(model);
}

OwningOpRef<ModuleOp> importText(StringRef buffer, StringRef name,
                                 MLIRContext &context,
                                 const ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, name, 0, 0);
  auto model = std::make_unique<onnx::ModelProto>();
  std::string text(buffer);
  onnx::OnnxParser parser(text.c_str());
  onnx::Common::Status status;
  try {
    status = parser.Parse(*model);
  } catch (const std::logic_error &e) {
    // The parser converts literals with std::stof/stoll, which throw.
    emitError(fileLoc) << "cannot parse textual ONNX: invalid literal ("
                       << e.what() << ")";
    return {};
  }
  if (!status.IsOK()) {
    emitError(fileLoc) << "cannot parse textual ONNX: "
                       << status.ErrorMessage();
    return {};
  }
  return importParsed(*model, true, true, name, context, options);
}
} // namespace

namespace {
/// Protobuf parses at most 2 GB (INT_MAX bytes) in one message.
bool fitsProtobuf(uint64_t size, Location fileLoc) {
  if (size <= static_cast<uint64_t>(INT_MAX))
    return true;
  emitError(fileLoc) << "model is larger than 2 GB, protobuf's limit; save "
                        "the weights as external data (side files in the "
                        "model's folder)";
  return false;
}

OwningOpRef<ModuleOp> importBuffer(StringRef buffer, StringRef bufferName,
                                   Location fileLoc, MLIRContext &context,
                                   const ImportOptions &options) {
  if (looksTextual(buffer, bufferName))
    return importText(buffer, bufferName, context, options);
  if (!fitsProtobuf(buffer.size(), fileLoc))
    return {};
  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::ArrayInputStream stream(buffer.data(), buffer.size());
  bool ok = parseBinary(stream, *model);
  return importParsed(*model, ok, false, bufferName, context, options);
}

OwningOpRef<ModuleOp> importFile(StringRef path, Location fileLoc,
                                 MLIRContext &context,
                                 const ImportOptions &options) {
  auto readWhole = [&]() -> OwningOpRef<ModuleOp> {
    auto buf = llvm::MemoryBuffer::getFileOrSTDIN(
        path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (std::error_code ec = buf.getError()) {
      emitError(fileLoc) << "cannot open '" << path << "': " << ec.message();
      return {};
    }
    return importBuffer((*buf)->getBuffer(), path, fileLoc, context, options);
  };
  if (path == "-")
    return readWhole();
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd)) {
    emitError(fileLoc) << "cannot open '" << path << "': " << ec.message();
    return {};
  }
  // Sniff the syntax from the name and the first bytes.
  char head[256];
  ssize_t n = ::pread(fd, head, sizeof(head), 0);
  llvm::sys::fs::file_status status;
  if (n < 0 || llvm::sys::fs::status(fd, status) ||
      looksTextual(StringRef(head, n), path) ||
      status.type() != llvm::sys::fs::file_type::regular_file) {
    ::close(fd);
    return readWhole();
  }
  if (!fitsProtobuf(status.getSize(), fileLoc)) {
    ::close(fd);
    return {};
  }
  // Binary: stream the file through protobuf in 1 MiB chunks, so that peak
  // memory is the parsed model (whose raw_data strings then move into the
  // blobs) rather than the file plus the parsed model.
  google::protobuf::io::FileInputStream stream(fd, 1 << 20);
  stream.SetCloseOnDelete(true);
  auto model = std::make_unique<onnx::ModelProto>();
  bool ok = parseBinary(stream, *model) && stream.GetErrno() == 0;
  return importParsed(*model, ok, false, path, context, options);
}

/// Runs an entry point's `import` with the dialects it creates loaded,
/// turning any exception protobuf or ONNX throws into a diagnostic at the
/// model's location.
OwningOpRef<ModuleOp>
runGuarded(MLIRContext &context, StringRef name,
           llvm::function_ref<OwningOpRef<ModuleOp>(Location)> import) {
  context.loadDialect<tfm::TfmDialect, mpc::MpcDialect, func::FuncDialect,
                      arith::ArithDialect>();
  Location fileLoc = FileLineColLoc::get(&context, name, 0, 0);
  try {
    return import(fileLoc);
  } catch (const std::exception &e) {
    emitError(fileLoc) << "ONNX import failed: " << e.what();
  } catch (...) {
    emitError(fileLoc) << "ONNX import failed with an unknown exception";
  }
  return {};
}
} // namespace

OwningOpRef<ModuleOp> importONNX(StringRef buffer, StringRef bufferName,
                                 MLIRContext &context,
                                 const ImportOptions &options) {
  return runGuarded(context, bufferName, [&](Location fileLoc) {
    return importBuffer(buffer, bufferName, fileLoc, context, options);
  });
}

OwningOpRef<ModuleOp> importONNXFile(StringRef path, MLIRContext &context,
                                     const ImportOptions &options) {
  return runGuarded(context, path, [&](Location fileLoc) {
    return importFile(path, fileLoc, context, options);
  });
}

void printONNXOpTable(llvm::raw_ostream &os) {
  os << "| ONNX | opsets | family | tfm |\n|---|---|---|---|\n";
  for (const onnx_import::OpInfo &op : onnx_import::supportedOps()) {
    os << "| ";
    if (!op.domain.empty())
      os << op.domain << ".";
    os << op.name << " | " << op.sinceOpset;
    // Other domains: their own versions, one so far.
    if (op.domain.empty())
      os << "-" << onnx_import::kMaxOpset;
    os << " | " << op.family << " | " << op.tfmForm << " |\n";
  }
}

void registerONNXImportTranslation() {
  static mlir::TranslateRegistration opTable(
      "onnx-op-table",
      "Print the ONNX operators --import-onnx supports (the table in "
      "docs/import.md); the input is ignored",
      [](const std::shared_ptr<llvm::SourceMgr> &, llvm::raw_ostream &output,
         MLIRContext *) -> LogicalResult {
        printONNXOpTable(output);
        return success();
      });
  static llvm::cl::list<std::string> inputShapes(
      "input-shape",
      llvm::cl::desc("Static shape of a graph input for --import-onnx: "
                     "name=1x32 (repeatable)"),
      llvm::cl::value_desc("name=d0xd1..."));
  static llvm::cl::list<std::string> constInputs(
      "const-input",
      llvm::cl::desc("--import-onnx: a graph input whose value the "
                     "deployment knows (a shape, axes, sizes), from a .npy "
                     "file: name=file.npy (repeatable); it becomes a public "
                     "constant"),
      llvm::cl::value_desc("name=file.npy"));
  static llvm::cl::opt<bool> importOnly(
      "import-only",
      llvm::cl::desc("--import-onnx: import and verify, print nothing "
                     "(for benchmarks)"),
      llvm::cl::init(false));
  static llvm::cl::opt<bool> streamFile(
      "import-stream",
      llvm::cl::desc("--import-onnx: re-read the input file with "
                     "importONNXFile (streamed, as mpc-compile does) instead "
                     "of importing mlir-translate's buffer"),
      llvm::cl::init(false), llvm::cl::Hidden);
  static llvm::cl::opt<int64_t> resourceThreshold(
      "resource-threshold",
      llvm::cl::desc("--import-onnx: float constants with more elements "
                     "become dense_resource blobs"),
      llvm::cl::init(16));
  static mlir::TranslateRegistration registration(
      "import-onnx", "Import an ONNX model (.onnx or .onnxtext) as tfm IR",
      [](const std::shared_ptr<llvm::SourceMgr> &sourceMgr,
         llvm::raw_ostream &output, MLIRContext *context) -> LogicalResult {
        const llvm::MemoryBuffer *buf =
            sourceMgr->getMemoryBuffer(sourceMgr->getMainFileID());
        ImportOptions options;
        options.resourceThreshold = resourceThreshold;
        Location fileLoc =
            FileLineColLoc::get(context, buf->getBufferIdentifier(), 0, 0);
        for (const std::string &spec : inputShapes) {
          std::string err = parseInputShapeSpec(spec, options);
          if (!err.empty())
            return emitError(fileLoc) << err;
        }
        for (const std::string &spec : constInputs) {
          std::string err = parseConstInputSpec(spec, options);
          if (!err.empty())
            return emitError(fileLoc) << err;
        }
        // mlir-translate has already read the whole file into memory, so
        // import from that buffer (importONNXFile, which streams the file,
        // would only add work here).
        StringRef id = buf->getBufferIdentifier();
        OwningOpRef<ModuleOp> module =
            streamFile && id != "<stdin>"
                ? importONNXFile(id, *context, options)
                : importONNX(buf->getBuffer(), id, *context, options);
        if (!module || failed(verify(*module)))
          return failure();
        if (!importOnly)
          module->print(output);
        return success();
      });
}

} // namespace umbra
