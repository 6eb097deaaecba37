//===- PublicStructure.cpp - tables that are functions of the architecture ===//
//
// Each recogniser fits the formula's parameters from a few elements, then
// checks every element against the formula; only an exact match (within the
// element type's rounding) is recognised. See PublicStructure.h.
//
//===----------------------------------------------------------------------===//
#include "umbra/Support/PublicStructure.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace umbra::structure;
using llvm::ArrayRef;

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// The length of a tensor with at most one dimension above 1 (a vector in
/// any of its broadcast shapes: [n], [1,n], [n,1,1], ...).
std::optional<int64_t> vectorLength(ArrayRef<int64_t> shape) {
  int64_t n = 1, big = 0;
  for (int64_t d : shape) {
    n *= d;
    big += d > 1;
  }
  if (big > 1)
    return std::nullopt;
  return n;
}

//===----------------------------------------------------------------------===//
// Masks: two values, one where lo <= j - i <= hi (i row, j column).
//===----------------------------------------------------------------------===//

/// Masked-position fills exporters write: -inf, finfo(float32).min,
/// finfo(float16).min, -1e9, -1e4, -1e30.
bool isConventionalFill(double v) {
  if (v == -std::numeric_limits<double>::infinity())
    return true;
  for (double f : {(double)-FLT_MAX, -65504.0, -1e9, -1e4, -1e30})
    if (v == f || v == (double)(float)f)
      return true;
  return false;
}

