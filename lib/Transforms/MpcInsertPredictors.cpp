//===- MpcInsertPredictors.cpp - a secret block mask per FFN and token ----===//
#include "umbra/Dialect/Mpc/IR/MpcAttributes.h"
#include "umbra/Dialect/Mpc/IR/Provenance.h"
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <map>
#include <sstream>

namespace umbra {
#define GEN_PASS_DEF_MPCINSERTPREDICTORS
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;

namespace {

/// "0.95", not "9.500000e-01".
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// An FFN: x -> up (or gate and up) -> activation -> down.
struct Ffn {
  tfm::LinearOp down;
  Value x;      // the FFN's input
  Value hidden; // the activations the down projection reads
  bool gated = false;
};

bool isActivation(Operation *op) {
  return op && isa<tfm::ReluOp, tfm::GeluOp, tfm::SiluOp>(op);
}

std::optional<Ffn> matchFfn(tfm::LinearOp down) {
  Value h = down.getInput();
  Operation *def = h.getDefiningOp();
  if (isActivation(def)) {
    if (auto up = def->getOperand(0).getDefiningOp<tfm::LinearOp>())
      return Ffn{down, up.getInput(), h, false};
    return std::nullopt;
  }
  auto mul = dyn_cast_or_null<tfm::MulOp>(def);
  if (!mul || mul.getLhs().getType() != mul.getRhs().getType())
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Operation *act = mul->getOperand(i).getDefiningOp();
    auto up = mul->getOperand(1 - i).getDefiningOp<tfm::LinearOp>();
    if (!isActivation(act) || !up)
      continue;
    auto gate = act->getOperand(0).getDefiningOp<tfm::LinearOp>();
    if (gate && gate.getInput() == up.getInput())
      return Ffn{down, up.getInput(), h, true};
  }
  return std::nullopt;
}

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The constant u v ([d, r] x [r, n]), public only if both are, with both
/// provenances; null when u or v is not a constant.
Value foldProduct(OpBuilder &b, Location loc, Value u, Value v) {
  auto cu = u.getDefiningOp<arith::ConstantOp>(),
       cv = v.getDefiningOp<arith::ConstantOp>();
  std::optional<SmallVector<double>> a = getConstantValues(u),
                                     c = getConstantValues(v);
  if (!cu || !cv || !a || !c)
    return Value();
  ArrayRef<int64_t> us = shapeOf(u), vs = shapeOf(v);
  SmallVector<float> prod(size_t(us[0] * vs[1]), 0.0f);
  for (int64_t i = 0; i < us[0]; ++i)
    for (int64_t j = 0; j < vs[1]; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < us[1]; ++k)
        acc += (*a)[size_t(i * us[1] + k)] * (*c)[size_t(k * vs[1] + j)];
      prod[size_t(i * vs[1] + j)] = static_cast<float>(acc);
    }
  auto ty = RankedTensorType::get({us[0], vs[1]}, b.getF32Type());
  auto cst = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(ty, ArrayRef<float>(prod)));
  auto isPublic = [](arith::ConstantOp op) {
    auto vis = op->getAttrOfType<mpc::VisibilityAttr>(mpc::kVisibilityAttrName);
    return vis && vis.getValue() == mpc::Visibility::public_;
  };
  cst->setAttr(mpc::kVisibilityAttrName,
               mpc::VisibilityAttr::get(b.getContext(),
                                        isPublic(cu) && isPublic(cv)
                                            ? mpc::Visibility::public_
                                            : mpc::Visibility::owner));
  mpc::deriveSources(cst, ValueRange{u, v});
  return cst;
}

