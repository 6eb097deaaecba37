//===- Importer.h - the ONNX importer's internal interface ------*- C++ -*-===//
//
// Shared by the importer's files, one per concept:
//   ImportONNX.cpp        entry points (parsing, files, the translation)
//   GraphImport.cpp       graph walk, opset check, the op table's dispatch
//   OnnxTensors.cpp       ONNX element types; tensor decoding and
//                         materialisation as `arith.constant`, with roles
//   ElementwiseOps.cpp, ConstantOps.cpp, ShapeOps.cpp, MaskOps.cpp,
//   LinalgOps.cpp, NormalizationOps.cpp, PoolingOps.cpp, LossOps.cpp,
//   LinearMaps.cpp, IndexOps.cpp, RecurrentOps.cpp, ControlFlowOps.cpp,
//   TrainingOps.cpp, QuantizationOps.cpp, SortOps.cpp, SamplingOps.cpp
//                         op translations by family (OnnxOps.def lists them)
// Constants are evaluated by the one evaluator, umbra/Support/ConstantEval.h.
//
// Roles: every constant carries who may see it. Float initializers (and
// anything computed from them) are the model owner's; Constant nodes,
// shape computations, literals, and integer/bool initializers (shapes,
// indices and masks: the public architecture; no protocol has private
// integer tensors) are public. Only public constants are evaluated; work on
// an owner constant stays as tfm ops (the runtime runs it once per
// deployment).
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_LIB_TARGET_ONNX_IMPORTER_H
#define UMBRA_LIB_TARGET_ONNX_IMPORTER_H

#include "umbra/Support/ConstantEval.h"
#include "umbra/Target/ONNX/ImportONNX.h"

#include "umbra/Dialect/Mpc/IR/Provenance.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace umbra::onnx_import {

using TP = onnx::TensorProto;
using llvm::SmallVector;
using llvm::StringRef;

/// Lowest and highest default-domain opset versions the importer knows the
/// semantics of; each op has its own first version (OnnxOps.def). The ONNX
/// library may know fewer (1.12 knows up to 17): later models are imported
/// by the importer's own rules, without the shape inference cross-check.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 21;
/// Constants computed at import time are bounded so that a pathological
/// model cannot make the evaluator allocate unbounded memory.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 26;

//===--- ONNX element types (OnnxTensors.cpp) ------------------------------===//
bool isFloatDT(int32_t t);
inline bool isBoolDT(int32_t t) { return t == TP::BOOL; }
bool isIntDT(int32_t t);
std::string dtName(int32_t t);
size_t byteWidth(int32_t t);
mlir::Type mlirElemType(mlir::MLIRContext *ctx, int32_t t);
int32_t dtOfType(mlir::Type t);
std::string shapeStr(llvm::ArrayRef<int64_t> shape);
using ceval::numElements;
/// Whether every dimension is non-negative and the element count fits
/// comfortably in int64.
bool validDims(llvm::ArrayRef<int64_t> dims);
/// Why a tensor of `shape` could never be loaded by the runtime (rank,
/// dimension or element count beyond umbra/runtime/Program.h's limits), or
/// "" if it can: such a model is refused at compile time, not at load.
std::string beyondRuntimeLimits(llvm::ArrayRef<int64_t> shape);
/// Why `name` cannot be a graph input or output name (the runtime reads
/// inputs by name and writes outputs as NAME.npy: it must be a plain file
/// name, rt::isPlainFileName), or "".
std::string notAFileName(llvm::StringRef name);
/// Whether every element of `t` equals the first (on the stored bytes).
bool isSplatTensor(const TP &t);
/// The origin (Provenance.h) of a tensor of `dtype` that is public by rule:
/// "literal" (float), "bool" or "integer".
llvm::StringRef ruleOrigin(int32_t dtype);
/// A dense_resource key for an ONNX name.
std::string sanitizeKey(StringRef name);

/// Who may see a constant (see the file comment).
enum class Role { Public, Owner };

