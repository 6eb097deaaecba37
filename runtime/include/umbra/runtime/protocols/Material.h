//===- Material.h - Where correlated randomness comes from -----*- C++ -*-===//
//
// A gate asks its material provider for correlated randomness (random
// shares, shares of values computed from them, words both parties get) and
// never knows how it is produced, as with SPU's beaver_ttp or CrypTen's
// tuple providers. Today's provider is the trusted dealer (DealerMaterial);
// an OT- or HE-based generator would be a sibling class.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/Prg.h"
#include "umbra/runtime/protocols/Channel.h"
#include <functional>
#include <vector>

namespace umbra::rt {

enum class Role : int { P0 = 0, P1 = 1, Dealer = 2 };
const char *roleName(Role r);

using Vec = std::vector<uint64_t>;

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

/// What a party is and what it has spent: read by the material provider,
/// the peer channel, the gates and the executor.
struct PartyState {
  PartyState(Role r, int f) : role(r), frac(f) {}
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

  Counters ctr;
  /// Seconds spent waiting for dealer material (offline work in a real
  /// deployment, where the dealer runs ahead).
  double materialWait = 0;
  uint64_t tag = 0; // instruction counter, checked in material frames
};

/// The correlated randomness a gate can ask for. All three roles call the
/// same methods in the same order; what each gets back is its share (the
/// dealer gets the full values).
class MaterialProvider {
public:
  virtual ~MaterialProvider() = default;
  /// Additively shared uniform values; the dealer gets the full values.
  virtual Vec randShared(size_t n) = 0;
  /// Shares of dealer-computed values `full()` (called on the dealer only).
  virtual Vec corr(size_t n, const std::function<Vec()> &full) = 0;
  /// XOR-shared random words / XOR-shares of dealer-computed words.
  virtual Vec randBits(size_t nw) = 0;
  virtual Vec corrBits(size_t nw, const std::function<Vec()> &full) = 0;
  /// Dealer-computed words that *both* parties receive (DCF correction
  /// words are common to both keys). On the dealer `fill` writes the nw
  /// words in place. The pointer stays valid until the next request.
  virtual const uint64_t *
  corrBoth(size_t nw, const std::function<void(uint64_t *)> &fill) = 0;
  /// Random words known to the dealer and to party `which` only (DCF root
  /// seeds). The other party gets an empty vector and draws nothing.
  virtual Vec seedOf(int which, size_t nw) = 0;
  /// End of an instruction: whatever was produced for it is delivered (a
  /// party checks it consumed everything).
  virtual void flush() = 0;
};

/// The trusted dealer of 2PC + dealer. Random parts come from seeds the
/// dealer shares with P0 (prg0) and with P1 (prg1), so only P1's
/// corrections of correlated values (products, bit decompositions) and the
/// words both parties need travel, in one Material frame per instruction
/// ([tag][words...], split when a buffer passes 32 MiB). This keeps the
/// dealer's material and the parties' consumption in lock-step by
/// construction.
class DealerMaterial final : public MaterialProvider {
public:
  explicit DealerMaterial(PartyState &state) : S_(state) {}
  /// P0 gets s0, P1 gets s1, the dealer both.
  void setSeeds(const Seed &s0, const Seed &s1);

  Vec randShared(size_t n) override;
  Vec corr(size_t n, const std::function<Vec()> &full) override;
  Vec randBits(size_t nw) override;
  Vec corrBits(size_t nw, const std::function<Vec()> &full) override;
  const uint64_t *
  corrBoth(size_t nw, const std::function<void(uint64_t *)> &fill) override;
  Vec seedOf(int which, size_t nw) override;
  void flush() override;

private:
  PartyState &S_;
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

} // namespace umbra::rt
