//===- ExportUmbra.cpp - mpc IR to the runtime's artifact -----------------===//
//
// The artifact is the contract in runtime/schema/program.fbs: the exporter
// builds the program section with the runtime's generated FlatBuffers code,
// and the container around it (header, blob layout, hashes) is written by
// the runtime's own writer (umbra/runtime/Artifact.h), the one the loader
// reads with. The writer reports errors as exceptions (this directory is
// built with them); they are caught right at each call and become
// diagnostics.
//
// Visibility is kept, not erased: an op on one party's plaintext (a client
// or owner value, possibly with public ones) is exported as a private
// instruction, which the runtime runs at that party alone, in plaintext,
// with no messages and no dealer material (MPC minimisation, Marill). That
// covers the client's token one-hot encoding, a client that computes a
// whole model on public weights, and the owner preparing its weights
// (once per deployment: the runtime runs work on constants there).
// `mpc.share` is where private data crosses over; a value shared twice is
// shared once. The lowering is the only place that decides where to share:
// the mpc dialect lets an op combine a private value with shared data (its
// join makes the result shared), but the exporter refuses such an unshared
// mix with a diagnostic rather than repairing it (and the runtime's loader
// verifies the same again).
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/Umbra/ExportUmbra.h"

#include "ExportNames.h"

#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Mpc/IR/MpcOps.h"
#include "umbra/Dialect/Mpc/IR/Provenance.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"
#include "umbra/Support/ConstantValues.h"
#include "umbra/runtime/Artifact.h"
#include "umbra/runtime/Program.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include "umbra/runtime/Isa.h"

