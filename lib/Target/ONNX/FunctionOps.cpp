//===- FunctionOps.cpp - ONNX functions, activations, normalisations ------===//
//
// Elementwise functions with a tfm op of their own (Floor ... Atanh, rows of
// OnnxOps.def that name `functionOp`; constants are evaluated) and ONNX ops that are compositions of
// existing tfm ops, each folded on public constants:
//
// - Elu, Selu, Celu: relu(x) + alpha (exp(min(x, 0) [/ alpha]) - 1) with
//   min(x, 0) = x - relu(x) (one comparison; exp of a non-positive value).
// - ThresholdedRelu, Shrink: `tfm.where` by `tfm.less` (one comparison per
//   threshold).
// - Softsign: sign(x) (1 - 1 / (1 + |x|)); HardSwish: x * hardsigmoid(x) (1/6, 1/2).
// - BatchNormalization (inference mode): (x - mean) * scale * (var +
//   epsilon)^(-1/2) + B per channel; statistics may be public, the owner's
//   or computed.
// - InstanceNormalization, MeanVarianceNormalization: `tfm.layer_norm` over
//   the normalised axes (moved last by a transpose for MVN), so the one
//   normalisation lowering (and its precision work) is reused.
// - LRN: x * (bias + alpha / size * window sum of x^2)^(-beta), the window
//   sum a sum of shifted copies of the zero-padded channels.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;
using ceval::UnaryOp;

FailureOr<Entry> Importer::fnBinary(BinaryOp k, BinaryBuilder build,
                                    const Entry &x, const Entry &y) {
  Entry pair[2] = {x, y}, r;
  if (failed(binary(k, build, pair, llvm::MutableArrayRef<Entry>(r))))
    return failure();
  return r;
}

FailureOr<Entry> Importer::fnUnary(UnaryOp k, UnaryBuilder build,
                                   const Entry &x) {
  Entry r;
  if (failed(unary(k, build, llvm::ArrayRef<Entry>(x),
                   llvm::MutableArrayRef<Entry>(r))))
    return failure();
  return r;
}

Entry Importer::fnScalar(const Entry &like, double v) {
  return Entry{scalarConst(dtypeOf(like), v), {}};
}

/// Functions of constants are evaluated at import, exactly, even on the
/// owner's constants (rotary tables; the result stays the owner's): only
/// values computed from graph inputs take the approximation of the tfm op.
LogicalResult Importer::functionOp(UnaryOp k, UnaryBuilder build, Ins in,
                                   Outs out) {
  return unary(k, allConst(in) ? nullptr : build, in, out);
}

namespace {
/// Compositions on entries: each step is one folded-or-emitted op; the
/// first failure (already diagnosed) sticks.
struct Compose {
  Importer &im;
  bool failed = false;
  Entry bin(BinaryOp k, BinaryBuilder build, const Entry &x, const Entry &y) {
    if (failed)
      return {};
    FailureOr<Entry> r = im.fnBinary(k, build, x, y);
    failed = mlir::failed(r);
    return failed ? Entry{} : *r;
  }
  Entry un(UnaryOp k, UnaryBuilder build, const Entry &x) {
    if (failed)
      return {};
    FailureOr<Entry> r = im.fnUnary(k, build, x);
    failed = mlir::failed(r);
    return failed ? Entry{} : *r;
  }
  Entry add(const Entry &x, const Entry &y) {
    return bin(BinaryOp::Add, buildOp<tfm::AddOp>, x, y);
  }
  Entry sub(const Entry &x, const Entry &y) {
    return bin(BinaryOp::Sub, buildOp<tfm::SubOp>, x, y);
  }
  Entry mul(const Entry &x, const Entry &y) {
    return bin(BinaryOp::Mul, buildOp<tfm::MulOp>, x, y);
  }
  Entry c(const Entry &like, double v) { return im.fnScalar(like, v); }
  LogicalResult result(Entry r, Importer::Outs out) {
    if (failed)
      return failure();
    out[0] = r;
    return success();
  }
};
} // namespace

