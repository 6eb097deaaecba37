//===- LinearMaps.cpp - ONNX ops that are public linear maps --------------===//
//
// Resize, Upsample, ConvTranspose and Einsum on secret data. With public
// shapes and constant parameters every output element of Resize/Upsample is
// a fixed public combination of input elements along each resized axis:
// applyAlongAxis applies such a map, as a selection (constant indices: data
// movement, no arithmetic) when every row picks one element, else as one
// `tfm.matmul` with a public matrix (local products, one truncation).
// ConvTranspose is a Conv (the existing im2col lowering) of the input spread
// out by a public index map, with the kernel flipped and its channels
// swapped (one Conv per group). Einsum is diagonals (constant gathers),
// sums (`tfm.reduce_sum`) and one batched `tfm.matmul` per pair of operands.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;

namespace umbra::onnx_import {

FailureOr<SmallVector<double>> Importer::constFloats(const Entry &e,
                                                     unsigned index,
                                                     StringRef what) {
  if (!e.cst || e.cst->isOwner()) {
    nodeError() << "the " << what << " input '" << node->input(index)
                << "' must be a constant (it is computed from graph inputs "
                   "or is a model weight)";
    return failure();
  }
  if (failed(decode(*e.cst)))
    return failure();
  SmallVector<double> v;
  for (int64_t k = 0, n = e.cst->value.size(); k < n; ++k)
    v.push_back(e.cst->value.at(k));
  return v;
}

Value Importer::applyAlongAxis(Value v, int64_t axis, int64_t outLen,
                               llvm::ArrayRef<double> m) {
  auto ty = cast<RankedTensorType>(v.getType());
  llvm::ArrayRef<int64_t> s = ty.getShape();
  int64_t r = s.size(), n = s[axis];
  assert(static_cast<int64_t>(m.size()) == outLen * n);
  // A selection (each row one 1, or none: a 0): constant indices.
  SmallVector<int64_t> idx;
  bool select = true;
  for (int64_t o = 0; o < outLen && select; ++o) {
    int64_t pick = -1;
    for (int64_t i = 0; i < n && select; ++i) {
      double c = m[o * n + i];
      if (c == 0)
        continue;
      select = c == 1 && pick < 0;
      pick = i;
    }
    idx.push_back(pick);
  }
  if (select) {
    bool identity = outLen == n;
    for (int64_t o = 0; o < outLen && identity; ++o)
      identity = idx[o] == o;
    return identity ? v : emitIndexAlong(v, axis, idx, 0.0);
  }
  // A product with the public [n, outLen] matrix on the last axis.
  ceval::Tensor mt = ceval::Tensor::zeros({n, outLen}, /*isFloat=*/true);
  auto &d = std::get<std::vector<double>>(mt.data);
  for (int64_t o = 0; o < outLen; ++o)
    for (int64_t i = 0; i < n; ++i)
      d[i * outLen + o] = m[o * n + i];
  Value mat = materialize(
      *literal(makeConst(dtOfType(ty.getElementType()), std::move(mt))));
  if (!mat)
    return {};
  SmallVector<int64_t> perm;
  for (int64_t k = 0; k < r; ++k)
    if (k != axis)
      perm.push_back(k);
  perm.push_back(axis);
  SmallVector<int64_t> inv(r);
  for (int64_t k = 0; k < r; ++k)
    inv[perm[k]] = k;
  bool last = axis == r - 1;
  Value moved = last ? v : emitTranspose(v, perm);
  SmallVector<int64_t> ms(cast<RankedTensorType>(moved.getType()).getShape());
  if (r == 1) // tfm.matmul takes rank >= 2
    moved = emitReshape(moved, {1, n});
  SmallVector<int64_t> ys(cast<RankedTensorType>(moved.getType()).getShape());
  ys.back() = outLen;
  Value y = tfm::MatMulOp::create(b, loc, ty.clone(ys), moved, mat);
  ms.back() = outLen;
  if (r == 1)
    y = emitReshape(y, ms);
  return last ? y : emitTranspose(y, inv);
}

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

namespace {
/// The interpolation of one axis, as the ONNX reference implementation
/// (onnx/backend/test/case/node/resize.py) computes it.
struct ResizeAxis {
  std::string mode = "nearest", coord = "half_pixel", nearest;
  double cubicA = -0.75;
  bool excludeOutside = false;
  double roiStart = 0, roiEnd = 1;
};
} // namespace

static SmallVector<double> resizeCoeffs(const ResizeAxis &p, double ratio) {
  if (p.mode == "nearest") {
    if (ratio == 1)
      return {0, 1};
    const std::string &m = p.nearest;
    if (m == "round_prefer_ceil")
      return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (m == "floor")
      return {1, 0};
    if (m == "ceil")
      return {0, 1};
    return {double(ratio <= 0.5), double(ratio > 0.5)}; // round_prefer_floor
  }
  if (p.mode == "linear")
    return {1 - ratio, ratio};
  double a = p.cubicA, r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
  return {((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
          ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
          ((a + 2) * q - (a + 3)) * q * q + 1,
          ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a};
}

/// The [outLen, inLen] matrix of one axis; `inside[o]` is false where
/// tf_crop_and_resize extrapolates.
static SmallVector<double> resizeMatrix(const ResizeAxis &p, int64_t inLen,
                                        int64_t outLen, double scale,
                                        SmallVector<bool> &inside) {
  SmallVector<double> m(outLen * inLen, 0.0);
  inside.assign(outLen, true);
  double outWidth = scale * inLen;
  for (int64_t o = 0; o < outLen; ++o) {
    double x = o, xo;
    const std::string &c = p.coord;
    if (c == "align_corners")
      xo = outWidth == 1 ? 0 : x * (inLen - 1) / (outWidth - 1);
    else if (c == "asymmetric")
      xo = x / scale;
    else if (c == "tf_crop_and_resize") {
      xo = outWidth == 1
               ? (p.roiEnd - p.roiStart) * (inLen - 1) / 2
               : x * (p.roiEnd - p.roiStart) * (inLen - 1) / (outWidth - 1);
      xo += p.roiStart * (inLen - 1);
      if (xo < 0 || xo > inLen - 1) {
        inside[o] = false;
        continue;
      }
    } else if (c == "pytorch_half_pixel")
      xo = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    else if (c == "tf_half_pixel_for_nn")
      xo = (x + 0.5) / scale;
    else if (c == "half_pixel_symmetric") {
      double adj = outLen / outWidth, center = inLen / 2.0;
      xo = center * (1 - adj) + (x + 0.5) / scale - 0.5;
    } else // half_pixel
      xo = (x + 0.5) / scale - 0.5;
    double fl = std::floor(xo);
    double ratio = xo == fl ? 1 : xo - fl;
    SmallVector<double> coeffs = resizeCoeffs(p, ratio);
    int64_t n = coeffs.size(), pad = (n + 1) / 2, limit = inLen + 2 * pad;
    double xp = xo + pad;
    // The n positions of the edge-padded axis nearest to xp, the smaller
    // first on ties.
    SmallVector<int64_t> cand;
    int64_t lo = std::max<int64_t>(0, int64_t(std::floor(xp)) - n - 1);
    int64_t hi = std::min<int64_t>(limit, int64_t(std::floor(xp)) + n + 2);
    for (int64_t i = lo; i < hi; ++i)
      cand.push_back(i);
    std::stable_sort(cand.begin(), cand.end(), [&](int64_t a, int64_t b) {
      return std::abs(xp - a) < std::abs(xp - b);
    });
    cand.resize(std::min<int64_t>(n, cand.size()));
    std::sort(cand.begin(), cand.end());
    if (p.excludeOutside) {
      double sum = 0;
      for (int64_t k = 0; k < static_cast<int64_t>(cand.size()); ++k) {
        int64_t j = cand[k] - pad;
        if (j < 0 || j >= inLen)
          coeffs[k] = 0;
        sum += coeffs[k];
      }
      for (double &cf : coeffs)
        cf = sum == 0 ? 0 : cf / sum;
    }
    for (int64_t k = 0; k < static_cast<int64_t>(cand.size()); ++k) {
      int64_t j = std::clamp<int64_t>(cand[k] - pad, 0, inLen - 1);
      m[o * inLen + j] += coeffs[k];
    }
  }
  return m;
}

LogicalResult Importer::resizeOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt))
    return nodeError() << "expects a float tensor, got " << dtName(dt),
           failure();
  bool upsample = node->op_type() == "Upsample";
  auto str = [&](StringRef name, StringRef def) -> std::string {
    const auto *a = attr(name);
    return a ? a->s() : def.str();
  };
  ResizeAxis p;
  p.mode = str("mode", "nearest");
  if (p.mode != "nearest" && p.mode != "linear" && p.mode != "bilinear" &&
      p.mode != "cubic")
    return nodeError() << "mode '" << p.mode << "' is not supported",
           failure();
  if (p.mode == "bilinear")
    p.mode = "linear";
  if ((upsample || opset < 11) && p.mode == "cubic")
    return nodeError() << "mode 'cubic' needs opset 11", failure();
  // Upsample and Resize-10 scale from the origin and round down.
  bool legacy = upsample || opset < 11;
  p.coord = legacy ? "asymmetric"
                   : str("coordinate_transformation_mode", "half_pixel");
  p.nearest = legacy ? "floor" : str("nearest_mode", "round_prefer_floor");
  static const char *coords[] = {"half_pixel",        "half_pixel_symmetric",
                                 "pytorch_half_pixel", "align_corners",
                                 "asymmetric",         "tf_half_pixel_for_nn",
                                 "tf_crop_and_resize"};
  if (!llvm::is_contained(coords, p.coord))
    return nodeError() << "coordinate_transformation_mode '" << p.coord
                       << "' is not supported",
           failure();
  static const char *nearests[] = {"round_prefer_floor", "round_prefer_ceil",
                                   "floor", "ceil"};
  if (!llvm::is_contained(nearests, p.nearest))
    return nodeError() << "nearest_mode '" << p.nearest
                       << "' is not supported",
           failure();
  p.cubicA = attrFloat("cubic_coeff_a", -0.75);
  p.excludeOutside = attrInt("exclude_outside", 0) != 0;
  double extrapolation = attrFloat("extrapolation_value", 0.0);
  if (attrInt("antialias", 0) != 0)
    return nodeError() << "antialias is not supported", failure();
  // The resized axes (opset 18).
  SmallVector<int64_t> axes;
  if (auto a = attrInts("axes")) {
    for (int64_t ax : *a) {
      auto n = normAxis(ax, r);
      if (failed(n))
        return failure();
      if (llvm::is_contained(axes, *n))
        return nodeError() << "axis " << *n << " is repeated in axes",
               failure();
      axes.push_back(*n);
    }
  } else {
    for (int64_t d = 0; d < r; ++d)
      axes.push_back(d);
  }
  int64_t na = axes.size();
  // Scales (attribute of Upsample-7, input 1 of Upsample-9 and Resize-10,
  // input 2 since) or sizes (input 3).
  SmallVector<double> scales, roi;
  SmallVector<int64_t> sizes;
  unsigned scalesAt = legacy ? 1 : 2;
  if (upsample && opset < 9) {
    const auto *a = attr("scales");
    if (!a)
      return nodeError() << "expects the scales attribute", failure();
    scales.assign(a->floats().begin(), a->floats().end());
  } else if (in.size() > scalesAt && in[scalesAt] &&
             ceval::numElements(shapeOf(in[scalesAt])) != 0) {
    auto v = constFloats(in[scalesAt], scalesAt, "scales");
    if (failed(v))
      return failure();
    scales = *v;
  }
  if (!legacy && in.size() > 3 && in[3] &&
      ceval::numElements(shapeOf(in[3])) != 0) {
    if (!scales.empty())
      return nodeError() << "expects scales or sizes, not both", failure();
    auto v = constInts(in[3], "sizes");
    if (failed(v))
      return failure();
    sizes = *v;
  }
  if (scales.empty() && sizes.empty())
    return nodeError() << "expects scales or sizes", failure();
  if (!legacy && p.coord == "tf_crop_and_resize") {
    if (in.size() < 2 || !in[1])
      return nodeError() << "tf_crop_and_resize expects roi", failure();
    auto v = constFloats(in[1], 1, "roi");
    if (failed(v))
      return failure();
    roi = *v;
    if (static_cast<int64_t>(roi.size()) != 2 * na ||
        !llvm::all_of(roi, [](double v) { return std::isfinite(v); }))
      return nodeError() << "roi must have " << 2 * na << " finite values",
             failure();
  }
  if (!scales.empty() && static_cast<int64_t>(scales.size()) != na)
    return nodeError() << "scales must have " << na << " values", failure();
  if (!sizes.empty() && static_cast<int64_t>(sizes.size()) != na)
    return nodeError() << "sizes must have " << na << " values", failure();
  SmallVector<double> axisScale(na);
  SmallVector<int64_t> outShape(s);
  std::string policy = str("keep_aspect_ratio_policy", "stretch");
  if (!sizes.empty() && policy != "stretch") {
    if (policy != "not_larger" && policy != "not_smaller")
      return nodeError() << "keep_aspect_ratio_policy '" << policy
                         << "' is not supported",
             failure();
    double sc = policy == "not_larger" ? INFINITY : 0;
    for (int64_t k = 0; k < na; ++k) {
      double q = double(sizes[k]) / s[axes[k]];
      sc = policy == "not_larger" ? std::min(sc, q) : std::max(sc, q);
    }
    for (int64_t k = 0; k < na; ++k) {
      axisScale[k] = sc;
      sizes[k] = int64_t(std::floor(sc * s[axes[k]] + 0.5));
    }
  }
  for (int64_t k = 0; k < na; ++k) {
    int64_t inLen = s[axes[k]];
    if (!sizes.empty()) {
      if (sizes[k] < 1 || sizes[k] > kMaxFoldedElements)
        return nodeError() << "sizes must be positive and at most "
                           << kMaxFoldedElements,
               failure();
      outShape[axes[k]] = sizes[k];
      if (policy == "stretch")
        axisScale[k] = double(sizes[k]) / inLen;
    } else {
      if (!(scales[k] > 0) || !std::isfinite(scales[k]) ||
          scales[k] * inLen > double(kMaxFoldedElements))
        return nodeError() << "scales must be positive and the output not "
                              "larger than "
                           << kMaxFoldedElements << " elements",
               failure();
      axisScale[k] = scales[k];
      outShape[axes[k]] = int64_t(scales[k] * inLen);
      if (outShape[axes[k]] < 1)
        return nodeError() << "axis " << axes[k] << " of size " << inLen
                           << " scaled by " << scales[k] << " is empty",
               failure();
    }
    if (inLen < 1)
      return nodeError() << "cannot resize an empty axis", failure();
  }
  if (failed(checkFoldSize(ceval::numElements(outShape))))
    return failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  // One public map per axis, innermost first (as the reference does).
  SmallVector<SmallVector<bool>> inside(r);
  for (int64_t k = na - 1; k >= 0; --k) {
    int64_t d = axes[k];
    if (!roi.empty()) {
      p.roiStart = roi[k];
      p.roiEnd = roi[k + na];
    }
    if (failed(checkFoldSize(ceval::numElements({s[d], outShape[d]}))))
      return failure();
    SmallVector<double> m =
        resizeMatrix(p, s[d], outShape[d], axisScale[k], inside[d]);
    if (!(v = applyAlongAxis(v, d, outShape[d], m)))
      return failure();
  }
  // tf_crop_and_resize: extrapolation_value wherever an axis is outside.
  bool extrapolates = false;
  for (const auto &ins : inside)
    extrapolates |= llvm::is_contained(ins, false);
  if (extrapolates) {
    ceval::Tensor mask;
    mask.shape.assign(outShape.begin(), outShape.end());
    std::vector<int64_t> mk(ceval::numElements(outShape));
    for (size_t e = 0; e < mk.size(); ++e) {
      int64_t rem = e;
      bool ok = true;
      for (int64_t d = r - 1; d >= 0; --d) {
        if (!inside[d].empty() && !inside[d][rem % outShape[d]])
          ok = false;
        rem /= outShape[d];
      }
      mk[e] = ok;
    }
    mask.data = std::move(mk);
    Value mv = materialize(*literal(makeConst(TP::BOOL, std::move(mask))));
    Value ev = materialize(*scalarConst(dt, extrapolation));
    if (!mv || !ev)
      return failure();
    v = tfm::WhereOp::create(b, loc, v.getType(), mv, v, ev);
  }
  out[0].value = v;
  return success();
}

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

