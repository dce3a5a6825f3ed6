//===- InterpreterOpsTest.cpp - every tg op on known values ---------------===//
//
// Each op is built through the frontend and run by the reference interpreter;
// expected values are worked out by hand (or, for gradient ops, checked by
// the adjoint identity <op(x), y> = <x, grad(y)>).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>
#include <fstream>

using namespace tg;
using namespace tg::testing;
using ::testing::HasSubstr;

namespace {

void expectOp(const BuildFn &build, const std::vector<Tensor> &inputs, const Tensor &expected,
              double tol = 1e-6) {
  auto out = runOp(build, inputs);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, TensorNear(expected, tol));
}

std::string runError(const BuildFn &build, const std::vector<Tensor> &inputs) {
  auto out = runOp(build, inputs);
  return out.ok() ? "" : std::string(out.status().message());
}

Value arg0(Graph &, const std::vector<Value> &a) { return a[0]; }

TEST(InterpreterOps, Constant) {
  expectOp(
      [](Graph &g, auto &) {
        return ops::constant(g, F({2, 2}, {1, 2, 3, 4}));
      },
      {}, F({2, 2}, {1, 2, 3, 4}));
  expectOp([](Graph &g, auto &) { return ops::fill(g, {3}, 7, DType::i64); }, {},
           T(DType::i64, {3}, {7, 7, 7}));
  expectOp(
      [](Graph &g, auto &) {
        return ops::constant(g, T(DType::i1, {2}, {1, 0}));
      },
      {}, T(DType::i1, {2}, {1, 0}));
}

TEST(InterpreterOps, Unary) {
  Tensor x = F({4}, {-2, 0, 0.5, 3});
  auto u = [&](Value (*f)(Value), std::vector<double> want) {
    expectOp([f](Graph &, auto &a) { return f(a[0]); }, {x}, F({4}, want));
  };
  u(ops::neg, {2, 0, -0.5, -3});
  u(ops::abs, {2, 0, 0.5, 3});
  u(ops::sign, {-1, 0, 1, 1});
  u(ops::exp, {std::exp(-2.0), 1, std::exp(0.5), std::exp(3.0)});
  u(ops::tanh, {std::tanh(-2.0), 0, std::tanh(0.5), std::tanh(3.0)});
  u(ops::sigmoid,
    {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-0.5)), 1 / (1 + std::exp(-3.0))});
  u(ops::relu, {0, 0, 0.5, 3});
  u(ops::erf, {std::erf(-2.0), 0, std::erf(0.5), std::erf(3.0)});
  Tensor pos = F({3}, {0.25, 1, 4});
  expectOp([](Graph &, auto &a) { return ops::log(a[0]); }, {pos},
           F({3}, {std::log(0.25), 0, std::log(4.0)}));
  expectOp([](Graph &, auto &a) { return ops::sqrt(a[0]); }, {pos}, F({3}, {0.5, 1, 2}));
  expectOp([](Graph &, auto &a) { return ops::rsqrt(a[0]); }, {pos}, F({3}, {2, 1, 0.5}));
  // GELU: exact 1 * Phi(1) = 0.841344746; tanh form 0.841191990.
  expectOp([](Graph &, auto &a) { return ops::gelu(a[0]); }, {F({2}, {0, 1})},
           F({2}, {0, 0.8413447460685429}));
  expectOp([](Graph &, auto &a) { return ops::gelu(a[0], true); }, {F({2}, {0, 1})},
           F({2}, {0, 0.8411919906082768}));
  // Integer neg/abs/sign.
  expectOp([](Graph &, auto &a) { return ops::abs(a[0]); }, {I({2}, {-3, 4})}, I({2}, {3, 4}));
}

TEST(InterpreterOps, UnaryEdgeShapes) {
  expectOp([](Graph &, auto &a) { return ops::exp(a[0]); }, {F({0, 3}, {})}, F({0, 3}, {}));
  expectOp([](Graph &, auto &a) { return ops::neg(a[0]); }, {F({}, {2})}, F({}, {-2}));
  expectOp([](Graph &, auto &a) { return ops::relu(a[0]); }, {F({1, 1}, {-1})}, F({1, 1}, {0}));
}

