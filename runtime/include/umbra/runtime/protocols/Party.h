//===- Party.h - One role of a 2PC + dealer session ------------*- C++ -*-===//
//
// One code path for all three roles. P0 and P1 run a gate on their shares;
// the dealer runs the *same* gate code on placeholder data, and every call
// that asks for correlated randomness makes its material provider produce
// it. Openings are no-ops on the dealer, which never sees data.
//
// A Party is three separate things put together for the gates: its state
// (PartyState: role, fractional bits, counters, links), its material
// provider (Material.h), and its channel to the peer (PeerChannel, which
// counts bytes and rounds). The comparison backend (Comparison.h) is chosen
// once per session.
//
//===----------------------------------------------------------------------===//
#pragma once
#include "umbra/runtime/protocols/Comparison.h"
#include "umbra/runtime/protocols/Material.h"

namespace umbra::rt {

/// P0 <-> P1 messages of the online phase, charged to the party's counters
/// (bytes with frame headers, one round per call). No-ops on the dealer.
class PeerChannel {
public:
  explicit PeerChannel(PartyState &state) : S_(state) {}
  /// One round: both send `mine.size()` words and receive as many.
  Vec exchange(const Vec &mine);
  Vec open(const Vec &share);     // arithmetic: x0 + x1
  Vec openBits(const Vec &share); // boolean: x0 ^ x1
  /// One round in one direction: the sender passes `words`, the receiver
  /// gets `n` words back (the sender gets an empty vector).
  Vec oneWay(FrameType t, bool sending, const Vec &words, size_t n);

private:
  PartyState &S_;
};

class Party : public PartyState {
public:
  Party(Role role, int frac);
  Party(const Party &) = delete;
  Party &operator=(const Party &) = delete;

  /// The comparison backend of this session (both parties and the dealer
  /// must agree; part of the handshake).
  Cmp cmp = Cmp::Dcf;
  const Comparison &comparison() const { return comparisonFor(cmp); }

  /// Seeds of the dealer's streams: P0 gets s0, P1 gets s1, the dealer both.
  void setSeeds(const Seed &s0, const Seed &s1) { dealer_.setSeeds(s0, s1); }
  /// Replaces the material provider (default: the dealer's streams).
  void setMaterialProvider(MaterialProvider *m) { mat_ = m ? m : &dealer_; }
  MaterialProvider &materialProvider() { return *mat_; }
  PeerChannel &peerChannel() { return net_; }

  // -- correlated randomness (see MaterialProvider) ------------------------
  Vec randShared(size_t n) { return mat_->randShared(n); }
  Vec corr(size_t n, const std::function<Vec()> &full) {
    return mat_->corr(n, full);
  }
  /// corr() of the values f(0), ..., f(n-1) (f runs on the dealer only).
  template <typename F> Vec corrEach(size_t n, F f) {
    return mat_->corr(n, [&] {
      Vec v(n);
      for (size_t e = 0; e < n; ++e)
        v[e] = f(e);
      return v;
    });
  }
  Vec randBits(size_t nw) { return mat_->randBits(nw); }
  Vec corrBits(size_t nw, const std::function<Vec()> &full) {
    return mat_->corrBits(nw, full);
  }
  const uint64_t *corrBoth(size_t nw,
                           const std::function<void(uint64_t *)> &fill) {
    return mat_->corrBoth(nw, fill);
  }
  Vec seedOf(int which, size_t nw) { return mat_->seedOf(which, nw); }
  /// End of an instruction: the dealer ships P1's corrections in one frame.
  void flushMaterial() { mat_->flush(); }

  // -- communication between P0 and P1 (see PeerChannel) -------------------
  Vec exchange(const Vec &mine) { return net_.exchange(mine); }
  Vec open(const Vec &share) { return net_.open(share); }
  Vec openBits(const Vec &share) { return net_.openBits(share); }

  Prg own; // private randomness (input masks)

private:
  DealerMaterial dealer_{*this};
  MaterialProvider *mat_ = &dealer_;
  PeerChannel net_{*this};
};

} // namespace umbra::rt
