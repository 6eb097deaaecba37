//===- MpcApproximate.cpp - MPC-friendly forms of the non-linear ops ------===//
//
// Each GeLU, SiLU, softmax and norm gets the strategy the spec chooses for
// its op and layer; the forms and their constants come from the one table
// (umbra/Utils/Approximation/Strategies.h), the fits from the fitting
// library. `accurate` leaves the op to convert-tfm-to-mpc's own lowering.
//
//===----------------------------------------------------------------------===//
#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/LocationNames.h"
#include "umbra/Transforms/Passes.h"
#include "umbra/Utils/Approximation/Approximation.h"
#include "umbra/Utils/Approximation/Strategies.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

namespace umbra {
#define GEN_PASS_DEF_MPCAPPROXIMATE
#include "umbra/Transforms/Passes.h.inc"
} // namespace umbra

using namespace mlir;
using namespace umbra;
namespace json = llvm::json;

namespace {

/// The parameters of `poly`: the table's, overridden by the options.
struct PolyParams {
  unsigned degree = 0, pieces = 0;
  double lo = 0, hi = 0;
  Fit fit = Fit::minimax;
};

/// `poly`'s parameters from the options, or a message naming the mistake.
std::string resolvePoly(const MpcApproximateOptions &o, PolyParams &poly) {
  const json::Object &t = *approx::strategyOf("gelu", "poly");
  std::vector<double> domain = approx::numbers(t, "domain");
  poly.degree = o.polyDegree ? o.polyDegree
                             : static_cast<unsigned>(approx::number(t, "degree"));
  poly.pieces = o.polyPieces ? o.polyPieces
                             : static_cast<unsigned>(approx::number(t, "pieces"));
  poly.lo = domain[0];
  poly.hi = domain[1];
  if (!o.polyDomain.empty()) {
    auto [a, b] = StringRef(o.polyDomain).split(':');
    if (a.trim().getAsDouble(poly.lo) || b.trim().getAsDouble(poly.hi) ||
        !(poly.lo < poly.hi))
      return "approx-poly-domain '" + o.polyDomain +
             "' is not LO:HI with LO < HI (e.g. -4:4)";
  }
  StringRef fit = o.polyFit.empty() ? *t.getString("fit") : StringRef(o.polyFit);
  if (fit != "least-squares" && fit != "minimax")
    return "approx-poly-fit '" + fit.str() +
           "' is not least-squares or minimax";
  poly.fit = fit == "minimax" ? Fit::minimax : Fit::leastSquares;
  if (poly.degree < 1 || poly.degree > 12)
    return "approx-poly-degree must be in 1..12, not " +
           std::to_string(poly.degree);
  if (poly.pieces > 16)
    return "approx-poly-pieces must be in 1..16, not " +
           std::to_string(poly.pieces);
  return "";
}

struct MpcApproximate : umbra::impl::MpcApproximateBase<MpcApproximate> {
  using MpcApproximateBase::MpcApproximateBase;

  approx::Spec spec;
  PolyParams poly;
  std::map<std::string, PiecewisePolynomial> fits;
  json::Array entries;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MpcApproximateOptions o;
    o.polyDegree = polyDegree;
    o.polyPieces = polyPieces;
    o.polyDomain = polyDomain;
    o.polyFit = polyFit;
    if (std::string error = resolvePoly(o, poly); !error.empty()) {
      emitError(module.getLoc()) << "mpc-approximate: " << error;
      return signalPassFailure();
    }
    if (failed(resolveSpec(module)))
      return signalPassFailure();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<tfm::GeluOp, tfm::SiluOp, tfm::SoftmaxOp, tfm::LayerNormOp,
              tfm::RmsNormOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      if (failed(approximate(op)))
        return signalPassFailure();
    if (!report.empty() && failed(writeReport(module)))
      return signalPassFailure();
  }

