//===- ApproximationDomains.h - where the lowering's fits hold --*- C++ -*-===//
//
// The one place that turns the lowering's options into the domains of its
// approximations, for the range analysis (umbra/Analysis/RangeAnalysis.h):
// softmax's exp(x) = (1 + x/2^t)^(2^t) holds on [-2^t, 0], the norms' rsqrt
// on [epsilon, variance-max + epsilon], GeLU/SiLU are a polynomial on
// |x| < threshold and ReLU beyond. A new approximation adds its domain here.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_CONVERSION_APPROXIMATIONDOMAINS_H
#define UMBRA_CONVERSION_APPROXIMATIONDOMAINS_H

#include "umbra/Analysis/RangeAnalysis.h"
#include "umbra/Conversion/Passes.h"

namespace umbra {

inline ApproximationDomains
approximationDomains(const ConvertTfmToMpcOptions &o) {
  ApproximationDomains d;
  d.fracBits = o.fracBits;
  d.expSquarings = o.expSquarings;
  d.varianceMax = o.varianceMax;
  d.geluThreshold = o.geluThreshold;
  d.siluThreshold = o.siluThreshold;
  return d;
}

} // namespace umbra

#endif // UMBRA_CONVERSION_APPROXIMATIONDOMAINS_H
