//===- QuantizationOps.cpp - ONNX quantization ops and TfIdf to tfm -------===//
//
// The quantized ops become the real ops they stand for, on exact
// integer-valued reals: the zero points are subtracted (Cast, Sub), the
// integer products are the existing MatMul and Conv handlers (exact: a
// product of integers has no fractional bits to lose), and the result is
// requantized by `quantize` below. Scales and zero points may be public
// constants or computed/secret values: the same composition serves both
// (constants fold, a public divisor is a product with its reciprocal).
//
// quantize(x, s, zp) = saturate(round_half_even(x / s) + zp), exactly for
// s > 0: q = round(x * (1/s)) is within 1 of x / s while the reciprocal's
// error times |x / s| stays below 1/2, and the exact remainder e = x - q s
// (a product of an integer by s is exact) decides the correction:
//   x / s - q > 1/2  iff  sign(2e - s) = 1,  = 1/2 iff sign(2e - s) = 0,
//   x / s - q < -1/2 iff  sign(2e + s) = -1, = -1/2 iff sign(2e + s) = 0,
// so w = q + (sign(2e - s) + sign(2e + s)) / 2 is q, q +- 1 or the exact
// tie q +- 1/2, and round(w) (tfm.round, half to even, exact) is the
// rounding of x / s with ties to even. The saturation is two comparisons
// with the integer bounds (tfm.max, min), the cast to the integer type
// exact on integer values.
//
// TfIdfVectorizer: the pool of n-grams is structure (attributes, public).
// The client's ids are compared with every distinct pool value at once
// (one tfm.equal of [..., C, 1] against [k]: one stacked comparison), the
// count of an n-gram at a skip is the sum over the (public) start
// positions of the product of its items' indicator columns (integers:
// exact, no truncation).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <map>

using namespace mlir;