#include <cstdio>
#include <cstring>

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {

struct Slot {
  std::string name;
  SmallVector<int64_t> shape;
  int frac = 0;
  fb::Visibility vis = fb::Visibility::Public;
  int weight = -1;
  fb::ElemType elemType = fb::ElemType::Real;
  /// A decode step's extent along contextAxis: scale * P + offset.
  int contextAxis = -1;
  int64_t contextScale = 0, contextOffset = 0;
};

struct Instr {
  /// The opcode and its typed attributes (the schema's union).
  rt::Attrs attrs;
  SmallVector<int32_t> in;
  int32_t out;
  std::string name;
};

template <typename T> rt::Attrs attrsOf(T t) {
  return rt::makeAttrs(std::move(t));
}

/// Runs `f`, a call into the runtime's artifact writer, and turns the
/// runtime's error into a diagnostic at `op`.
template <typename F> LogicalResult runtimeCall(Operation *op, F f) {
  try {
    f();
    return success();
  } catch (const rt::Error &e) {
    return op->emitError("cannot write the artifact: ") << e.what();
  }
}

fb::Visibility toFb(Visibility v) {
  switch (v) {
  case Visibility::public_:
    return fb::Visibility::Public;
  case Visibility::client:
    return fb::Visibility::Client;
  case Visibility::owner:
    return fb::Visibility::Owner;
  case Visibility::shared:
    return fb::Visibility::Shared;
  }
  return fb::Visibility::Shared;
}

bool isPrivate(fb::Visibility v) {
  return v == fb::Visibility::Client || v == fb::Visibility::Owner;
}

int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

LogicalResult unsupported(Operation *op) {
  return op->emitOpError("has no runtime instruction; the artifact exporter "
                         "supports the mpc dialect's ops, arith.constant and "
                         "func.return (run convert-tfm-to-mpc first)");
}

struct BlobOrigin {
  rt::Origin origin;
  std::string source;
};

/// The artifact origin of the blob of `cst`, encoded by `op` as `vis`: a
/// public blob needs a provenance that names no owner source, and the
/// constant's declared role must agree with its encoding; an error names
/// the constant and the source.
FailureOr<BlobOrigin> blobOrigin(EncodeOp op, arith::ConstantOp cst,
                                 Visibility vis) {
  DictionaryAttr sources = getSources(cst.getOperation());
  std::string names, marked;
  if (sources)
    for (NamedAttribute e : sources) {
      auto how = dyn_cast<StringAttr>(e.getValue());
      std::string entry = e.getName().str();
      if (how && isMarkedPublic(how.getValue()))
        marked += (marked.empty() ? "" : ", ") + entry + " (" + how.str() + ")";
      names += (names.empty() ? "" : ", ") + entry;
    }
  if (vis == Visibility::owner)
    return BlobOrigin{rt::Origin::Owner, names};
  std::string name = locName(cst.getLoc());
  if (name.empty())
    name = "(unnamed)";
  auto role = cst->getAttrOfType<VisibilityAttr>(kVisibilityAttrName);
  if (!role || role.getValue() != Visibility::public_)
    return op.emitOpError("encodes the constant '")
           << name << "' as public, but the constant is declared "
           << (role ? stringifyVisibility(role.getValue()) : "with no role")
           << "; the artifact would publish it";
  if (std::string why = checkPublicProvenance(cst); !why.empty())
    return op.emitOpError("would write the public constant '")
           << name << "' (" << shapeString(cast<ShapedType>(cst.getType()).getShape())
           << ") as a public blob, but it " << why
           << "; refusing to publish it";
  if (!marked.empty())
    return BlobOrigin{rt::Origin::MarkedPublic, marked};
  return BlobOrigin{rt::Origin::PublicByRule, names};
}

class Exporter {
public:
  /// Weights go to `blobs`; those of an earlier program in it (below
  /// `reuseBelow`) are shared rather than copied.
  Exporter(func::FuncOp func, rt::ArtifactWriter &blobs, size_t reuseBelow = 0)
      : func(func), blobs(blobs), reuseBelow(reuseBelow) {}

  LogicalResult run();
  /// The program table (weights: the writer's, or none for a program
  /// nested in another whose weights it indexes).
  flatbuffers::Offset<fb::Program>
  build(flatbuffers::FlatBufferBuilder &fbb, bool withWeights,
        flatbuffers::Offset<fb::Generation> generation = 0);
  LogicalResult write(raw_ostream &os, bool ownerBlobs);

  func::FuncOp func;
  std::vector<Slot> slots;
  std::vector<Instr> instrs;
  std::vector<int> outputs;

private:
  //===--- slots and instructions
  //-------------------------------------------===//

  int newSlot(std::string name, ArrayRef<int64_t> shape, int frac,
              fb::Visibility vis) {
    Slot s;
    s.name = name.empty() ? "%" + std::to_string(slots.size()) : name;
    s.shape.assign(shape.begin(), shape.end());
    s.frac = frac;
    s.vis = vis;
    slots.push_back(std::move(s));
    return static_cast<int>(slots.size() - 1);
  }

  int emit(rt::Attrs attrs, ArrayRef<int> in, ArrayRef<int64_t> shape,
           int frac, fb::Visibility vis) {
    int out = newSlot("", shape, frac, vis);
    Instr i;
    i.attrs = std::move(attrs);
    i.in.assign(in.begin(), in.end());
    i.out = out;
    i.name = currentName;
    instrs.push_back(std::move(i));
    return out;
  }

  /// The runtime's output rule for `attrs` on slots `in`, with the result
  /// type `t` as the declared output: a diagnostic instead of an artifact
  /// the runtime would reject.
  FailureOr<int> emitChecked(Operation *op, rt::Attrs attrs, ArrayRef<int> in,
                             MpcTensorType t);
  /// Any mpc op whose mnemonic names a runtime instruction: its attributes
  /// map to the schema fields of the same name.
  LogicalResult exportGeneric(Operation *op);

  /// Who may see a combination of slots: the dialect's join
  /// (mpc::joinVisibility), for operands that `operands` accepted.
  fb::Visibility joinOf(ArrayRef<int> in) const {
    Visibility vis = Visibility::public_;
    for (int s : in) {
      Visibility v = Visibility::shared;
      for (Visibility c : {Visibility::public_, Visibility::client,
                           Visibility::owner})
        if (toFb(c) == slots[s].vis)
          v = c;
      FailureOr<Visibility> j = joinVisibility(vis, v);
      vis = succeeded(j) ? *j : Visibility::shared;
    }
    return toFb(vis);
  }

  /// A slot shared by an explicit `mpc.share` (once; the shares are reused).
  int shared(int s) {
    if (!isPrivate(slots[s].vis))
      return s;
    auto it = sharedOf.find(s);
    if (it != sharedOf.end())
      return it->second;
    const Slot &src = slots[s];
    int sh = emit(attrsOf(fb::ShareT{}), {s}, src.shape, src.frac,
                  fb::Visibility::Shared);
    sharedOf[s] = sh;
    return sh;
  }

  /// The operands of one runtime instruction, as they are: a private value
  /// meeting shared data or the other party's value must have been shared
  /// by the lowering (`mpc.share`); such a mix is refused, not repaired.
  FailureOr<SmallVector<int>> operands(Operation *op, ArrayRef<int> in) {
    bool anyShared = false, client = false, owner = false;
    for (int s : in) {
      anyShared |= slots[s].vis == fb::Visibility::Shared;
      client |= slots[s].vis == fb::Visibility::Client;
      owner |= slots[s].vis == fb::Visibility::Owner;
    }
    if ((anyShared && (client || owner)) || (client && owner))
      return op->emitOpError("combines ")
             << (client && owner ? "a client value with an owner value"
                                 : "a private value with shared data")
             << " without mpc.share; the lowering (convert-tfm-to-mpc) "
                "shares a private value where it meets others' data, and "
                "the exporter does not repair IR";
    return SmallVector<int>(in);
  }

  FailureOr<int> slotOf(Operation *user, Value v) {
    auto it = slotOfValue.find(v);
    if (it != slotOfValue.end())
      return it->second;
    InFlightDiagnostic d = user->emitOpError("uses a value the exporter cannot "
                                             "represent: ");
    if (Operation *def = v.getDefiningOp())
      d << "the result of '" << def->getName() << "'";
    else
      d << "a function argument of type " << v.getType();
    d << " (the artifact holds mpc tensors, encoded constants and inputs)";
    return failure();
  }

  //===--- pieces
  //----------------------------------------------------------===//

  LogicalResult exportArguments();
  LogicalResult exportOp(Operation *op);
  LogicalResult exportEncode(EncodeOp op);
  LogicalResult exportConstant(EncodeOp op, arith::ConstantOp cst);
  /// Refuses a constant an element of which the runtime could not encode.
  LogicalResult checkRange(EncodeOp op, arith::ConstantOp cst,
                           ArrayRef<uint8_t> bytes, rt::DType dtype);
  LogicalResult exportMatMul(MatMulOp op);
  LogicalResult exportOneHot(OneHotOp op);
  LogicalResult exportSelect(SelectOp op);
  LogicalResult exportResults(func::ReturnOp ret);

  /// The weight blobs (borrowed from attributes where possible).
  rt::ArtifactWriter &blobs;
  size_t reuseBelow;
  DenseSet<size_t> reused;
  DenseMap<Value, int> slotOfValue;
  DenseMap<int, int> sharedOf;
  /// Slots of integer arguments (token ids), before any one-hot encoding.
  DenseMap<Value, int> idSlots;
  std::string currentName;
  int fracBits = -1;
};

LogicalResult Exporter::exportArguments() {
  for (BlockArgument arg : func.getArguments()) {
    auto nameAttr =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name");
    std::string name =
        nameAttr ? nameAttr.str() : "arg" + std::to_string(arg.getArgNumber());
    if (!rt::isPlainFileName(name))
      return func.emitError("argument #")
             << arg.getArgNumber() << " is named '" << name
             << "', which is not a plain file name (inputs are given by name)";
    auto ty = dyn_cast<RankedTensorType>(arg.getType());
    if (!ty || !ty.hasStaticShape())
      return func.emitError("argument #")
             << arg.getArgNumber() << " has type " << arg.getType()
             << "; the artifact needs statically shaped tensors";
    bool encoded = llvm::any_of(arg.getUsers(), llvm::IsaPred<EncodeOp>);
    if (isa<IntegerType>(ty.getElementType()) && !encoded) {
      if (arg.use_empty())
        continue; // unused input (EyeLike reads only its shape)
      // Token ids: plaintext at their holder, consumed by mpc.one_hot.
      Visibility vis = Visibility::client;
      for (Operation *user : arg.getUsers()) {
        auto oneHot = dyn_cast<OneHotOp>(user);
        if (!isa_and_present<MpcDialect>(user->getDialect()) &&
            !isa<arith::ArithDialect>(user->getDialect()))
          return unsupported(user);
        if (!oneHot)
          return user->emitOpError("uses the integer argument '")
                 << name << "'; integer inputs may only feed mpc.one_hot";
        vis = cast<MpcTensorType>(oneHot.getType()).getVisibility();
      }
      if (vis == Visibility::shared)
        return func.emitError("integer argument '")
               << name << "' is one-hot encoded as a shared value; its "
               << "holder must be client, owner or public";
      idSlots[arg] = newSlot(name, ty.getShape(), 0, toFb(vis));
      continue;
    }
    if (!isa<FloatType, IntegerType>(ty.getElementType()))
      return func.emitError("argument '")
             << name << "' has element type " << ty.getElementType()
             << "; only float and integer inputs are supported";
    // Real inputs, and integers used as values (frac 0), are encoded by
    // their holder: one input slot per argument.
    EncodeOp encode;
    for (Operation *user : arg.getUsers()) {
      auto e = dyn_cast<EncodeOp>(user);
      if (!isa<MpcDialect>(user->getDialect()))
        return unsupported(user);
      if (!e)
        return user->emitOpError("uses the argument '")
               << name << "' directly; an input used as a value must go "
               << "through mpc.encode only";
      if (encode && encode.getType() != e.getType())
        return user->emitOpError("encodes the argument '")
               << name << "' a second time with another type";
      encode = e;
    }
    if (!encode)
      continue; // unused input
    auto t = cast<MpcTensorType>(encode.getType());
    if (t.getVisibility() == Visibility::shared && !isStateArgument(arg))
      return encode.emitOpError("produces a shared value from an argument");
    int s = newSlot(name, t.getShape(), t.getFrac(), toFb(t.getVisibility()));
    for (Operation *user : arg.getUsers())
      slotOfValue[user->getResult(0)] = s;
    if (fracBits < 0 && isa<FloatType>(ty.getElementType()))
      fracBits = static_cast<int>(t.getFrac());
  }
  return success();
}

LogicalResult Exporter::exportConstant(EncodeOp op, arith::ConstantOp cst) {
  auto t = cast<MpcTensorType>(op.getType());
  Visibility vis = t.getVisibility();
  if (vis != Visibility::public_ && vis != Visibility::owner)
    return op.emitOpError("encodes a constant as ")
           << stringifyVisibility(vis)
           << "; constants are public or the model owner's weights";
  auto ty = cast<RankedTensorType>(cst.getType());
  bool owner = vis == Visibility::owner;
  // Fail-closed provenance: a public blob reaches every role, so its value
  // must be shown to come from no owner weight (Provenance.h).
  FailureOr<BlobOrigin> origin = blobOrigin(op, cst, vis);
  if (failed(origin))
    return failure();
  // Bytes borrowed from a resource blob (alive as long as the module), or
  // owned.
  ArrayRef<char> borrowed;
  std::vector<uint8_t> owned;
  rt::DType dtype;
  int64_t n = ty.getNumElements();
  Attribute value = cst.getValue();
  // f32 weights keep their bytes (the runtime encodes them at load time).
  if (ty.getElementType().isF32()) {
    dtype = rt::DType::F32;
    if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
      AsmResourceBlob *b = res.getRawHandle().getBlob();
      if (!b)
        return cst.emitOpError("refers to a resource blob that is missing");
      if (static_cast<int64_t>(b->getData().size()) != 4 * n)
        return cst.emitOpError("has a resource blob of ")
               << b->getData().size() << " bytes for " << n << " floats";
      borrowed = b->getData();
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      owned.resize(4 * n);
      int64_t i = 0;
      if (dense.isSplat()) {
        float f = dense.getSplatValue<float>();
        for (; i < n; ++i)
          std::memcpy(owned.data() + 4 * i, &f, 4);
      } else {
        for (float f : dense.getValues<float>())
          std::memcpy(owned.data() + 4 * i++, &f, 4);
      }
    } else {
      return cst.emitOpError("has an attribute of kind ")
             << value << " the exporter cannot read";
    }
  } else {
    std::optional<SmallVector<double>> values = getConstantValues(cst);
    if (!values || static_cast<int64_t>(values->size()) != n)
      return cst.emitOpError("has a value the exporter cannot read");
    dtype = rt::DType::F64;
    owned.resize(8 * n);
    std::memcpy(owned.data(), values->data(), 8 * n);
  }
  if (failed(checkRange(op, cst, borrowed.data()
                                     ? ArrayRef<uint8_t>(
                                           reinterpret_cast<const uint8_t *>(
                                               borrowed.data()),
                                           borrowed.size())
                                     : ArrayRef<uint8_t>(owned),
                        dtype)))
    return failure();
  int s = newSlot(currentName, t.getShape(), t.getFrac(), toFb(vis));
  const void *data = borrowed.data() ? (const void *)borrowed.data()
                                     : (const void *)owned.data();
  size_t size = borrowed.data() ? borrowed.size() : owned.size();
  if (std::optional<size_t> same = blobs.findBlob(
          data, size, dtype, owner, origin->origin, reuseBelow,
          [&](size_t i) { return reused.contains(i); })) {
    reused.insert(*same);
    slots[s].weight = static_cast<int>(*same);
  } else if (failed(runtimeCall(op, [&] {
               slots[s].weight = static_cast<int>(
                   borrowed.data()
                       ? blobs.addBlob(borrowed.data(), borrowed.size(), dtype,
                                       owner, origin->origin, origin->source)
                       : blobs.addBlob(std::move(owned), dtype, owner,
                                       origin->origin, origin->source));
             }))) {
    return failure();
  }
  slotOfValue[op.getResult()] = s;
  return success();
}

