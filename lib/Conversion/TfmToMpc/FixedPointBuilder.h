//===- FixedPointBuilder.h - mpc values with consistent precision -*- C++ -*-===//
//
// Every lowering pattern builds mpc arithmetic through this builder, which
// keeps the one invariant of the fixed-point encoding: a real value carries
// the working precision (`frac` fractional bits), a product carries the sum
// of its factors' and is truncated back at once, and a 0/1 value (a
// comparison bit, a mask) carries none. It is also the one place that
// inserts `mpc.share`: a private value is secret-shared (once, the shares
// are reused) exactly where it meets data its holder may not see.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_LIB_CONVERSION_TFMTOMPC_FIXEDPOINTBUILDER_H
#define UMBRA_LIB_CONVERSION_TFMTOMPC_FIXEDPOINTBUILDER_H

#include "umbra/Dialect/Mpc/IR/MpcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

namespace umbra::mpc {

class FixedPointBuilder {
public:
  /// `loc` is declared before `b`: it is initialised from the parameter
  /// (its default member initializer read the still unbound reference).
  FixedPointBuilder(mlir::OpBuilder &b, unsigned frac)
      : loc(b.getUnknownLoc()), b(b), frac(frac) {}

  mlir::OpBuilder &builder() { return b; }
  /// The location of the ops built next (the tfm op being lowered).
  mlir::Location loc;
  /// The working precision of real values.
  unsigned workingFrac() const { return frac; }

  //===--- types ------------------------------------------------------------===//

  static MpcTensorType typeOf(mlir::Value v) {
    return mlir::cast<MpcTensorType>(v.getType());
  }
  /// The shape of an mpc value or of an original (tfm) tensor.
  static llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);
  MpcTensorType tensorType(llvm::ArrayRef<int64_t> shape, Visibility vis,
                           unsigned frac) {
    return MpcTensorType::get(b.getContext(), shape, vis, frac);
  }
  /// Who may see a combination of `operands`: the dialect's join, with a
  /// client value meeting an owner value computed under MPC (shared).
  static Visibility joinOf(llvm::ArrayRef<mlir::Value> operands);

  //===--- values entering the program --------------------------------------===//

  /// A float tensor (argument or constant) encoded by its holder `vis` at
  /// the working precision, right after its definition.
  mlir::Value encode(mlir::Value floatTensor, Visibility vis);
  /// A constant created by the lowering, held by `vis` with `frac`
  /// fractional bits: computed from the constants `from` (a reciprocal of a
  /// divisor, a mask from a condition: it carries the union of their
  /// provenance, and stays without one if they have none), or, with `from`
  /// empty, a literal of the compiler (public by rule). Built once per
  /// value, holder, precision and provenance.
  mlir::Value constant(mlir::DenseElementsAttr value, unsigned frac,
                       Visibility vis = Visibility::public_,
                       mlir::ValueRange from = {});
  /// A public literal scalar at `frac` (default: the working precision).
  mlir::Value scalar(double c, unsigned frac = ~0u);

  /// `v` made fit to be combined into a value of visibility `target`:
  /// private values meeting shared data are secret-shared first (once).
  mlir::Value prepare(mlir::Value v, Visibility target);
  /// `values` prepared for their join; returns the join.
  Visibility prepareAll(llvm::MutableArrayRef<mlir::Value> values);

  //===--- arithmetic (all keep the frac invariant) -------------------------===//

  /// Local x + y and x - y (same frac; the joined visibility).
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  /// x * y, truncated back to the working precision when both are reals.
  mlir::Value mul(mlir::Value x, mlir::Value y);
  /// x * y at the sum of their fractional bits (no truncation: exact in
  /// the ring while the real product is small).
  mlir::Value mulExact(mlir::Value x, mlir::Value y);
  mlir::Value matmul(mlir::Value x, mlir::Value y);
  mlir::Value truncTo(mlir::Value v, unsigned frac);
  mlir::Value scale(mlir::Value x, double c) { return mul(x, scalar(c)); }
  /// The comparison bit [x >= 0] (frac 0).
  mlir::Value drelu(mlir::Value x);
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  /// `x` with the shape `shape` (same holder and precision).
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);

private:
  template <typename OpTy>
  mlir::Value elementwise(mlir::Value x, mlir::Value y);

  mlir::OpBuilder &b;
  unsigned frac;
  llvm::DenseMap<mlir::Value, mlir::Value> sharedOf;
  llvm::DenseMap<std::tuple<mlir::Attribute, mlir::Attribute, unsigned>,
                 mlir::Value>
      constants;
};

} // namespace umbra::mpc

#endif // UMBRA_LIB_CONVERSION_TFMTOMPC_FIXEDPOINTBUILDER_H
