//===- ImportONNX.cpp - ONNX to tfm importer ------------------------------===//
//
// Reads an ONNX ModelProto (binary or ONNX's textual syntax) and builds a
// `func.func` of `tfm` ops with static shapes.
//
// Every ONNX value becomes either a *known constant* (initializers, Constant
// nodes, and everything computed from constants by the small evaluator
// below: the Shape/Gather/Concat chains torch writes for reshape targets,
// causal-mask buffers sliced and Trilu'd, position-id ranges) or an MLIR
// value with a static type. Constants are materialised as `arith.constant`
// only where a tfm op consumes them; large float constants (the weights)
// become `dense_resource` blobs that take over the protobuf's `raw_data`
// string without copying. Weights are never rewritten by the evaluator, so
// they reach the IR byte-identical (a transposed weight stays a tfm.transpose
// of the original constant).
//
// Protobuf and ONNX throw; this is the only translation unit compiled with
// exceptions, and every entry point catches them and turns them into MLIR
// diagnostics.
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/ONNX/ImportONNX.h"

#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Alignment.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/defs/parser.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <unistd.h>

using namespace mlir;
using llvm::SmallVector;
using llvm::StringRef;

namespace umbra {
namespace {

using TP = onnx::TensorProto;

/// Lowest and highest default-domain opset versions the importer knows the
/// semantics of (the ONNX 1.12 library knows opsets up to 17).
constexpr int64_t kMinOpset = 11;
constexpr int64_t kMaxOpset = 17;
/// Constants computed at import time are bounded so that a pathological
/// model cannot make the evaluator allocate unbounded memory.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 26;

/// Element count; saturates at INT64_MAX (and is -1 for a negative
/// dimension) so that absurd shapes in a malformed model fail the size
/// checks instead of wrapping around.
int64_t product(llvm::ArrayRef<int64_t> shape) {
  for (int64_t d : shape)
    if (d < 0)
      return -1;
  for (int64_t d : shape)
    if (d == 0)
      return 0;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (n > INT64_MAX / d)
      return INT64_MAX;
    n *= d;
  }
  return n;
}

bool isFloatDT(int32_t t) {
  return t == TP::FLOAT || t == TP::DOUBLE || t == TP::FLOAT16 ||
         t == TP::BFLOAT16;
}
bool isBoolDT(int32_t t) { return t == TP::BOOL; }
bool isIntDT(int32_t t) {
  return t == TP::INT64 || t == TP::INT32 || t == TP::INT16 || t == TP::INT8 ||
         t == TP::UINT8 || t == TP::UINT16 || t == TP::UINT32 ||
         t == TP::UINT64;
}

std::string dtName(int32_t t) {
  if (!TP::DataType_IsValid(t))
    return "type#" + std::to_string(t);
  return TP::DataType_Name(static_cast<TP::DataType>(t));
}

size_t byteWidth(int32_t t) {
  switch (t) {
  case TP::DOUBLE:
  case TP::INT64:
  case TP::UINT64:
    return 8;
  case TP::FLOAT:
  case TP::INT32:
  case TP::UINT32:
    return 4;
  case TP::FLOAT16:
  case TP::BFLOAT16:
  case TP::INT16:
  case TP::UINT16:
    return 2;
  default:
    return 1;
  }
}

Type mlirElemType(MLIRContext *ctx, int32_t t) {
  Builder b(ctx);
  switch (t) {
  case TP::FLOAT:
    return b.getF32Type();
  case TP::DOUBLE:
    return b.getF64Type();
  case TP::FLOAT16:
    return b.getF16Type();
  case TP::BFLOAT16:
    return b.getBF16Type();
  case TP::BOOL:
    return b.getI1Type();
  case TP::INT8:
  case TP::UINT8:
    return b.getIntegerType(8);
  case TP::INT16:
  case TP::UINT16:
    return b.getIntegerType(16);
  case TP::INT32:
  case TP::UINT32:
    return b.getIntegerType(32);
  case TP::INT64:
  case TP::UINT64:
    return b.getIntegerType(64);
  default:
    return {};
  }
}

int32_t dtOfType(Type t) {
  if (t.isF32())
    return TP::FLOAT;
  if (t.isF64())
    return TP::DOUBLE;
  if (t.isF16())
    return TP::FLOAT16;
  if (t.isBF16())
    return TP::BFLOAT16;
  if (t.isInteger(1))
    return TP::BOOL;
  if (t.isInteger(8))
    return TP::INT8;
  if (t.isInteger(16))
    return TP::INT16;
  if (t.isInteger(32))
    return TP::INT32;
  if (t.isInteger(64))
    return TP::INT64;
  return TP::UNDEFINED;
}

const llvm::fltSemantics &semanticsOf(int32_t t) {
  switch (t) {
  case TP::DOUBLE:
    return llvm::APFloat::IEEEdouble();
  case TP::FLOAT16:
    return llvm::APFloat::IEEEhalf();
  case TP::BFLOAT16:
    return llvm::APFloat::BFloat();
  default:
    return llvm::APFloat::IEEEsingle();
  }
}

double bitsToDouble(int32_t t, uint64_t bits) {
  llvm::APFloat f(semanticsOf(t), llvm::APInt(byteWidth(t) * 8, bits));
  bool loses;
  f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
            &loses);
  return f.convertToDouble();
}

llvm::APFloat doubleToAPFloat(int32_t t, double v) {
  llvm::APFloat f(v);
  bool loses;
  f.convert(semanticsOf(t), llvm::APFloat::rmNearestTiesToEven, &loses);
  return f;
}

std::string shapeStr(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "," : "") + std::to_string(d);
  return s + "]";
}

/// A tensor whose value is known at import time.
struct ConstTensor {
  int32_t dtype = TP::FLOAT;
  SmallVector<int64_t> shape;
  /// Decoded elements: `f` for float types, `i` for integers and bools.
  std::vector<double> f;
  std::vector<int64_t> i;
  bool decoded = false;
  /// The initializer/Constant attribute this came from, decoded lazily.
  TP *proto = nullptr;
  /// Set once proto's raw_data has been moved into a resource blob; the bytes
  /// stay alive (owned by the blob) and can still be decoded.
  bool released = false;
  llvm::ArrayRef<char> releasedBytes;
  /// A model weight: never rewritten by the evaluator.
  bool weight = false;
  /// Real data of the model owner (a float initializer or a weight stored
  /// as a node): marked `mpc.visibility = owner`, never folded into a
  /// literal; every other constant is marked public.
  bool owner = false;
  std::string name;
  Value materialized;

  int64_t numElements() const { return product(shape); }
  bool isFloat() const { return isFloatDT(dtype); }
};
using ConstPtr = std::shared_ptr<ConstTensor>;

ConstPtr makeConst(int32_t dtype, llvm::ArrayRef<int64_t> shape) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = dtype;
  c->shape.assign(shape.begin(), shape.end());
  c->decoded = true;
  if (isFloatDT(dtype))
    c->f.resize(c->numElements());
  else
    c->i.resize(c->numElements());
  return c;
}

/// An ONNX value: a known constant or an MLIR value (never both).
struct Entry {
  ConstPtr cst;
  Value value;
  explicit operator bool() const { return cst || value; }
};

SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// For each element of a tensor of shape `out` (row-major), the source index
/// `base + sum(idx[d] * strides[d])`.
std::vector<int64_t> stridedMap(llvm::ArrayRef<int64_t> out,
                                llvm::ArrayRef<int64_t> strides, int64_t base) {
  int64_t n = product(out);
  std::vector<int64_t> map(n);
  if (n == 0)
    return map;
  size_t r = out.size();
  SmallVector<int64_t> idx(r, 0);
  int64_t cur = base;
  for (int64_t k = 0; k < n; ++k) {
    map[k] = cur;
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      ++idx[d];
      cur += strides[d];
      if (idx[d] < out[d])
        break;
      cur -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

/// Source index map for broadcasting `in` to `out` (numpy rules).
std::vector<int64_t> broadcastMap(llvm::ArrayRef<int64_t> out,
                                  llvm::ArrayRef<int64_t> in) {
  size_t off = out.size() - in.size();
  SmallVector<int64_t> strides(out.size(), 0);
  SmallVector<int64_t> inStrides = rowMajorStrides(in);
  for (size_t d = 0; d < in.size(); ++d)
    strides[d + off] = in[d] == 1 ? 0 : inStrides[d];
  return stridedMap(out, strides, 0);
}

bool broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                     SmallVector<int64_t> &out) {
  size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[k] = da == 1 ? db : da;
  }
  return true;
}

/// A new constant with `src`'s type whose element k is src[map[k]].
ConstPtr remapConst(const ConstTensor &src, llvm::ArrayRef<int64_t> shape,
                    const std::vector<int64_t> &map) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = src.dtype;
  c->shape.assign(shape.begin(), shape.end());
  c->decoded = true;
  if (src.isFloat()) {
    c->f.resize(map.size());
    for (size_t k = 0; k < map.size(); ++k)
      c->f[k] = src.f[map[k]];
  } else {
    c->i.resize(map.size());
    for (size_t k = 0; k < map.size(); ++k)
      c->i[k] = src.i[map[k]];
  }
  return c;
}

ConstPtr reshapedConst(const ConstTensor &src, llvm::ArrayRef<int64_t> shape) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = src.dtype;
  c->shape.assign(shape.begin(), shape.end());
  c->decoded = true;
  c->f = src.f;
  c->i = src.i;
  return c;
}

std::string sanitizeKey(StringRef name) {
  std::string s;
  for (char ch : name)
    s += (llvm::isAlnum(ch) || ch == '_' || ch == '.') ? ch : '_';
  if (s.empty() || llvm::isDigit(s[0]) || s[0] == '.')
    s = "w_" + s;
  return s;
}

enum class Bin {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  Equal,
  Less,
  Greater,
  LessOrEqual,
  GreaterOrEqual,
  And,
  Or,
  Mod
};
enum class Un {
  Neg,
  Sqrt,
  Reciprocal,
  Relu,
  Erf,
  Tanh,
  Sigmoid,
  Exp,
  Sin,
  Cos,
  Abs,
  Log,
  Floor,
  Ceil,
  Not
};

class Importer {
public:
  Importer(MLIRContext &ctx, const ImportOptions &opts, StringRef sourceName)
      : ctx(&ctx), opts(opts), b(&ctx),
        fileLoc(FileLineColLoc::get(&ctx, sourceName, 0, 0)), loc(fileLoc) {}

  OwningOpRef<ModuleOp> run(onnx::ModelProto &model);

private:
  using Ins = llvm::ArrayRef<Entry>;
  using Outs = llvm::MutableArrayRef<Entry>;

  MLIRContext *ctx;
  const ImportOptions &opts;
  OpBuilder b;
  Location fileLoc;
  Location loc;
  int64_t opset = 0;
  onnx::NodeProto *node = nullptr;
  /// The node's name, or its first output's name for unnamed nodes.
  std::string nodeLabel;
  llvm::StringMap<Entry> values;
  llvm::StringMap<unsigned> useCount;
  llvm::StringSet<> graphOutputs;
  /// Shapes computed for node outputs, checked against ONNX shape inference
  /// once the graph has been imported.
  struct ComputedShape {
    std::string name;
    SmallVector<int64_t> shape;
    std::string node;
  };
  std::vector<ComputedShape> computed;
  LogicalResult crossCheckShapes(onnx::ModelProto &model);

