//===- PoolingOps.cpp - ONNX pooling and convolution to tfm ---------------===//
//
// AveragePool, MaxPool and Conv over [N, C, D1, ..., Dk] as data movement
// plus arithmetic: the input is padded along each spatial axis (an index
// map: constants, slices, gathers by constant indices), each kernel offset
// is one strided tfm.slice, and the windows are combined: a sum times a
// public 1/count (AveragePool), a chain of tfm.max (MaxPool), or one
// tfm.matmul of the gathered windows with the kernel (Conv, im2col).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

namespace {
/// The geometry of one spatial axis.
struct Axis {
  int64_t size, kernel, stride, dilation, padBegin, padEnd, out;
  int64_t span() const { return (kernel - 1) * dilation + 1; }
};
} // namespace

/// Output sizes and pads from kernel_shape, strides, dilations, pads,
/// auto_pad and ceil_mode (as in the ONNX operator definitions).
static FailureOr<SmallVector<Axis>>
windowGeometry(llvm::ArrayRef<int64_t> s, llvm::ArrayRef<int64_t> kernel,
               const onnx::NodeProto &node, std::string &err) {
  auto ints = [&](StringRef name) -> SmallVector<int64_t> {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return SmallVector<int64_t>(a.ints().begin(), a.ints().end());
    return {};
  };
  auto str = [&](StringRef name) -> std::string {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return a.s();
    return "";
  };
  bool ceilMode = false;
  for (const auto &a : node.attribute())
    if (a.name() == "ceil_mode")
      ceilMode = a.i() != 0;
  int64_t k = kernel.size();
  SmallVector<int64_t> strides = ints("strides"), dil = ints("dilations"),
                       pads = ints("pads");
  if (strides.empty())
    strides.assign(k, 1);
  if (dil.empty())
    dil.assign(k, 1);
  if (pads.empty())
    pads.assign(2 * k, 0);
  if (static_cast<int64_t>(strides.size()) != k ||
      static_cast<int64_t>(dil.size()) != k ||
      static_cast<int64_t>(pads.size()) != 2 * k) {
    err = "strides, dilations and pads must have one entry per spatial axis "
          "(pads two)";
    return failure();
  }
  std::string autoPad = str("auto_pad");
  SmallVector<Axis> axes;
  for (int64_t d = 0; d < k; ++d) {
    Axis a{s[d + 2], kernel[d], strides[d], dil[d], pads[d], pads[d + k], 0};
    if (a.kernel < 1 || a.stride < 1 || a.dilation < 1 || a.padBegin < 0 ||
        a.padEnd < 0) {
      err = "kernel, strides and dilations must be positive, pads not "
            "negative";
      return failure();
    }
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      a.out = (a.size + a.stride - 1) / a.stride;
      int64_t total =
          std::max<int64_t>(0, (a.out - 1) * a.stride + a.span() - a.size);
      a.padBegin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      a.padEnd = total - a.padBegin;
    } else {
      if (autoPad == "VALID")
        a.padBegin = a.padEnd = 0;
      else if (!autoPad.empty() && autoPad != "NOTSET") {
        err = "auto_pad '" + autoPad + "' is not supported";
        return failure();
      }
      int64_t room = a.size + a.padBegin + a.padEnd - a.span();
      if (room < 0) {
        err = "the kernel is larger than the padded input";
        return failure();
      }
      a.out = (ceilMode ? (room + a.stride - 1) / a.stride : room / a.stride) +
              1;
      // A last window that starts in the end padding is dropped.
      if (ceilMode && (a.out - 1) * a.stride >= a.size + a.padBegin)
        --a.out;
    }
    axes.push_back(a);
  }
  return axes;
}

/// The source position of padded position `j` (src = j - padBegin) for a
/// max window: an in-range position, else the nearest in-range one of the
/// same residue modulo the dilation, which is in every window that contains
/// `src` and some in-range position (so the maximum is unchanged); -1 if
/// there is none.
static int64_t maxSource(int64_t src, const Axis &a) {
  if (src >= 0 && src < a.size)
    return src;
  int64_t d = a.dilation;
  int64_t q = src < 0 ? src + ((-src + d - 1) / d) * d
                      : src - ((src - a.size + 1 + d - 1) / d) * d;
  return q >= 0 && q < a.size ? q : -1;
}

