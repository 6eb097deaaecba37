//===- FixedPointBuilder.h - mpc values with consistent precision -*- C++ -*-===//
//
// Every lowering pattern builds mpc arithmetic through this builder, which
// keeps the one invariant of the fixed-point encoding: a real value carries
// the working precision (`frac` fractional bits), a product carries the sum
// of its factors' and is truncated back at once, and a 0/1 value (a
// comparison bit, a mask) carries none. A constant that multiplies a value
// (a mean's 1/n, a scale, a norm weight) carries the bits its own magnitude
// needs (`factorFrac`), so that no constant adds a relative error above
// 2^-(frac+4); the truncation after the product removes them again (it
// costs the same whatever it shifts by). It is also the one place that
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
  /// `frac` bits (default: the working precision), right after its
  /// definition.
  mlir::Value encode(mlir::Value floatTensor, Visibility vis,
                     unsigned frac = ~0u);
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

  //===--- precision of constant factors -----------------------------------===//

  /// Extra fractional bits of a private (owner- or client-held) constant
  /// that multiplies a value elementwise (a norm weight). Its values are
  /// secret, so its precision is fixed from public facts only: at f + 8
  /// bits a weight of magnitude 2^-4 or more is encoded within 2^-(f+4)
  /// relative (f = 16: 2^-20), and a product keeps |x * w| < 2^(62-2f-8)
  /// (2^22 at f = 16) of headroom.
  static constexpr unsigned kPrivateFactorExtraBits = 8;
  /// The fractional bits for public constant factor values: the fewest
  /// with which every nonzero value is within 2^-(f+4) relative of its
  /// encoding, but no more than leave the largest with f + 5 significant
  /// bits (so a product x * c has the headroom of x at 2f + 5 bits:
  /// |x| < 2^(57-2f), 2^25 at f = 16). Dyadic constants (1/2, 2, masks)
  /// need few or none and are exact.
  unsigned factorFrac(llvm::ArrayRef<double> values) const;
  unsigned privateFactorFrac() const { return frac + kPrivateFactorExtraBits; }
  /// A public scalar encoded as a factor (at factorFrac, in f64).
  mlir::Value factor(double c);

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
  mlir::Value mul(mlir::Value x, mlir::Value y) { return mulTo(x, y, frac); }
  /// x * y truncated to `outFrac` fractional bits (not truncated when the
  /// product has no more than that).
  mlir::Value mulTo(mlir::Value x, mlir::Value y, unsigned outFrac);
  /// x * y at the sum of their fractional bits (no truncation: exact in
  /// the ring while the real product is small).
  mlir::Value mulExact(mlir::Value x, mlir::Value y) {
    return mulTo(x, y, ~0u);
  }
  mlir::Value matmul(mlir::Value x, mlir::Value y);
  mlir::Value truncTo(mlir::Value v, unsigned frac);
  /// x * c for a public constant c, encoded as a factor; the product is
  /// truncated to `outFrac` (default: the working precision).
  mlir::Value scale(mlir::Value x, double c, unsigned outFrac = ~0u) {
    return mulTo(x, factor(c), outFrac == ~0u ? frac : outFrac);
  }
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