LogicalResult Importer::eluOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  if (!isFloatDT(dtypeOf(in[0])))
    return nodeError() << "expects a float tensor", failure();
  StringRef type = node->op_type();
  bool selu = type == "Selu", celu = type == "Celu";
  double alpha = attrFloat("alpha", selu ? 1.67326319217681884765625f : 1.0f);
  if (celu && alpha == 0)
    return nodeError() << "alpha must not be 0", failure();
  Compose c{*this};
  const Entry &x = in[0];
  // relu(x) + alpha (exp(min(x, 0) [/ alpha]) - 1): min(x, 0) = x - relu(x).
  Entry relu = c.un(UnaryOp::Relu, buildOp<tfm::ReluOp>, x);
  Entry neg = c.sub(x, relu);
  if (celu)
    neg = c.mul(neg, c.c(x, 1.0 / alpha));
  Entry e = c.un(UnaryOp::Exp, buildOp<tfm::ExpOp>, neg);
  Entry y = c.add(relu, c.mul(c.sub(e, c.c(x, 1.0)), c.c(x, alpha)));
  if (selu)
    y = c.mul(y, c.c(x, attrFloat("gamma", 1.05070102214813232421875f)));
  return c.result(y, out);
}

LogicalResult Importer::thresholdedReluOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  Compose c{*this};
  Entry above = c.bin(BinaryOp::Greater, buildGreater, x,
                      c.c(x, attrFloat("alpha", 1.0f)));
  Entry cond[3] = {above, x, c.c(x, 0.0)};
  if (c.failed)
    return failure();
  return whereOp(cond, out);
}

LogicalResult Importer::softsignOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  // sign(x) (1 - 1 / (1 + |x|)): the reciprocal's absolute error is the
  // result's (a quotient x / (1 + |x|) would carry x times it).
  Compose c{*this};
  Entry d = c.add(c.un(UnaryOp::Abs, buildOp<tfm::AbsOp>, x), c.c(x, 1.0));
  Entry r = c.un(UnaryOp::Reciprocal, buildOp<tfm::ReciprocalOp>, d);
  Entry s = c.un(UnaryOp::Sign, buildOp<tfm::SignOp>, x);
  return c.result(c.mul(s, c.sub(c.c(x, 1.0), r)), out);
}

LogicalResult Importer::shrinkOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  if (!isFloatDT(dtypeOf(x)) && !foldable(in))
    return nodeError() << "only float tensors computed from graph inputs are "
                          "supported here (got "
                       << dtName(dtypeOf(x)) << ")",
           failure();
  double lambd = attrFloat("lambd", 0.5f), bias = attrFloat("bias", 0.0f);
  if (lambd < 0)
    return nodeError() << "lambd must be >= 0 (got " << lambd << ")",
           failure();
  // x < -lambd ? x + bias : (x > lambd ? x - bias : 0).
  Compose c{*this};
  Entry hi = c.bin(BinaryOp::Greater, buildGreater, x, c.c(x, lambd));
  Entry lo = c.bin(BinaryOp::Less, buildOp<tfm::LessOp>, x, c.c(x, -lambd));
  Entry minus = c.sub(x, c.c(x, bias)), plus = c.add(x, c.c(x, bias));
  if (c.failed)
    return failure();
  Entry inner;
  Entry w1[3] = {hi, minus, c.c(x, 0.0)};
  if (failed(whereOp(w1, llvm::MutableArrayRef<Entry>(inner))))
    return failure();
  Entry w2[3] = {lo, plus, inner};
  return whereOp(w2, out);
}

LogicalResult Importer::hardSwishOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  Compose c{*this};
  Entry lin = c.add(c.mul(x, c.c(x, 1.0 / 6)), c.c(x, 0.5));
  Entry low = c.bin(BinaryOp::Min, buildMin, lin, c.c(x, 1.0));
  Entry hs = c.bin(BinaryOp::Max, buildOp<tfm::MaxOp>, low, c.c(x, 0.0));
  return c.result(c.mul(x, hs), out);
}