TEST(InterpreterOps, BinaryBroadcasting) {
  Tensor a = F({2, 3}, {1, 2, 3, 4, 5, 6});
  expectOp([](Graph &, auto &v) { return v[0] + v[1]; }, {a, F({3}, {10, 20, 30})},
           F({2, 3}, {11, 22, 33, 14, 25, 36}));
  expectOp([](Graph &, auto &v) { return v[0] - v[1]; }, {a, F({2, 1}, {1, 2})},
           F({2, 3}, {0, 1, 2, 2, 3, 4}));
  expectOp([](Graph &, auto &v) { return v[0] * v[1]; }, {F({2, 1}, {1, 2}), F({1, 3}, {1, 2, 3})},
           F({2, 3}, {1, 2, 3, 2, 4, 6}));
  expectOp([](Graph &, auto &v) { return v[0] / v[1]; }, {a, F({}, {2})},
           F({2, 3}, {0.5, 1, 1.5, 2, 2.5, 3}));
  expectOp([](Graph &, auto &v) { return ops::pow(v[0], v[1]); }, {F({2}, {2, 3}), F({2}, {3, 2})},
           F({2}, {8, 9}));
  expectOp([](Graph &, auto &v) { return ops::maximum(v[0], v[1]); },
           {F({3}, {1, 5, -1}), F({3}, {2, 4, -1})}, F({3}, {2, 5, -1}));
  expectOp([](Graph &, auto &v) { return ops::minimum(v[0], v[1]); },
           {F({3}, {1, 5, -1}), F({3}, {2, 4, -1})}, F({3}, {1, 4, -1}));
  // Empty and size-1 dimensions.
  expectOp([](Graph &, auto &v) { return v[0] + v[1]; }, {F({0, 3}, {}), F({3}, {1, 2, 3})},
           F({0, 3}, {}));
  expectOp([](Graph &, auto &v) { return v[0] * v[1]; }, {F({1}, {3}), F({2, 1, 2}, {1, 2, 3, 4})},
           F({2, 1, 2}, {3, 6, 9, 12}));
  // Operators with scalars.
  expectOp([](Graph &, auto &v) { return 1.0 - v[0] * 2.0; }, {F({2}, {1, 2})}, F({2}, {-1, -3}));
}

TEST(InterpreterOps, IntegerArithmetic) {
  expectOp([](Graph &, auto &v) { return v[0] / v[1]; }, {I({2}, {7, -7}), I({2}, {2, 2})},
           I({2}, {3, -3}));
  // i32 wraps around.
  expectOp([](Graph &, auto &v) { return v[0] + v[1]; }, {I({1}, {2147483647}), I({1}, {1})},
           I({1}, {-2147483648.0}));
  EXPECT_THAT(runError([](Graph &, auto &v) { return v[0] / v[1]; }, {I({1}, {1}), I({1}, {0})}),
              HasSubstr("integer division by zero"));
}

TEST(InterpreterOps, CompareAndSelect) {
  Tensor a = F({3}, {1, 2, 3}), b = F({}, {2});
  auto cmp = [&](const std::string &p, std::vector<double> want) {
    expectOp([p](Graph &, auto &v) { return ops::compare(v[0], v[1], p); }, {a, b},
             T(DType::i1, {3}, want));
  };
  cmp("eq", {0, 1, 0});
  cmp("ne", {1, 0, 1});
  cmp("lt", {1, 0, 0});
  cmp("le", {1, 1, 0});
  cmp("gt", {0, 0, 1});
  cmp("ge", {0, 1, 1});
  expectOp(
      [](Graph &g, auto &v) {
        return ops::select(ops::compare(v[0], v[1], "gt"), v[0], ops::scalar(g, -1));
      },
      {F({2, 2}, {1, 5, 3, 0}), F({2, 1}, {2, 2})}, F({2, 2}, {-1, 5, 3, -1}));
}

