//===- ConstantEvalTest.cpp - the one compile-time constant evaluator -----===//
#include "umbra/Support/ConstantEval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace umbra::ceval;

namespace {

Tensor floats(llvm::ArrayRef<int64_t> shape, std::vector<double> v) {
  Tensor t;
  t.shape.assign(shape.begin(), shape.end());
  t.data = std::move(v);
  return t;
}

Tensor ints(llvm::ArrayRef<int64_t> shape, std::vector<int64_t> v) {
  Tensor t;
  t.shape.assign(shape.begin(), shape.end());
  t.data = std::move(v);
  return t;
}

const std::vector<double> &f(const Tensor &t) { return std::get<0>(t.data); }
const std::vector<int64_t> &i(const Tensor &t) { return std::get<1>(t.data); }

TEST(ConstantEval, BinaryBroadcastsFloatsAndInts) {
  Tensor r;
  ASSERT_EQ(binary(BinaryOp::Add, floats({2, 1}, {1, 2}),
                   floats({3}, {10, 20, 30}), true, r),
            Status::Ok);
  EXPECT_EQ(r.shape, (llvm::SmallVector<int64_t>{2, 3}));
  EXPECT_EQ(f(r), (std::vector<double>{11, 21, 31, 12, 22, 32}));
  ASSERT_EQ(binary(BinaryOp::Mul, ints({2}, {3, -4}), ints({}, {5}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r), (std::vector<int64_t>{15, -20}));
  EXPECT_NE(binary(BinaryOp::Add, ints({2}, {1, 2}), ints({3}, {1, 2, 3}),
                   false, r),
            Status::Ok);
}

TEST(ConstantEval, IntegerSemantics) {
  Tensor r;
  // Wrapping arithmetic (torch's INT64_MAX slice ends survive).
  int64_t max = std::numeric_limits<int64_t>::max();
  ASSERT_EQ(binary(BinaryOp::Add, ints({}, {max}), ints({}, {1}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r)[0], std::numeric_limits<int64_t>::min());
  // Truncating division; Mod takes the divisor's sign (ONNX fmod=0).
  ASSERT_EQ(binary(BinaryOp::Div, ints({2}, {-7, 7}), ints({}, {2}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r), (std::vector<int64_t>{-3, 3}));
  ASSERT_EQ(binary(BinaryOp::Mod, ints({2}, {-7, 7}), ints({}, {3}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(binary(BinaryOp::Div, ints({}, {1}), ints({}, {0}), false, r),
            Status::DivisionByZero);
  ASSERT_EQ(binary(BinaryOp::Pow, ints({}, {3}), ints({}, {4}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r)[0], 81);
}

TEST(ConstantEval, MixedOperandsComputeInDouble) {
  Tensor r;
  // A float base with an integer exponent; an int base with a float one.
  ASSERT_EQ(binary(BinaryOp::Pow, floats({}, {2.5}), ints({}, {2}), true, r),
            Status::Ok);
  EXPECT_DOUBLE_EQ(f(r)[0], 6.25);
  ASSERT_EQ(binary(BinaryOp::Pow, ints({}, {2}), floats({}, {0.5}), false, r),
            Status::Ok);
  EXPECT_EQ(i(r)[0], 1);
}

TEST(ConstantEval, ComparisonsAreBoolean) {
  Tensor r;
  ASSERT_EQ(binary(BinaryOp::Less, floats({3}, {1, 2, 3}), floats({}, {2}),
                   true, r),
            Status::Ok);
  EXPECT_EQ(i(r), (std::vector<int64_t>{1, 0, 0}));
}

TEST(ConstantEval, UnaryOnePathForBothKinds) {
  Tensor r;
  ASSERT_EQ(unary(UnaryOp::Abs, ints({2}, {-3, 4}), r), Status::Ok);
  EXPECT_EQ(i(r), (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(unary(UnaryOp::Abs, floats({2}, {-3.5, 4}), r), Status::Ok);
  EXPECT_EQ(f(r), (std::vector<double>{3.5, 4}));
  ASSERT_EQ(unary(UnaryOp::Sigmoid, floats({}, {0}), r), Status::Ok);
  EXPECT_DOUBLE_EQ(f(r)[0], 0.5);
  // Float-only functions are undefined on integers.
  EXPECT_EQ(unary(UnaryOp::Sqrt, ints({}, {4}), r), Status::Undefined);
}

TEST(ConstantEval, Cast) {
  Tensor x = floats({4}, {1.9, -1.9, NAN, 0.1});
  EXPECT_EQ(i(cast(x, false, false, false)),
            (std::vector<int64_t>{1, -1, 0, 0}));
  EXPECT_EQ(i(cast(x, false, true, false)), (std::vector<int64_t>{1, 1, 1, 1}));
  // To f32 rounds, to f64 does not.
  EXPECT_EQ(f(cast(floats({}, {0.1}), true, false, false))[0], double(0.1f));
  EXPECT_EQ(f(cast(floats({}, {0.1}), true, false, true))[0], 0.1);
}

TEST(ConstantEval, DataMovement) {
  Tensor x = ints({2, 3}, {0, 1, 2, 3, 4, 5});
  llvm::SmallVector<int64_t> shape;
  std::vector<int64_t> map = transposeMap(x.shape, {1, 0}, shape);
  EXPECT_EQ(shape, (llvm::SmallVector<int64_t>{3, 2}));
  EXPECT_EQ(i(remap(x, shape, map)), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(i(remap(x, {2, 1}, sliceMap(x.shape, {0, 2}, {1, 1}, {2, 1}))),
            (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(i(remap(x, {2, 2}, gatherMap(x.shape, 1, {2, 0}))),
            (std::vector<int64_t>{2, 0, 5, 3}));
  EXPECT_EQ(i(remap(ints({3}, {7, 8, 9}), {2, 3},
                    broadcastMap({2, 3}, {3}))),
            (std::vector<int64_t>{7, 8, 9, 7, 8, 9}));
  Tensor a = floats({1, 2}, {1, 2}), b = floats({1, 1}, {3});
  EXPECT_EQ(f(concat({&a, &b}, 1)), (std::vector<double>{1, 2, 3}));
}

TEST(ConstantEval, WhereCumSumTriluFillRange) {
  EXPECT_EQ(f(where(ints({2}, {1, 0}), floats({}, {1}), floats({2}, {5, 6}),
                    {2})),
            (std::vector<double>{1, 6}));
  Tensor ones = ints({4}, {1, 1, 1, 1});
  EXPECT_EQ(i(cumsum(ones, 0, false, false)),
            (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(i(cumsum(ones, 0, true, true)), (std::vector<int64_t>{3, 2, 1, 0}));
  Tensor m = fill(ints({}, {1}), {3, 3});
  EXPECT_EQ(i(trilu(m, 0, false)),
            (std::vector<int64_t>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(i(trilu(m, 1, true)),
            (std::vector<int64_t>{0, 1, 1, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(rangeCount(ints({}, {0}), ints({}, {10}), ints({}, {3})), 4);
  EXPECT_EQ(rangeCount(ints({}, {10}), ints({}, {0}), ints({}, {-4})), 3);
  EXPECT_EQ(rangeCount(ints({}, {0}), ints({}, {1}), ints({}, {0})), -1);
  EXPECT_EQ(rangeCount(floats({}, {0}), floats({}, {1}), floats({}, {0.3})), 4);
  // Counts past int64 saturate (the importer's size check reports them).
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(rangeCount(floats({}, {0}), floats({}, {1e30}), floats({}, {1e-30})),
            kMax);
  EXPECT_EQ(rangeCount(ints({}, {-kMax}), ints({}, {kMax}), ints({}, {1})),
            kMax);
  EXPECT_EQ(i(range(ints({}, {2}), ints({}, {3}), 3)),
            (std::vector<int64_t>{2, 5, 8}));
}

} // namespace