/// The node that uses the encoded value `v` (through its shares), for
/// diagnostics.
static std::string userName(Value v) {
  for (Operation *user : v.getUsers()) {
    if (auto share = dyn_cast<ShareOp>(user)) {
      if (std::string name = userName(share.getResult()); !name.empty())
        return name;
    } else if (std::string name = locName(user->getLoc()); !name.empty()) {
      return name;
    }
  }
  return "";
}

/// `v` as printf's %g writes it (-3.40282e+38, -inf).
static std::string formatReal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

LogicalResult Exporter::checkRange(EncodeOp op, arith::ConstantOp cst,
                                   ArrayRef<uint8_t> bytes, rt::DType dtype) {
  // The runtime encodes constants at load time (rt::encodeFixed) and would
  // refuse the value there: refuse it here, at compile time, with the node.
  auto t = cast<MpcTensorType>(op.getType());
  int frac = static_cast<int>(t.getFrac());
  size_t width = dtype == rt::DType::F32 ? 4 : 8;
  for (size_t i = 0; i * width < bytes.size(); ++i) {
    double v;
    if (width == 4) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      v = f;
    } else {
      std::memcpy(&v, bytes.data() + 8 * i, 8);
    }
    if (rt::fitsFixed(v, frac))
      continue;
    std::string name = locName(cst.getLoc());
    std::string user = userName(op.getResult());
    auto diag = op.emitOpError("encodes the constant '")
                << (name.empty() ? "(unnamed)" : name) << "'";
    if (!user.empty())
      diag << " used by node '" << user << "'";
    // An owner's weight is never printed, not even in a diagnostic.
    if (t.getVisibility() == Visibility::owner)
      diag << ": one of its elements";
    else
      diag << ": its element " << i << " (" << formatReal(v) << ")";
    diag << " does not fit the fixed-point range (|x| < 2^"
         << 63 - frac << " at " << frac
         << " fractional bits); masks and clamps against such values are "
            "only recognised on a causal pattern or as a maximum with a "
            "value below -2^62 (see docs/compile.md)";
    return failure();
  }
  return success();
}