TEST(InterpreterOps, Matmul) {
  Tensor a = F({2, 3}, {1, 2, 3, 4, 5, 6}), b = F({3, 2}, {7, 8, 9, 10, 11, 12});
  expectOp([](Graph &, auto &v) { return ops::matmul(v[0], v[1]); }, {a, b},
           F({2, 2}, {58, 64, 139, 154}));
  // a^T [3,2] @ a [2,3]
  expectOp([](Graph &, auto &v) { return ops::matmul(v[0], v[0], true, false); }, {a},
           F({3, 3}, {17, 22, 27, 22, 29, 36, 27, 36, 45}));
  // a @ a^T
  expectOp([](Graph &, auto &v) { return ops::matmul(v[0], v[0], false, true); }, {a},
           F({2, 2}, {14, 32, 32, 77}));
  // Batched lhs with a broadcast rhs.
  expectOp([](Graph &, auto &v) { return ops::matmul(v[0], v[1]); },
           {F({2, 1, 2}, {1, 2, 3, 4}), F({2, 1}, {10, 1})}, F({2, 1, 1}, {12, 34}));
  // k = 0 gives zeros.
  expectOp([](Graph &, auto &v) { return ops::matmul(v[0], v[1]); }, {F({2, 0}, {}), F({0, 2}, {})},
           F({2, 2}, {0, 0, 0, 0}));
}

TEST(InterpreterOps, LayoutOps) {
  Tensor a = F({2, 3}, {1, 2, 3, 4, 5, 6});
  expectOp(
      [](Graph &, auto &v) {
        return ops::transpose(v[0], {1, 0});
      },
      {a}, F({3, 2}, {1, 4, 2, 5, 3, 6}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::transpose(v[0], {2, 0, 1});
      },
      {F({1, 2, 2}, {1, 2, 3, 4})}, F({2, 1, 2}, {1, 3, 2, 4}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::reshape(v[0], {3, -1});
      },
      {a}, F({3, 2}, {1, 2, 3, 4, 5, 6}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::broadcastTo(v[0], {2, 3});
      },
      {F({3}, {1, 2, 3})}, F({2, 3}, {1, 2, 3, 1, 2, 3}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::broadcastTo(v[0], {2, 2});
      },
      {F({2, 1}, {1, 2})}, F({2, 2}, {1, 1, 2, 2}));
}

TEST(InterpreterOps, Reduce) {
  Tensor a = F({2, 3}, {1, 2, 3, 4, 5, 6});
  expectOp([](Graph &, auto &v) { return ops::reduceSum(v[0], {1}); }, {a}, F({2}, {6, 15}));
  expectOp([](Graph &, auto &v) { return ops::reduceSum(v[0], {0}, true); }, {a},
           F({1, 3}, {5, 7, 9}));
  expectOp([](Graph &, auto &v) { return ops::reduceMean(v[0]); }, {a}, F({}, {3.5}));
  expectOp([](Graph &, auto &v) { return ops::reduceMax(v[0], {-1}); }, {a}, F({2}, {3, 6}));
  expectOp([](Graph &, auto &v) { return ops::reduceMin(v[0], {0}); }, {a}, F({3}, {1, 2, 3}));
  expectOp([](Graph &, auto &v) { return ops::reduceSum(v[0], {1}); }, {F({2, 0}, {})},
           F({2}, {0, 0}));
  EXPECT_THAT(runError([](Graph &, auto &v) { return ops::reduceMax(v[0], {1}); }, {F({2, 0}, {})}),
              HasSubstr("empty axis"));
}

TEST(InterpreterOps, ArgmaxSoftmax) {
  expectOp([](Graph &, auto &v) { return ops::argmax(v[0], 1); }, {F({2, 3}, {1, 3, 3, 9, 0, -1})},
           I({2}, {1, 0}));
  expectOp([](Graph &, auto &v) { return ops::argmax(v[0], 0, DType::i64); },
           {F({2, 2}, {1, 5, 2, 4})}, T(DType::i64, {2}, {1, 0}));
  expectOp([](Graph &, auto &v) { return ops::softmax(v[0]); },
           {F({2, 2}, {0, std::log(2.0), 5, 5})}, F({2, 2}, {1.0 / 3, 2.0 / 3, 0.5, 0.5}));
  expectOp([](Graph &, auto &v) { return ops::softmax(v[0], 0); }, {F({2, 1}, {1000, 1000})},
           F({2, 1}, {0.5, 0.5}));
  expectOp([](Graph &, auto &v) { return ops::logSoftmax(v[0]); }, {F({1, 2}, {0, 0})},
           F({1, 2}, {-std::log(2.0), -std::log(2.0)}));
}

