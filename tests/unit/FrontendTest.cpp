//===- FrontendTest.cpp - graph building, errors, export and import -------===//
#include "TestUtil.h"

#include "tg/Layers.h"

#include <cstdio>
#include <fstream>

using namespace tg;
using namespace tg::testing;
using ::testing::HasSubstr;

namespace {

TEST(Frontend, ExportImportRoundTrip) {
  Graph g("net");
  Value x = g.data("x", {4, 3});
  Value w = g.param("w", {3, 2}, Init::glorotNormal(2.0).fans(3, 2));
  Value b = g.param("b", {2}, Init::constant(0.5));
  Value lr = g.hyper("lr");
  Value s = g.state("s", {2}, DType::f32);
  Value y = g.label("y", {4});
  Value logits = ops::matmul(x, w) + b + s * lr;
  g.output("loss", ops::softmaxCrossEntropy(logits, y));
  ASSERT_TRUE(g.status().ok()) << g.status();
  auto text = g.toMlir();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("func.func @net"));
  EXPECT_THAT(*text, HasSubstr("tg.init = {fan_in = 3 : i64, fan_out = 2 : i64, gain = "
                               "2.000000e+00 : f64, kind = \"glorot_normal\"}"));
  EXPECT_THAT(*text, HasSubstr("tg.name = \"lr\", tg.role = \"hyper\""));
  EXPECT_THAT(*text, HasSubstr("tg.role = \"state\""));
  EXPECT_THAT(*text, HasSubstr("{tg.name = \"loss\"}"));
  auto module = Module::parse(*text, "net.tg.mlir");
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_EQ(module->str(), *text);
  auto sig = module->signature();
  ASSERT_TRUE(sig.ok()) << sig.status();
  ASSERT_EQ(sig->args.size(), 6u);
  EXPECT_EQ(sig->args[1].name, "w");
  EXPECT_EQ(sig->args[1].role, Role::Param);
  EXPECT_EQ(sig->args[1].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(sig->args[5].dtype, DType::i32);
  ASSERT_EQ(sig->results.size(), 1u);
  EXPECT_EQ(sig->results[0].name, "loss");
  EXPECT_TRUE(sig->results[0].shape.empty());
}

TEST(Frontend, SaveAndLoad) {
  Graph g("f");
  g.output("y", ops::tanh(g.data("x", {2})));
  std::string path = ::testing::TempDir() + "/frontend_save.tg.mlir";
  ASSERT_TRUE(g.save(path).ok());
  auto m = Module::load(path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->functionNames(), std::vector<std::string>{"f"});
  std::remove(path.c_str());
  auto missing = Module::load(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("cannot read"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  absl::Status noDir = g.save("/nonexistent-dir/x.tg.mlir");
  EXPECT_EQ(noDir.code(), absl::StatusCode::kNotFound) << noDir;
  EXPECT_THAT(std::string(noDir.message()),
              ::testing::HasSubstr("cannot write '/nonexistent-dir/x.tg.mlir': No such file"));
}

TEST(Frontend, ValueProperties) {
  Graph g;
  Value x = g.data("x", {2, 5, 3}, DType::f16);
  EXPECT_TRUE(x.valid());
  EXPECT_EQ(x.shape(), (std::vector<int64_t>{2, 5, 3}));
  EXPECT_EQ(x.dtype(), DType::f16);
  EXPECT_EQ(x.rank(), 3);
  EXPECT_EQ(x.dim(-1), 3);
  EXPECT_EQ(x.typeString(), "tensor<2x5x3xf16>");
  Value invalid;
  EXPECT_FALSE(invalid.valid());
  EXPECT_EQ(invalid.typeString(), "<invalid>");
}

// Shape errors name the op and the shapes; the first error sticks and later
// ops on invalid values add nothing.
TEST(Frontend, ShapeErrorsAreStatuses) {
  struct Case {
    BuildFn build;
    std::vector<Tensor> inputs;
    std::vector<std::string> expect;
  };
  Tensor m23 = F({2, 3}, {0, 0, 0, 0, 0, 0}), m45 = Tensor::full(DType::f32, {4, 5});
  Tensor img = Tensor::full(DType::f32, {1, 2, 5, 5});
  std::vector<Case> cases = {
      {[](Graph &, auto &v) { return ops::matmul(v[0], v[1]); },
       {m23, m45},
       {"tg.matmul", "contracting dimensions differ", "[2, 3]", "[4, 5]"}},
      {[](Graph &, auto &v) { return ops::matmul(v[0], v[1]); },
       {F({3}, {0, 0, 0}), m23},
       {"tg.matmul", "rank >= 2"}},
      {[](Graph &, auto &v) { return v[0] + v[1]; }, {m23, m45}, {"tg.add", "do not broadcast"}},
      {[](Graph &, auto &v) { return v[0] + v[1]; },
       {m23, I({3}, {0, 0, 0})},
       {"tg.add", "element types differ"}},
      {[](Graph &, auto &v) { return ops::exp(v[0]); }, {I({1}, {0})}, {"tg.exp"}},
      {[](Graph &, auto &v) {
         return ops::reshape(v[0], {4, -1});
       },
       {m23},
       {"tg.reshape", "cannot reshape"}},
      {[](Graph &, auto &v) { return ops::reshape(v[0], {5}); }, {m23}, {"tg.reshape", "[5]"}},
      {[](Graph &, auto &v) {
         return ops::transpose(v[0], {0, 0});
       },
       {m23},
       {"tg.transpose", "not a permutation"}},
      {[](Graph &, auto &v) {
         return ops::broadcastTo(v[0], {3, 2});
       },
       {m23},
       {"tg.broadcast_to", "cannot broadcast"}},
      {[](Graph &, auto &v) { return ops::reduceSum(v[0], {2}); },
       {m23},
       {"tg.reduce", "axis 2 is out of range"}},
      {[](Graph &, auto &v) {
         return ops::reduceSum(v[0], {1, 1});
       },
       {m23},
       {"tg.reduce", "listed twice"}},
      {[](Graph &, auto &v) { return ops::softmax(v[0], 5); }, {m23}, {"tg.softmax", "axis 5"}},
      {[](Graph &, auto &v) { return ops::argmax(v[0], 3); }, {m23}, {"tg.argmax", "axis 3"}},
      {[](Graph &, auto &v) { return ops::conv2d(v[0], v[1]); },
       {img, Tensor::full(DType::f32, {4, 3, 3, 3})},
       {"tg.conv2d", "input channels"}},
      {[](Graph &, auto &v) { return ops::conv2d(v[0], v[1]); },
       {img, Tensor::full(DType::f32, {4, 2, 7, 7})},
       {"tg.conv2d", "does not fit"}},
      {[](Graph &, auto &v) {
         ops::Conv2DOptions o;
         o.groups = 3;
         return ops::conv2d(v[0], v[1], o);
       },
       {img, Tensor::full(DType::f32, {3, 1, 3, 3})},
       {"tg.conv2d", "groups = 3"}},
      {[](Graph &, auto &v) { return ops::conv2d(v[0], v[1]); },
       {m23, m23},
       {"tg.conv2d", "rank-4"}},
      {[](Graph &, auto &v) {
         return ops::conv2dBackpropInput(v[0], v[1], {1, 2, 5, 5});
       },
       {Tensor::full(DType::f32, {1, 4, 2, 2}), Tensor::full(DType::f32, {4, 2, 3, 3})},
       {"tg.conv2d_backprop_input", "grad_output shape [1, 4, 2, 2]", "[1, 4, 3, 3]"}},
      {[](Graph &, auto &v) {
         return ops::conv2dBackpropFilter(v[0], v[1], {4, 2, 3, 3});
       },
       {img, Tensor::full(DType::f32, {1, 4, 2, 2})},
       {"tg.conv2d_backprop_filter", "grad_output"}},
      {[](Graph &, auto &v) {
         ops::Pool2DOptions p;
         p.kernel = {6, 6};
         return ops::maxPool2d(v[0], p);
       },
       {img},
       {"tg.max_pool2d", "does not fit"}},
      {[](Graph &, auto &v) {
         ops::Pool2DOptions p;
         p.padding = {2, 0, 0, 0};
         return ops::avgPool2d(v[0], p);
       },
       {img},
       {"tg.avg_pool2d", "smaller than the kernel"}},
      {[](Graph &, auto &v) { return ops::maxPool2dGrad(v[0], v[1]); },
       {img, Tensor::full(DType::f32, {1, 2, 3, 3})},
       {"tg.max_pool2d_grad", "pooled shape"}},
      {[](Graph &, auto &v) {
         return ops::avgPool2dGrad(v[0], {1, 2, 5, 5});
       },
       {Tensor::full(DType::f32, {1, 2, 3, 3})},
       {"tg.avg_pool2d_grad", "pooled shape"}},
      {[](Graph &, auto &v) {
         return ops::concat({v[0], v[1]}, 0);
       },
       {m23, m45},
       {"tg.concat", "does not match input #0"}},
      {[](Graph &, auto &v) {
         return ops::slice(v[0], {0, 2}, {2, 4});
       },
       {m23},
       {"tg.slice", "dimension 1"}},
      {[](Graph &, auto &v) {
         return ops::pad(v[0], {0, -1}, {0, 0});
       },
       {m23},
       {"tg.pad", "non-negative"}},
      {[](Graph &, auto &v) { return ops::gather(v[0], v[1]); }, {m23, m23}, {"tg.gather"}},
      {[](Graph &, auto &v) { return ops::scatterAdd(v[0], v[1], v[2]); },
       {m23, I({2}, {0, 1}), m45},
       {"tg.scatter_add", "updates shape [4, 5] should be [2, 3]"}},
      {[](Graph &, auto &v) { return ops::select(v[0], v[1], v[2]); },
       {T(DType::i1, {4}, {0, 0, 0, 0}), m23, m23},
       {"tg.select", "do not broadcast"}},
      {[](Graph &, auto &v) { return ops::compare(v[0], v[1], "approx"); },
       {m23, m23},
       {"tg.compare", "predicate must be one of"}},
      {[](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1]); },
       {m23, I({3}, {0, 0, 0})},
       {"tg.softmax_cross_entropy", "labels shape [3]"}},
      {[](Graph &, auto &v) { return ops::softmaxCrossEntropy(v[0], v[1], "avg"); },
       {m23, I({2}, {0, 0})},
       {"reduction must be mean, sum or none"}},
      {[](Graph &, auto &v) { return ops::meanSquaredError(v[0], v[1]); },
       {m23, m45},
       {"tg.mean_squared_error", "same type"}},
      {[](Graph &, auto &v) { return ops::randomUniform(v[0], {2}, 1, 1); },
       {T(DType::i64, {}, {0})},
       {"tg.random_uniform", "low < high"}},
      {[](Graph &, auto &v) { return ops::randomNormal(v[0], {2}, 0, -1); },
       {T(DType::i64, {}, {0})},
       {"tg.random_normal", "stddev >= 0"}},
      {[](Graph &, auto &v) { return ops::randomNormal(v[0], {2}); },
       {I({}, {0})},
       {"tg.random_normal"}},
      {[](Graph &, auto &v) { return ops::oneHot(v[0], -1); },
       {I({2}, {0, 1})},
       {"tg.one_hot", "depth"}},
      {[](Graph &g, auto &v) { return v[0] + ops::iota(g, {2, 3}, 2, DType::f32); },
       {m23},
       {"tg.iota: dimension 2 is out of range for shape [2, 3]"}},
      {[](Graph &g, auto &v) { return v[0] + ops::iota(g, {2, 3}, 0, DType::i1); },
       {m23},
       {"tg.iota: i1 cannot hold indices"}},
      {[](Graph &, auto &v) {
         auto parts = ops::split(v[0], {1, 1}, 1);
         return parts.empty() ? Value() : parts[0];
       },
       {m23},
       {"split: sizes [1, 1] add up to 2, not dimension 1 of shape [2, 3]"}},
      {[](Graph &, auto &v) {
         auto parts = ops::split(v[0], 2, 1);
         return parts.empty() ? Value() : parts[0];
       },
       {m23},
       {"split: cannot cut axis 1 of shape [2, 3] into 2 equal parts"}},
      {[](Graph &, auto &v) {
         auto parts = ops::split(v[0], 1, 5);
         return parts.empty() ? Value() : parts[0];
       },
       {m23},
       {"split: cannot cut axis 5 of shape [2, 3] into 1 equal parts"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string err = buildError(cases[i].build, cases[i].inputs);
    for (const std::string &s : cases[i].expect)
      EXPECT_THAT(err, HasSubstr(s)) << "case " << i;
  }
}

TEST(Frontend, FirstErrorSticks) {
  Graph g;
  Value a = g.data("a", {2, 3}), b = g.data("b", {4});
  Value bad = a + b;
  EXPECT_FALSE(bad.valid());
  Value worse = ops::matmul(ops::exp(bad), a);
  EXPECT_FALSE(worse.valid());
  Value another = ops::transpose(a, {0});
  EXPECT_FALSE(another.valid());
  g.output("y", worse);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("tg.add"));
  auto text = g.toMlir();
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("tg.add"));
  EXPECT_FALSE(g.build().ok());
}

TEST(Frontend, ArgumentAndOutputErrors) {
  {
    Graph g;
    g.data("x", {2});
    g.param("x", {2});
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("duplicate argument name 'x'"));
  }
  {
    Graph g;
    g.param("w", {2}, Init::zeros(), DType::i32);
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("param 'w' must have a float dtype"));
  }
  {
    Graph g;
    g.data("x", {-1, 2});
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("negative dimension"));
  }
  {
    Graph g;
    g.data("x", {2});
    auto text = g.toMlir();
    ASSERT_FALSE(text.ok());
    EXPECT_THAT(std::string(text.status().message()), HasSubstr("has no outputs"));
  }
  {
    Graph g;
    Value x = g.data("x", {2});
    g.output("y", x);
    g.output("y", x);
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("duplicate output name 'y'"));
  }
  {
    Graph g1, g2;
    Value a = g1.data("a", {2}), b = g2.data("b", {2});
    EXPECT_FALSE((a + b).valid());
    EXPECT_THAT(std::string(g1.status().message()), HasSubstr("another graph"));
  }
  {
    Graph g;
    Value x = g.data("x", {2, 3});
    ops::reshape(x, {-1, -1});
    EXPECT_THAT(std::string(g.status().message()), HasSubstr("invalid target shape"));
  }
}