LogicalResult Exporter::exportEncode(EncodeOp op) {
  Value in = op.getInput();
  if (auto cst = in.getDefiningOp<arith::ConstantOp>())
    return exportConstant(op, cst);
  if (isa<BlockArgument>(in))
    return success(slotOfValue.count(op.getResult())); // see exportArguments
  return op.emitOpError("encodes a value computed in plaintext floats; only "
                        "constants and function arguments can be encoded");
}

LogicalResult Exporter::exportMatMul(MatMulOp op) {
  auto t = cast<MpcTensorType>(op.getType());
  FailureOr<int> a = slotOf(op, op.getLhs()), b = slotOf(op, op.getRhs());
  if (failed(a) || failed(b))
    return failure();
  FailureOr<SmallVector<int>> xw = operands(op, {*a, *b});
  if (failed(xw))
    return failure();
  int x = (*xw)[0], w = (*xw)[1];
  ArrayRef<int64_t> as = slots[x].shape, bs = slots[w].shape;
  if (as.size() < 2 || bs.size() < 2)
    return op.emitOpError("has an operand of rank < 2");
  ArrayRef<int64_t> out = t.getShape();
  SmallVector<int64_t> batch(out.drop_back(2));
  // The runtime multiplies [..., n, k] by [k, m] or by [..., k, m] with
  // equal batch dimensions: move the broadcasting into explicit ops.
  if (numElements(ArrayRef<int64_t>(bs).drop_back(2)) == 1) {
    if (bs.size() != 2) {
      SmallVector<int64_t> km(bs.take_back(2));
      w = emit(attrsOf(fb::ReshapeT{}), {w}, km, slots[w].frac, slots[w].vis);
    }
  } else if (ArrayRef<int64_t>(bs).drop_back(2) != ArrayRef<int64_t>(batch)) {
    SmallVector<int64_t> full(batch);
    full.append(bs.end() - 2, bs.end());
    w = emit(attrsOf(fb::BroadcastT{}), {w}, full, slots[w].frac,
             slots[w].vis);
  }
  if (ArrayRef<int64_t>(slots[x].shape).drop_back(2) !=
      ArrayRef<int64_t>(batch)) {
    SmallVector<int64_t> full(batch);
    full.append(slots[x].shape.end() - 2, slots[x].shape.end());
    x = emit(attrsOf(fb::BroadcastT{}), {x}, full, slots[x].frac,
             slots[x].vis);
  }
  slotOfValue[op.getResult()] =
      emit(attrsOf(fb::MatmulT{}), {x, w}, out, t.getFrac(), joinOf({x, w}));
  return success();
}

LogicalResult Exporter::exportOneHot(OneHotOp op) {
  auto t = cast<MpcTensorType>(op.getType());
  auto it = idSlots.find(op.getIds());
  if (it == idSlots.end())
    return op.emitOpError("one-hot encodes ids that are not a function "
                          "argument; only the client's token ids are "
                          "supported");
  int ids = it->second;
  fb::OneHotT oneHot;
  oneHot.depth = op.getDepth();
  if (std::optional<int64_t> ignore = op.getIgnoreIndex()) {
    oneHot.ignore_index = *ignore;
    oneHot.has_ignore_index = true;
  }
  oneHot.wrap_negative = op.getWrapNegative();
  // The holder expands its ids in plaintext (an mpc.share follows).
  slotOfValue[op.getResult()] =
      emit(attrsOf(oneHot), {ids}, t.getShape(), 0, slots[ids].vis);
  return success();
}

LogicalResult Exporter::exportSelect(SelectOp op) {
  auto t = cast<MpcTensorType>(op.getType());
  FailureOr<int> c = slotOf(op, op.getCondition()),
                 a = slotOf(op, op.getOnTrue()),
                 b = slotOf(op, op.getOnFalse());
  if (failed(c) || failed(a) || failed(b))
    return failure();
  FailureOr<SmallVector<int>> checked = operands(op, {*c, *a, *b});
  if (failed(checked))
    return failure();
  SmallVector<int> in = *checked;
  int cs = in[0], as = in[1], bs = in[2];
  int frac = t.getFrac();
  // The runtime selects among shared values (MPC) or at the holder of
  // private ones (which may mix in public values).
  fb::Visibility vis = joinOf(in);
  if (isPrivate(vis) || llvm::all_of(in, [&](int s) {
        return slots[s].vis == fb::Visibility::Shared;
      })) {
    slotOfValue[op.getResult()] =
        emit(attrsOf(fb::SelectT{}), in, t.getShape(), frac, vis);
    return success();
  }
  // b + c * (a - b): the condition has no fractional bits, so no truncation.
  int d = emit(attrsOf(fb::SubT{}), {as, bs},
               ArrayRef<int64_t>(slots[as].shape), frac, joinOf({as, bs}));
  int p = emit(attrsOf(fb::MulT{}), {cs, d}, t.getShape(), frac,
               joinOf({cs, d}));
  slotOfValue[op.getResult()] = emit(attrsOf(fb::AddT{}), {bs, p},
                                     t.getShape(), frac, joinOf({bs, p}));
  return success();
}