  /// The spec: the option, else what the model was fine-tuned with.
  LogicalResult resolveSpec(ModuleOp module) {
    auto tuned = module->getAttrOfType<StringAttr>("umbra.approximations");
    std::string text = approx;
    if (text.empty() && tuned)
      text = tuned.getValue().str();
    std::string error;
    std::optional<approx::Spec> s = approx::parseSpec(text, error);
    if (!s) {
      emitError(module.getLoc())
          << "mpc-approximate: " << error
          << (approx.empty() ? " (the model's ONNX metadata "
                               "umbra.approximations)"
                             : "");
      return failure();
    }
    spec = std::move(*s);
    if (!approx.empty() && tuned && tuned.getValue() != approx)
      emitWarning(module.getLoc())
          << "mpc-approximate: compiling with '" << approx
          << "', but the model was fine-tuned with '" << tuned.getValue()
          << "' (ONNX metadata umbra.approximations)";
    return success();
  }

  LogicalResult approximate(Operation *op) {
    StringRef kind = op->getName().stripDialect();
    std::optional<int64_t> layer = layerOf(op->getLoc());
    StringRef strategy = spec.strategyFor(kind, layer);
    json::Object entry{{"op", locName(op->getLoc())},
                       {"kind", kind},
                       {"layer", layer ? json::Value(*layer) : nullptr},
                       {"strategy", strategy}};
    if (strategy != approx::kAccurate) {
      const json::Object &constants = *approx::strategyOf(kind, strategy);
      OpBuilder b(op);
      Value y = rewrite(b, op, strategy, constants, entry);
      if (!y)
        return emitError(op->getLoc())
               << "mpc-approximate: strategies.json's '" << strategy
               << "' for " << kind << " has no rewrite in this compiler";
      if (y != op->getResult(0)) {
        op->getResult(0).replaceAllUsesWith(y);
        op->erase();
      }
      ++numApproximated;
    }
    entries.push_back(std::move(entry));
    return success();
  }

