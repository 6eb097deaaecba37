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
  auto gt = cast<RankedTensorType>(g.getType());
  auto ty = gt;
  auto scalar = [&](double v) { return emitScalar(g, v); };
  auto clamp = [&](Value v, double lo, double hi) {
    return emitBinary("min", emitBinary("max", v, scalar(lo)), scalar(hi));
  };
  // Unnormalise: align_corners maps -1, 1 to the centres of the corner
  // pixels, otherwise to their outer edges.
  double slope = alignCorners ? (len - 1) / 2.0 : len / 2.0;
  Value x = emitBinary("add", emitBinary("mul", g, scalar(slope)),
                       scalar((len - 1) / 2.0));
  if (mode == "nearest")
    x = tfm::RoundOp::create(b, loc, ty, x);
  double lo = alignCorners ? 0.0 : -0.5;
  double hi = alignCorners ? len - 1.0 : len - 0.5;
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

} // namespace umbra::onnx_import