FailureOr<int> Exporter::emitChecked(Operation *op, rt::Attrs attrs,
                                     ArrayRef<int> in, MpcTensorType t) {
  std::vector<rt::SlotInfo> ins(in.size());
  for (auto [k, s] : llvm::enumerate(in)) {
    ins[k].name = slots[s].name;
    ins[k].shape.assign(slots[s].shape.begin(), slots[s].shape.end());
    ins[k].numel = numElements(slots[s].shape);
    ins[k].frac = slots[s].frac;
    ins[k].vis = rt::Vis(slots[s].vis);
  }
  std::vector<const rt::SlotInfo *> ptrs;
  for (const rt::SlotInfo &si : ins)
    ptrs.push_back(&si);
  rt::SlotInfo declared;
  declared.shape.assign(t.getShape().begin(), t.getShape().end());
  declared.frac = t.getFrac();
  rt::SlotInfo want;
  try {
    want = rt::inferOutput(attrs, ptrs, &declared);
  } catch (const rt::Error &e) {
    return op->emitOpError("cannot be a runtime instruction: ") << e.what();
  }
  if (ArrayRef<int64_t>(want.shape) != t.getShape() ||
      want.frac != static_cast<int>(t.getFrac()))
    return op->emitOpError("has result type ")
           << t << " but the runtime's " << rt::opName(attrs.type)
           << " gives shape " << shapeString(want.shape) << " and frac "
           << want.frac;
  return emit(std::move(attrs), in, want.shape, want.frac,
              fb::Visibility(want.vis));
}

/// An MLIR attribute as the value of a schema field of kind `kind`.
static bool readAttr(Attribute a, rt::AttrKind kind, rt::AttrValue &v) {
  switch (kind) {
  case rt::AttrKind::Int:
    return isa<IntegerAttr>(a) && (v.i = cast<IntegerAttr>(a).getInt(), true);
  case rt::AttrKind::Bool:
    return isa<BoolAttr>(a) && (v.i = cast<BoolAttr>(a).getValue(), true);
  case rt::AttrKind::Float:
    return isa<FloatAttr>(a) &&
           (v.f = cast<FloatAttr>(a).getValueAsDouble(), true);
  case rt::AttrKind::String:
    return isa<StringAttr>(a) && (v.s = cast<StringAttr>(a).str(), true);
  case rt::AttrKind::Ints:
    if (auto arr = dyn_cast<DenseI64ArrayAttr>(a))
      return v.ints.assign(arr.asArrayRef().begin(), arr.asArrayRef().end()),
             true;
    return false;
  case rt::AttrKind::Floats:
    if (auto arr = dyn_cast<DenseF64ArrayAttr>(a))
      return v.floats.assign(arr.asArrayRef().begin(),
                             arr.asArrayRef().end()),
             true;
    return false;
  }
  return false;
}

LogicalResult Exporter::exportGeneric(Operation *op) {
  rt::Op code = rt::opByName(op->getName().stripDialect().str());
  if (!isa<MpcDialect>(op->getDialect()) || code == rt::Op::NONE ||
      op->getNumResults() != 1)
    return unsupported(op);
  // Attributes by schema field name; an inherent attribute the schema does
  // not know would be silently dropped, so it is an error.
  llvm::StringSet<> used;
  std::string bad;
  auto get = [&](const char *field, rt::AttrKind kind, rt::AttrValue &v) {
    Attribute a = op->getAttr(field);
    if (!a)
      return false;
    used.insert(field);
    bool ok = readAttr(a, kind, v);
    if (!ok && bad.empty())
      bad = std::string("attribute '") + field +
            "' has a type the runtime's field does not take";
    return ok;
  };
  rt::Attrs attrs;
  std::string err = rt::buildAttrs(code, get, attrs);
  if (!bad.empty())
    err = bad;
  if (!err.empty())
    return op->emitOpError(err);
  for (StringAttr name : op->getName().getAttributeNames())
    if (op->getAttr(name) && !used.contains(name.getValue()))
      return op->emitOpError("has attribute '")
             << name.getValue() << "', which the runtime's "
             << rt::opName(code) << " has no field for";
  SmallVector<int> in;
  for (Value v : op->getOperands()) {
    FailureOr<int> s = slotOf(op, v);
    if (failed(s))
      return failure();
    in.push_back(*s);
  }
  FailureOr<SmallVector<int>> checked = operands(op, in);
  if (failed(checked))
    return failure();
  in = *checked;
  FailureOr<int> out = emitChecked(
      op, std::move(attrs), in, cast<MpcTensorType>(op->getResult(0).getType()));
  if (failed(out))
    return failure();
  slotOfValue[op->getResult(0)] = *out;
  return success();
}

LogicalResult Exporter::exportOp(Operation *op) {
  currentName = locName(op->getLoc());
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<arith::ConstantOp>([&](arith::ConstantOp cst) -> LogicalResult {
        for (Operation *user : cst->getUsers())
          if (!isa<EncodeOp>(user))
            return user->emitOpError("uses a plaintext constant directly; "
                                     "constants must go through mpc.encode");
        return success();
      })
      .Case<EncodeOp>([&](EncodeOp e) { return exportEncode(e); })
      .Case<ShareOp>([&](ShareOp s) -> LogicalResult {
        FailureOr<int> in = slotOf(op, s.getInput());
        if (failed(in))
          return failure();
        if (slots[*in].vis == fb::Visibility::Public)
          return s.emitOpError("shares a public value");
        slotOfValue[s.getResult()] = shared(*in);
        return success();
      })
      .Case<RevealOp>([&](RevealOp r) -> LogicalResult {
        FailureOr<int> in = slotOf(op, r.getInput());
        if (failed(in))
          return failure();
        if (slots[*in].vis != fb::Visibility::Shared)
          return r.emitOpError("reveals a value that is not secret-shared");
        fb::RevealT rv;
        rv.to = r.getTo() == RevealTarget::client ? fb::RevealTo::Client
                : r.getTo() == RevealTarget::all_and_dealer
                    ? fb::RevealTo::BothAndDealer
                    : fb::RevealTo::Both;
        rv.reason = r.getReason().str();
        MpcTensorType t = cast<MpcTensorType>(r.getType());
        slotOfValue[r.getResult()] =
            emit(attrsOf(std::move(rv)), {*in}, t.getShape(), t.getFrac(),
                 fb::Visibility::Public);
        return success();
      })
      .Case<DecodeOp>([&](DecodeOp d) -> LogicalResult {
        // The runtime writes results as real numbers already.
        FailureOr<int> in = slotOf(op, d.getInput());
        if (failed(in))
          return failure();
        slotOfValue[d.getResult()] = *in;
        return success();
      })
      .Case<MatMulOp>([&](MatMulOp m) { return exportMatMul(m); })
      .Case<SelectOp>([&](SelectOp s) { return exportSelect(s); })
      .Case<OneHotOp>([&](OneHotOp o) { return exportOneHot(o); })
      .Default([&](Operation *other) { return exportGeneric(other); });
}

