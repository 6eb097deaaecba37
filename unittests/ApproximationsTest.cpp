//===- ApproximationsTest.cpp - spline fits for GeLU and SiLU -------------===//
#include "umbra/Conversion/TfmToMpc/Approximations.h"

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

// The default splines of convert-tfm-to-mpc, with the errors its
// documentation states (tails included: 0 below, x above).
TEST(Approximations, DefaultGeluSpline) {
  Spline s = fitSpline(gelu, {-5, -2.5, 0, 2.5, 5}, 6);
  EXPECT_LT(s.maxError, 3e-5);
  for (const ScaledPolynomial &p : s.pieces)
    for (double c : p.coefficients)
      EXPECT_LT(std::abs(c), 16.0); // fits fixed point with headroom
}

TEST(Approximations, DefaultSiluSpline) {
  Spline s = fitSpline(silu, {-10, -5, -2.5, 0, 2.5, 5, 10}, 6);
  EXPECT_LT(s.maxError, 5e-4);
  // The tail beyond 10 dominates: silu(10) - 10 = -4.5e-4.
  EXPECT_GT(s.maxError, 4e-4);
}

TEST(Approximations, SplineTails) {
  Spline s = fitSpline(gelu, {-5, -2.5, 0, 2.5, 5}, 6);
  EXPECT_EQ(s.evaluate(-100), 0.0);
  EXPECT_EQ(s.evaluate(100), 100.0);
  EXPECT_NEAR(s.evaluate(0.5), gelu(0.5), 3e-5);
}

TEST(Approximations, LowerDegreeIsWorse) {
  double d6 = fitSpline(gelu, {-5, -2.5, 0, 2.5, 5}, 6).maxError;
  double d3 = fitSpline(gelu, {-5, -2.5, 0, 2.5, 5}, 3).maxError;
  EXPECT_GT(d3, 10 * d6);
}
