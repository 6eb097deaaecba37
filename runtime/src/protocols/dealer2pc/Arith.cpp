//===- Arith.cpp - Sharing, opening, products, truncation, select ---------===//
#include "umbra/runtime/protocols/Dealer2pc.h"

namespace umbra::rt {

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

/// Counts a transfer on a link other than the peer's (the thin client's)
/// in this party's online counters, as one round.
template <typename F> static void counted(PartyState &S, Channel &c, F f) {
  uint64_t s0 = c.stats.bytesSent, r0 = c.stats.bytesRecv;
  f();
  S.ctr.sent += c.stats.bytesSent - s0;
  S.ctr.recv += c.stats.bytesRecv - r0;
  S.ctr.rounds += 1;
}

/// The outsourced mode's input sharing: the client sends P0 x - m, where
/// m is the next words of the mask stream it shares with P1 (P1's share is
/// m, drawn locally). P0 sees uniform words, P1 a seed independent of x.
static Vec shareFromClient(Party &P, const Vec &plain, size_t n) {
  if (P.dealer())
    return Vec(n, 0);
  if (P.role == Role::P1)
    return P.clientMask.vec(n);
  if (P.role == Role::P0) {
    Vec got(n);
    counted(P, *P.client,
            [&] { P.client->recvExact(FrameType::Share, got.data(), n * 8); });
    return got;
  }
  UMBRA_CHECK(plain.size() == n, "input has ", plain.size(),
              " elements, expected ", n);
  Vec masked = P.clientMask.vec(n);
  for (size_t i = 0; i < n; ++i)
    masked[i] = plain[i] - masked[i];
  counted(P, *P.server[0],
          [&] { P.server[0]->send(FrameType::Share, masked.data(), n * 8); });
  return {};
}

Vec shareInput(Party &P, Role owner, const Vec &plain, size_t n) {
  if (owner == Role::Client)
    return shareFromClient(P, plain, n);
  if (P.dealer())
    return Vec(n, 0);
  if (P.role != owner)
    return P.peerChannel().oneWay(FrameType::Share, false, {}, n);
  UMBRA_CHECK(plain.size() == n, "input has ", plain.size(),
              " elements, expected ", n);
  Vec r = P.own.vec(n);
  Vec mine(n);
  for (size_t i = 0; i < n; ++i)
    mine[i] = plain[i] - r[i];
  P.peerChannel().oneWay(FrameType::Share, true, r, n);
  return mine;
}

/// The outsourced mode's reveal to the client: P0 and P1 each send the
/// client their share; neither learns the value.
static Vec revealToClient(Party &P, const Vec &share) {
  if (P.dealer())
    return {};
  size_t n = share.size();
  if (P.role != Role::Client) {
    counted(P, *P.client,
            [&] { P.client->send(FrameType::Reveal, share.data(), n * 8); });
    return {};
  }
  Vec a(n), b(n);
  counted(P, *P.server[0],
          [&] { P.server[0]->recvExact(FrameType::Reveal, a.data(), n * 8); });
  counted(P, *P.server[1],
          [&] { P.server[1]->recvExact(FrameType::Reveal, b.data(), n * 8); });
  for (size_t i = 0; i < n; ++i)
    a[i] += b[i];
  return a;
}

Vec reveal(Party &P, const Vec &share, RevealTo to) {
  if (to == RevealTo::Client && P.outsourced())
    return revealToClient(P, share);
  if (to == RevealTo::Client)
    to = RevealTo::P0;
  if (to == RevealTo::Both)
    return P.open(share);
  if (to == RevealTo::BothAndDealer) {
    // P0 passes the opened words on to the dealer (they size its material).
    Vec v = P.open(share);
    if (P.dealer()) {
      UMBRA_CHECK(P.material0, "internal: the dealer has no link to P0");
      v.assign(share.size(), 0);
      P.material0->recvExact(FrameType::Reveal, v.data(), 8 * v.size());
    } else if (P.p0()) {
      UMBRA_CHECK(P.material, "internal: P0 has no link to the dealer");
      P.material->send(FrameType::Reveal, v.data(), 8 * v.size());
    }
    return v;
  }
  if (P.dealer())
    return {};
  bool iGet = (to == RevealTo::P0) == P.p0();
  Vec out =
      P.peerChannel().oneWay(FrameType::Reveal, !iGet, share, share.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] += share[i];
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
  Vec c = P.corrEach(n, [&](size_t i) { return a[i] * b[i]; });
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
  Vec c = P.corrEach(n, [&](size_t i) { return a[i] * a[i]; });
  Vec d(n);
  for (size_t i = 0; i < n; ++i)
    d[i] = x[i] - a[i];
  d = P.open(d);
  Vec z(n);
  for (size_t i = 0; i < n; ++i)
    z[i] = c[i] + 2 * d[i] * a[i] + (P.p0() ? d[i] * d[i] : 0);
  return z;
}

void addConst(Party &P, Vec &x, double c, int f) {
  if (P.p0()) {
    uint64_t ce = encodeFixed(c, f);
    for (auto &v : x)
      v += ce;
  }
}

std::vector<Vec> products(Party &P, const std::vector<Factors> &pairs) {
  size_t n = pairs.empty() ? 0 : pairs[0].first->size();
  std::vector<Vec> a(pairs.size()), b(pairs.size()), c(pairs.size());
  Vec open;
  open.reserve(2 * n * pairs.size());
  for (size_t q = 0; q < pairs.size(); ++q) {
    auto [x, y] = pairs[q];
    a[q] = P.randShared(n);
    b[q] = x == y ? a[q] : P.randShared(n);
    c[q] = P.corrEach(n, [&](size_t e) { return a[q][e] * b[q][e]; });
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

std::vector<Vec> mulShared1(Party &P, const Vec &x,
                            const std::vector<Vec> &ys) {
  const size_t n = x.size(), m = ys.size();
  Vec a = P.randShared(n);
  std::vector<Vec> bs(m), cs(m);
  for (size_t j = 0; j < m; ++j) {
    bs[j] = P.randShared(n);
    cs[j] = P.corrEach(n, [&](size_t i) { return a[i] * bs[j][i]; });
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

//===----------------------------------------------------------------------===//
// Truncation
//===----------------------------------------------------------------------===//

Vec trunc(Party &P, const Vec &x, int f) {
  UMBRA_CHECK(f >= 1 && f <= 62, "trunc: bad bit count ", f);
  size_t n = x.size();
  Vec r = P.randShared(n);
  Vec rt = P.corrEach(n, [&](size_t i) { return r[i] >> f; });
  Vec rm = P.corrEach(n, [&](size_t i) { return r[i] >> 63; });
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

} // namespace umbra::rt
