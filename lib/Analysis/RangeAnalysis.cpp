//===- RangeAnalysis.cpp - interval ranges of every tfm value -------------===//
#include "umbra/Analysis/RangeAnalysis.h"

#include "umbra/Dialect/Tfm/IR/TfmOps.h"
#include "umbra/Support/ConstantValues.h"

#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdio>

using namespace mlir;
using namespace umbra;

//===----------------------------------------------------------------------===//
// Interval arithmetic (0 * inf = 0: a zero factor is exactly zero)
//===----------------------------------------------------------------------===//

double Interval::magnitude() const {
  return std::max(std::fabs(lo), std::fabs(hi));
}

Interval Interval::join(const Interval &a, const Interval &b) {
  if (a.isUninitialized())
    return b;
  if (b.isUninitialized())
    return a;
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

void Interval::print(raw_ostream &os) const {
  if (isUninitialized()) {
    os << "<uninitialized>";
    return;
  }
  os << "[" << llvm::format("%.6g", lo) << ", " << llvm::format("%.6g", hi)
     << "]";
}

namespace {

std::string str(double v, const char *format = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

double times(double a, double b) { return a == 0 || b == 0 ? 0 : a * b; }

Interval add(Interval a, Interval b) { return {a.lo + b.lo, a.hi + b.hi}; }
Interval neg(Interval a) { return {-a.hi, -a.lo}; }
Interval mul(Interval a, Interval b) {
  double c[] = {times(a.lo, b.lo), times(a.lo, b.hi), times(a.hi, b.lo),
                times(a.hi, b.hi)};
  return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
}
Interval scale(Interval a, double k) { return mul(a, {k, k}); }
Interval hull(Interval a, Interval b) { return Interval::join(a, b); }
/// f monotone non-decreasing.
template <typename F>
Interval monotone(Interval a, F f) {
  return {f(a.lo), f(a.hi)};
}
/// x * S(x) activations: monotone beyond their minimum at `argmin`.
Interval dip(Interval a, double (*f)(double), double argmin) {
  double lo = a.lo <= argmin && argmin <= a.hi ? f(argmin)
                                               : std::min(f(a.lo), f(a.hi));
  return {lo, std::max(f(a.lo), f(a.hi))};
}
/// A piecewise polynomial over `a`: the hull, over the pieces `a` meets, of
/// each piece's Horner evaluation in interval arithmetic (sound, if loose).
Interval polynomialRange(tfm::PolynomialOp p, Interval a) {
  ArrayRef<double> knots = p.getKnots();
  Interval out;
  for (int64_t i = 0, n = p.getCenters().size(); i < n; ++i) {
    double lo = i == 0 ? -INFINITY : knots[i - 1];
    double hi = i + 1 == n ? INFINITY : knots[i];
    Interval x(std::max(a.lo, lo), std::min(a.hi, hi));
    if (x.lo > x.hi)
      continue;
    double c = p.getCenters()[i], h = p.getHalfWidths()[i];
    Interval u((x.lo - c) / h, (x.hi - c) / h), y(0, 0);
    ArrayRef<double> coef = p.getPiece(i);
    for (double k : llvm::reverse(coef))
      y = add(mul(y, u), {k, k});
    out = hull(out, y);
  }
  return out;
}
double gelu(double x) {
  if (std::isinf(x))
    return x > 0 ? x : 0;
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}
double silu(double x) {
  if (std::isinf(x))
    return x > 0 ? x : 0;
  return x / (1 + std::exp(-x));
}

int64_t numElements(Type t) {
  auto s = dyn_cast<ShapedType>(t);
  return s && s.hasStaticShape() ? s.getNumElements() : 1;
}
int64_t lastDim(Value v) {
  auto s = dyn_cast<ShapedType>(v.getType());
  return s && s.getRank() > 0 ? s.getShape().back() : 1;
}

/// The ONNX node name the importer put in the location, or "".
std::string nodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

/// Ops that are one ONNX node each, so that the node's calibrated range is
/// the op's (a fused op is named after one node of its pattern, whose output
/// is not the fused op's).
bool isOneNode(Operation *op) {
  return isa<tfm::AddOp, tfm::SubOp, tfm::MulOp, tfm::DivOp, tfm::MatMulOp,
             tfm::NegOp, tfm::MaxOp, tfm::EmbeddingOp, tfm::ReshapeOp,
             tfm::TransposeOp, tfm::SliceOp, tfm::ConcatOp, tfm::ExpandOp,
             tfm::GatherOp, tfm::ReluOp, tfm::ExpOp, tfm::TanhOp,
             tfm::SigmoidOp, tfm::ErfOp, tfm::SqrtOp, tfm::ReciprocalOp,
             tfm::PowOp, tfm::WhereOp, tfm::ReduceSumOp, tfm::ReduceMeanOp,
             tfm::ReduceMaxOp, tfm::CastOp>(op);
}

/// Float semantics of each tfm op on intervals.
Interval transfer(Operation *op, ArrayRef<Interval> in) {
  auto arg = [&](unsigned i) {
    return i < in.size() ? in[i] : Interval::unbounded();
  };
  return llvm::TypeSwitch<Operation *, Interval>(op)
      .Case([&](tfm::AddOp) { return add(arg(0), arg(1)); })
      .Case([&](tfm::SubOp) { return add(arg(0), neg(arg(1))); })
      .Case([&](tfm::MulOp) { return mul(arg(0), arg(1)); })
      .Case([&](tfm::DivOp) {
        Interval d = arg(1);
        if (d.lo > 0 || d.hi < 0)
          return mul(arg(0), {1 / d.hi, 1 / d.lo});
        return Interval::unbounded();
      })
      .Case([&](tfm::PowOp p) {
        std::optional<double> e = getScalarConstant(p.getRhs());
        Interval x = arg(0);
        if (e && *e == 2) {
          double m = x.magnitude();
          double lo = x.lo <= 0 && 0 <= x.hi ? 0 : std::min(x.lo * x.lo,
                                                            x.hi * x.hi);
          return Interval(lo, m * m);
        }
        if (e && x.lo >= 0 && *e > 0)
          return Interval(std::pow(x.lo, *e), std::pow(x.hi, *e));
        return Interval::unbounded();
      })
      .Case([&](tfm::MaxOp) {
        return Interval(std::max(arg(0).lo, arg(1).lo),
                        std::max(arg(0).hi, arg(1).hi));
      })
      .Case([&](tfm::NegOp) { return neg(arg(0)); })
      .Case([&](tfm::SqrtOp) {
        return Interval(std::sqrt(std::max(arg(0).lo, 0.0)),
                        std::sqrt(std::max(arg(0).hi, 0.0)));
      })
      .Case([&](tfm::ReciprocalOp) {
        Interval d = arg(0);
        if (d.lo > 0 || d.hi < 0)
          return Interval(1 / d.hi, 1 / d.lo);
        return Interval::unbounded();
      })
      .Case([&](tfm::ExpOp) {
        return monotone(arg(0), [](double x) { return std::exp(x); });
      })
      .Case([&](tfm::ErfOp) {
        return monotone(arg(0), [](double x) { return std::erf(x); });
      })
      .Case([&](tfm::TanhOp) {
        return monotone(arg(0), [](double x) { return std::tanh(x); });
      })
      .Case([&](tfm::SigmoidOp) {
        return monotone(arg(0),
                        [](double x) { return 1 / (1 + std::exp(-x)); });
      })
      .Case([&](tfm::ReluOp) {
        return Interval(std::max(arg(0).lo, 0.0), std::max(arg(0).hi, 0.0));
      })
      .Case([&](tfm::GeluOp) { return dip(arg(0), gelu, -0.7517916); })
      .Case([&](tfm::SiluOp) { return dip(arg(0), silu, -1.2784645); })
      .Case<tfm::EqualOp, tfm::LessOp>([&](Operation *) {
        return Interval(0, 1);
      })
      .Case([&](tfm::WhereOp) { return hull(arg(1), arg(2)); })
      .Case([&](tfm::MatMulOp m) {
        return scale(mul(arg(0), arg(1)), double(lastDim(m.getLhs())));
      })
      .Case([&](tfm::LinearOp l) {
        Interval y = scale(mul(arg(0), arg(1)), double(lastDim(l.getInput())));
        return l.getBias() ? add(y, arg(2)) : y;
      })
      .Case<tfm::SoftmaxOp, tfm::KernelSoftmaxOp>(
          [&](Operation *) { return Interval(0, 1); })
      .Case([&](tfm::PolynomialOp p) { return polynomialRange(p, arg(0)); })
      .Case([&](tfm::OneHotOp) { return Interval(0, 1); })
      .Case([&](tfm::LogSoftmaxOp ls) {
        // x - max - log(sum exp(x - max)), the sum in [1, n].
        auto ty = cast<ShapedType>(ls.getInput().getType());
        int64_t axis = static_cast<int64_t>(ls.getAxis());
        int64_t n = ty.getDimSize(axis < 0 ? axis + ty.getRank() : axis);
        Interval x = arg(0);
        return Interval(x.lo - x.hi - std::log(double(std::max<int64_t>(n, 1))),
                        0);
      })
      .Case([&](tfm::LayerNormOp ln) {
        // |x - mean| / std <= sqrt(N - 1) over N normalised elements.
        auto ty = cast<ShapedType>(ln.getInput().getType());
        // (the attribute's getter is unsigned: -1 must be read as signed)
        int64_t axis = static_cast<int64_t>(ln.getAxis());
        if (axis < 0)
          axis += ty.getRank();
        int64_t n = 1;
        for (int64_t d = axis; d < ty.getRank(); ++d)
          n *= ty.getDimSize(d);
        double s = std::sqrt(double(std::max<int64_t>(n - 1, 1)));
        Interval y(-s, s);
        unsigned next = 1;
        if (ln.getScale())
          y = mul(y, arg(next++));
        if (ln.getBias())
          y = add(y, arg(next));
        return y;
      })
      .Case([&](tfm::RmsNormOp rn) {
        double s = std::sqrt(double(lastDim(rn.getInput())));
        Interval y(-s, s);
        return rn.getScale() ? mul(y, arg(1)) : y;
      })
      .Case([&](tfm::CausalMaskOp) { return arg(0); }) // masked: structural
      .Case([&](tfm::EmbeddingOp) { return arg(0); })
      .Case([&](tfm::ReduceSumOp r) {
        double k = double(numElements(r.getInput().getType())) /
                   double(numElements(r.getOutput().getType()));
        return scale(arg(0), k);
      })
      .Case<tfm::ReduceMeanOp, tfm::ReduceMaxOp, tfm::ReshapeOp,
            tfm::TransposeOp, tfm::ExpandOp, tfm::SliceOp, tfm::GatherOp,
            tfm::CastOp>([&](Operation *) { return arg(0); })
      .Case([&](tfm::ConcatOp) {
        Interval y;
        for (const Interval &i : in)
          y = hull(y, i);
        return y;
      })
      // Elementwise functions (FunctionLowerings.cpp): monotone or bounded.
      .Case([&](tfm::FloorOp) {
        return monotone(arg(0), [](double x) { return std::floor(x); });
      })
      .Case([&](tfm::CeilOp) {
        return monotone(arg(0), [](double x) { return std::ceil(x); });
      })
      .Case([&](tfm::RoundOp) {
        return monotone(arg(0), [](double x) { return std::nearbyint(x); });
      })
      .Case([&](tfm::SignOp) {
        return monotone(arg(0), [](double x) {
          return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
        });
      })
      .Case([&](tfm::AtanOp) {
        return monotone(arg(0), [](double x) { return std::atan(x); });
      })
      .Case([&](tfm::SinhOp) {
        return monotone(arg(0), [](double x) { return std::sinh(x); });
      })
      .Case([&](tfm::AsinhOp) {
        return monotone(arg(0), [](double x) { return std::asinh(x); });
      })
      .Case([&](tfm::AtanhOp) {
        return monotone(arg(0), [](double x) {
          return std::atanh(std::clamp(x, -1.0, 1.0));
        });
      })
      .Case<tfm::SinOp, tfm::CosOp>([&](Operation *) { return Interval(-1, 1); })
      .Case([&](tfm::AsinOp) { return Interval(-M_PI_2, M_PI_2); })
      .Case([&](tfm::AcosOp) { return Interval(0, M_PI); })
      .Case([&](tfm::CoshOp) {
        return dip(arg(0), [](double x) { return std::cosh(x); }, 0.0);
      })
      .Case([&](tfm::AcoshOp) {
        Interval x = arg(0);
        return Interval(std::acosh(std::max(x.lo, 1.0)),
                        std::acosh(std::max(x.hi, 1.0)));
      })
      .Default([](Operation *) { return Interval::unbounded(); });
}

} // namespace

//===----------------------------------------------------------------------===//
// The dataflow analysis
//===----------------------------------------------------------------------===//

LogicalResult RangeAnalysis::visitOperation(
    Operation *op, ArrayRef<const RangeLattice *> operands,
    ArrayRef<RangeLattice *> results) {
  Interval r;
  if (op->hasTrait<OpTrait::ConstantLike>() && op->getNumResults() == 1) {
    std::optional<SmallVector<double>> v = getConstantValues(op->getResult(0));
    if (v && !v->empty()) {
      r = {(*v)[0], (*v)[0]};
      for (double x : *v)
        if (!std::isnan(x))
          r = {std::min(r.lo, x), std::max(r.hi, x)};
    } else {
      r = Interval::unbounded();
    }
  } else {
    SmallVector<Interval> in;
    for (const RangeLattice *o : operands) {
      if (o->getValue().isUninitialized())
        return success(); // wait for every operand
      in.push_back(o->getValue());
    }
    r = transfer(op, in);
    if (isOneNode(op)) {
      auto it = options.calibration.find(nodeName(op->getLoc()));
      if (it != options.calibration.end())
        r = it->second;
    }
  }
  for (RangeLattice *result : results)
    propagateIfChanged(result, result->join(r));
  return success();
}

void RangeAnalysis::setToEntryState(RangeLattice *lattice) {
  Interval r = Interval::unbounded();
  if (auto arg = dyn_cast<BlockArgument>(lattice->getAnchor()))
    if (auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                        "onnx.name")) {
        if (auto it = options.inputs.find(name.getValue());
            it != options.inputs.end())
          r = it->second;
        else if (auto c = options.calibration.find(name.getValue());
                 c != options.calibration.end())
          r = c->second;
      }
  propagateIfChanged(lattice, lattice->join(r));
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

std::string umbra::parseInputRange(StringRef spec, RangeOptions &opts) {
  auto [name, range] = spec.rsplit('=');
  auto [lo, hi] = range.split(':');
  double l, h;
  if (name.empty() || lo.trim().getAsDouble(l) || hi.trim().getAsDouble(h) ||
      !(l <= h))
    return "--input-range '" + spec.str() +
           "' is not NAME=LO:HI with LO <= HI (e.g. x=-4:4)";
  opts.inputs[name] = Interval(l, h);
  return "";
}

std::string umbra::readCalibration(StringRef path, RangeOptions &opts) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return "cannot read calibration file '" + path.str() +
           "': " + buf.getError().message();
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buf)->getBuffer());
  if (!json)
    return "calibration file '" + path.str() +
           "' is not JSON: " + llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  if (!root || !root->getObject("nodes"))
    return "calibration file '" + path.str() +
           "' has no \"nodes\" object (write it with "
           "umbra_models.calibrate)";
  for (StringRef section : {"inputs", "nodes"}) {
    const llvm::json::Object *o = root->getObject(section);
    if (!o)
      continue;
    for (const auto &[key, value] : *o) {
      const llvm::json::Array *a = value.getAsArray();
      std::optional<double> lo = a && a->size() == 2 ? (*a)[0].getAsNumber()
                                                     : std::nullopt;
      std::optional<double> hi = a && a->size() == 2 ? (*a)[1].getAsNumber()
                                                     : std::nullopt;
      if (!lo || !hi || !(*lo <= *hi))
        return "calibration file '" + path.str() + "': entry '" + key.str() +
               "' of \"" + section.str() + "\" is not [min, max]";
      opts.calibration[key.str()] = Interval(*lo, *hi);
    }
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Findings, warnings, report
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<RangeFinding>>
umbra::analyzeRanges(ModuleOp module, const RangeOptions &options) {
  // A range for an input the model does not have is a mistake (a typo),
  // never a silently unbounded input.
  std::string names;
  llvm::StringSet<> known;
  for (auto func : module.getOps<func::FuncOp>())
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (auto n = func.getArgAttrOfType<StringAttr>(i, "onnx.name")) {
        known.insert(n.getValue());
        names += (names.empty() ? "" : ", ") + n.getValue().str();
      }
  for (const auto &entry : options.inputs)
    if (!known.contains(entry.getKey()))
      return emitError(module.getLoc(), "--input-range names '")
             << entry.getKey() << "', which is no graph input; the graph "
             << "inputs are: " << names;
  DataFlowSolver solver;
  dataflow::loadBaselineAnalyses(solver);
  solver.load<RangeAnalysis>(options);
  if (failed(solver.initializeAndRun(module)))
    return failure();
  auto rangeOf = [&](Value v) {
    const RangeLattice *l = solver.lookupState<RangeLattice>(v);
    return l ? l->getValue() : Interval();
  };
  const ApproximationDomains &d = options.domains;
  double f = d.fracBits;
  SmallVector<RangeFinding> out;
  module.walk([&](Operation *op) {
    if (op->getDialect() == nullptr ||
        op->getDialect()->getNamespace() != "tfm" || op->getNumResults() != 1)
      return;
    RangeFinding fd;
    fd.op = op;
    fd.name = nodeName(op->getLoc());
    fd.range = rangeOf(op->getResult(0));
    fd.calibrated = isOneNode(op) && options.calibration.count(fd.name);
    // The magnitude the encoding must hold: a product before its
    // truncation carries 2f fractional bits.
    double magnitude = fd.range.magnitude();
    fd.isProduct = isa<tfm::MulOp, tfm::MatMulOp, tfm::LinearOp>(op);
    if (isa<tfm::RmsNormOp, tfm::LayerNormOp>(op) ||
        (isa<tfm::PowOp>(op) && !op->getOperands().empty())) {
      double m = rangeOf(op->getOperand(0)).magnitude();
      fd.isProduct = true;
      magnitude = std::max(magnitude, m * m);
    }
    fd.magnitude = magnitude;
    double limitBits = 63 - (fd.isProduct ? 2 * f : f);
    fd.headroomBits = fd.range.isUninitialized() || !std::isfinite(magnitude)
                          ? NAN
                      : magnitude == 0 ? INFINITY
                                       : limitBits - std::log2(magnitude);
    auto note = [&](const std::string &what, bool violated) {
      fd.domains.push_back({what, violated});
    };
    auto fmt = [](double v) { return str(v); };
    if (auto k = dyn_cast<tfm::KernelSoftmaxOp>(op)) {
      Interval x = rangeOf(op->getOperand(0));
      double b = k.getScoreBound().convertToDouble();
      note("scores [" + fmt(x.lo) + ", " + fmt(x.hi) + "] in [" + fmt(-b) +
               ", " + fmt(b) + "] (the kernel sum's reciprocal, score_bound)",
           !(x.lo >= -b && x.hi <= b));
    } else if (isa<tfm::SoftmaxOp, tfm::LogSoftmaxOp>(op)) {
      Interval x = rangeOf(op->getOperand(0));
      double lo = x.lo - x.hi, dom = -std::ldexp(1.0, int(d.expSquarings));
      note("exp argument [" + fmt(lo) + ", 0] in [" + fmt(dom) +
               ", 0] (exp-squarings " + std::to_string(d.expSquarings) + ")",
           !(lo >= dom));
    } else if (isa<tfm::RmsNormOp, tfm::LayerNormOp>(op)) {
      Interval x = rangeOf(op->getOperand(0));
      double var = isa<tfm::RmsNormOp>(op)
                       ? x.magnitude() * x.magnitude()
                       : (x.hi - x.lo) * (x.hi - x.lo) / 4;
      std::optional<APFloat> stated =
          isa<tfm::RmsNormOp>(op) ? cast<tfm::RmsNormOp>(op).getVarianceMax()
                                  : cast<tfm::LayerNormOp>(op).getVarianceMax();
      double max = stated ? stated->convertToDouble() : d.varianceMax;
      note("variance [0, " + fmt(var) + "] in [0, " + fmt(max) +
               (stated ? "] (rsqrt strategy, variance_max)"
                       : "] (rsqrt domain, variance-max)"),
           !(var <= max));
    } else if (isa<tfm::GeluOp, tfm::SiluOp>(op)) {
      double t = isa<tfm::GeluOp>(op) ? d.geluThreshold : d.siluThreshold;
      Interval x = rangeOf(op->getOperand(0));
      note("polynomial on |x| < " + fmt(t) + ", ReLU beyond: input " +
               (x.magnitude() < t ? "within the polynomial's range"
                                  : "reaches the ReLU tail"),
           false);
    }
    out.push_back(std::move(fd));
  });
  return out;
}

unsigned umbra::emitRangeWarnings(ModuleOp module,
                                  ArrayRef<RangeFinding> findings,
                                  const RangeOptions &options) {
  // The warning names the node and what it breaks; the op's IR adds
  // nothing for the user.
  MLIRContext *ctx = module.getContext();
  bool printOp = ctx->shouldPrintOpOnDiagnostic();
  ctx->printOpOnDiagnostic(false);
  auto restore = llvm::make_scope_exit([&] { ctx->printOpOnDiagnostic(printOp); });
  unsigned n = 0;
  for (auto func : module.getOps<func::FuncOp>())
    for (BlockArgument arg : func.getArguments()) {
      auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                    "onnx.name");
      auto ty = dyn_cast<ShapedType>(arg.getType());
      if (!ty || !isa<FloatType>(ty.getElementType()))
        continue;
      StringRef n0 = name ? name.getValue() : StringRef();
      if (options.inputs.count(n0) || options.calibration.count(n0))
        continue;
      func.emitWarning("range: input '")
          << n0 << "' has no declared range (--input-range " << n0
          << "=LO:HI): the values computed from it are unbounded";
      ++n;
    }
  int frac = options.domains.fracBits;
  for (const RangeFinding &fd : findings) {
    std::string who = "'" + fd.name + "' (" +
                      fd.op->getName().getStringRef().str() + ")";
    if (fd.headroomBits < 0) {
      fd.op->emitWarning("range: fixed point could overflow at ")
          << who << ": magnitude up to "
          << str(fd.magnitude)
          << (fd.isProduct ? " in a product" : "") << " exceeds 2^"
          << (63 - (fd.isProduct ? 2 : 1) * frac) << " at " << frac
          << " fractional bits (" << str(-fd.headroomBits, "%.1f") << " bits short)";
      ++n;
    }
    for (const auto &[what, violated] : fd.domains)
      if (violated) {
        fd.op->emitWarning("range: approximation evaluated outside its "
                           "domain at ")
            << who << ": " << what;
        ++n;
      }
  }
  return n;
}