LogicalResult Importer::poolOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  bool isMax = node->op_type() == "MaxPool";
  // MaxPool compares integers (ring elements at 0 fractional bits) as
  // reals; an average needs reals.
  if (!(isFloatDT(dtypeOf(x)) || (isMax && isIntDT(dtypeOf(x)))) ||
      s.size() < 3)
    return nodeError() << (isMax ? "expects a numeric [N, C, D1, ...] tensor"
                                 : "expects a float [N, C, D1, ...] tensor"),
           failure();
  bool wantIdx = isMax && out.size() > 1 && !node->output(1).empty();
  bool colMajor = attrInt("storage_order", 0) != 0;
  auto kernel = attrInts("kernel_shape");
  if (!kernel || kernel->size() != s.size() - 2)
    return nodeError() << "kernel_shape must give one size per spatial axis",
           failure();
  std::string err;
  auto geo = windowGeometry(s, *kernel, *node, err);
  if (failed(geo))
    return nodeError() << err, failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  int64_t k = geo->size(), r = s.size();
  bool countPad = attrInt("count_include_pad", 0) != 0;
  // Pad each spatial axis to the positions the windows read.
  SmallVector<SmallVector<double>> counts;
  SmallVector<SmallVector<int64_t>> sources; // padded position -> input
  for (int64_t d = 0; d < k; ++d) {
    const Axis &a = (*geo)[d];
    int64_t len = (a.out - 1) * a.stride + a.span();
    SmallVector<int64_t> idx;
    for (int64_t j = 0; j < len; ++j) {
      int64_t src = j - a.padBegin;
      idx.push_back(isMax ? maxSource(src, a)
                          : (src >= 0 && src < a.size ? src : -1));
    }
    // Every window must hold an input element (a max over padding only
    // would be -inf).
    SmallVector<double> cnt;
    for (int64_t o = 0; o < a.out; ++o) {
      int64_t inside = 0, included = 0;
      for (int64_t t = 0; t < a.kernel; ++t) {
        int64_t src = o * a.stride + t * a.dilation - a.padBegin;
        inside += src >= 0 && src < a.size;
        included += src >= -a.padBegin && src < a.size + a.padEnd;
      }
      if (inside == 0)
        return nodeError() << "a window along spatial axis " << d
                           << " lies entirely in the padding",
               failure();
      cnt.push_back(countPad ? included : inside);
    }
    counts.push_back(cnt);
    sources.push_back(idx);
    bool identity = static_cast<int64_t>(idx.size()) == a.size;
    for (int64_t j = 0; j < len && identity; ++j)
      identity = idx[j] == j;
    if (!identity && !(v = emitIndexAlong(v, d + 2, idx, 0.0)))
      return failure();
  }
  // One strided slice per kernel offset.
  SmallVector<int64_t> outShape(s.take_front(2));
  for (const Axis &a : *geo)
    outShape.push_back(a.out);
  Type outTy = tensorType(outShape, dtypeOf(x));
  Value acc;
  SmallVector<Value> wins;          // with Indices: [N, C, O..., 1] each
  SmallVector<int64_t> flatPos;     // [O..., K]: the input's spatial index
  SmallVector<int64_t> offs(k, 0);
  while (true) {
    SmallVector<int64_t> offsets(r, 0), strides(r, 1);
    for (int64_t d = 0; d < k; ++d) {
      offsets[d + 2] = offs[d] * (*geo)[d].dilation;
      strides[d + 2] = (*geo)[d].stride;
    }
    Value win = emitSlice(v, offsets, strides, outShape);
    if (wantIdx) {
      SmallVector<int64_t> col(outShape);
      col.push_back(1);
      wins.push_back(emitReshape(win, col));
      // Each output position's source of this offset, flattened over the
      // spatial axes in storage_order (0: row major, 1: column major).
      int64_t nOut = 1;
      for (const Axis &a : *geo)
        nOut *= a.out;
      for (int64_t e = 0; e < nOut; ++e) {
        SmallVector<int64_t> o(k);
        for (int64_t d = k - 1, rem = e; d >= 0; --d) {
          o[d] = rem % (*geo)[d].out;
          rem /= (*geo)[d].out;
        }
        int64_t pos = 0;
        for (int64_t i = 0; i < k; ++i) {
          int64_t d = colMajor ? k - 1 - i : i;
          const Axis &a = (*geo)[d];
          pos = pos * a.size +
                sources[d][o[d] * a.stride + offs[d] * a.dilation];
        }
        flatPos.push_back(pos);
      }
    }
    acc = !acc    ? win
          : isMax ? tfm::MaxOp::create(b, loc, outTy, acc, win).getResult()
                  : tfm::AddOp::create(b, loc, outTy, acc, win).getResult();
    int64_t d = k - 1;
    while (d >= 0 && ++offs[d] == (*geo)[d].kernel)
      offs[d--] = 0;
    if (d < 0)
      break;
  }
  if (isMax) {
    out[0].value = acc;
    return wantIdx ? maxPoolIndices(wins, flatPos, outShape, s, out)
                   : success();
  }
  // The mean: a product with the public 1/count per output position.
  SmallVector<int64_t> cshape(2, 1);
  for (const Axis &a : *geo)
    cshape.push_back(a.out);
  ceval::Tensor inv = ceval::Tensor::zeros(cshape, /*isFloat=*/true);
  auto &iv = std::get<std::vector<double>>(inv.data);
  bool uniform = true;
  for (size_t e = 0; e < iv.size(); ++e) {
    double c = 1;
    int64_t rem = e;
    for (int64_t d = k - 1; d >= 0; --d) {
      c *= counts[d][rem % (*geo)[d].out];
      rem /= (*geo)[d].out;
    }
    iv[e] = 1.0 / c;
    uniform &= iv[e] == iv[0];
  }
  if (uniform) {
    // A scalar (read the value before replacing the tensor it lives in).
    double only = iv[0];
    inv = ceval::Tensor::zeros({}, /*isFloat=*/true);
    std::get<std::vector<double>>(inv.data)[0] = only;
  }
  Value scale = materialize(*literal(makeConst(dtypeOf(x), std::move(inv))));
  if (!scale)
    return failure();
  out[0].value = tfm::MulOp::create(b, loc, outTy, acc, scale);
  return success();
}

