//===- Init.cpp - initial values of params and state ----------------------===//
//
// Glorot/He follow Keras and DL4J (XAVIER = glorot_normal, variance
// 2 / (fan_in + fan_out)), drawn with plain (not truncated) distributions.
// Fans come from the spec when given, else from the shape: [in, out] for
// matrices, [O, I, KH, KW] for conv filters.
//
//===----------------------------------------------------------------------===//
#include "support/Init.h"
#include "support/Random.h"

#include "support/Trailer.h"

#include "absl/strings/str_cat.h"

#include <cmath>

namespace tg {

uint32_t initStream(const std::string &name) {
  uint64_t h = fnv1a64(name.data(), name.size());
  return uint32_t(h ^ (h >> 32));
}

static std::pair<double, double> fans(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  if (shape.size() == 4) {
    double receptive = double(shape[2] * shape[3]);
    return {double(shape[1]) * receptive, double(shape[0]) * receptive};
  }
  double in = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i)
    in *= double(shape[i]);
  return {in, double(shape.back())};
}

absl::StatusOr<std::vector<double>> initialValues(const InitSpec &spec,
                                                  const std::vector<int64_t> &shape, uint64_t seed,
                                                  const std::string &name) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  auto field = [&](const char *key, double dflt) {
    auto it = spec.fields.find(key);
    return it == spec.fields.end() ? dflt : it->second;
  };
  auto [fanIn, fanOut] = fans(shape);
  fanIn = field("fan_in", fanIn);
  fanOut = field("fan_out", fanOut);
  double gain = field("gain", 1.0);
  uint32_t stream = initStream(name);
  std::vector<double> v(size_t(n), 0.0);
  auto uniform = [&](double lo, double hi) {
    for (int64_t i = 0; i < n; ++i)
      v[size_t(i)] = lo + (hi - lo) * philoxUniform(seed, uint64_t(i), stream);
  };
  auto normal = [&](double mean, double stddev) {
    for (int64_t i = 0; i < n; ++i)
      v[size_t(i)] = mean + stddev * philoxNormal(seed, uint64_t(i), stream);
  };
  const std::string &k = spec.kind;
  if (k == "zeros")
    ;
  else if (k == "ones")
    std::fill(v.begin(), v.end(), 1.0);
  else if (k == "constant")
    std::fill(v.begin(), v.end(), field("value", 0.0));
  else if (k == "uniform")
    uniform(field("low", -0.05), field("high", 0.05));
  else if (k == "normal")
    normal(field("mean", 0.0), field("stddev", 0.05));
  else if (k == "glorot_uniform") {
    double limit = gain * std::sqrt(6.0 / (fanIn + fanOut));
    uniform(-limit, limit);
  } else if (k == "glorot_normal")
    normal(0.0, gain * std::sqrt(2.0 / (fanIn + fanOut)));
  else if (k == "he_uniform") {
    double limit = gain * std::sqrt(6.0 / fanIn);
    uniform(-limit, limit);
  } else if (k == "he_normal")
    normal(0.0, gain * std::sqrt(2.0 / fanIn));
  else
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "': unknown initializer kind '", k, "'"));
  return v;
}

} // namespace tg