  //===--- diagnostics ---------------------------------------------------===//
  InFlightDiagnostic nodeError() {
    return emitError(loc) << "'" << node->op_type() << "' node '" << nodeLabel
                          << "' (opset " << opset << "): ";
  }

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
    return cast<RankedTensorType>(e.value.getType()).getShape();
  }
  int32_t dtypeOf(const Entry &e) const {
    if (e.cst)
      return e.cst->dtype;
    return dtOfType(cast<RankedTensorType>(e.value.getType()).getElementType());
  }
  int64_t rankOf(const Entry &e) const { return shapeOf(e).size(); }
  RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape, int32_t dtype) {
    return RankedTensorType::get(shape, mlirElemType(ctx, dtype));
  }
  RankedTensorType typeOf(const Entry &e) {
    return tensorType(shapeOf(e), dtypeOf(e));
  }
  Value valueOf(const Entry &e) {
    if (e.value)
      return e.value;
    return materialize(*e.cst);
  }
  static bool isConst(const Entry &e) { return static_cast<bool>(e.cst); }
  /// All present inputs are constants and none is a weight: the evaluator
  /// may compute the result.
  bool foldable(Ins ins) const {
    for (const Entry &e : ins)
      if (e && (!e.cst || e.cst->weight || e.cst->owner))
        return false;
    return true;
  }
  bool allConst(Ins ins) const {
    for (const Entry &e : ins)
      if (e && !e.cst)
        return false;
    return true;
  }

  LogicalResult decode(ConstTensor &c);
  Value materialize(ConstTensor &c);
  TypedAttr makeResourceAttr(ConstTensor &c, RankedTensorType ty);
  TypedAttr makeDenseAttr(ConstTensor &c, RankedTensorType ty);
  ConstPtr constFromProto(TP &t, bool isInitializer);
  FailureOr<SmallVector<int64_t>> constInts(const Entry &e, StringRef what);
  FailureOr<int64_t> normAxis(int64_t axis, int64_t rank);
  LogicalResult checkFoldSize(int64_t n);
  ConstPtr scalarConst(int32_t dtype, double v) {
    ConstPtr c = makeConst(dtype, {});
    if (c->isFloat())
      c->f[0] = v;
    else
      c->i[0] = static_cast<int64_t>(v);
    return c;
  }

  //===--- emission helpers ----------------------------------------------===//
  Value emitReshape(Value v, llvm::ArrayRef<int64_t> shape) {
    auto ty = cast<RankedTensorType>(v.getType());
    if (ty.getShape() == shape)
      return v;
    return tfm::ReshapeOp::create(b, loc, ty.clone(shape), v);
  }
  Value emitTranspose(Value v, llvm::ArrayRef<int64_t> perm) {
    auto ty = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(ty.getShape()[p]);
    return tfm::TransposeOp::create(b, loc, ty.clone(shape), v, perm);
  }
  Value emitSlice(Value v, llvm::ArrayRef<int64_t> offsets,
                  llvm::ArrayRef<int64_t> strides,
                  llvm::ArrayRef<int64_t> sizes) {
    auto ty = cast<RankedTensorType>(v.getType());
    bool identity = ty.getShape() == sizes;
    for (size_t d = 0; d < offsets.size() && identity; ++d)
      identity = offsets[d] == 0 && (strides[d] == 1 || sizes[d] <= 1);
    if (identity)
      return v;
    return tfm::SliceOp::create(b, loc, ty.clone(sizes), v, offsets, strides);
  }
  Value emitConstIndices(llvm::ArrayRef<int64_t> idx) {
    ConstPtr c = makeConst(TP::INT64, {static_cast<int64_t>(idx.size())});
    c->i.assign(idx.begin(), idx.end());
    return materialize(*c);
  }

  //===--- op handlers ---------------------------------------------------===//
  LogicalResult importNode(onnx::NodeProto &n);
  LogicalResult dispatch(Ins in, Outs out);
  LogicalResult binary(Bin k, Ins in, Outs out);
  LogicalResult unary(Un k, Ins in, Outs out);
  LogicalResult variadic(Bin k, Ins in, Outs out);
  LogicalResult constantOp(Ins in, Outs out);
  LogicalResult constantOfShape(Ins in, Outs out);
  LogicalResult shapeOp(Ins in, Outs out);
  LogicalResult sizeOp(Ins in, Outs out);
  LogicalResult rangeOp(Ins in, Outs out);
  LogicalResult cumSumOp(Ins in, Outs out);
  LogicalResult castOp(Ins in, Outs out);
  LogicalResult whereOp(Ins in, Outs out);
  LogicalResult reshapeLike(Ins in, Outs out, llvm::ArrayRef<int64_t> shape);
  LogicalResult reshapeOp(Ins in, Outs out);
  LogicalResult flattenOp(Ins in, Outs out);
  LogicalResult squeezeOp(Ins in, Outs out);
  LogicalResult unsqueezeOp(Ins in, Outs out);
  LogicalResult transposeOp(Ins in, Outs out);
  LogicalResult concatOp(Ins in, Outs out);
  LogicalResult splitOp(Ins in, Outs out);
  LogicalResult sliceOp(Ins in, Outs out);
  LogicalResult sliceImpl(const Entry &x, llvm::ArrayRef<int64_t> offsets,
                          llvm::ArrayRef<int64_t> steps,
                          llvm::ArrayRef<int64_t> sizes, Entry &out);
  LogicalResult gatherOp(Ins in, Outs out);
  LogicalResult expandOp(Ins in, Outs out);
  LogicalResult triluOp(Ins in, Outs out);
  LogicalResult matmulOp(Ins in, Outs out);
  LogicalResult gemmOp(Ins in, Outs out);
  LogicalResult softmaxOp(Ins in, Outs out);
  LogicalResult layerNormOp(Ins in, Outs out);
  LogicalResult reduceOp(Ins in, Outs out);
};

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Whether every dimension is non-negative and the element count fits
/// comfortably in int64.
bool validDims(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return false;
    if (d != 0 && n > (int64_t(1) << 48) / d)
      return false;
    n *= d;
  }
  return true;
}

/// Whether every element of `t` equals the first (checked on the stored
/// bytes, without decoding).
bool isSplatTensor(const TP &t) {
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    size_t w = byteWidth(t.data_type());
    for (size_t k = w; k + w <= raw.size(); k += w)
      if (std::memcmp(raw.data(), raw.data() + k, w) != 0)
        return false;
    return true;
  }
  auto allSame = [](const auto &field) {
    for (int k = 1; k < field.size(); ++k)
      if (!(field.Get(k) == field.Get(0)))
        return false;
    return true;
  };
  return allSame(t.float_data()) && allSame(t.double_data()) &&
         allSame(t.int32_data()) && allSame(t.int64_data());
}

ConstPtr Importer::constFromProto(TP &t, bool isInitializer) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = t.data_type();
  c->shape.assign(t.dims().begin(), t.dims().end());
  c->proto = &t;
  c->name = t.name();
  c->weight = isInitializer && isFloatDT(c->dtype) &&
              c->numElements() > opts.resourceThreshold;
  c->owner = isInitializer && isFloatDT(c->dtype);
  return c;
}