void umbra::printRangeReport(ArrayRef<RangeFinding> findings,
                             const RangeOptions &options, raw_ostream &os) {
  int f = options.domains.fracBits;
  os << "range report: " << findings.size() << " ops, " << f
     << " fractional bits (values below 2^" << 63 - f
     << ", products before truncation below 2^" << 63 - 2 * f << ")\n";
  unsigned calibrated = 0, unbounded = 0, short_ = 0, outside = 0;
  for (const RangeFinding &fd : findings) {
    calibrated += fd.calibrated;
    unbounded += !fd.range.isBounded();
    short_ += fd.headroomBits < 0;
    os << "  '" << fd.name << "' " << fd.op->getName() << " ";
    if (fd.range.isBounded())
      fd.range.print(os);
    else
      os << "unbounded";
    os << (fd.calibrated ? " (calibrated)" : "") << " headroom ";
    if (std::isnan(fd.headroomBits))
      os << "unknown";
    else if (std::isinf(fd.headroomBits))
      os << "inf";
    else
      os << llvm::format("%.1f", fd.headroomBits) << " bits";
    if (fd.headroomBits < 0)
      os << " OVERFLOW";
    for (const auto &[what, violated] : fd.domains) {
      os << "; " << what << (violated ? ": OUTSIDE" : ": ok");
      outside += violated;
    }
    os << "\n";
  }
  os << "range summary: " << unbounded << " unbounded, " << short_
     << " could overflow, " << outside << " outside an approximation's domain, "
     << calibrated << " calibrated\n";
}