static int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

LogicalResult Importer::convTransposeOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects X and W", failure();
  const Entry &x = in[0], &w = in[1];
  llvm::ArrayRef<int64_t> s = shapeOf(x), ws = shapeOf(w);
  int32_t dt = dtypeOf(x);
  if (!isFloatDT(dt) || dtypeOf(w) != dt || s.size() < 3 ||
      ws.size() != s.size())
    return nodeError() << "expects float X [N, C, D1, ...] and W [C, M, K1, "
                          "...] of one type",
           failure();
  int64_t c = s[1], k = s.size() - 2, group = attrInt("group", 1);
  if (group < 1 || c % group != 0)
    return nodeError() << "group " << group << " does not divide the " << c
                       << " input channels",
           failure();
  if (ws[0] != c)
    return nodeError() << "W has " << ws[0] << " input channels, X " << c,
           failure();
  int64_t cg = c / group, mg = ws[1], m = mg * group;
  if (in.size() > 2 && in[2] && shapeOf(in[2]) != llvm::ArrayRef<int64_t>{m})
    return nodeError() << "B must have shape [" << m << "]", failure();
  SmallVector<int64_t> kernel(ws.drop_front(2));
  if (auto ks = attrInts("kernel_shape"); ks && *ks != kernel)
    return nodeError() << "kernel_shape disagrees with W", failure();
  auto list = [&](StringRef name, int64_t n,
                  int64_t def) -> FailureOr<SmallVector<int64_t>> {
    auto v = attrInts(name);
    if (!v)
      return SmallVector<int64_t>(n, def);
    if (static_cast<int64_t>(v->size()) != n)
      return nodeError() << name << " must have " << n << " values",
             failure();
    return *v;
  };
  auto strides = list("strides", k, 1), dil = list("dilations", k, 1),
       outPad = list("output_padding", k, 0), pads = list("pads", 2 * k, 0);
  if (failed(strides) || failed(dil) || failed(outPad) || failed(pads))
    return failure();
  std::optional<SmallVector<int64_t>> outShapeAttr = attrInts("output_shape");
  if (outShapeAttr && static_cast<int64_t>(outShapeAttr->size()) == k + 2)
    outShapeAttr = SmallVector<int64_t>(outShapeAttr->begin() + 2,
                                        outShapeAttr->end());
  if (outShapeAttr && static_cast<int64_t>(outShapeAttr->size()) != k)
    return nodeError() << "output_shape must have " << k << " values",
           failure();
  std::string autoPad = attr("auto_pad") ? attr("auto_pad")->s() : "NOTSET";
  if (autoPad != "NOTSET" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER" && autoPad != "VALID")
    return nodeError() << "auto_pad '" << autoPad << "' is not supported",
           failure();
  Value v = valueOf(x), wv = valueOf(w);
  if (!v || !wv)
    return failure();
  // Per spatial axis: the input of a stride-1 Conv with the flipped kernel,
  // an index map spreading X out (positions between strides and around the
  // edges are public zeros).
  for (int64_t d = 0; d < k; ++d) {
    int64_t len = s[d + 2], st = (*strides)[d], di = (*dil)[d],
            op = (*outPad)[d], kk = kernel[d];
    constexpr int64_t big = int64_t(1) << 30;
    int64_t pb0 = (*pads)[d], pe0 = (*pads)[d + k];
    if (st < 1 || di < 1 || kk < 1 || op < 0 || st > big || di > big ||
        op > big || std::abs(pb0) > big || std::abs(pe0) > big ||
        (outShapeAttr && std::abs((*outShapeAttr)[d]) > big))
      return nodeError() << "strides, dilations and the kernel must be "
                            "positive, output_padding not negative (all "
                            "below 2^30)",
             failure();
    int64_t full = st * (len - 1) + op + (kk - 1) * di + 1;
    int64_t outLen, pb;
    if (outShapeAttr || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      outLen = outShapeAttr ? (*outShapeAttr)[d] : len * st;
      int64_t total = full - outLen;
      pb = autoPad == "SAME_UPPER" ? floorDiv(total, 2)
                                   : total - floorDiv(total, 2);
    } else {
      pb = autoPad == "VALID" ? 0 : (*pads)[d];
      int64_t pe = autoPad == "VALID" ? 0 : (*pads)[d + k];
      outLen = full - pb - pe;
    }
    if (outLen < 1)
      return nodeError() << "spatial axis " << d << " has no output",
             failure();
    int64_t convLen = outLen + (kk - 1) * di;
    if (failed(checkFoldSize(convLen)))
      return failure();
    SmallVector<int64_t> idx;
    for (int64_t q = 0; q < convLen; ++q) {
      int64_t z = q + pb - (kk - 1) * di;
      idx.push_back(z >= 0 && z % st == 0 && z / st < len ? z / st : -1);
    }
    if (!(v = emitIndexAlong(v, d + 2, idx, 0.0)))
      return failure();
    // The kernel, flipped along this axis.
    SmallVector<int64_t> rev;
    for (int64_t t = kk - 1; t >= 0; --t)
      rev.push_back(t);
    if (kk > 1 && !(wv = emitIndexAlong(wv, d + 2, rev, 0.0)))
      return failure();
  }
  SmallVector<int64_t> perm = {1, 0};
  for (int64_t d = 0; d < k; ++d)
    perm.push_back(d + 2);
  wv = emitTranspose(wv, perm); // [M / group, C, K...]
  // The Conv lowering of the spread input (dilations only), per group: the
  // group's input channels with its slice of the kernel.
  onnx::NodeProto conv;
  conv.set_op_type("Conv");
  conv.set_name(nodeLabel);
  auto *da = conv.add_attribute();
  da->set_name("dilations");
  da->set_type(onnx::AttributeProto::INTS);
  for (int64_t d : *dil)
    da->add_ints(d);
  llvm::ArrayRef<int64_t> vs = cast<RankedTensorType>(v.getType()).getShape(),
                          wts = cast<RankedTensorType>(wv.getType()).getShape();
  SmallVector<Value> parts;
  onnx::NodeProto *self = node;
  node = &conv;
  for (int64_t g = 0; g < group; ++g) {
    Value vg = v, wg = wv;
    if (group > 1) {
      SmallVector<int64_t> offs(vs.size(), 0), strides(vs.size(), 1),
          sizes(vs), woffs(wts.size(), 0), wsizes(wts);
      offs[1] = woffs[1] = g * cg;
      sizes[1] = wsizes[1] = cg;
      vg = emitSlice(v, offs, strides, sizes);
      wg = emitSlice(wv, woffs, strides, wsizes);
    }
    SmallVector<Entry> convIns = {Entry{nullptr, vg}, Entry{nullptr, wg}};
    if (group == 1 && in.size() > 2 && in[2])
      convIns.push_back(in[2]);
    SmallVector<Entry> res(1);
    if (failed(convOp(convIns, res))) {
      node = self;
      return failure();
    }
    parts.push_back(res[0].value);
  }
  node = self;
  Value y = emitConcat(parts, 1);
  if (group > 1 && in.size() > 2 && in[2]) {
    Value bias = valueOf(in[2]);
    if (!bias)
      return failure();
    SmallVector<int64_t> bshape(s.size(), 1);
    bshape[1] = m;
    y = tfm::AddOp::create(b, loc, y.getType(), y, emitReshape(bias, bshape));
  }
  out[0].value = y;
  return success();
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

namespace {
/// An operand during the contraction: its value and one label per axis.
struct Term {
  Value v;
  std::string labels;
};
} // namespace

LogicalResult Importer::einsumOp(Ins in, Outs out) {
  const auto *eqAttr = attr("equation");
  if (!eqAttr)
    return nodeError() << "expects the equation attribute", failure();
  std::string eq;
  for (char ch : eqAttr->s())
    if (ch != ' ')
      eq.push_back(ch);
  int32_t dt = dtypeOf(in[0]);
  for (const Entry &e : in)
    if (!e || dtypeOf(e) != dt || !isFloatDT(dt))
      return nodeError() << "expects float operands of one type", failure();
  for (char ch : eq)
    if (std::isdigit(static_cast<unsigned char>(ch)))
      return nodeError() << "equation '" << eqAttr->s()
                         << "': labels must be letters",
             failure();
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  SmallVector<std::string> specs;
  for (size_t at = 0;;) {
    size_t comma = lhs.find(',', at);
    specs.push_back(lhs.substr(at, comma - at));
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  if (specs.size() != in.size())
    return nodeError() << "the equation has " << specs.size()
                       << " operands, the node " << in.size(),
           failure();
  // Ellipses become labels '0', '1', ... (broadcast dimensions must agree).
  int64_t ellRank = -1;
  std::map<char, int64_t> dims;
  SmallVector<Term> terms;
  auto bad = [&](const Twine &why) {
    return nodeError() << "equation '" << eqAttr->s() << "': " << why,
           failure();
  };
  for (size_t t = 0; t < specs.size(); ++t) {
    std::string sp = specs[t];
    llvm::ArrayRef<int64_t> sh = shapeOf(in[t]);
    size_t ell = sp.find("...");
    int64_t named = sp.size() - (ell == std::string::npos ? 0 : 3);
    if (ell != std::string::npos) {
      int64_t er = static_cast<int64_t>(sh.size()) - named;
      if (er < 0 || er > 10 || (ellRank >= 0 && er != ellRank))
        return bad("the ellipsis covers different ranks");
      ellRank = er;
      std::string e;
      for (int64_t k = 0; k < er; ++k)
        e.push_back('0' + k);
      sp = sp.substr(0, ell) + e + sp.substr(ell + 3);
    }
    if (sp.size() != sh.size())
      return bad("operand " + Twine(t) + " has rank " + Twine(sh.size()));
    for (size_t k = 0; k < sp.size(); ++k) {
      char l = sp[k];
      if (!std::isalnum(static_cast<unsigned char>(l)))
        return bad("bad label");
      auto [it, fresh] = dims.insert({l, sh[k]});
      if (!fresh && it->second != sh[k])
        return bad(Twine("label '") + Twine(l) +
                   "' has different sizes (broadcasting is not supported)");
    }
    Value v = valueOf(in[t]);
    if (!v)
      return failure();
    terms.push_back({v, sp});
  }
  std::string outSpec;
  if (arrow != std::string::npos) {
    outSpec = eq.substr(arrow + 2);
    size_t ell = outSpec.find("...");
    if (ell != std::string::npos) {
      std::string e;
      for (int64_t k = 0; k < std::max<int64_t>(ellRank, 0); ++k)
        e.push_back('0' + k);
      outSpec = outSpec.substr(0, ell) + e + outSpec.substr(ell + 3);
    }
  } else {
    // Implicit: the ellipsis, then the labels seen once, alphabetically.
    std::map<char, int> count;
    for (const Term &t : terms)
      for (char l : t.labels)
        ++count[l];
    for (auto [l, n] : count)
      if (std::isdigit(static_cast<unsigned char>(l)))
        outSpec.push_back(l);
    for (auto [l, n] : count)
      if (n == 1 && std::isalpha(static_cast<unsigned char>(l)))
        outSpec.push_back(l);
  }
  for (char l : outSpec)
    if (!dims.count(l) || std::count(outSpec.begin(), outSpec.end(), l) != 1)
      return bad(Twine("output label '") + Twine(l) +
                 "' is in no operand or repeated");
  auto shapeOfLabels = [&](StringRef ls) {
    SmallVector<int64_t> sh;
    for (char l : ls)
      sh.push_back(dims[l]);
    return sh;
  };
  Type et = mlirElemType(ctx, dt);
  // Diagonals of repeated labels: a constant gather on the flat operand.
  for (Term &t : terms) {
    std::string uniq;
    for (char l : t.labels)
      if (uniq.find(l) == std::string::npos)
        uniq.push_back(l);
    if (uniq.size() == t.labels.size())
      continue;
    SmallVector<int64_t> sh = shapeOfLabels(t.labels), ush = shapeOfLabels(uniq);
    SmallVector<int64_t> st = ceval::rowMajorStrides(sh);
    int64_t n = ceval::numElements(ush);
    if (failed(checkFoldSize(n)))
      return failure();
    SmallVector<int64_t> idx;
    for (int64_t e = 0; e < n; ++e) {
      int64_t rem = e, src = 0;
      SmallVector<int64_t> pos(uniq.size());
      for (int64_t k = uniq.size() - 1; k >= 0; --k) {
        pos[k] = rem % ush[k];
        rem /= ush[k];
      }
      for (size_t k = 0; k < t.labels.size(); ++k)
        src += pos[uniq.find(t.labels[k])] * st[k];
      idx.push_back(src);
    }
    Value flat = emitReshape(t.v, {ceval::numElements(sh)});
    Value g = emitIndexAlong(flat, 0, idx, 0.0);
    if (!g)
      return failure();
    t.v = emitReshape(g, ush);
    t.labels = uniq;
  }
  // Labels needed after term `t`: the output's and later terms'.
  auto neededAfter = [&](size_t t) {
    std::string need = outSpec;
    for (size_t u = t + 1; u < terms.size(); ++u)
      need += terms[u].labels;
    return need;
  };
  auto sumOut = [&](Term &t, StringRef keep) {
    SmallVector<int64_t> axes;
    std::string rest;
    for (size_t k = 0; k < t.labels.size(); ++k) {
      if (keep.contains(t.labels[k]))
        rest.push_back(t.labels[k]);
      else
        axes.push_back(k);
    }
    if (axes.empty())
      return;
    auto ty = RankedTensorType::get(shapeOfLabels(rest), et);
    t.v = tfm::ReduceSumOp::create(b, loc, ty, t.v,
                                   b.getDenseI64ArrayAttr(axes),
                                   b.getBoolAttr(false));
    t.labels = rest;
  };
  auto permuteTo = [&](Term &t, StringRef order) {
    SmallVector<int64_t> perm;
    bool id = true;
    for (char l : order) {
      perm.push_back(t.labels.find(l));
      id &= perm.back() == static_cast<int64_t>(perm.size()) - 1;
    }
    if (!id)
      t.v = emitTranspose(t.v, perm);
    t.labels = order.str();
  };
  Term acc = terms[0];
  sumOut(acc, neededAfter(0));
  for (size_t u = 1; u < terms.size(); ++u) {
    Term rhs = terms[u];
    std::string keep = neededAfter(u);
    // Labels of one side only that nothing later needs are summed first.
    sumOut(acc, keep + rhs.labels);
    sumOut(rhs, keep + acc.labels);
    std::string batch, contract, left, right;
    for (char l : acc.labels) {
      bool inR = rhs.labels.find(l) != std::string::npos;
      bool kept = keep.find(l) != std::string::npos;
      (inR ? (kept ? batch : contract) : left).push_back(l);
    }
    for (char l : rhs.labels)
      if (acc.labels.find(l) == std::string::npos)
        right.push_back(l);
    auto prod = [&](StringRef ls) {
      int64_t p = 1;
      for (char l : ls)
        p *= dims[l];
      return p;
    };
    int64_t nb = prod(batch), nm = prod(left), nk = prod(contract),
            nn = prod(right);
    permuteTo(acc, batch + left + contract);
    permuteTo(rhs, batch + contract + right);
    Value a = emitReshape(acc.v, {nb, nm, nk});
    Value bv = emitReshape(rhs.v, {nb, nk, nn});
    Value y = tfm::MatMulOp::create(
        b, loc, RankedTensorType::get({nb, nm, nn}, et), a, bv);
    acc.labels = batch + left + right;
    acc.v = emitReshape(y, shapeOfLabels(acc.labels));
  }
  sumOut(acc, outSpec);
  permuteTo(acc, outSpec);
  out[0].value = acc.v;
  return success();
}

} // namespace umbra::onnx_import

//===----------------------------------------------------------------------===//
// DFT, STFT, windows, MelWeightMatrix
//===----------------------------------------------------------------------===//

namespace umbra::onnx_import {

/// The public [k * 2, len * comps] row-major matrix of a DFT of length n
/// (input positions past n dropped, missing ones zero) with `bins` outputs,
/// inputs of `comps` components (1 real, 2 complex), each input position
/// scaled by window[i] (if given).
static SmallVector<double> dftMatrix(int64_t len, int64_t comps, int64_t n,
                                     int64_t bins, bool inverse,
                                     llvm::ArrayRef<double> window) {
  SmallVector<double> m(bins * 2 * len * comps, 0.0);
  double sign = inverse ? 1 : -1, scale = inverse ? 1.0 / n : 1.0;
  int64_t cols = len * comps;
  for (int64_t k = 0; k < bins; ++k)
    for (int64_t i = 0; i < std::min(len, n); ++i) {
      // e^(sign 2 pi i k i / n), with k i reduced modulo n for accuracy.
      double th = 2 * M_PI * double((k * i) % n) / n;
      double c = std::cos(th), s = sign * std::sin(th);
      // Exact zeros at multiples of pi / 2.
      c = (std::abs(c) < 1e-12 ? 0.0 : c) * scale;
      s = (std::abs(s) < 1e-12 ? 0.0 : s) * scale;
      double w = window.empty() ? 1.0 : window[i];
      // re += x_re c - x_im s; im += x_re s + x_im c.
      m[(2 * k) * cols + i * comps] = w * c;
      m[(2 * k + 1) * cols + i * comps] = w * s;
      if (comps == 2) {
        m[(2 * k) * cols + i * comps + 1] = -w * s;
        m[(2 * k + 1) * cols + i * comps + 1] = w * c;
      }
    }
  return m;
}

/// `v` [..., len, comps] with its last two axes mapped by the DFT matrix to
/// [..., bins, 2].
Value Importer::emitDft(Value v, int64_t n, int64_t bins, bool inverse,
                        llvm::ArrayRef<double> window) {
  auto ty = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> s(ty.getShape());
  int64_t r = s.size(), len = s[r - 2], comps = s[r - 1];
  SmallVector<int64_t> flat(s.begin(), s.end() - 1);
  flat.back() = len * comps;
  Value y = applyAlongAxis(emitReshape(v, flat), r - 2, bins * 2,
                           dftMatrix(len, comps, n, bins, inverse, window));
  if (!y)
    return {};
  s[r - 2] = bins;
  s[r - 1] = 2;
  return emitReshape(y, s);
}

LogicalResult Importer::dftOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  int64_t r = s.size();
  if (!isFloatDT(dtypeOf(x)) || r < 3 || (s.back() != 1 && s.back() != 2))
    return nodeError() << "expects a float [batch, ..., 1 or 2] signal",
           failure();
  int64_t axisV = attrInt("axis", 1);
  if (opset >= 20) {
    axisV = -2;
    if (in.size() > 2 && in[2]) {
      auto a = constInts(in[2], "axis");
      if (failed(a))
        return failure();
      if (a->size() != 1)
        return nodeError() << "axis must be a scalar", failure();
      axisV = (*a)[0];
    }
  }
  // The signal axes are 1 .. r - 2.
  if (axisV < 0)
    axisV += r;
  if (axisV < 1 || axisV > r - 2)
    return nodeError() << "axis " << axisV << " is not a signal axis",
           failure();
  int64_t len = s[axisV], n = len;
  if (in.size() > 1 && in[1]) {
    auto l = constInts(in[1], "dft_length");
    if (failed(l))
      return failure();
    if (l->size() != 1 || (*l)[0] < 1)
      return nodeError() << "dft_length must be a positive scalar",
             failure();
    n = (*l)[0];
  }
  bool inverse = attrInt("inverse", 0) != 0,
       onesided = attrInt("onesided", 0) != 0;
  if (inverse && onesided)
    return nodeError() << "an inverse one-sided DFT is not supported",
           failure();
  int64_t bins = onesided ? n / 2 + 1 : n;
  if (n > kMaxFoldedElements ||
      failed(checkFoldSize(ceval::numElements({2, bins, len, 2}))))
    return nodeError() << "dft_length " << n << " is too large", failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  // Move the axis next to the components, map, move it back.
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < r - 1; ++d)
    if (d != axisV)
      perm.push_back(d);
  perm.push_back(axisV);
  perm.push_back(r - 1);
  SmallVector<int64_t> inv(r);
  for (int64_t d = 0; d < r; ++d)
    inv[perm[d]] = d;
  bool moved = axisV != r - 2;
  Value y = emitDft(moved ? emitTranspose(v, perm) : v, n, bins, inverse, {});
  if (!y)
    return failure();
  out[0].value = moved ? emitTranspose(y, inv) : y;
  return success();
}