std::optional<Recognized> recognizeMask(ArrayRef<int64_t> shape,
                                        ArrayRef<double> m) {
  size_t rank = shape.size();
  if (rank < 2)
    return std::nullopt;
  for (size_t i = 0; i + 2 < rank; ++i)
    if (shape[i] != 1)
      return std::nullopt;
  int64_t rows = shape[rank - 2], cols = shape[rank - 1];
  // At least 3 x 3: a 2 x 2 pattern is too weak a witness.
  if (rows < 3 || cols < 3)
    return std::nullopt;
  double a = m[0], b = a;
  for (double v : m) {
    if (std::isnan(v))
      return std::nullopt;
    if (v != a) {
      if (b != a && v != b)
        return std::nullopt; // a third value
      b = v;
    }
  }
  if (a == b)
    return std::nullopt; // a constant: no pattern to witness
  // (allowed, masked) readings of the two values.
  std::vector<std::pair<double, double>> readings;
  double lowV = std::min(a, b), highV = std::max(a, b);
  if (lowV == 0 && highV == 1) {
    readings = {{1, 0}, {0, 1}};
  } else if (highV == 0 && isConventionalFill(lowV)) {
    readings = {{0, lowV}};
  } else {
    return std::nullopt;
  }
  for (auto [allowed, masked] : readings) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (m[i * cols + j] == allowed) {
          lo = std::min(lo, j - i);
          hi = std::max(hi, j - i);
        }
    bool ok = true;
    for (int64_t i = 0; i < rows && ok; ++i)
      for (int64_t j = 0; j < cols && ok; ++j)
        ok = (m[i * cols + j] == allowed) == (lo <= j - i && j - i <= hi);
    if (!ok)
      continue;
    bool noLower = lo == -(rows - 1), noUpper = hi == cols - 1;
    std::string what;
    if (noLower && !noUpper)
      what = hi == 0 ? "causal (lower-triangular)"
                     : "causal with offset " + std::to_string(hi);
    else if (!noLower && hi == 0)
      what = "sliding window of " + std::to_string(hi - lo + 1);
    else
      what = "band";
    std::string kind = masked == 0 || masked == 1 ? "0/1" : "additive";
    Recognized r;
    r.kind = "mask";
    r.formula = kind + " " + what + " mask: " + num(allowed) + " where " +
                std::to_string(lo) + " <= j - i <= " + std::to_string(hi) +
                ", else " + num(masked) + " (i = row 0.." +
                std::to_string(rows - 1) + ", j = column 0.." +
                std::to_string(cols - 1) + ")";
    r.values.assign(m.begin(), m.end()); // exact: nothing to replace
    return r;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Position ids: v0, v0 + 1, ..., v0 + n - 1 with an integer v0 >= 0.
//===----------------------------------------------------------------------===//

std::optional<Recognized> recognizePositionIds(ArrayRef<int64_t> shape,
                                               ArrayRef<double> m) {
  std::optional<int64_t> n = vectorLength(shape);
  if (!n || *n < 3)
    return std::nullopt;
  double v0 = m[0];
  if (!(v0 >= 0) || v0 != std::floor(v0) || v0 + *n > (1 << 24))
    return std::nullopt;
  for (int64_t i = 0; i < *n; ++i)
    if (m[i] != v0 + i)
      return std::nullopt;
  Recognized r;
  r.kind = "position ids";
  r.formula = "position ids arange(" + num(v0) + ", " + num(v0 + *n) + ")";
  r.values.assign(m.begin(), m.end());
  return r;
}

//===----------------------------------------------------------------------===//
// ALiBi slopes (Press et al.): for n heads and m = 2^floor(log2 n),
// 2^(-b(h+1)/m) for h < m, then 2^(-b(2k+1)/(2m)) for k < n - m; b = 8.
//===----------------------------------------------------------------------===//

std::vector<double> alibiSlopes(int64_t n, double b) {
  int64_t m = 1;
  while (2 * m <= n)
    m *= 2;
  std::vector<double> s;
  for (int64_t h = 0; h < m; ++h)
    s.push_back(std::exp2(-b * double(h + 1) / double(m)));
  for (int64_t k = 0; k < n - m; ++k)
    s.push_back(std::exp2(-b * double(2 * k + 1) / double(2 * m)));
  return s;
}

std::optional<Recognized> recognizeAlibi(ArrayRef<int64_t> shape,
                                         ArrayRef<double> m, double u) {
  std::optional<int64_t> n = vectorLength(shape);
  if (!n || *n < 2 || !(m[0] > 0 && m[0] < 1))
    return std::nullopt;
  int64_t p = 1;
  while (2 * p <= *n)
    p *= 2;
  double fitted = -double(p) * std::log2(m[0]);
  auto matches = [&](double b) -> std::optional<std::vector<double>> {
    std::vector<double> s = alibiSlopes(*n, b);
    for (int64_t h = 0; h < *n; ++h)
      if (!(std::fabs(m[h] - s[h]) <= 8 * u * s[h]))
        return std::nullopt;
    return s;
  };
  double b = std::round(fitted);
  std::optional<std::vector<double>> s = matches(b);
  if (!s)
    s = matches(b = fitted);
  if (!s)
    return std::nullopt;
  Recognized r;
  r.kind = "alibi slopes";
  std::string bs = num(b), ms = std::to_string(p);
  r.formula = "alibi slopes of " + std::to_string(*n) + " heads: 2^(-" + bs +
              "(h+1)/" + ms + ") for h = 0.." + std::to_string(p - 1);
  if (*n > p)
    r.formula += ", then 2^(-" + bs + "(2k+1)/" + std::to_string(2 * p) +
                 ") for k = 0.." + std::to_string(*n - p - 1) +
                 " (the rule for a head count that is not a power of two)";
  r.values = std::move(*s);
  return r;
}

//===----------------------------------------------------------------------===//
// Rotary tables: cos or sin of p * a * r^j(c), p = 0..T-1 (rows), where the
// column c maps to the frequency index j(c) by the layout, and columns past
// the rotary width R pass through (cos 1, sin 0). θ = r^(-F) for F
// frequencies (ω_j = a theta^(-2j/(2F))), a the linear position scale.
//===----------------------------------------------------------------------===//

enum class Layout { HalfSplit, Interleaved, Unique };

const char *layoutName(Layout l) {
  switch (l) {
  case Layout::HalfSplit:
    return "half-split (rotate_half) layout, j = c mod R/2";
  case Layout::Interleaved:
    return "interleaved (rotate_every_two) layout, j = c div 2";
  case Layout::Unique:
    return "one column per frequency, j = c";
  }
  return "";
}

struct RotaryTable {
  int64_t rows, cols;
  ArrayRef<double> m;
  bool isCos;
  double u;

  double at(int64_t p, int64_t c) const { return m[p * cols + c]; }
  double f(double angle) const {
    return isCos ? std::cos(angle) : std::sin(angle);
  }

  /// The angle consistent with `value` nearest to `predicted`.
  double nearestAngle(double value, double predicted) const {
    double v = std::clamp(value, -1.0, 1.0);
    double base = isCos ? std::acos(v) : std::asin(v);
    double cands[2] = {base, isCos ? -base : M_PI - base};
    double best = 0, bestDist = INFINITY;
    for (double c : cands) {
      double k = std::round((predicted - c) / (2 * M_PI));
      double a = c + 2 * M_PI * k;
      if (std::fabs(a - predicted) < bestDist) {
        bestDist = std::fabs(a - predicted);
        best = a;
      }
    }
    return best;
  }

  /// Column c's angular frequency, refined along doubling positions.
  double frequency(int64_t c) const {
    double w = isCos ? std::acos(std::clamp(at(1, c), -1.0, 1.0))
                     : std::asin(std::clamp(at(1, c), -1.0, 1.0));
    if (!isCos && rows > 2) {
      // asin is ambiguous beyond π/2: sin(2w) decides.
      double alt = M_PI - w;
      if (std::fabs(std::sin(2 * alt) - at(2, c)) <
          std::fabs(std::sin(2 * w) - at(2, c)))
        w = alt;
    }
    for (int64_t p = 2; p < rows; p = p == rows - 1 ? rows
                                                     : std::min(2 * p, rows - 1))
      w = nearestAngle(at(p, c), double(p) * w) / double(p);
    return w;
  }

  bool passesThrough(int64_t c) const {
    for (int64_t p = 0; p < rows; ++p)
      if (at(p, c) != (isCos ? 1.0 : 0.0))
        return false;
    return true;
  }

  int64_t freqIndex(Layout l, int64_t c, int64_t width) const {
    switch (l) {
    case Layout::HalfSplit:
      return c % (width / 2);
    case Layout::Interleaved:
      return c / 2;
    case Layout::Unique:
      return c;
    }
    return c;
  }

  /// The formula's values for (a, r), or nullopt if one element differs
  /// by more than the rounding of the element type allows: the angle p·ω
  /// is itself rounded (relative error a few units), hence the tolerance
  /// grows with it.
  std::optional<std::vector<double>> check(Layout l, int64_t width, double a,
                                           double r) const {
    std::vector<double> out(m.size());
    for (int64_t c = 0; c < cols; ++c) {
      double w = c < width ? a * std::pow(r, double(freqIndex(l, c, width)))
                           : 0.0;
      for (int64_t p = 0; p < rows; ++p) {
        double angle = double(p) * w;
        double want = f(angle);
        if (!(std::fabs(at(p, c) - want) <= 32 * u * (1 + std::fabs(angle))))
          return std::nullopt;
        out[p * cols + c] = want;
      }
    }
    return out;
  }
};

std::optional<Recognized> recognizeRotary(ArrayRef<int64_t> shape,
                                          ArrayRef<double> m, double u) {
  if (shape.size() < 2)
    return std::nullopt;
  std::optional<int64_t> rowsOpt = vectorLength(shape.drop_back());
  int64_t cols = shape.back();
  if (!rowsOpt || *rowsOpt < 4 || cols < 2)
    return std::nullopt;
  RotaryTable t{*rowsOpt, cols, m, false, u};
  bool ones = true, zeros = true;
  for (int64_t c = 0; c < cols; ++c) {
    ones &= t.at(0, c) == 1.0;
    zeros &= t.at(0, c) == 0.0;
  }
  if (!ones && !zeros)
    return std::nullopt; // positions start at 0: cos 0 = 1, sin 0 = 0
  for (double v : m)
    if (!(std::fabs(v) <= 1))
      return std::nullopt;
  t.isCos = ones;
  std::vector<double> omega(cols);
  for (int64_t c = 0; c < cols; ++c)
    omega[c] = t.frequency(c);

  // Rotary widths: all columns, then (partial rotary) every even width
  // whose remaining columns all pass through.
  std::vector<int64_t> widths = {cols};
  for (int64_t w = cols - 1; w >= 2 && t.passesThrough(w); --w)
    widths.push_back(w);
  for (int64_t width : widths) {
    for (Layout l : {Layout::HalfSplit, Layout::Interleaved, Layout::Unique}) {
      if (l != Layout::Unique && width % 2)
        continue;
      int64_t freqs = l == Layout::Unique ? width : width / 2;
      if (freqs < 2)
        continue;
      // Weighted least squares of log ω = log a + j log r over the
      // columns whose largest angle is well conditioned (weight: that
      // angle squared, so the fit minimises angle errors).
      double sw = 0, sj = 0, sy = 0, sjj = 0, sjy = 0;
      for (int64_t c = 0; c < width; ++c) {
        double big = double(t.rows - 1) * omega[c];
        if (!(omega[c] > 0) || big < 1e-3)
          continue;
        double wgt = big * big, j = double(t.freqIndex(l, c, width)),
               y = std::log(omega[c]);
        sw += wgt, sj += wgt * j, sy += wgt * y, sjj += wgt * j * j,
            sjy += wgt * j * y;
      }
      double det = sw * sjj - sj * sj;
      if (!(sw > 0) || !(std::fabs(det) > 1e-12 * sw * sjj))
        continue;
      double logR = (sw * sjy - sj * sy) / det, logA = (sy - logR * sj) / sw;
      double a = std::exp(logA), r = std::exp(logR);
      double theta = std::exp(-logR * double(freqs));
      // Prefer round parameters when they match too (a shorter, cleaner
      // fact in the report): θ to 1..6 significant digits, a = 1/k.
      double bestA = a, bestTheta = theta;
      std::optional<std::vector<double>> values;
      double scale = std::round(1 / a);
      for (int digits = 1; digits <= 6 && !values; ++digits) {
        double mag = std::pow(10, std::floor(std::log10(theta)) - digits + 1);
        double th = std::round(theta / mag) * mag;
        for (double aa : {scale > 0 ? 1 / scale : a, a}) {
          values = t.check(l, width, aa, std::pow(th, -1.0 / double(freqs)));
          if (values) {
            bestA = aa, bestTheta = th;
            break;
          }
        }
      }
      if (!values)
        values = t.check(l, width, a, r);
      if (!values)
        continue;
      Recognized rec;
      rec.kind = t.isCos ? "rotary cos" : "rotary sin";
      std::string fn = t.isCos ? "cos" : "sin";
      std::string scaleText =
          bestA == 1 ? "" : " * " + num(bestA) + " (linear position scaling)";
      rec.formula = "rotary " + fn + "(p" + scaleText + " * theta^(-2j/" +
                    std::to_string(2 * freqs) + ")), theta = " + num(bestTheta) +
                    ", p = 0.." + std::to_string(t.rows - 1) + ", " +
                    layoutName(l) + ", R = " + std::to_string(width) +
                    " of " + std::to_string(cols) + " columns";
      if (width < cols)
        rec.formula += std::string(" (partial rotary: the rest pass through, ") +
                       (t.isCos ? "1" : "0") + ")";
      rec.values = std::move(*values);
      return rec;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<Recognized>
umbra::structure::recognize(ArrayRef<int64_t> shape, ArrayRef<double> values,
                            double unitRoundoff) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (n != (int64_t)values.size() || n < 2)
    return std::nullopt;
  if (auto r = recognizeMask(shape, values))
    return r;
  if (auto r = recognizePositionIds(shape, values))
    return r;
  if (auto r = recognizeAlibi(shape, values, unitRoundoff))
    return r;
  return recognizeRotary(shape, values, unitRoundoff);
}
