//===- ConstantEval.h - the one compile-time constant evaluator -*- C++ -*-===//
//
// The float semantics of the data-moving and elementwise ops, evaluated on
// tensors known at compile time. The ONNX importer folds shape computations
// with it, and the `tfm` dialect's folding pattern (hence `--canonicalize` and
// `mpc-relocate`) fold public constants with it. There is one code path for
// every element type: elements are `double` for float tensors and `int64_t`
// for integer and boolean ones, and each operation is a template over the
// element type (`std::visit` picks the instance once per tensor).
//
// This header does not depend on MLIR's IR: callers convert their constants
// (ONNX tensors, MLIR attributes) to `ceval::Tensor` and back.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_SUPPORT_CONSTANTEVAL_H
#define UMBRA_SUPPORT_CONSTANTEVAL_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <variant>
#include <vector>

namespace umbra::ceval {

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  Mod,
  Equal,
  Less,
  Greater,
  LessOrEqual,
  GreaterOrEqual,
  And,
  Or,
  Xor
};

enum class UnaryOp {
  Neg,
  Sqrt,
  Reciprocal,
  Relu,
  Erf,
  Tanh,
  Sigmoid,
  Exp,
  Sin,
  Cos,
  Abs,
  Log,
  Softplus,
  Floor,
  Ceil,
  Not,
  // Elementwise functions (FunctionOps.cpp).
  Round,
  Sign,
  Tan,
  Atan,
  Asin,
  Acos,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh
};

/// Whether the op yields a boolean tensor.
bool isComparison(BinaryOp op);

/// The elements of a tensor: doubles for float element types, int64 for
/// integers and bools.
using Elements = std::variant<std::vector<double>, std::vector<int64_t>>;

/// A tensor known at compile time (row-major).
struct Tensor {
  llvm::SmallVector<int64_t> shape;
  Elements data;

  bool isFloat() const { return data.index() == 0; }
  int64_t size() const;
  /// A zero-filled tensor.
  static Tensor zeros(llvm::ArrayRef<int64_t> shape, bool isFloat);
  /// Element `k` as a double (for scalar reads).
  double at(int64_t k) const;
};

/// Outcome of an evaluation; `Ok` unless the op is undefined on the input.
enum class Status { Ok, DivisionByZero, Undefined };

//===--- shapes and index maps ---------------------------------------------===//

/// Element count; INT64_MAX when it overflows and -1 for a negative
/// dimension, so that absurd shapes fail size checks instead of wrapping.
int64_t numElements(llvm::ArrayRef<int64_t> shape);
llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape);
/// Numpy broadcasting of two shapes; false if they do not broadcast.
bool broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b,
                     llvm::SmallVector<int64_t> &out);

/// For each element of a tensor of shape `out` (row-major), the source index
/// `base + sum(idx[d] * strides[d])`.
std::vector<int64_t> stridedMap(llvm::ArrayRef<int64_t> out,
                                llvm::ArrayRef<int64_t> strides, int64_t base);
/// Source index map for broadcasting `in` to `out`.
std::vector<int64_t> broadcastMap(llvm::ArrayRef<int64_t> out,
                                  llvm::ArrayRef<int64_t> in);
/// Source index map (and result shape) of a transpose by `perm`.
std::vector<int64_t> transposeMap(llvm::ArrayRef<int64_t> in,
                                  llvm::ArrayRef<int64_t> perm,
                                  llvm::SmallVector<int64_t> &outShape);
/// Source index map of a strided slice.
std::vector<int64_t> sliceMap(llvm::ArrayRef<int64_t> in,
                              llvm::ArrayRef<int64_t> offsets,
                              llvm::ArrayRef<int64_t> strides,
                              llvm::ArrayRef<int64_t> sizes);
/// Source index map of a gather of `indices` (already non-negative) along
/// `axis`.
std::vector<int64_t> gatherMap(llvm::ArrayRef<int64_t> in, int64_t axis,
                               llvm::ArrayRef<int64_t> indices);

//===--- evaluation ---------------------------------------------------------===//

/// The tensor of shape `shape` whose element k is src[map[k]] (transpose,
/// slice, broadcast, gather, reshape with the identity map).
Tensor remap(const Tensor &src, llvm::ArrayRef<int64_t> shape,
             const std::vector<int64_t> &map);
/// `src` with a new shape of the same element count.
Tensor reshape(const Tensor &src, llvm::ArrayRef<int64_t> shape);

/// `x op y` with broadcasting. Computes in double if either operand is
/// float, else in wrapping int64 (ONNX Mod takes the divisor's sign). The
/// result is boolean for comparisons, else float iff `floatResult`.
Status binary(BinaryOp op, const Tensor &x, const Tensor &y, bool floatResult,
              Tensor &out);
/// `op x`; `Undefined` for float-only functions on integers.
Status unary(UnaryOp op, const Tensor &x, Tensor &out);
/// Element conversion: to float (rounded to f32 unless `toDouble`), to
/// bool (non-zero) or to integer (truncation; non-finite floats become 0).
Tensor cast(const Tensor &x, bool toFloat, bool toBool, bool toDouble);
/// where(cond, t, f) with broadcasting to `shape`.
Tensor where(const Tensor &cond, const Tensor &t, const Tensor &f,
             llvm::ArrayRef<int64_t> shape);
/// Concatenation along `axis` (all inputs of one element kind and rank).
Tensor concat(llvm::ArrayRef<const Tensor *> inputs, int64_t axis);
/// Running sum along `axis`.
Tensor cumsum(const Tensor &x, int64_t axis, bool exclusive, bool reverse);
/// Zeroes the elements outside the triangle `j - i >= k` (upper) or
/// `j - i <= k` (lower) of the last two dimensions.
Tensor trilu(const Tensor &x, int64_t k, bool upper);
/// Tensor of shape `shape` filled with `value`'s one element.
Tensor fill(const Tensor &value, llvm::ArrayRef<int64_t> shape);
/// Number of elements of Range(start, limit, delta):
/// max(ceil((limit - start) / delta), 0); -1 for a zero delta. The three
/// scalars have one element kind.
int64_t rangeCount(const Tensor &start, const Tensor &limit,
                   const Tensor &delta);
/// `start + k * delta` for k < n.
Tensor range(const Tensor &start, const Tensor &delta, int64_t n);

} // namespace umbra::ceval

#endif // UMBRA_SUPPORT_CONSTANTEVAL_H
