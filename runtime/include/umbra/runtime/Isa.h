//===- Isa.h - The instruction table: one row per opcode -------*- C++ -*-===//
//
// The schema (runtime/schema/program.fbs) defines the instructions and
// their typed attributes; this table says everything else about each one,
// once: its name, operand count, output rule (shape, fractional bits,
// visibility), secure execution on shares (through the gate functions of
// Protocols.h), float reference execution, and communication cost as a
// function of shapes, attributes and the comparison backend. The loader,
// both executors, stats, dumps and the compiler's cost report read it; no
// other code switches over opcodes. Rows live in runtime/src/isa/ by
// family; IsaTest checks that every opcode has exactly one row and
// IsaCostTest that every row's cost equals what the runtime measures.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Program.h"
#include "umbra/runtime/Protocols.h"
#include <functional>
#include <string>
#include <vector>

namespace umbra::rt {

/// The party that holds a private slot in plaintext: the client's holder
/// (P0, or the thin client of the outsourced mode), the model owner P1
/// (docs/architecture.md, roles).
inline Role holderOf(const PartyState &P, Vis v) {
  return v == Vis::Client ? P.clientHolder : Role::P1;
}

/// What one instruction costs in one inference (or one deployment).
/// `bytes`: online traffic P0->P1 plus P1->P0, 16-byte frame headers
/// included; `rounds`: P0<->P1 communication rounds; `dealerBytes`:
/// material the dealer sends (to P1, and to P0 for DCF keys), framed.
struct Cost {
  uint64_t bytes = 0, rounds = 0, dealerBytes = 0;
  Cost &operator+=(const Cost &o) {
    bytes += o.bytes;
    rounds += o.rounds;
    dealerBytes += o.dealerBytes;
    return *this;
  }
};

/// Accumulates a gate's cost the way its protocol spends it: rows call
/// the cost of the primitives (`cost::` in isa/Common.cpp) in the order the gate
/// calls them.
struct CostAcc {
  Cmp cmp = Cmp::Dcf;
  uint64_t bytes = 0, rounds = 0;
  /// Dealer material words to P1 and to P0 (framed once per instruction).
  uint64_t matP1 = 0, matP0 = 0;
  Cost finish() const;
};

/// Operands and result as the row functions see them.
struct ExecArgs {
  Party &P;
  const InstrInfo &I;
  const SlotInfo &out;
  std::vector<const SlotInfo *> inSlot;
  /// Operand k's data (a share, or plaintext known here) and whether it is
  /// a share. Fetched lazily: a share's holder alone reads its operand.
  std::function<const Vec &(int)> in;
  std::function<bool(int)> shared;
  /// Opened mask of a constant right operand (matmul), or null.
  const MatmulMask *mask = nullptr;
  /// The left operand's opened mask, shared with other products of it
  /// (InstrInfo::lhsFrom / lhsKept), or null.
  LhsMask *lhs = nullptr;
  size_t n() const { return size_t(out.numel); }
  /// Operand k as this party's additive share (P0 holds public values).
  Vec share(int k) const;
};
struct ExecResult {
  Vec data;
  /// False when the value went to the other party only (reveal).
  bool known = true;
};
struct RealArgs {
  const InstrInfo &I;
  const SlotInfo &out;
  std::vector<const SlotInfo *> inSlot;
  std::vector<const std::vector<double> *> in;
};
struct CostArgs {
  const InstrInfo &I;
  const SlotInfo &out;
  std::vector<const SlotInfo *> inSlot;
  /// A matmul whose right operand is a deployment constant (its mask is
  /// opened once per deployment).
  bool constRhs = false;
  /// Its left operand was opened by an earlier product (InstrInfo::lhsFrom).
  bool sharedLhs = false;
  /// Entries a row restricted by a public block mask works on (the live
  /// entries of relu and trunc, the opened or computed entries of
  /// block_matmul), when the mask is known; -1: all (the dense bound).
  int64_t live = -1;
};

struct OpRow {
  Op op;
  /// Operand count range (maxIn < 0: any number >= minIn).
  int minIn, maxIn;
  /// Non-linear gate: an MPC protocol on shared operands, the float
  /// reference (re-encoded) at the holder of private ones. Every other
  /// instruction runs the same ring arithmetic (`secure`) on either.
  bool gate;
  /// Output slot rule; throws Error on a violation.
  SlotInfo (*infer)(const Attrs &, const std::vector<const SlotInfo *> &,
                    const SlotInfo *declared);
  ExecResult (*secure)(const ExecArgs &);
  std::vector<double> (*real)(const RealArgs &);
  /// Null: no communication and no dealer material.
  void (*cost)(const CostArgs &, CostAcc &);
};

/// The row of `op` (throws on an opcode without a row).
const OpRow &opRow(Op op);
/// All rows, in opcode order.
const std::vector<const OpRow *> &opRows();
/// The instruction with this name (snake_case of its schema table), or
/// Op::NONE.
Op opByName(const std::string &name);
/// "axis=1 keepdims=true bits=64": attributes by schema field name.
std::string attrsString(const Attrs &attrs);
/// The same attributes as a JSON object, every field (defaults too) by
/// schema field name; enums by name (mpc-run --dump --json).
std::string attrsJson(const Attrs &attrs);

/// Predicted cost of instruction `idx` of a verified program.
Cost instrCost(const Program &prog, size_t idx, Cmp cmp, int64_t live = -1);

/// Typed attributes from named values (the compiler's exporter maps MLIR
/// attributes through this, by schema field name). `get(field, type)`
/// returns false when there is no value for the field (its schema default
/// applies); otherwise it fills exactly one of the outputs according to the
/// field's type. Returns "" or an error message; never throws.
struct AttrValue {
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
};
enum class AttrKind { Int, Bool, Float, String, Ints, Floats };
std::string buildAttrs(
    Op op,
    const std::function<bool(const char *field, AttrKind, AttrValue &)> &get,
    Attrs &out);

} // namespace umbra::rt
