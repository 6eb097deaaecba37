//===- Executor.h - Walks a program (MPC and float reference) --*- C++ -*-===//
#pragma once
#include "umbra/runtime/Program.h"
#include "umbra/runtime/Protocols.h"
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace umbra::rt {

struct InstrStat {
  int64_t index = -1; // instruction index, -1 for deployment mask openings
  std::string op, name, phase;
  double start = 0, seconds = 0;
  Counters c;
};

/// The largest encoded magnitude of a real input: floor(sqrt(2^63 - 1)), so
/// that the product of two encoded values stays below 2^63 in magnitude
/// (3037000499^2 = 9223372030926249001 < 2^63 - 1) and a truncation after
/// a multiplication reads back what it should.
constexpr int64_t kMaxEncodedInput = 3037000499;
/// The largest |x| of a real input with `frac` fractional bits:
/// kMaxEncodedInput / 2^frac (46340.95 at 16 bits).
double maxInputMagnitude(int frac);

/// The checks every input passes before it is encoded (MPC) or used (the
/// float reference), so both refuse the same inputs: the exact shape of
/// the slot; finite values; token ids (inputs consumed by one_hot) integers
/// in [0, depth); every other value within +-maxInputMagnitude(frac).
/// Errors name the input, the flat index, the value and the allowed range.
void checkInput(const Program &prog, int slot, const Shape &shape,
                const std::vector<double> &values);

/// Executes a verified program as one role. The same executor runs on P0,
/// P1 and the dealer (see Protocols.h).
class Executor {
public:
  /// With `deployed`, an executor of the same program (or of its decode
  /// step at another context) that ran its deployment: this one reads the
  /// weights' shares and opened masks from it, read-only, and deploys
  /// nothing itself (the serving mode's sessions, each with its own party,
  /// over one deployment). `deployed` must outlive this executor.
  Executor(const Program &prog, Party &party,
           const Executor *deployed = nullptr);
  /// Plaintext input for a slot this role owns (client -> P0, owner -> P1,
  /// public -> everyone).
  void setInput(int slot, const std::vector<double> &values);
  void setInputRing(int slot, Vec values);
  /// This party's share of a shared input (state carried from the previous
  /// program of the session, such as a key/value cache); ignored at the
  /// dealer, which never holds shares.
  void setShare(int slot, Vec share);
  /// Moves to `next`, a program with the same instructions and weights (a
  /// decode step at another context length): the deployment (shared
  /// weights, opened matmul masks) carries over; every other value is
  /// dropped.
  void rebind(const Program &next);
  /// Takes over the deployment `from` made for another program over the
  /// same weights (a generation's prefill, for its decode step): each
  /// deployment constant of this program that `from`'s program computes the
  /// same way (the same weight blobs and encodings, instructions and
  /// attributes: a structural key), and the opened mask of each constant
  /// matmul operand with such a key. Decided from the two programs alone,
  /// so that every role adopts the same; runDeployment does the rest.
  /// Values are moved out of `from`, which is spent, or with `copy`
  /// copied (a server keeps both deployments for its sessions).
  void adoptDeployment(Executor &from, bool copy = false);
  /// The inputs among `inputs` that this role holds (client slots at P0,
  /// owner slots at P1); the others are ignored.
  void setInputs(const std::map<int, std::vector<double>> &inputs);
  /// Runs instructions that only depend on deployment constants (weight
  /// sharing, ...) and opens the masks of constant matmul operands.
  void runDeployment();
  /// One inference: its input-independent `prepare` work first (a
  /// per-inference shuffle of constants, the opening of the weights it
  /// permutes), then every other instruction.
  void runInference();

  /// Whether this role holds the plaintext of `slot` (public, revealed to
  /// it, or its own private value).
  bool hasPlain(int slot) const;
  std::vector<double> plainReal(int slot) const;
  const Vec &raw(int slot) const { return vals_.at(slot).data; }
  bool isShared(int slot) const { return vals_.at(slot).kind == Kind::Shared; }

  std::vector<InstrStat> stats;
  /// Called before each instruction (progress, fault injection).
  std::function<void(size_t idx, size_t total)> onInstr;
  /// Called after each instruction with its output slot (debug dumps).
  std::function<void(int slot)> onValue;

private:
  /// Plain: known in plaintext here (public, revealed to this role, or
  /// this role's own private value). None: not known here.
  enum class Kind { None, Plain, Shared };
  struct Value {
    Vec data;
    Kind kind = Kind::None;
  };
  void exec(size_t idx);
  /// Opens W - B for each shared product whose weight slot is `fixed`
  /// (deployment constants, or this inference's prepared values).
  void openWeightMasks(const std::string &phase, const std::vector<bool> &fixed,
                       std::map<size_t, MatmulMask> &into);
  /// A non-linear gate on this role's private values, in plaintext reals.
  Vec plainGate(const InstrInfo &I) const;
  void runOne(const std::string &phase, int64_t idx, const std::string &op,
              const std::string &name, const std::function<void()> &fn);
  Vec asShare(const Value &v) const;
  const Value &get(int s) const;
  /// Whether slot s has a value here (its own, or the deployment's).
  bool known(int s) const;
  const Program *prog_;
  Party &P_;
  std::vector<Value> vals_;
  std::vector<bool> isOutput_, isInput_;
  std::map<size_t, MatmulMask> masks_;
  /// Opened left operands of this inference, by the product that opened
  /// them (InstrInfo::lhsKept).
  std::map<size_t, LhsMask> lhsMasks_;
  /// Opened masks of products whose weight is prepared per inference.
  std::map<size_t, MatmulMask> freshMasks_;
  /// The deployment this executor reads from (see the constructor).
  const Executor *base_ = nullptr;
  /// Deployment instructions whose result adoptDeployment provided.
  std::vector<bool> adopted_;
  bool deployed_ = false;
  uint64_t tag_ = 0;
  double t0_;
};

/// Runs the same program in double precision with the ideal semantics of
/// every instruction (exact exp, 1/x, ...), so MPC results can be compared
/// slot by slot.
class FloatExecutor {
public:
  explicit FloatExecutor(const Program &prog);
  void setInput(int slot, const std::vector<double> &values);
  void run();
  const std::vector<double> &value(int slot) const { return vals_.at(slot); }

private:
  const Program &prog_;
  std::vector<std::vector<double>> vals_;
};

} // namespace umbra::rt