LogicalResult Importer::convOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects X and W", failure();
  const Entry &x = in[0], &w = in[1];
  llvm::ArrayRef<int64_t> s = shapeOf(x), ws = shapeOf(w);
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt) || dtypeOf(w) != dt || s.size() < 3 ||
      ws.size() != s.size())
    return nodeError() << "expects float X [N, C, D1, ...] and W [M, C, K1, "
                          "...] of one type",
           failure();
  if (attrInt("group", 1) != 1)
    return nodeError() << "group " << attrInt("group", 1)
                       << " is not supported (only 1)",
           failure();
  int64_t n = s[0], c = s[1], m = ws[0], r = s.size(), k = r - 2;
  if (ws[1] != c)
    return nodeError() << "W has " << ws[1] << " input channels, X " << c,
           failure();
  SmallVector<int64_t> kernel(ws.drop_front(2));
  if (auto ks = attrInts("kernel_shape"); ks && *ks != kernel)
    return nodeError() << "kernel_shape disagrees with W", failure();
  std::string err;
  auto geo = windowGeometry(s, kernel, *node, err);
  if (failed(geo))
    return nodeError() << err, failure();
  Value v = valueOf(x), wv = valueOf(w);
  if (!v || !wv)
    return failure();
  for (int64_t d = 0; d < k; ++d) {
    const Axis &a = (*geo)[d];
    int64_t len = (a.out - 1) * a.stride + a.span();
    SmallVector<int64_t> idx;
    bool identity = len == a.size;
    for (int64_t j = 0; j < len; ++j) {
      int64_t src = j - a.padBegin;
      idx.push_back(src >= 0 && src < a.size ? src : -1);
      identity &= idx.back() == j;
    }
    if (!identity && !(v = emitIndexAlong(v, d + 2, idx, 0.0)))
      return failure();
  }
  // im2col: windows [N, C, P] per kernel offset, stacked on a last axis
  // into [N, C, P, K], then [N, P, C, K] -> [N * P, C * K].
  SmallVector<int64_t> winShape(s.take_front(2));
  int64_t p = 1, kk = 1;
  for (const Axis &a : *geo) {
    winShape.push_back(a.out);
    p *= a.out;
    kk *= a.kernel;
  }
  SmallVector<Value> wins;
  SmallVector<int64_t> offs(k, 0);
  while (true) {
    SmallVector<int64_t> offsets(r, 0), strides(r, 1);
    for (int64_t d = 0; d < k; ++d) {
      offsets[d + 2] = offs[d] * (*geo)[d].dilation;
      strides[d + 2] = (*geo)[d].stride;
    }
    wins.push_back(emitReshape(emitSlice(v, offsets, strides, winShape),
                               {n, c, p, 1}));
    int64_t d = k - 1;
    while (d >= 0 && ++offs[d] == (*geo)[d].kernel)
      offs[d--] = 0;
    if (d < 0)
      break;
  }
  Value cols = emitConcat(wins, 3);
  cols = emitReshape(emitTranspose(cols, {0, 2, 1, 3}), {n * p, c * kk});
  Value wt = emitTranspose(emitReshape(wv, {m, c * kk}), {1, 0});
  Value y = tfm::MatMulOp::create(b, loc, tensorType({n * p, m}, dt), cols, wt);
  // [N * P, M] -> [N, P, M] -> [N, M, P] -> [N, M, D1', ...].
  y = emitTranspose(emitReshape(y, {n, p, m}), {0, 2, 1});
  SmallVector<int64_t> outShape = {n, m};
  for (const Axis &a : *geo)
    outShape.push_back(a.out);
  y = emitReshape(y, outShape);
  if (in.size() > 2 && in[2]) {
    if (shapeOf(in[2]) != llvm::ArrayRef<int64_t>{m})
      return nodeError() << "B must have shape [" << m << "]", failure();
    Value bias = valueOf(in[2]);
    if (!bias)
      return failure();
    SmallVector<int64_t> bshape(r, 1);
    bshape[1] = m;
    y = tfm::AddOp::create(b, loc, y.getType(), y, emitReshape(bias, bshape));
  }
  out[0].value = y;
  return success();
}

