//===- Approximations.h - MPC-friendly forms of non-linear functions ------===//
//
// Under MPC a comparison costs one round and a product one round, so smooth
// activations are evaluated as splines: comparisons against public
// breakpoints select low-degree polynomials fitted by the compiler (least
// squares at Chebyshev nodes, in a variable scaled to [-1, 1] so that the
// coefficients stay well inside fixed-point range). The fitted error over
// each piece is reported so that passes and tests can state it.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_CONVERSION_TFMTOMPC_APPROXIMATIONS_H
#define UMBRA_CONVERSION_TFMTOMPC_APPROXIMATIONS_H

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

/// One polynomial per interval [breakpoints[i], breakpoints[i+1]); below the
/// first breakpoint the function is taken as 0 and above the last as x (the
/// asymptotes of GeLU and SiLU).
struct Spline {
  llvm::SmallVector<double> breakpoints;
  llvm::SmallVector<ScaledPolynomial> pieces;
  /// Largest |spline(x) - f(x)| over [breakpoints.front() - 4 * width,
  /// breakpoints.back() + 4 * width], sampled densely: includes the tails.
  double maxError = 0;
  double evaluate(double x) const;
};

/// Least-squares fit of `f` on [lo, hi] with a polynomial of `degree`.
ScaledPolynomial fitPolynomial(llvm::function_ref<double(double)> f, double lo,
                               double hi, unsigned degree);

/// Fits a spline to `f` with the given breakpoints (at least two, strictly
/// increasing) and degree, and measures its error.
Spline fitSpline(llvm::function_ref<double(double)> f,
                 llvm::ArrayRef<double> breakpoints, unsigned degree);

double gelu(double x);
double silu(double x);

} // namespace umbra

#endif // UMBRA_CONVERSION_TFMTOMPC_APPROXIMATIONS_H
