//===- Lowering.h - convert-tfm-to-mpc's state and op patterns --*- C++ -*-===//
//
// The result type of every lowered op depends on a dataflow fact (who may see
// the value), not on the source type alone, and several tfm ops are lowered
// together (a causal mask by the softmax that reads it, 1/sqrt of a variance
// as one rsqrt). So the lowering is one forward walk over each function that
// consults the visibility analysis and, for each op, runs the pattern its
// family file registered (populate*Lowerings below: one row per op). A
// pattern reads lowered operands with `get`, builds mpc values with the
// FixedPointBuilder and records the result with `set`.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_LIB_CONVERSION_TFMTOMPC_LOWERING_H
#define UMBRA_LIB_CONVERSION_TFMTOMPC_LOWERING_H

#include "FixedPointBuilder.h"

#include "umbra/Utils/Approximation/Approximation.h"

#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/TypeID.h"

#include <functional>

namespace umbra::mpc {

/// What the patterns need from the pass options, validated and fitted once.
struct LoweringOptions {
  unsigned frac;
  ReluCorrection gelu, geluTanh, silu, softplus;
  SaturatingFit sigmoid, tanh, erf;
  ScaledPolynomial logMantissa, exp2Fraction;
  int64_t expSquarings;
  double maskedScore, varianceMax;
  /// Domains of functions of secret data (the pass options).
  double reciprocalMin, reciprocalMax, sqrtMax, logMin, logMax, expMax;
};

class Lowering;

/// The patterns, by op type.
class LoweringSet {
public:
  using Pattern = std::function<mlir::LogicalResult(Lowering &, mlir::Operation *)>;

  template <typename OpTy, typename Fn>
  void add(Fn fn) {
    table[mlir::TypeID::get<OpTy>()] = [fn](Lowering &l, mlir::Operation *op) {
      return fn(l, mlir::cast<OpTy>(op));
    };
  }
  const Pattern *lookup(mlir::Operation *op) const;

private:
  llvm::DenseMap<mlir::TypeID, Pattern> table;
};

void populateElementwiseLowerings(LoweringSet &set);
void populateShapeLowerings(LoweringSet &set);
void populateLinearLowerings(LoweringSet &set);
void populateAttentionLowerings(LoweringSet &set);
void populateNormalizationLowerings(LoweringSet &set);
void populateActivationLowerings(LoweringSet &set);
void populateFunctionLowerings(LoweringSet &set);
void populateIntegerLowerings(LoweringSet &set);
void populateSparsityLowerings(LoweringSet &set);

class Lowering {
public:
  Lowering(const mlir::DataFlowSolver &solver, const LoweringOptions &opts,
           const LoweringSet &patterns, mlir::OpBuilder &b)
      : fx(b, opts.frac), opts(opts), solver(solver), patterns(patterns) {}

  mlir::LogicalResult lowerFunction(mlir::func::FuncOp func);

  //===--- for the patterns ------------------------------------------------===//

  FixedPointBuilder fx;
  const LoweringOptions &opts;

  /// The lowered form of an original tfm value (constants are encoded
  /// where they are first used).
  mlir::FailureOr<mlir::Value> get(mlir::Value original);
  /// The lowered form of an original value used as a factor of an
  /// elementwise product: a float constant is encoded with the bits a
  /// factor needs (FixedPointBuilder::factorFrac when public,
  /// privateFactorFrac when a party holds it); anything else is `get`.
  mlir::FailureOr<mlir::Value> getFactor(mlir::Value original);
  /// Who may see an original value (the analysis' answer).
  Visibility visibilityOf(mlir::Value original) const;
  void set(mlir::Value original, mlir::Value lowered) {
    loweredOf[original] = lowered;
  }
  /// Lowers op(x) or op(x, y) with a builder of the result from the lowered
  /// operands.
  mlir::LogicalResult unary(mlir::Operation *op,
                            llvm::function_ref<mlir::Value(mlir::Value)> build);
  mlir::LogicalResult
  binary(mlir::Operation *op,
         llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> build);
  static llvm::ArrayRef<int64_t> resultShape(mlir::Operation *op) {
    return FixedPointBuilder::shapeOf(op->getResult(0));
  }

  /// A block-sparse FFN (Sparsity.cpp), by its tfm block mask: the opened
  /// permuted mask and each tfm.block_linear's permuted weight and bias.
  struct SparseFfn {
    mlir::Value openMask, wideMask;
    llvm::DenseMap<mlir::Operation *, mlir::Value> weight, bias;
  };
  llvm::DenseMap<mlir::Value, SparseFfn> sparseFfns;

private:
  mlir::LogicalResult lower(mlir::Operation *op);

