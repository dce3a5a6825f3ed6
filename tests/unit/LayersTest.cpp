//===- LayersTest.cpp - layers against hand-written graphs and math -------===//
#include "TestUtil.h"

#include "tg/Layers.h"

#include <cmath>

using namespace tg;
using namespace tg::testing;
using ::testing::HasSubstr;

namespace {

double sigm(double x) { return 1 / (1 + std::exp(-x)); }

TEST(Layers, DenseMatchesManualMath) {
  Graph g("dense");
  Value x = g.data("x", {2, 3});
  g.output("y", layers::Dense(2, "fc").activation(layers::Activation::relu)(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  Tensor xv = F({2, 3}, {1, 2, 3, -1, 0, 1});
  Tensor k = F({3, 2}, {1, -1, 0.5, 0, -2, 1});
  Tensor b = F({2}, {0.5, -0.5});
  auto out = interpretNamed(*m, "", {{"x", xv}, {"fc.kernel", k}, {"fc.bias", b}});
  ASSERT_TRUE(out.ok()) << out.status();
  // Row 0: [1+1-6+0.5, -1+0+3-0.5] = [-3.5, 1.5] -> relu [0, 1.5]
  // Row 1: [-1+0-2+0.5, 1+0+1-0.5] = [-2.5, 1.5] -> [0, 1.5]
  EXPECT_THAT(out->at("y"), TensorNear(F({2, 2}, {0, 1.5, 0, 1.5}), 1e-6));
  auto sig = m->signature();
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->args[1].name, "fc.kernel");
  EXPECT_EQ(sig->args[2].name, "fc.bias");
}

TEST(Layers, DenseOnRank3AndDefaultNames) {
  Graph g;
  Value x = g.data("x", {2, 4, 3});
  Value y = layers::Dense(5)(layers::Dense(5)(x));
  EXPECT_EQ(y.shape(), (std::vector<int64_t>{2, 4, 5}));
  g.output("y", y);
  auto text = g.toMlir();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("\"dense.kernel\""));
  EXPECT_THAT(*text, HasSubstr("\"dense_1.kernel\""));
}

TEST(Layers, Conv2DSamePaddingPoolFlatten) {
  Graph g;
  Value x = g.data("x", {2, 3, 9, 7});
  Value c = layers::Conv2D(4, {3, 3}, "c").padding("same")(x);
  EXPECT_EQ(c.shape(), (std::vector<int64_t>{2, 4, 9, 7}));
  Value s = layers::Conv2D(4, {3, 3}, "s").padding("same").strides({2, 2})(x);
  EXPECT_EQ(s.shape(), (std::vector<int64_t>{2, 4, 5, 4}));
  Value v = layers::Conv2D(4, {3, 2}, "v")(x);
  EXPECT_EQ(v.shape(), (std::vector<int64_t>{2, 4, 7, 6}));
  Value p = layers::MaxPool2D({2, 2})(c);
  EXPECT_EQ(p.shape(), (std::vector<int64_t>{2, 4, 4, 3}));
  EXPECT_EQ(layers::Flatten()(p).shape(), (std::vector<int64_t>{2, 48}));
  EXPECT_TRUE(g.status().ok()) << g.status();
  layers::Conv2D(4, {3, 3}).padding("full")(x);
  EXPECT_THAT(std::string(g.status().message()),
              HasSubstr("padding must be \"valid\" or \"same\""));
}

// PyTorch's Conv2d(1, 1, 3, stride=2, padding=1) on 1..16: one pixel on every
// side. TensorFlow's "same" pads (0, 1) here and gives another model.
TEST(Layers, Conv2DExplicitPaddingIsPyTorchs) {
  Graph g("conv");
  Value x = g.data("x", {1, 1, 4, 4});
  g.output("torch", layers::Conv2D(1, {3, 3}, "t").strides({2, 2}).padding(1).useBias(false)(x));
  g.output("same",
           layers::Conv2D(1, {3, 3}, "s").strides({2, 2}).padding("same").useBias(false)(x));
  g.output("asym", layers::Conv2D(1, {3, 3}, "a").explicitPadding({0, 1, 1, 0}).useBias(false)(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<double> pixels(16), ones(9, 1.0);
  for (int i = 0; i < 16; ++i)
    pixels[size_t(i)] = i + 1;
  auto out = interpretNamed(*m, "",
                            {{"x", F({1, 1, 4, 4}, pixels)},
                             {"t.kernel", F({1, 1, 3, 3}, ones)},
                             {"s.kernel", F({1, 1, 3, 3}, ones)},
                             {"a.kernel", F({1, 1, 3, 3}, ones)}});
  ASSERT_TRUE(out.ok()) << out.status();
  // Windows of 3x3 ones: the sums of the covered pixels.
  EXPECT_THAT(out->at("torch"), TensorNear(F({1, 1, 2, 2}, {14, 30, 57, 99}), 1e-9));
  EXPECT_THAT(out->at("same"), TensorNear(F({1, 1, 2, 2}, {54, 45, 72, 54}), 1e-9));
  // 0 rows on top, 1 at the bottom, 1 column left, 0 right: 3x3 out of 4+1-3+1.
  EXPECT_EQ(out->at("asym").shape, (std::vector<int64_t>{1, 1, 3, 3}));
  EXPECT_NEAR(out->at("asym").data[0], 1 + 2 + 5 + 6 + 9 + 10, 1e-9);
  layers::Conv2D(1, {3, 3}).explicitPadding({0, -1, 0, 0})(x);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("Conv2D: padding must be >= 0"));
}

TEST(Layers, Conv2DBiasInitializer) {
  Graph g("conv");
  Value x = g.data("x", {1, 1, 2, 2});
  g.output("y", layers::Conv2D(2, {1, 1}, "c").biasInit(Init::constant(0.5))(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto params = initializeParams(*m, "", 0);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_THAT(params->at("c.bias"), TensorNear(F({2}, {0.5, 0.5}), 0));
}

// PyTorch's AvgPool2d (count_include_pad true by default, or false) and
// AdaptiveAvgPool2d(1), on 1..16.
TEST(Layers, AvgPoolAndGlobalAvgPoolArePyTorchs) {
  Graph g("pool");
  Value x = g.data("x", {1, 1, 4, 4});
  g.output("plain", layers::AvgPool2D({2, 2})(x));
  g.output("incl", layers::AvgPool2D({3, 3}).strides({2, 2}).padding({1, 1, 1, 1})(x));
  g.output("excl",
           layers::AvgPool2D({3, 3}).strides({2, 2}).padding({1, 1, 1, 1}).countIncludePad(false)(x));
  g.output("max", layers::MaxPool2D({3, 3}).strides({2, 2}).padding({1, 1, 1, 1})(x));
  g.output("global", layers::GlobalAvgPool2D()(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<double> pixels(16);
  for (int i = 0; i < 16; ++i)
    pixels[size_t(i)] = i + 1;
  auto out = interpretNamed(*m, "", {{"x", F({1, 1, 4, 4}, pixels)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->at("plain"), TensorNear(F({1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5}), 1e-6));
  EXPECT_THAT(out->at("incl"),
              TensorNear(F({1, 1, 2, 2}, {14.0 / 9, 30.0 / 9, 57.0 / 9, 99.0 / 9}), 1e-6));
  EXPECT_THAT(out->at("excl"),
              TensorNear(F({1, 1, 2, 2}, {14.0 / 4, 30.0 / 6, 57.0 / 6, 99.0 / 9}), 1e-6));
  EXPECT_THAT(out->at("max"), TensorNear(F({1, 1, 2, 2}, {6, 8, 14, 16}), 0));
  EXPECT_THAT(out->at("global"), TensorNear(F({1, 1}, {8.5}), 1e-6));
  layers::GlobalAvgPool2D()(g.data("v", {2, 3}));
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("GlobalAvgPool2D: expects an NCHW"));
}

TEST(Layers, Conv2DBiasIsPerChannel) {
  Graph g("conv");
  Value x = g.data("x", {1, 1, 2, 2});
  g.output("y", layers::Conv2D(2, {1, 1}, "c")(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto out = interpretNamed(*m, "",
                            {{"x", F({1, 1, 2, 2}, {1, 2, 3, 4})},
                             {"c.kernel", F({2, 1, 1, 1}, {1, -1})},
                             {"c.bias", F({2}, {10, 20})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->at("y"), TensorNear(F({1, 2, 2, 2}, {11, 12, 13, 14, 19, 18, 17, 16}), 1e-6));
}

TEST(Layers, EmbeddingLooksUpRows) {
  Graph g("emb");
  Value ids = g.data("ids", {2}, DType::i32);
  g.output("e", layers::Embedding(3, 2, "emb")(ids));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto out = interpretNamed(
      *m, "", {{"ids", I({2}, {2, 0})}, {"emb.table", F({3, 2}, {1, 2, 3, 4, 5, 6})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->at("e"), TensorNear(F({2, 2}, {5, 6, 1, 2}), 0));
}

TEST(Layers, DropoutKeepsAndScales) {
  Graph g("drop");
  Value x = g.data("x", {10000});
  Value seed = g.hyper("seed", {}, DType::i64);
  g.output("y", layers::Dropout(0.25, seed)(x));
  g.output("eval", layers::Dropout(0.25, seed).training(false)(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  Tensor ones = Tensor::full(DType::f32, {10000}, 1.0);
  auto out = interpretNamed(*m, "", {{"x", ones}, {"seed", T(DType::i64, {}, {7})}});
  ASSERT_TRUE(out.ok()) << out.status();
  int kept = 0;
  for (double v : out->at("y").data) {
    ASSERT_TRUE(v == 0 || std::abs(v - 4.0 / 3.0) < 1e-6) << v;
    kept += v != 0;
  }
  EXPECT_NEAR(kept / 10000.0, 0.75, 0.02);
  EXPECT_EQ(out->at("eval").data, ones.data);
  Graph bad;
  layers::Dropout(1.0, bad.hyper("s", {}, DType::i64))(bad.data("x", {2}));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("rate must be in [0, 1)"));
}

// Two LSTM steps with peepholes, against the formulas evaluated by hand,
// as a tg.scan and unrolled.
class LstmForms : public ::testing::TestWithParam<bool> {};

TEST_P(LstmForms, StepsMatchFormulas) {
  const int64_t B = 1, D = 2, H = 1;
  Graph g("lstm");
  Value x = g.data("x", {B, 2, D});
  Value h0 = g.state("h0", {B, H}), c0 = g.state("c0", {B, H});
  auto out = layers::LSTM(H, "l").peepholes(true).unrolled(GetParam())(x, h0, c0);
  g.output("seq", out.sequence);
  g.output("h", out.h);
  g.output("c", out.c);
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<double> xv = {0.5, -1, 1, 0.25}, W = {0.1, 0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8};
  std::vector<double> U = {0.3, -0.2, 0.1, 0.5}, b = {0.01, 0.02, 0.03, 0.04};
  double pi = 0.2, pf = -0.3, po = 0.4;
  auto res = interpretNamed(*m, "",
                            {{"x", F({B, 2, D}, xv)},
                             {"h0", F({B, H}, {0.1})},
                             {"c0", F({B, H}, {-0.2})},
                             {"l.W", F({D, 4 * H}, W)},
                             {"l.U", F({H, 4 * H}, U)},
                             {"l.b", F({4 * H}, b)},
                             {"l.p_i", F({H}, {pi})},
                             {"l.p_f", F({H}, {pf})},
                             {"l.p_o", F({H}, {po})}},
                            {/*float64=*/true});
  ASSERT_TRUE(res.ok()) << res.status();
  double h = 0.1, c = -0.2;
  std::vector<double> hs;
  for (int t = 0; t < 2; ++t) {
    double z[4];
    for (int k = 0; k < 4; ++k)
      z[k] = xv[2 * t] * W[k] + xv[2 * t + 1] * W[4 + k] + b[k] + h * U[k];
    double i = sigm(z[0] + pi * c), f = sigm(z[1] + 1.0 + pf * c), gg = std::tanh(z[2]);
    c = f * c + i * gg;
    double o = sigm(z[3] + po * c);
    h = o * std::tanh(c);
    hs.push_back(h);
  }
  EXPECT_NEAR(res->at("h").data[0], h, 1e-12);
  EXPECT_NEAR(res->at("c").data[0], c, 1e-12);
  EXPECT_THAT(res->at("seq"), TensorNear(F({1, 2, 1}, hs), 1e-12));
  // The scan form has one tg.scan and one matmul by U in it; unrolled, one per step.
  size_t scans = 0, pos = 0;
  for (std::string text = m->str(); (pos = text.find("tg.scan", pos)) != std::string::npos; ++pos)
    ++scans;
  EXPECT_EQ(scans, GetParam() ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(Layers, LstmForms, ::testing::Values(false, true),
                         [](const auto &info) { return info.param ? "Unrolled" : "Scan"; });

// PyTorch's nn.LSTM cell (torch.nn.LSTM docs): gates i, f, g, o from
// x W_ih^T + b_ih + h W_hh^T + b_hh, no forget bias, no peepholes; two bias
// params; f64 input gives f64 params.
TEST(Layers, LstmPyTorchCellWithTwoBiases) {
  const int64_t B = 1, D = 2, H = 1;
  Graph g("lstm");
  Value x = g.data("x", {B, 2, D}, DType::f64);
  Value h0 = g.state("h0", {B, H}, DType::f64), c0 = g.state("c0", {B, H}, DType::f64);
  auto out = layers::LSTM(H, "l").pytorch()(x, h0, c0);
  g.output("h", out.h);
  g.output("c", out.c);
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto sig = m->signature("lstm");
  ASSERT_TRUE(sig.ok()) << sig.status();
  std::vector<std::string> params;
  for (const ValueInfo &a : sig->args)
    if (a.role == Role::Param) {
      params.push_back(a.name);
      EXPECT_EQ(a.dtype, DType::f64) << a.name;
    }
  EXPECT_EQ(params, (std::vector<std::string>{"l.W", "l.U", "l.b_ih", "l.b_hh"}));
  std::vector<double> xv = {0.5, -1, 1, 0.25}, W = {0.1, 0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8};
  std::vector<double> U = {0.3, -0.2, 0.1, 0.5}, bih = {0.01, 0.02, 0.03, 0.04},
                      bhh = {-0.05, 0.06, 0.07, -0.08};
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return T(DType::f64, std::move(s), std::move(v));
  };
  auto res = interpretNamed(*m, "",
                            {{"x", d({B, 2, D}, xv)},
                             {"h0", d({B, H}, {0.1})},
                             {"c0", d({B, H}, {-0.2})},
                             {"l.W", d({D, 4 * H}, W)},
                             {"l.U", d({H, 4 * H}, U)},
                             {"l.b_ih", d({4 * H}, bih)},
                             {"l.b_hh", d({4 * H}, bhh)}});
  ASSERT_TRUE(res.ok()) << res.status();
  double h = 0.1, c = -0.2;
  for (int t = 0; t < 2; ++t) {
    double z[4];
    for (int k = 0; k < 4; ++k)
      z[k] = xv[2 * t] * W[k] + xv[2 * t + 1] * W[4 + k] + bih[k] + h * U[k] + bhh[k];
    double i = sigm(z[0]), f = sigm(z[1]), gg = std::tanh(z[2]), o = sigm(z[3]);
    c = f * c + i * gg;
    h = o * std::tanh(c);
  }
  EXPECT_NEAR(res->at("h").data[0], h, 1e-14);
  EXPECT_NEAR(res->at("c").data[0], c, 1e-14);
}

// torch.nn.LayerNorm(3): biased variance, eps 1e-5, then gamma and beta.
TEST(Layers, LayerNormIsPyTorchs) {
  Graph g("ln");
  Value x = g.data("x", {2, 3}, DType::f64);
  g.output("y", layers::LayerNorm(1, "ln")(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return T(DType::f64, std::move(s), std::move(v));
  };
  std::vector<double> xv = {1, 2, 4, -1, 0.5, 3}, gamma = {1, 2, -1}, beta = {0, 0.5, 1};
  auto out = interpretNamed(
      *m, "", {{"x", d({2, 3}, xv)}, {"ln.gamma", d({3}, gamma)}, {"ln.beta", d({3}, beta)}});
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<double> want;
  for (int r = 0; r < 2; ++r) {
    double mean = (xv[3 * r] + xv[3 * r + 1] + xv[3 * r + 2]) / 3, var = 0;
    for (int k = 0; k < 3; ++k)
      var += (xv[3 * r + k] - mean) * (xv[3 * r + k] - mean) / 3;
    for (int k = 0; k < 3; ++k)
      want.push_back((xv[3 * r + k] - mean) / std::sqrt(var + 1e-5) * gamma[k] + beta[k]);
  }
  EXPECT_THAT(out->at("y"), TensorNear(d({2, 3}, want), 1e-12));
  layers::LayerNorm(3)(x);
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("LayerNorm: normalizes 1..2"));
}

// Plain attention in f64 loops, PyTorch's nn.MultiheadAttention (batch_first)
// definition: q/k/v = x W_{q,k,v}^T + b, per head softmax(q k^T / sqrt(D)),
// heads concatenated, out_proj.
std::vector<double> referenceAttention(const std::vector<double> &q, const std::vector<double> &kv,
                                       int64_t B, int64_t T, int64_t S, int64_t E, int64_t H,
                                       const std::vector<double> &w, const std::vector<double> &b,
                                       const std::vector<double> &wo,
                                       const std::vector<double> &bo, bool causal,
                                       const std::vector<int> &pad) {
  auto lin = [&](const std::vector<double> &x, int64_t rows, int64_t block) {
    std::vector<double> y(size_t(rows * E));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < E; ++o) {
        double acc = b[size_t(block * E + o)];
        for (int64_t i = 0; i < E; ++i)
          acc += x[size_t(r * E + i)] * w[size_t((block * E + o) * E + i)];
        y[size_t(r * E + o)] = acc;
      }
    return y;
  };
  std::vector<double> Q = lin(q, B * T, 0), K = lin(kv, B * S, 1), V = lin(kv, B * S, 2);
  std::vector<double> o(size_t(B * T * E)), out(size_t(B * T * E));
  int64_t D = E / H;
  for (int64_t n = 0; n < B; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> s(size_t(S), -INFINITY);
        double mx = -INFINITY;
        for (int64_t j = 0; j < S; ++j) {
          if ((causal && j > t) || (!pad.empty() && pad[size_t(n * S + j)]))
            continue;
          double acc = 0;
          for (int64_t d = 0; d < D; ++d)
            acc += Q[size_t((n * T + t) * E + h * D + d)] * K[size_t((n * S + j) * E + h * D + d)];
          s[size_t(j)] = acc / std::sqrt(double(D));
          mx = std::max(mx, s[size_t(j)]);
        }
        double z = 0;
        for (double &x : s)
          z += (x = std::exp(x - mx));
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < S; ++j)
            acc += s[size_t(j)] / z * V[size_t((n * S + j) * E + h * D + d)];
          o[size_t((n * T + t) * E + h * D + d)] = acc;
        }
      }
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t k = 0; k < E; ++k) {
      double acc = bo[size_t(k)];
      for (int64_t i = 0; i < E; ++i)
        acc += o[size_t(r * E + i)] * wo[size_t(k * E + i)];
      out[size_t(r * E + k)] = acc;
    }
  return out;
}

TEST(Layers, MultiHeadAttentionIsPyTorchs) {
  const int64_t B = 2, T = 3, E = 4, H = 2;
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return tg::testing::T(DType::f64, std::move(s), std::move(v));
  };
  auto ramp = [](size_t n, double scale, double shift) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = std::sin(double(i) * scale + shift);
    return v;
  };
  std::vector<double> x = ramp(B * T * E, 0.7, 0.1), w = ramp(3 * E * E, 0.37, 0.5),
                      b = ramp(3 * E, 1.3, -0.2), wo = ramp(E * E, 0.53, 0.9), bo = ramp(E, 2.1, 0.3);
  NamedTensors params = {{"x", d({B, T, E}, x)},
                         {"mha.in_proj_weight", d({3 * E, E}, w)},
                         {"mha.in_proj_bias", d({3 * E}, b)},
                         {"mha.out_proj.weight", d({E, E}, wo)},
                         {"mha.out_proj.bias", d({E}, bo)}};
  // Causal self-attention, fused (one tg.attention) and as plain ops.
  for (bool fused : {true, false}) {
    Graph g("attn");
    Value xv = g.data("x", {B, T, E}, DType::f64);
    g.output("y", layers::MultiHeadAttention(E, H, "mha").causal(true).fused(fused)(xv));
    auto m = g.build();
    ASSERT_TRUE(m.ok()) << m.status();
    auto out = interpretNamed(*m, "", params);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_THAT(out->at("y"),
                TensorNear(d({B, T, E}, referenceAttention(x, x, B, T, T, E, H, w, b, wo, bo,
                                                           true, {})),
                           1e-12))
        << (fused ? "fused" : "plain ops");
    // The mask is the op's causal flag, or comes from tg.iota: no T x T
    // constant in the module.
    auto text = g.toMlir();
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_THAT(*text, HasSubstr(fused ? "tg.attention" : "tg.iota"));
    EXPECT_THAT(*text, ::testing::Not(HasSubstr("dense<[[")));
  }
  // Cross-attention over S = 2 keys with a key padding mask.
  {
    const int64_t S = 2;
    std::vector<double> kv = ramp(B * S * E, 0.9, -0.4);
    Graph g("cross");
    Value qv = g.data("x", {B, T, E}, DType::f64), kvv = g.data("kv", {B, S, E}, DType::f64);
    Value pad = g.data("pad", {B, S}, DType::i1);
    g.output("y", layers::MultiHeadAttention(E, H, "mha")(qv, kvv, kvv, pad));
    auto m = g.build();
    ASSERT_TRUE(m.ok()) << m.status();
    NamedTensors in = params;
    in["kv"] = d({B, S, E}, kv);
    in["pad"] = tg::testing::T(DType::i1, {B, S}, {0, 0, 0, 1});
    auto out = interpretNamed(*m, "", in);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_THAT(out->at("y"),
                TensorNear(d({B, T, E}, referenceAttention(x, kv, B, T, S, E, H, w, b, wo, bo,
                                                           false, {0, 0, 0, 1})),
                           1e-12));
  }
  // Bad configurations and inputs are errors naming the shapes.
  Graph g("bad");
  Value xv = g.data("x", {B, T, E});
  layers::MultiHeadAttention(E, 3)(xv);
  EXPECT_THAT(std::string(g.status().message()),
              HasSubstr("numHeads must divide embedDim (both positive), got embedDim 4 and numHeads 3"));
  Graph g2("bad2");
  Value x2 = g2.data("x", {B, T, E});
  layers::MultiHeadAttention(E, 2)(x2, g2.data("pad", {B, T}));
  EXPECT_THAT(std::string(g2.status().message()),
              HasSubstr("the key padding mask must be i1 [2, 3]"));
  Graph g3("bad3");
  layers::MultiHeadAttention(8, 2)(g3.data("x", {B, T, E}));
  EXPECT_THAT(std::string(g3.status().message()),
              HasSubstr("expects query [B, T, 8] and key, value [B, S, 8]"));
}

TEST(Layers, TiedEmbeddingAndTorchInit) {
  Graph g("tied");
  Value ids = g.data("ids", {2}, DType::i32);
  layers::Embedding emb(3, 2, "wte");
  Value h = emb(ids);
  Value again = emb(ids); // shares the table
  g.output("logits", emb.attend(h + again));
  g.output("dense", layers::Dense(2, "fc").torchInit()(h));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return T(DType::f32, std::move(s), std::move(v));
  };
  std::vector<double> table = {1, 2, 3, 4, 5, 6};
  auto out = interpretNamed(*m, "", {{"ids", T(DType::i32, {2}, {2, 0})},
                                     {"wte.table", d({3, 2}, table)},
                                     {"fc.kernel", d({2, 2}, {0, 0, 0, 0})},
                                     {"fc.bias", d({2}, {0, 0})}});
  ASSERT_TRUE(out.ok()) << out.status();
  // rows (2 * [5, 6], 2 * [1, 2]) against every row of the table
  EXPECT_THAT(out->at("logits"),
              TensorNear(d({2, 3}, {2 * (5 + 12), 2 * (15 + 24), 2 * (25 + 36), 2 * (1 + 4),
                                    2 * (3 + 8), 2 * (5 + 12)}),
                         1e-6));
  // One table param; torchInit's bounds are +-1/sqrt(in) = +-0.707.
  auto text = g.toMlir();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("\"wte.table\""));
  EXPECT_THAT(*text, ::testing::Not(HasSubstr("wte.table_1")));
  EXPECT_THAT(*text, HasSubstr("-0.70710678118654"));
  Graph g2("untied");
  layers::Embedding e2(3, 2);
  e2.attend(g2.data("h", {2, 2}));
  EXPECT_THAT(std::string(g2.status().message()), HasSubstr("call the embedding on this graph's ids first"));
}

// torch.nn.GRU's cell (its docs' equations, gates r, z, n), two steps in f64.
TEST(Layers, GruIsPyTorchs) {
  const int64_t B = 1, D = 2, H = 1;
  Graph g("gru");
  Value x = g.data("x", {B, 2, D}, DType::f64);
  Value h0 = g.state("h0", {B, H}, DType::f64);
  auto out = layers::GRU(H, "g")(x, h0);
  g.output("h", out.h);
  g.output("seq", out.sequence);
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return T(DType::f64, std::move(s), std::move(v));
  };
  std::vector<double> xv = {0.5, -1, 1, 0.25}, W = {0.1, 0.2, 0.3, -0.5, 0.6, 0.7};
  std::vector<double> U = {0.3, -0.2, 0.4}, bih = {0.01, 0.02, 0.03}, bhh = {-0.05, 0.06, 0.07};
  auto res = interpretNamed(*m, "",
                            {{"x", d({B, 2, D}, xv)},
                             {"h0", d({B, H}, {0.1})},
                             {"g.W", d({D, 3 * H}, W)},
                             {"g.U", d({H, 3 * H}, U)},
                             {"g.b_ih", d({3 * H}, bih)},
                             {"g.b_hh", d({3 * H}, bhh)}});
  ASSERT_TRUE(res.ok()) << res.status();
  double h = 0.1;
  std::vector<double> hs;
  for (int t = 0; t < 2; ++t) {
    double xw[3], hu[3];
    for (int k = 0; k < 3; ++k) {
      xw[k] = xv[2 * t] * W[k] + xv[2 * t + 1] * W[3 + k] + bih[k];
      hu[k] = h * U[k] + bhh[k];
    }
    double r = sigm(xw[0] + hu[0]), z = sigm(xw[1] + hu[1]), n = std::tanh(xw[2] + r * hu[2]);
    h = (1 - z) * n + z * h;
    hs.push_back(h);
  }
  EXPECT_NEAR(res->at("h").data[0], h, 1e-14);
  EXPECT_THAT(res->at("seq"), TensorNear(d({1, 2, 1}, hs), 1e-14));
}

// torch.nn.BatchNorm1d(2) (momentum 0.1, eps 1e-5): in training the batch's
// mean and biased variance normalize, the running statistics move toward the
// batch's (variance unbiased); in eval the running statistics normalize and
// stay. The model function's hyper "training" picks.
TEST(Layers, BatchNormIsPyTorchsInTrainingAndEval) {
  Graph g("bn");
  Value x = g.data("x", {4, 2}, DType::f64);
  g.output("y", layers::BatchNorm("bn")(x));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto d = [](std::vector<int64_t> s, std::vector<double> v) {
    return T(DType::f64, std::move(s), std::move(v));
  };
  std::vector<double> xv = {1, -2, 3, 0.5, -1, 4, 2, 1}, gamma = {1.5, -1}, beta = {0.1, 0.2};
  std::vector<double> rm = {0.3, -0.4}, rv = {2, 0.5};
  NamedTensors in = {{"x", d({4, 2}, xv)},
                     {"bn.gamma", d({2}, gamma)},
                     {"bn.beta", d({2}, beta)},
                     {"bn.running_mean", d({2}, rm)},
                     {"bn.running_var", d({2}, rv)}};
  for (double training : {1.0, 0.0}) {
    SCOPED_TRACE(training);
    in["training"] = Tensor::scalar(training);
    auto out = interpretNamed(*m, "", in);
    ASSERT_TRUE(out.ok()) << out.status();
    std::vector<double> y(8), nextMean(2), nextVar(2);
    for (int c = 0; c < 2; ++c) {
      double mean = 0, var = 0;
      for (int n = 0; n < 4; ++n)
        mean += xv[size_t(2 * n + c)] / 4;
      for (int n = 0; n < 4; ++n)
        var += (xv[size_t(2 * n + c)] - mean) * (xv[size_t(2 * n + c)] - mean) / 4;
      double useMean = training ? mean : rm[size_t(c)], useVar = training ? var : rv[size_t(c)];
      for (int n = 0; n < 4; ++n)
        y[size_t(2 * n + c)] =
            (xv[size_t(2 * n + c)] - useMean) / std::sqrt(useVar + 1e-5) * gamma[size_t(c)] +
            beta[size_t(c)];
      nextMean[size_t(c)] = training ? 0.9 * rm[size_t(c)] + 0.1 * mean : rm[size_t(c)];
      nextVar[size_t(c)] = training ? 0.9 * rv[size_t(c)] + 0.1 * var * 4 / 3 : rv[size_t(c)];
    }
    EXPECT_THAT(out->at("y"), TensorNear(d({4, 2}, y), 1e-12));
    EXPECT_THAT(out->at("bn.running_mean_next"), TensorNear(d({2}, nextMean), 1e-12));
    EXPECT_THAT(out->at("bn.running_var_next"), TensorNear(d({2}, nextVar), 1e-12));
  }
}

// tg-build-train-step binds "training": train_step (no such argument) moves
// the running statistics, eval_step and predict leave them.
TEST(Layers, BatchNormTrainsInTrainStepOnly) {
  Graph g("bn_net");
  Value x = g.data("x", {4, 3, 2, 2});
  Value y = g.label("y", {4});
  Value h = layers::BatchNorm("bn")(layers::Conv2D(2, {1, 1}, "conv")(x));
  Value loss = ops::softmaxCrossEntropy(layers::Dense(3, "fc")(layers::Flatten()(h)), y);
  g.output("loss", loss);
  g.minimize(loss, optim::SGD(0.1));
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto trained = m->transform("tg-build-train-step");
  ASSERT_TRUE(trained.ok()) << trained.status();
  for (const char *fn : {"train_step", "eval_step", "predict"}) {
    auto sig = trained->signature(fn);
    ASSERT_TRUE(sig.ok()) << sig.status();
    for (const ValueInfo &a : sig->args)
      EXPECT_NE(a.name, "training") << fn;
    // The statistics are next values in train_step only (tg.train_only), so
    // eval_step and predict are not stateful.
    int next = 0;
    for (const ValueInfo &r : sig->results)
      next += r.alias >= 0 && r.name.rfind("bn.running_", 0) == 0;
    EXPECT_EQ(next, std::string(fn) == "train_step" ? 2 : 0) << fn;
  }
  auto state = initializeParams(*trained, "train_step", 3);
  ASSERT_TRUE(state.ok()) << state.status();
  std::vector<double> xs(48);
  for (size_t i = 0; i < xs.size(); ++i)
    xs[i] = std::sin(double(i));
  (*state)["x"] = F({4, 3, 2, 2}, xs);
  (*state)["y"] = I({4}, {0, 1, 2, 1});
  EXPECT_THAT(state->at("bn.running_var"), TensorNear(F({2}, {1, 1}), 0));
  for (const char *fn : {"eval_step", "predict"}) {
    auto sig = trained->signature(fn);
    ASSERT_TRUE(sig.ok()) << sig.status();
    NamedTensors args;
    for (const ValueInfo &a : sig->args)
      args[a.name] = state->at(a.name);
    auto out = interpretStep(*trained, fn, args);
    ASSERT_TRUE(out.ok()) << fn << ": " << out.status();
    for (const char *s : {"bn.running_mean", "bn.running_var"})
      (*state)[s] = args.at(s);
    EXPECT_THAT(state->at("bn.running_mean"), TensorNear(F({2}, {0, 0}), 0)) << fn;
    EXPECT_THAT(state->at("bn.running_var"), TensorNear(F({2}, {1, 1}), 0)) << fn;
  }
  auto out = interpretStep(*trained, "train_step", *state);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NE(state->at("bn.running_mean").data[0], 0.0);
  EXPECT_NE(state->at("bn.running_var").data[0], 1.0);
}

TEST(Layers, LstmRejectsWrongRank) {
  Graph g;
  layers::LSTM(4)(g.data("x", {2, 3}), g.state("h", {2, 4}), g.state("c", {2, 4}));
  EXPECT_THAT(std::string(g.status().message()), HasSubstr("LSTM: expects an input [batch, time"));
}

} // namespace