namespace umbra::onnx_import {

using ceval::BinaryOp;
using ceval::UnaryOp;

FailureOr<Entry> Importer::castEntry(const Entry &x, int32_t to) {
  if (dtypeOf(x) == to)
    return x;
  Entry r;
  if (foldable(x)) {
    if (failed(decode(*x.cst)))
      return failure();
    r.cst = makeConst(to, ceval::cast(x.cst->value, isFloatDT(to),
                                      isBoolDT(to), to == TP::DOUBLE));
    return r;
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  r.value = tfm::CastOp::create(b, loc, tensorType(shapeOf(x), to), v);
  return r;
}

int32_t Importer::onnxDtypeOf(unsigned i, const Entry &e) const {
  if (e.cst)
    return e.cst->dtype;
  if (i < unsigned(node->input_size()))
    if (auto it = onnxTypes.find(node->input(i)); it != onnxTypes.end())
      return it->second;
  return dtypeOf(e);
}

namespace {
/// The saturation range of a quantized integer type.
std::optional<std::pair<double, double>> quantRange(int32_t dt) {
  switch (dt) {
  case TP::UINT8:
    return std::make_pair(0.0, 255.0);
  case TP::INT8:
    return std::make_pair(-128.0, 127.0);
  case TP::UINT16:
    return std::make_pair(0.0, 65535.0);
  case TP::INT16:
    return std::make_pair(-32768.0, 32767.0);
  default:
    return std::nullopt;
  }
}
} // namespace

/// A per-axis scale or zero point (rank 1, length shape[axis]) reshaped to
/// broadcast along `axis` of a tensor of rank `rank`; scalars unchanged.
FailureOr<Entry> Importer::alongAxis(const Entry &e, int64_t axis,
                                     int64_t rank, StringRef what) {
  ArrayRef<int64_t> s = shapeOf(e);
  if (s.empty() || numElements(s) == 1) {
    if (s.empty())
      return e;
    Entry r;
    if (failed(reshapeLike(e, r, {})))
      return failure();
    return r;
  }
  if (s.size() != 1)
    return nodeError() << what << " must be a scalar or 1-D (blocked "
                              "quantization is not supported)",
           failure();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range for rank " << rank, failure();
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = s[0];
  Entry r;
  if (failed(reshapeLike(e, r, shape)))
    return failure();
  return r;
}

FailureOr<Entry> Importer::quantize(const Entry &x, const Entry &scale,
                                    const Entry &inv, const Entry &zp,
                                    double lo, double hi) {
  auto bin = [&](BinaryOp k, BinaryBuilder build, const Entry &p,
                 const Entry &q) { return fnBinary(k, build, p, q); };
  auto mul = [&](const Entry &p, const Entry &q) {
    return bin(BinaryOp::Mul, buildOp<tfm::MulOp>, p, q);
  };
  auto add = [&](const Entry &p, const Entry &q) {
    return bin(BinaryOp::Add, buildOp<tfm::AddOp>, p, q);
  };
  auto sub = [&](const Entry &p, const Entry &q) {
    return bin(BinaryOp::Sub, buildOp<tfm::SubOp>, p, q);
  };
  auto round = [&](const Entry &p) {
    return fnUnary(UnaryOp::Round, buildOp<tfm::RoundOp>, p);
  };
  auto sign = [&](const Entry &p) {
    return fnUnary(UnaryOp::Sign, buildOp<tfm::SignOp>, p);
  };
  FailureOr<Entry> xs = mul(x, inv);
  if (failed(xs))
    return failure();
  FailureOr<Entry> q = round(*xs);
  if (failed(q))
    return failure();
  FailureOr<Entry> qs = mul(*q, scale);
  if (failed(qs))
    return failure();
  FailureOr<Entry> e = sub(x, *qs);
  if (failed(e))
    return failure();
  FailureOr<Entry> e2 = add(*e, *e);
  if (failed(e2))
    return failure();
  FailureOr<Entry> up = sub(*e2, scale), down = add(*e2, scale);
  if (failed(up) || failed(down))
    return failure();
  FailureOr<Entry> su = sign(*up), sd = sign(*down);
  if (failed(su) || failed(sd))
    return failure();
  FailureOr<Entry> steps = add(*su, *sd);
  if (failed(steps))
    return failure();
  FailureOr<Entry> half = mul(*steps, fnScalar(x, 0.5));
  if (failed(half))
    return failure();
  FailureOr<Entry> w = add(*q, *half);
  if (failed(w))
    return failure();
  FailureOr<Entry> r = round(*w);
  if (failed(r))
    return failure();
  if (zp) {
    r = add(*r, zp);
    if (failed(r))
      return failure();
  }
  r = bin(BinaryOp::Max, buildOp<tfm::MaxOp>, *r, fnScalar(x, lo));
  if (failed(r))
    return failure();
  return bin(BinaryOp::Min, buildMin, *r, fnScalar(x, hi));
}

LogicalResult Importer::quantizeOutput(const Entry &x, const Entry &scale,
                                       const Entry &zp, int32_t qt,
                                       Entry &out) {
  auto range = quantRange(qt);
  FailureOr<Entry> inv =
      fnUnary(UnaryOp::Reciprocal, buildOp<tfm::ReciprocalOp>, scale);
  if (!range || failed(inv))
    return failure();
  FailureOr<Entry> y =
      quantize(x, scale, *inv, zp, range->first, range->second);
  if (failed(y) || failed(y = castEntry(*y, qt)))
    return failure();
  out = *y;
  onnxTypes[node->output(0)] = qt;
  return success();
}

/// QuantizeLinear: saturate(round(x / y_scale) + y_zero_point) into the zero
/// point's type (uint8 without one), per tensor or per `axis`.
LogicalResult Importer::quantizeLinearOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects x and y_scale", failure();
  const Entry &x = in[0];
  int32_t ft = dtypeOf(x);
  if (!isFloatDT(ft) || dtypeOf(in[1]) != ft)
    return nodeError() << "expects a float x and y_scale of its type",
           failure();
  if (attrInt("block_size", 0) != 0)
    return nodeError() << "blocked quantization is not supported", failure();
  bool hasZp = in.size() > 2 && in[2];
  int32_t qt =
      hasZp ? onnxDtypeOf(2, in[2]) : attrInt("output_dtype", TP::UINT8);
  if (qt == TP::UNDEFINED)
    qt = TP::UINT8;
  auto range = quantRange(qt);
  if (!range)
    return nodeError() << "quantizing to " << dtName(qt)
                       << " is not supported (int8, uint8, int16, uint16)",
           failure();
  int64_t rank = rankOf(x), axis = attrInt("axis", 1);
  FailureOr<Entry> s = alongAxis(in[1], axis, rank, "y_scale");
  if (failed(s))
    return failure();
  Entry zp;
  if (hasZp) {
    FailureOr<Entry> z = alongAxis(in[2], axis, rank, "y_zero_point");
    if (failed(z) || failed(z = castEntry(*z, ft)))
      return failure();
    zp = *z;
  }
  return quantizeOutput(x, *s, zp, qt, out[0]);
}

/// DequantizeLinear: (x - x_zero_point) * x_scale.
LogicalResult Importer::dequantizeLinearOp(Ins in, Outs out) {
  if (in.size() < 2 || !in[0] || !in[1])
    return nodeError() << "expects x and x_scale", failure();
  const Entry &x = in[0];
  int32_t qt = onnxDtypeOf(0, x), ft = dtypeOf(in[1]);
  if (!isFloatDT(ft) || (!quantRange(qt) && qt != TP::INT32))
    return nodeError() << "expects an integer x (int8, uint8, int16, uint16, "
                          "int32) and a float x_scale",
           failure();
  if (attrInt("block_size", 0) != 0)
    return nodeError() << "blocked quantization is not supported", failure();
  int64_t rank = rankOf(x), axis = attrInt("axis", 1);
  FailureOr<Entry> s = alongAxis(in[1], axis, rank, "x_scale");
  FailureOr<Entry> xf = castEntry(x, ft);
  if (failed(s) || failed(xf))
    return failure();
  Entry v = *xf;
  if (in.size() > 2 && in[2]) {
    FailureOr<Entry> z = alongAxis(in[2], axis, rank, "x_zero_point");
    if (failed(z) || failed(z = castEntry(*z, ft)) ||
        failed(z = fnBinary(BinaryOp::Sub, buildOp<tfm::SubOp>, v, *z)))
      return failure();
    v = *z;
  }
  FailureOr<Entry> y = fnBinary(BinaryOp::Mul, buildOp<tfm::MulOp>, v, *s);
  if (failed(y))
    return failure();
  out[0] = *y;
  return success();
}

/// DynamicQuantizeLinear (uint8): the range [min(0, min x), max(0, max x)]
/// gives scale = range / 255 and zero point saturate(round(-min / scale));
/// y is quantize(x, scale, zero point). 1 / scale = 255 / range is one
/// reciprocal of the range, shared by both quantizations.
LogicalResult Importer::dynamicQuantizeLinearOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects x", failure();
  const Entry &x = in[0];
  int32_t ft = dtypeOf(x);
  if (ft != TP::FLOAT)
    return nodeError() << "expects a float x", failure();
  ArrayRef<int64_t> shape = shapeOf(x);
  if (numElements(shape) == 0)
    return nodeError() << "quantizes an empty tensor", failure();
  Value v = valueOf(x);
  if (!v)
    return failure();
  SmallVector<int64_t> all;
  for (int64_t d = 0, r = shape.size(); d < r; ++d)
    all.push_back(d);
  auto scalarTy = tensorType({}, ft);
  auto reduceMax = [&](Value t) -> Value {
    return tfm::ReduceMaxOp::create(b, loc, scalarTy, t,
                                    b.getDenseI64ArrayAttr(all),
                                    b.getBoolAttr(false));
  };
  Value mx = reduceMax(v);
  Value negMn = reduceMax(tfm::NegOp::create(b, loc, v.getType(), v));
  Value zero = emitScalar(mx, 0.0);
  // max(0, max x) and -min(0, min x) = max(0, -min x).
  mx = emitBinary("max", mx, zero);
  negMn = emitBinary("max", negMn, zero);
  Value range = emitBinary("add", mx, negMn);
  Value scale = emitBinary("mul", range, emitScalar(range, 1.0 / 255.0));
  Value inv = emitBinary(
      "mul", tfm::ReciprocalOp::create(b, loc, scalarTy, range),
      emitScalar(range, 255.0));
  Entry s{nullptr, scale}, is{nullptr, inv};
  FailureOr<Entry> zp = quantize(Entry{nullptr, negMn}, s, is, Entry{}, 0, 255);
  if (failed(zp))
    return failure();
  FailureOr<Entry> y = quantize(x, s, is, *zp, 0, 255);
  if (failed(y) || failed(y = castEntry(*y, TP::UINT8)) ||
      failed(zp = castEntry(*zp, TP::UINT8)))
    return failure();
  out[0] = *y;
  onnxTypes[node->output(0)] = TP::UINT8;
  if (out.size() > 1)
    out[1] = s;
  if (out.size() > 2) {
    out[2] = *zp;
    onnxTypes[node->output(2)] = TP::UINT8;
  }
  return success();
}

/// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv: the integer
/// product of the zero-point-shifted operands as exact integer-valued
/// reals (the MatMul and Conv handlers), then int32 (the *Integer ops) or
/// quantize(acc * a_scale * b_scale, y_scale, y_zero_point) (QLinear*).
LogicalResult Importer::integerProductOp(Ins in, Outs out) {
  StringRef op = node->op_type();
  bool linear = op.starts_with("QLinear"), conv = op.contains("Conv");
  // Operand positions: a, a_zero_point, b, b_zero_point (and scales).
  unsigned ia = 0, iaz = 2, ib = linear ? 3 : 1, ibz = linear ? 5 : 3;
  if (in.size() <= ib || !in[ia] || !in[ib])
    return nodeError() << "expects two integer operands", failure();
  if (linear && (in.size() < 8 || !in[1] || !in[4] || !in[6]))
    return nodeError() << "expects the operands, their scales and zero "
                          "points and y_scale, y_zero_point",
           failure();
  for (unsigned i : {ia, ib})
    if (!isIntDT(dtypeOf(in[i])) || byteWidth(dtypeOf(in[i])) != 1)
      return nodeError() << "expects int8 or uint8 operands", failure();
  int32_t ft = TP::FLOAT;
  auto shifted = [&](unsigned i, unsigned iz, bool rowWise)
      -> FailureOr<Entry> {
    FailureOr<Entry> v = castEntry(in[i], ft);
    if (failed(v) || in.size() <= iz || !in[iz])
      return v;
    Entry z = in[iz];
    int64_t rank = rankOf(in[i]);
    // a's zero point is per row (axis rank - 2), b's per column (the last
    // axis, broadcast as it is), a convolution kernel's per output
    // channel (axis 0).
    if (rankOf(z) == 1 && numElements(shapeOf(z)) > 1) {
      int64_t axis = conv ? (i == ia ? 1 : 0)
                          : (rowWise ? rank - 2 : rank - 1);
      if (axis < 0 || shapeOf(z)[0] != shapeOf(in[i])[axis])
        return nodeError() << "zero point of shape " << shapeStr(shapeOf(z))
                           << " does not match its operand",
               failure();
      FailureOr<Entry> r = alongAxis(z, axis, rank, "zero point");
      if (failed(r))
        return failure();
      z = *r;
    }
    FailureOr<Entry> zf = castEntry(z, ft);
    if (failed(zf))
      return failure();
    return fnBinary(BinaryOp::Sub, buildOp<tfm::SubOp>, *v, *zf);
  };
  FailureOr<Entry> a = shifted(ia, iaz, true), bb = shifted(ib, ibz, false);
  if (failed(a) || failed(bb))
    return failure();
  // QLinearConv's int32 bias is added to the integer accumulator.
  Entry bias;
  if (conv && linear && in.size() > 8 && in[8]) {
    FailureOr<Entry> bf = castEntry(in[8], ft);
    if (failed(bf))
      return failure();
    bias = *bf;
  }
  Entry ops[] = {*a, *bb, bias}, acc;
  if (failed(conv ? convOp(ops, MutableArrayRef<Entry>(acc))
                  : matmulOp(ArrayRef<Entry>(ops).take_front(2),
                             MutableArrayRef<Entry>(acc))))
    return failure();
  if (!linear) {
    FailureOr<Entry> y = castEntry(acc, TP::INT32);
    if (failed(y))
      return failure();
    out[0] = *y;
    return success();
  }
  // acc * a_scale * b_scale: a product of an integer by a_scale is exact.
  int32_t qt = onnxDtypeOf(7, in[7]);
  auto range = quantRange(qt);
  if (!range || byteWidth(qt) != 1)
    return nodeError() << "expects an int8 or uint8 y_zero_point", failure();
  int64_t rank = rankOf(acc);
  int64_t chan = conv ? 1 : rank - 1;
  FailureOr<Entry> as = alongAxis(in[1], conv ? 1 : rank - 2, rank, "a_scale"),
                   bs = alongAxis(in[4], chan, rank, "b_scale"),
                   ys = alongAxis(in[6], chan, rank, "y_scale"),
                   yz = alongAxis(in[7], chan, rank, "y_zero_point");
  if (failed(as) || failed(bs) || failed(ys) || failed(yz) ||
      failed(yz = castEntry(*yz, ft)))
    return failure();
  FailureOr<Entry> x = fnBinary(BinaryOp::Mul, buildOp<tfm::MulOp>, acc, *as);
  if (failed(x) ||
      failed(x = fnBinary(BinaryOp::Mul, buildOp<tfm::MulOp>, *x, *bs)))
    return failure();
  return quantizeOutput(*x, *ys, *yz, qt, out[0]);
}