  const mlir::DataFlowSolver &solver;
  const LoweringSet &patterns;
  llvm::DenseMap<mlir::Value, mlir::Value> loweredOf, factorOf;
};

/// The error for an op (or a form of it) that has no MPC lowering.
mlir::LogicalResult noLowering(mlir::Operation *op);

/// Functions of lowered (secret or private) values, on the domains of the
/// pass options (Functions.cpp).
/// 1/y for y of either sign with |y| in [reciprocal-min, reciprocal-max].
mlir::Value reciprocalOf(Lowering &l, mlir::Value y);
/// sqrt(x) for x in [0, sqrt-max].
mlir::Value sqrtOf(Lowering &l, mlir::Value x);
/// x / y for y of either sign with |y| in [reciprocal-min, reciprocal-max].
mlir::Value divide(Lowering &l, mlir::Value x, mlir::Value y);
/// log(x) for x in [log-min, log-max], or in [lo, hi] when the caller
/// knows a narrower domain (fewer binade comparisons); diagnoses `op` when
/// the domain does not fit the precision.
mlir::FailureOr<mlir::Value> logOf(Lowering &l, mlir::Operation *op,
                                   mlir::Value x);
mlir::FailureOr<mlir::Value> logOf(Lowering &l, mlir::Operation *op,
                                   mlir::Value x, double lo, double hi);
/// softmax's row machinery (Attention.cpp) along `axis`: the shifted
/// scores x - max (working precision), their exponentials (a few extra
/// fractional bits) and the row sums (working precision, in [1, n]).
struct ExpRows {
  mlir::Value shifted, e, sum;
  int64_t n;
};
ExpRows expRows(Lowering &l, mlir::Value x, int64_t axis);
void populateLossLowerings(LoweringSet &set);
/// One-hot rows (frac 0) of the integer `ids` (a tfm value) over `depth`
/// (Losses.cpp): built by the client for a model input it holds, by
/// comparisons for secret ids. `op` names errors.
mlir::FailureOr<mlir::Value> oneHotOf(Lowering &l, mlir::Operation *op,
                                      mlir::Value ids, int64_t depth,
                                      std::optional<int64_t> ignore,
                                      bool wrapNegative);
/// Building blocks of the functions (Functions.cpp), shared with
/// FunctionLowerings.cpp.
/// p(x) for a polynomial fitted in a scaled variable (one mpc.poly).
mlir::Value poly(FixedPointBuilder &fx, mlir::Value x,
                 const ScaledPolynomial &p);
/// x's sign bit [x >= 0], its sign +-1 and |x| (one comparison, one
/// product with the sign).
struct SignAndAbs {
  mlir::Value bit, sign, abs;
};
SignAndAbs signAndAbs(FixedPointBuilder &fx, mlir::Value x);
/// x at `frac` fractional bits (exact, local).
mlir::Value widen(FixedPointBuilder &fx, mlir::Value x, unsigned frac);
/// 1/sqrt(x) for x in [lo, hi] (one mpc.rsqrt).
mlir::Value rsqrtOn(FixedPointBuilder &fx, mlir::Value x, double lo,
                    double hi);
/// exp(x) for x <= exp-max; an error at `op` when the domain does not fit
/// the precision.
mlir::FailureOr<mlir::Value> expOf(Lowering &l, mlir::Operation *op,
                                   mlir::Value x);
/// Floor, ceil, round, sign, trigonometric and hyperbolic functions
/// (FunctionLowerings.cpp).
void populateElementaryFunctionLowerings(LoweringSet &set);
/// The comparison bits ([d >= 0], [-d >= 0]) by one gate on [d; -d]
/// (equality, sign, != 0; Integers.cpp).
std::pair<mlir::Value, mlir::Value> signBits(FixedPointBuilder &fx,
                                             mlir::Value d);
/// The bits [v >= 0] of each of `values` (one shape) from one comparison
/// gate on their stack (FunctionLowerings.cpp).
llvm::SmallVector<mlir::Value> dreluAll(FixedPointBuilder &fx,
                                        llvm::ArrayRef<mlir::Value> values);
/// floor(x) as an integer (frac 0), exact: one truncation and one
/// comparison (FunctionLowerings.cpp; docs/protocols.md, Exact floor).
mlir::Value floorInt(FixedPointBuilder &fx, mlir::Value x);
/// An integer or bit (frac 0) as a real at the working precision: exact,
/// local (Integers.cpp).
mlir::Value toReal(FixedPointBuilder &fx, mlir::Value x);
/// A real truncated toward zero as an integer (frac 0), exact (Integers.cpp).
mlir::Value truncTowardZero(FixedPointBuilder &fx, mlir::Value x);
/// Integer division and modulo, powers with an integer base or exponent,
/// bit shifts (IntegerDivision.cpp).
void populateIntegerDivisionLowerings(LoweringSet &set);
mlir::LogicalResult lowerIntegerDiv(Lowering &l, mlir::Operation *div);
mlir::LogicalResult lowerIntegerPow(Lowering &l, mlir::Operation *pow);
/// f(x) ~ ReLU(x) - [|x| < T] * g(|x|) (Activations.cpp).
mlir::Value reluCorrected(FixedPointBuilder &fx, mlir::Value x,
                          const ReluCorrection &r);

} // namespace umbra::mpc

#endif // UMBRA_LIB_CONVERSION_TFMTOMPC_LOWERING_H