// Two queries, two keys: q0 = [ln 2, 0] scores the keys ln 2 and 0 (weights
// 2/3, 1/3); q1 = [0, 0] weighs them evenly. Causal: query 0 sees key 0 only.
// A mask that hides both keys from query 1 gives it zeros.
TEST(InterpreterOps, Attention) {
  Tensor q = F({2, 2}, {std::log(2.0), 0, 0, 0}), k = F({2, 2}, {1, 0, 0, 1}),
         v = F({2, 2}, {3, 0, 0, 6});
  ops::AttentionOptions unit;
  unit.scale = 1;
  expectOp([&](Graph &, auto &a) { return ops::attention(a[0], a[1], a[2], unit); }, {q, k, v},
           F({2, 2}, {2, 2, 1.5, 3}));
  ops::AttentionOptions causal = unit;
  causal.causal = true;
  expectOp([&](Graph &, auto &a) { return ops::attention(a[0], a[1], a[2], causal); }, {q, k, v},
           F({2, 2}, {3, 0, 1.5, 3}));
  expectOp(
      [&](Graph &g, auto &a) {
        ops::AttentionOptions masked = unit;
        masked.mask = ops::constant(g, T(DType::i1, {2, 1}, {1, 0}));
        return ops::attention(a[0], a[1], a[2], masked);
      },
      {q, k, v}, F({2, 2}, {2, 2, 0, 0}));
  // The default scale is 1 / sqrt(D): with D = 2, q0's scores are ln 2 / sqrt 2 and 0.
  double w = std::exp(std::log(2.0) / std::sqrt(2.0));
  expectOp([](Graph &, auto &a) { return ops::attention(a[0], a[1], a[2]); }, {q, k, v},
           F({2, 2}, {3 * w / (w + 1), 6 / (w + 1), 1.5, 3}));
  EXPECT_THAT(runError([](Graph &, auto &a) { return ops::attention(a[0], a[1], a[1]); },
                       {F({2, 3}, {1, 2, 3, 4, 5, 6}), F({2, 2}, {1, 2, 3, 4})}),
              HasSubstr("expects query [..., Tq, D], key [..., Tk, D] and value [..., Tk, Dv]"));
}

