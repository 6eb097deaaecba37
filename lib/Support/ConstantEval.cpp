//===- ConstantEval.cpp - the one compile-time constant evaluator ---------===//
//
// Every operation is written once, as a template over the element type
// (`double` or `int64_t`); the few places where float and integer semantics
// differ (division, modulo, powers, wrapping arithmetic, float-only
// functions) are `if constexpr` branches inside that one code path.
//
//===----------------------------------------------------------------------===//
#include "umbra/Support/ConstantEval.h"

#include <limits>

#include <algorithm>
#include <climits>
#include <cmath>
#include <type_traits>

using llvm::ArrayRef;
using llvm::SmallVector;

namespace umbra::ceval {

bool isComparison(BinaryOp op) {
  switch (op) {
  case BinaryOp::Equal:
  case BinaryOp::Less:
  case BinaryOp::Greater:
  case BinaryOp::LessOrEqual:
  case BinaryOp::GreaterOrEqual:
  case BinaryOp::And:
  case BinaryOp::Or:
  case BinaryOp::Xor:
    return true;
  default:
    return false;
  }
}

int64_t Tensor::size() const {
  return std::visit([](const auto &v) { return int64_t(v.size()); }, data);
}

Tensor Tensor::zeros(ArrayRef<int64_t> shape, bool isFloat) {
  Tensor t;
  t.shape.assign(shape.begin(), shape.end());
  int64_t n = std::max<int64_t>(numElements(shape), 0);
  if (isFloat)
    t.data = std::vector<double>(n);
  else
    t.data = std::vector<int64_t>(n);
  return t;
}

double Tensor::at(int64_t k) const {
  return std::visit([&](const auto &v) { return double(v[k]); }, data);
}

int64_t numElements(ArrayRef<int64_t> shape) {
  for (int64_t d : shape)
    if (d < 0)
      return -1;
  for (int64_t d : shape)
    if (d == 0)
      return 0;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (n > INT64_MAX / d)
      return INT64_MAX;
    n *= d;
  }
  return n;
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

bool broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                     SmallVector<int64_t> &out) {
  size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[k] = da == 1 ? db : da;
  }
  return true;
}

