//===- RecurrentOps.cpp - ONNX RNN, GRU and LSTM to tfm -------------------===//
//
// The recurrent layers are unrolled at import over the public sequence
// length: the input projection of every step is one `tfm.matmul`
// (X [T*B, I] times W^T), then each step is a `tfm.matmul` of the state by
// R^T, `tfm.add`/`tfm.mul` and the gate activations (`tfm.sigmoid`,
// `tfm.tanh`, ...; their lowerings are valid on the whole real line:
// docs/import.md). Directions, initial states, biases, peepholes, clip,
// GRU's linear_before_reset and the batch-major layout are supported.
//
// sequence_lens must be a public constant: the steps are unrolled, and a
// batch entry of length L reads its L inputs (a reverse direction reads
// them backwards from L - 1), its Y rows past L are 0 and its Y_h / Y_c are
// the states after step L. Steps past L still compute (on the next inputs,
// or 0 for a reverse direction) but nothing reads them: every selection is
// by public indices (slices, constant gathers), never by a secret.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

namespace {
/// One activation of a recurrent layer (ONNX's `activations` attribute).
struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
};
} // namespace

Value Importer::emitScalar(Value like, double v) {
  auto ty = cast<RankedTensorType>(like.getType());
  return materialize(*scalarConst(dtOfType(ty.getElementType()), v));
}

Value Importer::emitBinary(StringRef op, Value x, Value y) {
  auto tx = cast<RankedTensorType>(x.getType());
  auto ty = cast<RankedTensorType>(y.getType());
  SmallVector<int64_t> shape;
  ceval::broadcastShapes(tx.getShape(), ty.getShape(), shape);
  Type t = tx.clone(shape);
  if (op == "add")
    return tfm::AddOp::create(b, loc, t, x, y);
  if (op == "sub")
    return tfm::SubOp::create(b, loc, t, x, y);
  if (op == "mul")
    return tfm::MulOp::create(b, loc, t, x, y);
  if (op == "max")
    return tfm::MaxOp::create(b, loc, t, x, y);
  assert(op == "min" && "unknown binary op");
  return buildMin(b, loc, t, x, y);
}

Value Importer::emitMatMul(Value x, Value y) {
  auto tx = cast<RankedTensorType>(x.getType());
  auto ty = cast<RankedTensorType>(y.getType());
  return tfm::MatMulOp::create(
      b, loc, tx.clone({tx.getShape()[0], ty.getShape()[1]}), x, y);
}

