//===- OnnxTensors.cpp - ONNX tensors: decoding and materialisation -------===//
//
// An ONNX tensor is decoded once, lazily, into the evaluator's elements
// (`double` for floats, `int64_t` for integers and bools) by one template
// over the storage type; `arith.constant`s are made only where a tfm op
// consumes a constant, marked with its role. Owner constants (float
// initializers) are always `dense_resource` blobs keyed by the initializer's
// name, so that constant uniquing can never merge them with an equal public
// constant; a blob takes over the protobuf's raw_data string without copying.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "umbra/Dialect/Tfm/IR/TfmRoles.h"
#include "umbra/runtime/Program.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Alignment.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <unistd.h>

using namespace mlir;

namespace umbra::onnx_import {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

namespace {
/// One row per ONNX element type the importer reads: the width of its MLIR
/// element type (i1 for BOOL) and, for floats, that type and the APFloat
/// semantics. Integers come signed before unsigned: an MLIR integer type
/// maps back to the signed ONNX type.
struct ElementTypeInfo {
  int32_t dt;
  unsigned bits;
  FloatType (*floatType)(MLIRContext *);
  const llvm::fltSemantics &(*semantics)();
};

template <typename FloatTy> FloatType getFloat(MLIRContext *ctx) {
  return FloatTy::get(ctx);
}

const ElementTypeInfo kElementTypes[] = {
    {TP::FLOAT, 32, &getFloat<Float32Type>, &llvm::APFloat::IEEEsingle},
    {TP::DOUBLE, 64, &getFloat<Float64Type>, &llvm::APFloat::IEEEdouble},
    {TP::FLOAT16, 16, &getFloat<Float16Type>, &llvm::APFloat::IEEEhalf},
    {TP::BFLOAT16, 16, &getFloat<BFloat16Type>, &llvm::APFloat::BFloat},
    {TP::BOOL, 1, nullptr, nullptr},
    {TP::INT8, 8, nullptr, nullptr},
    {TP::UINT8, 8, nullptr, nullptr},
    {TP::INT16, 16, nullptr, nullptr},
    {TP::UINT16, 16, nullptr, nullptr},
    {TP::INT32, 32, nullptr, nullptr},
    {TP::UINT32, 32, nullptr, nullptr},
    {TP::INT64, 64, nullptr, nullptr},
    {TP::UINT64, 64, nullptr, nullptr},
};

const ElementTypeInfo *elementTypeInfo(int32_t t) {
  for (const ElementTypeInfo &info : kElementTypes)
    if (info.dt == t)
      return &info;
  return nullptr;
}
} // namespace

bool isFloatDT(int32_t t) {
  const ElementTypeInfo *info = elementTypeInfo(t);
  return info && info->floatType;
}

bool isIntDT(int32_t t) {
  const ElementTypeInfo *info = elementTypeInfo(t);
  return info && !info->floatType && t != TP::BOOL;
}

std::string dtName(int32_t t) {
  if (!TP::DataType_IsValid(t))
    return "type#" + std::to_string(t);
  return TP::DataType_Name(static_cast<TP::DataType>(t));
}

size_t byteWidth(int32_t t) {
  const ElementTypeInfo *info = elementTypeInfo(t);
  return info ? (info->bits + 7) / 8 : 1;
}

Type mlirElemType(MLIRContext *ctx, int32_t t) {
  const ElementTypeInfo *info = elementTypeInfo(t);
  if (!info)
    return {};
  if (info->floatType)
    return info->floatType(ctx);
  return IntegerType::get(ctx, info->bits);
}

int32_t dtOfType(Type t) {
  for (const ElementTypeInfo &info : kElementTypes)
    if (info.floatType ? info.floatType(t.getContext()) == t
                       : t.isInteger(info.bits))
      return info.dt;
  return TP::UNDEFINED;
}

static const llvm::fltSemantics &semanticsOf(int32_t t) {
  const ElementTypeInfo *info = elementTypeInfo(t);
  return info && info->semantics ? info->semantics()
                                 : llvm::APFloat::IEEEsingle();
}

static llvm::APFloat doubleToAPFloat(int32_t t, double v) {
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

std::string beyondRuntimeLimits(llvm::ArrayRef<int64_t> shape) {
  if (shape.size() > rt::kMaxRank)
    return "rank " + std::to_string(shape.size()) +
           " is beyond the runtime's limit of " + std::to_string(rt::kMaxRank);
  int64_t n = 1;
  for (auto [k, d] : llvm::enumerate(shape)) {
    if (d > rt::kMaxDim)
      return "dimension " + std::to_string(k) + " (" + std::to_string(d) +
             ") is beyond the runtime's limit of " +
             std::to_string(rt::kMaxDim);
    if (d != 0 && n > rt::kMaxElements / d)
      return shapeStr(shape) + " has more elements than the runtime's limit "
                               "of " +
             std::to_string(rt::kMaxElements);
    n *= d;
  }
  return "";
}

std::string notAFileName(llvm::StringRef name) {
  if (rt::isPlainFileName(name.str()))
    return "";
  if (name.empty())
    return "is empty";
  if (name.size() > 255)
    return "is " + std::to_string(name.size()) +
           " bytes long (at most 255: it becomes a file name)";
  return "is not a plain file name (no '/', '\\', NUL, '.' or '..': "
         "outputs are written as NAME.npy)";
}

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

std::string sanitizeKey(StringRef name) {
  std::string s;
  for (char ch : name)
    s += (llvm::isAlnum(ch) || ch == '_' || ch == '.') ? ch : '_';
  if (s.empty() || llvm::isDigit(s[0]) || s[0] == '.')
    s = "w_" + s;
  return s;
}

//===----------------------------------------------------------------------===//
// Decoding: one template over the storage type
//===----------------------------------------------------------------------===//

namespace {

/// Element `v` of ONNX type `dt`, as stored (raw bytes or a typed field).
template <typename T, typename S>
T fromStorage(int32_t dt, S v) {
  if (dt == TP::FLOAT16 || dt == TP::BFLOAT16) {
    llvm::APFloat f(semanticsOf(dt), llvm::APInt(16, uint16_t(v)));
    bool loses;
    f.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
              &loses);
    return T(f.convertToDouble());
  }
  if (dt == TP::BOOL)
    return T(v != 0);
  return T(v);
}

/// The `n` elements `load(k)` of a tensor of ONNX type `dt`.
template <typename Load>
ceval::Elements decodeElements(int32_t dt, int64_t n, Load load) {
  auto fill = [&](auto out) {
    using T = typename decltype(out)::value_type;
    out.resize(n);
    for (int64_t k = 0; k < n; ++k)
      out[k] = fromStorage<T>(dt, load(k));
    return ceval::Elements(std::move(out));
  };
  return isFloatDT(dt) ? fill(std::vector<double>())
                       : fill(std::vector<int64_t>());
}

/// Calls `f` with a value of the C++ type that stores one element of `dt`
/// in raw_data (little-endian, as ONNX specifies).
template <typename F>
ceval::Elements withRawStorage(int32_t dt, F f) {
  switch (dt) {
  case TP::FLOAT:
    return f(float{});
  case TP::DOUBLE:
    return f(double{});
  case TP::FLOAT16:
  case TP::BFLOAT16:
  case TP::UINT16:
    return f(uint16_t{});
  case TP::INT64:
  case TP::UINT64:
    return f(int64_t{});
  case TP::INT32:
    return f(int32_t{});
  case TP::UINT32:
    return f(uint32_t{});
  case TP::INT16:
    return f(int16_t{});
  case TP::INT8:
    return f(int8_t{});
  default: // UINT8, BOOL
    return f(uint8_t{});
  }
}

} // namespace

ConstPtr makeConst(int32_t dtype, ceval::Tensor value, Role role) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = dtype;
  c->shape = value.shape;
  c->value = std::move(value);
  c->decoded = true;
  c->role = role;
  return c;
}

