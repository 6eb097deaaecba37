//===- Sparsity.cpp - predicted block masks and block-sparse FFNs ---------===//
//
// Comet's oblivious block-sparse FFN (docs/sparsity.md). A predicted FFN
// (mpc-insert-predictors) computes a secret block mask per token; a
// sparsified one (mpc-sparsify-ffn) computes only the masked blocks:
//
//  deployment  the rows [W1 block j | b1 block j | W2 block j | the
//              predictor's columns of block j] of every block j are
//              shuffled by a permutation no role knows alone (mpc.shuffle);
//  inference   the predictor on the permuted columns gives the permuted
//              secret mask, opened to P0, P1 and the dealer: each learns
//              how many blocks are active per token, at positions permuted
//              by the unknown permutation (the declared leakage). The
//              products and the ReLU then run on the live permuted blocks
//              only; an FFN's output is a sum over its neurons, so no
//              inverse permutation is needed.
//
// A mask that must be formed in the original order (count padding) rides
// as e_j instead: the shuffled identity is a shared permutation matrix P,
// and m P^T (a product with a deployment constant) is what is opened.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"

using namespace mlir;
using namespace umbra;
using namespace umbra::mpc;

namespace {
using FX = FixedPointBuilder;

Value transpose2(Lowering &l, Value x) {
  MpcTensorType t = FX::typeOf(x);
  ArrayRef<int64_t> s = t.getShape();
  return TransposeOp::create(l.fx.builder(), l.fx.loc,
                             t.withShape({s[1], s[0]}), x,
                             l.fx.builder().getDenseI64ArrayAttr({1, 0}));
}
Value columns(Lowering &l, Value x, int64_t from, int64_t n) {
  MpcTensorType t = FX::typeOf(x);
  OpBuilder &b = l.fx.builder();
  return SliceOp::create(b, l.fx.loc, t.withShape({t.getShape()[0], n}), x,
                         b.getDenseI64ArrayAttr({0, from}),
                         b.getDenseI64ArrayAttr({1, 1}));
}

/// v secret-shared at `frac` fractional bits, raised exactly (a bias
/// joining the weights' rows).
Value sharedAt(Lowering &l, Value v, unsigned frac) {
  Value s = l.fx.prepare(v, Visibility::shared);
  unsigned f = FX::typeOf(s).getFrac();
  return f < frac ? l.fx.mulExact(s, l.fx.scalar(1.0, frac - f)) : s;
}

/// [..., nb] -> [..., nb * block]: each block's bit repeated.
Value widen(Lowering &l, Value mask, int64_t block) {
  ArrayRef<int64_t> s = FX::shapeOf(mask);
  SmallVector<int64_t> one(s), many(s), wide(s);
  one.push_back(1);
  many.push_back(block);
  wide.back() *= block;
  Value m = l.fx.reshape(mask, one);
  m = BroadcastOp::create(l.fx.builder(), l.fx.loc,
                          FX::typeOf(m).withShape(many), m);
  return l.fx.reshape(m, wide);
}

/// The FFN of `mask` in program order: its tfm.block_linear users.
SmallVector<tfm::BlockLinearOp> blockLinears(Value mask) {
  SmallVector<tfm::BlockLinearOp> ops;
  for (Operation *u : mask.getUsers())
    if (auto bl = dyn_cast<tfm::BlockLinearOp>(u))
      ops.push_back(bl);
  llvm::sort(ops, [](tfm::BlockLinearOp a, tfm::BlockLinearOp b) {
    return a->isBeforeInBlock(b);
  });
  return ops;
}

/// scores - threshold for scores = x w (+ bias), before the product's
/// truncation: the sign does not need the working precision (one
/// truncation per block and token saved).
Value scoresMinusThreshold(Lowering &l, Value x, Value w, Value bias,
                           Value thr) {
  Value xs = l.fx.prepare(x, FX::joinOf({x, w}));
  Value ws = l.fx.prepare(w, FX::joinOf({x, w}));
  MpcTensorType xt = FX::typeOf(xs);
  unsigned pf = xt.getFrac() + FX::typeOf(ws).getFrac();
  SmallVector<int64_t> shape(xt.getShape());
  shape.back() = FX::shapeOf(ws)[1];
  Value s = MatMulOp::create(l.fx.builder(), l.fx.loc,
                             xt.withShape(shape).withFrac(pf), xs, ws);
  auto raise = [&](Value v) { // exactly, to the product's precision
    unsigned vf = FX::typeOf(v).getFrac();
    return vf < pf ? l.fx.mulExact(v, l.fx.scalar(1.0, pf - vf)) : v;
  };
  if (bias)
    s = l.fx.add(s, raise(bias));
  return l.fx.sub(s, raise(l.fx.reshape(thr, {})));
}

/// 0/1 bits [..., n] OR-ed over groups of g: [..., n / g].
Value mergeGroups(Lowering &l, Value bits, int64_t g) {
  if (g == 1)
    return bits;
  SmallVector<int64_t> grouped(FX::shapeOf(bits)), merged(FX::shapeOf(bits));
  grouped.back() /= g;
  grouped.push_back(g);
  merged.back() /= g;
  Value sum = l.fx.reshape(
      l.fx.reduceSum(l.fx.reshape(bits, grouped),
                     {static_cast<int64_t>(grouped.size()) - 1}),
      merged);
  return l.fx.drelu(l.fx.sub(sum, l.fx.scalar(1.0, 0)));
}

/// The deployment shuffle and the opened permuted mask of the FFN whose
/// block ops read `mask` (built at its first block op).
FailureOr<Lowering::SparseFfn *> sparseFfn(Lowering &l, Operation *at,
                                           Value mask) {
  auto it = l.sparseFfns.find(mask);
  if (it != l.sparseFfns.end())
    return &it->second;
  SmallVector<tfm::BlockLinearOp> ops = blockLinears(mask);
  int numIn = llvm::count_if(ops, [](auto o) { return o.getSparseInput(); });
  if (numIn != 1 || ops.size() < 2)
    return at->emitOpError(
        "is not part of one block-sparse FFN: its mask must feed one or two "
        "sparse-output block_linear ops and one sparse-input one (run "
        "mpc-sparsify-ffn)");
  StringRef leakage = ops.front().getLeakage();
  for (auto o : ops)
    if (o.getLeakage() != leakage)
      return o.emitOpError("has another leakage policy than the rest of its "
                           "FFN");
  FailureOr<Value> m = l.get(mask);
  if (failed(m))
    return failure();
  if (!FX::typeOf(*m).isShared())
    return at->emitOpError(
        "needs a secret block mask: the FFN's input is not secret-shared "
        "here, so there is nothing to hide (compile without --sparsity)");
  const int64_t nb = FX::shapeOf(mask).back();
  // Named after the predictor, so that stats attribute the permutation.
  Location at0 = l.fx.loc;
  std::string name = "ffn";
  if (auto n = dyn_cast<NameLoc>(mask.getLoc()))
    name = n.getName().str();
  l.fx.loc = NameLoc::get(StringAttr::get(at->getContext(), name + ".permutation"),
                          at0);
  // The rows of each block: every weight and bias of the FFN, then e_j.
  SmallVector<Value> parts;
  SmallVector<std::pair<Operation *, int64_t>> weightAt, biasAt;
  int64_t width = 0;
  std::optional<unsigned> wf;
  auto addPart = [&](Value v) -> LogicalResult {
    MpcTensorType t = FX::typeOf(v);
    if (wf && t.getFrac() != *wf)
      return at->emitOpError("block-sparse FFN weights of different "
                             "precisions (frac ")
             << t.getFrac() << " and " << *wf << ")";
    wf = t.getFrac();
    parts.push_back(l.fx.prepare(v, Visibility::shared));
    width += t.getShape()[1];
    return success();
  };
  for (tfm::BlockLinearOp o : ops) {
    FailureOr<Value> w = l.getFactor(o.getWeight());
    if (failed(w))
      return failure();
    Visibility wv = FX::typeOf(*w).getVisibility();
    if (wv != Visibility::owner && wv != Visibility::shared)
      return o.emitOpError("needs the model owner's weight: a ")
             << stringifyVisibility(wv)
             << " weight cannot be permuted obliviously here";
    if (!o.getWeight().getDefiningOp<arith::ConstantOp>())
      return o.emitOpError("needs a constant weight (its permutation is "
                           "deployment work)");
    ArrayRef<int64_t> ws = FX::shapeOf(*w);
    // Blocks split W1's columns and W2's rows: one row of the shuffle per
    // block, [B * d] words of each.
    Value rows = o.getSparseInput()
                     ? l.fx.reshape(*w, {nb, ws[0] / nb * ws[1]})
                     : l.fx.reshape(transpose2(l, *w), {nb, ws[1] / nb * ws[0]});
    weightAt.push_back({o, width});
    if (failed(addPart(rows)))
      return failure();
    if (o.getBias() && !o.getSparseInput()) {
      FailureOr<Value> bias = l.get(o.getBias());
      if (failed(bias))
        return failure();
      biasAt.push_back({o, width});
      if (failed(addPart(
              l.fx.reshape(sharedAt(l, *bias, *wf), {nb, ws[1] / nb}))))
        return failure();
    }
  }
  // The mask's own order: when the predictor's scores are one product
  // with a constant (and no count padding, which needs the original
  // order), the predictor's columns ride in the shuffle too and its scores
  // come out permuted; otherwise e_j, whose rows become a shared
  // permutation matrix for the mask.
  OpBuilder &b = l.fx.builder();
  auto bm = mask.getDefiningOp<tfm::BlockMaskOp>();
  tfm::LinearOp lin =
      bm ? bm.getScores().getDefiningOp<tfm::LinearOp>() : tfm::LinearOp();
  const bool permutedScores =
      bm && bm.getBucket() == 0 && lin && lin->hasOneUse() &&
      lin.getWeight().getDefiningOp<arith::ConstantOp>();
  const int64_t group = bm ? static_cast<int64_t>(bm.getGroup()) : 1;
  int64_t eyeAt = -1, predAt = -1, predBiasAt = -1;
  if (permutedScores) {
    FailureOr<Value> pw = l.getFactor(lin.getWeight());
    if (failed(pw))
      return failure();
    ArrayRef<int64_t> ps = FX::shapeOf(*pw); // [r, nb * group]
    predAt = width;
    if (failed(addPart(l.fx.reshape(transpose2(l, *pw), {nb, group * ps[0]}))))
      return failure();
    if (lin.getBias()) {
      FailureOr<Value> pb = l.get(lin.getBias());
      if (failed(pb))
        return failure();
      predBiasAt = width;
      if (failed(addPart(l.fx.reshape(sharedAt(l, *pb, *wf), {nb, group}))))
        return failure();
    }
  } else {
    SmallVector<float> eye(size_t(nb * nb), 0.0f);
    for (int64_t j = 0; j < nb; ++j)
      eye[size_t(j * nb + j)] = 1.0f;
    auto eyeTy = RankedTensorType::get({nb, nb}, b.getF32Type());
    eyeAt = width;
    parts.push_back(
        l.fx.constant(DenseElementsAttr::get(eyeTy, ArrayRef(eye)), *wf));
    width += nb;
  }
  MpcTensorType rowsTy =
      MpcTensorType::get(b.getContext(), {nb, width}, Visibility::shared, *wf);
  Value all = ConcatOp::create(b, l.fx.loc, rowsTy, parts,
                               b.getI64IntegerAttr(1));
  Value shuffled =
      ShuffleOp::create(b, l.fx.loc, all, leakage == "per-inference");
  Lowering::SparseFfn ffn;
  for (auto [o, off] : weightAt) {
    auto bl = cast<tfm::BlockLinearOp>(o);
    ArrayRef<int64_t> ws = FX::shapeOf(bl.getWeight());
    int64_t n = ws[0] * ws[1] / nb;
    Value r = columns(l, shuffled, off, n);
    ffn.weight[o] = bl.getSparseInput()
                        ? l.fx.reshape(r, ws)
                        : transpose2(l, l.fx.reshape(r, {ws[1], ws[0]}));
  }
  for (auto [o, off] : biasAt) {
    int64_t f = FX::shapeOf(cast<tfm::BlockLinearOp>(o).getWeight())[1];
    ffn.bias[o] = l.fx.reshape(columns(l, shuffled, off, f / nb), {f});
  }
  MpcTensorType mt = FX::typeOf(*m);
  Value permuted;
  if (permutedScores) {
    // The predictor on the permuted columns: the permuted mask itself.
    ArrayRef<int64_t> ps = FX::shapeOf(lin.getWeight());
    Value pw = transpose2(
        l, l.fx.reshape(columns(l, shuffled, predAt, group * ps[0]),
                     {ps[1], ps[0]}));
    Value pb = predBiasAt < 0 ? Value()
                              : l.fx.reshape(columns(l, shuffled, predBiasAt,
                                                     group),
                                          {ps[1]});
    FailureOr<Value> x = l.get(lin.getInput()), t = l.get(bm.getThreshold());
    if (failed(x) || failed(t))
      return failure();
    Location named = l.fx.loc;
    l.fx.loc = mask.getLoc(); // the predictor's
    permuted = mergeGroups(
        l, l.fx.drelu(scoresMinusThreshold(l, *x, pw, pb, *t)), group);
    l.fx.loc = named;
  } else {
    // m P^T, back to 0/1 after the opening (exact: P's entries are 0 and
    // 2^wf).
    Value permT = transpose2(l, columns(l, shuffled, eyeAt, nb));
    permuted = MatMulOp::create(b, l.fx.loc, mt.withFrac(*wf), *m, permT);
  }
  int64_t bucket = bm ? static_cast<int64_t>(bm.getBucket()) : 0;
  std::string count =
      bucket ? "the number of active blocks per token padded up to a multiple "
               "of " + std::to_string(bucket)
             : std::string("the number of active blocks per token");
  std::string reason =
      "block-sparse FFN (--sparsity=predicted): the predicted active-block "
      "mask of each token, in an order permuted by a permutation no role "
      "knows alone; reveals " + count + " and, " +
      std::string(leakage == "per-inference"
                      ? "within one inference, which tokens share blocks "
                        "(a fresh permutation per inference)"
                      : "across inferences of this deployment, the activation "
                        "patterns up to one fixed unknown permutation "
                        "(linkable across queries)");
  // Opened to P0, P1 and the dealer.
  Value open = RevealOp::create(
      b, l.fx.loc, FX::typeOf(permuted).withVisibility(Visibility::public_),
      permuted, RevealTargetAttr::get(b.getContext(), RevealTarget::all_and_dealer),
      b.getStringAttr(reason));
  ffn.openMask = l.fx.truncTo(open, 0);
  int64_t width0 = FX::shapeOf(ops.front().getOutput()).back();
  ffn.wideMask = widen(l, ffn.openMask, width0 / nb);
  l.fx.loc = at0;
  return &(l.sparseFfns[mask] = std::move(ffn));
}

LogicalResult lowerBlockLinear(Lowering &l, tfm::BlockLinearOp op) {
  FailureOr<Lowering::SparseFfn *> ffn = sparseFfn(l, op, op.getMask());
  if (failed(ffn))
    return failure();
  FailureOr<Value> x = l.get(op.getInput());
  if (failed(x))
    return failure();
  Value w = (*ffn)->weight.lookup(op);
  MpcTensorType xt = FX::typeOf(*x), wt = FX::typeOf(w);
  SmallVector<int64_t> shape(xt.getShape());
  shape.back() = wt.getShape()[1];
  OpBuilder &b = l.fx.builder();
  Value xs = l.fx.prepare(*x, Visibility::shared);
  unsigned pf = FX::typeOf(xs).getFrac() + wt.getFrac();
  Value y = BlockMatmulOp::create(
      b, l.fx.loc,
      MpcTensorType::get(b.getContext(), shape, Visibility::shared, pf), xs, w,
      (*ffn)->openMask, op.getSparseInput());
  const unsigned f = l.fx.workingFrac();
  if (op.getSparseInput()) {
    y = l.fx.truncTo(y, f);
    if (op.getBias()) {
      FailureOr<Value> bias = l.get(op.getBias());
      if (failed(bias))
        return failure();
      y = l.fx.add(y, *bias);
    }
  } else {
    if (Value bias = (*ffn)->bias.lookup(op)) {
      // The bias of the live blocks only, at the product's precision.
      Value bb = l.fx.mulExact(bias, l.fx.scalar(1.0, pf - wt.getFrac()));
      y = l.fx.add(y, l.fx.mulExact(bb, (*ffn)->wideMask));
    }
    y = TruncOp::create(b, l.fx.loc, FX::typeOf(y).withFrac(f), y,
                        (*ffn)->openMask, b.getI64IntegerAttr(pf - f));
  }
  l.set(op.getResult(), y);
  return success();
}

LogicalResult lowerBlockRelu(Lowering &l, tfm::BlockReluOp op) {
  FailureOr<Lowering::SparseFfn *> ffn = sparseFfn(l, op, op.getMask());
  if (failed(ffn))
    return failure();
  return l.unary(op, [&](Value x) {
    return ReluOp::create(l.fx.builder(), l.fx.loc, x, (*ffn)->openMask);
  });
}

/// The 0/1 mask m [..., n] with each row's count k raised to
/// P = bucket * ceil(k / bucket) by the first P - k unselected blocks: with
/// c_j the number of unselected blocks up to j (a product with a public
/// triangular matrix), block j is added when m_j = 0 and c_j <= P - k, i.e.
/// [P - k - c_j - (n + 1) m_j >= 0]. All values are small integers at
/// frac 0: n / bucket + n comparisons per row, no product.
Value padToBucket(Lowering &l, Value m, int64_t bucket) {
  FixedPointBuilder &fx = l.fx;
  OpBuilder &b = fx.builder();
  MpcTensorType t = FX::typeOf(m);
  ArrayRef<int64_t> shape = t.getShape();
  const int64_t n = shape.back(), last = int64_t(shape.size()) - 1;
  auto f32 = b.getF32Type();
  auto publicMatrix = [&](int64_t rows, int64_t cols, auto value) {
    SmallVector<float> v(size_t(rows * cols));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        v[size_t(i * cols + j)] = static_cast<float>(value(i, j));
    auto ty = RankedTensorType::get({rows, cols}, f32);
    return fx.constant(DenseElementsAttr::get(ty, ArrayRef(v)), 0);
  };
  auto product = [&](Value x, Value w) {
    SmallVector<int64_t> s(FX::shapeOf(x));
    s.back() = FX::shapeOf(w)[1];
    return MatMulOp::create(b, fx.loc, t.withShape(s), x, w).getResult();
  };
  Value k = fx.reduceSum(m, {last});                     // [..., 1]
  Value unselected = fx.sub(fx.scalar(1.0, 0), m);
  Value c = product(unselected, publicMatrix(n, n, [](int64_t i, int64_t j) {
                      return i <= j ? 1 : 0;
                    }));
  // ceil(k / bucket) = sum_t [k - t * bucket - 1 >= 0].
  const int64_t nbk = n / bucket;
  Value steps = product(
      k, publicMatrix(1, nbk, [](int64_t, int64_t) { return 1; }));
  Value offsets = publicMatrix(1, nbk, [&](int64_t, int64_t j) {
    return j * bucket + 1;
  });
  Value over = fx.drelu(fx.sub(steps, fx.reshape(offsets, {nbk})));
  Value padded = fx.mulExact(fx.reduceSum(over, {last}),
                             fx.scalar(double(bucket), 0)); // P, [..., 1]
  Value room = fx.sub(padded, k);                           // P - k
  Value z = fx.sub(fx.sub(room, c),
                   fx.mulExact(m, fx.scalar(double(n + 1), 0)));
  return fx.add(m, fx.drelu(z));
}

/// [x >= threshold] per score, OR-ed over groups of `group` scores.
LogicalResult lowerBlockMask(Lowering &l, tfm::BlockMaskOp op) {
  FailureOr<Value> t = l.get(op.getThreshold());
  if (failed(t))
    return failure();
  // Scores from a linear layer are compared before its truncation (the
  // truncated scores its own lowering made are then dead).
  Value diff;
  auto lin = op.getScores().getDefiningOp<tfm::LinearOp>();
  if (lin && lin->hasOneUse()) {
    FailureOr<Value> x = l.get(lin.getInput()), w = l.getFactor(lin.getWeight());
    if (failed(x) || failed(w))
      return failure();
    Value bias;
    if (lin.getBias()) {
      FailureOr<Value> b = l.get(lin.getBias());
      if (failed(b))
        return failure();
      bias = *b;
    }
    diff = scoresMinusThreshold(l, *x, *w, bias, *t);
  } else {
    FailureOr<Value> s = l.get(op.getScores());
    if (failed(s))
      return failure();
    diff = l.fx.sub(*s, l.fx.reshape(*t, {}));
  }
  Value bits =
      mergeGroups(l, l.fx.drelu(diff), static_cast<int64_t>(op.getGroup()));
  if (int64_t bucket = static_cast<int64_t>(op.getBucket()))
    bits = padToBucket(l, bits, bucket);
  l.set(op.getResult(), bits);
  return success();
}

/// The dense form: x times the widened 0/1 mask.
LogicalResult lowerBlockSelect(Lowering &l, tfm::BlockSelectOp op) {
  FailureOr<Value> x = l.get(op.getInput()), m = l.get(op.getMask());
  if (failed(x) || failed(m))
    return failure();
  int64_t block = FX::shapeOf(op.getInput()).back() /
                  FX::shapeOf(op.getMask()).back();
  l.set(op.getResult(), l.fx.mulExact(*x, widen(l, *m, block)));
  return success();
}
} // namespace

void umbra::mpc::populateSparsityLowerings(LoweringSet &set) {
  // A predictor no pass attached computes nothing.
  set.add<tfm::FfnPredictorOp>(
      [](Lowering &, tfm::FfnPredictorOp) { return success(); });
  set.add<tfm::BlockMaskOp>(lowerBlockMask);
  set.add<tfm::BlockSelectOp>(lowerBlockSelect);
  set.add<tfm::BlockLinearOp>(lowerBlockLinear);
  set.add<tfm::BlockReluOp>(lowerBlockRelu);
}
