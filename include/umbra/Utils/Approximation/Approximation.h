//===- Approximation.h - MPC-friendly forms of non-linear functions -------===//
//
// Under MPC a comparison and a product each cost a round and bytes per
// element, so smooth activations are evaluated with as few of both as
// possible. GeLU, its tanh form and SiLU are all f(x) = x * S(x) with
// S(x) + S(-x) = 1, hence
//
//   f(x) = ReLU(x) - g(|x|),   g(t) = -f(-t) = t * S(-t),
//
// and g decays to 0 quickly. One polynomial fitted to g on [0, T] (least
// squares at Chebyshev nodes, in a variable scaled to [-1, 1] so that the
// coefficients stay well inside fixed-point range) and one comparison
// |x| < T replace a spline of many pieces; |x| = 2 ReLU(x) - x is local once
// ReLU is known (Bolt/BumbleBee use the same identity). The fitted error,
// tail beyond T included, is measured so that passes and tests can state it.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_UTILS_APPROXIMATION_APPROXIMATION_H
#define UMBRA_UTILS_APPROXIMATION_APPROXIMATION_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace umbra {

/// p(x) = sum_i coefficients[i] * u^i with u = (x - center) / halfWidth.
struct ScaledPolynomial {
  double center = 0, halfWidth = 1;
  llvm::SmallVector<double> coefficients;
  double evaluate(double x) const;
};

/// f(x) ~ ReLU(x) - [|x| < threshold] * correction(|x|).
struct ReluCorrection {
  double threshold = 0;
  ScaledPolynomial correction;
  /// Largest |approximation(x) - f(x)| over [-4T, 4T], sampled densely:
  /// includes the tails, where the correction is dropped.
  double maxError = 0;
  double evaluate(double x) const;
};

/// Least-squares fit of `f` on [lo, hi] with a polynomial of `degree`.
ScaledPolynomial fitPolynomial(llvm::function_ref<double(double)> f, double lo,
                               double hi, unsigned degree);

/// Fits the correction of `f` (which must satisfy f(x) - f(-x) = x) on
/// [0, threshold] with a polynomial of `degree`, and measures the error.
ReluCorrection fitReluCorrection(llvm::function_ref<double(double)> f,
                                 double threshold, unsigned degree);

double gelu(double x);
double geluTanh(double x);
double silu(double x);

} // namespace umbra

#endif // UMBRA_UTILS_APPROXIMATION_APPROXIMATION_H