LogicalResult Importer::stftOp(Ins in, Outs out) {
  const Entry &x = in[0];
  llvm::ArrayRef<int64_t> s = shapeOf(x);
  if (!isFloatDT(dtypeOf(x)) || s.size() != 3 || (s[2] != 1 && s[2] != 2))
    return nodeError() << "expects a float [batch, length, 1 or 2] signal",
           failure();
  if (in.size() < 2 || !in[1])
    return nodeError() << "expects frame_step", failure();
  auto step = constInts(in[1], "frame_step");
  if (failed(step))
    return failure();
  bool hasWindow = in.size() > 2 && in[2];
  int64_t frameLen = hasWindow ? ceval::numElements(shapeOf(in[2])) : -1;
  if (in.size() > 3 && in[3]) {
    auto fl = constInts(in[3], "frame_length");
    if (failed(fl))
      return failure();
    if (fl->size() != 1 || (hasWindow && (*fl)[0] != frameLen))
      return nodeError() << "frame_length must be a scalar equal to the "
                            "window's length",
             failure();
    frameLen = (*fl)[0];
  }
  if (frameLen < 1 || step->size() != 1 || (*step)[0] < 1 ||
      frameLen > s[1])
    return nodeError() << "expects a positive frame_step and a frame "
                          "length (window or frame_length) of at most the "
                          "signal length",
           failure();
  if (hasWindow && (shapeOf(in[2]).size() != 1 || !isFloatDT(dtypeOf(in[2]))))
    return nodeError() << "window must be a float vector", failure();
  int64_t st = (*step)[0], frames = 1 + (s[1] - frameLen) / st;
  bool onesided = attrInt("onesided", 1) != 0;
  int64_t bins = onesided ? frameLen / 2 + 1 : frameLen;
  if (failed(checkFoldSize(frames * frameLen)) ||
      failed(checkFoldSize(2 * bins * frameLen * 2)))
    return failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  // The frames, by constant indices: [batch, frames * frameLen, comps].
  SmallVector<int64_t> idx;
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t i = 0; i < frameLen; ++i)
      idx.push_back(f * st + i);
  if (!(v = emitIndexAlong(v, 1, idx, 0.0)))
    return failure();
  v = emitReshape(v, {s[0], frames, frameLen, s[2]});
  // A public window is part of the map; a model weight a product. A window
  // computed from the client's inputs is refused: encoded at f fractional
  // bits, its rounding times the signal (2^-(f+1) |x| per term, 4e-3 on
  // the node test's signal of ~120) is far above the error of the map.
  SmallVector<double> window;
  if (hasWindow) {
    const Entry &w = in[2];
    if (!w.cst)
      return nodeError() << "the window input '" << node->input(2)
                         << "' must be a constant or a model weight (a "
                            "window computed from the client's inputs "
                            "would be rounded to f fractional bits before "
                            "multiplying the signal)",
             failure();
    if (!w.cst->isOwner()) {
      auto wv = constFloats(w, 2, "window");
      if (failed(wv))
        return failure();
      window = *wv;
    } else {
      Value wv = valueOf(w);
      if (!wv)
        return failure();
      v = tfm::MulOp::create(b, loc, v.getType(), v,
                             emitReshape(wv, {1, 1, frameLen, 1}));
    }
  }
  Value y = emitDft(v, frameLen, bins, /*inverse=*/false, window);
  if (!y)
    return failure();
  out[0].value = y;
  return success();
}