std::vector<int64_t> stridedMap(ArrayRef<int64_t> out,
                                ArrayRef<int64_t> strides, int64_t base) {
  int64_t n = std::max<int64_t>(numElements(out), 0);
  std::vector<int64_t> map(n);
  if (n == 0)
    return map;
  size_t r = out.size();
  SmallVector<int64_t> idx(r, 0);
  int64_t cur = base;
  for (int64_t k = 0; k < n; ++k) {
    map[k] = cur;
    for (int64_t d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
      ++idx[d];
      cur += strides[d];
      if (idx[d] < out[d])
        break;
      cur -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

std::vector<int64_t> broadcastMap(ArrayRef<int64_t> out, ArrayRef<int64_t> in) {
  size_t off = out.size() - in.size();
  SmallVector<int64_t> strides(out.size(), 0);
  SmallVector<int64_t> inStrides = rowMajorStrides(in);
  for (size_t d = 0; d < in.size(); ++d)
    strides[d + off] = in[d] == 1 ? 0 : inStrides[d];
  return stridedMap(out, strides, 0);
}

std::vector<int64_t> transposeMap(ArrayRef<int64_t> in, ArrayRef<int64_t> perm,
                                  SmallVector<int64_t> &outShape) {
  SmallVector<int64_t> strides, inStrides = rowMajorStrides(in);
  outShape.clear();
  for (int64_t p : perm) {
    outShape.push_back(in[p]);
    strides.push_back(inStrides[p]);
  }
  return stridedMap(outShape, strides, 0);
}

std::vector<int64_t> sliceMap(ArrayRef<int64_t> in, ArrayRef<int64_t> offsets,
                              ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> inStrides = rowMajorStrides(in), st;
  int64_t base = 0;
  for (size_t d = 0; d < in.size(); ++d) {
    st.push_back(inStrides[d] * strides[d]);
    base += offsets[d] * inStrides[d];
  }
  return stridedMap(sizes, st, base);
}

std::vector<int64_t> gatherMap(ArrayRef<int64_t> in, int64_t axis,
                               ArrayRef<int64_t> indices) {
  int64_t outer = numElements(in.take_front(axis));
  int64_t inner = numElements(in.drop_front(axis + 1));
  int64_t dim = in[axis];
  std::vector<int64_t> map;
  map.reserve(outer * indices.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : indices)
      for (int64_t k = 0; k < inner; ++k)
        map.push_back((o * dim + j) * inner + k);
  return map;
}

Tensor remap(const Tensor &src, ArrayRef<int64_t> shape,
             const std::vector<int64_t> &map) {
  Tensor r;
  r.shape.assign(shape.begin(), shape.end());
  std::visit(
      [&](const auto &in) {
        std::decay_t<decltype(in)> out(map.size());
        for (size_t k = 0; k < map.size(); ++k)
          out[k] = in[map[k]];
        r.data = std::move(out);
      },
      src.data);
  return r;
}

Tensor reshape(const Tensor &src, ArrayRef<int64_t> shape) {
  Tensor r;
  r.shape.assign(shape.begin(), shape.end());
  r.data = src.data;
  return r;
}

namespace {

/// The elements of `t` converted to `T`.
template <typename T>
std::vector<T> elementsAs(const Tensor &t) {
  return std::visit(
      [](const auto &v) {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>,
                                     std::vector<T>>)
          return v;
        else
          return std::vector<T>(v.begin(), v.end());
      },
      t.data);
}

template <typename T>
T wrap(uint64_t v) {
  return static_cast<T>(static_cast<int64_t>(v));
}

/// One element of `x op y`. Integers wrap (two's complement) and take ONNX's
/// integer Div/Mod semantics; `err` reports a division by zero.
template <typename T>
T applyBinary(BinaryOp op, T x, T y, bool &err) {
  constexpr bool isF = std::is_floating_point_v<T>;
  switch (op) {
  case BinaryOp::Add:
    if constexpr (isF)
      return x + y;
    else
      return wrap<T>(uint64_t(x) + uint64_t(y));
  case BinaryOp::Sub:
    if constexpr (isF)
      return x - y;
    else
      return wrap<T>(uint64_t(x) - uint64_t(y));
  case BinaryOp::Mul:
    if constexpr (isF)
      return x * y;
    else
      return wrap<T>(uint64_t(x) * uint64_t(y));
  case BinaryOp::Div:
  case BinaryOp::Mod:
    if constexpr (isF) {
      return op == BinaryOp::Div ? x / y : std::fmod(x, y);
    } else {
      if (y == 0 || (x == INT64_MIN && y == -1)) {
        err = true;
        return 0;
      }
      if (op == BinaryOp::Div)
        return x / y;
      // ONNX Mod with fmod=0 has the sign of the divisor.
      T r = x % y;
      if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    }
  case BinaryOp::Pow:
    if constexpr (isF) {
      return std::pow(x, y);
    } else {
      // By squaring (a huge exponent must not spin the importer); ONNX
      // integer Pow with a negative exponent truncates 1/x^-y towards 0.
      if (y < 0)
        return x == 1 ? T(1) : x == -1 ? ((-y) % 2 ? T(-1) : T(1)) : T(0);
      uint64_t r = 1, b = uint64_t(x);
      for (uint64_t e = uint64_t(y); e; e >>= 1, b *= b)
        if (e & 1)
          r *= b;
      return wrap<T>(r);
    }
  case BinaryOp::Max:
    return std::max(x, y);
  case BinaryOp::Min:
    return std::min(x, y);
  case BinaryOp::Equal:
    return x == y;
  case BinaryOp::Less:
    return x < y;
  case BinaryOp::Greater:
    return x > y;
  case BinaryOp::LessOrEqual:
    return x <= y;
  case BinaryOp::GreaterOrEqual:
    return x >= y;
  case BinaryOp::And:
    return (x != 0) && (y != 0);
  case BinaryOp::Or:
    return (x != 0) || (y != 0);
  case BinaryOp::Xor:
    return (x != 0) != (y != 0);
  }
  return 0;
}

/// One element of `op x`; `ok` is cleared for float-only functions on
/// integers.
template <typename T>
T applyUnary(UnaryOp op, T v, bool &ok) {
  constexpr bool isF = std::is_floating_point_v<T>;
  switch (op) {
  case UnaryOp::Neg:
    return -v;
  case UnaryOp::Relu:
    return v > 0 ? v : 0;
  case UnaryOp::Abs:
    return v < 0 ? -v : v;
  case UnaryOp::Not:
    return v == 0;
  case UnaryOp::Sign:
    return v > 0 ? T(1) : v < 0 ? T(-1) : T(0);
  case UnaryOp::Floor:
    if constexpr (isF)
      return std::floor(v);
    else
      return v;
  case UnaryOp::Ceil:
    if constexpr (isF)
      return std::ceil(v);
    else
      return v;
  case UnaryOp::Round: // half to even (the default rounding mode)
    if constexpr (isF)
      return std::nearbyint(v);
    else
      return v;
  default:
    break;
  }
  if constexpr (isF) {
    switch (op) {
    case UnaryOp::Sqrt:
      return std::sqrt(v);
    case UnaryOp::Reciprocal:
      return 1.0 / v;
    case UnaryOp::Erf:
      return std::erf(v);
    case UnaryOp::Tanh:
      return std::tanh(v);
    case UnaryOp::Sigmoid:
      return 1.0 / (1.0 + std::exp(-v));
    case UnaryOp::Exp:
      return std::exp(v);
    case UnaryOp::Sin:
      return std::sin(v);
    case UnaryOp::Cos:
      return std::cos(v);
    case UnaryOp::Log:
      return std::log(v);
    case UnaryOp::Softplus:
      return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v)));
    case UnaryOp::Tan:
      return std::tan(v);
    case UnaryOp::Atan:
      return std::atan(v);
    case UnaryOp::Asin:
      return std::asin(v);
    case UnaryOp::Acos:
      return std::acos(v);
    case UnaryOp::Sinh:
      return std::sinh(v);
    case UnaryOp::Cosh:
      return std::cosh(v);
    case UnaryOp::Asinh:
      return std::asinh(v);
    case UnaryOp::Acosh:
      return std::acosh(v);
    case UnaryOp::Atanh:
      return std::atanh(v);
    default:
      break;
    }
  }
  ok = false;
  return 0;
}

