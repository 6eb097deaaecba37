//===- TrainingOps.cpp - optimizer update rules of ai.onnx.preview.training ===//
//
// Adagrad, Momentum and Adam apply one optimizer step to n tensors. Inputs:
// the learning rate R, the step count T, then n tensors of each of X, G
// (and the optimizer's state: H for Adagrad, V for Momentum, V and H for
// Adam); outputs: the n new X, then the new state tensors in input order.
// T is the number of steps taken so far, which the training loop knows:
// it must be a constant, and the learning-rate schedule and Adam's bias
// correction fold into public scalars. R, X, G and the state may be secret
// (the client's); they become tfm elementwise ops.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <cmath>

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;
using ceval::UnaryOp;

namespace {
/// Elementwise arithmetic on entries through the importer's handlers (which
/// fold constants and build tfm ops otherwise).
struct Arith {
  Importer &im;
  llvm::function_ref<ConstPtr(double)> constant;
  Entry num(double v) { return Entry{constant(v), {}}; }
  FailureOr<Entry> bin(BinaryOp k, BinaryBuilder build, Entry x, Entry y) {
    Entry pair[2] = {x, y}, r;
    if (failed(im.binary(k, build, pair, llvm::MutableArrayRef<Entry>(r))))
      return failure();
    return r;
  }
  FailureOr<Entry> add(Entry x, Entry y) {
    return bin(BinaryOp::Add, buildOp<tfm::AddOp>, x, y);
  }
  FailureOr<Entry> sub(Entry x, Entry y) {
    return bin(BinaryOp::Sub, buildOp<tfm::SubOp>, x, y);
  }
  FailureOr<Entry> mul(Entry x, Entry y) {
    return bin(BinaryOp::Mul, buildOp<tfm::MulOp>, x, y);
  }
  /// c * x (x when c is 1).
  FailureOr<Entry> scale(double c, Entry x) {
    return c == 1 ? FailureOr<Entry>(x) : mul(num(c), x);
  }
  FailureOr<Entry> div(Entry x, Entry y) {
    return bin(BinaryOp::Div, buildOp<tfm::DivOp>, x, y);
  }
  FailureOr<Entry> sqrt(Entry x) {
    Entry r;
    if (failed(im.unary(UnaryOp::Sqrt, buildOp<tfm::SqrtOp>, x,
                        llvm::MutableArrayRef<Entry>(r))))
      return failure();
    return r;
  }
  /// x - r u / (sqrt(h) + eps): the adaptive step of Adagrad and Adam.
  FailureOr<Entry> adaptiveStep(Entry x, Entry r, Entry u, Entry h,
                                double eps) {
    auto root = sqrt(h);
    auto denom = failed(root) ? root : add(*root, num(eps));
    auto ratio = failed(denom) ? denom : div(u, *denom);
    auto step = failed(ratio) ? ratio : mul(r, *ratio);
    return failed(step) ? step : sub(x, *step);
  }
  /// c * x + y (y when c is 0: the optional regularisation terms).
  FailureOr<Entry> axpy(double c, Entry x, Entry y) {
    if (c == 0)
      return y;
    auto cx = scale(c, x);
    return failed(cx) ? cx : add(*cx, y);
  }
};
} // namespace

/// Checks the operand layout R, T, then `groups` groups of n tensors and
/// `groups - 1` groups of n outputs (X and the state: G is input only);
/// returns n and the step count.
FailureOr<std::pair<int64_t, int64_t>>
Importer::optimizerOperands(Ins in, Outs out, int64_t groups) {
  if (in.size() < 2 + groups || (in.size() - 2) % groups != 0)
    return nodeError() << "expects R, T and " << groups
                       << " groups of equally many tensors (got "
                       << in.size() << " inputs)",
           failure();
  int64_t n = (in.size() - 2) / groups;
  if (static_cast<int64_t>(out.size()) != n * (groups - 1))
    return nodeError() << "expects " << n * (groups - 1) << " outputs for "
                       << n << " tensors (got " << out.size() << ")",
           failure();
  for (const Entry &e : in)
    if (!e)
      return nodeError() << "has an absent input", failure();
  if (!isFloatDT(dtypeOf(in[0])) || numElements(shapeOf(in[0])) != 1)
    return nodeError() << "the learning rate R must be a float scalar",
           failure();
  auto t = constInts(in[1], "step count T");
  if (failed(t))
    return failure();
  if (t->size() != 1 || (*t)[0] < 0)
    return nodeError() << "the step count T must be one non-negative integer",
           failure();
  for (int64_t i = 2; i < static_cast<int64_t>(in.size()); ++i)
    if (dtypeOf(in[i]) != dtypeOf(in[0]))
      return nodeError() << "input " << i << " is " << dtName(dtypeOf(in[i]))
                         << " but R is " << dtName(dtypeOf(in[0])),
             failure();
  return std::make_pair(n, (*t)[0]);
}