LogicalResult Importer::decode(ConstTensor &c) {
  if (c.decoded)
    return success();
  auto fail = [&](const llvm::Twine &msg) {
    emitError(fileLoc) << "tensor '" << c.name << "': " << msg;
    return failure();
  };
  if (!mlirElemType(ctx, c.dtype))
    return fail("unsupported element type " + dtName(c.dtype));
  int64_t n = c.numElements();
  if (n < 0)
    return fail("negative dimension");
  const TP *p = c.proto;
  if (p && p->data_location() == TP::EXTERNAL)
    return fail("external data is not supported (save the model with its "
                "weights inside the .onnx file)");
  bool isF = c.isFloat();
  llvm::ArrayRef<char> raw;
  bool haveRaw = false;
  if (c.released) {
    raw = c.releasedBytes;
    haveRaw = true;
  } else if (p && p->has_raw_data()) {
    raw = llvm::ArrayRef<char>(p->raw_data().data(), p->raw_data().size());
    haveRaw = true;
  }
  size_t w = byteWidth(c.dtype);
  if (haveRaw) {
    if (n > static_cast<int64_t>(raw.size()) ||
        raw.size() != static_cast<size_t>(n) * w)
      return fail("raw_data has " + llvm::Twine(raw.size()) +
                  " bytes, expected " + llvm::Twine(n * w) + " for shape " +
                  shapeStr(c.shape) + " of " + dtName(c.dtype));
    if (isF)
      c.f.resize(n);
    else
      c.i.resize(n);
    const char *d = raw.data();
    for (int64_t k = 0; k < n; ++k, d += w) {
      switch (c.dtype) {
      case TP::FLOAT: {
        float v;
        std::memcpy(&v, d, 4);
        c.f[k] = v;
        break;
      }
      case TP::DOUBLE: {
        double v;
        std::memcpy(&v, d, 8);
        c.f[k] = v;
        break;
      }
      case TP::FLOAT16:
      case TP::BFLOAT16: {
        uint16_t v;
        std::memcpy(&v, d, 2);
        c.f[k] = bitsToDouble(c.dtype, v);
        break;
      }
      case TP::INT64:
      case TP::UINT64: {
        int64_t v;
        std::memcpy(&v, d, 8);
        c.i[k] = v;
        break;
      }
      case TP::INT32: {
        int32_t v;
        std::memcpy(&v, d, 4);
        c.i[k] = v;
        break;
      }
      case TP::UINT32: {
        uint32_t v;
        std::memcpy(&v, d, 4);
        c.i[k] = v;
        break;
      }
      case TP::INT16: {
        int16_t v;
        std::memcpy(&v, d, 2);
        c.i[k] = v;
        break;
      }
      case TP::UINT16: {
        uint16_t v;
        std::memcpy(&v, d, 2);
        c.i[k] = v;
        break;
      }
      case TP::INT8:
        c.i[k] = static_cast<int8_t>(*d);
        break;
      case TP::UINT8:
        c.i[k] = static_cast<uint8_t>(*d);
        break;
      case TP::BOOL:
        c.i[k] = *d != 0;
        break;
      }
    }
    c.decoded = true;
    return success();
  }
  if (!p) {
    if (n == 0) {
      c.decoded = true;
      return success();
    }
    return fail("has no data");
  }
  auto checkCount = [&](int64_t have) {
    if (have != n)
      return fail("has " + llvm::Twine(have) + " values, expected " +
                  llvm::Twine(n) + " for shape " + shapeStr(c.shape));
    if (isF)
      c.f.resize(n);
    else
      c.i.resize(n);
    return success();
  };
  switch (c.dtype) {
  case TP::FLOAT:
    if (failed(checkCount(p->float_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.f[k] = p->float_data(k);
    break;
  case TP::DOUBLE:
    if (failed(checkCount(p->double_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.f[k] = p->double_data(k);
    break;
  case TP::FLOAT16:
  case TP::BFLOAT16:
    if (failed(checkCount(p->int32_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.f[k] = bitsToDouble(c.dtype, static_cast<uint16_t>(p->int32_data(k)));
    break;
  case TP::INT64:
    if (failed(checkCount(p->int64_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.i[k] = p->int64_data(k);
    break;
  case TP::UINT32:
  case TP::UINT64:
    if (failed(checkCount(p->uint64_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.i[k] = static_cast<int64_t>(p->uint64_data(k));
    break;
  default:
    if (failed(checkCount(p->int32_data_size())))
      return failure();
    for (int64_t k = 0; k < n; ++k)
      c.i[k] = c.dtype == TP::BOOL ? p->int32_data(k) != 0 : p->int32_data(k);
    break;
  }
  c.decoded = true;
  return success();
}

TypedAttr Importer::makeResourceAttr(ConstTensor &c, RankedTensorType ty) {
  int64_t n = c.numElements();
  size_t w = byteWidth(c.dtype);
  std::string key = sanitizeKey(c.name.empty() ? "cst" : c.name);
  TP *p = c.proto;
  // Zero copy: the blob takes ownership of the protobuf's raw_data string.
  if (p && !c.released && p->has_raw_data() &&
      p->data_location() != TP::EXTERNAL &&
      p->raw_data().size() == static_cast<size_t>(n) * w &&
      llvm::isAddrAligned(llvm::Align(w), p->raw_data().data())) {
    std::string *s = p->release_raw_data();
    c.released = true;
    c.releasedBytes = llvm::ArrayRef<char>(s->data(), s->size());
    AsmResourceBlob blob(
        c.releasedBytes, w, [s](void *, size_t, size_t) { delete s; },
        /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(ty, key, std::move(blob));
  }
  if (p && !c.decoded && !c.released && !p->has_raw_data() &&
      c.dtype == TP::FLOAT && p->float_data_size() == n) {
    auto data = llvm::ArrayRef<float>(p->float_data().data(), n);
    return DenseResourceElementsAttr::get(
        ty, key, HeapAsmResourceBlob::allocateAndCopyInferAlign(data));
  }
  if (failed(decode(c)))
    return {};
  std::vector<char> bytes(n * w);
  for (int64_t k = 0; k < n; ++k) {
    switch (c.dtype) {
    case TP::FLOAT: {
      float v = static_cast<float>(c.f[k]);
      std::memcpy(&bytes[k * w], &v, 4);
      break;
    }
    case TP::DOUBLE:
      std::memcpy(&bytes[k * w], &c.f[k], 8);
      break;
    default: {
      uint16_t v = static_cast<uint16_t>(
          doubleToAPFloat(c.dtype, c.f[k]).bitcastToAPInt().getZExtValue());
      std::memcpy(&bytes[k * w], &v, 2);
      break;
    }
    }
  }
  return DenseResourceElementsAttr::get(
      ty, key,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          llvm::ArrayRef<char>(bytes.data(), bytes.size()), w));
}

TypedAttr Importer::makeDenseAttr(ConstTensor &c, RankedTensorType ty) {
  if (failed(decode(c)))
    return {};
  int64_t n = c.numElements();
  switch (c.dtype) {
  case TP::FLOAT: {
    SmallVector<float> v(c.f.begin(), c.f.end());
    return DenseElementsAttr::get(ty, llvm::ArrayRef<float>(v));
  }
  case TP::DOUBLE:
    return DenseElementsAttr::get(ty, llvm::ArrayRef<double>(c.f));
  case TP::FLOAT16:
  case TP::BFLOAT16: {
    SmallVector<llvm::APFloat> v;
    for (double x : c.f)
      v.push_back(doubleToAPFloat(c.dtype, x));
    return DenseElementsAttr::get(ty, v);
  }
  case TP::BOOL: {
    SmallVector<bool> v(n);
    for (int64_t k = 0; k < n; ++k)
      v[k] = c.i[k] != 0;
    return DenseElementsAttr::get(ty, llvm::ArrayRef<bool>(v));
  }
  default: {
    unsigned width = ty.getElementType().getIntOrFloatBitWidth();
    SmallVector<llvm::APInt> v;
    v.reserve(n);
    for (int64_t x : c.i)
      v.push_back(llvm::APInt(width, static_cast<uint64_t>(x),
                              /*isSigned=*/true, /*implicitTrunc=*/true));
    return DenseElementsAttr::get(ty, v);
  }
  }
}

Value Importer::materialize(ConstTensor &c) {
  if (c.materialized)
    return c.materialized;
  Type et = mlirElemType(ctx, c.dtype);
  if (!et) {
    emitError(loc) << "constant '" << c.name
                   << "' has unsupported element type " << dtName(c.dtype);
    return {};
  }
  auto ty = RankedTensorType::get(c.shape, et);
  TypedAttr attr = c.isFloat() && c.numElements() > opts.resourceThreshold
                       ? makeResourceAttr(c, ty)
                       : makeDenseAttr(c, ty);
  if (!attr)
    return {};
  Location cloc =
      c.name.empty() ? loc
                     : Location(NameLoc::get(b.getStringAttr(c.name), fileLoc));
  auto cst = arith::ConstantOp::create(b, cloc, ty, attr);
  // Roles are declared here, once: initializers are the owner's, literals
  // public (mpc-assign-roles applies the user's overrides).
  cst->setAttr(mpc::kVisibilityAttrName,
               mpc::VisibilityAttr::get(ctx, c.owner ? mpc::Visibility::owner
                                                     : mpc::Visibility::public_));
  c.materialized = cst;
  return c.materialized;
}

FailureOr<SmallVector<int64_t>> Importer::constInts(const Entry &e,
                                                    StringRef what) {
  if (!e.cst) {
    nodeError() << "the " << what
                << " input must be a constant (it is computed from graph "
                   "inputs)";
    return failure();
  }
  if (!isIntDT(e.cst->dtype) && !isBoolDT(e.cst->dtype)) {
    nodeError() << "the " << what << " input must be an integer tensor, got "
                << dtName(e.cst->dtype);
    return failure();
  }
  if (failed(decode(*e.cst)))
    return failure();
  return SmallVector<int64_t>(e.cst->i.begin(), e.cst->i.end());
}

FailureOr<int64_t> Importer::normAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    nodeError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
}

LogicalResult Importer::checkFoldSize(int64_t n) {
  if (n < 0 || n > kMaxFoldedElements) {
    nodeError() << "constant result with " << n
                << " elements is too large to evaluate at import time";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

double evalFloat(Bin k, double x, double y) {
  switch (k) {
  case Bin::Add:
    return x + y;
  case Bin::Sub:
    return x - y;
  case Bin::Mul:
    return x * y;
  case Bin::Div:
    return x / y;
  case Bin::Pow:
    return std::pow(x, y);
  case Bin::Max:
    return std::max(x, y);
  case Bin::Min:
    return std::min(x, y);
  case Bin::Mod:
    return std::fmod(x, y);
  case Bin::Equal:
    return x == y;
  case Bin::Less:
    return x < y;
  case Bin::Greater:
    return x > y;
  case Bin::LessOrEqual:
    return x <= y;
  case Bin::GreaterOrEqual:
    return x >= y;
  case Bin::And:
    return (x != 0) && (y != 0);
  case Bin::Or:
    return (x != 0) || (y != 0);
  }
  return 0;
}

int64_t evalInt(Bin k, int64_t x, int64_t y, bool &divByZero) {
  switch (k) {
  case Bin::Add:
    return static_cast<int64_t>(static_cast<uint64_t>(x) +
                                static_cast<uint64_t>(y));
  case Bin::Sub:
    return static_cast<int64_t>(static_cast<uint64_t>(x) -
                                static_cast<uint64_t>(y));
  case Bin::Mul:
    return static_cast<int64_t>(static_cast<uint64_t>(x) *
                                static_cast<uint64_t>(y));
  case Bin::Div:
  case Bin::Mod:
    if (y == 0 || (x == INT64_MIN && y == -1)) {
      divByZero = true;
      return 0;
    }
    if (k == Bin::Div)
      return x / y;
    // ONNX Mod with fmod=0 has the sign of the divisor.
    {
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    }
  case Bin::Pow: {
    int64_t r = 1;
    for (int64_t e = 0; e < y; ++e)
      r *= x;
    return r;
  }
  case Bin::Max:
    return std::max(x, y);
  case Bin::Min:
    return std::min(x, y);
  case Bin::Equal:
    return x == y;
  case Bin::Less:
    return x < y;
  case Bin::Greater:
    return x > y;
  case Bin::LessOrEqual:
    return x <= y;
  case Bin::GreaterOrEqual:
    return x >= y;
  case Bin::And:
    return (x != 0) && (y != 0);
  case Bin::Or:
    return (x != 0) || (y != 0);
  }
  return 0;
}

/// Whether `v` is computed from constants only (e.g. a transposed weight):
/// such a B operand makes a Gemm a tfm.linear.
bool isConstantDerived(Value v, int depth = 0) {
  Operation *def = v.getDefiningOp();
  if (!def || depth > 8)
    return false;
  if (isa<arith::ConstantOp>(def))
    return true;
  if (!isa<tfm::TfmDialect>(def->getDialect()) || def->getNumOperands() == 0)
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return isConstantDerived(o, depth + 1); });
}

bool isComparison(Bin k) {
  return k == Bin::Equal || k == Bin::Less || k == Bin::Greater ||
         k == Bin::LessOrEqual || k == Bin::GreaterOrEqual || k == Bin::And ||
         k == Bin::Or;
}

LogicalResult Importer::binary(Bin k, Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects two inputs", failure();
  const Entry &x = in[0], &y = in[1];
  SmallVector<int64_t> shape;
  if (!broadcastShapes(shapeOf(x), shapeOf(y), shape))
    return nodeError() << "input shapes " << shapeStr(shapeOf(x)) << " and "
                       << shapeStr(shapeOf(y)) << " do not broadcast",
           failure();
  int32_t dx = dtypeOf(x), dy = dtypeOf(y);
  if (dx != dy && k != Bin::Pow)
    return nodeError() << "inputs have different element types (" << dtName(dx)
                       << " vs " << dtName(dy) << ")",
           failure();
  int32_t resT = isComparison(k) ? TP::BOOL : dx;

  if (foldable(in)) {
    if (failed(checkFoldSize(product(shape))) || failed(decode(*x.cst)) ||
        failed(decode(*y.cst)))
      return failure();
    ConstPtr r = makeConst(resT, shape);
    std::vector<int64_t> mx = broadcastMap(shape, x.cst->shape),
                         my = broadcastMap(shape, y.cst->shape);
    bool divByZero = false;
    bool fx = isFloatDT(dx), fy = isFloatDT(dy);
    for (size_t e = 0; e < mx.size(); ++e) {
      if (fx || fy) {
        double a = fx ? x.cst->f[mx[e]] : double(x.cst->i[mx[e]]);
        double c = fy ? y.cst->f[my[e]] : double(y.cst->i[my[e]]);
        double v = evalFloat(k, a, c);
        if (r->isFloat())
          r->f[e] = v;
        else
          r->i[e] = static_cast<int64_t>(v);
      } else {
        r->i[e] = evalInt(k, x.cst->i[mx[e]], y.cst->i[my[e]], divByZero);
      }
    }
    if (divByZero)
      return nodeError() << "integer division by zero in a constant "
                            "computation",
             failure();
    out[0].cst = r;
    return success();
  }

  if (!isFloatDT(dx) || (k != Bin::Pow && !isFloatDT(dy)) || k == Bin::And ||
      k == Bin::Or || k == Bin::Mod)
    return nodeError() << "only float tensors computed from graph inputs are "
                          "supported here (got "
                       << dtName(dx)
                       << "); integer and boolean tensors must "
                          "be constants after shape folding",
           failure();

  Entry yy = y;
  if (k == Bin::Pow && !isFloatDT(dy)) {
    // Integer exponent: convert a constant exponent to the base's type.
    if (!y.cst)
      return nodeError() << "a non-constant integer exponent is not supported",
             failure();
    if (failed(decode(*y.cst)))
      return failure();
    ConstPtr c = makeConst(dx, y.cst->shape);
    for (size_t e = 0; e < c->f.size(); ++e)
      c->f[e] = double(y.cst->i[e]);
    yy.cst = c;
  }

  Value a = valueOf(x), c = valueOf(yy);
  if (!a || !c)
    return failure();
  auto fTy = tensorType(shape, dx);
  auto bTy = tensorType(shape, TP::BOOL);
  Value r;
  switch (k) {
  case Bin::Add:
    r = tfm::AddOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Sub:
    r = tfm::SubOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Mul:
    r = tfm::MulOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Div:
    r = tfm::DivOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Pow:
    r = tfm::PowOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Max:
    r = tfm::MaxOp::create(b, loc, fTy, a, c);
    break;
  case Bin::Min: {
    // min(a, b) = -max(-a, -b)
    Value na = tfm::NegOp::create(b, loc, a.getType(), a);
    Value nc = tfm::NegOp::create(b, loc, c.getType(), c);
    Value m = tfm::MaxOp::create(b, loc, fTy, na, nc);
    r = tfm::NegOp::create(b, loc, fTy, m);
    break;
  }
  case Bin::Equal:
    r = tfm::EqualOp::create(b, loc, bTy, a, c);
    break;
  case Bin::Less:
    r = tfm::LessOp::create(b, loc, bTy, a, c);
    break;
  case Bin::Greater:
    r = tfm::LessOp::create(b, loc, bTy, c, a);
    break;
  default:
    return nodeError() << "is only supported on constants", failure();
  }
  out[0].value = r;
  return success();
}

LogicalResult Importer::variadic(Bin k, Ins in, Outs out) {
  if (in.empty())
    return nodeError() << "expects at least one input", failure();
  Entry acc = in[0];
  for (size_t j = 1; j < in.size(); ++j) {
    Entry pair[2] = {acc, in[j]};
    Entry res;
    if (failed(binary(k, pair, llvm::MutableArrayRef<Entry>(res))))
      return failure();
    acc = res;
  }
  out[0] = acc;
  return success();
}

LogicalResult Importer::unary(Un k, Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (foldable(in) ||
      (allConst(in) &&
       (k == Un::Sin || k == Un::Cos || k == Un::Not || k == Un::Log ||
        k == Un::Abs || k == Un::Floor || k == Un::Ceil))) {
    if (failed(decode(*x.cst)))
      return failure();
    ConstPtr r = makeConst(dt, x.cst->shape);
    int64_t n = r->numElements();
    for (int64_t e = 0; e < n; ++e) {
      if (r->isFloat()) {
        double v = x.cst->f[e];
        double y = 0;
        switch (k) {
        case Un::Neg:
          y = -v;
          break;
        case Un::Sqrt:
          y = std::sqrt(v);
          break;
        case Un::Reciprocal:
          y = 1.0 / v;
          break;
        case Un::Relu:
          y = v > 0 ? v : 0;
          break;
        case Un::Erf:
          y = std::erf(v);
          break;
        case Un::Tanh:
          y = std::tanh(v);
          break;
        case Un::Sigmoid:
          y = 1.0 / (1.0 + std::exp(-v));
          break;
        case Un::Exp:
          y = std::exp(v);
          break;
        case Un::Sin:
          y = std::sin(v);
          break;
        case Un::Cos:
          y = std::cos(v);
          break;
        case Un::Abs:
          y = std::fabs(v);
          break;
        case Un::Log:
          y = std::log(v);
          break;
        case Un::Floor:
          y = std::floor(v);
          break;
        case Un::Ceil:
          y = std::ceil(v);
          break;
        case Un::Not:
          y = v == 0;
          break;
        }
        r->f[e] = y;
      } else {
        int64_t v = x.cst->i[e];
        int64_t y = 0;
        switch (k) {
        case Un::Neg:
          y = -v;
          break;
        case Un::Relu:
          y = v > 0 ? v : 0;
          break;
        case Un::Abs:
          y = v < 0 ? -v : v;
          break;
        case Un::Not:
          y = v == 0;
          break;
        case Un::Floor:
        case Un::Ceil:
          y = v;
          break;
        default:
          return nodeError() << "is not defined on " << dtName(dt), failure();
        }
        r->i[e] = y;
      }
    }
    out[0].cst = r;
    return success();
  }
  if (!isFloatDT(dt))
    return nodeError() << "only float tensors computed from graph inputs are "
                          "supported here (got "
                       << dtName(dt) << ")",
           failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  Type ty = v.getType();
  Value r;
  switch (k) {
  case Un::Neg:
    r = tfm::NegOp::create(b, loc, ty, v);
    break;
  case Un::Sqrt:
    r = tfm::SqrtOp::create(b, loc, ty, v);
    break;
  case Un::Reciprocal:
    r = tfm::ReciprocalOp::create(b, loc, ty, v);
    break;
  case Un::Relu:
    r = tfm::ReluOp::create(b, loc, ty, v);
    break;
  case Un::Erf:
    r = tfm::ErfOp::create(b, loc, ty, v);
    break;
  case Un::Tanh:
    r = tfm::TanhOp::create(b, loc, ty, v);
    break;
  case Un::Sigmoid:
    r = tfm::SigmoidOp::create(b, loc, ty, v);
    break;
  case Un::Exp:
    r = tfm::ExpOp::create(b, loc, ty, v);
    break;
  default:
    return nodeError() << "is only supported on constants (no tfm form for "
                          "tensors computed from graph inputs)",
           failure();
  }
  out[0].value = r;
  return success();
}

LogicalResult Importer::whereOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects three inputs", failure();
  SmallVector<int64_t> s1, shape;
  if (!broadcastShapes(shapeOf(in[0]), shapeOf(in[1]), s1) ||
      !broadcastShapes(s1, shapeOf(in[2]), shape))
    return nodeError() << "input shapes do not broadcast", failure();
  int32_t dt = dtypeOf(in[1]);
  if (dtypeOf(in[2]) != dt || !isBoolDT(dtypeOf(in[0])))
    return nodeError() << "expects a bool condition and two values of one type",
           failure();
  if (foldable(in)) {
    if (failed(checkFoldSize(product(shape))))
      return failure();
    for (const Entry &e : in)
      if (failed(decode(*e.cst)))
        return failure();
    ConstPtr r = makeConst(dt, shape);
    auto mc = broadcastMap(shape, in[0].cst->shape),
         mt = broadcastMap(shape, in[1].cst->shape),
         mf = broadcastMap(shape, in[2].cst->shape);
    for (size_t e = 0; e < mc.size(); ++e) {
      bool c = in[0].cst->i[mc[e]] != 0;
      if (r->isFloat())
        r->f[e] = c ? in[1].cst->f[mt[e]] : in[2].cst->f[mf[e]];
      else
        r->i[e] = c ? in[1].cst->i[mt[e]] : in[2].cst->i[mf[e]];
    }
    out[0].cst = r;
    return success();
  }
  if (!isFloatDT(dt))
    return nodeError() << "selecting " << dtName(dt)
                       << " values computed from graph inputs is not supported",
           failure();
  Value c = valueOf(in[0]), t = valueOf(in[1]), f = valueOf(in[2]);
  if (!c || !t || !f)
    return failure();
  out[0].value = tfm::WhereOp::create(b, loc, tensorType(shape, dt), c, t, f);
  return success();
}

LogicalResult Importer::castOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  int32_t to = attrInt("to", TP::UNDEFINED);
  if (!mlirElemType(ctx, to))
    return nodeError() << "cannot cast to " << dtName(to), failure();
  const Entry &x = in[0];
  int32_t from = dtypeOf(x);
  if (from == to) {
    out[0] = x;
    return success();
  }
  if (foldable(in)) {
    if (failed(decode(*x.cst)))
      return failure();
    ConstPtr r = makeConst(to, x.cst->shape);
    int64_t n = r->numElements();
    for (int64_t e = 0; e < n; ++e) {
      if (isFloatDT(from)) {
        double v = x.cst->f[e];
        if (isFloatDT(to))
          r->f[e] = to == TP::DOUBLE ? v : double(float(v));
        else if (isBoolDT(to))
          r->i[e] = v != 0;
        else
          r->i[e] = std::isfinite(v) ? static_cast<int64_t>(v) : 0;
      } else {
        int64_t v = x.cst->i[e];
        if (isFloatDT(to))
          r->f[e] = double(v);
        else if (isBoolDT(to))
          r->i[e] = v != 0;
        else
          r->i[e] = v;
      }
    }
    out[0].cst = r;
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  out[0].value = tfm::CastOp::create(b, loc, tensorType(shapeOf(x), to), v);
  return success();
}

//===----------------------------------------------------------------------===//
// Constants and shape computations
//===----------------------------------------------------------------------===//

LogicalResult Importer::constantOp(Ins, Outs out) {
  if (const auto *a = attr("value")) {
    // The node owns the tensor; constFromProto keeps a mutable pointer so that
    // large raw data can move into a blob.
    auto *t = const_cast<TP *>(&a->t());
    if (!validDims(
            llvm::SmallVector<int64_t>(t->dims().begin(), t->dims().end())))
      return nodeError() << "invalid tensor dimensions", failure();
    // Constant nodes usually hold literals the exporter wrote (masks,
    // scales, full() fills), which the evaluator may compute with; a large
    // non-splat float tensor is a weight stored as a node (some tools write
    // them so) and is kept intact like an initializer.
    ConstPtr c = constFromProto(*t, /*isInitializer=*/false);
    c->weight = c->isFloat() && c->numElements() > opts.resourceThreshold &&
                !isSplatTensor(*t);
    c->owner = c->weight;
    if (c->name.empty())
      c->name = node->output(0);
    out[0].cst = c;
    return success();
  }
  if (const auto *a = attr("value_float")) {
    out[0].cst = scalarConst(TP::FLOAT, a->f());
    return success();
  }
  if (const auto *a = attr("value_int")) {
    out[0].cst = scalarConst(TP::INT64, 0);
    out[0].cst->i[0] = a->i();
    return success();
  }
  if (const auto *a = attr("value_floats")) {
    ConstPtr c = makeConst(TP::FLOAT, {a->floats_size()});
    for (int k = 0; k < a->floats_size(); ++k)
      c->f[k] = a->floats(k);
    out[0].cst = c;
    return success();
  }
  if (const auto *a = attr("value_ints")) {
    ConstPtr c = makeConst(TP::INT64, {a->ints_size()});
    for (int k = 0; k < a->ints_size(); ++k)
      c->i[k] = a->ints(k);
    out[0].cst = c;
    return success();
  }
  return nodeError() << "only 'value', 'value_float(s)' and 'value_int(s)' "
                        "constants are supported",
         failure();
}

LogicalResult Importer::constantOfShape(Ins in, Outs out) {
  auto shape = constInts(in[0], "shape");
  if (failed(shape))
    return failure();
  for (int64_t d : *shape)
    if (d < 0)
      return nodeError() << "negative dimension in " << shapeStr(*shape),
             failure();
  if (failed(checkFoldSize(product(*shape))))
    return failure();
  int32_t dt = TP::FLOAT;
  double fv = 0;
  int64_t iv = 0;
  if (const auto *a = attr("value")) {
    if (!validDims(llvm::SmallVector<int64_t>(a->t().dims().begin(),
                                              a->t().dims().end())))
      return nodeError() << "invalid tensor dimensions", failure();
    ConstPtr v = constFromProto(const_cast<TP &>(a->t()), false);
    if (v->numElements() != 1 || failed(decode(*v)))
      return nodeError() << "'value' must hold one element", failure();
    dt = v->dtype;
    if (v->isFloat())
      fv = v->f[0];
    else
      iv = v->i[0];
  }
  ConstPtr r = makeConst(dt, *shape);
  if (r->isFloat())
    std::fill(r->f.begin(), r->f.end(), fv);
  else
    std::fill(r->i.begin(), r->i.end(), iv);
  out[0].cst = r;
  return success();
}

LogicalResult Importer::shapeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  int64_t start = attrInt("start", 0), end = attrInt("end", r);
  if (start < 0)
    start += r;
  if (end < 0)
    end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  int64_t n = std::max<int64_t>(end - start, 0);
  ConstPtr c = makeConst(TP::INT64, {n});
  for (int64_t k = 0; k < n; ++k)
    c->i[k] = s[start + k];
  out[0].cst = c;
  return success();
}

LogicalResult Importer::sizeOp(Ins in, Outs out) {
  ConstPtr c = makeConst(TP::INT64, {});
  c->i[0] = product(shapeOf(in[0]));
  out[0].cst = c;
  return success();
}

LogicalResult Importer::rangeOp(Ins in, Outs out) {
  if (in.size() != 3 || !allConst(in))
    return nodeError() << "start, limit and delta must be constants", failure();
  for (const Entry &e : in)
    if (e.cst->numElements() != 1 || failed(decode(*e.cst)))
      return nodeError() << "start, limit and delta must be scalars", failure();
  int32_t dt = in[0].cst->dtype;
  ConstPtr r;
  if (isFloatDT(dt)) {
    double s = in[0].cst->f[0], l = in[1].cst->f[0], d = in[2].cst->f[0];
    if (d == 0)
      return nodeError() << "delta is zero", failure();
    int64_t n = std::max<int64_t>(int64_t(std::ceil((l - s) / d)), 0);
    if (failed(checkFoldSize(n)))
      return failure();
    r = makeConst(dt, {n});
    for (int64_t k = 0; k < n; ++k)
      r->f[k] = s + k * d;
  } else {
    int64_t s = in[0].cst->i[0], l = in[1].cst->i[0], d = in[2].cst->i[0];
    if (d == 0)
      return nodeError() << "delta is zero", failure();
    int64_t n = d > 0 ? (l - s + d - 1) / d : (s - l - d - 1) / (-d);
    n = std::max<int64_t>(n, 0);
    if (failed(checkFoldSize(n)))
      return failure();
    r = makeConst(dt, {n});
    for (int64_t k = 0; k < n; ++k)
      r->i[k] = s + k * d;
  }
  out[0].cst = r;
  return success();
}

/// CumSum has no tfm form: it only appears in position-id computations on
/// constant attention masks (OPT), which the evaluator folds.
LogicalResult Importer::cumSumOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects x and axis", failure();
  if (!allConst(in))
    return nodeError() << "is only supported on constants (no tfm form for "
                          "tensors computed from graph inputs)",
           failure();
  auto axisV = constInts(in[1], "axis");
  if (failed(axisV) || axisV->size() != 1)
    return nodeError() << "axis must be a scalar", failure();
  const ConstTensor &x = *in[0].cst;
  auto axis = normAxis((*axisV)[0], x.shape.size());
  if (failed(axis) || failed(decode(*in[0].cst)))
    return failure();
  bool exclusive = attrInt("exclusive", 0), reverse = attrInt("reverse", 0);
  ConstPtr r = reshapedConst(x, x.shape);
  llvm::ArrayRef<int64_t> s = x.shape;
  int64_t outer = product(s.take_front(*axis)), len = s[*axis],
          inner = product(s.drop_front(*axis + 1));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k) {
      double accF = 0;
      int64_t accI = 0;
      for (int64_t j0 = 0; j0 < len; ++j0) {
        int64_t j = reverse ? len - 1 - j0 : j0;
        int64_t e = (o * len + j) * inner + k;
        if (r->isFloat()) {
          double v = x.f[e];
          r->f[e] = exclusive ? accF : accF + v;
          accF += v;
        } else {
          int64_t v = x.i[e];
          r->i[e] = exclusive ? accI : accI + v;
          accI += v;
        }
      }
    }
  out[0].cst = r;
  return success();
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult Importer::reshapeLike(Ins in, Outs out,
                                    llvm::ArrayRef<int64_t> shape) {
  const Entry &x = in[0];
  if (product(shape) != product(shapeOf(x)))
    return nodeError() << "cannot reshape " << shapeStr(shapeOf(x)) << " to "
                       << shapeStr(shape),
           failure();
  if (x.cst && !x.cst->weight) {
    if (failed(decode(*x.cst)))
      return failure();
    out[0].cst = reshapedConst(*x.cst, shape);
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  out[0].value = emitReshape(v, shape);
  return success();
}

LogicalResult Importer::reshapeOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects data and shape inputs", failure();
  auto target = constInts(in[1], "shape");
  if (failed(target))
    return failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  bool allowZero = attrInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferIdx = -1, known = 1;
  for (auto [k, d] : llvm::enumerate(*target)) {
    if (d == 0 && !allowZero) {
      if (k >= s.size())
        return nodeError() << "0 in the target shape copies a dimension the "
                              "input does not have",
               failure();
      d = s[k];
    }
    if (d == -1) {
      if (inferIdx >= 0)
        return nodeError() << "more than one -1 in the target shape", failure();
      inferIdx = k;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return nodeError() << "invalid target dimension " << d, failure();
    shape.push_back(d);
    known *= d;
  }
  if (inferIdx >= 0) {
    int64_t total = product(s);
    if (known == 0 || total % known != 0)
      return nodeError() << "cannot infer -1 reshaping " << shapeStr(s)
                         << " to " << shapeStr(*target),
             failure();
    shape[inferIdx] = total / known;
  }
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::flattenOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  int64_t axis = attrInt("axis", 1);
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis > r)
    return nodeError() << "axis out of range", failure();
  SmallVector<int64_t> shape = {product(s.take_front(axis)),
                                product(s.drop_front(axis))};
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::squeezeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  SmallVector<int64_t> axes;
  if (opset >= 13) {
    if (in.size() > 1 && in[1]) {
      auto a = constInts(in[1], "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
  } else if (auto a = attrInts("axes")) {
    axes = *a;
  }
  SmallVector<bool> drop(r, false);
  if (axes.empty()) {
    for (int64_t d = 0; d < r; ++d)
      drop[d] = s[d] == 1;
  }
  for (int64_t a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    if (s[*n] != 1)
      return nodeError() << "cannot squeeze dimension " << a << " of size "
                         << s[*n],
             failure();
    drop[*n] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < r; ++d)
    if (!drop[d])
      shape.push_back(s[d]);
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::unsqueezeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  SmallVector<int64_t> axes;
  if (opset >= 13) {
    if (in.size() < 2 || !in[1])
      return nodeError() << "expects an axes input", failure();
    auto a = constInts(in[1], "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else if (auto a = attrInts("axes")) {
    axes = *a;
  }
  int64_t r = s.size() + axes.size();
  SmallVector<bool> isNew(r, false);
  for (int64_t a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    if (isNew[*n])
      return nodeError() << "axis " << a << " repeated", failure();
    isNew[*n] = true;
  }
  SmallVector<int64_t> shape;
  size_t next = 0;
  for (int64_t d = 0; d < r; ++d)
    shape.push_back(isNew[d] ? 1 : s[next++]);
  return reshapeLike(in, out, shape);
}

LogicalResult Importer::transposeOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  SmallVector<int64_t> perm;
  if (auto p = attrInts("perm")) {
    perm = *p;
  } else {
    for (int64_t d = r - 1; d >= 0; --d)
      perm.push_back(d);
  }
  SmallVector<bool> seen(r, false);
  if (static_cast<int64_t>(perm.size()) != r)
    return nodeError() << "perm must list every dimension once", failure();
  for (int64_t &p : perm) {
    if (p < 0)
      p += r;
    if (p < 0 || p >= r || seen[p])
      return nodeError() << "perm must list every dimension once", failure();
    seen[p] = true;
  }
  if (foldable(in)) {
    if (failed(decode(*x.cst)))
      return failure();
    SmallVector<int64_t> shape, strides, inStrides = rowMajorStrides(s);
    for (int64_t p : perm) {
      shape.push_back(s[p]);
      strides.push_back(inStrides[p]);
    }
    out[0].cst = remapConst(*x.cst, shape, stridedMap(shape, strides, 0));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  bool identity = true;
  for (int64_t d = 0; d < r; ++d)
    identity &= perm[d] == d;
  out[0].value = identity ? v : emitTranspose(v, perm);
  return success();
}

LogicalResult Importer::concatOp(Ins in, Outs out) {
  if (in.empty())
    return nodeError() << "expects inputs", failure();
  int64_t r = rankOf(in[0]);
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  int32_t dt = dtypeOf(in[0]);
  SmallVector<int64_t> shape(shapeOf(in[0]));
  shape[*axis] = 0;
  for (const Entry &e : in) {
    if (!e)
      return nodeError() << "missing input", failure();
    llvm::ArrayRef<int64_t> s = shapeOf(e);
    if (static_cast<int64_t>(s.size()) != r || dtypeOf(e) != dt)
      return nodeError() << "inputs differ in rank or element type", failure();
    for (int64_t d = 0; d < r; ++d)
      if (d != *axis && s[d] != shape[d])
        return nodeError() << "inputs differ in dimension " << d, failure();
    shape[*axis] += s[*axis];
  }
  if (foldable(in)) {
    if (failed(checkFoldSize(product(shape))))
      return failure();
    ConstPtr res = makeConst(dt, shape);
    int64_t outer = product(llvm::ArrayRef<int64_t>(shape).take_front(*axis));
    int64_t inner =
        product(llvm::ArrayRef<int64_t>(shape).drop_front(*axis + 1));
    int64_t offset = 0;
    for (const Entry &e : in) {
      if (failed(decode(*e.cst)))
        return failure();
      int64_t len = e.cst->shape[*axis];
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < len * inner; ++j) {
          int64_t dst = (o * shape[*axis] + offset) * inner + j;
          int64_t src = o * len * inner + j;
          if (res->isFloat())
            res->f[dst] = e.cst->f[src];
          else
            res->i[dst] = e.cst->i[src];
        }
      offset += len;
    }
    out[0].cst = res;
    return success();
  }
  SmallVector<Value> vals;
  for (const Entry &e : in) {
    if (shapeOf(e)[*axis] == 0)
      continue;
    Value v = valueOf(e);
    if (!v)
      return failure();
    vals.push_back(v);
  }
  if (vals.empty()) {
    out[0].cst = makeConst(dt, shape); // every input is empty
    return success();
  }
  if (vals.size() == 1) {
    out[0].value = vals[0];
    return success();
  }
  out[0].value = tfm::ConcatOp::create(b, loc, tensorType(shape, dt), vals,
                                       b.getI64IntegerAttr(*axis));
  return success();
}

LogicalResult Importer::sliceImpl(const Entry &x,
                                  llvm::ArrayRef<int64_t> offsets,
                                  llvm::ArrayRef<int64_t> steps,
                                  llvm::ArrayRef<int64_t> sizes, Entry &out) {
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (x.cst && !x.cst->weight) {
    if (failed(decode(*x.cst)))
      return failure();
    SmallVector<int64_t> inStrides = rowMajorStrides(s), strides;
    int64_t base = 0;
    for (size_t d = 0; d < s.size(); ++d) {
      strides.push_back(inStrides[d] * steps[d]);
      base += offsets[d] * inStrides[d];
    }
    out.cst = remapConst(*x.cst, sizes, stridedMap(sizes, strides, base));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  // Positive-step part as one tfm.slice; each reversed axis then as a gather
  // with constant indices.
  SmallVector<int64_t> o1(offsets), st1(steps), sz1(sizes);
  SmallVector<int64_t> negAxes;
  for (size_t d = 0; d < s.size(); ++d) {
    if (steps[d] < 0) {
      negAxes.push_back(d);
      o1[d] = 0;
      st1[d] = 1;
      sz1[d] = s[d];
    }
  }
  v = emitSlice(v, o1, st1, sz1);
  for (int64_t d : negAxes) {
    SmallVector<int64_t> idx;
    for (int64_t k = 0; k < sizes[d]; ++k)
      idx.push_back(offsets[d] + k * steps[d]);
    auto ty = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(ty.getShape());
    shape[d] = sizes[d];
    Value iv = emitConstIndices(idx);
    if (!iv)
      return failure();
    v = tfm::GatherOp::create(b, loc, ty.clone(shape), v, iv,
                              b.getI64IntegerAttr(d));
  }
  out.value = v;
  return success();
}

LogicalResult Importer::sliceOp(Ins in, Outs out) {
  if (in.size() < 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects data, starts and ends inputs", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  auto starts = constInts(in[1], "starts");
  auto ends = constInts(in[2], "ends");
  if (failed(starts) || failed(ends))
    return failure();
  SmallVector<int64_t> axes, steps;
  if (in.size() > 3 && in[3]) {
    auto a = constInts(in[3], "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t k = 0; k < starts->size(); ++k)
      axes.push_back(k);
  }
  if (in.size() > 4 && in[4]) {
    auto st = constInts(in[4], "steps");
    if (failed(st))
      return failure();
    steps = *st;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return nodeError() << "starts, ends, axes and steps differ in length",
           failure();
  SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
  SmallVector<bool> seen(r, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    auto a = normAxis(axes[k], r);
    if (failed(a))
      return failure();
    if (seen[*a])
      return nodeError() << "axis " << axes[k] << " repeated", failure();
    seen[*a] = true;
    int64_t dim = s[*a], st = steps[k];
    if (st == 0)
      return nodeError() << "step is zero", failure();
    int64_t b0 = (*starts)[k], e0 = (*ends)[k];
    if (b0 < 0)
      b0 += dim;
    if (e0 < 0)
      e0 += dim;
    int64_t size;
    if (st > 0) {
      b0 = std::clamp<int64_t>(b0, 0, dim);
      e0 = std::clamp<int64_t>(e0, 0, dim);
      size = e0 > b0 ? (e0 - b0 + st - 1) / st : 0;
    } else {
      b0 = std::clamp<int64_t>(b0, -1, dim - 1);
      e0 = std::clamp<int64_t>(e0, -1, dim - 1);
      size = b0 > e0 ? (b0 - e0 + (-st) - 1) / (-st) : 0;
      if (size == 0)
        b0 = 0, st = 1;
    }
    offsets[*a] = size == 0 ? 0 : b0;
    strides[*a] = st;
    sizes[*a] = size;
  }
  return sliceImpl(in[0], offsets, strides, sizes, out[0]);
}

LogicalResult Importer::splitOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> split;
  if (opset >= 13 && in.size() > 1 && in[1]) {
    auto sp = constInts(in[1], "split");
    if (failed(sp))
      return failure();
    split = *sp;
  } else if (auto sp = attrInts("split"); sp && opset < 13) {
    split = *sp;
  } else {
    int64_t n = out.size();
    if (s[*axis] % n != 0)
      return nodeError() << "dimension " << s[*axis]
                         << " does not split evenly into " << n << " outputs",
             failure();
    split.assign(n, s[*axis] / n);
  }
  if (split.size() != out.size())
    return nodeError() << "'split' has " << split.size() << " sizes for "
                       << out.size() << " outputs",
           failure();
  int64_t total = 0;
  for (int64_t v : split)
    total += v;
  if (total != s[*axis])
    return nodeError() << "split sizes sum to " << total << ", not "
                       << s[*axis],
           failure();
  int64_t offset = 0;
  for (size_t k = 0; k < split.size(); ++k) {
    SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
    offsets[*axis] = offset;
    sizes[*axis] = split[k];
    if (failed(sliceImpl(in[0], offsets, strides, sizes, out[k])))
      return failure();
    offset += split[k];
  }
  return success();
}

LogicalResult Importer::gatherOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects data and indices", failure();
  const Entry &data = in[0], &ind = in[1];
  llvm::ArrayRef<int64_t> s = shapeOf(data), is = shapeOf(ind);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", 0), r);
  if (failed(axis))
    return failure();
  if (!isIntDT(dtypeOf(ind)))
    return nodeError() << "indices must be integers", failure();
  SmallVector<int64_t> shape(s.take_front(*axis));
  llvm::append_range(shape, is);
  llvm::append_range(shape, s.drop_front(*axis + 1));
  int64_t dim = s[*axis];

  SmallVector<int64_t> idx;
  if (ind.cst) {
    if (failed(decode(*ind.cst)))
      return failure();
    for (int64_t v : ind.cst->i) {
      if (v < -dim || v >= dim)
        return nodeError() << "index " << v << " is out of range for "
                           << "dimension " << dim,
               failure();
      idx.push_back(v < 0 ? v + dim : v);
    }
  }

  if (foldable(in)) {
    if (failed(decode(*data.cst)) || failed(checkFoldSize(product(shape))))
      return failure();
    int64_t outer = product(s.take_front(*axis));
    int64_t inner = product(s.drop_front(*axis + 1));
    std::vector<int64_t> map;
    map.reserve(product(shape));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j : idx)
        for (int64_t k = 0; k < inner; ++k)
          map.push_back((o * dim + j) * inner + k);
    out[0].cst = remapConst(*data.cst, shape, map);
    return success();
  }

  // Token ids into a constant [V, D] table: an embedding lookup.
  if (!ind.cst && data.cst && data.cst->isFloat() && r == 2 && *axis == 0) {
    Value t = valueOf(data), i = valueOf(ind);
    if (!t || !i)
      return failure();
    out[0].value = tfm::EmbeddingOp::create(
        b, loc, tensorType(shape, dtypeOf(data)), t, i);
    return success();
  }

  Value d = valueOf(data);
  if (!d)
    return failure();
  if (ind.cst) {
    // A scalar index or an arithmetic progression is a slice.
    bool progression = !idx.empty();
    int64_t step = idx.size() > 1 ? idx[1] - idx[0] : 1;
    for (size_t k = 1; k < idx.size() && progression; ++k)
      progression = idx[k] - idx[k - 1] == step;
    if (progression && step >= 1) {
      SmallVector<int64_t> offsets(r, 0), strides(r, 1), sizes(s);
      offsets[*axis] = idx[0];
      strides[*axis] = step;
      sizes[*axis] = idx.size();
      Value v = emitSlice(d, offsets, strides, sizes);
      out[0].value = emitReshape(v, shape);
      return success();
    }
  }
  Value i = valueOf(ind);
  if (!i)
    return failure();
  out[0].value = tfm::GatherOp::create(b, loc, tensorType(shape, dtypeOf(data)),
                                       d, i, b.getI64IntegerAttr(*axis));
  return success();
}

LogicalResult Importer::expandOp(Ins in, Outs out) {
  auto target = constInts(in[1], "shape");
  if (failed(target))
    return failure();
  SmallVector<int64_t> shape;
  if (!broadcastShapes(shapeOf(in[0]), *target, shape))
    return nodeError() << "cannot expand " << shapeStr(shapeOf(in[0])) << " to "
                       << shapeStr(*target),
           failure();
  const Entry &x = in[0];
  // Broadcasting float constants only inflates them: keep a tfm.expand
  // unless the result is tiny or no larger than the input (masks are
  // integer/bool, or float with batch 1, and fold).
  bool inflatesFloat = x.cst && x.cst->isFloat() &&
                       product(shape) > opts.resourceThreshold &&
                       product(shape) > x.cst->numElements();
  if (x.cst && !x.cst->weight && !inflatesFloat) {
    if (failed(checkFoldSize(product(shape))) || failed(decode(*x.cst)))
      return failure();
    out[0].cst = remapConst(*x.cst, shape, broadcastMap(shape, x.cst->shape));
    return success();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  if (shapeOf(x) == llvm::ArrayRef<int64_t>(shape)) {
    out[0].value = v;
    return success();
  }
  out[0].value =
      tfm::ExpandOp::create(b, loc, tensorType(shape, dtypeOf(x)), v);
  return success();
}

LogicalResult Importer::triluOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (s.size() < 2)
    return nodeError() << "input must have rank >= 2", failure();
  int64_t k = 0;
  if (in.size() > 1 && in[1]) {
    auto kv = constInts(in[1], "k");
    if (failed(kv) || kv->size() != 1)
      return nodeError() << "k must be a constant scalar", failure();
    k = (*kv)[0];
  }
  bool upper = attrInt("upper", 1) != 0;
  int64_t rows = s[s.size() - 2], cols = s.back();
  auto keep = [&](int64_t i, int64_t j) {
    return upper ? j - i >= k : j - i <= k;
  };
  if (x.cst && !x.cst->weight) {
    if (failed(decode(*x.cst)))
      return failure();
    ConstPtr r = reshapedConst(*x.cst, s);
    int64_t n = r->numElements();
    for (int64_t e = 0; e < n; ++e) {
      int64_t j = e % cols, i = (e / cols) % rows;
      if (!keep(i, j)) {
        if (r->isFloat())
          r->f[e] = 0;
        else
          r->i[e] = 0;
      }
    }
    out[0].cst = r;
    return success();
  }
  if (!isFloatDT(dtypeOf(x)))
    return nodeError() << "Trilu of " << dtName(dtypeOf(x))
                       << " values computed from graph inputs is not "
                          "supported",
           failure();
  // where(mask, x, 0) with a constant [rows, cols] mask.
  if (failed(checkFoldSize(product({rows, cols}))))
    return failure();
  ConstPtr mask = makeConst(TP::BOOL, {rows, cols});
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mask->i[i * cols + j] = keep(i, j);
  ConstPtr zero = scalarConst(dtypeOf(x), 0);
  Value m = materialize(*mask), z = materialize(*zero), v = valueOf(x);
  if (!m || !z || !v)
    return failure();
  out[0].value = tfm::WhereOp::create(b, loc, v.getType(), m, v, z);
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra and normalisation
//===----------------------------------------------------------------------===//

LogicalResult Importer::matmulOp(Ins in, Outs out) {
  const Entry &x = in[0], &w = in[1];
  if (!isFloatDT(dtypeOf(x)) || dtypeOf(x) != dtypeOf(w))
    return nodeError() << "expects two float tensors of one type", failure();
  SmallVector<int64_t> a(shapeOf(x)), c(shapeOf(w));
  if (a.empty() || c.empty())
    return nodeError() << "operands must have rank >= 1", failure();
  bool aVec = a.size() == 1, cVec = c.size() == 1;
  if (aVec)
    a.insert(a.begin(), 1);
  if (cVec)
    c.push_back(1);
  if (a.back() != c[c.size() - 2])
    return nodeError() << "contraction dimensions differ: "
                       << shapeStr(shapeOf(x)) << " x " << shapeStr(shapeOf(w)),
           failure();
  SmallVector<int64_t> batch;
  if (!broadcastShapes(llvm::ArrayRef<int64_t>(a).drop_back(2),
                       llvm::ArrayRef<int64_t>(c).drop_back(2), batch))
    return nodeError() << "batch dimensions do not broadcast", failure();
  SmallVector<int64_t> shape = batch;
  shape.push_back(a[a.size() - 2]);
  shape.push_back(c.back());
  SmallVector<int64_t> finalShape(shape);
  if (cVec)
    finalShape.pop_back();
  if (aVec)
    finalShape.erase(finalShape.end() - (cVec ? 1 : 2));

  Value xv = valueOf(x), wv = valueOf(w);
  if (!xv || !wv)
    return failure();
  int32_t dt = dtypeOf(x);
  if (aVec)
    xv = emitReshape(xv, a);
  // A constant rank-2 right operand is a linear layer: tfm-fuse raises it.
  if (cVec)
    wv = emitReshape(wv, c);
  Value r = tfm::MatMulOp::create(b, loc, tensorType(shape, dt), xv, wv);
  out[0].value = emitReshape(r, finalShape);
  return success();
}

LogicalResult Importer::gemmOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects A and B", failure();
  const Entry &A = in[0], &B = in[1];
  int32_t dt = dtypeOf(A);
  if (!isFloatDT(dt) || dtypeOf(B) != dt || rankOf(A) != 2 || rankOf(B) != 2)
    return nodeError() << "expects rank-2 float A and B", failure();
  float alpha = attrFloat("alpha", 1.0f), beta = attrFloat("beta", 1.0f);
  bool transA = attrInt("transA", 0), transB = attrInt("transB", 0);
  Value av = valueOf(A), bv = valueOf(B);
  if (!av || !bv)
    return failure();
  if (transA)
    av = emitTranspose(av, {1, 0});
  if (transB)
    bv = emitTranspose(bv, {1, 0});
  auto aTy = cast<RankedTensorType>(av.getType());
  auto bTy = cast<RankedTensorType>(bv.getType());
  if (aTy.getShape()[1] != bTy.getShape()[0])
    return nodeError() << "contraction dimensions differ", failure();
  SmallVector<int64_t> shape = {aTy.getShape()[0], bTy.getShape()[1]};
  auto ty = tensorType(shape, dt);
  const Entry *C = in.size() > 2 && in[2] ? &in[2] : nullptr;
  if (C && beta != 0.0f) {
    SmallVector<int64_t> bc;
    if (!broadcastShapes(shapeOf(*C), shape, bc) ||
        llvm::ArrayRef<int64_t>(bc) != llvm::ArrayRef<int64_t>(shape))
      return nodeError() << "C does not broadcast to " << shapeStr(shape),
             failure();
  } else {
    C = nullptr;
  }
  // A layer (constant B) is a tfm.linear, like MatMul; a product of two
  // activations is a tfm.matmul.
  bool isLayer = isConstantDerived(bv);
  bool biasInLinear = isLayer && C && alpha == 1.0f && beta == 1.0f &&
                      shapeOf(*C) == llvm::ArrayRef<int64_t>{shape[1]};
  Value cv;
  if (biasInLinear && !(cv = valueOf(*C)))
    return failure();
  Value r = isLayer ? Value(tfm::LinearOp::create(b, loc, ty, av, bv, cv))
                    : Value(tfm::MatMulOp::create(b, loc, ty, av, bv));
  if (alpha != 1.0f) {
    Value s = materialize(*scalarConst(dt, alpha));
    if (!s)
      return failure();
    r = tfm::MulOp::create(b, loc, ty, r, s);
  }
  if (C && !biasInLinear) {
    Value c = valueOf(*C);
    if (!c)
      return failure();
    if (beta != 1.0f) {
      Value s = materialize(*scalarConst(dt, beta));
      if (!s)
        return failure();
      c = tfm::MulOp::create(b, loc, c.getType(), c, s);
    }
    r = tfm::AddOp::create(b, loc, ty, r, c);
  }
  out[0].value = r;
  return success();
}

LogicalResult Importer::softmaxOp(Ins in, Outs out) {
  const Entry &x = in[0];
  if (!isFloatDT(dtypeOf(x)))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", opset >= 13 ? -1 : 1), r);
  if (failed(axis))
    return failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  if (opset >= 13 || *axis == r - 1) {
    out[0].value = tfm::SoftmaxOp::create(b, loc, v.getType(), v,
                                          b.getI64IntegerAttr(*axis - r));
    return success();
  }
  // Before opset 13 Softmax normalises the input coerced to 2-D at `axis`.
  SmallVector<int64_t> flat = {product(s.take_front(*axis)),
                               product(s.drop_front(*axis))};
  Value f = emitReshape(v, flat);
  f = tfm::SoftmaxOp::create(b, loc, f.getType(), f, b.getI64IntegerAttr(-1));
  out[0].value = emitReshape(f, s);
  return success();
}

LogicalResult Importer::layerNormOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects X and Scale", failure();
  bool statsUsed = false;
  for (size_t k = 1; k < out.size(); ++k)
    statsUsed |= !node->output(k).empty() && useCount.lookup(node->output(k));
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  auto axis = normAxis(attrInt("axis", -1), r);
  if (failed(axis))
    return failure();
  float eps = attrFloat("epsilon", 1e-5f);
  llvm::ArrayRef<int64_t> normShape = s.drop_front(*axis);
  auto param = [&](const Entry &e) -> Value {
    Value v = valueOf(e);
    if (!v)
      return {};
    if (shapeOf(e) == normShape)
      return v;
    // [1, ..., 1, normalised dims]: drop the leading ones.
    llvm::ArrayRef<int64_t> ps = shapeOf(e);
    while (ps.size() > normShape.size() && ps.front() == 1)
      ps = ps.drop_front();
    if (ps == normShape)
      return emitReshape(v, normShape);
    SmallVector<int64_t> bc;
    if (!broadcastShapes(ps, normShape, bc) ||
        llvm::ArrayRef<int64_t>(bc) != normShape) {
      nodeError() << "scale/bias shape " << shapeStr(shapeOf(e))
                  << " does not match the normalised shape "
                  << shapeStr(normShape);
      return {};
    }
    if (ps.size() < shapeOf(e).size())
      v = emitReshape(v, ps);
    return tfm::ExpandOp::create(b, loc, tensorType(normShape, dt), v);
  };
  Value xv = valueOf(x);
  Value scale = param(in[1]);
  Value bias;
  if (!xv || !scale)
    return failure();
  if (in.size() > 2 && in[2] && !(bias = param(in[2])))
    return failure();
  out[0].value = tfm::LayerNormOp::create(b, loc, xv.getType(), xv, scale, bias,
                                          b.getI64IntegerAttr(*axis - r),
                                          b.getF32FloatAttr(eps));
  if (statsUsed) {
    // Training-style outputs (never used by exported transformers): the mean
    // and 1/sqrt(var + eps) over the normalised axes, decomposed.
    SmallVector<int64_t> axes, statShape(s);
    for (int64_t d = *axis; d < r; ++d) {
      axes.push_back(d);
      statShape[d] = 1;
    }
    auto statTy = tensorType(statShape, dt);
    auto axesAttr = b.getDenseI64ArrayAttr(axes);
    auto keep = b.getBoolAttr(true);
    Value mean = tfm::ReduceMeanOp::create(b, loc, statTy, xv, axesAttr, keep);
    Value d = tfm::SubOp::create(b, loc, xv.getType(), xv, mean);
    Value sq = tfm::MulOp::create(b, loc, xv.getType(), d, d);
    Value var = tfm::ReduceMeanOp::create(b, loc, statTy, sq, axesAttr, keep);
    Value e = materialize(*scalarConst(dt, eps));
    if (!e)
      return failure();
    Value sd = tfm::SqrtOp::create(
        b, loc, statTy, tfm::AddOp::create(b, loc, statTy, var, e));
    if (out.size() > 1)
      out[1].value = mean;
    if (out.size() > 2)
      out[2].value = tfm::ReciprocalOp::create(b, loc, statTy, sd);
  }
  return success();
}

LogicalResult Importer::reduceOp(Ins in, Outs out) {
  const Entry &x = in[0];
  StringRef op = node->op_type();
  if (!isFloatDT(dtypeOf(x)))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  SmallVector<int64_t> axes;
  bool axesInput = op == "ReduceSum" && opset >= 13;
  if (axesInput) {
    if (in.size() > 1 && in[1]) {
      auto a = constInts(in[1], "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
  } else if (auto a = attrInts("axes")) {
    axes = *a;
  }
  bool keep = attrInt("keepdims", 1) != 0;
  if (axes.empty()) {
    if (axesInput && attrInt("noop_with_empty_axes", 0)) {
      out[0] = x;
      return success();
    }
    for (int64_t d = 0; d < r; ++d)
      axes.push_back(d);
  }
  SmallVector<bool> red(r, false);
  for (int64_t &a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    a = *n;
    red[a] = true;
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < r; ++d) {
    if (!red[d])
      shape.push_back(s[d]);
    else if (keep)
      shape.push_back(1);
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  auto ty = tensorType(shape, dtypeOf(x));
  auto axesAttr = b.getDenseI64ArrayAttr(axes);
  auto keepAttr = b.getBoolAttr(keep);
  if (op == "ReduceSum")
    out[0].value = tfm::ReduceSumOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else if (op == "ReduceMean")
    out[0].value = tfm::ReduceMeanOp::create(b, loc, ty, v, axesAttr, keepAttr);
  else
    out[0].value = tfm::ReduceMaxOp::create(b, loc, ty, v, axesAttr, keepAttr);
  return success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

const llvm::StringSet<> &supportedOps() {
  static const llvm::StringSet<> ops = {"Add",
                                        "Sub",
                                        "Mul",
                                        "Div",
                                        "Pow",
                                        "Max",
                                        "Min",
                                        "Mod",
                                        "Equal",
                                        "Less",
                                        "Greater",
                                        "LessOrEqual",
                                        "GreaterOrEqual",
                                        "And",
                                        "Or",
                                        "Not",
                                        "Neg",
                                        "Sqrt",
                                        "Reciprocal",
                                        "Relu",
                                        "Erf",
                                        "Tanh",
                                        "Sigmoid",
                                        "Exp",
                                        "Sin",
                                        "Cos",
                                        "Abs",
                                        "Log",
                                        "Floor",
                                        "Ceil",
                                        "Where",
                                        "Cast",
                                        "Constant",
                                        "ConstantOfShape",
                                        "Shape",
                                        "Size",
                                        "Range",
                                        "Identity",
                                        "Dropout",
                                        "Reshape",
                                        "Flatten",
                                        "Squeeze",
                                        "Unsqueeze",
                                        "Transpose",
                                        "Concat",
                                        "Split",
                                        "Slice",
                                        "Gather",
                                        "Expand",
                                        "Trilu",
                                        "MatMul",
                                        "Gemm",
                                        "Softmax",
                                        "LayerNormalization",
                                        "ReduceMean",
                                        "ReduceSum",
                                        "ReduceMax",
                                        "CumSum"};
  return ops;
}

LogicalResult Importer::dispatch(Ins in, Outs out) {
  StringRef op = node->op_type();
  if (op == "Identity" || op == "Dropout") {
    if (in.empty() || !in[0])
      return nodeError() << "missing input", failure();
    out[0] = in[0];
    if (op == "Dropout") {
      // Inference: nothing is dropped unless training_mode is a constant
      // true; the mask output is then all true.
      if (in.size() > 2 && in[2]) {
        auto training = constInts(in[2], "training_mode");
        if (failed(training))
          return failure();
        if (llvm::any_of(*training, [](int64_t v) { return v != 0; }))
          return nodeError() << "training mode is not supported", failure();
      }
      if (out.size() > 1) {
        if (failed(checkFoldSize(product(shapeOf(in[0])))))
          return failure();
        ConstPtr mask = makeConst(TP::BOOL, shapeOf(in[0]));
        std::fill(mask->i.begin(), mask->i.end(), 1);
        out[1].cst = mask;
      }
    }
    return success();
  }
  auto bin = llvm::StringSwitch<std::optional<Bin>>(op)
                 .Case("Add", Bin::Add)
                 .Case("Sub", Bin::Sub)
                 .Case("Mul", Bin::Mul)
                 .Case("Div", Bin::Div)
                 .Case("Pow", Bin::Pow)
                 .Case("Mod", Bin::Mod)
                 .Case("Equal", Bin::Equal)
                 .Case("Less", Bin::Less)
                 .Case("Greater", Bin::Greater)
                 .Case("LessOrEqual", Bin::LessOrEqual)
                 .Case("GreaterOrEqual", Bin::GreaterOrEqual)
                 .Case("And", Bin::And)
                 .Case("Or", Bin::Or)
                 .Default(std::nullopt);
  if (bin)
    return binary(*bin, in, out);
  if (op == "Max")
    return variadic(Bin::Max, in, out);
  if (op == "Min")
    return variadic(Bin::Min, in, out);
  auto un = llvm::StringSwitch<std::optional<Un>>(op)
                .Case("Neg", Un::Neg)
                .Case("Sqrt", Un::Sqrt)
                .Case("Reciprocal", Un::Reciprocal)
                .Case("Relu", Un::Relu)
                .Case("Erf", Un::Erf)
                .Case("Tanh", Un::Tanh)
                .Case("Sigmoid", Un::Sigmoid)
                .Case("Exp", Un::Exp)
                .Case("Sin", Un::Sin)
                .Case("Cos", Un::Cos)
                .Case("Abs", Un::Abs)
                .Case("Log", Un::Log)
                .Case("Floor", Un::Floor)
                .Case("Ceil", Un::Ceil)
                .Case("Not", Un::Not)
                .Default(std::nullopt);
  if (un)
    return unary(*un, in, out);
  // Every remaining op needs its first input.
  if (op != "Constant" && (in.empty() || !in[0]))
    return nodeError() << "missing first input", failure();
  if (op == "Where")
    return whereOp(in, out);
  if (op == "Cast")
    return castOp(in, out);
  if (op == "Constant")
    return constantOp(in, out);
  if (op == "ConstantOfShape")
    return constantOfShape(in, out);
  if (op == "Shape")
    return shapeOp(in, out);
  if (op == "Size")
    return sizeOp(in, out);
  if (op == "Range")
    return rangeOp(in, out);
  if (op == "CumSum")
    return cumSumOp(in, out);
  if (op == "Reshape")
    return reshapeOp(in, out);
  if (op == "Flatten")
    return flattenOp(in, out);
  if (op == "Squeeze")
    return squeezeOp(in, out);
  if (op == "Unsqueeze")
    return unsqueezeOp(in, out);
  if (op == "Transpose")
    return transposeOp(in, out);
  if (op == "Concat")
    return concatOp(in, out);
  if (op == "Split")
    return splitOp(in, out);
  if (op == "Slice")
    return sliceOp(in, out);
  if (op == "Gather")
    return gatherOp(in, out);
  if (op == "Expand") {
    if (in.size() < 2 || !in[1])
      return nodeError() << "expects a shape input", failure();
    return expandOp(in, out);
  }
  if (op == "Trilu")
    return triluOp(in, out);
  if (op == "MatMul") {
    if (in.size() < 2 || !in[1])
      return nodeError() << "expects two inputs", failure();
    return matmulOp(in, out);
  }
  if (op == "Gemm")
    return gemmOp(in, out);
  if (op == "Softmax")
    return softmaxOp(in, out);
  if (op == "LayerNormalization")
    return layerNormOp(in, out);
  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax")
    return reduceOp(in, out);
  return nodeError() << "unsupported operator", failure();
}

LogicalResult Importer::importNode(onnx::NodeProto &n) {
  node = &n;
  nodeLabel = n.name().empty() ? (n.output_size() ? n.output(0) : n.op_type())
                               : n.name();
  loc = NameLoc::get(b.getStringAttr(nodeLabel), fileLoc);
  SmallVector<Entry> ins;
  for (const std::string &name : n.input()) {
    if (name.empty()) {
      ins.push_back(Entry());
      continue;
    }
    auto it = values.find(name);
    if (it == values.end())
      return nodeError() << "input '" << name
                         << "' is not defined before this node (the graph "
                            "must be topologically sorted)",
             failure();
    ins.push_back(it->second);
  }
  SmallVector<Entry> outs(n.output_size());
  if (failed(dispatch(ins, outs)))
    return failure();
  for (int k = 0; k < n.output_size(); ++k) {
    const std::string &name = n.output(k);
    if (name.empty())
      continue;
    if (!outs[k]) {
      if (useCount.lookup(name) || graphOutputs.contains(name))
        return nodeError() << "output " << k << " ('" << name
                           << "') is not supported",
               failure();
      continue;
    }
    if (outs[k].cst && outs[k].cst->name.empty())
      outs[k].cst->name = name;
    if (opts.checkInferredShapes)
      computed.push_back(
          {name, SmallVector<int64_t>(shapeOf(outs[k])),
           "'" + node->op_type() + "' node '" + nodeLabel + "'"});
    values[name] = outs[k];
  }
  return success();
}

/// Static shape of a ValueInfo's tensor type, if every dimension is known.
std::optional<SmallVector<int64_t>> staticShape(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return std::nullopt;
  SmallVector<int64_t> s;
  for (const auto &d : type.tensor_type().shape().dim()) {
    if (!d.has_dim_value())
      return std::nullopt;
    s.push_back(d.dim_value());
  }
  return s;
}

/// Runs ONNX shape inference (with data propagation, on the static input
/// shapes) and reports the first value whose inferred static shape differs
/// from the one the importer computed.
LogicalResult Importer::crossCheckShapes(onnx::ModelProto &model) {
  onnx::GraphProto &g = *model.mutable_graph();
  g.clear_value_info();
  std::map<std::string, SmallVector<int64_t>> inferred;
  try {
    onnx::ShapeInferenceOptions sio(/*check_type=*/false, /*strict_mode=*/0,
                                    /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model,
                                       onnx::OpSchemaRegistry::Instance(), sio);
    for (const auto &vi : g.value_info())
      if (auto s = staticShape(vi.type()))
        inferred[vi.name()] = *s;
  } catch (const std::exception &) {
    // Best effort: the importer computes every shape itself.
    return success();
  }
  for (const ComputedShape &c : computed) {
    auto it = inferred.find(c.name);
    if (it != inferred.end() && llvm::ArrayRef<int64_t>(it->second) !=
                                    llvm::ArrayRef<int64_t>(c.shape)) {
      emitError(fileLoc) << c.node << ": computed shape " << shapeStr(c.shape)
                         << " for '" << c.name
                         << "' but ONNX shape inference infers "
                         << shapeStr(it->second);
      return failure();
    }
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run(onnx::ModelProto &model) {
  // Opset of the default domain.
  opset = -1;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset < 0) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX "
                          "domain";
    return {};
  }
  if (opset < kMinOpset || opset > kMaxOpset) {
    emitError(fileLoc) << "unsupported opset version " << opset
                       << " of the default ONNX domain; supported versions "
                          "are "
                       << kMinOpset << " to " << kMaxOpset;
    return {};
  }
  onnx::GraphProto &g = *model.mutable_graph();

  // Every node must be supported: report the first unsupported one and how
  // many kinds there are.
  {
    llvm::StringSet<> unsupported;
    const onnx::NodeProto *first = nullptr;
    for (const auto &n : g.node()) {
      bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
      if (defaultDomain && supportedOps().contains(n.op_type()))
        continue;
      std::string key = (defaultDomain ? "" : n.domain() + ".") + n.op_type();
      if (unsupported.insert(key).second && !first)
        first = &n;
    }
    if (first) {
      bool defaultDomain =
          first->domain().empty() || first->domain() == "ai.onnx";
      auto diag =
          emitError(fileLoc)
          << "unsupported operator '" << first->op_type() << "' (node '"
          << (first->name().empty() && first->output_size() ? first->output(0)
                                                            : first->name())
          << "', domain '" << (defaultDomain ? "ai.onnx" : first->domain())
          << "', opset " << opset << ")";
      if (unsupported.size() > 1) {
        SmallVector<std::string> others;
        for (const auto &k : unsupported.keys())
          others.push_back(k.str());
        llvm::sort(others);
        diag << "; unsupported operators in this model: "
             << llvm::join(others, ", ");
      }
      return {};
    }
  }

  llvm::StringSet<> initNames;
  for (const auto &t : g.initializer())
    initNames.insert(t.name());

  // Graph inputs: static shapes, with the user's overrides.
  llvm::StringMap<SmallVector<int64_t>> overrides;
  for (const auto &[name, shape] : opts.inputShapes)
    overrides[name] = shape;
  SmallVector<std::string> argNames;
  SmallVector<Type> argTypes;
  SmallVector<std::string> inputNames;
  for (const auto &vi : g.input())
    if (!initNames.contains(vi.name()))
      inputNames.push_back(vi.name());
  for (const auto &[name, shape] : opts.inputShapes) {
    if (!llvm::is_contained(inputNames, name)) {
      emitError(fileLoc) << "--input-shape names unknown input '" << name
                         << "'; the graph inputs are: "
                         << llvm::join(inputNames, ", ");
      return {};
    }
  }
  for (auto &vi : *g.mutable_input()) {
    if (initNames.contains(vi.name()))
      continue;
    if (!vi.type().has_tensor_type()) {
      emitError(fileLoc) << "graph input '" << vi.name() << "' is not a tensor";
      return {};
    }
    auto *tt = vi.mutable_type()->mutable_tensor_type();
    Type et = mlirElemType(ctx, tt->elem_type());
    if (!et) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has unsupported element type "
                         << dtName(tt->elem_type());
      return {};
    }
    auto ov = overrides.find(vi.name());
    if (ov != overrides.end()) {
      if (tt->has_shape() &&
          tt->shape().dim_size() != static_cast<int>(ov->second.size())) {
        emitError(fileLoc) << "--input-shape " << vi.name() << " has rank "
                           << ov->second.size() << " but the input has rank "
                           << tt->shape().dim_size();
        return {};
      }
      if (tt->has_shape())
        for (int d = 0; d < tt->shape().dim_size(); ++d) {
          const auto &dim = tt->shape().dim(d);
          if (dim.has_dim_value() && dim.dim_value() != ov->second[d]) {
            emitError(fileLoc)
                << "--input-shape " << vi.name() << " sets dimension " << d
                << " to " << ov->second[d] << " but the model fixes it to "
                << dim.dim_value();
            return {};
          }
        }
      auto *shape = tt->mutable_shape();
      shape->clear_dim();
      for (int64_t d : ov->second)
        shape->add_dim()->set_dim_value(d);
      overrides.erase(ov);
    }
    if (!tt->has_shape()) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has an unknown rank; give its shape with "
                            "--input-shape "
                         << vi.name() << "=<d0>x<d1>...";
      return {};
    }
    SmallVector<int64_t> shape;
    for (int d = 0; d < tt->shape().dim_size(); ++d) {
      const auto &dim = tt->shape().dim(d);
      if (!dim.has_dim_value() || dim.dim_value() < 0) {
        emitError(fileLoc)
            << "graph input '" << vi.name() << "' has dynamic dimension " << d
            << (dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "")
            << "; fix it with --input-shape " << vi.name() << "=<d0>x<d1>...";
        return {};
      }
      shape.push_back(dim.dim_value());
    }
    if (!validDims(shape)) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has an invalid shape";
      return {};
    }
    argNames.push_back(vi.name());
    argTypes.push_back(RankedTensorType::get(shape, et));
  }

  for (const auto &n : g.node())
    for (const auto &name : n.input())
      if (!name.empty())
        ++useCount[name];
  for (const auto &o : g.output()) {
    graphOutputs.insert(o.name());
    ++useCount[o.name()];
  }

  OwningOpRef<ModuleOp> module(ModuleOp::create(fileLoc));
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, fileLoc, opts.funcName,
                                   b.getFunctionType(argTypes, {}));
  if (!g.name().empty())
    func->setAttr("onnx.graph_name", b.getStringAttr(g.name()));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  for (auto [k, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(k, "onnx.name", b.getStringAttr(name));
    values[name].value = entry->getArgument(k);
  }
  for (auto &t : *g.mutable_initializer()) {
    if (!validDims(SmallVector<int64_t>(t.dims().begin(), t.dims().end()))) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' has invalid dimensions";
      return {};
    }
    if (!mlirElemType(ctx, t.data_type())) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' has unsupported element type "
                         << dtName(t.data_type());
      return {};
    }
    values[t.name()].cst = constFromProto(t, /*isInitializer=*/true);
  }

  for (auto &n : *g.mutable_node())
    if (failed(importNode(n)))
      return {};
  // Only graphs the importer accepted reach ONNX shape inference: on some
  // ill-typed graphs ONNX 1.12's inference crashes instead of reporting.
  if (opts.checkInferredShapes && failed(crossCheckShapes(model)))
    return {};

  loc = fileLoc;
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &o : g.output()) {
    auto it = values.find(o.name());
    if (it == values.end()) {
      emitError(fileLoc) << "graph output '" << o.name()
                         << "' is never computed";
      return {};
    }
    Value v = valueOf(it->second);
    if (!v)
      return {};
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [k, o] : llvm::enumerate(g.output()))
    func.setResultAttr(k, "onnx.name", b.getStringAttr(o.name()));
  return module;
}

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

OwningOpRef<ModuleOp> importONNX(StringRef buffer, StringRef bufferName,
                                 MLIRContext &context,
                                 const ImportOptions &options) {
  context
      .loadDialect<tfm::TfmDialect, mpc::MpcDialect, func::FuncDialect,
                   arith::ArithDialect>();
  Location fileLoc = FileLineColLoc::get(&context, bufferName, 0, 0);
  try {
    if (looksTextual(buffer, bufferName))
      return importText(buffer, bufferName, context, options);
    if (buffer.size() > static_cast<size_t>(INT_MAX)) {
      emitError(fileLoc) << "model is larger than 2 GB; models with "
                            "external data are not supported";
      return {};
    }
    auto model = std::make_unique<onnx::ModelProto>();
    google::protobuf::io::ArrayInputStream stream(buffer.data(), buffer.size());
    bool ok = parseBinary(stream, *model);
    return importParsed(*model, ok, false, bufferName, context, options);
  } catch (const std::exception &e) {
    emitError(fileLoc) << "ONNX import failed: " << e.what();
  } catch (...) {
    emitError(fileLoc) << "ONNX import failed with an unknown exception";
  }
  return {};
}

OwningOpRef<ModuleOp> importONNXFile(StringRef path, MLIRContext &context,
                                     const ImportOptions &options) {
  context
      .loadDialect<tfm::TfmDialect, mpc::MpcDialect, func::FuncDialect,
                   arith::ArithDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto readWhole = [&]() -> OwningOpRef<ModuleOp> {
    auto buf = llvm::MemoryBuffer::getFileOrSTDIN(
        path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (std::error_code ec = buf.getError()) {
      emitError(fileLoc) << "cannot open '" << path << "': " << ec.message();
      return {};
    }
    return importONNX((*buf)->getBuffer(), path, context, options);
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
  if (status.getSize() > static_cast<uint64_t>(INT_MAX)) {
    ::close(fd);
    emitError(fileLoc) << "model is larger than 2 GB; models with external "
                          "data are not supported";
    return {};
  }
  // Binary: stream the file through protobuf in 1 MiB chunks, so that peak
  // memory is the parsed model (whose raw_data strings then move into the
  // blobs) rather than the file plus the parsed model.
  try {
    google::protobuf::io::FileInputStream stream(fd, 1 << 20);
    stream.SetCloseOnDelete(true);
    auto model = std::make_unique<onnx::ModelProto>();
    bool ok = parseBinary(stream, *model) && stream.GetErrno() == 0;
    return importParsed(*model, ok, false, path, context, options);
  } catch (const std::exception &e) {
    emitError(fileLoc) << "ONNX import failed: " << e.what();
  } catch (...) {
    emitError(fileLoc) << "ONNX import failed with an unknown exception";
  }
  return {};
}

void registerONNXImportTranslation() {
  static llvm::cl::list<std::string> inputShapes(
      "input-shape",
      llvm::cl::desc("Static shape of a graph input for --import-onnx: "
                     "name=1x32 (repeatable)"),
      llvm::cl::value_desc("name=d0xd1..."));
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
