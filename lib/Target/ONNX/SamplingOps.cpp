//===- SamplingOps.cpp - ONNX sampling at computed coordinates to tfm -----===//
//
// GridSample reads the image at coordinates that are data (the client's
// grid, or computed): under MPC they are secret. Each coordinate is
// unnormalised by a public affine map, padded (border: clamped;
// reflection: a triangle wave, exact for every coordinate), split into
// i = floor(x) (`tfm.floor`, exact) and t = x - i, and the neighbouring
// pixels are selected by `tfm.one_hot` rows of the secret integer
// positions (an id outside [0, n) gets a zero row: zeros padding). The
// interpolation weights are polynomials in t with public coefficients. The
// rows of the two axes, weighted and summed over the taps, make one
// interpolation row per axis; the output is rowY^T X rowX per image.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

namespace {
/// The interpolation of GridSample: taps relative to floor(x) and their
/// weights as cubic polynomials in t = x - floor(x) (coefficients of 1, t,
/// t^2, t^3).
struct Kernel {
  int64_t firstTap;
  SmallVector<std::array<double, 4>> weights;
};
} // namespace

static Kernel kernelOf(StringRef mode) {
  if (mode == "nearest")
    return {0, {{1, 0, 0, 0}}};
  if (mode == "linear" || mode == "bilinear")
    return {0, {{1, -1, 0, 0}, {0, 1, 0, 0}}};
  // Cubic convolution with A = -0.75 (the ONNX reference's coefficients,
  // expanded in t): taps floor(x) - 1 .. floor(x) + 2.
  const double a = -0.75;
  return {-1,
          {{0, a, -2 * a, a},
           {1, 0, -(a + 3), a + 2},
           {0, -a, 2 * a + 3, -(a + 2)},
           {0, 0, a, -a}}};
}

/// x reflected into [lo, hi] as many times as needed (the ONNX reference's
/// reflection): the triangle wave lo + rng - |((x - lo) mod 2 rng) - rng|,
/// the modulus by the exact floor. The wave is continuous, so a quotient
/// off by one where (x - lo) / (2 rng) is within rounding of an integer
/// changes nothing beyond that rounding.
Value Importer::reflectInto(Value x, double lo, double hi) {
  double rng = hi - lo;
  auto ty = x.getType();
  if (rng <= 0) // one pixel with aligned corners: its position
    return emitBinary("min", emitBinary("max", x, emitScalar(x, lo)),
                      emitScalar(x, lo));
  Value u = emitBinary("sub", x, emitScalar(x, lo));
  Value q = tfm::FloorOp::create(
      b, loc, ty, emitBinary("mul", u, emitScalar(x, 1.0 / (2 * rng))));
  Value y = emitBinary("sub", u, emitBinary("mul", q, emitScalar(x, 2 * rng)));
  Value d = tfm::AbsOp::create(b, loc, ty,
                               emitBinary("sub", y, emitScalar(x, rng)));
  return emitBinary("sub", emitScalar(x, lo + rng), d);
}

/// The interpolation rows [N, Ho, Wo, len] of the normalised coordinates
/// `g` [N, Ho, Wo, 1] along an image axis of length `len`.
Value Importer::sampleRows(Value g, int64_t len, StringRef mode,
                           StringRef padding, bool alignCorners) {
  // Unnormalise: align_corners maps -1, 1 to the centres of the corner
  // pixels, otherwise to their outer edges.
  double slope = alignCorners ? (len - 1) / 2.0 : len / 2.0;
  Value x = emitBinary("add", emitBinary("mul", g, emitScalar(g, slope)),
                       emitScalar(g, (len - 1) / 2.0));
  if (mode == "nearest")
    x = tfm::RoundOp::create(b, loc, x.getType(), x);
  return tapRows(x, len, mode, padding, alignCorners ? 0.0 : -0.5,
                 alignCorners ? len - 1.0 : len - 0.5);
}

