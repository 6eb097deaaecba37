//===- Protocols.h - 2PC + dealer protocols over Z_2^64 --------*- C++ -*-===//
//
// One code path for all three roles. P0 and P1 run a gate on their shares;
// the dealer runs the *same* gate code on placeholder data, and every call
// that asks for correlated randomness (randShared, corr, randBits, corrBits)
// makes the dealer produce it: random parts come from seeds the dealer
// shares with P0 (prg0) and with P1 (prg1), so only P1's corrections of
// correlated values (products, bit decompositions) travel on the wire.
// Openings are no-ops on the dealer, which never sees data. This keeps the
// dealer's material and the parties' consumption in lock-step by
// construction. Costs per element are in docs/protocols.md and are checked
// exactly by ProtocolTest.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Prg.h"
#include "umbra/runtime/Program.h"
#include "umbra/runtime/Transport.h"
#include <functional>
#include <vector>

namespace umbra::rt {

enum class Role : int { P0 = 0, P1 = 1, Dealer = 2 };
const char *roleName(Role r);

using Vec = std::vector<uint64_t>;

/// Comparison backend (both parties and the dealer must agree; part of the
/// handshake). Dcf: one round, 16 B online per comparison, large dealer
/// keys. Bits: dealer bit-decomposition + AND tree, 8 rounds, ~80 B online,
/// ~31 B dealer material. Costs in docs/protocols.md.
enum class Cmp : int { Dcf = 0, Bits = 1 };
const char *cmpName(Cmp c);

struct Counters {
  uint64_t sent = 0, recv = 0, rounds = 0, dealerBytes = 0;
};

/// What was spent between two readings of a party's counters.
inline Counters operator-(Counters a, const Counters &b) {
  a.sent -= b.sent;
  a.recv -= b.recv;
  a.rounds -= b.rounds;
  a.dealerBytes -= b.dealerBytes;
  return a;
}

class Party {
public:
  Party(Role role, int frac);
  Role role;
  int frac;
  bool dealer() const { return role == Role::Dealer; }
  bool p0() const { return role == Role::P0; }

  /// P0<->P1 channel (parties only).
  Channel *peer = nullptr;
  /// Material channel from the dealer (P0, P1); on the dealer: to P1.
  Channel *material = nullptr;
  /// Dealer only: material channel to P0 (DCF correction words).
  Channel *material0 = nullptr;
  Cmp cmp = Cmp::Dcf;

  /// Seeds shared with the dealer: P0 gets s0, P1 gets s1, the dealer both.
  void setSeeds(const Seed &s0, const Seed &s1);

  // -- correlated randomness -------------------------------------------
  /// Additively shared uniform values; the dealer gets the full values.
  Vec randShared(size_t n);
  /// Shares of dealer-computed values `full()` (called on the dealer only).
  Vec corr(size_t n, const std::function<Vec()> &full);
  /// XOR-shared random words / XOR-shares of dealer-computed words.
  Vec randBits(size_t nw);
  Vec corrBits(size_t nw, const std::function<Vec()> &full);
  /// Dealer-computed words that *both* parties receive (DCF correction
  /// words are common to both keys).
  /// On the dealer `fill` writes the nw words in place. The pointer stays
  /// valid until the next material request.
  const uint64_t *corrBoth(size_t nw,
                           const std::function<void(uint64_t *)> &fill);
  /// Random words known to the dealer and to party `which` only (DCF root
  /// seeds). The other party gets an empty vector and draws nothing.
  Vec seedOf(int which, size_t nw);
  /// End of an instruction: the dealer ships P1's corrections in one frame.
  void flushMaterial();

  // -- communication between P0 and P1 (no-ops on the dealer) -------------
  /// One round: both send `n` words and receive `n` words.
  Vec exchange(const Vec &mine);
  Vec open(const Vec &share);     // arithmetic: x0 + x1
  Vec openBits(const Vec &share); // boolean: x0 ^ x1

