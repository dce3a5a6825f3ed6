//===- ExamplesTest.cpp - the example models build, round-trip and run ----===//
#include "TestUtil.h"

#include "examples/Models.h"

#include <cmath>

using namespace tg;
using namespace tg::testing;
using ::testing::HasSubstr;

namespace {

/// Params from their initializers plus random data for the other inputs.
NamedTensors feed(const Module &m, uint64_t seed) {
  auto params = initializeParams(m, "", seed);
  EXPECT_TRUE(params.ok()) << params.status();
  NamedTensors in = *params;
  auto sig = m.signature();
  unsigned s = 100;
  for (const ValueInfo &a : sig->args) {
    if (a.role == Role::Param)
      continue;
    Tensor t = randomTensor(a.shape, s++, a.dtype);
    if (!isFloat(a.dtype)) // labels / ids: small non-negative integers
      for (double &v : t.data)
        v = std::floor((v + 1) * 2.5);
    if (a.role == Role::State)
      std::fill(t.data.begin(), t.data.end(), 0.0);
    in[a.name] = t;
  }
  return in;
}

absl::StatusOr<Module> roundTrip(Graph &g) {
  auto text = g.toMlir();
  if (!text.ok())
    return text.status();
  auto m = Module::parse(*text, "model.tg.mlir");
  if (m.ok()) {
    EXPECT_EQ(m->str(), *text);
  }
  return m;
}

TEST(Examples, FashionMlpMatchesHandComputation) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {4, {16, 8}});
  auto m = roundTrip(g);
  ASSERT_TRUE(m.ok()) << m.status();
  NamedTensors in = feed(*m, 1);
  auto out = interpretNamed(*m, "", in, {/*float64=*/true});
  ASSERT_TRUE(out.ok()) << out.status();
  // Recompute logits and loss by hand in double.
  auto dense = [](const std::vector<double> &x, int64_t n, const Tensor &k, const Tensor &b,
                  bool relu) {
    int64_t in = k.shape[0], outN = k.shape[1];
    std::vector<double> y(size_t(n * outN));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < outN; ++j) {
        double s = b.data[size_t(j)];
        for (int64_t p = 0; p < in; ++p)
          s += x[size_t(r * in + p)] * k.data[size_t(p * outN + j)];
        y[size_t(r * outN + j)] = relu ? std::max(s, 0.0) : s;
      }
    return y;
  };
  auto h = dense(in["image"].data, 4, in["fc1.kernel"], in["fc1.bias"], true);
  h = dense(h, 4, in["fc2.kernel"], in["fc2.bias"], true);
  auto logits = dense(h, 4, in["fc3.kernel"], in["fc3.bias"], false);
  EXPECT_THAT(out->at("logits"), TensorNear(F({4, 10}, logits), 1e-12));
  double loss = 0, correct = 0;
  for (int r = 0; r < 4; ++r) {
    double mx = -INFINITY, sum = 0;
    int best = 0;
    for (int c = 0; c < 10; ++c) {
      mx = std::max(mx, logits[size_t(r * 10 + c)]);
      if (logits[size_t(r * 10 + c)] > logits[size_t(r * 10 + best)])
        best = c;
    }
    for (int c = 0; c < 10; ++c)
      sum += std::exp(logits[size_t(r * 10 + c)] - mx);
    int label = int(in["label"].data[size_t(r)]);
    loss += (mx + std::log(sum) - logits[size_t(r * 10 + label)]) / 4;
    correct += best == label;
  }
  EXPECT_NEAR(out->at("loss").data[0], loss, 1e-12);
  EXPECT_NEAR(out->at("accuracy").data[0], correct / 4, 1e-12);
}

TEST(Examples, InitializersFollowTheirDistributions) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {2, {256, 128}});
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto p = initializeParams(*m, "", 5);
  auto q = initializeParams(*m, "", 5);
  auto r = initializeParams(*m, "", 6);
  ASSERT_TRUE(p.ok() && q.ok() && r.ok());
  EXPECT_EQ(p->at("fc1.kernel").data, q->at("fc1.kernel").data);
  EXPECT_NE(p->at("fc1.kernel").data, r->at("fc1.kernel").data);
  // Glorot uniform on [784, 256]: limit sqrt(6 / 1040), variance limit^2 / 3.
  const Tensor &k = p->at("fc1.kernel");
  double limit = std::sqrt(6.0 / (784 + 256)), var = 0;
  for (double v : k.data) {
    EXPECT_LE(std::abs(v), limit);
    var += v * v / double(k.data.size());
  }
  EXPECT_NEAR(var, limit * limit / 3, 0.02 * limit * limit);
  for (double v : p->at("fc1.bias").data)
    EXPECT_EQ(v, 0);
  // Different params draw different streams.
  EXPECT_NE(p->at("fc2.kernel").data[0], p->at("fc1.kernel").data[0]);
}

TEST(Examples, FashionCnnRuns) {
  Graph g("cnn");
  examples::buildFashionCnn(g, {2, 4, 8, 16});
  auto m = roundTrip(g);
  ASSERT_TRUE(m.ok()) << m.status();
  auto sig = m->signature();
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->args[0].shape, (std::vector<int64_t>{2, 1, 28, 28}));
  auto out = interpretNamed(*m, "", feed(*m, 2));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at("logits").shape, (std::vector<int64_t>{2, 10}));
  double loss = out->at("loss").data[0];
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, std::log(10.0), 1.0); // freshly initialized: near uniform
}

TEST(Examples, CharLstmRuns) {
  Graph g("lstm");
  examples::buildCharLstm(g, {2, 4, 6, 8});
  auto m = roundTrip(g);
  ASSERT_TRUE(m.ok()) << m.status();
  auto sig = m->signature();
  ASSERT_TRUE(sig.ok());
  std::vector<std::string> results;
  for (auto &r : sig->results)
    results.push_back(r.name);
  EXPECT_EQ(results, (std::vector<std::string>{"loss", "logits", "lstm1.h", "lstm1.c", "lstm2.h",
                                               "lstm2.c"}));
  auto out = interpretNamed(*m, "", feed(*m, 3));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NEAR(out->at("loss").data[0], std::log(6.0), 0.5);
  for (double h : out->at("lstm2.h").data)
    EXPECT_LT(std::abs(h), 1.0);
  EXPECT_EQ(out->at("lstm1.c").shape, (std::vector<int64_t>{2, 8}));
}

TEST(Examples, FullSizeModelsBuild) {
  Graph mlp("mlp"), cnn("cnn"), lstm("lstm");
  examples::buildFashionMlp(mlp);
  examples::buildFashionCnn(cnn);
  examples::buildCharLstm(lstm);
  for (Graph *g : {&mlp, &cnn, &lstm}) {
    auto m = g->build();
    EXPECT_TRUE(m.ok()) << m.status();
  }
}

} // namespace