/// A tensor whose value is known at import time.
struct ConstTensor {
  int32_t dtype = TP::FLOAT;
  SmallVector<int64_t> shape;
  /// The elements, once decoded (`value.shape == shape`).
  ceval::Tensor value;
  bool decoded = false;
  /// The initializer/Constant attribute this came from, decoded lazily.
  TP *proto = nullptr;
  /// Set once proto's raw_data has been moved into a resource blob; the bytes
  /// stay alive (owned by the blob) and can still be decoded.
  bool released = false;
  llvm::ArrayRef<char> releasedBytes;
  /// For external data: the memory-mapped slice of the side file that
  /// `releasedBytes` points into (shared with every blob made from it).
  std::shared_ptr<llvm::MemoryBuffer> mapping;
  Role role = Role::Public;
  /// Provenance (umbra/Dialect/Mpc/IR/Provenance.h): the initializers,
  /// Constant nodes and literals this was computed from, with their
  /// declared origins. Set for initializers and literals where they are
  /// made, and for every node output by importNode (the union of the node's
  /// constant inputs); a constant still without one when materialised gets
  /// the union of the current node's inputs.
  mpc::SourceMap sources;
  /// The initializer's name (the resource key and location), else the name
  /// of the output that computed it.
  std::string name;
  mlir::Value materialized;

  int64_t numElements() const { return ceval::numElements(shape); }
  bool isFloat() const { return isFloatDT(dtype); }
  bool isOwner() const { return role == Role::Owner; }
  /// Integer elements (valid once decoded, for integer and bool tensors).
  const std::vector<int64_t> &ints() const {
    return std::get<std::vector<int64_t>>(value.data);
  }
};
using ConstPtr = std::shared_ptr<ConstTensor>;

/// A computed constant holding `value`, of element type `dtype`.
ConstPtr makeConst(int32_t dtype, ceval::Tensor value,
                   Role role = Role::Public);

/// An ONNX value: a known constant or an MLIR value (never both).
struct Entry {
  ConstPtr cst;
  mlir::Value value;
  explicit operator bool() const { return cst || value; }
};

/// Builds the tfm op of an elementwise ONNX op from its operands and
/// result type.
using UnaryBuilder = mlir::Value (*)(mlir::OpBuilder &, mlir::Location,
                                     mlir::Type, mlir::Value);
using BinaryBuilder = mlir::Value (*)(mlir::OpBuilder &, mlir::Location,
                                      mlir::Type, mlir::Value, mlir::Value);
template <typename OpTy>
mlir::Value buildOp(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                    mlir::Value x) {
  return OpTy::create(b, loc, type, x);
}
template <typename OpTy>
mlir::Value buildOp(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                    mlir::Value x, mlir::Value y) {
  return OpTy::create(b, loc, type, x, y);
}
/// min(a, b) = -max(-a, -b).
mlir::Value buildMin(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type,
                     mlir::Value x, mlir::Value y);
/// a > b = b < a.
mlir::Value buildGreater(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Type type, mlir::Value x, mlir::Value y);

//===--- integers and bools (IntegerOps.cpp) -------------------------------===//
/// a <= b = not(b < a) and a >= b = not(a < b).
mlir::Value buildLessOrEqual(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Type type, mlir::Value x, mlir::Value y);
mlir::Value buildGreaterOrEqual(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Type type, mlir::Value x, mlir::Value y);
/// Why binary op `k` on tensors of element type `dt` computed from graph
/// inputs has no tfm form, or null when it has one (floats; integers for
/// the exact ops; bools for logic and Equal).
const char *integerRefusal(ceval::BinaryOp k, int32_t dt);
/// Whether unary op `k` has a tfm form on integer or bool tensors.
bool integerUnaryOk(ceval::UnaryOp k, int32_t dt);
/// The element type, with ONNX's signedness, of an integer or bool model
/// output of ONNX type `dt` (null for other types).
mlir::Type integerOutputType(mlir::MLIRContext *ctx, int32_t dt);