LogicalResult Importer::adagradOp(Ins in, Outs out) {
  auto operands = optimizerOperands(in, out, 3);
  if (failed(operands))
    return failure();
  auto [n, t] = *operands;
  double decay = attrFloat("decay_factor", 0), eps = attrFloat("epsilon", 1e-6f),
         lambda = attrFloat("norm_coefficient", 0);
  auto constant = [&](double v) { return scalarConst(dtypeOf(in[0]), v); };
  Arith a{*this, constant};
  // r = R / (1 + T decay): a public factor times R.
  auto r = a.scale(1.0 / (1.0 + t * decay), in[0]);
  if (failed(r))
    return failure();
  for (int64_t i = 0; i < n; ++i) {
    Entry x = in[2 + i], g = in[2 + n + i], h = in[2 + 2 * n + i];
    // g' = lambda x + g; h' = h + g'^2; x' = x - r g' / (sqrt(h') + eps).
    auto gr = a.axpy(lambda, x, g);
    if (failed(gr))
      return failure();
    auto sq = a.mul(*gr, *gr);
    auto hNew = failed(sq) ? sq : a.add(h, *sq);
    auto xNew =
        failed(hNew) ? hNew : a.adaptiveStep(x, *r, *gr, *hNew, eps);
    if (failed(xNew))
      return failure();
    out[i] = *xNew;
    out[n + i] = *hNew;
  }
  return success();
}

LogicalResult Importer::momentumOp(Ins in, Outs out) {
  auto operands = optimizerOperands(in, out, 3);
  if (failed(operands))
    return failure();
  auto [n, t] = *operands;
  const auto *modeAttr = attr("mode");
  std::string mode = modeAttr ? modeAttr->s() : "";
  if (mode != "standard" && mode != "nesterov")
    return nodeError() << "mode must be 'standard' or 'nesterov' (got '"
                       << mode << "')",
           failure();
  double alpha = attrFloat("alpha", 0), lambda = attrFloat("norm_coefficient", 0);
  // The first step (T = 0) takes the whole gradient.
  double beta = t > 0 ? attrFloat("beta", 0) : 1.0;
  auto constant = [&](double v) { return scalarConst(dtypeOf(in[0]), v); };
  Arith a{*this, constant};
  for (int64_t i = 0; i < n; ++i) {
    Entry x = in[2 + i], g = in[2 + n + i], v = in[2 + 2 * n + i];
    // g' = lambda x + g; v' = alpha v + beta g';
    // x' = x - R v' (standard) or x - R (g' + alpha v') (Nesterov).
    auto gr = a.axpy(lambda, x, g);
    auto bg = failed(gr) ? gr : a.scale(beta, *gr);
    auto vNew = failed(bg) ? bg : a.axpy(alpha, v, *bg);
    if (failed(vNew))
      return failure();
    auto dir = mode == "standard" ? vNew : a.axpy(alpha, *vNew, *gr);
    auto step = failed(dir) ? dir : a.mul(in[0], *dir);
    auto xNew = failed(step) ? step : a.sub(x, *step);
    if (failed(xNew))
      return failure();
    out[i] = *xNew;
    out[n + i] = *vNew;
  }
  return success();
}

LogicalResult Importer::adamOp(Ins in, Outs out) {
  auto operands = optimizerOperands(in, out, 4);
  if (failed(operands))
    return failure();
  auto [n, t] = *operands;
  double alpha = attrFloat("alpha", 0.9f), beta = attrFloat("beta", 0.999f),
         eps = attrFloat("epsilon", 1e-6f),
         lambda = attrFloat("norm_coefficient", 0),
         post = attrFloat("norm_coefficient_post", 0);
  // Bias correction of both moments, a public function of T.
  double correction =
      t > 0 ? std::sqrt(1 - std::pow(beta, t)) / (1 - std::pow(alpha, t)) : 1;
  auto constant = [&](double v) { return scalarConst(dtypeOf(in[0]), v); };
  Arith a{*this, constant};
  auto r = a.scale(correction, in[0]);
  if (failed(r))
    return failure();
  for (int64_t i = 0; i < n; ++i) {
    Entry x = in[2 + i], g = in[2 + n + i], v = in[2 + 2 * n + i],
          h = in[2 + 3 * n + i];
    // g' = lambda x + g; v' = alpha v + (1 - alpha) g';
    // h' = beta h + (1 - beta) g'^2; x' = (1 - post)(x - r v' / (sqrt(h') + eps)).
    auto gr = a.axpy(lambda, x, g);
    if (failed(gr))
      return failure();
    auto vg = a.scale(1 - alpha, *gr);
    auto vNew = failed(vg) ? vg : a.axpy(alpha, v, *vg);
    auto sq = a.mul(*gr, *gr);
    auto hg = failed(sq) ? sq : a.scale(1 - beta, *sq);
    auto hNew = failed(hg) ? hg : a.axpy(beta, h, *hg);
    if (failed(vNew) || failed(hNew))
      return failure();
    auto moved = a.adaptiveStep(x, *r, *vNew, *hNew, eps);
    auto xNew = failed(moved) ? moved : a.scale(1 - post, *moved);
    if (failed(xNew))
      return failure();
    out[i] = *xNew;
    out[n + i] = *vNew;
    out[2 * n + i] = *hNew;
  }
  return success();
}

} // namespace umbra::onnx_import
