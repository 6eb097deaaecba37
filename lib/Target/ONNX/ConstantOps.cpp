//===- ConstantOps.cpp - ONNX constants and shape computations ------------===//
//
// Constant, ConstantOfShape, Shape, Size, Range, CumSum, Identity and
// Dropout. Their results are public constants (the graph's literals and
// shape computations), except that Range/CumSum on an owner constant stay
// the owner's.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

LogicalResult Importer::constantOp(Ins, Outs out) {
  if (const auto *a = attr("value")) {
    // The node owns the tensor; constFromProto keeps a mutable pointer so that
    // large raw data can move into a blob.
    auto *t = const_cast<TP *>(&a->t());
    if (!validDims(
            llvm::SmallVector<int64_t>(t->dims().begin(), t->dims().end())))
      return nodeError() << "invalid tensor dimensions", failure();
    // A Constant node is part of the graph, hence public (an exporter that
    // stores weights as nodes needs --role to say so).
    ConstPtr c = constFromProto(*t, Role::Public);
    if (c->name.empty())
      c->name = node->output(0);
    out[0].cst = c;
    return success();
  }
  if (const auto *a = attr("value_float")) {
    out[0].cst = scalarConst(TP::FLOAT, a->f());
    return success();
  }
  auto list = [&](int32_t dt, auto values, bool scalar) {
    ceval::Tensor t;
    if (!scalar)
      t.shape = {static_cast<int64_t>(values.size())};
    using V = std::conditional_t<std::is_same_v<decltype(values),
                                                 std::vector<double>>,
                                 std::vector<double>, std::vector<int64_t>>;
    t.data = V(values.begin(), values.end());
    out[0].cst = makeConst(dt, std::move(t));
    return success();
  };
  if (const auto *a = attr("value_int"))
    return list(TP::INT64, std::vector<int64_t>{a->i()}, /*scalar=*/true);
  if (const auto *a = attr("value_floats"))
    return list(TP::FLOAT,
                std::vector<double>(a->floats().begin(), a->floats().end()),
                false);
  if (const auto *a = attr("value_ints"))
    return list(TP::INT64,
                std::vector<int64_t>(a->ints().begin(), a->ints().end()),
                false);
  return nodeError() << "only 'value', 'value_float(s)' and 'value_int(s)' "
                        "constants are supported",
         failure();
}

LogicalResult Importer::constantOfShape(Ins in, Outs out) {
  auto shape = constInts(in[0], "shape");
  if (failed(shape))
    return failure();
  for (int64_t d : *shape)
    if (d < 0)
      return nodeError() << "negative dimension in " << shapeStr(*shape),
             failure();
  if (failed(checkFoldSize(numElements(*shape))))
    return failure();
  ConstPtr v = scalarConst(TP::FLOAT, 0);
  if (const auto *a = attr("value")) {
    if (!validDims(llvm::SmallVector<int64_t>(a->t().dims().begin(),
                                              a->t().dims().end())))
      return nodeError() << "invalid tensor dimensions", failure();
    v = constFromProto(const_cast<TP &>(a->t()), Role::Public);
    if (v->numElements() != 1 || failed(decode(*v)))
      return nodeError() << "'value' must hold one element", failure();
  }
  out[0].cst = makeConst(v->dtype, ceval::fill(v->value, *shape));
  return success();
}

LogicalResult Importer::shapeOp(Ins in, Outs out) {
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  int64_t r = s.size();
  int64_t start = attrInt("start", 0), end = attrInt("end", r);
  if (start < 0)
    start += r;
  if (end < 0)
    end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  int64_t n = std::max<int64_t>(end - start, 0);
  ceval::Tensor t;
  t.shape = {n};
  t.data = std::vector<int64_t>(s.begin() + start, s.begin() + start + n);
  out[0].cst = makeConst(TP::INT64, std::move(t));
  return success();
}

LogicalResult Importer::sizeOp(Ins in, Outs out) {
  ceval::Tensor t;
  t.data = std::vector<int64_t>{numElements(shapeOf(in[0]))};
  out[0].cst = makeConst(TP::INT64, std::move(t));
  return success();
}

LogicalResult Importer::rangeOp(Ins in, Outs out) {
  if (in.size() != 3 || llvm::any_of(in, [](const Entry &e) { return !e; }))
    return nodeError() << "expects start, limit and delta", failure();
  // The output's length is a function of the three values, and a program
  // on secret data has static shapes.
  for (int k = 0; k < 3; ++k)
    if (!in[k].cst)
      return nodeError() << "the " << (k == 0 ? "start" : k == 1 ? "limit" : "delta")
                         << " input '" << node->input(k)
                         << "' must be a constant (the output's length "
                            "depends on its value)",
             failure();
  int32_t dt = in[0].cst->dtype;
  for (const Entry &e : in)
    if (e.cst->numElements() != 1 || e.cst->dtype != dt ||
        failed(decode(*e.cst)))
      return nodeError() << "start, limit and delta must be scalars of one "
                            "type",
             failure();
  int64_t n = ceval::rangeCount(in[0].cst->value, in[1].cst->value,
                                in[2].cst->value);
  if (n < 0)
    return nodeError() << "delta is zero", failure();
  if (failed(checkFoldSize(n)))
    return failure();
  out[0].cst = makeConst(
      dt, ceval::range(in[0].cst->value, in[2].cst->value, n), roleOf(in));
  return success();
}

