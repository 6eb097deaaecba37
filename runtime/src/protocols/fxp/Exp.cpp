//===- Exp.cpp - exp by repeated squaring --------------------------------===//
#include "umbra/runtime/protocols/Fxp.h"

namespace umbra::rt {

Vec expGate(Party &P, const Vec &x, int f, int t, int bits) {
  // exp(x) ~ (1 + x/2^t)^(2^t), clamped at 0 for x < -2^t.
  Vec y = trunc(P, x, t);
  addConst(P, y, 1.0, f);
  y = relu(P, y, bits);
  for (int i = 0; i < t; ++i)
    y = trunc(P, square(P, y), f);
  return y;
}

} // namespace umbra::rt
