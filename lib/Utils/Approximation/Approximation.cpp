//===- Approximation.cpp - polynomial fits for MPC activations ------------===//
#include "umbra/Utils/Approximation/Approximation.h"

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

double ReluCorrection::evaluate(double x) const {
  double t = std::abs(x);
  return std::max(x, 0.0) - (t < threshold ? correction.evaluate(t) : 0.0);
}

ScaledPolynomial umbra::fitPolynomial(llvm::function_ref<double(double)> f,
                                      double lo, double hi, unsigned degree,
                                      Fit fit) {
  // Chebyshev nodes avoid Runge oscillation at the interval ends.
  constexpr int kNodes = 1024;
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
  if (fit == Fit::minimax) {
    // Lawson: reweight each node by its error, so the weighted least-squares
    // solution moves towards equal ripple; keep the best iterate.
    Eigen::VectorXd w = Eigen::VectorXd::Constant(kNodes, 1.0 / kNodes);
    Eigen::VectorXd best = c;
    double bestErr = (a * c - b).cwiseAbs().maxCoeff();
    for (int it = 0; it < 200 && bestErr > 0; ++it) {
      Eigen::VectorXd s = w.cwiseSqrt();
      Eigen::VectorXd ci =
          (s.asDiagonal() * a).colPivHouseholderQr().solve(s.cwiseProduct(b));
      Eigen::VectorXd e = (a * ci - b).cwiseAbs();
      if (double err = e.maxCoeff(); err < bestErr) {
        bestErr = err;
        best = ci;
      }
      w = w.cwiseProduct(e);
      double total = w.sum();
      if (!(total > 0))
        break;
      w /= total;
    }
    c = best;
  }
  p.coefficients.assign(c.data(), c.data() + c.size());
  return p;
}

double PiecewisePolynomial::evaluate(double x) const {
  size_t i = std::upper_bound(knots.begin(), knots.end(), x) - knots.begin();
  return pieces[i].evaluate(x);
}

PiecewisePolynomial umbra::fitWithAsymptotes(
    llvm::function_ref<double(double)> f, double lo, double hi,
    unsigned pieces, unsigned degree, Fit fit) {
  PiecewisePolynomial p;
  ScaledPolynomial zero, identity;
  zero.coefficients = {0.0};
  identity.coefficients = {0.0, 1.0};
  p.knots.push_back(lo);
  p.pieces.push_back(zero);
  double width = (hi - lo) / pieces;
  for (unsigned i = 0; i < pieces; ++i) {
    double a = lo + i * width, b = i + 1 == pieces ? hi : a + width;
    p.pieces.push_back(fitPolynomial(f, a, b, degree, fit));
    p.knots.push_back(b);
  }
  p.pieces.push_back(identity);
  // The tails' error decays away from the domain: sampling as far again on
  // each side covers its largest value.
  constexpr int kSamples = 200000;
  double span = hi - lo;
  for (int i = 0; i <= kSamples; ++i) {
    double x = lo - span + 3 * span * i / kSamples;
    p.maxError = std::max(p.maxError, std::abs(p.evaluate(x) - f(x)));
  }
  for (int i = 0; i < kSamples; ++i) {
    double x = lo + span * (i + 0.5) / kSamples;
    p.meanError += (p.evaluate(x) - f(x)) / kSamples;
  }
  return p;
}

ReluCorrection umbra::fitReluCorrection(llvm::function_ref<double(double)> f,
                                        double threshold, unsigned degree) {
  ReluCorrection r;
  r.threshold = threshold;
  r.correction = fitPolynomial([&](double t) { return -f(-t); }, 0, threshold,
                               degree);
  constexpr int kSamples = 200000;
  for (int i = 0; i <= kSamples; ++i) {
    double x = threshold * (8.0 * i / kSamples - 4);
    r.maxError = std::max(r.maxError, std::abs(r.evaluate(x) - f(x)));
  }
  return r;
}

double umbra::gelu(double x) { return 0.5 * x * (1 + std::erf(x / M_SQRT2)); }
double umbra::geluTanh(double x) {
  return 0.5 * x *
         (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
double umbra::silu(double x) { return x / (1 + std::exp(-x)); }

double SaturatingFit::evaluate(double x) const {
  double t = std::abs(x);
  double g = t < threshold ? tail.evaluate(t) : 0.0;
  if (x >= 0)
    return 1 - g;
  return odd ? g - 1 : g;
}

SaturatingFit umbra::fitSaturating(llvm::function_ref<double(double)> f,
                                   bool odd, double threshold,
                                   unsigned degree) {
  SaturatingFit s;
  s.threshold = threshold;
  s.odd = odd;
  s.tail = fitPolynomial([&](double t) { return 1 - f(t); }, 0, threshold,
                         degree);
  constexpr int kSamples = 200000;
  for (int i = 0; i <= kSamples; ++i) {
    double x = threshold * (4.0 * i / kSamples - 2);
    s.maxError = std::max(s.maxError, std::abs(s.evaluate(x) - f(x)));
  }
  return s;
}

double umbra::sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double umbra::softplus(double x) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
}

SaturatingFit umbra::sigmoidFit() {
  return fitSaturating(sigmoid, /*odd=*/false, 10, 12);
}
SaturatingFit umbra::tanhFit() {
  return fitSaturating([](double x) { return std::tanh(x); }, /*odd=*/true, 6,
                       14);
}
SaturatingFit umbra::erfFit() {
  return fitSaturating([](double x) { return std::erf(x); }, /*odd=*/true, 4,
                       12);
}
ReluCorrection umbra::softplusFit() {
  return fitReluCorrection(softplus, 12, 14);
}
ScaledPolynomial umbra::logMantissaFit() {
  return fitPolynomial([](double m) { return std::log(m); }, 1, 2, 7);
}
ScaledPolynomial umbra::exp2FractionFit() {
  return fitPolynomial([](double r) { return std::exp2(r); }, 0, 1, 5);
}