ConstPtr Importer::scalarConst(int32_t dtype, double v) {
  ceval::Tensor t = ceval::Tensor::zeros({}, isFloatDT(dtype));
  if (t.isFloat())
    std::get<0>(t.data)[0] = v;
  else
    std::get<1>(t.data)[0] = static_cast<int64_t>(v);
  return literal(makeConst(dtype, std::move(t)));
}

StringRef ruleOrigin(int32_t dtype) {
  return isFloatDT(dtype)  ? mpc::kLiteralOrigin
         : isBoolDT(dtype) ? mpc::kBoolOrigin
                           : mpc::kIntegerOrigin;
}

ConstPtr Importer::literal(ConstPtr c) {
  c->sources = {{c->name.empty() ? nodeLabel : c->name,
                 ruleOrigin(c->dtype).str()}};
  return c;
}

mpc::SourceMap Importer::sourcesOf(Ins ins) {
  mpc::SourceMap m;
  for (const Entry &e : ins)
    if (e && e.cst)
      mpc::mergeSources(m, e.cst->sources);
  return m;
}

ConstPtr Importer::constFromProto(TP &t, Role role) {
  auto c = std::make_shared<ConstTensor>();
  c->dtype = t.data_type();
  c->shape.assign(t.dims().begin(), t.dims().end());
  c->proto = &t;
  c->name = t.name();
  c->role = role;
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
  if (failed(mapExternalData(c)))
    return failure();
  const TP *p = c.proto;
  c.value.shape = c.shape;
  llvm::ArrayRef<char> raw;
  if (c.released)
    raw = c.releasedBytes;
  else if (p && p->has_raw_data())
    raw = llvm::ArrayRef<char>(p->raw_data().data(), p->raw_data().size());
  if (c.released || (p && p->has_raw_data())) {
    size_t w = byteWidth(c.dtype);
    if (n > static_cast<int64_t>(raw.size()) ||
        raw.size() != static_cast<size_t>(n) * w)
      return fail("raw_data has " + llvm::Twine(raw.size()) +
                  " bytes, expected " + llvm::Twine(n * w) + " for shape " +
                  shapeStr(c.shape) + " of " + dtName(c.dtype));
    c.value.data = withRawStorage(c.dtype, [&](auto tag) {
      using S = decltype(tag);
      return decodeElements(c.dtype, n, [&](int64_t k) {
        S v;
        std::memcpy(&v, raw.data() + k * sizeof(S), sizeof(S));
        return v;
      });
    });
    c.decoded = true;
    return success();
  }
  if (!p) {
    if (n == 0) {
      c.value = ceval::Tensor::zeros(c.shape, c.isFloat());
      c.decoded = true;
      return success();
    }
    return fail("has no data");
  }
  // Typed fields: ONNX stores 16-bit floats, bools and small integers in
  // int32_data, and unsigned 32/64-bit integers in uint64_data.
  auto fromField = [&](const auto &field) -> LogicalResult {
    if (field.size() != n)
      return fail("has " + llvm::Twine(field.size()) + " values, expected " +
                  llvm::Twine(n) + " for shape " + shapeStr(c.shape));
    c.value.data =
        decodeElements(c.dtype, n, [&](int64_t k) { return field.Get(k); });
    c.decoded = true;
    return success();
  };
  switch (c.dtype) {
  case TP::FLOAT:
    return fromField(p->float_data());
  case TP::DOUBLE:
    return fromField(p->double_data());
  case TP::INT64:
    return fromField(p->int64_data());
  case TP::UINT32:
  case TP::UINT64:
    return fromField(p->uint64_data());
  default:
    return fromField(p->int32_data());
  }
}