Value Importer::tapRows(Value x, int64_t len, StringRef mode,
                        StringRef padding, double lo, double hi) {
  auto gt = cast<RankedTensorType>(x.getType());
  auto ty = gt;
  auto scalar = [&](double v) { return emitScalar(x, v); };
  auto clamp = [&](Value v, double lo, double hi) {
    return emitBinary("min", emitBinary("max", v, scalar(lo)), scalar(hi));
  };
  // The coordinate's padding (applied only outside [lo, hi], as ONNX).
  if (padding == "border") {
    Type bt = gt.clone(b.getI1Type());
    Value below = tfm::LessOp::create(b, loc, bt, x, scalar(lo));
    Value above = tfm::LessOp::create(b, loc, bt, scalar(hi), x);
    x = tfm::WhereOp::create(b, loc, ty, below, scalar(0.0), x);
    x = tfm::WhereOp::create(b, loc, ty, above, scalar(len - 1.0), x);
  } else if (padding == "reflection") {
    x = reflectInto(x, lo, hi);
  }
  Kernel k = kernelOf(mode);
  Value i0 = x, t;
  if (mode != "nearest") {
    i0 = tfm::FloorOp::create(b, loc, ty, x);
    t = emitBinary("sub", x, i0);
  }
  Value t2, t3;
  for (const auto &w : k.weights) {
    if (w[2] != 0 || w[3] != 0)
      t2 = t2 ? t2 : emitBinary("mul", t, t);
    if (w[3] != 0)
      t3 = t3 ? t3 : emitBinary("mul", t2, t);
  }
  SmallVector<int64_t> idShape(gt.getShape().drop_back());
  SmallVector<int64_t> rowShape(idShape);
  rowShape.push_back(len);
  Value rows;
  for (auto [n, w] : llvm::enumerate(k.weights)) {
    // The tap's position, padded as ONNX reads a pixel: zeros: a zero row
    // outside [0, len); border: clamped; reflection: reflected.
    Value j = i0;
    int64_t off = k.firstTap + static_cast<int64_t>(n);
    if (off != 0)
      j = emitBinary("add", j, scalar(static_cast<double>(off)));
    if (padding == "border" || (padding == "reflection" && len == 1))
      j = clamp(j, 0.0, len - 1.0);
    else if (padding == "reflection")
      j = reflectInto(j, lo, hi);
    Value ids = tfm::CastOp::create(b, loc, tensorType(gt.getShape(), TP::INT64), j);
    ids = emitReshape(ids, idShape);
    Value hot = tfm::OneHotOp::create(b, loc, tensorType(rowShape, TP::FLOAT),
                                      ids, b.getI64IntegerAttr(len),
                                      IntegerAttr(), UnitAttr());
    bool one = w[0] == 1 && w[1] == 0 && w[2] == 0 && w[3] == 0;
    Value weight;
    Value powers[4] = {Value(), t, t2, t3};
    for (int p = 0; p < 4 && !one; ++p) {
      if (w[p] == 0)
        continue;
      Value term = p == 0 ? scalar(w[p])
                          : (w[p] == 1 ? powers[p]
                                       : emitBinary("mul", powers[p],
                                                    scalar(w[p])));
      weight = weight ? emitBinary("add", weight, term) : term;
    }
    Value tap = one ? hot : emitBinary("mul", hot, weight);
    rows = rows ? emitBinary("add", rows, tap) : tap;
  }
  return rows;
}

/// GridSample (2-D): Y[n, c, ho, wo] = sum_h,w rowY[n, ho, wo, h]
/// X[n, c, h, w] rowX[n, ho, wo, w], the rows of sampleRows.
LogicalResult Importer::gridSampleOp(Ins in, Outs out) {
  if (in.size() != 2 || !in[0] || !in[1])
    return nodeError() << "expects X and grid", failure();
  const Entry &X = in[0], &G = in[1];
  llvm::ArrayRef<int64_t> xs = shapeOf(X), gs = shapeOf(G);
  if (xs.size() != 4 || gs.size() != 4 || gs[3] != 2 || gs[0] != xs[0])
    return nodeError() << "supports 2-D sampling: X [N, C, H, W] and grid "
                          "[N, H_out, W_out, 2]",
           failure();
  if (!isFloatDT(dtypeOf(X)) || !isFloatDT(dtypeOf(G)))
    return nodeError() << "expects float X and grid", failure();
  auto str = [&](StringRef name, StringRef def) -> std::string {
    const auto *a = attr(name);
    return a ? a->s() : def.str();
  };
  std::string mode = str("mode", "bilinear");
  std::string padding = str("padding_mode", "zeros");
  bool align = attrInt("align_corners", 0) != 0;
  if (mode != "bilinear" && mode != "linear" && mode != "nearest" &&
      mode != "bicubic" && mode != "cubic")
    return nodeError() << "unknown mode '" << mode << "'", failure();
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return nodeError() << "unknown padding_mode '" << padding << "'",
           failure();
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], Ho = gs[1], Wo = gs[2];
  Value xv = valueOf(X), gv = valueOf(G);
  if (!xv || !gv)
    return failure();
  if (dtypeOf(X) != TP::FLOAT)
    xv = tfm::CastOp::create(b, loc, tensorType(xs, TP::FLOAT), xv);
  if (dtypeOf(G) != TP::FLOAT)
    gv = tfm::CastOp::create(b, loc, tensorType(gs, TP::FLOAT), gv);
  // grid[..., 0] is the x (width) coordinate, grid[..., 1] the y.
  Value gx = emitSlice(gv, {0, 0, 0, 0}, {1, 1, 1, 1}, {N, Ho, Wo, 1});
  Value gy = emitSlice(gv, {0, 0, 0, 1}, {1, 1, 1, 1}, {N, Ho, Wo, 1});
  Value rx = sampleRows(gx, W, mode, padding, align);
  Value ry = sampleRows(gy, H, mode, padding, align);
  Value p = emitBinary("mul", emitReshape(ry, {N, 1, Ho, Wo, H, 1}),
                       emitReshape(xv, {N, C, 1, 1, H, W}));
  Value cols = tfm::ReduceSumOp::create(
      b, loc, tensorType({N, C, Ho, Wo, W}, TP::FLOAT), p,
      b.getDenseI64ArrayAttr({4}), b.getBoolAttr(false));
  Value q = emitBinary("mul", cols, emitReshape(rx, {N, 1, Ho, Wo, W}));
  Value y = tfm::ReduceSumOp::create(
      b, loc, tensorType({N, C, Ho, Wo}, TP::FLOAT), q,
      b.getDenseI64ArrayAttr({4}), b.getBoolAttr(false));
  if (dtypeOf(X) != TP::FLOAT)
    y = tfm::CastOp::create(b, loc, tensorType({N, C, Ho, Wo}, dtypeOf(X)), y);
  out[0].value = y;
  return success();
}

