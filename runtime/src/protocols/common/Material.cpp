//===- Material.cpp - The dealer's correlated-randomness streams ----------===//
#include "umbra/runtime/protocols/Material.h"

#include <chrono>
#include <cstring>

namespace umbra::rt {

void DealerMaterial::setSeeds(const Seed &s0, const Seed &s1) {
  if (S_.role != Role::P1)
    prg0_.reseed(s0);
  if (S_.role != Role::P0)
    prg1_.reseed(s1);
}

Vec DealerMaterial::seedOf(int which, size_t nw) {
  if (S_.role != Role::Dealer && int(S_.role) != which)
    return {};
  return which == 0 ? prg0_.vec(nw) : prg1_.vec(nw);
}

/// Each party's share from its own stream; the dealer combines both into
/// the value (`combine` is + for arithmetic shares, ^ for XOR shares).
template <typename Combine>
static Vec fromStreams(Role role, Prg &prg0, Prg &prg1, size_t n,
                       Combine combine) {
  if (role == Role::P0)
    return prg0.vec(n);
  if (role == Role::P1)
    return prg1.vec(n);
  Vec a = prg0.vec(n), b = prg1.vec(n);
  for (size_t i = 0; i < n; ++i)
    a[i] = combine(a[i], b[i]);
  return a;
}

Vec DealerMaterial::randShared(size_t n) {
  return fromStreams(S_.role, prg0_, prg1_, n, std::plus<uint64_t>());
}

Vec DealerMaterial::randBits(size_t nw) {
  return fromStreams(S_.role, prg0_, prg1_, nw, std::bit_xor<uint64_t>());
}

// Material frames: [tag][words...]. The dealer streams a frame whenever a
// buffer passes kMaterialChunk words (between two requests, so a request
// never spans frames) and at the end of every instruction.
static constexpr size_t kMaterialChunk = size_t(1) << 22; // 32 MiB

void DealerMaterial::sendMaterial(Vec &out, Channel *ch) {
  if (out.size() <= 1)
    return;
  out[0] = S_.tag;
  ch->send(FrameType::Material, out.data(), out.size() * 8);
  S_.ctr.dealerBytes += out.size() * 8 + 16;
  out.clear();
}

uint64_t *DealerMaterial::appendMaterial(Vec &out, Channel *ch, size_t nw) {
  static uint64_t none;
  if (nw == 0)
    return &none;
  if (out.size() + nw > kMaterialChunk)
    sendMaterial(out, ch);
  if (out.empty())
    out.push_back(0); // tag, filled in when sent
  out.resize(out.size() + nw);
  return out.data() + out.size() - nw;
}

const uint64_t *DealerMaterial::takeMaterial(size_t nw) {
  static const uint64_t none = 0;
  if (nw == 0)
    return &none;
  if (matPos_ == matIn_.size()) {
    UMBRA_CHECK(S_.material, "internal: no dealer channel");
    matIn_.clear();
    auto t0 = std::chrono::steady_clock::now();
    // Bounded so a malformed length cannot trigger a huge allocation.
    S_.material->recvWords(FrameType::Material, matIn_, size_t(1) << 28);
    S_.materialWait +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    UMBRA_CHECK(!matIn_.empty(), "malformed frame from dealer: empty material");
    UMBRA_CHECK(matIn_[0] == S_.tag,
                "malformed frame from dealer: material for "
                "instruction ",
                matIn_[0], " while running ", S_.tag);
    S_.ctr.dealerBytes += matIn_.size() * 8 + 16;
    matPos_ = 1;
  }
  UMBRA_CHECK(matPos_ + nw <= matIn_.size(),
              "malformed frame from dealer: material too short");
  const uint64_t *p = matIn_.data() + matPos_;
  matPos_ += nw;
  return p;
}

/// P0 expands its half from the seed, P1 reads the dealer's correction, and
/// the dealer computes the full value and sends `combine(full, P0's half)`.
template <typename Combine>
Vec DealerMaterial::correlated(size_t n, const std::function<Vec()> &full,
                               Combine combine) {
  if (S_.role == Role::P0)
    return prg0_.vec(n);
  if (S_.role == Role::P1) {
    const uint64_t *p = takeMaterial(n);
    return Vec(p, p + n);
  }
  Vec f = full();
  Vec c0 = prg0_.vec(n);
  uint64_t *o = appendMaterial(matOut_, S_.material, n);
  for (size_t i = 0; i < n; ++i)
    o[i] = combine(f[i], c0[i]);
  return f;
}

Vec DealerMaterial::corr(size_t n, const std::function<Vec()> &full) {
  return correlated(n, full, [](uint64_t f, uint64_t c) { return f - c; });
}

Vec DealerMaterial::corrBits(size_t nw, const std::function<Vec()> &full) {
  return correlated(nw, full, [](uint64_t f, uint64_t c) { return f ^ c; });
}

const uint64_t *
DealerMaterial::corrBoth(size_t nw,
                         const std::function<void(uint64_t *)> &full) {
  if (S_.role == Role::Dealer) {
    uint64_t *o1 = appendMaterial(matOut_, S_.material, nw);
    full(o1);
    // Nothing to copy for no words (and memcpy must not see the null
    // data() of a buffer that was just sent).
    if (nw == 0)
      return o1;
    uint64_t *o0 = appendMaterial(matOut0_, S_.material0, nw);
    std::memcpy(o0, o1 = matOut_.data() + matOut_.size() - nw, nw * 8);
    return o1;
  }
  return takeMaterial(nw);
}

void DealerMaterial::flush() {
  if (S_.role == Role::Dealer) {
    sendMaterial(matOut_, S_.material);
    sendMaterial(matOut0_, S_.material0);
    return;
  }
  UMBRA_CHECK(matPos_ == matIn_.size(),
              "malformed frame from dealer: unused material");
}

} // namespace umbra::rt