/// MaxPool's Indices: the first maximum's offset within each window
/// (`tfm.argmax` over the windows stacked in kernel order, padding slots
/// repeating the window's first or last input element, so ties resolve as
/// over the input alone), its one-hot row times the public flat source
/// positions (local), plus the public (n C + c) D1 ... Dk.
LogicalResult Importer::maxPoolIndices(ArrayRef<Value> wins,
                                       ArrayRef<int64_t> flatPos,
                                       ArrayRef<int64_t> outShape,
                                       ArrayRef<int64_t> inShape, Outs out) {
  int64_t kk = wins.size(), r = outShape.size();
  Value stacked = emitConcat(wins, r);
  SmallVector<int64_t> one(outShape);
  one.push_back(1);
  Value i = tfm::ArgMaxOp::create(b, loc, tensorType(one, TP::INT64), stacked,
                                  b.getI64IntegerAttr(r), b.getBoolAttr(true),
                                  b.getBoolAttr(false));
  Value hot = indexRows(i, outShape, kk, TP::INT64);
  // flatPos is [K][O...]; the table is [1, 1, O..., K].
  int64_t nOut = flatPos.size() / kk;
  std::vector<int64_t> table(flatPos.size());
  for (int64_t t = 0; t < kk; ++t)
    for (int64_t e = 0; e < nOut; ++e)
      table[e * kk + t] = flatPos[t * nOut + e];
  SmallVector<int64_t> tshape = {1, 1};
  tshape.append(outShape.begin() + 2, outShape.end());
  tshape.push_back(kk);
  Value tv = materialize(
      *literal(makeConst(TP::INT64, ceval::Tensor{tshape, std::move(table)})));
  int64_t n = inShape[0], c = inShape[1], spatial = 1;
  for (int64_t d = 2; d < static_cast<int64_t>(inShape.size()); ++d)
    spatial *= inShape[d];
  SmallVector<int64_t> bshape(r + 1, 1);
  bshape[0] = n;
  bshape[1] = c;
  std::vector<int64_t> base(n * c);
  for (int64_t e = 0; e < n * c; ++e)
    base[e] = e * spatial;
  Value bv = materialize(
      *literal(makeConst(TP::INT64, ceval::Tensor{bshape, std::move(base)})));
  if (!tv || !bv)
    return failure();
  SmallVector<int64_t> full(outShape);
  full.push_back(kk);
  Value picked = sumLastAxis(
      tfm::MulOp::create(b, loc, tensorType(full, TP::INT64), hot, tv)
          .getResult(),
      TP::INT64);
  picked = tfm::AddOp::create(b, loc, tensorType(one, TP::INT64), picked, bv);
  out[1].value = emitReshape(picked, outShape);
  return success();
}

} // namespace umbra::onnx_import