LogicalResult Importer::recurrentOp(Ins in, Outs out) {
  StringRef op = node->op_type();
  bool isLSTM = op == "LSTM", isGRU = op == "GRU";
  int64_t G = isLSTM ? 4 : isGRU ? 3 : 1;
  auto input = [&](unsigned k) -> const Entry * {
    return in.size() > k && in[k] ? &in[k] : nullptr;
  };
  const Entry *X = input(0), *W = input(1), *R = input(2), *Bias = input(3),
              *seqLens = input(4), *initH = input(5),
              *initC = isLSTM ? input(6) : nullptr,
              *peep = isLSTM ? input(7) : nullptr;
  if (!W || !R)
    return nodeError() << "expects inputs X, W and R", failure();
  int32_t dt = dtypeOf(*X);
  for (const Entry *e : {X, W, R, Bias, initH, initC, peep})
    if (e && (!isFloatDT(dtypeOf(*e)) || dtypeOf(*e) != dt))
      return nodeError() << "X, W, R, B, initial_h, initial_c and P must be "
                            "float tensors of one type",
             failure();
  if (rankOf(*X) != 3)
    return nodeError() << "X must have rank 3, got " << shapeStr(shapeOf(*X)),
           failure();

  // Attributes.
  const auto *dirAttr = attr("direction");
  std::string direction = dirAttr ? dirAttr->s() : "forward";
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return nodeError() << "unknown direction '" << direction
                       << "' (expected forward, reverse or bidirectional)",
           failure();
  int64_t D = direction == "bidirectional" ? 2 : 1;
  int64_t layout = attrInt("layout", 0);
  if (layout != 0 && layout != 1)
    return nodeError() << "layout must be 0 or 1, got " << layout, failure();
  if (isLSTM && attrInt("input_forget", 0) != 0)
    return nodeError() << "input_forget = 1 (coupled input and forget gates) "
                          "is not supported",
           failure();
  bool linearBeforeReset = isGRU && attrInt("linear_before_reset", 0) != 0;
  const auto *clipAttr = attr("clip");
  std::optional<double> clip;
  if (clipAttr) {
    clip = clipAttr->f();
    if (!(*clip > 0))
      return nodeError() << "clip must be positive, got " << *clip, failure();
  }

  SmallVector<int64_t> xs(shapeOf(*X));
  int64_t T = layout ? xs[1] : xs[0], Bn = layout ? xs[0] : xs[1], I = xs[2];
  auto rShape = shapeOf(*R);
  int64_t H = attrInt("hidden_size", rShape.size() == 3 ? rShape[2] : -1);
  if (H <= 0)
    return nodeError() << "hidden_size must be positive, got " << H, failure();
  auto checkShape = [&](const Entry *e, StringRef what,
                        ArrayRef<int64_t> want) -> LogicalResult {
    if (e && shapeOf(*e) != want)
      return nodeError() << what << " has shape " << shapeStr(shapeOf(*e))
                         << ", expected " << shapeStr(want),
             failure();
    return success();
  };
  SmallVector<int64_t> stateShape =
      layout ? SmallVector<int64_t>{Bn, D, H} : SmallVector<int64_t>{D, Bn, H};
  if (failed(checkShape(W, "W", {D, G * H, I})) ||
      failed(checkShape(R, "R", {D, G * H, H})) ||
      failed(checkShape(Bias, "B", {D, 2 * G * H})) ||
      failed(checkShape(initH, "initial_h", stateShape)) ||
      failed(checkShape(initC, "initial_c", stateShape)) ||
      failed(checkShape(peep, "P", {D, 3 * H})))
    return failure();
  if (T == 0 || Bn == 0)
    return nodeError() << "an empty sequence or batch is not supported",
           failure();

  // Sequence lengths: public constants (the unrolled structure).
  SmallVector<int64_t> lens(Bn, T);
  if (seqLens) {
    if (!seqLens->cst)
      return nodeError() << "sequence_lens must be a constant (the steps are "
                            "unrolled at compile time; a length held by the "
                            "client would decide which steps count)",
             failure();
    auto v = constInts(*seqLens, "sequence_lens");
    if (failed(v))
      return failure();
    if (static_cast<int64_t>(v->size()) != Bn)
      return nodeError() << "sequence_lens has " << v->size()
                         << " entries, expected the batch size " << Bn,
             failure();
    for (int64_t l : *v)
      if (l < 1 || l > T)
        return nodeError() << "sequence length " << l
                           << " is outside [1, " << T << "]",
               failure();
    lens.assign(v->begin(), v->end());
  }

  // Activations: f, g (GRU, LSTM), h (LSTM) per direction.
  SmallVector<Activation> acts;
  SmallVector<StringRef> defaults =
      isLSTM  ? SmallVector<StringRef>{"Sigmoid", "Tanh", "Tanh"}
      : isGRU ? SmallVector<StringRef>{"Sigmoid", "Tanh"}
              : SmallVector<StringRef>{"Tanh"};
  int64_t perDir = defaults.size();
  if (const auto *a = attr("activations")) {
    if (a->strings_size() != perDir * D)
      return nodeError() << "activations lists " << a->strings_size()
                         << " functions, expected " << perDir * D,
             failure();
    // activation_alpha / activation_beta are consumed in order by the
    // activations that take them (as onnxruntime does).
    auto alphas = attr("activation_alpha"), betas = attr("activation_beta");
    int nextAlpha = 0, nextBeta = 0;
    auto take = [](const onnx::AttributeProto *list, int &next, float &v) {
      if (list && next < list->floats_size())
        v = list->floats(next++);
    };
    for (int k = 0; k < a->strings_size(); ++k) {
      Activation act{a->strings(k)};
      StringRef n = act.name;
      if (n == "LeakyRelu") {
        act.alpha = 0.01f;
        take(alphas, nextAlpha, act.alpha);
      } else if (n == "HardSigmoid" || n == "Affine" || n == "ScaledTanh") {
        act.alpha = n == "HardSigmoid" ? 0.2f : 1.0f;
        act.beta = n == "HardSigmoid" ? 0.5f : n == "Affine" ? 0.0f : 1.0f;
        take(alphas, nextAlpha, act.alpha);
        take(betas, nextBeta, act.beta);
      } else if (n != "Sigmoid" && n != "Tanh" && n != "Relu") {
        return nodeError() << "activation '" << n
                           << "' is not supported (Sigmoid, Tanh, Relu, "
                              "LeakyRelu, HardSigmoid, Affine, ScaledTanh)",
               failure();
      }
      acts.push_back(act);
    }
  } else {
    for (int64_t d = 0; d < D; ++d)
      for (StringRef n : defaults)
        acts.push_back({n.str()});
  }

  Value x = valueOf(*X), w = valueOf(*W), r = valueOf(*R);
  if (!x || !w || !r)
    return failure();
  Value bias = Bias ? valueOf(*Bias) : Value();
  Value h0 = initH ? valueOf(*initH) : Value();
  Value c0 = initC ? valueOf(*initC) : Value();
  Value p = peep ? valueOf(*peep) : Value();
  if ((Bias && !bias) || (initH && !h0) || (initC && !c0) || (peep && !p))
    return failure();
  if (layout) {
    x = emitTranspose(x, {1, 0, 2});
    if (h0)
      h0 = emitTranspose(h0, {1, 0, 2});
    if (c0)
      c0 = emitTranspose(c0, {1, 0, 2});
  }
  Value xFlat = emitReshape(x, {T * Bn, I});

  auto apply = [&](const Activation &a, Value v) -> Value {
    Type t = v.getType();
    StringRef n = a.name;
    if (n == "Sigmoid")
      return tfm::SigmoidOp::create(b, loc, t, v);
    if (n == "Tanh")
      return tfm::TanhOp::create(b, loc, t, v);
    if (n == "Relu")
      return tfm::ReluOp::create(b, loc, t, v);
    if (n == "LeakyRelu") {
      // alpha x + (1 - alpha) relu(x): one comparison.
      Value relu = tfm::ReluOp::create(b, loc, t, v);
      return emitBinary("add", emitBinary("mul", v, emitScalar(v, a.alpha)),
                        emitBinary("mul", relu, emitScalar(v, 1 - a.alpha)));
    }
    Value affine = emitBinary(
        "add", emitBinary("mul", v, emitScalar(v, n == "ScaledTanh" ? a.beta
                                                                    : a.alpha)),
        emitScalar(v, n == "ScaledTanh" ? 0.0 : a.beta));
    if (n == "Affine")
      return affine;
    if (n == "ScaledTanh")
      return emitBinary("mul", tfm::TanhOp::create(b, loc, t, affine),
                        emitScalar(v, a.alpha));
    // HardSigmoid: max(0, min(1, alpha x + beta)).
    return emitBinary("max", emitBinary("min", affine, emitScalar(v, 1.0)),
                      emitScalar(v, 0.0));
  };
  auto clipped = [&](Value v) {
    if (!clip)
      return v;
    return emitBinary("min", emitBinary("max", v, emitScalar(v, -*clip)),
                      emitScalar(v, *clip));
  };
  /// Slice [d] of a [D, ...] value, without the leading axis.
  auto dirSlice = [&](Value v, int64_t d) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    SmallVector<int64_t> off(s.size(), 0), str(s.size(), 1), sz(s);
    off[0] = d;
    sz[0] = 1;
    return emitReshape(emitSlice(v, off, str, sz),
                       SmallVector<int64_t>(s.drop_front()));
  };
  auto vecSlice = [&](Value v, int64_t off, int64_t n) {
    return emitSlice(v, {off}, {1}, {n});
  };

  SmallVector<Value> ys, yhs, ycs;
  for (int64_t d = 0; d < D; ++d) {
    bool reverse = direction == "reverse" || d == 1;
    const Activation *f = &acts[d * perDir];
    Value wT = emitTranspose(dirSlice(w, d), {1, 0}); // [I, G*H]
    Value rT = emitTranspose(dirSlice(r, d), {1, 0}); // [H, G*H]
    // The input projection of every step at once, with the biases that
    // are not inside GRU's reset product.
    Value xw = emitMatMul(xFlat, wT); // [T*B, G*H]
    Value rbH;
    if (bias) {
      Value bd = dirSlice(bias, d); // [2*G*H]
      Value wb = vecSlice(bd, 0, G * H), rb = vecSlice(bd, G * H, G * H);
      if (linearBeforeReset) {
        rbH = vecSlice(rb, 2 * H, H);
        // Rb_h is added inside the reset product: 0 in the projection.
        SmallVector<int64_t> idx;
        for (int64_t k = 0; k < 3 * H; ++k)
          idx.push_back(k < 2 * H ? k : -1);
        rb = emitIndexAlong(rb, 0, idx, 0.0);
      }
      xw = emitBinary("add", xw, emitBinary("add", wb, rb));
    }
    Value h = h0 ? dirSlice(h0, d) : Value();
    Value c = c0 ? dirSlice(c0, d) : Value();
    // Without an initial state (0) the first step's terms in it are left
    // out.
    bool hZero = !h, cZero = isLSTM && !c;
    Value pd = p ? dirSlice(p, d) : Value(); // [3H]: i, o, f
    Value pi = pd ? vecSlice(pd, 0, H) : Value();
    Value po = pd ? vecSlice(pd, H, H) : Value();
    Value pf = pd ? vecSlice(pd, 2 * H, H) : Value();
    SmallVector<Value> hs, cs;
    for (int64_t t = 0; t < T; ++t) {
      // The rows of X this step reads, per batch entry.
      SmallVector<int64_t> rows;
      for (int64_t bi = 0; bi < Bn; ++bi) {
        int64_t pos = reverse ? lens[bi] - 1 - t : t;
        rows.push_back(pos >= 0 ? pos * Bn + bi : -1);
      }
      Value xt = emitIndexAlong(xw, 0, rows, 0.0); // [B, G*H]
      auto gate = [&](Value v, int64_t k) {
        return emitSlice(v, {0, k * H}, {1, 1}, {Bn, H});
      };
      auto plusHR = [&](Value v, Value rPart) {
        return hZero ? v : emitBinary("add", v, emitMatMul(h, rPart));
      };
      if (G == 1) {
        h = apply(*f, clipped(plusHR(xt, rT)));
      } else if (isGRU) {
        Value zr = plusHR(emitSlice(xt, {0, 0}, {1, 1}, {Bn, 2 * H}),
                          emitSlice(rT, {0, 0}, {1, 1}, {H, 2 * H}));
        Value rTh = emitSlice(rT, {0, 2 * H}, {1, 1}, {H, H});
        // z and r through one activation op (one batch of its rounds).
        Value zrAct = apply(f[0], clipped(zr));
        Value z = gate(zrAct, 0), rs = gate(zrAct, 1);
        Value pre = gate(xt, 2);
        if (linearBeforeReset) {
          // r (h Rh^T + Rb_h)
          Value inner = hZero ? rbH : Value();
          if (!hZero)
            inner = rbH ? emitBinary("add", emitMatMul(h, rTh), rbH)
                        : emitMatMul(h, rTh);
          if (inner)
            pre = emitBinary("add", pre, emitBinary("mul", rs, inner));
        } else if (!hZero) {
          pre = emitBinary("add", pre,
                           emitMatMul(emitBinary("mul", rs, h), rTh));
        }
        Value hh = apply(f[1], clipped(pre));
        // (1 - z) hh + z h = hh + z (h - hh).
        h = hZero ? emitBinary("sub", hh, emitBinary("mul", z, hh))
                  : emitBinary("add", hh,
                               emitBinary("mul", z, emitBinary("sub", h, hh)));
      } else {
        Value g4 = plusHR(xt, rT); // i, o, f, c
        Value ig = gate(g4, 0), og = gate(g4, 1), fg = gate(g4, 2),
              cg = gate(g4, 3);
        if (pd && !cZero) {
          ig = emitBinary("add", ig, emitBinary("mul", pi, c));
          fg = emitBinary("add", fg, emitBinary("mul", pf, c));
        }
        // The gates that depend on the previous state only go through one
        // activation op (one batch of its rounds): i, f (unless c is 0), o
        // (without peepholes), and with the default Sigmoid and Tanh the
        // cell gate too, as tanh(x) = 2 sigmoid(2x) - 1 (local, exact).
        bool viaSigmoid = f[0].name == "Sigmoid" && f[1].name == "Tanh";
        SmallVector<Value> pre = {clipped(ig)};
        int64_t kf = -1, ko = -1, kc = -1;
        if (!cZero)
          kf = pre.size(), pre.push_back(clipped(fg));
        if (!pd)
          ko = pre.size(), pre.push_back(clipped(og));
        if (viaSigmoid) {
          Value cc = clipped(cg);
          kc = pre.size(), pre.push_back(emitBinary("add", cc, cc));
        }
        Value act = apply(f[0], emitConcat(pre, 1));
        Value cv;
        if (viaSigmoid) {
          Value sc = gate(act, kc);
          cv = emitBinary("sub", emitBinary("add", sc, sc), emitScalar(sc, 1.0));
        } else {
          cv = apply(f[1], clipped(cg));
        }
        Value ic = emitBinary("mul", gate(act, 0), cv);
        c = cZero ? ic
                  : emitBinary("add", emitBinary("mul", gate(act, kf), c), ic);
        Value ov;
        if (pd) {
          og = emitBinary("add", og, emitBinary("mul", po, c));
          ov = apply(f[0], clipped(og));
        } else {
          ov = gate(act, ko);
        }
        h = emitBinary("mul", ov, apply(f[2], c));
      }
      hZero = cZero = false;
      hs.push_back(h);
      if (isLSTM)
        cs.push_back(c);
    }
    // Y: row (pos, b) is the state of the step that read position pos (0
    // past the entry's length); Y_h, Y_c: the states after its last step.
    SmallVector<int64_t> yRows, lastRows;
    for (int64_t pos = 0; pos < T; ++pos)
      for (int64_t bi = 0; bi < Bn; ++bi) {
        int64_t step = reverse ? lens[bi] - 1 - pos : pos;
        yRows.push_back(pos < lens[bi] ? step * Bn + bi : -1);
      }
    for (int64_t bi = 0; bi < Bn; ++bi)
      lastRows.push_back((lens[bi] - 1) * Bn + bi);
    Value hAll = emitConcat(hs, 0); // [T*B, H]
    if (out.size() > 0 && !node->output(0).empty())
      ys.push_back(
          emitReshape(emitIndexAlong(hAll, 0, yRows, 0.0), {T, 1, Bn, H}));
    yhs.push_back(emitReshape(emitIndexAlong(hAll, 0, lastRows, 0.0),
                              {1, Bn, H}));
    if (isLSTM)
      ycs.push_back(emitReshape(
          emitIndexAlong(emitConcat(cs, 0), 0, lastRows, 0.0), {1, Bn, H}));
  }
  if (!ys.empty()) {
    Value y = emitConcat(ys, 1); // [T, D, B, H]
    out[0].value = layout ? emitTranspose(y, {2, 0, 1, 3}) : y;
  }
  auto state = [&](ArrayRef<Value> parts) {
    Value s = emitConcat(parts, 0); // [D, B, H]
    return layout ? emitTranspose(s, {1, 0, 2}) : s;
  };
  if (out.size() > 1)
    out[1].value = state(yhs);
  if (out.size() > 2 && isLSTM)
    out[2].value = state(ycs);
  return success();
}

} // namespace umbra::onnx_import