/// CumSum has no tfm form: it only appears in position-id computations on
/// constant attention masks (OPT), which the evaluator folds.
LogicalResult Importer::cumSumOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[1])
    return nodeError() << "expects x and axis", failure();
  auto axisV = constInts(in[1], "axis");
  if (failed(axisV))
    return failure();
  if (axisV->size() != 1)
    return nodeError() << "axis must be a scalar", failure();
  bool exclusive = attrInt("exclusive", 0) != 0;
  bool reverse = attrInt("reverse", 0) != 0;
  if (!allConst(in.take_front())) {
    // A computed float tensor: a product with a public 0/1 triangular
    // matrix along the axis (linear, no comparison).
    if (!isFloatDT(dtypeOf(in[0])))
      return nodeError() << "a cumulative sum of " << dtName(dtypeOf(in[0]))
                         << " values computed from graph inputs is not "
                            "supported (only float tensors)",
             failure();
    llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
    int64_t r = s.size();
    auto axis = normAxis((*axisV)[0], r);
    if (failed(axis))
      return failure();
    int64_t n = s[*axis];
    if (failed(checkFoldSize(n * n)))
      return failure();
    // Row j of the map: y[j] = sum of x[i] over i <= j (reverse: i >= j),
    // strictly if exclusive.
    SmallVector<double> m(n * n, 0.0);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < n; ++i) {
        bool in = reverse ? (exclusive ? i > j : i >= j)
                          : (exclusive ? i < j : i <= j);
        m[j * n + i] = in ? 1.0 : 0.0;
      }
    Value v = valueOf(in[0]);
    if (!v || !(v = applyAlongAxis(v, *axis, n, m)))
      return failure();
    out[0].value = v;
    return success();
  }
  const ConstTensor &x = *in[0].cst;
  auto axis = normAxis((*axisV)[0], x.shape.size());
  if (failed(axis) || failed(decode(*in[0].cst)))
    return failure();
  out[0].cst = makeConst(x.dtype,
                         ceval::cumsum(x.value, *axis, exclusive, reverse),
                         roleOf(in));
  return success();
}

LogicalResult Importer::identityOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "missing input", failure();
  out[0] = in[0];
  return success();
}

LogicalResult Importer::dropoutOp(Ins in, Outs out) {
  if (failed(identityOp(in, out)))
    return failure();
  // Inference: nothing is dropped unless training_mode is a constant true;
  // the mask output is then all true.
  if (in.size() > 2 && in[2]) {
    auto training = constInts(in[2], "training_mode");
    if (failed(training))
      return failure();
    // Training mode with a ratio of exactly 0 drops nothing. Any other
    // ratio (0.5 by default) draws a random mask: sampling under MPC is
    // possible, but a model exported for inference has no use for it.
    if (llvm::any_of(*training, [](int64_t v) { return v != 0; })) {
      double ratio = 0.5;
      if (in.size() > 1 && in[1]) {
        if (!in[1].cst)
          return nodeError() << "in training mode the ratio input '"
                             << node->input(1)
                             << "' must be a constant (a ratio of 0 drops "
                                "nothing; any other draws a random mask)",
                 failure();
        if (failed(decode(*in[1].cst)) || in[1].cst->value.size() != 1)
          return nodeError() << "the ratio must be one value", failure();
        ratio = in[1].cst->value.at(0);
      }
      char shown[32];
      std::snprintf(shown, sizeof shown, "%g", ratio);
      if (ratio != 0.0)
        return nodeError() << "training mode with ratio " << shown
                           << " draws a random mask; random masks are not "
                              "supported (export the model in inference "
                              "mode)",
               failure();
    }
  }
  if (out.size() > 1) {
    if (failed(checkFoldSize(numElements(shapeOf(in[0])))))
      return failure();
    // The mask is bool since opset 10, of the input's type before.
    int32_t maskType = opset >= 10 ? int32_t(TP::BOOL) : dtypeOf(in[0]);
    ceval::Tensor one = ceval::Tensor::zeros({}, isFloatDT(maskType));
    if (one.isFloat())
      std::get<0>(one.data)[0] = 1.0;
    else
      std::get<1>(one.data)[0] = 1;
    out[1].cst = makeConst(maskType, ceval::fill(one, shapeOf(in[0])));
  }
  return success();
}

/// IsInf and IsNaN. A fixed-point value is always finite, so on a value
/// computed from graph inputs both are all false (the client refuses
/// non-finite inputs when it encodes them); on a constant (an initializer
/// holding a -inf mask) they are evaluated exactly.
LogicalResult Importer::nonFiniteOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects one input", failure();
  if (!isFloatDT(dtypeOf(in[0])))
    return nodeError() << "expects a float tensor", failure();
  llvm::ArrayRef<int64_t> s = shapeOf(in[0]);
  if (failed(checkFoldSize(numElements(s))))
    return failure();
  bool nan = node->op_type() == "IsNaN";
  bool positive = attrInt("detect_positive", 1) != 0;
  bool negative = attrInt("detect_negative", 1) != 0;
  ceval::Tensor t = ceval::Tensor::zeros(s, /*isFloat=*/false);
  if (in[0].cst) {
    if (failed(decode(*in[0].cst)))
      return failure();
    auto &hits = std::get<1>(t.data);
    for (int64_t k = 0; k < int64_t(hits.size()); ++k) {
      double v = in[0].cst->value.at(k);
      hits[k] = nan ? std::isnan(v)
                    : std::isinf(v) && (v > 0 ? positive : negative);
    }
  }
  out[0].cst = makeConst(TP::BOOL, std::move(t),
                         in[0].cst ? roleOf(in) : Role::Public);
  return success();
}

} // namespace umbra::onnx_import
