//===- TfmToMpc.cpp - lower tfm to fixed-point mpc ------------------------===//
//
// The pass: validates the options, fits the approximations, runs the
// visibility analysis and walks each function (Lowering.h explains why a
// walk rather than a TypeConverter-driven conversion). The op patterns live
// in one file per family (Elementwise, Shape, Linear, Attention,
// Normalization, Activations); the fixed-point bookkeeping in
// FixedPointBuilder.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Analysis/VisibilityAnalysis.h"
#include "umbra/Conversion/Passes.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include <cmath>

namespace umbra {
#define GEN_PASS_DEF_CONVERTTFMTOMPC
#include "umbra/Conversion/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

const LoweringSet::Pattern *LoweringSet::lookup(Operation *op) const {
  auto it = table.find(op->getName().getTypeID());
  return it == table.end() ? nullptr : &it->second;
}

LogicalResult umbra::mpc::noLowering(Operation *op) {
  return op->emitOpError()
         << "has no MPC lowering (supported: linear algebra, elementwise "
            "add/sub/mul/div/max, less, equal, where, relu, gelu, silu, sigmoid, tanh, erf, "
            "integer and bool arithmetic, logic, sign, casts, argmax, "
            "softplus, abs, exp, log, sqrt, reciprocal, pow, softmax, "
            "causal masks, layer_norm, rms_norm, embedding, reductions and "
            "shape ops; run tfm-fuse first)";
}

Visibility Lowering::visibilityOf(Value original) const {
  return getVisibility(solver, original).value_or(Visibility::shared);
}

FailureOr<Value> Lowering::get(Value original) {
  if (Value v = loweredOf.lookup(original))
    return v;
  if (auto cst = original.getDefiningOp<arith::ConstantOp>()) {
    auto ty = dyn_cast<RankedTensorType>(cst.getType());
    if (ty && isa<FloatType>(ty.getElementType()))
      return loweredOf[original] = fx.encode(cst, visibilityOf(original));
    // Integers and bools: exact ring elements at 0 fractional bits.
    if (ty && isa<IntegerType>(ty.getElementType()))
      return loweredOf[original] = fx.encode(cst, visibilityOf(original), 0);
  }
  // An integer or bool argument used as a value (not only as ids for an
  // embedding, which reads the argument itself): encoded at frac 0 by its
  // holder, at the start of the function, where first used.
  if (auto arg = dyn_cast<BlockArgument>(original)) {
    auto ty = dyn_cast<RankedTensorType>(arg.getType());
    if (ty && isa<IntegerType>(ty.getElementType())) {
      OpBuilder::InsertionGuard guard(fx.builder());
      fx.builder().setInsertionPointToStart(arg.getOwner());
      Visibility vis = visibilityOf(arg);
      Value encoded = fx.encode(
          arg, vis == Visibility::shared ? Visibility::client : vis, 0);
      return loweredOf[original] = fx.prepare(encoded, vis);
    }
  }
  if (Operation *def = original.getDefiningOp())
    return def->emitOpError("produces a value of type ")
           << original.getType() << " that has no fixed-point form here";
  return emitError(original.getLoc(), "function argument of type ")
         << original.getType() << " cannot be used as a real value";
}

FailureOr<Value> Lowering::getFactor(Value original) {
  auto cst = original.getDefiningOp<arith::ConstantOp>();
  auto ty = cst ? dyn_cast<RankedTensorType>(cst.getType()) : nullptr;
  if (!ty || !isa<FloatType>(ty.getElementType()))
    return get(original);
  if (Value v = factorOf.lookup(original))
    return v;
  Visibility vis = visibilityOf(original);
  unsigned frac = fx.privateFactorFrac();
  if (vis == Visibility::public_) {
    std::optional<SmallVector<double>> values = getConstantValues(original);
    frac = values ? fx.factorFrac(*values) : opts.frac;
  }
  return factorOf[original] = fx.encode(cst, vis, frac);
}

LogicalResult Lowering::unary(Operation *op,
                              function_ref<Value(Value)> build) {
  FailureOr<Value> x = get(op->getOperand(0));
  if (failed(x))
    return failure();
  set(op->getResult(0), build(*x));
  return success();
}

LogicalResult Lowering::binary(Operation *op,
                               function_ref<Value(Value, Value)> build) {
  FailureOr<Value> x = get(op->getOperand(0)), y = get(op->getOperand(1));
  if (failed(x) || failed(y))
    return failure();
  set(op->getResult(0), build(*x, *y));
  return success();
}

LogicalResult Lowering::lower(Operation *op) {
  fx.loc = op->getLoc();
  if (isa<arith::ConstantOp>(op))
    return success(); // encoded where first used
  if (const LoweringSet::Pattern *pattern = patterns.lookup(op))
    return (*pattern)(*this, op);
  return noLowering(op);
}

LogicalResult Lowering::lowerFunction(func::FuncOp func) {
  OpBuilder &b = fx.builder();
  Block &entry = func.getBody().front();
  SmallVector<Operation *> originals;
  for (Operation &op : entry.without_terminator())
    originals.push_back(&op);
  b.setInsertionPointToStart(&entry);
  // Real-valued arguments are encoded by their holder; a `shared` one (the
  // outsourced client's) by the client, who secret-shares it at once.
  for (BlockArgument arg : entry.getArguments()) {
    auto ty = dyn_cast<RankedTensorType>(arg.getType());
    if (!ty || !isa<FloatType>(ty.getElementType()))
      continue;
    Visibility vis = visibilityOf(arg);
    // State arrives as the parties' shares of the previous program's state.
    if (isStateArgument(arg)) {
      set(arg, fx.encode(arg, Visibility::shared));
      continue;
    }
    Value encoded =
        fx.encode(arg, vis == Visibility::shared ? Visibility::client : vis);
    set(arg, fx.prepare(encoded, vis));
  }
  for (Operation *op : originals) {
    b.setInsertionPoint(op);
    if (failed(lower(op)))
      return failure();
  }
  // Results go to the client, and nothing else is revealed; state stays
  // secret-shared for the session's next program.
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  b.setInsertionPoint(ret);
  fx.loc = ret.getLoc();
  SmallVector<Value> results;
  for (auto [i, r] : llvm::enumerate(ret.getOperands())) {
    // An integer or bool output (frac 0) keeps its element type for the
    // client, who writes it with that type (the exporter's output slot).
    auto rty = dyn_cast<RankedTensorType>(r.getType());
    if (rty && isa<IntegerType>(rty.getElementType())) {
      auto onnx = func.getResultAttrOfType<TypeAttr>(i, "onnx.element_type");
      func.setResultAttr(i, kOutputElementTypeAttrName,
                         onnx ? onnx : TypeAttr::get(rty.getElementType()));
    }
    FailureOr<Value> v = get(r);
    if (failed(v))
      return failure();
    Value out = *v;
    MpcTensorType t = FixedPointBuilder::typeOf(out);
    bool state = func.getResultAttr(i, kStateAttrName) != nullptr;
    if (t.getVisibility() == Visibility::owner ||
        (state && t.getVisibility() != Visibility::shared))
      out = fx.prepare(out, Visibility::shared);
    t = FixedPointBuilder::typeOf(out);
    bool toAll = func.getResultAttr(i, kPublicOutputAttrName) != nullptr;
    if (t.isShared() && toAll)
      out = RevealOp::create(
          b, fx.loc, t.withVisibility(Visibility::public_), out,
          RevealTargetAttr::get(b.getContext(), RevealTarget::all),
          b.getStringAttr("output declared public (--role NAME=public): "
                          "every role learns it"));
    else if (t.isShared() && !state)
      out = RevealOp::create(
          b, fx.loc, t.withVisibility(Visibility::client), out,
          RevealTargetAttr::get(b.getContext(), RevealTarget::client),
          b.getStringAttr("model output"));
    results.push_back(out);
  }
  func::ReturnOp::create(b, fx.loc, results);
  ret.erase();
  // The original ops are dead now; constants stay while encodes use them.
  for (Operation *op : llvm::reverse(originals))
    if (op->use_empty())
      op->erase();
  func.setFunctionType(b.getFunctionType(func.getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  return success();
}

std::string umbra::verifyConvertTfmToMpcOptions(const ConvertTfmToMpcOptions &o) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  if (o.fracBits < 1 || o.fracBits > 24)
    os << "frac-bits must be between 1 and 24, got " << o.fracBits;
  for (auto [name, t] : {std::pair("gelu-threshold", o.geluThreshold),
                         std::pair("silu-threshold", o.siluThreshold)})
    if (msg.empty() && !(t > 0 && t <= 64))
      os << name << " must be in (0, 64], got " << t;
  for (auto [name, d] : {std::pair("gelu-degree", o.geluDegree),
                         std::pair("silu-degree", o.siluDegree)})
    if (msg.empty() && (d < 1 || d > 16))
      os << name << " must be in [1, 16], got " << d;
  if (msg.empty() && (o.expSquarings < 1 || o.expSquarings > 16))
    os << "exp-squarings must be in [1, 16], got " << o.expSquarings;
  if (msg.empty() && !(o.varianceMax > 0))
    os << "variance-max must be positive, got " << o.varianceMax;
  // Domains: positive and ordered (what else fits the encoding depends on
  // frac-bits and is checked where exp and log are lowered).
  if (msg.empty() &&
      !(o.reciprocalMin > 0 && o.reciprocalMin < o.reciprocalMax &&
        o.reciprocalMax <= 0x1p24))
    os << "reciprocal-min and reciprocal-max must satisfy 0 < min < max <= "
          "2^24, got "
       << o.reciprocalMin << " and " << o.reciprocalMax;
  if (msg.empty() && !(o.sqrtMax > 0 && o.sqrtMax <= 0x1p40))
    os << "sqrt-max must be in (0, 2^40], got " << o.sqrtMax;
  if (msg.empty() && !(o.logMin > 0 && o.logMin < o.logMax))
    os << "log-min and log-max must satisfy 0 < min < max, got " << o.logMin
       << " and " << o.logMax;
  if (msg.empty() && !(o.expMax > 0 && o.expMax <= 40))
    os << "exp-max must be in (0, 40], got " << o.expMax;
  // Masked scores are encoded: negative, finite, and well inside the range
  // faithful truncation supports (|x| < 2^40 at the encoding's scale).
  if (msg.empty() && !(std::isfinite(o.maskedScore) && o.maskedScore < 0 &&
                       std::ldexp(-o.maskedScore, int(o.fracBits)) < 0x1p40))
    os << "masked-score must be negative, finite and below 2^40 in magnitude "
          "at the encoding's scale, got "
       << o.maskedScore;
  return msg;
}

namespace {

struct ConvertTfmToMpc : umbra::impl::ConvertTfmToMpcBase<ConvertTfmToMpc> {
  using ConvertTfmToMpcBase::ConvertTfmToMpcBase;

  LogicalResult initialize(MLIRContext *) override {
    populateElementwiseLowerings(patterns);
    populateShapeLowerings(patterns);
    populateLinearLowerings(patterns);
    populateAttentionLowerings(patterns);
    populateNormalizationLowerings(patterns);
    populateActivationLowerings(patterns);
    populateFunctionLowerings(patterns);
    populateLossLowerings(patterns);
    populateElementaryFunctionLowerings(patterns);
    populateIntegerLowerings(patterns);
    populateSparsityLowerings(patterns);
    populateIntegerDivisionLowerings(patterns);
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    ConvertTfmToMpcOptions given;
    given.fracBits = fracBits;
    given.geluThreshold = geluThreshold;
    given.geluDegree = geluDegree;
    given.siluThreshold = siluThreshold;
    given.siluDegree = siluDegree;
    given.expSquarings = expSquarings;
    given.maskedScore = maskedScore;
    given.varianceMax = varianceMax;
    given.reciprocalMin = reciprocalMin;
    given.reciprocalMax = reciprocalMax;
    given.sqrtMax = sqrtMax;
    given.logMin = logMin;
    given.logMax = logMax;
    given.expMax = expMax;
    if (std::string err = verifyConvertTfmToMpcOptions(given); !err.empty()) {
      emitError(module.getLoc(), err);
      return signalPassFailure();
    }
    LoweringOptions opts;
    opts.frac = fracBits;
    opts.expSquarings = expSquarings;
    opts.maskedScore = maskedScore;
    opts.varianceMax = varianceMax;
    opts.gelu = fitReluCorrection(gelu, geluThreshold, geluDegree);
    opts.geluTanh = fitReluCorrection(geluTanh, geluThreshold, geluDegree);
    opts.silu = fitReluCorrection(silu, siluThreshold, siluDegree);
    opts.softplus = softplusFit();
    opts.sigmoid = sigmoidFit();
    opts.tanh = tanhFit();
    opts.erf = erfFit();
    opts.logMantissa = logMantissaFit();
    opts.exp2Fraction = exp2FractionFit();
    opts.reciprocalMin = reciprocalMin;
    opts.reciprocalMax = reciprocalMax;
    opts.sqrtMax = sqrtMax;
    opts.logMin = logMin;
    opts.logMax = logMax;
    opts.expMax = expMax;

    DataFlowSolver solver;
    if (failed(runVisibilityAnalysis(module, solver)))
      return signalPassFailure();
    OpBuilder b(&getContext());
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError("functions with control flow are not supported");
        return signalPassFailure();
      }
      Lowering lowering(solver, opts, patterns, b);
      if (failed(lowering.lowerFunction(func)))
        return signalPassFailure();
    }
  }

  LoweringSet patterns;
};

} // namespace
