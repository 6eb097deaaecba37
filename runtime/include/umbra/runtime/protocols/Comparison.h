//===- Comparison.h - Comparison backends behind one interface -*- C++ -*-===//
//
// Every nonlinear gate (DReLU, LTZ, ReLU, max/argmax, the thresholds of the
// reciprocal and rsqrt) is built on a Comparison. A backend implements the
// interface in its own file under src/protocols/dealer2pc/cmp/ and gets one
// entry in comparisonFor(); the session picks it once (handshake field, the
// mpc-run --comparison flag) and no gate tests which backend it runs on.
//
// Inputs are additive shares over Z_2^64 compared on their low `bits` bits
// (exact when |x| < 2^(bits-1); the compiler's range analysis supplies the
// width, 64 without one). Outputs are arithmetic 0/1 sharings.
//
//===----------------------------------------------------------------------===//
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace umbra::rt {

class Party;
using Vec = std::vector<uint64_t>;

/// The comparison backends (the value is the handshake's).
enum class Cmp : int { Dcf = 0, Bits = 1 };
/// Every backend, in Cmp order (tests run each gate on all of them).
constexpr Cmp kAllComparisons[] = {Cmp::Dcf, Cmp::Bits};
/// The backend's name ("dcf", "bits"; "unknown" for a value no backend has,
/// e.g. in a handshake with a newer peer).
const char *cmpName(Cmp c);
/// The backend called `name` (as mpc-run --comparison spells it).
std::optional<Cmp> cmpFromName(const std::string &name);

/// Online cost of one comparison gate per party: rounds, and bytes per
/// element sent plus received (frame headers excluded: one 16-byte header
/// each way per round). Exact for element counts that are multiples of 64.
struct CmpCost {
  uint64_t rounds = 0;
  double bytesPerElem = 0;
};

class Comparison {
public:
  /// What identifies a backend and the defaults of reciprocal/rsqrt plans on
  /// it (Fxp.h InvPlan): product levels of the residual series and threshold
  /// segments per binade (fewer, deeper segments where thresholds are
  /// expensive).
  struct Traits {
    Cmp id;
    const char *name;
    int inverseLevels;
    int inverseSegments;
  };

  explicit Comparison(const Traits &t) : traits_(t) {}
  virtual ~Comparison() = default;
  Cmp id() const { return traits_.id; }
  const char *name() const { return traits_.name; }
  int inverseLevels() const { return traits_.inverseLevels; }
  int inverseSegments() const { return traits_.inverseSegments; }

  /// 1{x >= 0}.
  virtual Vec drelu(Party &P, const Vec &x, int bits) const = 0;
  /// 1{x < 0}, the most significant bit of x in `bits` bits.
  virtual Vec ltz(Party &P, const Vec &x, int bits) const = 0;
  /// max(x, 0).
  virtual Vec relu(Party &P, const Vec &x, int bits) const = 0;
  /// 1{x >= 0} times each of the k = ys.size() / x.size() vectors
  /// concatenated in ys (max and argmax select value and index with one
  /// comparison bit).
  virtual Vec gate(Party &P, const Vec &x, const Vec &ys, int bits) const = 0;
  /// Shares of 1{x_e >= thr_q} at index e * thr.size() + q, for public
  /// thresholds thr, exact for |x - thr_q| < 2^(bits-1).
  virtual Vec atLeast(Party &P, const Vec &x, const std::vector<uint64_t> &thr,
                      int bits) const = 0;

  /// Cost of drelu/ltz (relu = false) or relu (relu = true) at `bits`.
  virtual CmpCost cost(bool relu, int bits) const = 0;

private:
  Traits traits_;
};

/// The backend object of `c` (one static instance per backend).
const Comparison &comparisonFor(Cmp c);

} // namespace umbra::rt