/// `x op y` in the compute type `C`, stored as `R`.
template <typename C, typename R>
Status binaryIn(BinaryOp op, const Tensor &x, const Tensor &y,
                ArrayRef<int64_t> shape, Tensor &out) {
  std::vector<C> a = elementsAs<C>(x), b = elementsAs<C>(y);
  std::vector<int64_t> mx = broadcastMap(shape, x.shape),
                       my = broadcastMap(shape, y.shape);
  std::vector<R> r(mx.size());
  bool err = false;
  for (size_t e = 0; e < mx.size(); ++e)
    r[e] = static_cast<R>(applyBinary<C>(op, a[mx[e]], b[my[e]], err));
  out.shape.assign(shape.begin(), shape.end());
  out.data = std::move(r);
  return err ? Status::DivisionByZero : Status::Ok;
}

} // namespace

Status binary(BinaryOp op, const Tensor &x, const Tensor &y, bool floatResult,
              Tensor &out) {
  SmallVector<int64_t> shape;
  if (!broadcastShapes(x.shape, y.shape, shape))
    return Status::Undefined;
  bool inFloat = x.isFloat() || y.isFloat();
  bool outFloat = !isComparison(op) && floatResult;
  if (inFloat)
    return outFloat ? binaryIn<double, double>(op, x, y, shape, out)
                    : binaryIn<double, int64_t>(op, x, y, shape, out);
  return outFloat ? binaryIn<int64_t, double>(op, x, y, shape, out)
                  : binaryIn<int64_t, int64_t>(op, x, y, shape, out);
}

Status unary(UnaryOp op, const Tensor &x, Tensor &out) {
  bool ok = true;
  out.shape = x.shape;
  std::visit(
      [&](const auto &in) {
        using T = typename std::decay_t<decltype(in)>::value_type;
        std::vector<T> r(in.size());
        for (size_t e = 0; e < in.size() && ok; ++e)
          r[e] = applyUnary<T>(op, in[e], ok);
        out.data = std::move(r);
      },
      x.data);
  return ok ? Status::Ok : Status::Undefined;
}

Tensor cast(const Tensor &x, bool toFloat, bool toBool, bool toDouble) {
  Tensor r;
  r.shape = x.shape;
  std::visit(
      [&](const auto &in) {
        using T = typename std::decay_t<decltype(in)>::value_type;
        constexpr bool fromF = std::is_floating_point_v<T>;
        if (toFloat) {
          std::vector<double> o(in.begin(), in.end());
          if (fromF && !toDouble)
            for (double &v : o)
              v = double(float(v));
          r.data = std::move(o);
          return;
        }
        std::vector<int64_t> o(in.size());
        for (size_t e = 0; e < in.size(); ++e) {
          if (toBool)
            o[e] = in[e] != 0;
          else if constexpr (fromF)
            o[e] = std::isfinite(in[e]) ? static_cast<int64_t>(in[e]) : 0;
          else
            o[e] = in[e];
        }
        r.data = std::move(o);
      },
      x.data);
  return r;
}

