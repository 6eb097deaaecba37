//===- TfmFolding.cpp - evaluate tfm ops on constants ---------------------===//
//
// Each op maps to one call of the constant evaluator; the evaluator is the
// only place that defines what the ops compute on constants.
//
//===----------------------------------------------------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmFolding.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Dialect/Tfm/IR/TfmRoles.h"
#include "umbra/Support/ConstantValues.h"

#include "umbra/Dialect/Mpc/IR/Provenance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::tfm;

/// Results larger than this are not folded (a folded constant is held as an
/// inline attribute).
static constexpr int64_t kMaxFoldedElements = int64_t(1) << 26;

Attribute umbra::tfm::evaluateTfmOp(Operation *op,
                                    ArrayRef<Attribute> operands) {
  if (op->getNumResults() != 1)
    return {};
  auto outTy = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!outTy || !outTy.hasStaticShape() ||
      outTy.getNumElements() > kMaxFoldedElements)
    return {};
  // Decide before reading any operand: reading a large weight for an op that
  // cannot be folded would be wasted work.
  if (!isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, EqualOp, LessOp, NegOp,
           SqrtOp, ReciprocalOp, ExpOp, ErfOp, TanhOp, SigmoidOp, ReluOp,
           AbsOp, LogOp, SoftplusOp, FloorOp, CeilOp, RoundOp, SignOp, SinOp,
           CosOp, TanOp, AtanOp, AsinOp, AcosOp, SinhOp, CoshOp, AsinhOp,
           AcoshOp, AtanhOp,
           WhereOp, CastOp, ReshapeOp, TransposeOp, ExpandOp, ConcatOp, SliceOp,
           GatherOp>(op))
    return {};
  SmallVector<ceval::Tensor> in;
  for (Attribute a : operands) {
    std::optional<ceval::Tensor> t = getConstantTensor(a);
    if (!t)
      return {};
    in.push_back(std::move(*t));
  }
  ArrayRef<int64_t> shape = outTy.getShape();
  bool floatOut = isa<FloatType>(outTy.getElementType());
  std::optional<ceval::Tensor> r;
  auto binary = [&](ceval::BinaryOp k) {
    ceval::Tensor t;
    if (ceval::binary(k, in[0], in[1], floatOut, t) == ceval::Status::Ok)
      r = std::move(t);
  };
  auto unary = [&](ceval::UnaryOp k) {
    ceval::Tensor t;
    if (ceval::unary(k, in[0], t) == ceval::Status::Ok)
      r = std::move(t);
  };
  auto remap = [&](const std::vector<int64_t> &map) {
    r = ceval::remap(in[0], shape, map);
  };
  using ceval::BinaryOp;
  using ceval::UnaryOp;
  TypeSwitch<Operation *>(op)
      .Case([&](AddOp) { binary(BinaryOp::Add); })
      .Case([&](SubOp) { binary(BinaryOp::Sub); })
      .Case([&](MulOp) { binary(BinaryOp::Mul); })
      .Case([&](DivOp) { binary(BinaryOp::Div); })
      .Case([&](PowOp) { binary(BinaryOp::Pow); })
      .Case([&](MaxOp) { binary(BinaryOp::Max); })
      .Case([&](EqualOp) { binary(BinaryOp::Equal); })
      .Case([&](LessOp) { binary(BinaryOp::Less); })
      .Case([&](NegOp) { unary(UnaryOp::Neg); })
      .Case([&](SqrtOp) { unary(UnaryOp::Sqrt); })
      .Case([&](ReciprocalOp) { unary(UnaryOp::Reciprocal); })
      .Case([&](ExpOp) { unary(UnaryOp::Exp); })
      .Case([&](ErfOp) { unary(UnaryOp::Erf); })
      .Case([&](TanhOp) { unary(UnaryOp::Tanh); })
      .Case([&](SigmoidOp) { unary(UnaryOp::Sigmoid); })
      .Case([&](ReluOp) { unary(UnaryOp::Relu); })
      .Case([&](AbsOp) { unary(UnaryOp::Abs); })
      .Case([&](LogOp) { unary(UnaryOp::Log); })
      .Case([&](SoftplusOp) { unary(UnaryOp::Softplus); })
      .Case([&](FloorOp) { unary(UnaryOp::Floor); })
      .Case([&](CeilOp) { unary(UnaryOp::Ceil); })
      .Case([&](RoundOp) { unary(UnaryOp::Round); })
      .Case([&](SignOp) { unary(UnaryOp::Sign); })
      .Case([&](SinOp) { unary(UnaryOp::Sin); })
      .Case([&](CosOp) { unary(UnaryOp::Cos); })
      .Case([&](TanOp) { unary(UnaryOp::Tan); })
      .Case([&](AtanOp) { unary(UnaryOp::Atan); })
      .Case([&](AsinOp) { unary(UnaryOp::Asin); })
      .Case([&](AcosOp) { unary(UnaryOp::Acos); })
      .Case([&](SinhOp) { unary(UnaryOp::Sinh); })
      .Case([&](CoshOp) { unary(UnaryOp::Cosh); })
      .Case([&](AsinhOp) { unary(UnaryOp::Asinh); })
      .Case([&](AcoshOp) { unary(UnaryOp::Acosh); })
      .Case([&](AtanhOp) { unary(UnaryOp::Atanh); })
      .Case([&](WhereOp) {
        if (in[1].isFloat() == in[2].isFloat())
          r = ceval::where(in[0], in[1], in[2], shape);
      })
      .Case([&](CastOp) {
        r = ceval::cast(in[0], floatOut, outTy.getElementType().isInteger(1),
                        outTy.getElementType().isF64());
      })
      .Case([&](ReshapeOp) { r = ceval::reshape(in[0], shape); })
      .Case([&](ExpandOp) { remap(ceval::broadcastMap(shape, in[0].shape)); })
      .Case([&](TransposeOp t) {
        SmallVector<int64_t> s;
        remap(ceval::transposeMap(in[0].shape, t.getPermutation(), s));
      })
      .Case([&](SliceOp s) {
        remap(ceval::sliceMap(in[0].shape, s.getOffsets(), s.getStrides(),
                              shape));
      })
      .Case([&](ConcatOp c) {
        SmallVector<const ceval::Tensor *> parts;
        for (const ceval::Tensor &t : in)
          if (t.isFloat() != in[0].isFloat())
            return;
          else
            parts.push_back(&t);
        r = ceval::concat(parts, c.getAxis());
      })
      .Case([&](GatherOp g) {
        if (in[1].isFloat())
          return;
        int64_t axis = g.getAxis(), dim = in[0].shape[axis];
        SmallVector<int64_t> idx;
        for (int64_t i : std::get<1>(in[1].data)) {
          if (i < -dim || i >= dim)
            return;
          idx.push_back(i < 0 ? i + dim : i);
        }
        remap(ceval::gatherMap(in[0].shape, axis, idx));
      });
  if (!r)
    return {};
  return getElementsAttr(*r, outTy);
}