/// The artifact's element type of an integer model output.
static FailureOr<fb::ElemType> elemTypeOf(Operation *op, unsigned i, Type t) {
  auto it = dyn_cast<IntegerType>(t);
  unsigned w = it ? it.getWidth() : 0;
  if (w == 1)
    return fb::ElemType::Bool;
  bool u = it && it.isUnsigned();
  switch (w) {
  case 8:
    return u ? fb::ElemType::UInt8 : fb::ElemType::Int8;
  case 16:
    return u ? fb::ElemType::UInt16 : fb::ElemType::Int16;
  case 32:
    return u ? fb::ElemType::UInt32 : fb::ElemType::Int32;
  case 64:
    return u ? fb::ElemType::UInt64 : fb::ElemType::Int64;
  default:
    return op->emitOpError("result #")
           << i << " has element type " << t
           << ", which the artifact cannot write";
  }
}

LogicalResult Exporter::exportResults(func::ReturnOp ret) {
  currentName = "";
  // Program inputs are found by name (mpc-run -i name=file.npy) and outputs
  // are written as name.npy: both kinds of names must be unique. Other
  // slots that happen to share an output's name are renamed.
  std::vector<bool> produced(slots.size(), false);
  for (const Instr &in : instrs)
    produced[in.out] = true;
  llvm::StringSet<> reserved;
  for (size_t s = 0; s < slots.size(); ++s)
    if (!produced[s] && slots[s].weight < 0)
      reserved.insert(slots[s].name);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    FailureOr<int> s = slotOf(ret, v);
    if (failed(s))
      return failure();
    int slot = *s;
    fb::Visibility vis = slots[slot].vis;
    if (vis == fb::Visibility::Owner)
      return ret.emitOpError("returns result #")
             << i << ", which the model owner holds; reveal it first";
    // A client-private result is computed and written by P0 (the client);
    // a state result stays shared for the session's next program.
    bool state = func.getResultAttr(i, kStateAttrName) != nullptr;
    if (state && vis != fb::Visibility::Shared)
      return ret.emitOpError("returns state result #")
             << i << " that is not secret-shared";
    if (vis == fb::Visibility::Shared && !state)
      return ret.emitOpError("returns result #")
             << i << ", a secret-shared value; reveal it (mpc.reveal) "
             << "to say who may learn it";
    auto nameAttr = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
    std::string name = nameAttr ? nameAttr.str() : "out" + std::to_string(i);
    // mpc-run writes the result as NAME.npy inside its output directory.
    if (!rt::isPlainFileName(name))
      return ret.emitOpError("result #")
             << i << " is named '" << name
             << "', which is not a plain file name (outputs are written as "
                "NAME.npy: no '/', '\\', NUL, '.', '..' or more than 255 "
                "bytes)";
    if (reserved.contains(name))
      return ret.emitOpError("result #") << i << " is named '" << name
                                         << "' like an input or another result";
    // Slots added above (a reveal) are produced; inputs and weights are not.
    bool isInput = slot < static_cast<int>(produced.size()) && !produced[slot];
    if (isInput || llvm::is_contained(outputs, slot))
      slot = emit(attrsOf(fb::CopyT{}), {slot}, slots[slot].shape,
                  slots[slot].frac,
                  slots[slot].vis);
    for (size_t o = 0; o < slots.size(); ++o)
      if (slots[o].name == name)
        slots[o].name = "%" + std::to_string(o);
    slots[slot].name = name;
    if (auto elt = func.getResultAttrOfType<TypeAttr>(
            i, kOutputElementTypeAttrName)) {
      FailureOr<fb::ElemType> e = elemTypeOf(ret, i, elt.getValue());
      if (failed(e))
        return failure();
      if (slots[slot].frac != 0)
        return ret.emitOpError("result #")
               << i << " is an integer with " << slots[slot].frac
               << " fractional bits; integers have none";
      slots[slot].elemType = *e;
    }
    reserved.insert(name);
    outputs.push_back(slot);
  }
  return success();
}

LogicalResult Exporter::run() {
  if (!func.getBody().hasOneBlock())
    return func.emitError("functions with control flow cannot be exported");
  if (failed(exportArguments()))
    return failure();
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator())
    if (failed(exportOp(&op)))
      return failure();
  // The runtime's tensor limits, checked here rather than at load.
  for (const Slot &s : slots) {
    bool ok = s.shape.size() <= rt::kMaxRank;
    try {
      (void)rt::numel(rt::Shape(s.shape.begin(), s.shape.end()));
    } catch (const rt::Error &) {
      ok = false;
    }
    if (!ok)
      return func.emitError("value '")
             << s.name << "' has shape " << shapeString(s.shape)
             << ", beyond the runtime's limits (rank " << rt::kMaxRank
             << ", " << rt::kMaxElements << " elements)";
  }
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!ret)
    return body.getTerminator()->emitOpError("is not func.return");
  if (failed(exportResults(ret)))
    return failure();
  if (fracBits < 0) {
    fracBits = 16;
    for (const Slot &s : slots)
      if (s.vis == fb::Visibility::Shared) {
        fracBits = std::max(0, s.frac);
        break;
      }
  }
  return success();
}

flatbuffers::Offset<fb::Program>
Exporter::build(flatbuffers::FlatBufferBuilder &fbb, bool withWeights,
                flatbuffers::Offset<fb::Generation> generation) {
  std::vector<flatbuffers::Offset<fb::Slot>> fslots;
  fslots.reserve(slots.size());
  for (const Slot &s : slots) {
    std::vector<int64_t> shape(s.shape.begin(), s.shape.end());
    fslots.push_back(fb::CreateSlot(
        fbb, fbb.CreateString(s.name), fbb.CreateVector(shape), s.frac, s.vis,
        s.weight, s.elemType, s.contextAxis, s.contextScale, s.contextOffset));
  }
  std::vector<flatbuffers::Offset<fb::Instr>> finstrs;
  finstrs.reserve(instrs.size());
  for (const Instr &i : instrs) {
    std::vector<int32_t> in(i.in.begin(), i.in.end()), out{i.out};
    finstrs.push_back(fb::CreateInstr(
        fbb, i.attrs.type, i.attrs.Pack(fbb), fbb.CreateVector(in),
        fbb.CreateVector(out), i.name.empty() ? 0 : fbb.CreateString(i.name)));
  }
  std::vector<int32_t> outs(outputs.begin(), outputs.end());
  // Hashes every blob (the program lists the hashes).
  auto fweights = withWeights ? blobs.weightTables(fbb) : 0;
  return fb::CreateProgram(fbb, rt::kIsaVersion, fracBits,
                           fbb.CreateVector(fslots), fbb.CreateVector(finstrs),
                           fweights, fbb.CreateVector(outs), generation);
}