Tensor where(const Tensor &cond, const Tensor &t, const Tensor &f,
             ArrayRef<int64_t> shape) {
  std::vector<int64_t> c = elementsAs<int64_t>(cond);
  auto mc = broadcastMap(shape, cond.shape), mt = broadcastMap(shape, t.shape),
       mf = broadcastMap(shape, f.shape);
  Tensor r;
  r.shape.assign(shape.begin(), shape.end());
  std::visit(
      [&](const auto &tv) {
        using V = std::decay_t<decltype(tv)>;
        const V &fv = std::get<V>(f.data);
        V o(mc.size());
        for (size_t e = 0; e < mc.size(); ++e)
          o[e] = c[mc[e]] != 0 ? tv[mt[e]] : fv[mf[e]];
        r.data = std::move(o);
      },
      t.data);
  return r;
}

Tensor concat(ArrayRef<const Tensor *> inputs, int64_t axis) {
  SmallVector<int64_t> shape(inputs[0]->shape);
  shape[axis] = 0;
  for (const Tensor *t : inputs)
    shape[axis] += t->shape[axis];
  Tensor r = Tensor::zeros(shape, inputs[0]->isFloat());
  int64_t outer = numElements(ArrayRef<int64_t>(shape).take_front(axis));
  int64_t inner = numElements(ArrayRef<int64_t>(shape).drop_front(axis + 1));
  int64_t offset = 0;
  for (const Tensor *t : inputs) {
    int64_t len = t->shape[axis];
    std::visit(
        [&](auto &dst) {
          const auto &src = std::get<std::decay_t<decltype(dst)>>(t->data);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < len * inner; ++j)
              dst[(o * shape[axis] + offset) * inner + j] =
                  src[o * len * inner + j];
        },
        r.data);
    offset += len;
  }
  return r;
}

Tensor cumsum(const Tensor &x, int64_t axis, bool exclusive, bool reverse) {
  Tensor r = x;
  ArrayRef<int64_t> s = x.shape;
  int64_t outer = numElements(s.take_front(axis)), len = s[axis],
          inner = numElements(s.drop_front(axis + 1));
  std::visit(
      [&](auto &v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t k = 0; k < inner; ++k) {
            T acc = 0;
            for (int64_t j0 = 0; j0 < len; ++j0) {
              int64_t j = reverse ? len - 1 - j0 : j0;
              int64_t e = (o * len + j) * inner + k;
              T cur = v[e];
              v[e] = exclusive ? acc : acc + cur;
              acc += cur;
            }
          }
      },
      r.data);
  return r;
}

Tensor trilu(const Tensor &x, int64_t k, bool upper) {
  Tensor r = x;
  int64_t rows = x.shape[x.shape.size() - 2], cols = x.shape.back();
  std::visit(
      [&](auto &v) {
        for (int64_t e = 0; e < static_cast<int64_t>(v.size()); ++e) {
          int64_t j = e % cols, i = (e / cols) % rows;
          if (upper ? j - i < k : j - i > k)
            v[e] = 0;
        }
      },
      r.data);
  return r;
}

Tensor fill(const Tensor &value, ArrayRef<int64_t> shape) {
  return remap(value, shape,
               std::vector<int64_t>(std::max<int64_t>(numElements(shape), 0)));
}

int64_t rangeCount(const Tensor &start, const Tensor &limit,
                   const Tensor &delta) {
  if (start.isFloat()) {
    double s = start.at(0), l = limit.at(0), d = delta.at(0);
    if (d == 0)
      return -1;
    // Saturates (NaN and huge counts become INT64_MAX, which the caller's
    // size check reports) instead of an undefined float-to-int conversion.
    double n = std::ceil((l - s) / d);
    if (!(n < 9.2e18))
      return std::numeric_limits<int64_t>::max();
    return std::max<int64_t>(int64_t(n), 0);
  }
  int64_t s = std::get<1>(start.data)[0], l = std::get<1>(limit.data)[0],
          d = std::get<1>(delta.data)[0];
  if (d == 0)
    return -1;
  // In 128 bits: limit - start overflows int64 for extreme ranges.
  __int128 span = d > 0 ? __int128(l) - s + d - 1 : __int128(s) - l - d - 1;
  __int128 n = span / (d > 0 ? __int128(d) : -__int128(d));
  if (n > std::numeric_limits<int64_t>::max())
    return std::numeric_limits<int64_t>::max();
  return std::max<int64_t>(int64_t(n), 0);
}

Tensor range(const Tensor &start, const Tensor &delta, int64_t n) {
  Tensor r;
  r.shape = {n};
  std::visit(
      [&](const auto &sv) {
        using V = std::decay_t<decltype(sv)>;
        const V &dv = std::get<V>(delta.data);
        V o(n);
        for (int64_t k = 0; k < n; ++k)
          o[k] = sv[0] + k * dv[0];
        r.data = std::move(o);
      },
      start.data);
  return r;
}

} // namespace umbra::ceval