LogicalResult Importer::decodeAll(Ins ins) {
  for (const Entry &e : ins)
    if (e && failed(decode(*e.cst)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Materialisation
//===----------------------------------------------------------------------===//

TypedAttr Importer::makeResourceAttr(ConstTensor &c, RankedTensorType ty) {
  int64_t n = c.numElements();
  size_t w = byteWidth(c.dtype);
  std::string key = sanitizeKey(c.name.empty() ? "cst" : c.name);
  if (failed(mapExternalData(c)))
    return {};
  TP *p = c.proto;
  // External data: the blob points into the mapped file (no copy), unless
  // the slice is not aligned for the element type.
  if (c.mapping &&
      c.releasedBytes.size() == static_cast<size_t>(n) * w &&
      llvm::isAddrAligned(llvm::Align(w), c.releasedBytes.data())) {
    std::shared_ptr<llvm::MemoryBuffer> keep = c.mapping;
    AsmResourceBlob blob(
        c.releasedBytes, w, [keep](void *, size_t, size_t) mutable {
          keep.reset();
        },
        /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(ty, key, std::move(blob));
  }
  if (c.mapping && c.dtype == TP::FLOAT)
    return DenseResourceElementsAttr::get(
        ty, key,
        HeapAsmResourceBlob::allocateAndCopyWithAlign(c.releasedBytes, w));
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
  // Only float constants become blobs: encode the decoded doubles.
  const auto &f = std::get<std::vector<double>>(c.value.data);
  std::vector<char> bytes(n * w);
  for (int64_t k = 0; k < n; ++k) {
    if (c.dtype == TP::FLOAT) {
      float v = static_cast<float>(f[k]);
      std::memcpy(&bytes[k * w], &v, 4);
    } else if (c.dtype == TP::DOUBLE) {
      std::memcpy(&bytes[k * w], &f[k], 8);
    } else {
      uint16_t v = static_cast<uint16_t>(
          doubleToAPFloat(c.dtype, f[k]).bitcastToAPInt().getZExtValue());
      std::memcpy(&bytes[k * w], &v, 2);
    }
  }
  return DenseResourceElementsAttr::get(
      ty, key,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          llvm::ArrayRef<char>(bytes.data(), bytes.size()), w));
}

LogicalResult Importer::mapExternalData(ConstTensor &c) {
  TP *p = c.proto;
  if (!p || c.released || p->data_location() != TP::EXTERNAL)
    return success();
  auto fail = [&](const llvm::Twine &msg) {
    emitError(fileLoc) << "tensor '" << c.name << "': external data: " << msg;
    return failure();
  };
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : p->external_data()) {
    auto number = [&](int64_t &into) {
      if (StringRef(kv.value()).getAsInteger(10, into) || into < 0) {
        (void)fail("invalid " + kv.key() + " '" + kv.value() + "'");
        return false;
      }
      return true;
    };
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" && !number(offset))
      return failure();
    else if (kv.key() == "length" && !number(length))
      return failure();
  }
  if (location.empty())
    return fail("no location");
  // The location is a relative path inside the model's folder: no absolute
  // path, no '..' component, no NUL, and no symbolic link out of it.
  namespace path = llvm::sys::path;
  if (location.find('\0') != std::string::npos || path::is_absolute(location) ||
      location[0] == '/' || location[0] == '\\')
    return fail("location '" + location +
                "' is not a relative path inside the model's folder");
  for (auto it = path::begin(location), e = path::end(location); it != e; ++it)
    if (*it == "..")
      return fail("location '" + location +
                  "' leaves the model's folder ('..')");
  StringRef dirName = path::parent_path(sourceName);
  SmallString<256> dir(dirName.empty() ? "." : dirName);
  SmallString<256> file(dir);
  path::append(file, location);
  SmallString<256> realDir, realFile;
  if (std::error_code ec = llvm::sys::fs::real_path(file, realFile))
    return fail("cannot open '" + file + "': " + ec.message());
  if (llvm::sys::fs::real_path(dir, realDir) ||
      !StringRef(realFile).starts_with((realDir + "/").str()))
    return fail("location '" + location + "' resolves to '" + realFile +
                "', outside the model's folder");
  int64_t n = c.numElements();
  size_t w = byteWidth(c.dtype);
  uint64_t want = static_cast<uint64_t>(n) * w;
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(realFile, fd))
    return fail("cannot open '" + file + "': " + ec.message());
  llvm::sys::fs::file_status st;
  std::error_code ec = llvm::sys::fs::status(fd, st);
  llvm::scope_exit closeFd([&] { ::close(fd); });
  if (ec || st.type() != llvm::sys::fs::file_type::regular_file)
    return fail("'" + file + "' is not a regular file");
  uint64_t size = st.getSize();
  if (length < 0) {
    if (static_cast<uint64_t>(offset) > size)
      return fail("offset " + llvm::Twine(offset) + " is beyond the end of '" +
                  file + "' (" + llvm::Twine(size) + " bytes)");
    length = size - offset;
  }
  if (static_cast<uint64_t>(length) != want)
    return fail("length " + llvm::Twine(length) + " bytes, expected " +
                llvm::Twine(want) + " for shape " + shapeStr(c.shape) + " of " +
                dtName(c.dtype));
  if (static_cast<uint64_t>(offset) + want > size)
    return fail("'" + file + "' has " + llvm::Twine(size) +
                " bytes, too short for " + llvm::Twine(want) +
                " bytes at offset " + llvm::Twine(offset));
  if (want == 0) {
    c.released = true;
    c.releasedBytes = {};
    return success();
  }
  // Memory-mapped (the file is never read whole or copied).
  auto buf = llvm::MemoryBuffer::getOpenFileSlice(fd, file, want, offset);
  if (!buf)
    return fail("cannot map '" + file + "': " + buf.getError().message());
  c.mapping = std::shared_ptr<llvm::MemoryBuffer>(std::move(*buf));
  c.released = true;
  c.releasedBytes = llvm::ArrayRef<char>(c.mapping->getBufferStart(),
                                         c.mapping->getBufferSize());
  return success();
}

TypedAttr Importer::makeDenseAttr(ConstTensor &c, RankedTensorType ty) {
  if (failed(decode(c)))
    return {};
  if (c.isFloat()) {
    const auto &f = std::get<std::vector<double>>(c.value.data);
    if (c.dtype == TP::DOUBLE)
      return DenseElementsAttr::get(ty, llvm::ArrayRef<double>(f));
    if (c.dtype == TP::FLOAT) {
      SmallVector<float> v(f.begin(), f.end());
      return DenseElementsAttr::get(ty, llvm::ArrayRef<float>(v));
    }
    SmallVector<llvm::APFloat> v;
    for (double x : f)
      v.push_back(doubleToAPFloat(c.dtype, x));
    return DenseElementsAttr::get(ty, v);
  }
  const std::vector<int64_t> &i = c.ints();
  if (c.dtype == TP::BOOL) {
    SmallVector<bool> v(i.begin(), i.end());
    return DenseElementsAttr::get(ty, llvm::ArrayRef<bool>(v));
  }
  unsigned width = ty.getElementType().getIntOrFloatBitWidth();
  SmallVector<llvm::APInt> v;
  v.reserve(i.size());
  for (int64_t x : i)
    v.push_back(llvm::APInt(width, static_cast<uint64_t>(x),
                            /*isSigned=*/true, /*implicitTrunc=*/true));
  return DenseElementsAttr::get(ty, v);
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
  bool blob = c.isOwner() ||
              (c.isFloat() && c.numElements() > opts.resourceThreshold);
  TypedAttr attr = blob ? makeResourceAttr(c, ty) : makeDenseAttr(c, ty);
  if (!attr)
    return {};
  Location cloc =
      c.name.empty() ? loc
                     : Location(NameLoc::get(b.getStringAttr(c.name), fileLoc));
  auto cst = arith::ConstantOp::create(b, cloc, ty, attr);
  tfm::setRole(cst, c.isOwner() ? mpc::Visibility::owner
                                : mpc::Visibility::public_);
  // A constant a handler made without saying where from: computed from the
  // current node's constant inputs, if it has any (never a guess that it
  // is a literal), else from the graph's structure alone.
  if (c.sources.empty())
    c.sources = sourcesOf(currentIns);
  if (c.sources.empty())
    c.sources = {{c.name.empty() ? nodeLabel : c.name,
                  ruleOrigin(c.dtype).str()}};
  mpc::setSources(cst, mpc::toSources(ctx, c.sources));
  c.materialized = cst;
  return c.materialized;
}

//===----------------------------------------------------------------------===//
// Reading constant operands
//===----------------------------------------------------------------------===//

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
  return SmallVector<int64_t>(e.cst->ints().begin(), e.cst->ints().end());
}

FailureOr<SmallVector<int64_t>> Importer::listArg(Ins in, unsigned index,
                                                  StringRef name,
                                                  bool fromInput,
                                                  bool required) {
  if (!fromInput)
    return attrInts(name).value_or(SmallVector<int64_t>());
  if (in.size() > index && in[index])
    return constInts(in[index], name);
  if (required) {
    nodeError() << "expects " << name << " as input " << index;
    return failure();
  }
  return SmallVector<int64_t>();
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

LogicalResult Importer::evalError(ceval::Status s) {
  if (s == ceval::Status::Ok)
    return success();
  if (s == ceval::Status::DivisionByZero)
    return nodeError() << "integer division by zero in a constant computation",
           failure();
  return nodeError() << "is not defined on these constant inputs", failure();
}

} // namespace umbra::onnx_import
