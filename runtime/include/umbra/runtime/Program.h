//===- Program.h - Loaded, verified program and its builder ----*- C++ -*-===//
//
// A Program is the in-memory form of a `.umbra` artifact after the
// FlatBuffers verifier and the semantic checks (indices, shapes, fractional
// bits, visibilities, weight sizes) have passed. Weight blobs stay in the
// memory-mapped file.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Artifact.h"
#include "umbra/runtime/Error.h"
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace umbra::rt {

/// Bumped whenever the instruction semantics change; part of the handshake.
constexpr uint32_t kIsaVersion = 2;
enum class Vis : uint8_t { Public = 0, Client = 1, Owner = 2, Shared = 3 };

enum class Op : uint16_t {
  Share,
  Reveal,
  Add,
  Sub,
  Neg,
  Mul,
  MatMul,
  Scale,
  Trunc,
  DRelu,
  Ltz,
  Select,
  Relu,
  Max,
  ArgMax,
  Reciprocal,
  Rsqrt,
  Exp,
  Poly,
  Reshape,
  Transpose,
  Slice,
  Concat,
  Broadcast,
  Copy,
  OneHot,
  ReduceSum,
  NumOps
};
const char *opName(Op op);
const char *visName(Vis v);
/// Client- or owner-private: known in plaintext to one party only, which
/// computes on it alone (no MPC).
bool isPrivate(Vis v);

/// Reveal targets (iattrs[0] of Reveal).
enum class RevealTo : int64_t { P0 = 0, P1 = 1, Both = 2, Client = 3 };

using Shape = std::vector<int64_t>;
int64_t numel(const Shape &s);
std::string shapeStr(const Shape &s);

struct SlotInfo {
  std::string name;
  Shape shape;
  int64_t numel = 0;
  int frac = 0;
  Vis vis = Vis::Public;
  int weight = -1;
};

struct InstrInfo {
  Op op;
  std::vector<int> in, out;
  std::vector<int64_t> iattrs;
  std::vector<double> fattrs;
  std::string reason, name;
  /// True when every input is a deployment constant (owner weights, public
  /// constants): executed once per deployment, not per inference.
  bool deploy = false;
};

class Program {
public:
  /// Loads and fully verifies an artifact file (memory-mapped).
  static Program loadFile(const std::string &path);
  /// Same, from bytes in memory (tests).
  static Program loadBytes(std::vector<uint8_t> bytes);

  int fracBits = 16;
  std::vector<SlotInfo> slots;
  std::vector<InstrInfo> instrs;
  /// The container's blob entries, one per weight (Artifact.h).
  std::vector<BlobEntry> weights;
  std::vector<int> outputs;
  /// Slots with no producer and no weight: inputs supplied at run time.
  std::vector<int> inputs;
  /// True for slots whose value is fixed for the deployment.
  std::vector<bool> isConst;
  /// Index of the last instruction reading each slot (-1: never read); the
  /// executor frees per-inference values after their last use.
  std::vector<int64_t> lastUse;

  const Sha256 &hash() const { return artifact_->hash(); }
  std::string hashHex() const { return hexString(hash()); }
  /// The verified container this program was read from.
  const Artifact &artifact() const { return *artifact_; }
  /// Weight bytes of slot `s` (which must have a weight).
  const uint8_t *weightData(int s) const;
  /// A weight decoded as real numbers (its first `limit` elements when
  /// `limit` >= 0) / as fixed-point ring elements.
  std::vector<double> weightReal(int s, int64_t limit = -1) const;
  std::vector<uint64_t> weightRing(int s) const;
  int slotByName(const std::string &name) const;
  /// Writes a copy without the model owner's weights (for P0 and the
  /// dealer). Same program hash; only P1 needs the full file.
  static void stripOwnerWeights(const std::string &in, const std::string &out);

private:
  explicit Program(std::shared_ptr<const Artifact> a)
      : artifact_(std::move(a)) {}
  void verify();
  std::shared_ptr<const Artifact> artifact_;
};

/// Fixed-point encoding helpers (two's complement in Z_2^64).
uint64_t encodeFixed(double v, int frac);
double decodeFixed(uint64_t v, int frac);

/// Builds artifacts in memory for tests and benchmarks; the container is
/// written by ArtifactWriter, as in the compiler's exporter. Output slots
/// are created with the inferred shape/frac/visibility so tests stay short.
class ProgramBuilder {
public:
  explicit ProgramBuilder(int fracBits = 16) : frac_(fracBits) {}
  int fracBits() const { return frac_; }

  int input(const std::string &name, Shape shape, Vis vis, int frac = -1);
  /// A constant slot with a weight blob stored as `dtype` (F64 default;
  /// F32 halves the size; I64 stores the fixed-point encoding at `frac`).
  int constant(const std::string &name, Shape shape, Vis vis,
               const std::vector<double> &values, int frac = -1,
               DType dtype = DType::F64);
  /// Raw slot (no inference); for malformed-program tests and shape ops.
  int slot(const std::string &name, Shape shape, Vis vis, int frac);
  void instr(Op op, std::vector<int> in, std::vector<int> out,
             std::vector<int64_t> iattrs = {}, std::vector<double> fattrs = {},
             std::string reason = "", std::string name = "");
  /// Appends an instruction whose single output slot is inferred.
  int emit(Op op, std::vector<int> in, std::vector<int64_t> iattrs = {},
           std::vector<double> fattrs = {}, std::string reason = "");

  int share(int x) { return emit(Op::Share, {x}); }
  int reveal(int x, RevealTo to = RevealTo::Both, std::string why = "output") {
    return emit(Op::Reveal, {x}, {int64_t(to)}, {}, std::move(why));
  }
  int add(int a, int b) { return emit(Op::Add, {a, b}); }
  int sub(int a, int b) { return emit(Op::Sub, {a, b}); }
  int mul(int a, int b) { return emit(Op::Mul, {a, b}); }
  int matmul(int a, int b) { return emit(Op::MatMul, {a, b}); }
  int trunc(int a, int bits) { return emit(Op::Trunc, {a}, {bits}); }
  /// Fixed-point product followed by truncation back to the input scale.
  int mulT(int a, int b);
  int matmulT(int a, int b);
  int reshape(int a, Shape shape);
  int broadcast(int a, Shape shape);
  void output(int s) { outputs_.push_back(s); }

  const SlotInfo &slotInfo(int s) const { return slots_.at(s); }
  std::vector<uint8_t> finish() const;
  void writeFile(const std::string &path) const;

private:
  int frac_;
  std::vector<SlotInfo> slots_;
  std::vector<InstrInfo> instrs_;
  std::vector<std::vector<uint8_t>> blobs_;
  std::vector<DType> blobTypes_;
  std::vector<int> outputs_;
};

/// Shape/frac/visibility rule shared by the loader (to check declared output
/// slots) and the builder (to create them). Throws Error on a violation.
SlotInfo inferOutput(Op op, const std::vector<const SlotInfo *> &in,
                     const std::vector<int64_t> &iattrs,
                     const std::vector<double> &fattrs);
/// numpy broadcast of two shapes; throws on mismatch.
Shape broadcastShapes(const Shape &a, const Shape &b);

} // namespace umbra::rt
