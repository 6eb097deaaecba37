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
#include "program_generated.h"
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace umbra::rt {

/// Bumped whenever the instruction semantics or the program's meaning
/// change; part of the handshake. 4: every weight blob records its origin,
/// and a public blob of origin owner (the default) is refused.
constexpr uint32_t kIsaVersion = 4;
enum class Vis : uint8_t { Public = 0, Client = 1, Owner = 2, Shared = 3 };

namespace fb = ::umbra::fb;
/// The opcode is the tag of the schema's attribute union (program.fbs);
/// its name, arity, output rule, execution and cost are a row of the
/// instruction table (Isa.h, runtime/src/isa/).
using Op = fb::InstrAttrs;
/// Typed attributes of one instruction (flatc's object API: fb::ReluT, ...).
using Attrs = fb::InstrAttrsUnion;
using RevealTo = fb::RevealTo;
/// Attributes from a native table: makeAttrs(fb::ReluT{}).
template <typename T, typename = typename T::TableType>
Attrs makeAttrs(T t) {
  Attrs a;
  a.Set(std::move(t));
  return a;
}
const char *opName(Op op);
const char *visName(Vis v);
/// Client- or owner-private: known in plaintext to one party only, which
/// computes on it alone (no MPC).
bool isPrivate(Vis v);


using Shape = std::vector<int64_t>;
/// The runtime's tensor limits, in one place: the loader checks every slot
/// against them (numel) and the compiler refuses, at compile time, a model
/// whose tensors exceed them.
constexpr size_t kMaxRank = 8;
constexpr int64_t kMaxDim = int64_t(1) << 40;
constexpr int64_t kMaxElements = int64_t(1) << 40;
/// The element count of `s`; throws if a dimension is negative or beyond
/// kMaxDim, or the count beyond kMaxElements.
int64_t numel(const Shape &s);
/// Whether `name` can be used as a file name inside an output directory
/// as it is: not empty, not "." or "..", at most 255 bytes, no '/', '\\'
/// or NUL. Outputs are written as NAME.npy; the compiler refuses other
/// names and the loader verifies again.
bool isPlainFileName(const std::string &name);
std::string shapeStr(const Shape &s);

struct SlotInfo {
  std::string name;
  Shape shape;
  int64_t numel = 0;
  int frac = 0;
  Vis vis = Vis::Public;
  int weight = -1;
  /// How an output is written (fb::ElemType; 0: a real, float64).
  uint8_t elemType = 0;
  /// A decode step's slot that grows with the context length P:
  /// shape[contextAxis] = contextScale * P + contextOffset (-1: fixed).
  int contextAxis = -1;
  int64_t contextScale = 0, contextOffset = 0;
};

/// One key/value cache tensor of a generation artifact: the prefill's state
/// output and the decode step's state input and output that carry it.
struct CacheLink {
  std::string name;
  int prefillOutput = -1, decodeInput = -1, decodeOutput = -1;
};

/// How a generation artifact's programs chain (program.fbs, Generation).
struct GenerationInfo {
  int64_t promptLen = 0, maxSeq = 0;
  std::vector<CacheLink> cache;
  int prefillToken = -1, decodeToken = -1;
  int decodeIds = -1, decodePosition = -1;
  /// The opt-in end-of-sequence stop (public outputs), or -1.
  int prefillStop = -1, decodeStop = -1;
};

struct InstrInfo {
  Attrs attrs;
  std::vector<int> in, out;
  std::string name;
  Op op() const { return attrs.type; }
  /// Why a reveal is allowed ("" for other instructions).
  std::string reason() const;
  /// True when every input is a deployment constant (owner weights, public
  /// constants): executed once per deployment, not per inference.
  bool deploy = false;
  /// True for input-independent work of every inference (a per-inference
  /// shuffle of constants and what is computed from it only): run before
  /// the online phase, in the `prepare` phase, with the masks of the
  /// products that read it (offline work in a real deployment).
  bool prepare = false;
  /// Products of one shared left operand with deployment-constant weights
  /// (matmul, sparse-output block_matmul) open it once: the first keeps
  /// its opened mask (lhsKept), the later ones reuse it (lhsFrom: the
  /// first one's index; -1 otherwise).
  int64_t lhsFrom = -1;
  bool lhsKept = false;
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
  /// True for slots computed by InstrInfo::prepare instructions: fixed for
  /// one inference, independent of its inputs.
  std::vector<bool> isPrepared;
  /// A right operand whose mask is opened before the online phase (once
  /// per deployment, or per inference for a prepared one).
  bool fixedOperand(int s) const { return isConst[s] || isPrepared[s]; }
  /// Index of the last instruction reading each slot (-1: never read); the
  /// executor frees per-inference values after their last use.
  std::vector<int64_t> lastUse;

  /// Present when the artifact generates (the root program is the prefill).
  std::optional<GenerationInfo> generation;
  /// The context length this program is resolved at (a decode step), or -1.
  int64_t context = -1;
  /// The decode step at context length `p` in [promptLen, maxSeq - 1]: the
  /// same instructions and weights, the extents resolved at p and verified.
  Program decodeStep(int64_t p) const;

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
  /// Reads and checks `fp` (the root program, or a decode step nested in
  /// it at context length `context`).
  void verify(const fb::Program *fp, int64_t context);
  void verifyGeneration(const fb::Generation &g);
  std::shared_ptr<const Artifact> artifact_;
};

/// Fixed-point encoding helpers (two's complement in Z_2^64).
/// Whether `v` with `frac` fractional bits fits the ring (finite, |v 2^frac|
/// below 2^63): the one range rule, also checked by the compiler's exporter
/// on every constant so that a compiled program never fails it at run time.
bool fitsFixed(double v, int frac);
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
  void instr(std::vector<int> in, std::vector<int> out, Attrs attrs,
             std::string name = "");
  /// Appends an instruction whose single output slot is inferred.
  int emit(std::vector<int> in, Attrs attrs);
  /// Same with a native attribute table: emit({x}, fb::ReluT{}).
  template <typename T, typename = typename T::TableType>
  int emit(std::vector<int> in, T attrs) {
    return emit(std::move(in), makeAttrs(std::move(attrs)));
  }

  int share(int x) { return emit({x}, fb::ShareT{}); }
  int reveal(int x, RevealTo to = RevealTo::Both, std::string why = "output");
  int add(int a, int b) { return emit({a, b}, fb::AddT{}); }
  int sub(int a, int b) { return emit({a, b}, fb::SubT{}); }
  int neg(int a) { return emit({a}, fb::NegT{}); }
  int mul(int a, int b) { return emit({a, b}, fb::MulT{}); }
  int matmul(int a, int b) { return emit({a, b}, fb::MatmulT{}); }
  int trunc(int a, int bits);
  int scale(int a, int64_t factor);
  int drelu(int a, int bits = 64);
  int ltz(int a, int bits = 64);
  int relu(int a, int bits = 64);
  int select(int c, int a, int b) { return emit({c, a, b}, fb::SelectT{}); }
  int max(int a, int axis, bool keepdims = true, int bits = 64);
  int argmax(int a, int axis, bool keepdims = true, int bits = 64);
  int exp(int a, int squarings = 8, int bits = 64);
  int reciprocal(int a, double lo, double hi, int iterations = 0);
  int rsqrt(int a, double lo, double hi, int iterations = 0);
  int poly(int a, std::vector<double> coefficients);
  int transpose(int a, std::vector<int64_t> permutation);
  /// Unit-stride slice [starts, ends) per dimension.
  int slice(int a, const std::vector<int64_t> &starts,
            const std::vector<int64_t> &ends);
  int concat(std::vector<int> in, int axis);
  /// With `ignore`, an id equal to it gets a zero row (an ignored label).
  int oneHot(int ids, int64_t depth,
             std::optional<int64_t> ignore = std::nullopt);
  int reduceSum(int a, std::vector<int64_t> axes, bool keepdims = true);
  /// Fixed-point product followed by truncation back to the input scale.
  int mulT(int a, int b);
  int matmulT(int a, int b);
  int reshape(int a, Shape shape);
  int broadcast(int a, Shape shape);
  void output(int s) { outputs_.push_back(s); }
  /// How an output slot is written (fb::ElemType; frac 0 for integers).
  void elemType(int s, uint8_t t) { slots_.at(s).elemType = t; }

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

/// Shape/frac/visibility rule of an instruction (its row in the
/// instruction table), shared by the loader (to check declared output
/// slots) and the builder (to create them). `declared` is the declared
/// output slot when there is one (reshape, broadcast, slice and scale take
/// their shape or scale from it). Throws Error on a violation.
SlotInfo inferOutput(const Attrs &attrs, const std::vector<const SlotInfo *> &in,
                     const SlotInfo *declared = nullptr);
/// numpy broadcast of two shapes; throws on mismatch.
Shape broadcastShapes(const Shape &a, const Shape &b);

} // namespace umbra::rt
