//===- ApproximationTest.cpp - polynomial fits for GeLU and SiLU ----------===//
#include "umbra/Utils/Approximation/Approximation.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace umbra;

TEST(Approximations, PolynomialFitIsExactForPolynomials) {
  auto cubic = [](double x) { return 2 - x + 0.5 * x * x * x; };
  ScaledPolynomial p = fitPolynomial(cubic, -3, 5, 3);
  for (double x = -3; x <= 5; x += 0.25)
    EXPECT_NEAR(p.evaluate(x), cubic(x), 1e-9) << "x = " << x;
  // The variable is scaled to [-1, 1], so coefficients stay moderate.
  EXPECT_DOUBLE_EQ(p.center, 1.0);
  EXPECT_DOUBLE_EQ(p.halfWidth, 4.0);
}

// The defaults of convert-tfm-to-mpc, with the errors its documentation
// states (tails included: the correction is dropped for |x| >= T).
TEST(Approximations, DefaultGelu) {
  for (auto f : {gelu, geluTanh}) {
    ReluCorrection r = fitReluCorrection(f, 4.0, 7);
    EXPECT_LT(r.maxError, 2.5e-4);
    for (double c : r.correction.coefficients)
      EXPECT_LT(std::abs(c), 16.0); // fits fixed point with headroom
  }
}

TEST(Approximations, DefaultSilu) {
  ReluCorrection r = fitReluCorrection(silu, 10.0, 10);
  EXPECT_LT(r.maxError, 5e-4);
  // The tail beyond 10 dominates: silu(-10) = -4.5e-4.
  EXPECT_GT(r.maxError, 4.5e-4);
}

TEST(Approximations, TailsAreReluExactly) {
  ReluCorrection r = fitReluCorrection(gelu, 4.0, 7);
  EXPECT_EQ(r.evaluate(-100), 0.0);
  EXPECT_EQ(r.evaluate(100), 100.0);
  EXPECT_NEAR(r.evaluate(0.5), gelu(0.5), 2.5e-4);
  EXPECT_NEAR(r.evaluate(-0.5), gelu(-0.5), 2.5e-4);
}

TEST(Approximations, LowerDegreeIsWorse) {
  double d7 = fitReluCorrection(gelu, 4.0, 7).maxError;
  double d3 = fitReluCorrection(gelu, 4.0, 3).maxError;
  EXPECT_GT(d3, 10 * d7);
}

TEST(Approximations, SecretFunctionFits) {
  // The documented float errors (fit and tail) of the lowering's fits.
  SaturatingFit sig = sigmoidFit(), th = tanhFit(), e = erfFit();
  EXPECT_LT(sig.maxError, 5e-5);
  EXPECT_LT(th.maxError, 2e-5);
  EXPECT_LT(e.maxError, 1e-5);
  EXPECT_LT(softplusFit().maxError, 1e-5);
  for (double x : {-30.0, -3.0, -0.7, 0.0, 0.2, 2.5, 30.0}) {
    EXPECT_NEAR(sig.evaluate(x), sigmoid(x), 5e-5) << x;
    EXPECT_NEAR(th.evaluate(x), std::tanh(x), 2e-5) << x;
    EXPECT_NEAR(e.evaluate(x), std::erf(x), 1e-5) << x;
    EXPECT_NEAR(softplusFit().evaluate(x), softplus(x), 1e-5) << x;
  }
  for (const SaturatingFit *f : {&sig, &th, &e})
    for (double c : f->tail.coefficients)
      EXPECT_LT(std::abs(c), 16.0); // fits fixed point with headroom
  for (double m = 1; m <= 2; m += 1.0 / 64)
    EXPECT_NEAR(logMantissaFit().evaluate(m), std::log(m), 3e-7) << m;
  for (double r = 0; r <= 1; r += 1.0 / 64)
    EXPECT_NEAR(exp2FractionFit().evaluate(r), std::exp2(r), 2e-7) << r;
}

// Minimax trades the least-squares fit's error at the ends for equal
// ripple: its largest error is smaller.
TEST(Approximations, MinimaxBeatsLeastSquaresOnTheLargestError) {
  auto maxErr = [](const ScaledPolynomial &p, double lo, double hi) {
    double e = 0;
    for (int i = 0; i <= 20000; ++i) {
      double x = lo + (hi - lo) * i / 20000;
      e = std::max(e, std::abs(p.evaluate(x) - gelu(x)));
    }
    return e;
  };
  for (unsigned degree : {2u, 4u, 6u}) {
    double ls = maxErr(fitPolynomial(gelu, -4, 4, degree), -4, 4);
    double mm = maxErr(fitPolynomial(gelu, -4, 4, degree, Fit::minimax), -4, 4);
    EXPECT_LT(mm, 0.9 * ls) << "degree " << degree;
  }
}

// PUMA's form: 0 below the domain, x above it, fitted pieces between; the
// reported error covers the tails, and more pieces or degree shrink it.
TEST(Approximations, PiecewiseWithAsymptotes) {
  PiecewisePolynomial p = fitWithAsymptotes(gelu, -4, 4, 2, 4, Fit::minimax);
  ASSERT_EQ(p.knots.size(), 3u);
  ASSERT_EQ(p.pieces.size(), 4u);
  EXPECT_EQ(p.evaluate(-10), 0.0);
  EXPECT_EQ(p.evaluate(10), 10.0);
  double measured = 0;
  for (double x = -12; x <= 12; x += 1e-3)
    measured = std::max(measured, std::abs(p.evaluate(x) - gelu(x)));
  EXPECT_NEAR(p.maxError, measured, 1e-4);
  EXPECT_LT(p.maxError, 0.02);
  // Not only small but unbiased: the mean error is a fraction of the max.
  EXPECT_LT(std::abs(p.meanError), 0.1 * p.maxError);
  EXPECT_LT(fitWithAsymptotes(gelu, -4, 4, 4, 4, Fit::minimax).maxError,
            p.maxError);
  EXPECT_LT(fitWithAsymptotes(silu, -8, 8, 2, 6, Fit::minimax).maxError, 0.05);
}