/// TfIdfVectorizer on integer ids: per row, the count of each pool n-gram
/// (n in [min_gram_length, max_gram_length]) over the start positions and
/// skips 0..max_skip_count (unigrams once per position), then TF, IDF
/// ([count > 0] * weight) or TFIDF (count * weight).
LogicalResult Importer::tfIdfVectorizerOp(Ins in, Outs out) {
  if (in.empty() || !in[0])
    return nodeError() << "expects X", failure();
  const Entry &x = in[0];
  int32_t dt = dtypeOf(x);
  if (dt != TP::INT32 && dt != TP::INT64)
    return nodeError() << "expects int32 or int64 ids (string pools have no "
                          "ring encoding)",
           failure();
  ArrayRef<int64_t> xs = shapeOf(x);
  if (xs.empty() || xs.size() > 2)
    return nodeError() << "expects X of shape [C] or [N, C]", failure();
  int64_t minN = attrInt("min_gram_length", 1),
          maxN = attrInt("max_gram_length", 1),
          maxSkip = attrInt("max_skip_count", 0);
  const auto *modeAttr = attr("mode");
  std::string mode = modeAttr ? modeAttr->s() : "";
  auto counts = attrInts("ngram_counts"), indexes = attrInts("ngram_indexes"),
       pool = attrInts("pool_int64s");
  if (!pool)
    return nodeError() << "expects pool_int64s (string pools have no ring "
                          "encoding)",
           failure();
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return nodeError() << "unknown mode '" << mode << "'", failure();
  if (minN < 1 || maxN < minN || maxSkip < 0 || !counts || !indexes)
    return nodeError() << "expects 1 <= min_gram_length <= max_gram_length, "
                          "max_skip_count >= 0, ngram_counts and "
                          "ngram_indexes",
           failure();
  // The n-grams of the pool: lengths 1, 2, ... in the blocks that
  // ngram_counts starts.
  struct Gram {
    SmallVector<int64_t> items;
    int64_t out;
  };
  std::vector<Gram> grams;
  int64_t numOut = 0;
  int64_t poolSize = pool->size();
  for (size_t n = 1; n <= counts->size(); ++n) {
    int64_t begin = (*counts)[n - 1];
    int64_t end = n < counts->size() ? (*counts)[n] : poolSize;
    if (begin < 0 || end < begin || end > poolSize || (end - begin) % n)
      return nodeError() << "ngram_counts does not split the pool",
             failure();
    for (int64_t k = begin; k < end; k += n) {
      size_t g = grams.size();
      if (g >= indexes->size())
        return nodeError() << "ngram_indexes has fewer entries than the pool "
                              "has n-grams",
               failure();
      int64_t o = (*indexes)[g];
      if (o < 0)
        return nodeError() << "negative ngram index", failure();
      numOut = std::max(numOut, o + 1);
      grams.push_back({SmallVector<int64_t>(pool->begin() + k,
                                            pool->begin() + k + n),
                       o});
    }
  }
  std::vector<double> weights(numOut, 1.0);
  if (const auto *w = attr("weights")) {
    if (size_t(w->floats_size()) != grams.size())
      return nodeError() << "expects one weight per pool n-gram", failure();
    for (size_t g = 0; g < grams.size(); ++g)
      weights[grams[g].out] = w->floats(g);
  }
  bool batch = xs.size() == 2;
  int64_t rows = batch ? xs[0] : 1, c = xs.back();
  SmallVector<int64_t> outShape =
      batch ? SmallVector<int64_t>{rows, numOut} : SmallVector<int64_t>{numOut};

  // The distinct values that a counted n-gram uses, and each one's column.
  std::map<int64_t, int64_t> column;
  for (const Gram &g : grams)
    if (int64_t(g.items.size()) >= minN && int64_t(g.items.size()) <= maxN)
      for (int64_t v : g.items)
        column.emplace(v, 0);
  std::vector<int64_t> values;
  for (auto &[v, col] : column) {
    col = values.size();
    values.push_back(v);
  }
  Value v = valueOf(x);
  if (!v)
    return failure();
  Value ids = emitReshape(v, {rows, c, 1});
  int64_t k = values.size();
  Value eq;
  if (k) {
    Value vals = materialize(*literal(
        makeConst(TP::INT64, ceval::Tensor{{k}, std::move(values)})));
    if (dt != TP::INT64)
      ids = tfm::CastOp::create(b, loc, tensorType({rows, c, 1}, TP::INT64),
                                ids);
    Value bits = tfm::EqualOp::create(
        b, loc, tensorType({rows, c, k}, TP::BOOL), ids, vals);
    eq = tfm::CastOp::create(b, loc, tensorType({rows, c, k}, TP::INT64),
                             bits);
  }
  auto zeros = [&](int64_t n) {
    return materialize(*literal(makeConst(
        TP::FLOAT, ceval::Tensor{{rows, n}, std::vector<double>(rows * n)})));
  };
  // The indicator column of value `val` at positions [from, from + len).
  auto indicator = [&](int64_t val, int64_t from, int64_t len) {
    return emitSlice(eq, {0, from, column[val]}, {1, 1, 1}, {rows, len, 1});
  };
  std::vector<Value> perOut(numOut);
  for (const Gram &g : grams) {
    int64_t n = g.items.size();
    if (n < minN || n > maxN)
      continue;
    Value total;
    for (int64_t skip = 0; skip <= (n == 1 ? 0 : maxSkip); ++skip) {
      int64_t len = c - (n - 1) * (skip + 1);
      if (len <= 0)
        break;
      Value prod;
      for (int64_t j = 0; j < n; ++j) {
        Value col = indicator(g.items[j], j * (skip + 1), len);
        prod = prod ? emitBinary("mul", prod, col) : col;
      }
      // The count is a sum of reals (the cast of an integer is local).
      prod = tfm::CastOp::create(b, loc, tensorType({rows, len}, TP::FLOAT),
                                 emitReshape(prod, {rows, len}));
      Value sum = tfm::ReduceSumOp::create(
          b, loc, tensorType({rows, 1}, TP::FLOAT), prod,
          b.getDenseI64ArrayAttr({1}), b.getBoolAttr(true));
      total = total ? emitBinary("add", total, sum) : sum;
    }
    if (!total)
      continue;
    Value &slot = perOut[g.out];
    slot = slot ? emitBinary("add", slot, total) : total;
  }
  // The output columns in order; runs without a counted n-gram are zeros.
  SmallVector<Value> parts;
  for (int64_t o = 0; o < numOut;) {
    if (perOut[o]) {
      parts.push_back(perOut[o++]);
      continue;
    }
    int64_t e = o;
    while (e < numOut && !perOut[e])
      ++e;
    parts.push_back(zeros(e - o));
    o = e;
  }
  Value cnt = emitConcat(parts, 1);
  Value y = cnt;
  if (mode != "TF") {
    Value f = cnt;
    if (mode == "IDF")
      f = tfm::CastOp::create(
          b, loc, tensorType({rows, numOut}, TP::FLOAT),
          tfm::LessOp::create(b, loc, tensorType({rows, numOut}, TP::BOOL),
                              zeros(numOut), cnt));
    Value w = materialize(*literal(makeConst(
        TP::FLOAT, ceval::Tensor{{1, numOut}, std::move(weights)})));
    y = emitBinary("mul", f, w);
  }
  out[0].value = emitReshape(y, outShape);
  return success();
}

} // namespace umbra::onnx_import