TEST(InterpreterOps, Conv2D) {
  Tensor x = F({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor ones = F({1, 1, 2, 2}, {1, 1, 1, 1});
  expectOp([](Graph &, auto &v) { return ops::conv2d(v[0], v[1]); }, {x, ones},
           F({1, 1, 2, 2}, {12, 16, 24, 28}));
  ops::Conv2DOptions padded;
  padded.padding = {1, 1, 1, 1};
  padded.strides = {2, 2};
  expectOp([padded](Graph &, auto &v) { return ops::conv2d(v[0], v[1], padded); }, {x, ones},
           F({1, 1, 2, 2}, {1, 5, 11, 28}));
  ops::Conv2DOptions dilated;
  dilated.dilations = {2, 2};
  expectOp([dilated](Graph &, auto &v) { return ops::conv2d(v[0], v[1], dilated); }, {x, ones},
           F({1, 1, 1, 1}, {1 + 3 + 7 + 9}));
  // Two groups of one channel each: channel c only sees filter c.
  ops::Conv2DOptions grouped;
  grouped.groups = 2;
  expectOp([grouped](Graph &, auto &v) { return ops::conv2d(v[0], v[1], grouped); },
           {F({1, 2, 1, 1}, {3, 5}), F({2, 1, 1, 1}, {2, 10})}, F({1, 2, 1, 1}, {6, 50}));
}

TEST(InterpreterOps, Conv2DGradientsAreAdjoints) {
  for (int config = 0; config < 3; ++config) {
    ops::Conv2DOptions o;
    std::vector<int64_t> xs = {2, 4, 7, 6}, ws = {6, 2, 3, 2};
    if (config == 0) {
      o.groups = 2;
    } else if (config == 1) {
      o.strides = {2, 3};
      o.padding = {1, 0, 2, 1};
      ws = {3, 4, 3, 3};
    } else {
      o.dilations = {2, 1};
      ws = {5, 4, 2, 2};
    }
    Tensor x = randomTensor(xs, 1 + config, DType::f64),
           w = randomTensor(ws, 11 + config, DType::f64);
    auto y = runOp([o](Graph &, auto &v) { return ops::conv2d(v[0], v[1], o); }, {x, w});
    ASSERT_TRUE(y.ok()) << y.status();
    Tensor dy = randomTensor(y->shape, 21 + config, DType::f64);
    auto dx = runOp(
        [o, xs](Graph &, auto &v) { return ops::conv2dBackpropInput(v[0], v[1], xs, o); }, {dy, w});
    auto dw =
        runOp([o, ws](Graph &, auto &v) { return ops::conv2dBackpropFilter(v[0], v[1], ws, o); },
              {x, dy});
    ASSERT_TRUE(dx.ok()) << dx.status();
    ASSERT_TRUE(dw.ok()) << dw.status();
    EXPECT_NEAR(dot(*y, dy), dot(x, *dx), 1e-9) << "config " << config;
    EXPECT_NEAR(dot(*y, dy), dot(w, *dw), 1e-9) << "config " << config;
  }
}

TEST(InterpreterOps, Pooling) {
  Tensor x = F({1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  expectOp([](Graph &, auto &v) { return ops::maxPool2d(v[0]); }, {x},
           F({1, 1, 2, 2}, {6, 8, 14, 16}));
  expectOp([](Graph &, auto &v) { return ops::avgPool2d(v[0]); }, {x},
           F({1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5}));
  // 3x3 windows, stride 2, padding 1: corners see 4 valid elements.
  ops::Pool2DOptions p;
  p.kernel = {3, 3};
  p.padding = {1, 1, 1, 1};
  expectOp([p](Graph &, auto &v) { return ops::avgPool2d(v[0], p); }, {x},
           F({1, 1, 2, 2},
             {(1 + 2 + 5 + 6) / 4.0, (3 + 4 + 7 + 8 + 2 + 6) / 6.0,
              (9 + 10 + 13 + 14 + 5 + 6) / 6.0, (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9.0}));
  p.countIncludePad = true;
  expectOp([p](Graph &, auto &v) { return ops::avgPool2d(v[0], p); }, {x},
           F({1, 1, 2, 2}, {14 / 9.0, 30 / 9.0, 57 / 9.0, 99 / 9.0}));
  // Max gradient goes to the (first) max of each window.
  expectOp([](Graph &, auto &v) { return ops::maxPool2dGrad(v[0], v[1]); },
           {F({1, 1, 2, 2}, {1, 7, 7, 0}), F({1, 1, 1, 1}, {5})}, F({1, 1, 2, 2}, {0, 5, 0, 0}));
}

TEST(InterpreterOps, AvgPoolGradientIsAdjoint) {
  ops::Pool2DOptions p;
  p.kernel = {3, 2};
  p.strides = {2, 1};
  p.padding = {1, 1, 0, 1};
  Tensor x = randomTensor({2, 3, 5, 4}, 3, DType::f64);
  for (bool include : {false, true}) {
    p.countIncludePad = include;
    auto y = runOp([p](Graph &, auto &v) { return ops::avgPool2d(v[0], p); }, {x});
    ASSERT_TRUE(y.ok()) << y.status();
    Tensor dy = randomTensor(y->shape, 4, DType::f64);
    auto dx = runOp(
        [p](Graph &, auto &v) {
          return ops::avgPool2dGrad(v[0], {2, 3, 5, 4}, p);
        },
        {dy});
    ASSERT_TRUE(dx.ok()) << dx.status();
    EXPECT_NEAR(dot(*y, dy), dot(x, *dx), 1e-9);
  }
}

TEST(InterpreterOps, DataMovement) {
  expectOp(
      [](Graph &, auto &v) {
        return ops::concat({v[0], v[1]}, 1);
      },
      {F({2, 1}, {1, 2}), F({2, 2}, {3, 4, 5, 6})}, F({2, 3}, {1, 3, 4, 2, 5, 6}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::concat({v[0], v[0]}, 0);
      },
      {F({0, 2}, {})}, F({0, 2}, {}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::slice(v[0], {0, 1}, {2, 5}, {1, 2});
      },
      {F({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})}, F({2, 2}, {1, 3, 6, 8}));
  expectOp(
      [](Graph &, auto &v) {
        return ops::pad(v[0], {1, 0}, {0, 2}, -1);
      },
      {F({1, 2}, {1, 2})}, F({2, 4}, {-1, -1, -1, -1, 1, 2, -1, -1}));
  expectOp([](Graph &, auto &v) { return ops::gather(v[0], v[1]); },
           {F({3, 2}, {1, 2, 3, 4, 5, 6}), I({2, 2}, {2, 0, 1, 1})},
           F({2, 2, 2}, {5, 6, 1, 2, 3, 4, 3, 4}));
  expectOp([](Graph &, auto &v) { return ops::gather(v[0], v[1], 1); },
           {F({2, 3}, {1, 2, 3, 4, 5, 6}), I({1}, {2})}, F({2, 1}, {3, 6}));
  // Repeated indices accumulate.
  expectOp([](Graph &, auto &v) { return ops::scatterAdd(v[0], v[1], v[2]); },
           {F({3, 1}, {0, 0, 1}), I({3}, {2, 0, 2}), F({3, 1}, {10, 20, 30})},
           F({3, 1}, {20, 0, 41}));
  expectOp([](Graph &, auto &v) { return ops::oneHot(v[0], 3); }, {I({3}, {0, 2, 7})},
           F({3, 3}, {1, 0, 0, 0, 0, 1, 0, 0, 0}));
  expectOp([](Graph &g, auto &v) { return ops::add(v[0], ops::iota(g, {2, 3}, 1, DType::f32)); },
           {F({2, 3}, {0, 0, 0, 10, 10, 10})}, F({2, 3}, {0, 1, 2, 10, 11, 12}));
  expectOp([](Graph &g, auto &v) { return ops::add(v[0], ops::iota(g, {2, 3}, 0)); },
           {I({2, 3}, {0, 0, 0, 0, 0, 0})}, I({2, 3}, {0, 0, 0, 1, 1, 1}));
  // The causal mask: row r (a query) sees columns (keys) 0..r; offset 1 one more.
  expectOp([](Graph &g, auto &v) { return ops::add(v[0], ops::cast(ops::triangularMask(g, 3, 3), DType::f32)); },
           {F({3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0})}, F({3, 3}, {1, 0, 0, 1, 1, 0, 1, 1, 1}));
  expectOp([](Graph &g, auto &v) { return ops::add(v[0], ops::cast(ops::triangularMask(g, 2, 3, 1), DType::f32)); },
           {F({2, 3}, {0, 0, 0, 0, 0, 0})}, F({2, 3}, {1, 1, 0, 1, 1, 1}));
  // split: pieces in order, by sizes or into equal parts.
  expectOp([](Graph &, auto &v) { return ops::split(v[0], {1, 2}, 1)[1]; },
           {F({2, 3}, {1, 2, 3, 4, 5, 6})}, F({2, 2}, {2, 3, 5, 6}));
  expectOp([](Graph &, auto &v) { return ops::split(v[0], 2, 0)[1]; },
           {F({4, 1}, {1, 2, 3, 4})}, F({2, 1}, {3, 4}));
  expectOp([](Graph &, auto &v) { return ops::cast(v[0], DType::i32); }, {F({3}, {1.9, -1.9, 0})},
           I({3}, {1, -1, 0}));
  expectOp([](Graph &, auto &v) { return ops::cast(v[0], DType::i1); }, {F({2}, {0, -2})},
           T(DType::i1, {2}, {0, 1}));
  EXPECT_THAT(runError([](Graph &, auto &v) { return ops::gather(v[0], v[1]); },
                       {F({3, 2}, {1, 2, 3, 4, 5, 6}), I({2}, {1, 3})}),
              HasSubstr("index 3 at flat position 1 is out of range [0, 3)"));
  EXPECT_THAT(runError([](Graph &, auto &v) { return ops::gather(v[0], v[1]); },
                       {F({3, 2}, {1, 2, 3, 4, 5, 6}), I({1}, {-1})}),
              HasSubstr("out of range"));
}

TEST(InterpreterOps, Random) {
  Tensor seed = T(DType::i64, {}, {42});
  auto uniform = [](Graph &, auto &v) { return ops::randomUniform(v[0], {100, 100}, -2, 3); };
  auto a = runOp(uniform, {seed}), b = runOp(uniform, {seed});
  auto c = runOp(uniform, {T(DType::i64, {}, {43})});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->data, b->data);
  EXPECT_NE(a->data, c->data);
  double sum = 0;
  for (double x : a->data) {
    EXPECT_GE(x, -2);
    EXPECT_LT(x, 3);
    sum += x;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.05);
  auto n = runOp([](Graph &, auto &v) { return ops::randomNormal(v[0], {20000}, 1, 2); }, {seed});
  ASSERT_TRUE(n.ok());
  double mean = 0, var = 0;
  for (double x : n->data)
    mean += x / 20000;
  for (double x : n->data)
    var += (x - mean) * (x - mean) / 20000;
  EXPECT_NEAR(mean, 1, 0.05);
  EXPECT_NEAR(std::sqrt(var), 2, 0.05);
}

TEST(InterpreterOps, Losses) {
  Tensor logits = F({2, 2}, {0, 0, 0, std::log(3.0)});
  Tensor labels = I({2}, {0, 1});
  double l0 = std::log(2.0), l1 = std::log(4.0) - std::log(3.0);
  expectOp([](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1]); }, {logits, labels},
           F({}, {(l0 + l1) / 2}));
  expectOp([](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1], "sum"); },
           {logits, labels}, F({}, {l0 + l1}));
  expectOp([](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1], "none"); },
           {logits, labels}, F({2}, {l0, l1}));
  EXPECT_THAT(runError([](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1]); },
                       {logits, I({2}, {0, 2})}),
              HasSubstr("label 2 at flat position 1 is out of range [0, 2)"));
  Tensor p = F({2}, {1, 3}), t = F({2}, {2, 1});
  expectOp([](Graph &, auto &v) { return ops::meanSquaredError(v[0], v[1]); }, {p, t},
           F({}, {2.5}));
  expectOp([](Graph &, auto &v) { return ops::meanSquaredError(v[0], v[1], "sum"); }, {p, t},
           F({}, {5}));
  expectOp([](Graph &, auto &v) { return ops::meanSquaredError(v[0], v[1], "none"); }, {p, t},
           F({2}, {1, 4}));
}