class Importer {
public:
  Importer(mlir::MLIRContext &ctx, const ImportOptions &opts,
           StringRef sourceName)
      : ctx(&ctx), opts(opts), b(&ctx),
        fileLoc(mlir::FileLineColLoc::get(&ctx, sourceName, 0, 0)),
        loc(fileLoc), sourceName(sourceName.str()) {}

  mlir::OwningOpRef<mlir::ModuleOp> run(onnx::ModelProto &model);

  using Ins = llvm::ArrayRef<Entry>;
  using Outs = llvm::MutableArrayRef<Entry>;

  //===--- op handlers, by family (OnnxOps.def) ---------------------------===//
  // ElementwiseOps.cpp
  mlir::LogicalResult binary(ceval::BinaryOp k, BinaryBuilder build, Ins in,
                             Outs out);
  mlir::LogicalResult variadic(ceval::BinaryOp k, BinaryBuilder build, Ins in,
                               Outs out);
  mlir::LogicalResult unary(ceval::UnaryOp k, UnaryBuilder build, Ins in,
                            Outs out);
  mlir::LogicalResult whereOp(Ins in, Outs out);
  mlir::LogicalResult castOp(Ins in, Outs out);
  mlir::LogicalResult meanOp(Ins in, Outs out);
  mlir::LogicalResult preluOp(Ins in, Outs out);
  mlir::LogicalResult leakyReluOp(Ins in, Outs out);
  mlir::LogicalResult hardSigmoidOp(Ins in, Outs out);
  mlir::LogicalResult clipOp(Ins in, Outs out);
  mlir::LogicalResult geluOp(Ins in, Outs out);
  // IntegerOps.cpp
  mlir::LogicalResult argMaxOp(Ins in, Outs out);
  mlir::LogicalResult bitShiftOp(Ins in, Outs out);
  mlir::LogicalResult modOp(Ins in, Outs out);
  // ConstantOps.cpp
  mlir::LogicalResult constantOp(Ins in, Outs out);
  mlir::LogicalResult constantOfShape(Ins in, Outs out);
  mlir::LogicalResult shapeOp(Ins in, Outs out);
  mlir::LogicalResult sizeOp(Ins in, Outs out);
  mlir::LogicalResult rangeOp(Ins in, Outs out);
  mlir::LogicalResult cumSumOp(Ins in, Outs out);
  mlir::LogicalResult identityOp(Ins in, Outs out);
  mlir::LogicalResult dropoutOp(Ins in, Outs out);
  mlir::LogicalResult nonFiniteOp(Ins in, Outs out);
  /// The mean and population variance of `x` over `axes` (kept as 1s):
  /// ReduceMean, Sub, Mul, ReduceMean.
  std::pair<mlir::Value, mlir::Value>
  meanAndVariance(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  // ShapeOps.cpp
  mlir::LogicalResult reshapeOp(Ins in, Outs out);
  mlir::LogicalResult flattenOp(Ins in, Outs out);
  mlir::LogicalResult squeezeOp(Ins in, Outs out);
  mlir::LogicalResult unsqueezeOp(Ins in, Outs out);
  mlir::LogicalResult transposeOp(Ins in, Outs out);
  mlir::LogicalResult concatOp(Ins in, Outs out);
  mlir::LogicalResult splitOp(Ins in, Outs out);
  mlir::LogicalResult sliceOp(Ins in, Outs out);
  mlir::LogicalResult gatherOp(Ins in, Outs out);
  mlir::LogicalResult expandOp(Ins in, Outs out);
  mlir::LogicalResult depthToSpaceOp(Ins in, Outs out);
  mlir::LogicalResult spaceToDepthOp(Ins in, Outs out);
  mlir::LogicalResult tileOp(Ins in, Outs out);
  mlir::LogicalResult padOp(Ins in, Outs out);
  // MaskOps.cpp
  mlir::LogicalResult triluOp(Ins in, Outs out);
  // LinalgOps.cpp
  mlir::LogicalResult matmulOp(Ins in, Outs out);
  mlir::LogicalResult gemmOp(Ins in, Outs out);
  mlir::LogicalResult detOp(Ins in, Outs out);
  // NormalizationOps.cpp
  mlir::LogicalResult softmaxOp(Ins in, Outs out);
  mlir::LogicalResult layerNormOp(Ins in, Outs out);
  mlir::LogicalResult reduceOp(Ins in, Outs out);
  mlir::LogicalResult globalPoolOp(Ins in, Outs out);
  // PoolingOps.cpp
  mlir::LogicalResult poolOp(Ins in, Outs out);
  mlir::LogicalResult convOp(Ins in, Outs out);
  mlir::LogicalResult maxPoolIndices(llvm::ArrayRef<mlir::Value> wins,
                                     llvm::ArrayRef<int64_t> flatPos,
                                     llvm::ArrayRef<int64_t> outShape,
                                     llvm::ArrayRef<int64_t> inShape,
                                     Outs out);
  // SortOps.cpp
  mlir::LogicalResult topKOp(Ins in, Outs out);
  /// Secret one-hot rows [rows..., n] (of type `dt`) of integer ids
  /// [rows..., 1] in [0, n): `tfm.one_hot`, one stacked comparison gate.
  mlir::Value indexRows(mlir::Value ids, llvm::ArrayRef<int64_t> rows,
                        int64_t n, int32_t dt);
  /// The sum over the last axis, kept as size 1 (integers: slices added).
  mlir::Value sumLastAxis(mlir::Value v, int32_t dt);
  // LinearMaps.cpp
  mlir::LogicalResult resizeOp(Ins in, Outs out);
  mlir::LogicalResult convTransposeOp(Ins in, Outs out);
  mlir::LogicalResult einsumOp(Ins in, Outs out);
  mlir::LogicalResult dftOp(Ins in, Outs out);
  mlir::LogicalResult stftOp(Ins in, Outs out);
  mlir::LogicalResult windowOp(Ins in, Outs out);
  mlir::LogicalResult melWeightMatrixOp(Ins in, Outs out);
  // IndexOps.cpp
  mlir::LogicalResult scatterElementsOp(Ins in, Outs out);
  mlir::LogicalResult scatterNDOp(Ins in, Outs out);
  mlir::LogicalResult gatherNDOp(Ins in, Outs out);
  mlir::LogicalResult gatherElementsOp(Ins in, Outs out);
  mlir::LogicalResult reverseSequenceOp(Ins in, Outs out);
  mlir::LogicalResult compressOp(Ins in, Outs out);
  mlir::LogicalResult maxUnpoolOp(Ins in, Outs out);
  mlir::LogicalResult eyeLikeOp(Ins in, Outs out);
  // FunctionOps.cpp
  mlir::LogicalResult functionOp(ceval::UnaryOp k, UnaryBuilder build, Ins in,
                                 Outs out);
  mlir::LogicalResult eluOp(Ins in, Outs out);
  mlir::LogicalResult thresholdedReluOp(Ins in, Outs out);
  mlir::LogicalResult softsignOp(Ins in, Outs out);
  mlir::LogicalResult shrinkOp(Ins in, Outs out);
  mlir::LogicalResult hardSwishOp(Ins in, Outs out);
  mlir::LogicalResult batchNormOp(Ins in, Outs out);
  mlir::LogicalResult instanceNormOp(Ins in, Outs out);
  mlir::LogicalResult mvnOp(Ins in, Outs out);
  mlir::LogicalResult lrnOp(Ins in, Outs out);
  /// One op of a composition on entries (folded on public constants), and
  /// a scalar literal of `like`'s element type (FunctionOps.cpp).
  mlir::FailureOr<Entry> fnBinary(ceval::BinaryOp k, BinaryBuilder build,
                                  const Entry &x, const Entry &y);
  mlir::FailureOr<Entry> fnUnary(ceval::UnaryOp k, UnaryBuilder build,
                                 const Entry &x);
  Entry fnScalar(const Entry &like, double v);
  // RecurrentOps.cpp
  mlir::LogicalResult recurrentOp(Ins in, Outs out);
  // ControlFlowOps.cpp
  mlir::LogicalResult scanOp(Ins in, Outs out);
  mlir::LogicalResult loopOp(Ins in, Outs out);
  mlir::LogicalResult ifOp(Ins in, Outs out);
  // TrainingOps.cpp
  mlir::LogicalResult adagradOp(Ins in, Outs out);
  mlir::LogicalResult momentumOp(Ins in, Outs out);
  mlir::LogicalResult adamOp(Ins in, Outs out);
  // LossOps.cpp
  mlir::LogicalResult nllLossOp(Ins in, Outs out);
  mlir::LogicalResult gatherElementsByIndexRows(Ins in, Outs out);
  mlir::LogicalResult oneHotOp(Ins in, Outs out);
  // QuantizationOps.cpp
  mlir::LogicalResult quantizeLinearOp(Ins in, Outs out);
  mlir::LogicalResult dequantizeLinearOp(Ins in, Outs out);
  mlir::LogicalResult dynamicQuantizeLinearOp(Ins in, Outs out);
  mlir::LogicalResult integerProductOp(Ins in, Outs out);
  mlir::LogicalResult tfIdfVectorizerOp(Ins in, Outs out);
  // SamplingOps.cpp
  mlir::LogicalResult gridSampleOp(Ins in, Outs out);
  /// x reflected into [lo, hi] (ONNX GridSample's reflection padding).
  mlir::Value reflectInto(mlir::Value x, double lo, double hi);
  /// GridSample's interpolation rows [..., len] of normalised coordinates
  /// g [..., 1] along an image axis of length len.
  mlir::Value sampleRows(mlir::Value g, int64_t len, StringRef mode,
                         StringRef padding, bool alignCorners);
  /// The same rows of unnormalised coordinates x [..., 1] (rounded for
  /// nearest) padded into [lo, hi] as `padding` says.
  mlir::Value tapRows(mlir::Value x, int64_t len, StringRef mode,
                      StringRef padding, double lo, double hi);
  mlir::LogicalResult roiAlignOp(Ins in, Outs out);
  /// `x` as element type `to` (folded on public constants).
  mlir::FailureOr<Entry> castEntry(const Entry &x, int32_t to);
  /// The ONNX element type of the node's input `i` (`e`), with the
  /// signedness that the tfm type (signless) does not keep.
  int32_t onnxDtypeOf(unsigned i, const Entry &e) const;

private:
  mlir::MLIRContext *ctx;
  const ImportOptions &opts;
  mlir::OpBuilder b;
  mlir::Location fileLoc;
  mlir::Location loc;
  /// The model's file name: external data is read from its folder.
  std::string sourceName;
  /// The default domain's opset version.
  int64_t opset = 0;
  /// The opset version of every imported domain ("" is the default).
  llvm::StringMap<int64_t> opsets;
  onnx::NodeProto *node = nullptr;
  /// The node's name, or its first output's name for unnamed nodes.
  std::string nodeLabel;
  llvm::StringMap<Entry> values;
  /// The ONNX element types of the integer values whose tfm type is
  /// signless (graph inputs, Cast and quantization outputs): uint8 and
  /// int8 are both i8.
  llvm::StringMap<int32_t> onnxTypes;
  llvm::StringMap<unsigned> useCount;
  /// The inputs of the node being imported (for provenance).
  SmallVector<Entry> currentIns;
  llvm::StringSet<> graphOutputs;
  /// Shapes computed for node outputs, checked against ONNX shape inference
  /// once the graph has been imported.
  struct ComputedShape {
    std::string name;
    SmallVector<int64_t> shape;
    std::string node;
  };
  std::vector<ComputedShape> computed;

  // GraphImport.cpp
  mlir::LogicalResult checkOpsSupported(const onnx::GraphProto &g);
  mlir::LogicalResult dispatch(Ins in, Outs out);
  mlir::LogicalResult importNode(onnx::NodeProto &n);
  mlir::LogicalResult crossCheckShapes(onnx::ModelProto &model);
  ConstPtr constInput(const onnx::ValueInfoProto &vi, const std::string &path);

  //===--- diagnostics ---------------------------------------------------===//
  mlir::LogicalResult checkNames(const onnx::GraphProto &g,
                                 llvm::ArrayRef<std::string> inputNames);
  mlir::InFlightDiagnostic nodeError() {
    StringRef domain = node->domain();
    if (domain == "ai.onnx")
      domain = "";
    auto diag = mlir::emitError(loc) << "'" << node->op_type() << "' node '"
                                     << nodeLabel << "' (opset ";
    if (!domain.empty())
      diag << domain << " ";
    return std::move(diag << opsets.lookup(domain) << "): ");
  }
  /// Reports a failed evaluation (division by zero, undefined op).
  mlir::LogicalResult evalError(ceval::Status s);

  //===--- attributes ----------------------------------------------------===//
  const onnx::AttributeProto *attr(StringRef name) const {
    for (const auto &a : node->attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t attrInt(StringRef name, int64_t def) const {
    const auto *a = attr(name);
    return a ? a->i() : def;
  }
  float attrFloat(StringRef name, float def) const {
    const auto *a = attr(name);
    return a ? a->f() : def;
  }
  std::optional<SmallVector<int64_t>> attrInts(StringRef name) const {
    const auto *a = attr(name);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }

  //===--- entries -------------------------------------------------------===//
  llvm::ArrayRef<int64_t> shapeOf(const Entry &e) const {
    if (e.cst)
      return e.cst->shape;
    return mlir::cast<mlir::RankedTensorType>(e.value.getType()).getShape();
  }
  int32_t dtypeOf(const Entry &e) const {
    if (e.cst)
      return e.cst->dtype;
    return dtOfType(
        mlir::cast<mlir::RankedTensorType>(e.value.getType()).getElementType());
  }
  int64_t rankOf(const Entry &e) const { return shapeOf(e).size(); }
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    int32_t dtype) {
    return mlir::RankedTensorType::get(shape, mlirElemType(ctx, dtype));
  }
  mlir::Value valueOf(const Entry &e) {
    if (e.value)
      return e.value;
    return materialize(*e.cst);
  }
  /// All present inputs are public constants: the evaluator may compute the
  /// result (which is public).
  bool foldable(Ins ins) const {
    for (const Entry &e : ins)
      if (e && (!e.cst || e.cst->isOwner()))
        return false;
    return true;
  }
  bool allConst(Ins ins) const {
    for (const Entry &e : ins)
      if (e && !e.cst)
        return false;
    return true;
  }
  /// The role of a result computed from `ins`: the owner's if any input is.
  static Role roleOf(Ins ins) {
    for (const Entry &e : ins)
      if (e && e.cst && e.cst->isOwner())
        return Role::Owner;
    return Role::Public;
  }

  // OnnxTensors.cpp
  mlir::LogicalResult decode(ConstTensor &c);
  /// Maps an initializer's external data (a slice of a file in the model's
  /// folder) into `c.releasedBytes`, checking the location, offset and
  /// length; a no-op for inline data.
  mlir::LogicalResult mapExternalData(ConstTensor &c);
  /// Decodes every present input (all constants).
  mlir::LogicalResult decodeAll(Ins ins);
  mlir::LogicalResult importPredictors(const onnx::GraphProto &g,
                                       mlir::Location fileLoc);
  mlir::Value materialize(ConstTensor &c);
  mlir::TypedAttr makeResourceAttr(ConstTensor &c, mlir::RankedTensorType ty);
  mlir::TypedAttr makeDenseAttr(ConstTensor &c, mlir::RankedTensorType ty);
  ConstPtr constFromProto(TP &t, Role role);
  mlir::FailureOr<SmallVector<int64_t>> constInts(const Entry &e,
                                                  StringRef what);
  /// An integer list that newer opsets take from input `index` and older
  /// ones from the attribute `name` (axes, split sizes); empty when absent,
  /// an error if `required`.
  mlir::FailureOr<SmallVector<int64_t>> listArg(Ins in, unsigned index,
                                                StringRef name, bool fromInput,
                                                bool required = false);
  mlir::FailureOr<int64_t> normAxis(int64_t axis, int64_t rank);
  mlir::LogicalResult checkFoldSize(int64_t n);
  ConstPtr scalarConst(int32_t dtype, double v);
  /// TrainingOps.cpp: checks an optimizer's operands R, T and `groups`
  /// groups of n tensors; returns n and the constant step count T.
  mlir::FailureOr<std::pair<int64_t, int64_t>>
  optimizerOperands(Ins in, Outs out, int64_t groups);
  /// `c`, made by this node from nothing but the graph's structure
  /// (attributes, shapes), marked as a literal of the node: public by rule.
  ConstPtr literal(ConstPtr c);
  /// The union of the provenance of the constants among `ins`.
  static mpc::SourceMap sourcesOf(Ins ins);

  /// QuantizationOps.cpp: a 1-D per-axis parameter reshaped to broadcast
  /// along `axis` of a rank-`rank` tensor; saturate(round_half_even(x / s)
  /// + zp) into [lo, hi] as an integer-valued real, exact for s > 0 given
  /// inv ~ 1 / s (zp may be absent).
  mlir::FailureOr<Entry> alongAxis(const Entry &e, int64_t axis, int64_t rank,
                                   StringRef what);
  mlir::FailureOr<Entry> quantize(const Entry &x, const Entry &scale,
                                  const Entry &inv, const Entry &zp, double lo,
                                  double hi);
  /// quantize(x, scale, zp) into type `qt`'s range, cast to it: the node's
  /// first output.
  mlir::LogicalResult quantizeOutput(const Entry &x, const Entry &scale,
                                     const Entry &zp, int32_t qt, Entry &out);

  //===--- emission helpers (ShapeOps.cpp) ---------------------------------===//
  mlir::Value emitReshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  mlir::Value emitTranspose(mlir::Value v, llvm::ArrayRef<int64_t> perm);
  mlir::Value emitSlice(mlir::Value v, llvm::ArrayRef<int64_t> offsets,
                        llvm::ArrayRef<int64_t> strides,
                        llvm::ArrayRef<int64_t> sizes);
  mlir::Value emitConstIndices(llvm::ArrayRef<int64_t> idx);
  mlir::LogicalResult reshapeLike(Ins in, Outs out,
                                  llvm::ArrayRef<int64_t> shape);
  /// Concatenation of `parts` along `axis` (one part: itself).
  mlir::Value emitConcat(llvm::ArrayRef<mlir::Value> parts, int64_t axis);
  /// `v` along `axis` at the positions `idx` (-1: the element `fill`):
  /// runs of consecutive positions are slices, runs of -1 public constants,
  /// anything else a gather by constant indices.
  mlir::Value emitIndexAlong(mlir::Value v, int64_t axis,
                             llvm::ArrayRef<int64_t> idx, double fill);
  //===--- public linear maps and index maps (LinearMaps.cpp, IndexOps.cpp) ===//
  /// The float values of constant input `index` (`what` names it in the
  /// error when it is not a public constant).
  mlir::FailureOr<SmallVector<double>> constFloats(const Entry &e,
                                                   unsigned index,
                                                   StringRef what);
  /// `v` with axis `axis` (length n) mapped by the public [outLen, n]
  /// row-major matrix `m`: constant indices when every row selects one
  /// element (or none: 0), else one `tfm.matmul` with the public matrix.
  mlir::Value applyAlongAxis(mlir::Value v, int64_t axis, int64_t outLen,
                             llvm::ArrayRef<double> m);
  /// The DFT of length `n` (`bins` outputs) of `v` [..., len, 1 or 2] along
  /// its second-to-last axis, each position scaled by `window` if given:
  /// [..., bins, 2], one public map.
  mlir::Value emitDft(mlir::Value v, int64_t n, int64_t bins, bool inverse,
                      llvm::ArrayRef<double> window);
  /// The tensor of `shape` whose flat element k is the flat element
  /// `map[k]` of the concatenation of `srcs` (each flattened), or `fill`
  /// for -1, into `out`; folded when every source is a public constant.
  mlir::LogicalResult indexMap(llvm::ArrayRef<Entry> srcs,
                               llvm::ArrayRef<int64_t> shape,
                               llvm::ArrayRef<int64_t> map, double fill,
                               Entry &out);
  /// Integer indices that must be public constants (the refusal says why
  /// private ones are not supported).
  mlir::FailureOr<SmallVector<int64_t>> constIndices(const Entry &e,
                                                     StringRef what);
  /// The update elements written to one position of a scatter, in order.
  using Writers = SmallVector<int64_t, 1>;
  /// `data` with the updates of `writers` (per flat position) written
  /// (reduction none) or combined (add, mul, max, min).
  mlir::LogicalResult scatterFinish(StringRef reduction, const Entry &data,
                                    const Entry &updates,
                                    llvm::ArrayRef<Writers> writers,
                                    Entry &out);
  mlir::FailureOr<SmallVector<int64_t>>
  axisPositions(llvm::ArrayRef<int64_t> ds, llvm::ArrayRef<int64_t> is,
                int64_t axis, llvm::ArrayRef<int64_t> idx);
  mlir::LogicalResult sliceImpl(const Entry &x,
                                llvm::ArrayRef<int64_t> offsets,
                                llvm::ArrayRef<int64_t> steps,
                                llvm::ArrayRef<int64_t> sizes, Entry &out);

  //===--- recurrent layers and control flow (RecurrentOps.cpp,
  //      ControlFlowOps.cpp) ----------------------------------------------===//
  /// A public scalar of `like`'s element type.
  mlir::Value emitScalar(mlir::Value like, double v);
  /// The broadcasting tfm op `op` (add, sub, mul, max, min) of x and y.
  mlir::Value emitBinary(StringRef op, mlir::Value x, mlir::Value y);
  /// The rank-2 product x y (`tfm.matmul`).
  mlir::Value emitMatMul(mlir::Value x, mlir::Value y);
  /// Imports the nodes of `body` once with its inputs bound to `args` and
  /// writes its outputs to `results`; the body's names are scoped to it.
  mlir::LogicalResult importBody(onnx::GraphProto &body,
                                 llvm::ArrayRef<Entry> args,
                                 SmallVector<Entry> &results);
  /// The values of `parts` stacked along a new axis `axis` (in reverse
  /// order if asked): a scan output.
  mlir::Value emitStack(llvm::ArrayRef<Entry> parts, int64_t axis,
                        bool reverse);
  /// Body imports so far (bounds nested unrolled loops).
  int64_t bodyImports = 0;
};

/// One row of OnnxOps.def, for the op list and the opset check.
struct OpInfo {
  /// "" for the default domain.
  StringRef domain;
  StringRef name;
  int64_t sinceOpset;
  StringRef family;
  StringRef tfmForm;
};
/// The rows of OnnxOps.def, in table order.
llvm::ArrayRef<OpInfo> supportedOps();
/// The row for `opType` of `domain` ("" or "ai.onnx": the default), or null.
const OpInfo *lookupOp(StringRef domain, StringRef opType);

} // namespace umbra::onnx_import

#endif // UMBRA_LIB_TARGET_ONNX_IMPORTER_H