/// RoiAlign (avg): per roi r the bins' interpolation rows of both axes,
/// each the mean over the bin's sampling_ratio bilinear samples at secret
/// coordinates (as ONNX's reference: a sample outside [-1, len] along an
/// axis is zero, one inside is clamped to [0, len - 1]); the roi's image
/// is the one-hot row of its batch index times X; then
/// Y[r, c, ph, pw] = sum_h,w rowY[r, ph, h] X_r[c, h, w] rowX[r, pw, w].
LogicalResult Importer::roiAlignOp(Ins in, Outs out) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return nodeError() << "expects X, rois and batch_indices", failure();
  const Entry &X = in[0], &Rois = in[1], &Bi = in[2];
  llvm::ArrayRef<int64_t> xs = shapeOf(X), rs = shapeOf(Rois),
                          bs = shapeOf(Bi);
  if (xs.size() != 4 || rs.size() != 2 || rs[1] != 4 || bs.size() != 1 ||
      bs[0] != rs[0])
    return nodeError() << "expects X [N, C, H, W], rois [R, 4] and "
                          "batch_indices [R]",
           failure();
  if (!isFloatDT(dtypeOf(X)) || !isFloatDT(dtypeOf(Rois)) ||
      !isIntDT(dtypeOf(Bi)))
    return nodeError() << "expects float X and rois, integer batch_indices",
           failure();
  const auto *m = attr("mode");
  if (m && m->s() != "avg")
    return nodeError() << "mode '" << m->s()
                       << "' is not supported (avg only)",
           failure();
  int64_t sr = attrInt("sampling_ratio", 0);
  if (sr <= 0)
    return nodeError() << "sampling_ratio " << sr
                       << ": the adaptive sample count ceil(roi size / "
                          "output size) depends on the secret roi",
           failure();
  int64_t outH = attrInt("output_height", 1), outW = attrInt("output_width", 1);
  double scale = attrFloat("spatial_scale", 1.0f);
  // Before opset 16 the only mode is output_half_pixel.
  const auto *ctm = attr("coordinate_transformation_mode");
  bool halfPixel = opsets.lookup("") >= 16 &&
                   (!ctm || ctm->s() == "half_pixel");
  if (ctm && ctm->s() != "half_pixel" && ctm->s() != "output_half_pixel")
    return nodeError() << "unknown coordinate_transformation_mode '"
                       << ctm->s() << "'",
           failure();
  int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], R = rs[0];
  Value xv = valueOf(X), rv = valueOf(Rois), bv = valueOf(Bi);
  if (!xv || !rv || !bv)
    return failure();
  if (dtypeOf(X) != TP::FLOAT)
    xv = tfm::CastOp::create(b, loc, tensorType(xs, TP::FLOAT), xv);
  if (dtypeOf(Rois) != TP::FLOAT)
    rv = tfm::CastOp::create(b, loc, tensorType(rs, TP::FLOAT), rv);
  double offset = halfPixel ? 0.5 : 0.0;
  // The bins' rows along one axis: the roi's start and end are columns
  // k0 and k0 + 2 of rois.
  auto axisRows = [&](int64_t k0, int64_t outLen, int64_t len) -> Value {
    Value start = emitSlice(rv, {0, k0}, {1, 1}, {R, 1});
    Value end = emitSlice(rv, {0, k0 + 2}, {1, 1}, {R, 1});
    start = emitBinary("sub", emitBinary("mul", start, emitScalar(rv, scale)),
                       emitScalar(rv, offset));
    end = emitBinary("sub", emitBinary("mul", end, emitScalar(rv, scale)),
                     emitScalar(rv, offset));
    Value size = emitBinary("sub", end, start);
    if (!halfPixel)
      size = emitBinary("max", size, emitScalar(rv, 1.0));
    // Sample j of bin p sits at start + size (p + (j + 0.5) / sr) / outLen
    // (one product by a public constant: one rounding).
    ceval::Tensor pos = ceval::Tensor::zeros({1, outLen * sr}, true);
    auto &pd = std::get<std::vector<double>>(pos.data);
    for (int64_t p = 0; p < outLen; ++p)
      for (int64_t j = 0; j < sr; ++j)
        pd[p * sr + j] = (p + (j + 0.5) / sr) / outLen;
    Value posv = materialize(*literal(makeConst(TP::FLOAT, std::move(pos))));
    Value y = emitBinary("add", start, emitBinary("mul", size, posv));
    y = emitReshape(y, {R, outLen * sr, 1});
    auto bt = tensorType({R, outLen * sr, 1}, TP::BOOL);
    auto ft = tensorType({R, outLen * sr, 1}, TP::FLOAT);
    Value below = tfm::LessOp::create(b, loc, bt, y, emitScalar(y, -1.0));
    Value above = tfm::LessOp::create(b, loc, bt,
                                      emitScalar(y, static_cast<double>(len)), y);
    Value valid = emitBinary(
        "sub",
        emitBinary("sub", emitScalar(y, 1.0),
                   tfm::CastOp::create(b, loc, ft, below)),
        tfm::CastOp::create(b, loc, ft, above));
    Value rows = tapRows(y, len, "bilinear", "border", 0.0, len - 1.0);
    rows = emitBinary("mul", rows, valid);
    rows = emitReshape(rows, {R, outLen, sr, len});
    return tfm::ReduceSumOp::create(b, loc,
                                    tensorType({R, outLen, len}, TP::FLOAT),
                                    rows, b.getDenseI64ArrayAttr({2}),
                                    b.getBoolAttr(false));
  };
  Value ry = axisRows(1, outH, H), rx = axisRows(0, outW, W);
  // Each roi's image: its batch index's one-hot row (the client's indices:
  // expanded by the client) times X.
  if (!isIntDT(dtypeOf(Bi)) || dtypeOf(Bi) != TP::INT64)
    bv = tfm::CastOp::create(b, loc, tensorType(bs, TP::INT64), bv);
  Value hot = tfm::OneHotOp::create(b, loc, tensorType({R, N}, TP::FLOAT), bv,
                                    b.getI64IntegerAttr(N), IntegerAttr(),
                                    UnitAttr());
  Value img = tfm::ReduceSumOp::create(
      b, loc, tensorType({R, C, H, W}, TP::FLOAT),
      emitBinary("mul", emitReshape(hot, {R, N, 1, 1, 1}),
                 emitReshape(xv, {1, N, C, H, W})),
      b.getDenseI64ArrayAttr({1}), b.getBoolAttr(false));
  Value p = emitBinary("mul", emitReshape(ry, {R, 1, outH, H, 1}),
                       emitReshape(img, {R, C, 1, H, W}));
  Value cols = tfm::ReduceSumOp::create(
      b, loc, tensorType({R, C, outH, W}, TP::FLOAT), p,
      b.getDenseI64ArrayAttr({3}), b.getBoolAttr(false));
  Value q = emitBinary("mul", emitReshape(cols, {R, C, outH, 1, W}),
                       emitReshape(rx, {R, 1, 1, outW, W}));
  Value y = tfm::ReduceSumOp::create(
      b, loc, tensorType({R, C, outH, outW}, TP::FLOAT), q,
      b.getDenseI64ArrayAttr({4}), b.getBoolAttr(false));
  y = emitBinary("mul", y, emitScalar(y, 1.0 / static_cast<double>(sr * sr)));
  if (dtypeOf(X) != TP::FLOAT)
    y = tfm::CastOp::create(b, loc, tensorType({R, C, outH, outW}, dtypeOf(X)),
                            y);
  out[0].value = y;
  return success();
}

} // namespace umbra::onnx_import