LogicalResult Importer::windowOp(Ins in, Outs out) {
  auto size = constInts(in[0], "size");
  if (failed(size))
    return failure();
  if (size->size() != 1 || (*size)[0] < 1)
    return nodeError() << "size must be a positive scalar", failure();
  int64_t n = (*size)[0];
  int32_t dt = attrInt("output_datatype", TP::FLOAT);
  if (!isFloatDT(dt))
    return nodeError() << "output_datatype " << dtName(dt)
                       << " is not supported (only float types)",
           failure();
  if (failed(checkFoldSize(n)))
    return failure();
  bool periodic = attrInt("periodic", 1) != 0;
  double n1 = periodic ? n : n - 1;
  StringRef op = node->op_type();
  ceval::Tensor t = ceval::Tensor::zeros({n}, /*isFloat=*/true);
  auto &d = std::get<std::vector<double>>(t.data);
  for (int64_t k = 0; k < n; ++k) {
    double th = n1 == 0 ? 0 : 2 * M_PI * k / n1;
    if (op == "HannWindow")
      d[k] = 0.5 - 0.5 * std::cos(th);
    else if (op == "HammingWindow")
      d[k] = 25.0 / 46 - (1 - 25.0 / 46) * std::cos(th);
    else
      d[k] = 0.42 - 0.5 * std::cos(th) + 0.08 * std::cos(2 * th);
  }
  out[0].cst = makeConst(dt, std::move(t));
  return success();
}

