//===- Dcf.cpp - Comparison by a distributed comparison function ---------===//
//
// DCF of Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee ("Function
// Secret Sharing for Mixed-Mode and Fixed-Point Secure Computation",
// Eurocrypt 2021, Fig. 1) with payload group Z_2^64^np. The length-doubling
// PRG is fixed-key AES-128 in Matyas-Meyer-Oseas mode, batched over all
// elements of a level so AES-NI stays busy. The low two bits of every seed
// are cleared: bit 0 of the expanded block is the control bit, and the
// correction word carries (t_L, t_R) in those two free bits.
//
// The backend opens x + r once and evaluates one DCF key on the low bits:
// one round and 16 B online per comparison, large dealer keys.
//
//===----------------------------------------------------------------------===//
#include "umbra/runtime/protocols/Dcf.h"
#include "Backends.h"
#include "umbra/runtime/protocols/Dealer2pc.h"
#include "umbra/runtime/protocols/ThreadPool.h"

#include <openssl/evp.h>

#include <algorithm>

namespace umbra::rt {

namespace {

class FixedKeyAes {
public:
  FixedKeyAes() {
    static const uint8_t key[16] = {'U', 'm', 'b', 'r', 'a', 'D', 'C', 'F',
                                    'f', 'i', 'x', 'e', 'd', 'k', 'e', 'y'};
    ctx_ = EVP_CIPHER_CTX_new();
    UMBRA_CHECK(ctx_ && EVP_EncryptInit_ex(ctx_, EVP_aes_128_ecb(), nullptr,
                                           key, nullptr) == 1,
                "AES initialisation failed");
    EVP_CIPHER_CTX_set_padding(ctx_, 0);
  }
  ~FixedKeyAes() { EVP_CIPHER_CTX_free(ctx_); }
  /// out = AES_k(in) ^ in, `blocks` 16-byte blocks.
  void mmo(const uint64_t *in, uint64_t *out, size_t blocks) {
    size_t done = 0;
    while (done < blocks) {
      size_t b = std::min<size_t>(blocks - done, size_t(1) << 24);
      int len = 0;
      UMBRA_CHECK(EVP_EncryptUpdate(
                      ctx_, reinterpret_cast<uint8_t *>(out + 2 * done), &len,
                      reinterpret_cast<const uint8_t *>(in + 2 * done),
                      int(b * 16)) == 1,
                  "AES failed");
      done += b;
    }
    for (size_t i = 0; i < 2 * blocks; ++i)
      out[i] ^= in[i];
  }

private:
  EVP_CIPHER_CTX *ctx_;
};

FixedKeyAes &aes() {
  thread_local FixedKeyAes a;
  return a;
}

constexpr uint64_t kLow2 = ~uint64_t(3);
/// Elements per thread-pool task (element ranges of a level are independent).
constexpr size_t kGrain = 8192;

/// Expands seeds [b, e) (2 words each) into B blocks each, tweak j in the
/// high word, writing element-major blocks at out + 2*b*B.
void expand(const Vec &s, size_t b, size_t e, size_t B, uint64_t tweak,
            uint64_t *out) {
  thread_local Vec in;
  size_t m = e - b;
  in.resize(2 * m * B);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < B; ++j) {
      in[2 * (i * B + j)] = s[2 * (b + i)];
      in[2 * (i * B + j) + 1] = s[2 * (b + i) + 1] ^ (tweak + j);
    }
  aes().mmo(in.data(), out + 2 * b * B, m * B);
}

struct Node {
  uint64_t sL[2], sR[2];
  uint64_t tL, tR;
  const uint64_t *vL, *vR; // np words each
};

Node parse(const uint64_t *blk, size_t np) {
  Node x;
  x.sL[0] = blk[0] & kLow2;
  x.sL[1] = blk[1];
  x.tL = blk[0] & 1;
  x.sR[0] = blk[2] & kLow2;
  x.sR[1] = blk[3];
  x.tR = blk[2] & 1;
  x.vL = blk + 4;
  x.vR = blk + 4 + np;
  return x;
}

} // namespace