struct MpcInsertPredictors
    : umbra::impl::MpcInsertPredictorsBase<MpcInsertPredictors> {
  using MpcInsertPredictorsBase::MpcInsertPredictorsBase;

  void runOnOperation() override {
    std::optional<double> userThreshold;
    if (!threshold.empty()) {
      double t;
      if (StringRef(threshold).getAsDouble(t) || !std::isfinite(t)) {
        getOperation().emitError()
            << "mpc-insert-predictors: threshold '" << threshold
            << "' is not a number";
        return signalPassFailure();
      }
      userThreshold = t;
    }
    if (recall < 0.0 || recall > 1.0) {
      getOperation().emitError()
          << "mpc-insert-predictors: recall " << num(recall)
          << " is not in [0, 1]";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(runOn(func, userThreshold)))
        return signalPassFailure();
  }

  LogicalResult runOn(func::FuncOp func, std::optional<double> userThreshold) {
    std::map<int64_t, tfm::FfnPredictorOp> preds;
    func.walk([&](tfm::FfnPredictorOp p) { preds[p.getFfn()] = p; });
    SmallVector<Ffn> ffns;
    func.walk([&](tfm::LinearOp l) {
      if (std::optional<Ffn> f = matchFfn(l))
        ffns.push_back(*f);
    });
    if (ffns.empty() && preds.empty())
      return success();
    // (at the function's location: as an op note the whole function would
    // be printed)
    if (preds.empty())
      return mlir::emitError(func.getLoc())
             << "mpc-insert-predictors: the model has " << ffns.size()
             << " FFNs but no activation predictors (initializers "
                "umbra.predictor.<k>.*; train them with python3 -m "
                "umbra_models.predictor)";
    if (preds.size() != ffns.size() || preds.rbegin()->first + 1 !=
                                           static_cast<int64_t>(ffns.size()))
      return mlir::emitError(func.getLoc())
             << "mpc-insert-predictors: the model has " << ffns.size()
             << " FFNs but predictors for " << preds.size()
             << " (numbered 0 to " << preds.rbegin()->first << ")";
    for (auto [k, ffn] : llvm::enumerate(ffns))
      if (failed(attach(ffn, preds[static_cast<int64_t>(k)], userThreshold)))
        return failure();
    for (auto &[k, p] : preds)
      p->erase();
    return success();
  }

  LogicalResult attach(const Ffn &ffn, tfm::FfnPredictorOp p,
                       std::optional<double> userThreshold) {
    ArrayRef<int64_t> xs = shapeOf(ffn.x), hs = shapeOf(ffn.hidden),
                      us = shapeOf(p.getU()), vs = shapeOf(p.getV());
    const int64_t nb = vs[1], width = hs.back();
    if (us[0] != xs.back())
      return p.emitOpError() << "is for inputs of width " << us[0]
                             << " but FFN " << p.getFfn() << "'s is "
                             << xs.back();
    if (width % nb != 0)
      return p.emitOpError() << "scores " << nb << " blocks but FFN "
                             << p.getFfn() << " has " << width
                             << " neurons, not a multiple";
    const int64_t predBlock = width / nb;
    int64_t group = 1;
    if (block != 0) {
      if (block < 0 || block % predBlock != 0 || width % block != 0)
        return p.emitOpError()
               << "block " << static_cast<int64_t>(block) << " must be a multiple of the "
               << "predictor's block (" << predBlock << ") dividing the "
               << width << " neurons of FFN " << p.getFfn();
      group = block / predBlock;
    }
    if (bucket < 0 || (bucket > 0 && (nb / group) % bucket != 0))
      return p.emitOpError()
             << "bucket " << static_cast<int64_t>(bucket)
             << " must divide the " << nb / group << " blocks of FFN "
             << p.getFfn();
    OpBuilder b(ffn.down);
    // Named, so that stats and traces attribute the predictor's cost.
    Location loc = NameLoc::get(
        b.getStringAttr("umbra.predictor." + std::to_string(p.getFfn())),
        p.getLoc());
    Value thr = p.getThreshold();
    if (userThreshold || recall > 0.0) {
      double t;
      if (userThreshold) {
        t = *userThreshold;
      } else {
        FailureOr<double> chosen = thresholdForRecall(p);
        if (failed(chosen))
          return failure();
        t = *chosen;
      }
      auto ty = RankedTensorType::get({}, b.getF32Type());
      auto cst = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(ty, static_cast<float>(t)));
      // The model owner's, like the predictor it belongs to.
      cst->setAttr(mpc::kVisibilityAttrName,
                   mpc::VisibilityAttr::get(b.getContext(),
                                            mpc::Visibility::owner));
      mpc::deriveSources(cst, userThreshold ? p.getThreshold()
                                            : p.getRecallTable());
      thr = cst;
    }
    SmallVector<int64_t> rs(xs.drop_back()), ss(xs.drop_back()),
        ms(xs.drop_back());
    rs.push_back(us[1]);
    ss.push_back(nb);
    ms.push_back(nb / group);
    auto f32 = b.getF32Type();
    // One product x (u v) rather than (x u) v: under MPC it shares the
    // opening of x with the FFN's up projection and needs no truncation
    // before the comparison, where the low-rank form costs two more rounds
    // (the opening of x u, a truncation). u v is the model's own weight
    // (folded here, with both parts' provenance).
    Value scores;
    if (Value uv = foldProduct(b, loc, p.getU(), p.getV())) {
      scores = tfm::LinearOp::create(b, loc, RankedTensorType::get(ss, f32),
                                     ffn.x, uv, p.getBias());
    } else {
      Value low = tfm::LinearOp::create(
          b, loc, RankedTensorType::get(rs, f32), ffn.x, p.getU(), Value());
      scores = tfm::LinearOp::create(b, loc, RankedTensorType::get(ss, f32),
                                     low, p.getV(), p.getBias());
    }
    Value mask = tfm::BlockMaskOp::create(
        b, loc, RankedTensorType::get(ms, b.getI1Type()), scores, thr,
        b.getI64IntegerAttr(group), b.getI64IntegerAttr(bucket));
    Value sel = tfm::BlockSelectOp::create(b, loc, ffn.hidden.getType(),
                                           ffn.hidden, mask);
    ffn.down->setOperand(0, sel);
    ++numFfns;
    if (ffn.gated)
      ++numGated;
    return success();
  }

  /// The largest threshold of the recall table whose recall is >= recall.
  FailureOr<double> thresholdForRecall(tfm::FfnPredictorOp p) {
    if (!p.getRecallTable())
      return p.emitOpError("has no recall table (umbra.predictor.")
             << p.getFfn() << ".recall_table), so recall=" << num(recall)
             << " cannot be met; give threshold= instead";
    std::optional<SmallVector<double>> t =
        getConstantValues(p.getRecallTable());
    if (!t)
      return p.emitOpError("recall table is not a constant");
    std::optional<double> best;
    double most = 0;
    for (size_t i = 0; i + 1 < t->size(); i += 2) {
      most = std::max(most, (*t)[i]);
      // (the table is float32: 0.9 is stored as 0.899999976)
      if ((*t)[i] >= recall - 1e-6 && (!best || (*t)[i + 1] > *best))
        best = (*t)[i + 1];
    }
    if (!best)
      return p.emitOpError() << "reaches at most recall " << num(most)
                             << " in its recall table, not " << num(recall);
    return *best;
  }
};
} // namespace