TEST(Frontend, NameScopesAndUniqueNames) {
  Graph g;
  EXPECT_EQ(g.uniqueName("dense"), "dense");
  EXPECT_EQ(g.uniqueName("dense"), "dense_1");
  {
    Graph::NameScope outer(g, "block");
    Graph::NameScope inner(g, "fc");
    EXPECT_EQ(g.scopedName("kernel"), "block.fc.kernel");
    g.param("kernel", {2});
  }
  EXPECT_EQ(g.scopedName("kernel"), "kernel");
  g.output("k", g.data("x", {1}));
  auto text = g.toMlir();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("tg.name = \"block.fc.kernel\""));
}

TEST(Frontend, ModuleParseErrorsAreLocated) {
  auto m = Module::parse("func.func @f(%x: tensor<2xf32>) -> tensor<3xf32> {\n"
                         "  %0 = tg.add %x, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<3xf32>\n"
                         "  return %0 : tensor<3xf32>\n}\n",
                         "bad.tg.mlir");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("bad.tg.mlir:2:8: error:"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("tg.add"));
  m = Module::parse("func.func @f() {\n  %0 = tg.frobnicate : tensor<f32>\n  return\n}\n",
                    "u.mlir");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("u.mlir:2:"));
  m = Module::parse("this is not mlir", "junk.mlir");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("junk.mlir:1:1"));
  m = Module::parse("func.func @f(%x: tensor<2xf32> {tg.role = \"weights\"}) { return }", "r.mlir");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("tg.role must be one of"));
}

} // namespace