std::vector<Vec> dcfLessThan(Party &P, const Vec &x, int nbits, int np,
                             const std::function<Vec()> &alphaFn,
                             const std::function<std::vector<Vec>()> &betaFn,
                             size_t pts) {
  UMBRA_CHECK(nbits >= 1 && nbits <= 64 && np >= 1 && np <= 2 && pts >= 1 &&
                  x.size() % pts == 0,
              "internal: bad DCF parameters");
  // n keys; key e is evaluated at the pts points x[e*pts .. e*pts+pts).
  const size_t n = x.size() / pts, L = size_t(nbits), B = 2 + size_t(np);
  const size_t npt = x.size();
  // Per level and element: s_cw (2 words, t_cw in the low bits), then
  // V_cw (np words); the level's words are [s_cw x n][V_cw x np x n].
  const size_t lvlWords = (2 + np) * n;
  Vec root0 = P.seedOf(0, 2 * n), root1 = P.seedOf(1, 2 * n);
  std::vector<Vec> out(np, Vec(npt, 0));
  if (P.dealer()) {
    // Key generation, one level at a time (streamed to both parties).
    Vec alpha = alphaFn();
    std::vector<Vec> beta = betaFn();
    Vec s0 = root0, s1 = root1, e0(2 * n * B), e1(2 * n * B);
    for (size_t e = 0; e < n; ++e) {
      s0[2 * e] &= kLow2;
      s1[2 * e] &= kLow2;
    }
    std::vector<uint8_t> t0(n, 0), t1(n, 1);
    Vec va(np * n, 0);
    for (size_t l = 0; l < L; ++l) {
      P.corrBoth(lvlWords, [&](uint64_t *cwl) {
        parallelFor(n, kGrain, [&](size_t eb, size_t ee) {
          expand(s0, eb, ee, B, 0, e0.data());
          expand(s1, eb, ee, B, 0, e1.data());
          for (size_t e = eb; e < ee; ++e) {
            uint64_t a = (alpha[e] >> (L - 1 - l)) & 1;
            Node n0 = parse(&e0[2 * e * B], np), n1 = parse(&e1[2 * e * B], np);
            uint64_t sign1 = t1[e] ? ~uint64_t(0) : 1; // (-1)^t1
            const uint64_t *s0lose = a ? n0.sL : n0.sR,
                           *s1lose = a ? n1.sL : n1.sR;
            const uint64_t *s0keep = a ? n0.sR : n0.sL,
                           *s1keep = a ? n1.sR : n1.sL;
            const uint64_t *v0lose = a ? n0.vL : n0.vR,
                           *v1lose = a ? n1.vL : n1.vR;
            const uint64_t *v0keep = a ? n0.vR : n0.vL,
                           *v1keep = a ? n1.vR : n1.vL;
            uint64_t scw0 = s0lose[0] ^ s1lose[0], scw1 = s0lose[1] ^ s1lose[1];
            uint64_t tcwL = n0.tL ^ n1.tL ^ a ^ 1, tcwR = n0.tR ^ n1.tR ^ a;
            cwl[2 * e] = scw0 | tcwL | (tcwR << 1);
            cwl[2 * e + 1] = scw1;
            for (int p = 0; p < np; ++p) {
              uint64_t &V = va[p * n + e];
              uint64_t vcw = sign1 * (v1lose[p] - v0lose[p] - V);
              if (a) // Lose = L: x < alpha on this branch
                vcw += sign1 * beta[p][e];
              V = V - v1keep[p] + v0keep[p] + sign1 * vcw;
              cwl[2 * n + p * n + e] = vcw;
            }
            uint64_t tk = a ? tcwR : tcwL;
            uint64_t t0k = a ? n0.tR : n0.tL, t1k = a ? n1.tR : n1.tL;
            s0[2 * e] = s0keep[0] ^ (t0[e] ? scw0 : 0);
            s0[2 * e + 1] = s0keep[1] ^ (t0[e] ? scw1 : 0);
            s1[2 * e] = s1keep[0] ^ (t1[e] ? scw0 : 0);
            s1[2 * e + 1] = s1keep[1] ^ (t1[e] ? scw1 : 0);
            t0[e] = uint8_t(t0k ^ (t0[e] & tk));
            t1[e] = uint8_t(t1k ^ (t1[e] & tk));
          }
        });
      });
    }
    P.corrBoth(np * n, [&](uint64_t *fin) {
      expand(s0, 0, n, 1, 0xC0, e0.data());
      expand(s1, 0, n, 1, 0xC0, e1.data());
      for (size_t e = 0; e < n; ++e) {
        uint64_t sign1 = t1[e] ? ~uint64_t(0) : 1;
        for (int p = 0; p < np; ++p)
          fin[p * n + e] =
              sign1 * (e1[2 * e + p] - e0[2 * e + p] - va[p * n + e]);
      }
    });
    return out;
  }
  const int b = P.p0() ? 0 : 1;
  const Vec &root = b == 0 ? root0 : root1;
  Vec s(2 * npt), ex(2 * npt);
  for (size_t e = 0; e < npt; ++e) {
    s[2 * e] = root[2 * (e / pts)] & kLow2;
    s[2 * e + 1] = root[2 * (e / pts) + 1];
  }
  std::vector<uint8_t> t(npt, uint8_t(b));
  for (size_t l = 0; l < L; ++l) {
    const uint64_t *cwl = P.corrBoth(lvlWords, nullptr);
    // Only the followed child is needed: expand 2 blocks per element (its
    // seed/control block and its value block) instead of all B.
    parallelFor(npt, kGrain, [&](size_t eb, size_t ee) {
      thread_local Vec in, o;
      size_t m = ee - eb;
      in.resize(4 * m);
      o.resize(4 * m);
      for (size_t i = 0; i < m; ++i) {
        size_t e = eb + i;
        uint64_t xi = (x[e] >> (L - 1 - l)) & 1;
        uint64_t jv = np == 1 ? 2 : 2 + xi;
        in[4 * i] = s[2 * e];
        in[4 * i + 1] = s[2 * e + 1] ^ xi;
        in[4 * i + 2] = s[2 * e];
        in[4 * i + 3] = s[2 * e + 1] ^ jv;
      }
      aes().mmo(in.data(), o.data(), 2 * m);
      for (size_t i = 0; i < m; ++i) {
        size_t e = eb + i;
        uint64_t xi = (x[e] >> (L - 1 - l)) & 1;
        uint64_t te = t[e];
        const size_t k = e / pts;
        uint64_t s0 = o[4 * i] & kLow2, s1 = o[4 * i + 1];
        uint64_t tn = o[4 * i] & 1;
        if (te) {
          s0 ^= cwl[2 * k] & kLow2;
          s1 ^= cwl[2 * k + 1];
          tn ^= (cwl[2 * k] >> xi) & 1;
        }
        const uint64_t *v = np == 1 ? &o[4 * i + 2 + xi] : &o[4 * i + 2];
        for (int p = 0; p < np; ++p)
          out[p][e] += v[p] + te * cwl[2 * n + p * n + k];
        s[2 * e] = s0;
        s[2 * e + 1] = s1;
        t[e] = uint8_t(tn);
      }
    });
  }
  const uint64_t *fin = P.corrBoth(np * n, nullptr);
  expand(s, 0, npt, 1, 0xC0, ex.data());
  for (size_t e = 0; e < npt; ++e)
    for (int p = 0; p < np; ++p) {
      out[p][e] += ex[2 * e + p] + uint64_t(t[e]) * fin[p * n + e / pts];
      if (b == 1)
        out[p][e] = -out[p][e];
    }
  return out;
}

