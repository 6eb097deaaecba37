//===- StrategiesTest.cpp - strategies.json and the --approx grammar ------===//
#include "umbra/Utils/Approximation/Strategies.h"

#include <gtest/gtest.h>

using namespace umbra::approx;

// Every family has the strategy that changes nothing, and every constant
// the compiler reads is in the table (python/ reads the same keys).
TEST(Strategies, TableHasEveryConstantTheCompilerReads) {
  for (const std::string &op : approximableOps()) {
    EXPECT_NE(strategyOf(op, kAccurate), nullptr) << op;
    EXPECT_FALSE(familyOf(op).empty()) << op;
  }
  EXPECT_EQ(familyOf("gelu"), "activation");
  EXPECT_EQ(familyOf("rms_norm"), "norm");
  EXPECT_EQ(familyOf("relu"), "");
  EXPECT_EQ(numbers(*strategyOf("gelu", "quad"), "coefficients"),
            (std::vector<double>{0.5, 0.25, 0.125}));
  const auto &poly = *strategyOf("silu", "poly");
  EXPECT_EQ(numbers(poly, "domain").size(), 2u);
  EXPECT_GE(number(poly, "degree"), 1);
  EXPECT_GE(number(poly, "pieces"), 1);
  EXPECT_TRUE(poly.getString("fit"));
  for (const char *s : {"2quad", "relu-norm"}) {
    EXPECT_GT(number(*strategyOf("softmax", s), "epsilon"), 0) << s;
    EXPECT_GT(number(*strategyOf("softmax", s), "score_bound"), 0) << s;
  }
  EXPECT_EQ(number(*strategyOf("softmax", "2quad"), "shift"), 5.0);
  EXPECT_GT(number(*strategyOf("layer_norm", "rsqrt"), "variance_max"), 0);
  EXPECT_GE(number(*strategyOf("rms_norm", "rsqrt"), "iterations"), 1);
  EXPECT_EQ(strategyNames("softmax"),
            (std::vector<std::string>{"2quad", "accurate", "relu-norm"}));
}

TEST(Strategies, LaterEntriesAndLayerRangesOverride) {
  std::string error;
  auto spec = parseSpec("gelu:relu, softmax:relu-norm, softmax:2quad@0-1, "
                        "gelu:accurate@3",
                        error);
  ASSERT_TRUE(spec) << error;
  EXPECT_EQ(spec->strategyFor("gelu", 0), "relu");
  EXPECT_EQ(spec->strategyFor("gelu", 3), "accurate");
  EXPECT_EQ(spec->strategyFor("softmax", 1), "2quad");
  EXPECT_EQ(spec->strategyFor("softmax", 2), "relu-norm");
  EXPECT_EQ(spec->strategyFor("softmax", std::nullopt), "relu-norm");
  EXPECT_EQ(spec->strategyFor("layer_norm", 0), "accurate");
  ASSERT_TRUE(parseSpec("", error));
  EXPECT_TRUE(parseSpec("", error)->empty());
  // A layer range never matches an op outside every layer.
  auto ranged = parseSpec("layer_norm:affine@0-3", error);
  ASSERT_TRUE(ranged);
  EXPECT_EQ(ranged->strategyFor("layer_norm", std::nullopt), "accurate");
}

TEST(Strategies, MistakesAreNamed) {
  std::string error;
  EXPECT_FALSE(parseSpec("gelu", error));
  EXPECT_NE(error.find("expected OP:STRATEGY"), std::string::npos) << error;
  EXPECT_FALSE(parseSpec("relu:quad", error));
  EXPECT_NE(error.find("'relu' takes no approximation; the ops that do are"),
            std::string::npos)
      << error;
  EXPECT_FALSE(parseSpec("softmax:quad", error));
  EXPECT_NE(error.find("'quad' is no strategy of softmax; its strategies are "
                       "2quad, accurate, relu-norm"),
            std::string::npos)
      << error;
  EXPECT_FALSE(parseSpec("gelu:relu@5-2", error));
  EXPECT_NE(error.find("FIRST <= LAST"), std::string::npos) << error;
  EXPECT_FALSE(parseSpec("gelu:relu@x", error));
  EXPECT_NE(error.find("layers count from 0"), std::string::npos) << error;
}
