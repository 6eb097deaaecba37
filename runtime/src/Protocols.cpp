//===- Protocols.cpp - 2PC + dealer gates ---------------------------------===//
#include "umbra/runtime/Protocols.h"
#include "umbra/runtime/Gemm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <tuple>

namespace umbra::rt {

const char *roleName(Role r) {
  switch (r) {
  case Role::P0:
    return "p0";
  case Role::P1:
    return "p1";
  case Role::Dealer:
    return "dealer";
  }
  return "?";
}

const char *cmpName(Cmp c) { return c == Cmp::Dcf ? "dcf" : "bits"; }

Party::Party(Role r, int f) : role(r), frac(f) {}

void Party::setSeeds(const Seed &s0, const Seed &s1) {
  if (role != Role::P1)
    prg0_.reseed(s0);
  if (role != Role::P0)
    prg1_.reseed(s1);
}

Vec Party::seedOf(int which, size_t nw) {
  if (role == Role::Dealer)
    return which == 0 ? prg0_.vec(nw) : prg1_.vec(nw);
  if (int(role) != which)
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

Vec Party::randShared(size_t n) {
  return fromStreams(role, prg0_, prg1_, n, std::plus<uint64_t>());
}

Vec Party::randBits(size_t nw) {
  return fromStreams(role, prg0_, prg1_, nw, std::bit_xor<uint64_t>());
}

// Material frames: [tag][words...]. The dealer streams a frame whenever a
// buffer passes kMaterialChunk words (between two requests, so a request
// never spans frames) and at the end of every instruction.
static constexpr size_t kMaterialChunk = size_t(1) << 22; // 32 MiB

void Party::sendMaterial(Vec &out, Channel *ch) {
  if (out.size() <= 1)
    return;
  out[0] = tag;
  ch->send(FrameType::Material, out.data(), out.size() * 8);
  ctr.dealerBytes += out.size() * 8 + 16;
  out.clear();
}

uint64_t *Party::appendMaterial(Vec &out, Channel *ch, size_t nw) {
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

const uint64_t *Party::takeMaterial(size_t nw) {
  static const uint64_t none = 0;
  if (nw == 0)
    return &none;
  if (matPos_ == matIn_.size()) {
    UMBRA_CHECK(material, "internal: no dealer channel");
    matIn_.clear();
    auto t0 = std::chrono::steady_clock::now();
    // Bounded so a malformed length cannot trigger a huge allocation.
    material->recvWords(FrameType::Material, matIn_, size_t(1) << 28);
    materialWait +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    UMBRA_CHECK(!matIn_.empty(), "malformed frame from dealer: empty material");
    UMBRA_CHECK(matIn_[0] == tag,
                "malformed frame from dealer: material for "
                "instruction ",
                matIn_[0], " while running ", tag);
    ctr.dealerBytes += matIn_.size() * 8 + 16;
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
Vec Party::correlated(size_t n, const std::function<Vec()> &full,
                      Combine combine) {
  if (role == Role::P0)
    return prg0_.vec(n);
  if (role == Role::P1) {
    const uint64_t *p = takeMaterial(n);
    return Vec(p, p + n);
  }
  Vec f = full();
  Vec c0 = prg0_.vec(n);
  uint64_t *o = appendMaterial(matOut_, material, n);
  for (size_t i = 0; i < n; ++i)
    o[i] = combine(f[i], c0[i]);
  return f;
}

Vec Party::corr(size_t n, const std::function<Vec()> &full) {
  return correlated(n, full, [](uint64_t f, uint64_t c) { return f - c; });
}

Vec Party::corrBits(size_t nw, const std::function<Vec()> &full) {
  return correlated(nw, full, [](uint64_t f, uint64_t c) { return f ^ c; });
}

const uint64_t *Party::corrBoth(size_t nw,
                                const std::function<void(uint64_t *)> &full) {
  if (role == Role::Dealer) {
    uint64_t *o1 = appendMaterial(matOut_, material, nw);
    full(o1);
    uint64_t *o0 = appendMaterial(matOut0_, material0, nw);
    std::memcpy(o0, o1 = matOut_.data() + matOut_.size() - nw, nw * 8);
    return o1;
  }
  return takeMaterial(nw);
}

void Party::flushMaterial() {
  if (role == Role::Dealer) {
    sendMaterial(matOut_, material);
    sendMaterial(matOut0_, material0);
    return;
  }
  UMBRA_CHECK(matPos_ == matIn_.size(),
              "malformed frame from dealer: unused material");
}

Vec Party::exchange(const Vec &mine) {
  if (dealer())
    return Vec(mine.size(), 0);
  Vec theirs(mine.size());
  uint64_t s0 = peer->stats.bytesSent, r0 = peer->stats.bytesRecv;
  peer->exchange(FrameType::Open, mine.data(), mine.size() * 8, theirs.data(),
                 theirs.size() * 8);
  ctr.sent += peer->stats.bytesSent - s0;
  ctr.recv += peer->stats.bytesRecv - r0;
  ctr.rounds += 1;
  return theirs;
}

Vec Party::open(const Vec &share) {
  Vec t = exchange(share);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] += share[i];
  return t;
}

Vec Party::openBits(const Vec &share) {
  Vec t = exchange(share);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] ^= share[i];
  return t;
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

Vec shareInput(Party &P, Role owner, const Vec &plain, size_t n) {
  if (P.dealer())
    return Vec(n, 0);
  Channel &c = *P.peer;
  uint64_t s0 = c.stats.bytesSent, r0 = c.stats.bytesRecv;
  Vec mine(n);
  if (P.role == owner) {
    UMBRA_CHECK(plain.size() == n, "input has ", plain.size(),
                " elements, expected ", n);
    Vec r = P.own.vec(n);
    Vec other(n);
    for (size_t i = 0; i < n; ++i) {
      mine[i] = plain[i] - r[i];
      other[i] = r[i];
    }
    c.send(FrameType::Share, other.data(), n * 8);
  } else {
    c.recvExact(FrameType::Share, mine.data(), n * 8);
  }
  P.ctr.sent += c.stats.bytesSent - s0;
  P.ctr.recv += c.stats.bytesRecv - r0;
  P.ctr.rounds += 1;
  return mine;
}

Vec reveal(Party &P, const Vec &share, RevealTo to) {
  if (to == RevealTo::Client)
    to = RevealTo::P0;
  if (to == RevealTo::Both)
    return P.open(share);
  if (P.dealer())
    return {};
  Channel &c = *P.peer;
  uint64_t s0 = c.stats.bytesSent, r0 = c.stats.bytesRecv;
  bool iGet = (to == RevealTo::P0) == P.p0();
  Vec out;
  if (iGet) {
    out.resize(share.size());
    c.recvExact(FrameType::Reveal, out.data(), out.size() * 8);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] += share[i];
  } else {
    c.send(FrameType::Reveal, share.data(), share.size() * 8);
  }
  P.ctr.sent += c.stats.bytesSent - s0;
  P.ctr.recv += c.stats.bytesRecv - r0;
  P.ctr.rounds += 1;
  return out;
}

void addPublic(Party &P, Vec &share, const Vec &pub) {
  if (P.p0())
    for (size_t i = 0; i < share.size(); ++i)
      share[i] += pub[i];
}

//===----------------------------------------------------------------------===//
// Multiplication
//===----------------------------------------------------------------------===//

Vec mul(Party &P, const Vec &x, const Vec &y) {
  size_t n = x.size();
  Vec a = P.randShared(n), b = P.randShared(n);
  Vec c = P.corr(n, [&] {
    Vec r(n);
    for (size_t i = 0; i < n; ++i)
      r[i] = a[i] * b[i];
    return r;
  });
  Vec de(2 * n);
  for (size_t i = 0; i < n; ++i) {
    de[i] = x[i] - a[i];
    de[n + i] = y[i] - b[i];
  }
  de = P.open(de);
  Vec z(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t d = de[i], e = de[n + i];
    z[i] = c[i] + d * b[i] + e * a[i] + (P.p0() ? d * e : 0);
  }
  return z;
}

Vec square(Party &P, const Vec &x) {
  size_t n = x.size();
  Vec a = P.randShared(n);
  Vec c = P.corr(n, [&] {
    Vec r(n);
    for (size_t i = 0; i < n; ++i)
      r[i] = a[i] * a[i];
    return r;
  });
  Vec d(n);
  for (size_t i = 0; i < n; ++i)
    d[i] = x[i] - a[i];
  d = P.open(d);
  Vec z(n);
  for (size_t i = 0; i < n; ++i)
    z[i] = c[i] + 2 * d[i] * a[i] + (P.p0() ? d[i] * d[i] : 0);
  return z;
}

static void gemmBatched(const uint64_t *A, const uint64_t *B, uint64_t *C,
                        int64_t batch, int64_t n, int64_t k, int64_t m,
                        bool bBatched, bool acc) {
  if (!bBatched) {
    gemmRing(batch * n, m, k, A, k, B, m, C, m, acc);
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    gemmRing(n, m, k, A + b * n * k, k, B + b * k * m, m, C + b * n * m, m,
             acc);
}

Vec matmulLocal(const Vec &x, const Vec &w, int64_t batch, int64_t n, int64_t k,
                int64_t m, bool wBatched, bool dealer) {
  Vec z(size_t(batch * n * m), 0);
  if (!dealer)
    gemmBatched(x.data(), w.data(), z.data(), batch, n, k, m, wBatched, false);
  return z;
}

void prepareMatmulMask(Party &P, const Vec &w, MatmulMask &m) {
  m.maskShare = P.randShared(w.size());
  Vec f(w.size());
  for (size_t i = 0; i < w.size(); ++i)
    f[i] = w[i] - m.maskShare[i];
  m.opened = P.open(f);
  m.ready = true;
}

Vec matmulShared(Party &P, const Vec &x, const Vec &w, int64_t batch, int64_t n,
                 int64_t k, int64_t m, bool wBatched, const MatmulMask *mask) {
  size_t nx = size_t(batch * n * k),
         nw = size_t((wBatched ? batch : 1) * k * m);
  size_t nz = size_t(batch * n * m);
  Vec A = P.randShared(nx);
  Vec Bfresh;
  const Vec *B;
  if (mask) {
    B = &mask->maskShare;
  } else {
    Bfresh = P.randShared(nw);
    B = &Bfresh;
  }
  Vec C = P.corr(nz, [&] {
    Vec c(nz, 0);
    gemmBatched(A.data(), B->data(), c.data(), batch, n, k, m, wBatched, false);
    return c;
  });
  Vec ef(nx + (mask ? 0 : nw));
  for (size_t i = 0; i < nx; ++i)
    ef[i] = x[i] - A[i];
  if (!mask)
    for (size_t i = 0; i < nw; ++i)
      ef[nx + i] = w[i] - (*B)[i];
  ef = P.open(ef);
  if (P.dealer())
    return Vec(nz, 0);
  const uint64_t *E = ef.data();
  const uint64_t *F = mask ? mask->opened.data() : ef.data() + nx;
  // Z = C + E·(B_i [+ F at P0]) + A_i·F
  Vec Bp(B->begin(), B->end());
  if (P.p0())
    for (size_t i = 0; i < nw; ++i)
      Bp[i] += F[i];
  Vec Z = std::move(C);
  gemmBatched(E, Bp.data(), Z.data(), batch, n, k, m, wBatched, true);
  gemmBatched(A.data(), F, Z.data(), batch, n, k, m, wBatched, true);
  return Z;
}

//===----------------------------------------------------------------------===//
// Truncation
//===----------------------------------------------------------------------===//

Vec trunc(Party &P, const Vec &x, int f) {
  UMBRA_CHECK(f >= 1 && f <= 62, "trunc: bad bit count ", f);
  size_t n = x.size();
  Vec r = P.randShared(n);
  Vec rt = P.corr(n, [&] {
    Vec v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = r[i] >> f;
    return v;
  });
  Vec rm = P.corr(n, [&] {
    Vec v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = r[i] >> 63;
    return v;
  });
  const uint64_t bias = uint64_t(1) << 62;
  Vec y(n);
  for (size_t i = 0; i < n; ++i)
    y[i] = x[i] + r[i] + (P.p0() ? bias : 0);
  y = P.open(y);
  Vec z(n);
  const uint64_t wrapUnit = uint64_t(1) << (64 - f); // f <= 62
  const uint64_t unbias = uint64_t(1) << (62 - f);
  for (size_t i = 0; i < n; ++i) {
    uint64_t notTop = 1 - (y[i] >> 63);
    z[i] = notTop * wrapUnit * rm[i] - rt[i];
    if (P.p0())
      z[i] += (y[i] >> f) - unbias;
  }
  return z;
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

Vec packBits(const std::vector<uint8_t> &b) {
  Vec w((b.size() + 63) / 64, 0);
  for (size_t i = 0; i < b.size(); ++i)
    w[i / 64] |= uint64_t(b[i] & 1) << (i % 64);
  return w;
}
std::vector<uint8_t> unpackBits(const Vec &w, size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = (w[i / 64] >> (i % 64)) & 1;
  return b;
}

/// Beaver AND of XOR-shared word vectors, one round.
static Vec andBits(Party &P, const Vec &x, const Vec &y) {
  size_t n = x.size();
  Vec a = P.randBits(n), b = P.randBits(n);
  Vec c = P.corrBits(n, [&] {
    Vec r(n);
    for (size_t i = 0; i < n; ++i)
      r[i] = a[i] & b[i];
    return r;
  });
  Vec de(2 * n);
  for (size_t i = 0; i < n; ++i) {
    de[i] = x[i] ^ a[i];
    de[n + i] = y[i] ^ b[i];
  }
  de = P.openBits(de);
  Vec z(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t d = de[i], e = de[n + i];
    z[i] = c[i] ^ (d & b[i]) ^ (e & a[i]) ^ (P.p0() ? (d & e) : 0);
  }
  return z;
}

/// In-place 64x64 bit-matrix transpose: afterwards bit e of a[i] is bit i
/// of the original a[e] (Hacker's Delight, 6 butterfly stages).
static void transpose64(uint64_t a[64]) {
  uint64_t m = 0x00000000FFFFFFFFull;
  for (int j = 32; j; j >>= 1, m ^= m << j)
    for (int k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
      a[k] ^= t << j;
      a[k | j] ^= t;
    }
}

/// Element-major values -> 64 bit slices (slice i, word w at s[i*W + w]).
static Vec toSlices(const Vec &v) {
  size_t n = v.size(), W = (n + 63) / 64;
  Vec s(64 * W, 0);
  uint64_t blk[64];
  for (size_t w = 0; w < W; ++w) {
    for (size_t e = 0; e < 64; ++e)
      blk[e] = w * 64 + e < n ? v[w * 64 + e] : 0;
    transpose64(blk);
    for (int i = 0; i < 64; ++i)
      s[i * W + w] = blk[i];
  }
  return s;
}

static Vec fromSlices(const Vec &s, size_t n) {
  size_t W = (n + 63) / 64;
  Vec v(n);
  uint64_t blk[64];
  for (size_t w = 0; w < W; ++w) {
    for (int i = 0; i < 64; ++i)
      blk[i] = s[i * W + w];
    transpose64(blk);
    for (size_t e = 0; e < 64 && w * 64 + e < n; ++e)
      v[w * 64 + e] = blk[e];
  }
  return v;
}

Vec msbBits(Party &P, const Vec &x, int bits) {
  UMBRA_CHECK(bits >= 2 && bits <= 64, "comparison bit width ", bits,
              " out of range [2, 64]");
  const int top = bits - 1;
  size_t n = x.size(), W = (n + 63) / 64;
  // Bit slices of the dealer's mask r: slice i holds bit i of every element.
  Vec rb = P.randBits(64 * W);
  Vec r = P.corr(n, [&] { return fromSlices(rb, n); });
  Vec y(n);
  for (size_t e = 0; e < n; ++e)
    y[e] = x[e] + r[e];
  y = P.open(y); // y = x + r, uniformly masked
  Vec ys = toSlices(y);
  // MSB(x) = y_top ^ r_top ^ [y' < r'] with y', r' the bits below `top`.
  // Compare with a log-depth (lt, eq) prefix tree over positions 0..top-1.
  const uint64_t ones = P.p0() ? ~uint64_t(0) : 0;
  std::vector<Vec> lt(top, Vec(W)), eq(top, Vec(W));
  for (int i = 0; i < top; ++i)
    for (size_t w = 0; w < W; ++w) {
      lt[i][w] = rb[i * W + w] & ~ys[i * W + w];
      eq[i][w] = rb[i * W + w] ^ ((ys[i * W + w] ^ ~uint64_t(0)) & ones);
    }
  if (top == 0) {
    lt.assign(1, Vec(W, 0));
    eq.assign(1, Vec(W, 0));
  }
  while (lt.size() > 1) {
    size_t pairs = lt.size() / 2;
    bool last = lt.size() == 2;
    // Batch: eq_hi & lt_lo for every pair, and eq_hi & eq_lo unless final.
    size_t q = last ? 1 : 2;
    Vec xa(q * pairs * W), ya(q * pairs * W);
    for (size_t j = 0; j < pairs; ++j)
      for (size_t w = 0; w < W; ++w) {
        xa[j * W + w] = eq[2 * j + 1][w];
        ya[j * W + w] = lt[2 * j][w];
        if (!last) {
          xa[(pairs + j) * W + w] = eq[2 * j + 1][w];
          ya[(pairs + j) * W + w] = eq[2 * j][w];
        }
      }
    Vec z = andBits(P, xa, ya);
    std::vector<Vec> nlt, neq;
    for (size_t j = 0; j < pairs; ++j) {
      Vec l(W), e(W);
      for (size_t w = 0; w < W; ++w) {
        l[w] = lt[2 * j + 1][w] ^ z[j * W + w];
        if (!last)
          e[w] = z[(pairs + j) * W + w];
      }
      nlt.push_back(std::move(l));
      neq.push_back(std::move(e));
    }
    if (lt.size() % 2) {
      nlt.push_back(std::move(lt.back()));
      neq.push_back(std::move(eq.back()));
    }
    lt = std::move(nlt);
    eq = std::move(neq);
  }
  Vec msb(W);
  for (size_t w = 0; w < W; ++w)
    msb[w] = lt[0][w] ^ rb[top * W + w] ^ (P.p0() ? ys[top * W + w] : 0);
  return msb;
}

Vec b2a(Party &P, const Vec &bits, size_t n) {
  size_t W = (n + 63) / 64;
  Vec c = P.randBits(W);
  Vec ca = P.corr(n, [&] {
    Vec v(n);
    for (size_t e = 0; e < n; ++e)
      v[e] = (c[e / 64] >> (e % 64)) & 1;
    return v;
  });
  Vec m(W);
  for (size_t w = 0; w < W; ++w)
    m[w] = bits[w] ^ c[w];
  m = P.openBits(m);
  Vec z(n);
  for (size_t e = 0; e < n; ++e) {
    uint64_t eb = (m[e / 64] >> (e % 64)) & 1;
    z[e] = (P.p0() ? eb : 0) + ca[e] * (1 - 2 * eb);
  }
  return z;
}

Vec bitMul(Party &P, const Vec &bits, const Vec &x) {
  size_t n = x.size(), W = (n + 63) / 64;
  Vec c = P.randBits(W);
  Vec ca = P.corr(n, [&] {
    Vec v(n);
    for (size_t e = 0; e < n; ++e)
      v[e] = (c[e / 64] >> (e % 64)) & 1;
    return v;
  });
  Vec a = P.randShared(n);
  Vec cxa = P.corr(n, [&] {
    Vec v(n);
    for (size_t e = 0; e < n; ++e)
      v[e] = ((c[e / 64] >> (e % 64)) & 1) * a[e];
    return v;
  });
  // One round: open b ^ c (bits) and x - a (ring) together.
  Vec msg(W + n);
  for (size_t w = 0; w < W; ++w)
    msg[w] = bits[w] ^ c[w];
  for (size_t e = 0; e < n; ++e)
    msg[W + e] = x[e] - a[e];
  Vec t = P.exchange(msg);
  Vec z(n);
  for (size_t e = 0; e < n; ++e) {
    uint64_t eb = (((t[e / 64] ^ msg[e / 64])) >> (e % 64)) & 1;
    uint64_t d = t[W + e] + msg[W + e];
    // b·x = e·x + (1 - 2e)·(c·d + c·a)
    z[e] = eb * x[e] + (1 - 2 * eb) * (ca[e] * d + cxa[e]);
  }
  return z;
}

static Vec notBits(Party &P, Vec b) {
  if (P.p0())
    for (auto &w : b)
      w = ~w;
  return b;
}

Vec drelu(Party &P, const Vec &x, int bits) {
  if (P.cmp == Cmp::Dcf) {
    Vec d;
    dcfSign(P, x, bits, &d, nullptr);
    return d;
  }
  return b2a(P, notBits(P, msbBits(P, x, bits)), x.size());
}
Vec ltz(Party &P, const Vec &x, int bits) {
  if (P.cmp == Cmp::Dcf) {
    Vec d = drelu(P, x, bits);
    for (auto &v : d)
      v = (P.p0() ? 1 : 0) - v;
    return d;
  }
  return b2a(P, msbBits(P, x, bits), x.size());
}
Vec relu(Party &P, const Vec &x, int bits) {
  if (P.cmp == Cmp::Dcf) {
    Vec r;
    dcfSign(P, x, bits, nullptr, &r);
    return r;
  }
  return bitMul(P, notBits(P, msbBits(P, x, bits)), x);
}

Vec select(Party &P, const Vec &c, const Vec &a, const Vec &b) {
  size_t n = a.size();
  Vec d(n);
  for (size_t i = 0; i < n; ++i)
    d[i] = a[i] - b[i];
  Vec z = mul(P, c, d);
  for (size_t i = 0; i < n; ++i)
    z[i] += b[i];
  return z;
}

void maxRows(Party &P, const Vec &x, int64_t rows, int64_t len, Vec *maxOut,
             Vec *argOut, int bits) {
  // cur[r][j]: current candidates of row r; idx holds their shared indices.
  std::vector<Vec> cur(rows), idx(rows);
  for (int64_t r = 0; r < rows; ++r) {
    cur[r].assign(x.begin() + r * len, x.begin() + (r + 1) * len);
    idx[r].resize(len);
    for (int64_t j = 0; j < len; ++j)
      idx[r][j] = P.p0() ? uint64_t(j) : 0;
  }
  int64_t L = len;
  while (L > 1) {
    int64_t pairs = L / 2;
    size_t n = size_t(rows * pairs);
    Vec diff(n), didx(n);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < pairs; ++j) {
        diff[r * pairs + j] = cur[r][2 * j] - cur[r][2 * j + 1];
        didx[r * pairs + j] = idx[r][2 * j] - idx[r][2 * j + 1];
      }
    Vec z;
    if (P.cmp == Cmp::Dcf) {
      // One round for the max (ReLU of the difference); argmax needs the
      // comparison bit times the index difference: one Beaver round more.
      if (argOut) {
        Vec d;
        dcfSign(P, diff, bits, &d, nullptr);
        Vec dd(2 * n), both(2 * n);
        for (size_t i = 0; i < n; ++i) {
          dd[i] = dd[n + i] = d[i];
          both[i] = diff[i];
          both[n + i] = didx[i];
        }
        z = mul(P, dd, both);
      } else {
        dcfSign(P, diff, bits, nullptr, &z);
      }
    } else if (argOut) {
      Vec ge = notBits(P, msbBits(P, diff, bits)); // u >= v
      // Select value and index with the same bit: duplicate the bits.
      std::vector<uint8_t> b = unpackBits(ge, n), b2(2 * n);
      std::copy(b.begin(), b.end(), b2.begin());
      std::copy(b.begin(), b.end(), b2.begin() + n);
      Vec both(2 * n);
      std::copy(diff.begin(), diff.end(), both.begin());
      std::copy(didx.begin(), didx.end(), both.begin() + n);
      z = bitMul(P, packBits(b2), both);
    } else {
      z = bitMul(P, notBits(P, msbBits(P, diff, bits)), diff);
    }
    for (int64_t r = 0; r < rows; ++r) {
      Vec nc, ni;
      for (int64_t j = 0; j < pairs; ++j) {
        nc.push_back(cur[r][2 * j + 1] + z[r * pairs + j]);
        if (argOut)
          ni.push_back(idx[r][2 * j + 1] + z[n + r * pairs + j]);
      }
      if (L % 2) {
        nc.push_back(cur[r][L - 1]);
        ni.push_back(idx[r][L - 1]);
      }
      cur[r] = std::move(nc);
      if (argOut)
        idx[r] = std::move(ni);
    }
    L = pairs + L % 2;
  }
  if (maxOut) {
    maxOut->resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      (*maxOut)[r] = cur[r][0];
  }
  if (argOut) {
    argOut->resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      (*argOut)[r] = idx[r][0];
  }
}

//===----------------------------------------------------------------------===//
// Fixed-point functions
//===----------------------------------------------------------------------===//

static Vec mulTrunc(Party &P, const Vec &x, const Vec &y, int f) {
  return trunc(P, mul(P, x, y), f);
}

static Vec scaleConst(Party &P, const Vec &x, double c, int f) {
  // x * c with c encoded at f bits, then truncated back.
  uint64_t ce = encodeFixed(c, f);
  Vec z(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    z[i] = x[i] * ce;
  return trunc(P, z, f);
}

static void addConst(Party &P, Vec &x, double c, int f) {
  if (P.p0()) {
    uint64_t ce = encodeFixed(c, f);
    for (auto &v : x)
      v += ce;
  }
}

Vec expGate(Party &P, const Vec &x, int f, int t, int bits) {
  // exp(x) ~ (1 + x/2^t)^(2^t), clamped at 0 for x < -2^t.
  Vec y = trunc(P, x, t);
  addConst(P, y, 1.0, f);
  y = relu(P, y, bits);
  for (int i = 0; i < t; ++i)
    y = trunc(P, square(P, y), f);
  return y;
}

/// Products x * y of several pairs in one round: a pair whose factors are
/// the same vector is a square and opens one masked value, any other pair
/// two (Beaver).
using Factors = std::pair<const Vec *, const Vec *>;
static std::vector<Vec> products(Party &P, const std::vector<Factors> &pairs) {
  size_t n = pairs.empty() ? 0 : pairs[0].first->size();
  std::vector<Vec> a(pairs.size()), b(pairs.size()), c(pairs.size());
  Vec open;
  open.reserve(2 * n * pairs.size());
  for (size_t q = 0; q < pairs.size(); ++q) {
    auto [x, y] = pairs[q];
    a[q] = P.randShared(n);
    b[q] = x == y ? a[q] : P.randShared(n);
    c[q] = P.corr(n, [&] {
      Vec r(n);
      for (size_t e = 0; e < n; ++e)
        r[e] = a[q][e] * b[q][e];
      return r;
    });
    for (size_t e = 0; e < n; ++e)
      open.push_back((*x)[e] - a[q][e]);
    if (x != y)
      for (size_t e = 0; e < n; ++e)
        open.push_back((*y)[e] - b[q][e]);
  }
  open = P.open(open);
  std::vector<Vec> z(pairs.size(), Vec(n));
  size_t at = 0;
  for (size_t q = 0; q < pairs.size(); ++q) {
    bool sq = pairs[q].first == pairs[q].second;
    const uint64_t *d = &open[at], *e = sq ? d : d + n;
    at += sq ? n : 2 * n;
    for (size_t k = 0; k < n; ++k)
      z[q][k] = c[q][k] + d[k] * b[q][k] + e[k] * a[q][k] +
                (P.p0() ? d[k] * e[k] : 0);
  }
  return z;
}

Vec polyGate(Party &P, const Vec &x, int f, const std::vector<double> &c) {
  // Paterson-Stockmeyer: with k baby powers x..x^k and y = x^k,
  //   p(x) = q_0(x) + y (q_1(x) + y (q_2(x) + ...)),  deg q_j < k,
  // costs k - 1 + ceil((d + 1) / k) - 1 products instead of d - 1. k is the
  // smallest power of two >= sqrt(d + 1) (so the baby powers take log2 k
  // rounds), or d itself when that leaves no giant step.
  size_t n = x.size();
  int d = int(c.size()) - 1;
  if (d <= 0) {
    Vec out(n, 0);
    addConst(P, out, d == 0 ? c[0] : 0.0, f);
    return out;
  }
  int k = 1;
  while (k * k < d + 1)
    k *= 2;
  if (k >= d - 1)
    k = d;
  std::vector<Vec> pw(k + 1);
  pw[1] = x;
  for (int have = 1; have < k;) {
    // pw[have + j] = pw[have] * pw[j], j = 1..m: one round of products and
    // one of truncation.
    int m = std::min(have, k - have);
    std::vector<Factors> pairs;
    for (int j = 1; j <= m; ++j)
      pairs.push_back({&pw[have], &pw[j]});
    std::vector<Vec> z = products(P, pairs);
    Vec all;
    for (const Vec &v : z)
      all.insert(all.end(), v.begin(), v.end());
    all = trunc(P, all, f);
    for (int j = 1; j <= m; ++j)
      pw[have + j].assign(all.begin() + (j - 1) * n, all.begin() + j * n);
    have += m;
  }
  // q_j(x) at 2f bits (local), c_0 of the block encoded at 2f.
  auto block = [&](int j) {
    Vec acc(n, 0);
    for (int i = 1; i < k && j * k + i <= d; ++i) {
      uint64_t ce = encodeFixed(c[j * k + i], f);
      for (size_t e = 0; e < n; ++e)
        acc[e] += ce * pw[i][e];
    }
    addConst(P, acc, c[j * k], 2 * f);
    return acc;
  };
  int giant = d / k; // index of the last block
  if (giant == 1 && k == d) {
    // No giant step (k = d): q_0 + c_d x^d, one truncation.
    Vec acc = block(0);
    uint64_t ce = encodeFixed(c[d], f);
    for (size_t e = 0; e < n; ++e)
      acc[e] += ce * pw[d][e];
    return trunc(P, acc, f);
  }
  Vec acc = trunc(P, block(giant), f);
  for (int j = giant - 1; j >= 0; --j) {
    Vec z = std::move(products(P, {{&pw[k], &acc}})[0]);
    Vec q = block(j);
    for (size_t e = 0; e < n; ++e)
      z[e] += q[e];
    acc = trunc(P, z, f);
  }
  return acc;
}

//===----------------------------------------------------------------------===//
// Reciprocal and rsqrt: oblivious normalisation + series on the residual
//===----------------------------------------------------------------------===//
//
// For an input X (integer, f fractional bits) in [Xlo, Xhi]:
//  1. One masked opening X + r and one DCF key evaluated at every public
//     threshold t_q (all powers of two in the range plus S geometric
//     sub-steps per binade) give shares of b_q = [X >= t_q]. The segment
//     indicator c_q = b_q - b_{q+1} is one-hot, so any per-segment public
//     table v is the *local* linear form  v_0 + sum_q b_q (v_q - v_{q-1}).
//  2. Segment q lies in binade k (m = X / 2^k' in [1, 2) or, for rsqrt,
//     [1, 4) with f - k' even). The start y0 = 1/m (1/sqrt m) at the
//     segment centre, |e0| = |1 - m y0^p| <= (m_hi - m_lo)/(m_hi + m_lo).
//     e0 and y0 e0 are X times per-segment tables: one Beaver round (X - a
//     opened once) and one truncation.
//  3. 1/m = y0 / (1 - e0) (p = 1), 1/sqrt m = y0 (1 - e0)^(-1/2) (p = 2):
//     sum_{i<=d} a_i y0 e0^i, the powers by a log-depth product tree (each
//     level one batched Beaver product + one truncation).
//  4. Rescale by the per-binade power of two: one product with a table
//     (exact integers) and one truncation by R.
// Rounds: cmp + 2 + 2L + (R > 0 ? 2 : 1), independent of the range width.

static double seriesCoef(bool rsqrt, int i) {
  if (!rsqrt)
    return 1.0;
  double a = 1;
  for (int k = 1; k <= i; ++k)
    a *= (2.0 * k - 1) / (2.0 * k); // C(2i, i) / 4^i
  return a;
}

InvPlan planInverse(bool rsqrt, double lo, double hi, int frac, int iters,
                    Cmp cmp) {
  UMBRA_CHECK(lo > 0 && hi >= lo && std::isfinite(hi),
              "reciprocal/rsqrt: bad input range [", lo, ", ", hi, "]");
  UMBRA_CHECK(iters >= 0, "reciprocal/rsqrt: negative iterations ", iters);
  iters = std::min(iters, 4); // L > 4 (degree > 16) never helps
  InvPlan p;
  p.rsqrt = rsqrt;
  p.frac = frac;
  double sc = std::ldexp(1.0, frac);
  double xlo = std::max(1.0, std::floor(lo * sc));
  double xhi = std::max(xlo, std::ceil(hi * sc));
  UMBRA_CHECK(xhi < std::ldexp(1.0, 50), "reciprocal/rsqrt: range [", lo, ", ",
              hi, "] too wide for ", frac, " fractional bits");
  p.xlo = uint64_t(xlo);
  p.xhi = uint64_t(xhi);
  p.jlo = 63 - __builtin_clzll(p.xlo);
  p.jhi = 63 - __builtin_clzll(p.xhi);
  const int span = p.jhi - p.jlo;
  p.L = iters ? iters : (cmp == Cmp::Dcf ? 2 : 3);
  p.d = 1 << p.L;
  // Internal precision: X * V must stay below 2^58 (T = F + jhi + 3) and
  // the rescale product below 2^61.
  p.F = std::min({28, 55 - p.jhi, rsqrt ? 59 - (span + 1) / 2 - 1 : 59 - span});
  UMBRA_CHECK(p.F >= 10, "reciprocal/rsqrt: range [", lo, ", ", hi,
              "] too wide for ", frac, " fractional bits");
  p.T = p.F + p.jhi + 3;
  // Comparison width: exact for inputs up to 2^(jhi+3) (>= 4 hi).
  p.cmpBits = std::min(64, p.jhi + 4);
  for (int i = 0; i <= p.d + 1; ++i)
    p.coef.push_back(seriesCoef(rsqrt, i));

  auto build = [&](int S) {
    p.S = S;
    p.thr.clear();
    for (int k = p.jlo; k <= p.jhi; ++k)
      for (int i = 0; i < S; ++i) {
        double t = std::ceil(std::ldexp(std::exp2(double(i) / S), k));
        if (t > xlo && t <= xhi)
          p.thr.push_back(uint64_t(t));
      }
    std::sort(p.thr.begin(), p.thr.end());
    p.thr.erase(std::unique(p.thr.begin(), p.thr.end()), p.thr.end());
    size_t nseg = p.thr.size() + 1;
    p.yn0.assign(nseg, 0);
    p.segK.assign(nseg, 0);
    p.e0max = 0;
    double series = 0;
    for (size_t q = 0; q < nseg; ++q) {
      uint64_t a = q == 0 ? p.xlo : p.thr[q - 1];
      uint64_t b = q + 1 < nseg ? p.thr[q] - 1 : p.xhi;
      int k = 63 - __builtin_clzll(a);
      int kp = rsqrt && ((frac - k) & 1) ? k - 1 : k;
      p.segK[q] = kp;
      double mlo = std::ldexp(double(a), -kp), mhi = std::ldexp(double(b), -kp);
      double y = 2 / (mlo + mhi);
      if (rsqrt)
        y = std::sqrt(y);
      p.yn0[q] = uint64_t(std::llround(std::ldexp(y, p.F)));
      double yq = std::ldexp(double(p.yn0[q]), -p.F);
      double pw = rsqrt ? yq * yq : yq;
      double e = std::max(std::fabs(1 - mlo * pw), std::fabs(1 - mhi * pw));
      p.e0max = std::max(p.e0max, e);
      series = std::max(series, p.coef[p.d + 1] * std::pow(e, p.d + 1) /
                                    std::max(1e-9, 1 - e));
    }
    p.maxRelErr = series + 4 * std::ldexp(1.0, -p.F);
    return series;
  };
  if (iters == 0) {
    build(cmp == Cmp::Dcf ? 16 : 4);
  } else {
    for (int S = 1;; S *= 2)
      if (build(S) <= std::ldexp(1.0, -(p.F + 1)) || S == 256)
        break;
  }
  // Bits folded into the right factor of each level's products: just
  // enough to make that level's coefficients exact (they are dyadic: 0 for
  // the reciprocal, 3 / 7 / 15 for rsqrt's levels 1 / 2 / 3), so that
  // |left * right| <= 2^(2F + A) e0^(h+1) keeps a margin below 2^62 for
  // inputs somewhat outside the range too.
  double lg = p.e0max > 0 ? std::log2(1 / p.e0max) : 64;
  for (int h = 1; h < p.d; h *= 2) {
    int A = 0;
    for (int i = h + 1; i <= 2 * h; ++i)
      while (std::ldexp(p.coef[i], A) != std::floor(std::ldexp(p.coef[i], A)))
        ++A;
    UMBRA_CHECK(2 * p.F + A - (h + 1) * lg <= 60,
                "internal: reciprocal/rsqrt level would overflow");
    p.levelA.push_back(A);
  }
  // Rescale exponents: output = Z * 2^ex (Z at F bits, output at f bits).
  int exMin = 1 << 20;
  std::vector<int> ex(p.segK.size());
  for (size_t q = 0; q < ex.size(); ++q) {
    int kp = p.segK[q];
    ex[q] = rsqrt ? frac + (frac - kp) / 2 - p.F : 2 * frac - kp - p.F;
    exMin = std::min(exMin, ex[q]);
  }
  p.R = std::max(0, -exMin);
  p.w.resize(ex.size());
  for (size_t q = 0; q < ex.size(); ++q)
    p.w[q] = uint64_t(1) << (ex[q] + p.R);
  return p;
}

/// Shares of [x_e >= thr_q] at index e*Q + q. DCF: one opening of x + r and
/// one key per element evaluated at all Q thresholds.
static Vec thresholdBits(Party &P, const Vec &x,
                         const std::vector<uint64_t> &thr, int bits) {
  const size_t n = x.size(), Q = thr.size();
  if (Q == 0 || n == 0)
    return Vec(n * Q, 0);
  if (P.cmp != Cmp::Dcf) {
    Vec d(n * Q);
    for (size_t e = 0; e < n; ++e)
      for (size_t q = 0; q < Q; ++q)
        d[e * Q + q] = x[e] - (P.p0() ? thr[q] : 0);
    return drelu(P, d, 64);
  }
  const int L = bits - 1; // exact for |x - t| < 2^L
  const uint64_t lowMask = (uint64_t(1) << L) - 1;
  Vec r = P.randShared(n);
  Vec rtop = P.corr(n, [&] {
    Vec v(n);
    for (size_t e = 0; e < n; ++e)
      v[e] = (r[e] >> L) & 1;
    return v;
  });
  Vec xh(n);
  for (size_t e = 0; e < n; ++e)
    xh[e] = x[e] + r[e];
  xh = P.open(xh);
  Vec pts(n * Q);
  for (size_t e = 0; e < n; ++e)
    for (size_t q = 0; q < Q; ++q)
      pts[e * Q + q] = (xh[e] - thr[q]) & lowMask;
  Vec c = dcfLessThan(
      P, pts, L, 1,
      [&] {
        Vec a(n);
        for (size_t e = 0; e < n; ++e)
          a[e] = r[e] & lowMask;
        return a;
      },
      [&] {
        std::vector<Vec> bt(1, Vec(n));
        for (size_t e = 0; e < n; ++e)
          bt[0][e] = 1 - 2 * rtop[e];
        return bt;
      },
      Q)[0];
  Vec b(n * Q);
  for (size_t e = 0; e < n; ++e)
    for (size_t q = 0; q < Q; ++q) {
      size_t i = e * Q + q;
      uint64_t yt = ((xh[e] - thr[q]) >> L) & 1;
      uint64_t u = rtop[e] + c[i];
      uint64_t msb = (P.p0() ? yt : 0) + (1 - 2 * yt) * u;
      b[i] = (P.p0() ? 1 : 0) - msb;
    }
  return b;
}

/// x times several shared vectors, opening x - a once (one round).
static std::vector<Vec> mulShared1(Party &P, const Vec &x,
                                   const std::vector<Vec> &ys) {
  const size_t n = x.size(), m = ys.size();
  Vec a = P.randShared(n);
  std::vector<Vec> bs(m), cs(m);
  for (size_t j = 0; j < m; ++j) {
    bs[j] = P.randShared(n);
    cs[j] = P.corr(n, [&] {
      Vec c(n);
      for (size_t i = 0; i < n; ++i)
        c[i] = a[i] * bs[j][i];
      return c;
    });
  }
  Vec de((m + 1) * n);
  for (size_t i = 0; i < n; ++i)
    de[i] = x[i] - a[i];
  for (size_t j = 0; j < m; ++j)
    for (size_t i = 0; i < n; ++i)
      de[(j + 1) * n + i] = ys[j][i] - bs[j][i];
  de = P.open(de);
  std::vector<Vec> z(m, Vec(n));
  for (size_t j = 0; j < m; ++j)
    for (size_t i = 0; i < n; ++i) {
      uint64_t d = de[i], e = de[(j + 1) * n + i];
      z[j][i] = cs[j][i] + d * bs[j][i] + e * a[i] + (P.p0() ? d * e : 0);
    }
  return z;
}

static Vec inverseGate(Party &P, const Vec &x, const InvPlan &pl) {
  const size_t n = x.size(), Q = pl.thr.size();
  const int F = pl.F;
  Vec b = thresholdBits(P, x, pl.thr, pl.cmpBits);
  // Per-segment table -> shares of its entry for each element's segment.
  auto lin = [&](const std::vector<uint64_t> &v) {
    Vec o(n, P.p0() ? v[0] : 0);
    for (size_t e = 0; e < n; ++e)
      for (size_t q = 0; q < Q; ++q)
        o[e] += b[e * Q + q] * (v[q + 1] - v[q]);
    return o;
  };
  const size_t nseg = Q + 1;
  const double a1 = pl.coef[1];
  std::vector<uint64_t> v1(nseg), v2(nseg), v2h(nseg), y0(nseg), y0h(nseg);
  for (size_t q = 0; q < nseg; ++q) {
    double yq = std::ldexp(double(pl.yn0[q]), -F);
    double sh = pl.T - pl.segK[q];
    double pw = pl.rsqrt ? yq * yq : yq;
    v1[q] = uint64_t(std::llround(std::ldexp(pw, int(sh))));
    v2[q] = uint64_t(std::llround(std::ldexp(pw * yq, int(sh))));
    v2h[q] = uint64_t(std::llround(std::ldexp(a1 * pw * yq, int(sh))));
    y0[q] = pl.yn0[q];
    y0h[q] = uint64_t(std::llround(a1 * double(pl.yn0[q])));
  }
  Vec Y0 = lin(y0);
  // e0 = 1 - m y0^p, T1 = y0 e0, a1 T1 (rsqrt) in one product round.
  std::vector<Vec> ys = {lin(v1), lin(v2)};
  if (a1 != 1.0)
    ys.push_back(lin(v2h));
  std::vector<Vec> pr = mulShared1(P, x, ys);
  Vec cat;
  for (auto &v : pr)
    cat.insert(cat.end(), v.begin(), v.end());
  cat = trunc(P, cat, pl.T - F);
  Vec E1(n), T1(n), Z(n);
  Vec Y0h = a1 != 1.0 ? lin(y0h) : Y0;
  for (size_t i = 0; i < n; ++i) {
    E1[i] = (P.p0() ? uint64_t(1) << F : 0) - cat[i];
    T1[i] = Y0[i] - cat[n + i];
    uint64_t s1 = a1 != 1.0 ? Y0h[i] - cat[2 * n + i] : T1[i];
    Z[i] = Y0[i] + s1;
  }
  // Powers: Th = y0 e0^h, Pw[j] = e0^j.
  std::vector<Vec> Pw = {Vec(), E1};
  Vec Th = T1;
  int h = 1, lvl = 0;
  while (h < pl.d) {
    int m = std::min(h, pl.d - h);
    bool more = h + m < pl.d;
    int A = pl.levelA[lvl++];
    std::vector<std::pair<const Vec *, Vec>> lanes; // left, scaled right
    auto scaled = [&](const Vec &v, double c) {
      uint64_t ce = uint64_t(std::llround(std::ldexp(c, A)));
      Vec o(n);
      for (size_t i = 0; i < n; ++i)
        o[i] = v[i] * ce;
      return o;
    };
    for (int j = 1; j <= m; ++j)
      lanes.push_back({&Th, scaled(Pw[j], pl.coef[h + j])});
    bool reuse = more && pl.coef[h + m] == 1.0;
    if (more && !reuse)
      lanes.push_back({&Th, scaled(Pw[m], 1.0)});
    if (more)
      for (int j = 1; j <= m; ++j)
        lanes.push_back({&Pw[h], scaled(Pw[j], 1.0)});
    Vec l(lanes.size() * n), r(lanes.size() * n);
    for (size_t k = 0; k < lanes.size(); ++k)
      for (size_t i = 0; i < n; ++i) {
        l[k * n + i] = (*lanes[k].first)[i];
        r[k * n + i] = lanes[k].second[i];
      }
    Vec z = trunc(P, mul(P, l, r), F + A);
    for (int j = 1; j <= m; ++j)
      for (size_t i = 0; i < n; ++i)
        Z[i] += z[(j - 1) * n + i];
    if (more) {
      size_t o = size_t(m) + (reuse ? 0 : 1);
      Vec nt(z.begin() + (o - 1) * n, z.begin() + o * n);
      if (reuse)
        nt.assign(z.begin() + (m - 1) * n, z.begin() + m * n);
      for (int j = 1; j <= m; ++j)
        Pw.push_back(Vec(z.begin() + (o + j - 1) * n, z.begin() + (o + j) * n));
      Th = std::move(nt);
    }
    h += m;
  }
  Vec out = mul(P, Z, lin(pl.w));
  if (pl.R > 0)
    out = trunc(P, out, pl.R);
  return out;
}

Vec reciprocalGate(Party &P, const Vec &x, int f, double lo, double hi,
                   int iters) {
  return inverseGate(P, x, planInverse(false, lo, hi, f, iters, P.cmp));
}

Vec rsqrtGate(Party &P, const Vec &x, int f, double lo, double hi, int iters) {
  return inverseGate(P, x, planInverse(true, lo, hi, f, iters, P.cmp));
}

} // namespace umbra::rt
