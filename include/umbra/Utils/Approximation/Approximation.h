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

/// How a polynomial is fitted: least squares at Chebyshev nodes, or minimax
/// (the smallest largest error, by Lawson's iteratively reweighted least
/// squares on the same nodes).
enum class Fit { leastSquares, minimax };

/// Fit of `f` on [lo, hi] with a polynomial of `degree`.
ScaledPolynomial fitPolynomial(llvm::function_ref<double(double)> f, double lo,
                               double hi, unsigned degree,
                               Fit fit = Fit::leastSquares);

/// A piecewise polynomial: piece i holds on [knots[i-1], knots[i]) (the
/// first from -inf, the last to +inf), so there is one piece more than
/// knots.
struct PiecewisePolynomial {
  llvm::SmallVector<double> knots;
  llvm::SmallVector<ScaledPolynomial> pieces;
  /// Largest |approximation(x) - f(x)| over the real line (sampled densely
  /// on the fitted domain and beyond it, where the tails hold).
  double maxError = 0;
  /// Mean of approximation(x) - f(x) for x uniform on the fitted domain: a
  /// bias a fine-tuned model would have to absorb.
  double meanError = 0;
  double evaluate(double x) const;
};

/// PUMA's form of an activation f with f(x) -> 0 as x -> -inf and
/// f(x) - x -> 0 as x -> +inf (GeLU, SiLU): 0 below lo, x from hi on, and
/// `pieces` equal parts of [lo, hi) each fitted with a polynomial of
/// `degree`.
PiecewisePolynomial fitWithAsymptotes(llvm::function_ref<double(double)> f,
                                      double lo, double hi, unsigned pieces,
                                      unsigned degree, Fit fit);

/// Fits the correction of `f` (which must satisfy f(x) - f(-x) = x) on
/// [0, threshold] with a polynomial of `degree`, and measures the error.
ReluCorrection fitReluCorrection(llvm::function_ref<double(double)> f,
                                 double threshold, unsigned degree);

/// A function that saturates at 1 for large x and is symmetric about 0
/// (odd: f(-x) = -f(x), like tanh and erf; or f(-x) = 1 - f(x), like the
/// sigmoid), as f(x) = 1 - g(|x|) for x >= 0 and -(1 - g(|x|)) (odd) or
/// g(|x|) for x < 0, with g(t) = 1 - f(t) replaced by [t < threshold] *
/// tail(t).
struct SaturatingFit {
  double threshold = 0;
  bool odd = false;
  ScaledPolynomial tail;
  /// Largest |approximation(x) - f(x)| over [-2T, 2T], sampled densely.
  double maxError = 0;
  double evaluate(double x) const;
};

/// Fits the tail 1 - f(t) of `f` on [0, threshold] with a polynomial of
/// `degree`, and measures the error.
SaturatingFit fitSaturating(llvm::function_ref<double(double)> f, bool odd,
                            double threshold, unsigned degree);

/// The fits convert-tfm-to-mpc uses for functions of secret data
/// (thresholds and degrees chosen so that fit and tail are both a few
/// units of 2^-16; docs/import.md lists the measured errors).
/// sigmoid: T = 10, degree 12 (tail sigmoid(-10) = 4.5e-5 dominates).
SaturatingFit sigmoidFit();
/// tanh: T = 6, degree 14 (fit 1.5e-5, tail 1.2e-5).
SaturatingFit tanhFit();
/// erf: T = 4, degree 12 (fit 8e-6, tail 1.5e-8).
SaturatingFit erfFit();
/// softplus = ReLU(x) + log(1 + exp(-|x|)): T = 12, degree 14 (tail 6e-6).
ReluCorrection softplusFit();
/// ln(m) on [1, 2], degree 7 (2.2e-7).
ScaledPolynomial logMantissaFit();
/// 2^r on [0, 1], degree 5 (1.1e-7).
ScaledPolynomial exp2FractionFit();

double gelu(double x);
double geluTanh(double x);
double silu(double x);
double sigmoid(double x);
/// log(1 + exp(x)), stable for large |x|.
double softplus(double x);

} // namespace umbra

#endif // UMBRA_UTILS_APPROXIMATION_APPROXIMATION_H