  /// The approximated value of `op` (its own result when it is rewritten in
  /// place); null for a strategy this pass does not know.
  Value rewrite(OpBuilder &b, Operation *op, StringRef strategy,
                const json::Object &c, json::Object &entry) {
    Location loc = op->getLoc();
    Value x = op->getOperand(0);
    if (isa<tfm::GeluOp, tfm::SiluOp>(op)) {
      if (strategy == "relu")
        return tfm::ReluOp::create(b, loc, x);
      if (strategy != "quad" && strategy != "poly")
        return Value();
      PiecewisePolynomial p;
      if (strategy == "quad") {
        p.pieces.emplace_back();
        for (double v : approx::numbers(c, "coefficients"))
          p.pieces.back().coefficients.push_back(v);
      } else {
        p = fitFor(op);
        entry["max_error"] = p.maxError;
        entry["mean_error"] = p.meanError;
        entry["domain"] = json::Array{poly.lo, poly.hi};
        entry["fit"] = poly.fit == Fit::minimax ? "minimax" : "least-squares";
        json::Array pieces;
        for (size_t i = 1; i + 1 < p.pieces.size(); ++i) {
          const ScaledPolynomial &q = p.pieces[i];
          pieces.push_back(json::Object{
              {"lo", p.knots[i - 1]},
              {"hi", p.knots[i]},
              {"center", q.center},
              {"half_width", q.halfWidth},
              {"coefficients", json::Array(q.coefficients)}});
        }
        entry["pieces"] = std::move(pieces);
      }
      return polynomial(b, loc, x, p);
    }
    if (auto sm = dyn_cast<tfm::SoftmaxOp>(op)) {
      if (strategy != "2quad" && strategy != "relu-norm")
        return Value();
      auto kernel = strategy == "2quad" ? tfm::SoftmaxKernel::square
                                        : tfm::SoftmaxKernel::relu;
      return tfm::KernelSoftmaxOp::create(
          b, loc, x.getType(), x, sm.getAxisAttr(),
          tfm::SoftmaxKernelAttr::get(b.getContext(), kernel),
          b.getF64FloatAttr(approx::number(c, "shift")),
          b.getF64FloatAttr(approx::number(c, "epsilon")),
          b.getF64FloatAttr(approx::number(c, "score_bound")));
    }
    // The norms.
    if (strategy == "rsqrt") {
      double varianceMax = approx::number(c, "variance_max");
      op->setAttr("variance_max", b.getF64FloatAttr(varianceMax));
      op->setAttr("rsqrt_iterations",
                  b.getI64IntegerAttr(approx::number(c, "iterations")));
      entry["variance_max"] = varianceMax;
      return op->getResult(0);
    }
    if (strategy != "affine")
      return Value();
    // (x - mean) * scale + bias, or x * scale.
    auto ty = cast<RankedTensorType>(x.getType());
    Value y = x, scale, bias;
    if (auto ln = dyn_cast<tfm::LayerNormOp>(op)) {
      int64_t rank = ty.getRank(), axis = ln.getAxis();
      if (axis < 0)
        axis += rank;
      SmallVector<int64_t> axes, shape(ty.getShape());
      for (int64_t a = axis; a < rank; ++a) {
        axes.push_back(a);
        shape[a] = 1;
      }
      Value mean = tfm::ReduceMeanOp::create(
          b, loc, RankedTensorType::get(shape, ty.getElementType()), x,
          b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
      y = tfm::SubOp::create(b, loc, ty, x, mean);
      scale = ln.getScale();
      bias = ln.getBias();
    } else {
      scale = cast<tfm::RmsNormOp>(op).getScale();
    }
    if (scale)
      y = tfm::MulOp::create(b, loc, ty, y, scale);
    if (bias)
      y = tfm::AddOp::create(b, loc, ty, y, bias);
    return y;
  }

  /// `poly` for this op's function, fitted once per function.
  const PiecewisePolynomial &fitFor(Operation *op) {
    double (*f)(double) = silu;
    std::string name = "silu";
    if (auto g = dyn_cast<tfm::GeluOp>(op)) {
      bool tanh = g.getApproximation() == tfm::GeluApproximation::tanh;
      f = tanh ? geluTanh : gelu;
      name = tanh ? "gelu-tanh" : "gelu";
    }
    auto it = fits.find(name);
    if (it == fits.end())
      it = fits
               .emplace(name, fitWithAsymptotes(f, poly.lo, poly.hi,
                                                poly.pieces, poly.degree,
                                                poly.fit))
               .first;
    return it->second;
  }

  static Value polynomial(OpBuilder &b, Location loc, Value x,
                          const PiecewisePolynomial &p) {
    size_t terms = 0;
    for (const ScaledPolynomial &q : p.pieces)
      terms = std::max<size_t>(terms, q.coefficients.size());
    SmallVector<double> centers, halfWidths, coefficients;
    for (const ScaledPolynomial &q : p.pieces) {
      centers.push_back(q.center);
      halfWidths.push_back(q.halfWidth);
      for (size_t k = 0; k < terms; ++k)
        coefficients.push_back(k < q.coefficients.size() ? q.coefficients[k]
                                                         : 0.0);
    }
    return tfm::PolynomialOp::create(b, loc, x.getType(), x,
                                     b.getDenseF64ArrayAttr(p.knots),
                                     b.getDenseF64ArrayAttr(centers),
                                     b.getDenseF64ArrayAttr(halfWidths),
                                     b.getDenseF64ArrayAttr(coefficients));
  }

  LogicalResult writeReport(ModuleOp module) {
    std::error_code ec;
    llvm::raw_fd_ostream os(report, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      emitError(module.getLoc()) << "mpc-approximate: cannot write the report '"
                         << report << "': " << ec.message();
      return failure();
    }
    std::string text;
    for (const approx::Spec::Entry &e : spec.entries) {
      text += (text.empty() ? "" : ",") + e.op + ":" + e.strategy;
      if (e.layers)
        text += "@" + std::to_string(e.layers->first) + "-" +
                std::to_string(e.layers->second);
    }
    os << llvm::formatv("{0:2}",
                        json::Value(json::Object{
                            {"approx", text},
                            {"approximations", std::move(entries)}}))
       << "\n";
    return success();
  }
};

} // namespace

std::string umbra::verifyMpcApproximateOptions(const MpcApproximateOptions &o) {
  std::string error;
  if (!approx::parseSpec(o.approx, error))
    return "approx: " + error;
  PolyParams poly;
  return resolvePoly(o, poly);
}