namespace {

/// Shares of 1{x_e >= thr_q} at e * Q + q (Q = thr.size()): one opening of
/// x + r and one key per element (alpha = the low bits of r) evaluated at the
/// Q points x + r - thr_q. With reluOut (Q == 1, thr = {0}) a second payload
/// word also gives ReLU(x).
void signTest(Party &P, const Vec &x, const std::vector<uint64_t> &thr,
              int bits, Vec *dreluOut, Vec *reluOut) {
  UMBRA_CHECK(bits >= 2 && bits <= 64, "comparison bit width ", bits,
              " out of range [2, 64]");
  const size_t n = x.size(), Q = thr.size();
  const int L = bits - 1;                          // exact for |x - t| < 2^L
  const uint64_t lowMask = (uint64_t(1) << L) - 1; // L <= 63
  Vec r = P.randShared(n);
  Vec rtop = P.corrEach(n, [&](size_t e) { return (r[e] >> L) & 1; });
  Vec rtopR;
  if (reluOut)
    rtopR = P.corrEach(n, [&](size_t e) { return rtop[e] * r[e]; });
  Vec xh(n);
  for (size_t e = 0; e < n; ++e)
    xh[e] = x[e] + r[e];
  xh = P.open(xh); // x + r: the only online message
  Vec pts(n * Q);
  for (size_t e = 0; e < n; ++e)
    for (size_t q = 0; q < Q; ++q)
      pts[e * Q + q] = (xh[e] - thr[q]) & lowMask;
  int np = reluOut ? 2 : 1;
  std::vector<Vec> c = dcfLessThan(
      P, pts, L, np,
      [&] {
        Vec a(n);
        for (size_t e = 0; e < n; ++e)
          a[e] = r[e] & lowMask;
        return a;
      },
      [&] {
        std::vector<Vec> bt(np, Vec(n));
        for (size_t e = 0; e < n; ++e) {
          bt[0][e] = 1 - 2 * rtop[e];
          if (np == 2)
            bt[1][e] = (1 - 2 * rtop[e]) * r[e];
        }
        return bt;
      },
      Q);
  // MSB(y) = ytop ^ u with u = rtop ^ [y' < r'] = rtop + c*(1 - 2 rtop).
  Vec d(n * Q), rl;
  if (reluOut)
    rl.resize(n);
  for (size_t e = 0; e < n; ++e)
    for (size_t q = 0; q < Q; ++q) {
      const size_t i = e * Q + q;
      uint64_t yt = ((xh[e] - thr[q]) >> L) & 1;
      uint64_t u = rtop[e] + c[0][i];
      uint64_t msb = (P.p0() ? yt : 0) + (1 - 2 * yt) * u;
      d[i] = (P.p0() ? 1 : 0) - msb;
      if (reluOut) {
        // relu = drelu * (xh - r) = drelu*xh - (r - msb*r)
        uint64_t ur = rtopR[e] + c[1][e];
        uint64_t msbR = yt * r[e] + (1 - 2 * yt) * ur;
        rl[e] = d[e] * xh[e] - (r[e] - msbR);
      }
    }
  if (dreluOut)
    *dreluOut = std::move(d);
  if (reluOut)
    *reluOut = std::move(rl);
}

} // namespace