FailureOr<arith::ConstantOp> umbra::tfm::foldToPublicConstant(OpBuilder &b,
                                                             Operation *op) {
  SmallVector<Attribute> operands;
  for (Value v : op->getOperands()) {
    if (!isPublicConstant(v))
      return failure();
    operands.push_back(v.getDefiningOp<arith::ConstantOp>().getValue());
  }
  auto value = dyn_cast_or_null<TypedAttr>(evaluateTfmOp(op, operands));
  if (!value)
    return failure();
  auto cst = arith::ConstantOp::create(b, op->getLoc(),
                                       op->getResult(0).getType(), value);
  setRole(cst, mpc::Visibility::public_);
  // The union of the operands' sources: a public constant computed from a
  // weight the user marked public says so, and one computed from a
  // constant without provenance has none (the exporter refuses it).
  mpc::deriveSources(cst, op->getOperands());
  return cst;
}

namespace {
/// Folds any tfm op on public constants into a public constant.
struct FoldPublicConstants : RewritePattern {
  FoldPublicConstants(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<TfmDialect>(op->getDialect()) || op->getNumOperands() == 0)
      return failure();
    FailureOr<arith::ConstantOp> cst = foldToPublicConstant(rewriter, op);
    if (failed(cst))
      return failure();
    rewriter.replaceOp(op, cst->getResult());
    return success();
  }
};
} // namespace

void TfmDialect::getCanonicalizationPatterns(RewritePatternSet &results) const {
  results.add<FoldPublicConstants>(getContext());
}