LogicalResult Importer::batchNormOp(Ins in, Outs out) {
  if (in.size() != 5 || llvm::any_of(in, [](const Entry &e) { return !e; }))
    return nodeError() << "expects X, scale, B, input_mean and input_var",
           failure();
  bool training = attrInt("training_mode", 0) != 0;
  if (!training)
    for (int k = 1; k < node->output_size(); ++k)
      if (!node->output(k).empty() && useCount.lookup(node->output(k)))
        return nodeError() << "output '" << node->output(k)
                           << "' (running statistics) exists only in "
                              "training mode",
               failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (!isFloatDT(dt) || s.size() < 2)
    return nodeError() << "expects a float X of rank >= 2 (N, C, ...)",
           failure();
  // Each statistic [C] as [C, 1, ..., 1] against X's channel axis.
  SmallVector<int64_t> pshape(s.size() - 1, 1);
  pshape[0] = s[1];
  SmallVector<Entry, 4> p;
  for (int k = 1; k < 5; ++k) {
    if (shapeOf(in[k]) != llvm::ArrayRef<int64_t>{s[1]} ||
        dtypeOf(in[k]) != dt)
      return nodeError() << "input " << k << " must be a " << dtName(dt)
                         << " tensor of shape [" << s[1] << "] (got "
                         << shapeStr(shapeOf(in[k])) << ")",
             failure();
    Entry r;
    if (failed(reshapeLike(in.slice(k, 1), llvm::MutableArrayRef<Entry>(r),
                           pshape)))
      return failure();
    p.push_back(r);
  }
  Compose c{*this};
  Entry mean = p[2], var = p[3];
  if (training) {
    // Batch statistics over every axis but the channel (population
    // variance), and the running statistics blended with momentum.
    Value v = valueOf(x);
    if (!v)
      return failure();
    SmallVector<int64_t> axes{0};
    for (int64_t d = 2; d < int64_t(s.size()); ++d)
      axes.push_back(d);
    auto [m, v2] = meanAndVariance(v, axes);
    mean = Entry{{}, emitReshape(m, pshape)};
    var = Entry{{}, emitReshape(v2, pshape)};
    double momentum = attrFloat("momentum", 0.9f);
    for (int k = 1; k < 3 && k < int(out.size()); ++k) {
      Entry run = c.add(c.mul(p[k + 1], c.c(x, momentum)),
                        c.mul(k == 1 ? mean : var, c.c(x, 1 - momentum)));
      if (c.failed || failed(reshapeLike(llvm::ArrayRef<Entry>(run),
                                         out.slice(k, 1), {s[1]})))
        return failure();
    }
  }
  Entry varEps = c.add(var, c.c(x, attrFloat("epsilon", 1e-5f)));
  Entry inv = c.bin(BinaryOp::Pow, buildOp<tfm::PowOp>, varEps, c.c(x, -0.5));
  Entry factor = c.mul(p[0], inv);
  return c.result(c.add(c.mul(c.sub(x, mean), factor), p[1]), out);
}

/// `v` normalised (mean 0, variance 1 + epsilon) over its trailing axes
/// from `axis`: one `tfm.layer_norm` without scale and bias.
static Value layerNormFrom(OpBuilder &b, Location loc, Value v, int64_t axis,
                           float eps) {
  return tfm::LayerNormOp::create(b, loc, v.getType(), v, Value(), Value(),
                                  b.getI64IntegerAttr(axis),
                                  b.getF32FloatAttr(eps));
}