LogicalResult Importer::melWeightMatrixOp(Ins in, Outs out) {
  if (in.size() != 5)
    return nodeError() << "expects num_mel_bins, dft_length, sample_rate, "
                          "lower_edge_hertz and upper_edge_hertz",
           failure();
  auto bins = constInts(in[0], "num_mel_bins"),
       dftLen = constInts(in[1], "dft_length"),
       rate = constInts(in[2], "sample_rate");
  if (failed(bins) || failed(dftLen) || failed(rate))
    return failure();
  auto lo = constFloats(in[3], 3, "lower_edge_hertz");
  if (failed(lo))
    return failure();
  auto hi = constFloats(in[4], 4, "upper_edge_hertz");
  if (failed(hi))
    return failure();
  if (bins->size() != 1 || dftLen->size() != 1 || rate->size() != 1 ||
      lo->size() != 1 || hi->size() != 1 || (*bins)[0] < 1 ||
      (*dftLen)[0] < 1 || (*rate)[0] < 1)
    return nodeError() << "expects positive scalars", failure();
  int32_t dt = attrInt("output_datatype", TP::FLOAT);
  if (!isFloatDT(dt))
    return nodeError() << "output_datatype " << dtName(dt)
                       << " is not supported (only float types)",
           failure();
  if (!std::isfinite((*lo)[0]) || !std::isfinite((*hi)[0]) ||
      (*lo)[0] < 0 || (*hi)[0] <= (*lo)[0])
    return nodeError() << "expects 0 <= lower_edge_hertz < upper_edge_hertz",
           failure();
  int64_t nm = (*bins)[0], nd = (*dftLen)[0], spec = nd / 2 + 1;
  if (failed(checkFoldSize(nm * spec)))
    return failure();
  // As the ONNX reference computes it: mel points, back to Hz, to bins.
  double loMel = 2595 * std::log10(1 + (*lo)[0] / 700);
  double hiMel = 2595 * std::log10(1 + (*hi)[0] / 700);
  double stepMel = (hiMel - loMel) / (nm + 2);
  SmallVector<int64_t> f;
  for (int64_t k = 0; k < nm + 2; ++k) {
    double hz = 700 * (std::pow(10, (k * stepMel + loMel) / 2595) - 1);
    double bin = std::floor((nd + 1) * hz / (*rate)[0]);
    // Bins past the spectrogram (the reference would index out of range).
    if (!(bin >= 0 && bin <= double(spec - (k == nm + 1 ? 0 : 1))))
      return nodeError() << "the mel bands reach past the " << spec
                         << " spectrogram bins (upper_edge_hertz above "
                            "sample_rate / 2?)",
             failure();
    f.push_back(int64_t(bin));
  }
  ceval::Tensor t = ceval::Tensor::zeros({spec, nm}, /*isFloat=*/true);
  auto &d = std::get<std::vector<double>>(t.data);
  // Triangles over the bins (all in [0, spec) by the check above).
  for (int64_t i = 0; i < nm; ++i) {
    int64_t l = f[i], c = f[i + 1], h = f[i + 2];
    if (c == l)
      d[c * nm + i] = 1;
    else
      for (int64_t j = l; j <= c; ++j)
        d[j * nm + i] = double(j - l) / double(c - l);
    for (int64_t j = c; j < h; ++j)
      d[j * nm + i] = double(h - j) / double(h - c);
  }
  out[0].cst = makeConst(dt, std::move(t));
  return success();
}

} // namespace umbra::onnx_import