LogicalResult Exporter::write(raw_ostream &os, bool ownerBlobs) {
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  flatbuffers::Offset<fb::Program> program;
  if (failed(runtimeCall(func, [&] { program = build(fbb, true); })))
    return failure();
  fb::FinishProgramBuffer(fbb, program);
  return runtimeCall(func, [&] {
    blobs.write(fbb.GetBufferPointer(), fbb.GetSize(),
                [&](const uint8_t *p, size_t n) {
                  os.write(reinterpret_cast<const char *>(p), n);
                },
                ownerBlobs);
  });
}

FailureOr<func::FuncOp> selectFunction(ModuleOp module, StringRef name) {
  if (!name.empty()) {
    auto f = module.lookupSymbol<func::FuncOp>(name);
    if (!f)
      return module.emitError("no function named '") << name << "' to export";
    return f;
  }
  if (auto f = module.lookupSymbol<func::FuncOp>("main"))
    return f;
  func::FuncOp only;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal())
      continue;
    if (only)
      return module.emitError("the module has several functions and none is "
                              "named 'main'; say which one to export");
    only = f;
  }
  if (!only)
    return module.emitError("the module has no function to export");
  return only;
}

/// Attributes as bytes, to compare two instructions.
std::string packedAttrs(const rt::Attrs &attrs) {
  flatbuffers::FlatBufferBuilder fbb(256);
  fbb.Finish(flatbuffers::Offset<void>(attrs.Pack(fbb).o));
  return std::string(reinterpret_cast<const char *>(fbb.GetBufferPointer()),
                     fbb.GetSize());
}

/// Makes `a` (the decode step exported at context length pa) valid at any
/// context length P <= pb, from `b` (the same step exported at pb): every
/// extent that differs must be linear in P (one axis per slot), nothing
/// else may differ except the domains of reciprocal and rsqrt, which come
/// from the larger context (a softmax's denominator grows with the number
/// of positions; the domain of the longest context contains the shorter
/// ones').
LogicalResult unifyContext(Exporter &a, Exporter &b, int64_t pa,
                           int64_t pb) {
  auto differ = [&](const Twine &what) {
    return emitError(b.func.getLoc(),
                     "the decode step compiles to different programs "
                            "at context lengths ")
           << pa << " and " << pb << ": " << what
           << "; only tensor extents may depend on the context length";
  };
  if (a.slots.size() != b.slots.size() || a.instrs.size() != b.instrs.size())
    return differ(Twine(a.instrs.size()) + " and " + Twine(b.instrs.size()) +
                  " instructions");
  for (size_t i = 0; i < a.slots.size(); ++i) {
    Slot &x = a.slots[i];
    const Slot &y = b.slots[i];
    if (x.name != y.name || x.frac != y.frac || x.vis != y.vis ||
        x.weight != y.weight || x.elemType != y.elemType ||
        x.shape.size() != y.shape.size())
      return differ("value '" + x.name + "' differs in more than its extent");
    for (size_t d = 0; d < x.shape.size(); ++d) {
      if (x.shape[d] == y.shape[d])
        continue;
      int64_t grown = y.shape[d] - x.shape[d];
      if (x.contextAxis >= 0 || grown % (pb - pa) != 0)
        return differ("value '" + x.name + "' (" + shapeString(x.shape) +
                      " and " + shapeString(y.shape) +
                      ") does not grow linearly along one axis");
      x.contextAxis = static_cast<int>(d);
      x.contextScale = grown / (pb - pa);
      x.contextOffset = x.shape[d] - x.contextScale * pa;
    }
  }
  for (size_t i = 0; i < a.instrs.size(); ++i) {
    Instr &x = a.instrs[i];
    const Instr &y = b.instrs[i];
    if (x.attrs.type != y.attrs.type || x.in != y.in || x.out != y.out)
      return differ("instruction " + Twine(i) + " (" + x.name + ")");
    if (packedAttrs(x.attrs) == packedAttrs(y.attrs))
      continue;
    if (x.attrs.type != fb::InstrAttrs::Reciprocal &&
        x.attrs.type != fb::InstrAttrs::Rsqrt)
      return differ("the attributes of " + Twine(rt::opName(x.attrs.type)) +
                    " '" + x.name + "'");
    x.attrs = y.attrs;
  }
  if (a.outputs != b.outputs)
    return differ("its outputs");
  return success();
}

/// The slot of the function input or output named `name`, or -1.
int namedSlot(Exporter &e, StringRef name, bool output) {
  std::vector<bool> produced(e.slots.size(), false);
  for (const Instr &in : e.instrs)
    produced[in.out] = true;
  for (size_t s = 0; s < e.slots.size(); ++s) {
    bool isOutput = llvm::is_contained(e.outputs, static_cast<int>(s));
    bool isInput = !produced[s] && e.slots[s].weight < 0;
    if (e.slots[s].name == name && (output ? isOutput : isInput))
      return static_cast<int>(s);
  }
  return -1;
}

/// The extents of `s` at context length p.
SmallVector<int64_t> shapeAt(const Slot &s, int64_t p) {
  SmallVector<int64_t> shape = s.shape;
  if (s.contextAxis >= 0)
    shape[s.contextAxis] = s.contextScale * p + s.contextOffset;
  return shape;
}

} // namespace

