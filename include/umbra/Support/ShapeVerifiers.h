//===- ShapeVerifiers.h - shape rules shared by tfm and mpc ops -----------===//
//
// `tfm` ops (float tensors) and `mpc` ops (fixed-point tensors) move data
// with the same shape rules: numpy broadcasting, matmul with batch
// broadcasting, reductions, reshape, transpose, slice, concat. Each check
// emits the op's error and fails, so both dialects say the same thing.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_SUPPORT_SHAPEVERIFIERS_H
#define UMBRA_SUPPORT_SHAPEVERIFIERS_H

#include "mlir/IR/Operation.h"

namespace umbra {
using Shape = llvm::ArrayRef<int64_t>;

/// Resolves a possibly negative `axis` against `rank`.
mlir::FailureOr<int64_t> normaliseAxis(mlir::Operation *op, int64_t axis,
                                       int64_t rank);

/// `operands` broadcast (numpy rules) to exactly `result`.
llvm::LogicalResult verifyBroadcast(mlir::Operation *op,
                                    llvm::ArrayRef<Shape> operands,
                                    Shape result);

/// numpy.matmul of `a` and `b` (both rank >= 2) gives `c`.
llvm::LogicalResult verifyMatMul(mlir::Operation *op, Shape a, Shape b,
                                 Shape c);

/// Reducing `axes` of `in` gives `out` (kept as size 1 with `keepdims`).
llvm::LogicalResult verifyReduce(mlir::Operation *op, Shape in,
                                 llvm::ArrayRef<int64_t> axes, bool keepdims,
                                 Shape out);

/// A reshape keeps the element count.
llvm::LogicalResult verifyReshape(mlir::Operation *op, Shape in, Shape out);

/// `out[i] == in[permutation[i]]`, a permutation of every dimension.
llvm::LogicalResult verifyTranspose(mlir::Operation *op, Shape in,
                                    llvm::ArrayRef<int64_t> permutation,
                                    Shape out);

/// `in` broadcasts to `out`.
llvm::LogicalResult verifyExpand(mlir::Operation *op, Shape in, Shape out);

/// Concatenating `inputs` along `axis` (non-negative) gives `out`.
llvm::LogicalResult verifyConcat(mlir::Operation *op,
                                 llvm::ArrayRef<Shape> inputs, int64_t axis,
                                 Shape out);

/// A strided slice of `in` starting at `offsets` with positive `strides`
/// and `out`'s sizes stays inside `in`.
llvm::LogicalResult verifySlice(mlir::Operation *op, Shape in,
                                llvm::ArrayRef<int64_t> offsets,
                                llvm::ArrayRef<int64_t> strides, Shape out);
} // namespace umbra

#endif // UMBRA_SUPPORT_SHAPEVERIFIERS_H
