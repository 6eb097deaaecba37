//===- MpcOptimize.cpp - merge truncations, schedule rounds ---------------===//
#include "umbra/Dialect/Mpc/IR/MpcOps.h"
#include "umbra/Dialect/Mpc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>

namespace umbra::mpc {
#define GEN_PASS_DEF_MPCOPTIMIZE
#include "umbra/Dialect/Mpc/Transforms/Passes.h.inc"
} // namespace umbra::mpc

using namespace mlir;
using namespace umbra::mpc;

namespace {

MpcTensorType typeOf(Value v) { return cast<MpcTensorType>(v.getType()); }

/// trunc(trunc(x, a), b) -> trunc(x, a + b).
struct MergeNestedTrunc : OpRewritePattern<TruncOp> {
  MergeNestedTrunc(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(TruncOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TruncOp>();
    if (!inner || !inner->hasOneUse())
      return failure();
    ++count;
    rewriter.replaceOpWithNewOp<TruncOp>(
        op, op.getType(), inner.getInput(),
        rewriter.getI64IntegerAttr(op.getBits() + inner.getBits()));
    return success();
  }
  llvm::Statistic &count;
};

/// trunc(a, k) +/- trunc(b, k) -> trunc(a +/- b, k) for shared, single-use
/// truncations of equal shape.
template <typename LinearOp>
struct HoistTruncOverLinear : OpRewritePattern<LinearOp> {
  HoistTruncOverLinear(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern<LinearOp>(ctx), count(count) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto lhs = op.getLhs().template getDefiningOp<TruncOp>();
    auto rhs = op.getRhs().template getDefiningOp<TruncOp>();
    if (!lhs || !rhs || lhs.getBits() != rhs.getBits() ||
        !lhs->hasOneUse() || !rhs->hasOneUse() ||
        !typeOf(lhs.getInput()).isShared() ||
        !typeOf(rhs.getInput()).isShared() ||
        typeOf(lhs.getInput()).getFrac() != typeOf(rhs.getInput()).getFrac())
      return failure();
    MpcTensorType wide = typeOf(op.getOutput())
                             .withFrac(typeOf(lhs.getInput()).getFrac());
    Value sum = LinearOp::create(rewriter, op.getLoc(), wide, lhs.getInput(),
                                 rhs.getInput());
    ++count;
    rewriter.replaceOpWithNewOp<TruncOp>(op, op.getType(), sum,
                                         lhs.getBitsAttr());
    return success();
  }
  llvm::Statistic &count;
};

int64_t ceilLog2(int64_t n) {
  int64_t r = 0;
  while ((int64_t{1} << r) < n)
    ++r;
  return r;
}

/// Communication rounds an op needs (see the pass description).
int64_t roundsOf(Operation *op) {
  bool shared = llvm::any_of(op->getOperandTypes(), [](Type t) {
    auto m = dyn_cast<MpcTensorType>(t);
    return m && m.isShared();
  });
  if (isa<ShareOp>(op))
    return 1;
  if (!shared)
    return 0;
  return TypeSwitch<Operation *, int64_t>(op)
      .Case<RevealOp, TruncOp, DReluOp, ReluOp, SelectOp>([](auto) { return 1; })
      .Case<MulOp, MatMulOp>([](auto m) {
        return typeOf(m.getLhs()).isShared() && typeOf(m.getRhs()).isShared()
                   ? 1
                   : 0;
      })
      .Case<PolyOp>([](PolyOp p) {
        return ceilLog2(std::max<int64_t>(p.getCoefficients().size() - 1, 1)) +
               1;
      })
      .Case<ExpOp>([](ExpOp e) { return 2 * e.getSquarings(); })
      .Case<MaxOp>([](MaxOp m) {
        int64_t rank = typeOf(m.getInput()).getRank();
        int64_t axis = static_cast<int64_t>(m.getAxis());
        if (axis < 0)
          axis += rank;
        return 2 * ceilLog2(typeOf(m.getInput()).getShape()[axis]);
      })
      .Case<ReciprocalOp, RsqrtOp>([](auto r) {
        int64_t it = static_cast<int64_t>(r.getIterations());
        return 2 * (it ? it : 4);
      })
      .Default([](Operation *) { return 0; });
}

struct MpcOptimize : umbra::mpc::impl::MpcOptimizeBase<MpcOptimize> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<MergeNestedTrunc>(ctx, numTruncsMerged);
    patterns.add<HoistTruncOverLinear<AddOp>, HoistTruncOverLinear<SubOp>>(
        ctx, numTruncsMerged);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();
    if (!func.getBody().hasOneBlock())
      return;
    schedule(func.getBody().front());
  }

  /// ASAP round of every op, then a stable reorder by start round.
  void schedule(Block &block) {
    DenseMap<Value, int64_t> ready; // round after which a value exists
    SmallVector<std::pair<int64_t, Operation *>> order;
    Builder b(&getContext());
    int64_t total = 0;
    for (Operation &op : block.without_terminator()) {
      int64_t start = 0;
      for (Value v : op.getOperands())
        start = std::max(start, ready.lookup(v));
      int64_t end = start + roundsOf(&op);
      for (Value r : op.getResults())
        ready[r] = end;
      total = std::max(total, end);
      if (roundsOf(&op) > 0)
        op.setAttr("mpc.round", b.getI64IntegerAttr(start));
      order.push_back({start, &op});
    }
    std::stable_sort(order.begin(), order.end(),
                     [](auto &x, auto &y) { return x.first < y.first; });
    Operation *terminator = block.getTerminator();
    for (auto &entry : order)
      entry.second->moveBefore(terminator);
    getOperation()->setAttr("mpc.rounds", b.getI64IntegerAttr(total));
  }
};

} // namespace
