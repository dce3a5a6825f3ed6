//===- TestUtil.h - helpers for the unit tests ------------------*- C++ -*-===//
#ifndef TG_TESTS_UNIT_TESTUTIL_H
#define TG_TESTS_UNIT_TESTUTIL_H

#include "tg/Graph.h"
#include "tg/Interpreter.h"
#include "tg/Ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace tg {
namespace testing {

inline Tensor T(DType dtype, std::vector<int64_t> shape, std::vector<double> values) {
  auto t = Tensor::of(dtype, std::move(shape), std::move(values));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Tensor();
}
inline Tensor F(std::vector<int64_t> shape, std::vector<double> values) {
  return T(DType::f32, std::move(shape), std::move(values));
}
inline Tensor I(std::vector<int64_t> shape, std::vector<double> values) {
  return T(DType::i32, std::move(shape), std::move(values));
}

/// Deterministic pseudo-random tensor in [-1, 1).
inline Tensor randomTensor(std::vector<int64_t> shape, unsigned seed, DType dtype = DType::f32) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Tensor t = Tensor::full(dtype, std::move(shape));
  for (double &x : t.data)
    x = dtype == DType::f32 ? double(float(dist(gen))) : dist(gen);
  return t;
}

/// Builds a graph whose data arguments "in0", "in1", ... take `inputs`,
/// applies `build`, outputs the result and interprets it.
using BuildFn = std::function<Value(Graph &, const std::vector<Value> &)>;
inline absl::StatusOr<Tensor> runOp(const BuildFn &build, const std::vector<Tensor> &inputs,
                                    InterpretOptions options = {}) {
  Graph g("op");
  std::vector<Value> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    args.push_back(g.data("in" + std::to_string(i), inputs[i].shape, inputs[i].dtype));
  g.output("out", build(g, args));
  auto module = g.build();
  if (!module.ok())
    return module.status();
  auto out = interpret(*module, "op", inputs, options);
  if (!out.ok())
    return out.status();
  return (*out)[0];
}

/// The error a graph build reports (empty if it succeeds).
inline std::string buildError(const BuildFn &build, const std::vector<Tensor> &inputs) {
  Graph g("op");
  std::vector<Value> args;
  for (size_t i = 0; i < inputs.size(); ++i)
    args.push_back(g.data("in" + std::to_string(i), inputs[i].shape, inputs[i].dtype));
  Value v = build(g, args);
  if (v.valid())
    g.output("out", v);
  return g.status().ok() ? "" : std::string(g.status().message());
}

inline double dot(const Tensor &a, const Tensor &b) {
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += a.data[i] * b.data[i];
  return s;
}

MATCHER_P2(TensorNear, expected, tol, "") {
  if (arg.dtype != expected.dtype || arg.shape != expected.shape) {
    *result_listener << "got " << arg.typeString() << ", expected " << expected.typeString();
    return false;
  }
  for (size_t i = 0; i < arg.data.size(); ++i)
    if (!(std::abs(arg.data[i] - expected.data[i]) <= tol * (1 + std::abs(expected.data[i])))) {
      *result_listener << "element " << i << ": got " << arg.data[i] << ", expected "
                       << expected.data[i];
      return false;
    }
  return true;
}

} // namespace testing
} // namespace tg

#endif // TG_TESTS_UNIT_TESTUTIL_H