  Counters ctr;
  /// Seconds spent waiting for dealer material (offline work in a real
  /// deployment, where the dealer runs ahead).
  double materialWait = 0;
  uint64_t tag = 0; // instruction counter, checked in material frames
  Prg own;          // private randomness (input masks)

private:
  Prg prg0_, prg1_;
  Vec matOut_, matOut0_, matIn_;
  size_t matPos_ = 0;
  void sendMaterial(Vec &out, Channel *ch);
  uint64_t *appendMaterial(Vec &out, Channel *ch, size_t nw);
  const uint64_t *takeMaterial(size_t nw);
  /// corr / corrBits: the dealer sends P1 `combine(full, P0's seeded half)`.
  template <typename Combine>
  Vec correlated(size_t n, const std::function<Vec()> &full, Combine combine);
};

// -- linear -----------------------------------------------------------------
/// Secret-shares `plain` (meaningful at `owner` only; n elements).
Vec shareInput(Party &P, Role owner, const Vec &plain, size_t n);
/// Opens to `to` (P0, P1 or both). Non-recipients get an empty vector.
Vec reveal(Party &P, const Vec &share, RevealTo to);
/// Adds a public vector to a sharing (P0's share absorbs it).
void addPublic(Party &P, Vec &share, const Vec &pub);

// -- multiplication -----------------------------------------------------------
Vec mul(Party &P, const Vec &x, const Vec &y);
/// x² with a square pair (a, a²): opens only x − a (16 B, 1 round).
Vec square(Party &P, const Vec &x);
/// Mask of a constant right operand, opened once per deployment.
struct MatmulMask {
  Vec maskShare; // dealer: the full mask
  Vec opened;    // W - mask (public)
  bool ready = false;
};
void prepareMatmulMask(Party &P, const Vec &w, MatmulMask &m);
/// Shared X[batch][n][k] times shared W[k][m] (wBatched: W[batch][k][m]).
/// With `mask` (constant W), only X - A is opened.
Vec matmulShared(Party &P, const Vec &x, const Vec &w, int64_t batch, int64_t n,
                 int64_t k, int64_t m, bool wBatched,
                 const MatmulMask *mask = nullptr);
/// Local product (either operand public): shares times public or public×public.
Vec matmulLocal(const Vec &x, const Vec &w, int64_t batch, int64_t n, int64_t k,
                int64_t m, bool wBatched, bool dealer);

// -- truncation ---------------------------------------------------------------
/// Faithful truncation by `bits`: result is floor(x / 2^bits) or that + 1
/// (never a wrap error) for |x| < 2^62. One round, 16 B online per element.
Vec trunc(Party &P, const Vec &x, int bits);

// -- comparison
// -----------------------------------------------------------------
/// XOR-shared MSB(x) of each element, bit-packed (element e is bit e%64 of
/// word e/64). 7 rounds.
/// With bits < 64 only the low `bits` bits are compared: exact when
/// |x| < 2^(bits-1) (the compiler's range analysis supplies the width).
Vec msbBits(Party &P, const Vec &x, int bits = 64);
/// Boolean to arithmetic (one round).
Vec b2a(Party &P, const Vec &bits, size_t n);
/// bits[e] * x[e] for XOR-shared bits and additive x, one round.
Vec bitMul(Party &P, const Vec &bits, const Vec &x);
Vec drelu(Party &P, const Vec &x, int bits = 64); // 1{x >= 0}
Vec ltz(Party &P, const Vec &x, int bits = 64);   // 1{x < 0}
Vec relu(Party &P, const Vec &x, int bits = 64);
/// c ? a : b with c an arithmetic 0/1 sharing.
Vec select(Party &P, const Vec &c, const Vec &a, const Vec &b);
/// Max (and optionally argmax) over rows of length `len`.
void maxRows(Party &P, const Vec &x, int64_t rows, int64_t len, Vec *maxOut,
             Vec *argOut, int bits = 64);

// -- fixed-point functions (frac = P.frac unless given)
// ------------------------
/// `bits`: width of the clamp comparison (exact for |1 + x/2^t| <
/// 2^(bits-1-frac)).
Vec expGate(Party &P, const Vec &x, int frac, int t, int bits = 64);
Vec polyGate(Party &P, const Vec &x, int frac, const std::vector<double> &c);
Vec reciprocalGate(Party &P, const Vec &x, int frac, double lo, double hi,
                   int iters);
Vec rsqrtGate(Party &P, const Vec &x, int frac, double lo, double hi,
              int iters);

/// Reciprocal / rsqrt plan for a stated input range (exposed for docs and
/// tests; construction and costs in docs/protocols.md). `iters` is the
/// number L of product levels of the residual series (degree d = 2^L);
/// 0 picks L = 2 (dcf) or 3 (bits) with S = 16 (dcf) or 4 (bits) segments
/// per binade; a given L picks the smallest S that meets 2^-(F+1).
struct InvPlan {
  bool rsqrt = false;
  int frac = 0;
  uint64_t xlo = 0, xhi = 0; // integer input range
  int jlo = 0, jhi = 0;      // binades of xlo, xhi
  int S = 0, L = 0, d = 0;   // segments per binade, levels, series degree
  int cmpBits = 64;          // DCF comparison width (exact below 2^(jhi+3))
  int F = 0, T = 0, R = 0;   // internal bits, X*table scale, rescale shift
  std::vector<uint64_t> thr; // thresholds (Q of them, ascending)
  std::vector<int> segK;     // per segment: normalising exponent k'
  std::vector<uint64_t> yn0; // per segment: start at F bits
  std::vector<uint64_t> w;   // per segment: rescale 2^(ex + R)
  std::vector<double> coef;  // series coefficients a_0..a_{d+1}
  std::vector<int> levelA;   // extra bits in each level's products
  double e0max = 0;          // max |e0| over the range
  double maxRelErr = 0;      // predicted relative error (plus 1 LSB)
};
InvPlan planInverse(bool rsqrt, double lo, double hi, int frac, int iters,
                    Cmp cmp);

// -- function secret sharing
// ---------------------------------------------------
/// Distributed comparison function (Boyle et al., Eurocrypt 2021, Fig. 1)
/// over `nbits`-bit inputs with `np` payload words: the parties get
/// additive shares of beta_e * 1{x_e < alpha_e} for each element e, where
/// alpha/beta are dealer values (computed on the dealer by `alpha`/`beta`)
/// and x is public to both parties. No communication; the dealer sends the
/// correction words to both parties. With pts > 1 there are
/// x.size() / pts keys and key e is evaluated at the pts public points
/// x[e*pts .. e*pts + pts) (one key answers several thresholds against the
/// same masked value; alpha/beta have one entry per key).
std::vector<Vec> dcfLessThan(Party &P, const Vec &x, int nbits, int np,
                             const std::function<Vec()> &alpha,
                             const std::function<std::vector<Vec>()> &beta,
                             size_t pts = 1);
/// DReLU and ReLU in one round through a DCF on the masked input (valid
/// for |x| < 2^(bits-1)); wantRelu also returns ReLU(x).
void dcfSign(Party &P, const Vec &x, int bits, Vec *dreluOut, Vec *reluOut);

// -- bit packing helpers
// --------------------------------------------------------
Vec packBits(const std::vector<uint8_t> &b);
std::vector<uint8_t> unpackBits(const Vec &w, size_t n);

} // namespace umbra::rt
