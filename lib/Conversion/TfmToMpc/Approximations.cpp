//===- Approximations.cpp - spline fitting for MPC activations ------------===//
#include "umbra/Conversion/TfmToMpc/Approximations.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

using namespace umbra;

double ScaledPolynomial::evaluate(double x) const {
  double u = (x - center) / halfWidth, y = 0;
  for (double c : llvm::reverse(coefficients))
    y = y * u + c;
  return y;
}

double Spline::evaluate(double x) const {
  if (x < breakpoints.front())
    return 0.0;
  for (size_t i = 0; i < pieces.size(); ++i)
    if (x < breakpoints[i + 1])
      return pieces[i].evaluate(x);
  return x;
}

ScaledPolynomial umbra::fitPolynomial(llvm::function_ref<double(double)> f,
                                      double lo, double hi, unsigned degree) {
  // Chebyshev nodes avoid Runge oscillation at the interval ends.
  constexpr int kNodes = 512;
  ScaledPolynomial p;
  p.center = (lo + hi) / 2;
  p.halfWidth = (hi - lo) / 2;
  Eigen::MatrixXd a(kNodes, degree + 1);
  Eigen::VectorXd b(kNodes);
  for (int k = 0; k < kNodes; ++k) {
    double u = std::cos(M_PI * (k + 0.5) / kNodes);
    double power = 1;
    for (unsigned j = 0; j <= degree; ++j, power *= u)
      a(k, j) = power;
    b(k) = f(p.center + p.halfWidth * u);
  }
  Eigen::VectorXd c = a.colPivHouseholderQr().solve(b);
  p.coefficients.assign(c.data(), c.data() + c.size());
  return p;
}

Spline umbra::fitSpline(llvm::function_ref<double(double)> f,
                        llvm::ArrayRef<double> breakpoints, unsigned degree) {
  Spline s;
  s.breakpoints.assign(breakpoints.begin(), breakpoints.end());
  for (size_t i = 0; i + 1 < breakpoints.size(); ++i)
    s.pieces.push_back(
        fitPolynomial(f, breakpoints[i], breakpoints[i + 1], degree));
  double width = breakpoints.back() - breakpoints.front();
  double lo = breakpoints.front() - 4 * width, hi = breakpoints.back() + 4 * width;
  constexpr int kSamples = 200000;
  for (int i = 0; i <= kSamples; ++i) {
    double x = lo + (hi - lo) * i / kSamples;
    s.maxError = std::max(s.maxError, std::abs(s.evaluate(x) - f(x)));
  }
  return s;
}

double umbra::gelu(double x) { return 0.5 * x * (1 + std::erf(x / M_SQRT2)); }
double umbra::silu(double x) { return x / (1 + std::exp(-x)); }