LogicalResult umbra::exportGenerationUmbra(const GenerationExport &g,
                                           raw_ostream &os) {
  FailureOr<func::FuncOp> pf = selectFunction(g.prefill, ""),
                          fa = selectFunction(g.decodeAt[0], ""),
                          fb_ = selectFunction(g.decodeAt[1], "");
  if (failed(pf) || failed(fa) || failed(fb_))
    return failure();
  int64_t pa = g.contexts[0], pb = g.contexts[1];
  rt::ArtifactWriter blobs;
  Exporter pre(*pf, blobs);
  if (failed(pre.run()))
    return failure();
  // The decode step shares the prefill's weights; exported at the largest
  // context it must reuse exactly the blobs it had at the smallest.
  Exporter dec(*fa, blobs, blobs.numBlobs());
  if (failed(dec.run()))
    return failure();
  size_t decodeBlobs = blobs.numBlobs();
  Exporter atMax(*fb_, blobs, decodeBlobs);
  if (failed(atMax.run()))
    return failure();
  if (blobs.numBlobs() != decodeBlobs)
    return emitError(fb_->getLoc(),
                     "the decode step's constants depend on the context "
                     "length (a weight differs between context ")
           << pa << " and " << pb << ")";
  if (failed(unifyContext(dec, atMax, pa, pb)))
    return failure();

  auto fail = [&](func::FuncOp f, const Twine &msg) {
    return emitError(f.getLoc(), msg);
  };
  int preTok = namedSlot(pre, g.tokenOutput, true),
      decTok = namedSlot(dec, g.tokenOutput, true);
  if (preTok < 0 || decTok < 0)
    return fail(preTok < 0 ? *pf : *fa,
                "the " + Twine(preTok < 0 ? "prefill" : "decode step") +
                    " has no output '" + g.tokenOutput +
                    "' (the chosen token; see --token-output)");
  // The token is revealed to the client alone, as one integer.
  auto revealedToClient = [](Exporter &e, int s) {
    for (const Instr &in : e.instrs)
      if (in.out == s)
        return in.attrs.type == fb::InstrAttrs::Reveal &&
               in.attrs.AsReveal()->to == fb::RevealTo::Client;
    return false;
  };
  for (auto [e, s] : {std::pair(&pre, preTok), std::pair(&dec, decTok)})
    if (!revealedToClient(*e, s) || e->slots[s].frac != 0 ||
        numElements(e->slots[s].shape) != 1)
      return fail(e->func, "output '" + g.tokenOutput +
                               "' must be one integer token revealed to the "
                               "client");
  int decIds = namedSlot(dec, g.tokenInput, false);
  if (decIds < 0)
    return fail(*fa, "the decode step has no input '" + g.tokenInput +
                         "' (the previous token; see --token-input)");
  int decPos = g.positionInput.empty()
                   ? -1
                   : namedSlot(dec, g.positionInput, false);
  // The opt-in stop: one integer every role learns.
  int preStop = -1, decStop = -1;
  if (!g.stopOutput.empty()) {
    preStop = namedSlot(pre, g.stopOutput, true);
    decStop = namedSlot(dec, g.stopOutput, true);
    for (auto [e, s] : {std::pair(&pre, preStop), std::pair(&dec, decStop)}) {
      bool toAll = false;
      for (const Instr &in : e->instrs)
        if (s >= 0 && in.out == s)
          toAll = in.attrs.type == fb::InstrAttrs::Reveal &&
                  in.attrs.AsReveal()->to == fb::RevealTo::Both;
      if (s < 0 || !toAll || e->slots[s].frac != 0 ||
          numElements(e->slots[s].shape) != 1)
        return fail(e->func, "stop output '" + g.stopOutput +
                                 "' must be one integer of each program "
                                 "revealed to every role");
    }
  }
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  std::vector<flatbuffers::Offset<fb::CacheEntry>> entries;
  for (const auto &[past, present] : g.cache) {
    int po = namedSlot(pre, present, true), di = namedSlot(dec, past, false),
        dout = namedSlot(dec, present, true);
    if (po < 0 || di < 0 || dout < 0)
      return fail(po < 0 ? *pf : *fa,
                  "cache tensor '" + past + "' -> '" + present +
                      "' is not a state input and output of the decode step "
                      "and a state output of the prefill");
    // The cache the prefill leaves is the first step's input, and each
    // step's output is the next step's input.
    if (pre.slots[po].shape != shapeAt(dec.slots[di], g.promptLen) ||
        shapeAt(dec.slots[dout], pa) != shapeAt(dec.slots[di], pa + 1))
      return fail(*fa, "cache tensor '" + past + "' has shape " +
                           shapeString(shapeAt(dec.slots[di], g.promptLen)) +
                           " at context " + Twine(g.promptLen) +
                           " but the prefill leaves " +
                           shapeString(pre.slots[po].shape) +
                           ", or a step does not append one position");
    entries.push_back(fb::CreateCacheEntry(fbb, fbb.CreateString(past), po, di,
                                           dout));
  }
  flatbuffers::FlatBufferBuilder dfb(1 << 16);
  if (failed(runtimeCall(*fa, [&] {
        fb::FinishProgramBuffer(dfb, dec.build(dfb, false));
      })))
    return failure();
  fbb.ForceVectorAlignment(dfb.GetSize(), 1, dfb.GetBufferMinAlignment());
  auto nested = fbb.CreateVector(dfb.GetBufferPointer(), dfb.GetSize());
  auto gen = fb::CreateGeneration(fbb, g.promptLen, g.maxSeq, nested,
                                  fbb.CreateVector(entries), preTok, decTok,
                                  decIds, decPos, preStop, decStop);
  flatbuffers::Offset<fb::Program> root;
  if (failed(runtimeCall(*pf, [&] { root = pre.build(fbb, true, gen); })))
    return failure();
  fb::FinishProgramBuffer(fbb, root);
  return runtimeCall(*pf, [&] {
    blobs.write(fbb.GetBufferPointer(), fbb.GetSize(),
                [&](const uint8_t *p, size_t n) {
                  os.write(reinterpret_cast<const char *>(p), n);
                });
  });
}

LogicalResult umbra::exportUmbra(ModuleOp module, raw_ostream &os,
                                 const UmbraExportOptions &options) {
  FailureOr<func::FuncOp> func = selectFunction(module, options.funcName);
  if (failed(func))
    return failure();
  rt::ArtifactWriter blobs;
  Exporter exporter(*func, blobs);
  if (failed(exporter.run()))
    return failure();
  return exporter.write(os, options.ownerBlobs);
}

/// A translation of a whole module (the three below differ only in what
/// they print).
template <LogicalResult (*Print)(ModuleOp, raw_ostream &)>
static LogicalResult onModule(Operation *op, raw_ostream &os) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    return op->emitError("expected a module");
  return Print(module, os);
}

static LogicalResult exportDefault(ModuleOp module, raw_ostream &os) {
  return exportUmbra(module, os);
}

void umbra::registerUmbraExportTranslation() {
  auto registerDialects = [](DialectRegistry &registry) {
    registry.insert<MpcDialect, tfm::TfmDialect, arith::ArithDialect,
                    func::FuncDialect>();
  };
  static TranslateFromMLIRRegistration exportReg(
      "export-umbra", "write a .umbra artifact from mpc IR",
      onModule<exportDefault>, registerDialects);
  static TranslateFromMLIRRegistration costReg(
      "cost-report",
      "predicted online bytes and rounds per instruction kind (the runtime's "
      "instruction table)",
      onModule<printCostReport>, registerDialects);
  static TranslateFromMLIRRegistration reportReg(
      "leakage-report", "list every mpc.reveal (what a run discloses)",
      onModule<printLeakageReport>, registerDialects);
}