TEST(InterpreterOps, RoundingAndFloat64Mode) {
  Tensor a = F({1}, {1}), b = F({1}, {1e-9});
  auto f32 = runOp([](Graph &, auto &v) { return v[0] + v[1]; }, {a, b});
  auto f64 = runOp([](Graph &, auto &v) { return v[0] + v[1]; }, {a, b}, {/*float64=*/true});
  ASSERT_TRUE(f32.ok() && f64.ok());
  EXPECT_EQ(f32->data[0], 1.0);
  EXPECT_EQ(f64->data[0], 1.0 + 1e-9);
  // f16 keeps 11 significant bits: 1 + 2^-12 rounds to 1.
  auto half =
      runOp([](Graph &, auto &v) { return v[0] + 0.000244140625; }, {T(DType::f16, {1}, {1})});
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(half->data[0], 1.0);
  auto bf = runOp([](Graph &, auto &v) { return v[0] * 3.0; }, {T(DType::bf16, {1}, {1.01})});
  ASSERT_TRUE(bf.ok()) << bf.status();
  EXPECT_NE(bf->data[0], 3.03); // rounded to 8 significant bits
  EXPECT_NEAR(bf->data[0], 3.03, 0.02);
}

TEST(InterpreterOps, ArgumentMismatchIsAnError) {
  Graph g("f");
  g.output("y", ops::exp(g.data("x", {2})));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto r = interpret(*m, "f", {F({3}, {1, 2, 3})});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("expects f32[2], got f32[3]"));
  r = interpret(*m, "f", {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("takes 1 arguments, got 0"));
  r = interpret(*m, "nope", {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no function 'nope'"));
  auto named = interpretNamed(*m, "f", {{"x", F({2}, {0, 0})}, {"z", F({2}, {0, 0})}});
  ASSERT_FALSE(named.ok());
  EXPECT_THAT(std::string(named.status().message()), HasSubstr("no argument named 'z'"));
  named = interpretNamed(*m, "f", {});
  ASSERT_FALSE(named.ok());
  EXPECT_THAT(std::string(named.status().message()), HasSubstr("no value given for argument 'x'"));
  (void)arg0;
}

} // namespace

namespace {

// tg.scan against the same recurrence written out step by step: a tanh RNN
// cell with a carried state, per-step outputs stacked, and a running sum.
TEST(InterpreterOps, ScanEqualsTheUnrolledRecurrence) {
  auto rolled = Module::parse(R"(
    func.func @f(%xs: tensor<3x2xf32> {tg.name = "xs", tg.role = "data"},
                 %h0: tensor<2xf32> {tg.name = "h0", tg.role = "data"},
                 %w: tensor<2xf32> {tg.name = "w", tg.role = "data"})
        -> (tensor<2xf32> {tg.name = "h"}, tensor<3x2xf32> {tg.name = "hs"}) {
      %h, %hs = tg.scan (%xs) carry (%h0) : (tensor<3x2xf32>, tensor<2xf32>) -> (tensor<2xf32>, tensor<3x2xf32>) {
      ^bb0(%x: tensor<2xf32>, %prev: tensor<2xf32>):
        %a = tg.mul %prev, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
        %b = tg.add %a, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
        %next = tg.tanh %b : tensor<2xf32>
        tg.yield %next, %next : tensor<2xf32>, tensor<2xf32>
      }
      return %h, %hs : tensor<2xf32>, tensor<3x2xf32>
    })");
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  std::vector<double> xs = {0.5, -1, 0.25, 2, -0.75, 0.1}, h = {0.3, -0.2}, w = {0.9, -1.1};
  auto out = interpret(*rolled, "f", {F({3, 2}, xs), F({2}, h), F({2}, w)}, {/*float64=*/true});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> hs;
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 2; ++i) {
      double v = std::tanh(h[size_t(i)] * w[size_t(i)] + xs[size_t(t * 2 + i)]);
      hs.push_back(v);
      if (i == 1)
        h = {hs[hs.size() - 2], hs.back()};
    }
  EXPECT_THAT((*out)[0], TensorNear(F({2}, h), 1e-12));
  EXPECT_THAT((*out)[1], TensorNear(F({3, 2}, hs), 1e-12));
}

// No sequences: the carried value alone, once; a nested scan inside.
TEST(InterpreterOps, ScanWithoutSequencesAndNested) {
  auto m = Module::parse(R"(
    func.func @f(%x: tensor<2x3xf32> {tg.name = "x", tg.role = "data"}) -> (tensor<3xf32> {tg.name = "y"}) {
      %zero = tg.constant dense<0.0> : tensor<3xf32>
      %sum = tg.scan () carry (%zero) : (tensor<3xf32>) -> (tensor<3xf32>) {
      ^bb0(%acc: tensor<3xf32>):
        %inner = tg.scan (%x) carry (%acc) : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<3xf32>) {
        ^bb0(%row: tensor<3xf32>, %a: tensor<3xf32>):
          %s = tg.add %a, %row : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
          tg.yield %s : tensor<3xf32>
        }
        tg.yield %inner : tensor<3xf32>
      }
      return %sum : tensor<3xf32>
    })");
  ASSERT_TRUE(m.ok()) << m.status();
  auto out = interpret(*m, "f", {F({2, 3}, {1, 2, 3, 10, 20, 30})});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT((*out)[0], TensorNear(F({3}, {11, 22, 33}), 0));
}

