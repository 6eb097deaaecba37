//===- MpcSparsifyFfn.cpp - predicted FFNs into block-sparse form ---------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace umbra {
#define GEN_PASS_DEF_MPCSPARSIFYFFN
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;

namespace {

struct MpcSparsifyFfn : umbra::impl::MpcSparsifyFfnBase<MpcSparsifyFfn> {
  using MpcSparsifyFfnBase::MpcSparsifyFfnBase;

  void runOnOperation() override {
    if (leakage != "per-deployment" && leakage != "per-inference") {
      getOperation().emitError()
          << "mpc-sparsify-ffn: leakage '" << leakage
          << "' is not per-deployment or per-inference";
      return signalPassFailure();
    }
    SmallVector<tfm::BlockSelectOp> selects;
    getOperation().walk([&](tfm::BlockSelectOp s) { selects.push_back(s); });
    for (tfm::BlockSelectOp s : selects)
      rewrite(s);
  }

  /// up (or gate, up) -> act -> block_select -> down, each intermediate
  /// used once, becomes the block-sparse form; anything else stays dense.
  void rewrite(tfm::BlockSelectOp sel) {
    if (!sel->hasOneUse())
      return;
    auto down = dyn_cast<tfm::LinearOp>(*sel->getUsers().begin());
    Operation *h = sel.getInput().getDefiningOp();
    if (!down || down.getInput() != sel.getResult() || !h || !h->hasOneUse())
      return;
    auto isAct = [](Operation *op) {
      return op && op->hasOneUse() &&
             isa<tfm::ReluOp, tfm::GeluOp, tfm::SiluOp>(op);
    };
    Operation *act = nullptr;
    tfm::LinearOp up, gate;
    if (isAct(h)) {
      act = h;
      up = act->getOperand(0).getDefiningOp<tfm::LinearOp>();
    } else if (auto mul = dyn_cast<tfm::MulOp>(h)) {
      for (int i = 0; i < 2 && !act; ++i)
        if (isAct(mul->getOperand(i).getDefiningOp())) {
          act = mul->getOperand(i).getDefiningOp();
          gate = act->getOperand(0).getDefiningOp<tfm::LinearOp>();
          up = mul->getOperand(1 - i).getDefiningOp<tfm::LinearOp>();
        }
      if (!gate || !gate->hasOneUse())
        return;
    }
    if (!act || !up || !up->hasOneUse())
      return;
    Value mask = sel.getMask();
    OpBuilder b(down);
    auto leak = b.getStringAttr(leakage);
    auto blockLinear = [&](tfm::LinearOp l) {
      return tfm::BlockLinearOp::create(b, l.getLoc(), l.getType(),
                                        l.getInput(), l.getWeight(),
                                        l.getBias(), mask, b.getBoolAttr(false),
                                        leak)
          .getResult();
    };
    auto activation = [&](Value x) -> Value {
      if (isa<tfm::ReluOp>(act))
        return tfm::BlockReluOp::create(b, act->getLoc(), x.getType(), x, mask);
      ++numDenseActivations;
      Operation *c = b.clone(*act);
      c->setOperand(0, x);
      return c->getResult(0);
    };
    Value hidden;
    if (gate) {
      Value g = activation(blockLinear(gate));
      // act(0) = 0 for relu, gelu, silu: unselected blocks stay 0.
      hidden = tfm::MulOp::create(b, h->getLoc(), h->getResultTypes()[0], g,
                                  blockLinear(up));
    } else {
      hidden = activation(blockLinear(up));
      if (!isa<tfm::ReluOp>(act))
        hidden = tfm::BlockSelectOp::create(b, sel.getLoc(), hidden.getType(),
                                            hidden, mask);
    }
    Value y = tfm::BlockLinearOp::create(
        b, down.getLoc(), down.getType(), hidden, down.getWeight(),
        down.getBias(), mask, b.getBoolAttr(true), leak);
    down.replaceAllUsesWith(y);
    down->erase();
    sel->erase();
    h->erase();
    if (gate) {
      act->erase();
      gate->erase();
    } else if (act != h) {
      act->erase();
    }
    up->erase();
    ++numSparse;
  }
};
} // namespace