void dcfSign(Party &P, const Vec &x, int bits, Vec *dreluOut, Vec *reluOut) {
  signTest(P, x, {0}, bits, dreluOut, reluOut);
}

namespace {

class DcfComparison final : public Comparison {
public:
  DcfComparison()
      : Comparison({Cmp::Dcf, "dcf", /*inverseLevels=*/2,
                    /*inverseSegments=*/16}) {}

  Vec drelu(Party &P, const Vec &x, int bits) const override {
    Vec d;
    dcfSign(P, x, bits, &d, nullptr);
    return d;
  }
  Vec ltz(Party &P, const Vec &x, int bits) const override {
    Vec d = drelu(P, x, bits);
    for (auto &v : d)
      v = (P.p0() ? 1 : 0) - v;
    return d;
  }
  Vec relu(Party &P, const Vec &x, int bits) const override {
    Vec r;
    dcfSign(P, x, bits, nullptr, &r);
    return r;
  }
  Vec gate(Party &P, const Vec &x, const Vec &ys, int bits) const override {
    // The comparison bit times each vector: one Beaver round more.
    const size_t n = x.size(), k = n ? ys.size() / n : 0;
    Vec d = drelu(P, x, bits), dk(k * n);
    for (size_t j = 0; j < k; ++j)
      std::copy(d.begin(), d.end(), dk.begin() + j * n);
    return mul(P, dk, ys);
  }
  /// One opening of x + r and one key per element evaluated at all Q
  /// thresholds.
  Vec atLeast(Party &P, const Vec &x, const std::vector<uint64_t> &thr,
              int bits) const override {
    const size_t n = x.size(), Q = thr.size();
    if (Q == 0 || n == 0)
      return Vec(n * Q, 0);
    Vec b;
    signTest(P, x, thr, bits, &b, nullptr);
    return b;
  }

  CmpCost cost(bool, int) const override { return {1, 16}; }
};

} // namespace

const Comparison &dcfComparison() {
  static const DcfComparison c;
  return c;
}

} // namespace umbra::rt