// A result the machine cannot hold (400 GB of f32, 800 GB as the
// interpreter's doubles) is an error naming the op and its type.
TEST(InterpreterOps, AResultTooLargeForMemoryIsAnError) {
#if defined(__SANITIZE_ADDRESS__) || defined(__has_feature)
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
  GTEST_SKIP() << "under AddressSanitizer, operator new reports a failed allocation and aborts "
                  "instead of throwing std::bad_alloc";
#endif
#endif
  std::ifstream policy("/proc/sys/vm/overcommit_memory");
  std::string mode;
  policy >> mode;
  if (mode != "0" && mode != "2")
    GTEST_SKIP() << "the kernel does not refuse oversized allocations (overcommit_memory=" << mode
                 << ")";
  auto m = Module::parse(R"(
    func.func @f(%x: tensor<f32> {tg.name = "x", tg.role = "data"}) -> (tensor<100000000000xf32> {tg.name = "y"}) {
      %y = tg.broadcast_to %x : (tensor<f32>) -> tensor<100000000000xf32>
      return %y : tensor<100000000000xf32>
    })");
  ASSERT_TRUE(m.ok()) << m.status();
  auto out = interpret(*m, "f", {F({}, {1})});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(
      std::string(out.status().message()),
      HasSubstr("'tg.broadcast_to': out of memory for its result tensor<100000000000xf32>"));
}

} // namespace
