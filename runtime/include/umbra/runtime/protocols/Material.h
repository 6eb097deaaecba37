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
#include "umbra/runtime/protocols/PartyState.h"
#include <functional>
#include <vector>

namespace umbra::rt {

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
