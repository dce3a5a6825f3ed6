//===- Initializers.cpp - initial values of params from tg.init -----------===//
//
// Glorot/He follow Keras and DL4J (XAVIER = glorot_normal, variance
// 2 / (fan_in + fan_out)), drawn with plain (not truncated) distributions.
// Fans come from the attribute when given, else from the shape: [in, out]
// for matrices, [O, I, KH, KW] for conv filters.
//
//===----------------------------------------------------------------------===//
#include "interpreter/Interpreter.h"
#include "interpreter/Random.h"
#include "ir/Dialect.h"

#include "absl/strings/str_cat.h"

#include <cmath>

using namespace mlir;

namespace tg {

static double number(DictionaryAttr init, StringRef key, double dflt) {
  Attribute a = init.get(key);
  if (auto f = llvm::dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = llvm::dyn_cast_or_null<IntegerAttr>(a))
    return double(i.getInt());
  return dflt;
}

static std::pair<double, double> fans(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  if (shape.size() == 4) {
    double receptive = double(shape[2] * shape[3]);
    return {double(shape[1]) * receptive, double(shape[0]) * receptive};
  }
  double in = 1;
  for (int64_t d : shape.drop_back())
    in *= double(d);
  return {in, double(shape.back())};
}

absl::StatusOr<Tensor> initialValue(func::FuncOp fn, unsigned argIndex, uint64_t seed) {
  auto type = llvm::cast<RankedTensorType>(fn.getArgumentTypes()[argIndex]);
  auto dt = dtypeOf(type.getElementType());
  if (!dt.ok())
    return dt.status();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  auto init = fn.getArgAttrOfType<DictionaryAttr>(argIndex, TgDialect::kInitAttr);
  if (!init)
    return Tensor::full(*dt, shape, 0.0);
  StringRef kind = init.getAs<StringAttr>("kind").getValue();
  auto [fanIn, fanOut] = fans(type.getShape());
  fanIn = number(init, "fan_in", fanIn);
  fanOut = number(init, "fan_out", fanOut);
  double gain = number(init, "gain", 1.0);

  Tensor t = Tensor::full(*dt, shape, 0.0);
  auto fillUniform = [&](double lo, double hi) {
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data[i] = lo + (hi - lo) * philoxUniform(seed, uint64_t(i), argIndex);
  };
  auto fillNormal = [&](double mean, double stddev) {
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data[i] = mean + stddev * philoxNormal(seed, uint64_t(i), argIndex);
  };
  if (kind == "zeros")
    ;
  else if (kind == "ones")
    std::fill(t.data.begin(), t.data.end(), 1.0);
  else if (kind == "constant")
    std::fill(t.data.begin(), t.data.end(), number(init, "value", 0.0));
  else if (kind == "uniform")
    fillUniform(number(init, "low", -0.05), number(init, "high", 0.05));
  else if (kind == "normal")
    fillNormal(number(init, "mean", 0.0), number(init, "stddev", 0.05));
  else if (kind == "glorot_uniform") {
    double limit = gain * std::sqrt(6.0 / (fanIn + fanOut));
    fillUniform(-limit, limit);
  } else if (kind == "glorot_normal")
    fillNormal(0.0, gain * std::sqrt(2.0 / (fanIn + fanOut)));
  else if (kind == "he_uniform") {
    double limit = gain * std::sqrt(6.0 / fanIn);
    fillUniform(-limit, limit);
  } else if (kind == "he_normal")
    fillNormal(0.0, gain * std::sqrt(2.0 / fanIn));
  else
    return absl::InvalidArgumentError(
        absl::StrCat("argument #", argIndex, ": unknown initializer kind '", kind.str(), "'"));
  for (double &x : t.data)
    x = isFloat(t.dtype) && t.dtype != DType::f64 ? double(float(x)) : x;
  return t;
}

} // namespace tg