LogicalResult Importer::instanceNormOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects input, scale and B", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (!isFloatDT(dt) || s.size() < 3)
    return nodeError() << "expects a float input of rank >= 3 (N, C, D1, ...)",
           failure();
  SmallVector<int64_t> pshape(s.size() - 1, 1);
  pshape[0] = s[1];
  Entry p[2];
  for (int k = 1; k < 3; ++k) {
    if (shapeOf(in[k]) != llvm::ArrayRef<int64_t>{s[1]} ||
        dtypeOf(in[k]) != dt)
      return nodeError() << (k == 1 ? "scale" : "B") << " must be a "
                         << dtName(dt) << " tensor of shape [" << s[1]
                         << "] (got " << shapeStr(shapeOf(in[k])) << ")",
             failure();
    if (failed(reshapeLike(in.slice(k, 1),
                           llvm::MutableArrayRef<Entry>(p[k - 1]), pshape)))
      return failure();
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  Entry n{{}, layerNormFrom(b, loc, v, 2 - int64_t(s.size()),
                            attrFloat("epsilon", 1e-5f))};
  Compose c{*this};
  return c.result(c.add(c.mul(n, p[0]), p[1]), out);
}

LogicalResult Importer::mvnOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  int64_t r = rankOf(x);
  if (!isFloatDT(dt))
    return nodeError() << "expects a float tensor", failure();
  SmallVector<int64_t> axes =
      attrInts("axes").value_or(SmallVector<int64_t>{0, 2, 3});
  SmallVector<bool> normalised(r, false);
  for (int64_t a : axes) {
    auto n = normAxis(a, r);
    if (failed(n))
      return failure();
    if (normalised[*n])
      return nodeError() << "axis " << a << " is repeated", failure();
    normalised[*n] = true;
  }
  if (axes.empty())
    return nodeError() << "axes must not be empty", failure();
  // The kept axes first, the normalised ones last (both in order).
  SmallVector<int64_t> perm, inverse(r);
  for (int64_t k = 0; k < r; ++k)
    if (!normalised[k])
      perm.push_back(k);
  for (int64_t k = 0; k < r; ++k)
    if (normalised[k])
      perm.push_back(k);
  bool identity = llvm::equal(perm, llvm::seq<int64_t>(0, r));
  for (int64_t k = 0; k < r; ++k)
    inverse[perm[k]] = k;
  Value v = valueOf(x);
  if (!v)
    return failure();
  if (!identity)
    v = emitTranspose(v, perm);
  // ONNX's function body adds 1e-9 to the variance before the square root.
  v = layerNormFrom(b, loc, v, -int64_t(axes.size()), 1e-9f);
  if (!identity)
    v = emitTranspose(v, inverse);
  out[0].value = v;
  return success();
}

LogicalResult Importer::lrnOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (!isFloatDT(dt) || s.size() < 3)
    return nodeError() << "expects a float input of rank >= 3 (N, C, D1, ...)",
           failure();
  const auto *sizeAttr = attr("size");
  if (!sizeAttr || sizeAttr->i() < 1)
    return nodeError() << "needs a positive size attribute", failure();
  int64_t size = sizeAttr->i();
  double alpha = attrFloat("alpha", 1e-4f), beta = attrFloat("beta", 0.75f),
         bias = attrFloat("bias", 1.0f);
  Compose c{*this};
  Entry sq = c.mul(x, x);
  if (c.failed)
    return failure();
  Value sqv = valueOf(sq);
  if (!sqv)
    return failure();
  // Channel c sums c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2),
  // out-of-range channels being 0.
  int64_t before = (size - 1) / 2, channels = s[1];
  Entry sum;
  for (int64_t d = 0; d < size; ++d) {
    SmallVector<int64_t> idx;
    for (int64_t k = 0; k < channels; ++k) {
      int64_t j = k - before + d;
      idx.push_back(j >= 0 && j < channels ? j : -1);
    }
    Entry shifted{{}, emitIndexAlong(sqv, 1, idx, 0.0)};
    sum = sum ? c.add(sum, shifted) : shifted;
  }
  Entry base = c.add(c.mul(sum, c.c(x, alpha / size)), c.c(x, bias));
  Entry scale =
      c.bin(BinaryOp::Pow, buildOp<tfm::PowOp>, base, c.c(x, -beta));
  return c.result(c.mul(x, scale), out);
}

} // namespace umbra::onnx_import
