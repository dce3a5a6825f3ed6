//===- PyTorchParityTest.cpp - three PyTorch models rebuilt with tg -------===//
//
// PyTorch's MLP, strided CNN with average pooling and LSTM, in float64
// (tests/data/pytorch-parity/make-parity.py wrote their state_dicts, one
// batch, the first loss's gradients and 5 Adam steps), rebuilt with tg's
// layers from the state_dicts through the layout table of README "Weights
// from and to PyTorch". The first loss and its gradients, the 5 losses and
// the params after 5 steps must match to 1e-6 relative (of the largest
// element), through the interpreter and compiled (f64 graphs: the CNN's
// convolution and pooling are generated loops).
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tg/Checkpoint.h"
#include "tg/Compile.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Ops.h"
#include "tg/Optim.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>

namespace tg {
namespace {

constexpr double kTolerance = 1e-6;

struct Refs {
  std::map<std::string, Tensor> tensors;
  const Tensor &at(const std::string &name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      ADD_FAILURE() << "no " << name << " in the reference file";
      static const Tensor none;
      return none;
    }
    return it->second;
  }
};

Refs readRefs(const std::string &model) {
  Refs refs;
  std::string path = std::string(TG_PARITY_DIR) + "/" + model + ".safetensors";
  auto file = readSafetensors(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok())
    return refs;
  for (const NamedTensor &t : file->tensors) {
    EXPECT_EQ(t.dtype, "f64") << t.name;
    Tensor v;
    v.dtype = DType::f64;
    v.shape = t.shape;
    v.data.resize(t.bytes.size() / sizeof(double));
    std::memcpy(v.data.data(), t.bytes.data(), v.data.size() * sizeof(double));
    refs.tensors[t.name] = std::move(v);
  }
  return refs;
}

Tensor transposed(const Tensor &t) {
  Tensor r = t;
  int64_t rows = t.shape[0], cols = t.shape[1];
  r.shape = {cols, rows};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      r.data[size_t(j * rows + i)] = t.data[size_t(i * cols + j)];
  return r;
}

/// max |got - want| / max |want|.
double relError(const Tensor &got, const Tensor &want) {
  EXPECT_EQ(got.shape, want.shape);
  if (got.data.size() != want.data.size())
    return INFINITY;
  double diff = 0, scale = 0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    diff = std::max(diff, std::fabs(got.data[i] - want.data[i]));
    scale = std::max(scale, std::fabs(want.data[i]));
  }
  return diff / scale;
}

/// A tg param and the PyTorch tensor it comes from (transposed for Linear
/// and LSTM weights: tg's kernels are [in, out]).
struct ParamMap {
  std::string tg, torch;
  bool transpose;
};

struct Model {
  std::string name;
  std::function<void(Graph &)> build;
  std::vector<ParamMap> params;
  double tolerance = kTolerance;
};

/// tg-example char-gpt's params against make-gpt-parity.py's module names.
std::vector<ParamMap> gptParams(int layers) {
  std::vector<ParamMap> p = {{"wte.table", "wte.weight", false}, {"wpe", "wpe", false}};
  for (int i = 0; i < layers; ++i) {
    std::string tg = "h" + std::to_string(i) + ".", pt = "h." + std::to_string(i) + ".";
    for (const char *ln : {"ln_1", "ln_2"}) {
      p.push_back({tg + ln + ".gamma", pt + ln + ".weight", false});
      p.push_back({tg + ln + ".beta", pt + ln + ".bias", false});
    }
    for (const char *a : {"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"})
      p.push_back({tg + "attn." + a, pt + "attn." + a, false});
    for (const char *d : {"fc", "proj"}) {
      p.push_back({tg + "mlp." + d + ".kernel", pt + d + ".weight", true});
      p.push_back({tg + "mlp." + d + ".bias", pt + d + ".bias", false});
    }
  }
  p.push_back({"ln_f.gamma", "ln_f.weight", false});
  p.push_back({"ln_f.beta", "ln_f.bias", false});
  return p;
}

std::vector<Model> models() {
  using layers::Activation;
  return {
      {"mlp",
       [](Graph &g) {
         Value x = g.data("x", {8, 12}, DType::f64);
         Value y = g.label("labels", {8});
         Value h = layers::Dense(16, "fc1").activation(Activation::relu)(x);
         Value loss = ops::softmaxCrossEntropy(layers::Dense(5, "fc2")(h), y);
         g.output("loss", loss);
         g.minimize(loss, optim::Adam(1e-2));
       },
       {{"fc1.kernel", "fc1.weight", true},
        {"fc1.bias", "fc1.bias", false},
        {"fc2.kernel", "fc2.weight", true},
        {"fc2.bias", "fc2.bias", false}}},
      {"cnn",
       [](Graph &g) {
         Value x = g.data("x", {4, 2, 8, 8}, DType::f64);
         Value y = g.label("labels", {4});
         Value c = layers::Conv2D(4, {3, 3}, "conv").strides({2, 2}).padding(1).activation(
             Activation::relu)(x);
         // nn.AvgPool2d(3, stride=1, padding=1): the padding counts.
         Value p = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
         Value loss = ops::softmaxCrossEntropy(layers::Dense(5, "fc")(layers::Flatten()(p)), y);
         g.output("loss", loss);
         g.minimize(loss, optim::Adam(1e-2));
       },
       {{"conv.kernel", "conv.weight", false},
        {"conv.bias", "conv.bias", false},
        {"fc.kernel", "fc.weight", true},
        {"fc.bias", "fc.bias", false}}},
      {"lstm",
       [](Graph &g) {
         Value x = g.data("x", {4, 5, 3}, DType::f64);
         Value y = g.label("labels", {4});
         Value h0 = g.data("h0", {4, 6}, DType::f64);
         Value c0 = g.data("c0", {4, 6}, DType::f64);
         auto out = layers::LSTM(6, "lstm").pytorch()(x, h0, c0);
         Value loss = ops::softmaxCrossEntropy(layers::Dense(5, "fc")(out.h), y);
         g.output("loss", loss);
         g.minimize(loss, optim::Adam(1e-2));
       },
       {{"lstm.W", "lstm.weight_ih_l0", true},
        {"lstm.U", "lstm.weight_hh_l0", true},
        {"lstm.b_ih", "lstm.bias_ih_l0", false},
        {"lstm.b_hh", "lstm.bias_hh_l0", false},
        {"fc.kernel", "fc.weight", true},
        {"fc.bias", "fc.bias", false}}},
      // Causal attention, LayerNorms, tanh GELU, a tied output layer; AdamW
      // with parameter groups (decay on the matrices only), 20 steps.
      {"gpt",
       [](Graph &g) {
         examples::CharGptConfig c;
         c.batch = 2, c.steps = 8, c.vocab = 11, c.dim = 16, c.heads = 2, c.layers = 2;
         c.dtype = DType::f64;
         c.optimizer = optim::AdamW(1e-2, 0.1, 0.9, 0.999, 1e-6)
                           .group("*bias", 0)
                           .group("*ln_*", 0)
                           .group("wte.*", 0)
                           .group("wpe", 0);
         examples::buildCharGpt(g, c);
       },
       gptParams(2), /*tolerance=*/1e-12},
  };
}

/// gtest names the test by the model; this keeps its log line short too.
void PrintTo(const Model &m, std::ostream *os) { *os << m.name; }

/// PyTorch tensor `prefix/torch` in tg's layout.
Tensor fromTorch(const Refs &refs, const std::string &prefix, const ParamMap &p) {
  const Tensor &t = refs.at(prefix + "/" + p.torch);
  return p.transpose ? transposed(t) : t;
}

/// The batch: x, labels (i32, as the graph takes them), zero LSTM state.
NamedTensors batchOf(const Refs &refs, const Signature &sig) {
  NamedTensors batch;
  for (const ValueInfo &a : sig.args) {
    // (the char GPT's are "chars" and "targets", i32)
    if (a.name == "x" || a.name == "chars") {
      Tensor x = refs.at("x");
      x.dtype = a.dtype;
      batch[a.name] = x;
    }
    if (a.name == "labels" || a.name == "targets") {
      Tensor l = refs.at("labels");
      l.dtype = a.dtype;
      batch[a.name] = l;
    }
    if (a.name == "h0" || a.name == "c0")
      batch[a.name] = Tensor::full(DType::f64, a.shape, 0.0);
  }
  return batch;
}

class PyTorchParity : public ::testing::TestWithParam<Model> {};

TEST_P(PyTorchParity, LossGradientsAndAdamStepsMatch) {
  const Model &model = GetParam();
  Refs refs = readRefs(model.name);
  ASSERT_FALSE(refs.tensors.empty());
  Graph g(model.name);
  model.build(g);
  auto m = g.build();
  ASSERT_TRUE(m.ok()) << m.status();
  auto sig = m->signature(model.name);
  ASSERT_TRUE(sig.ok()) << sig.status();
  NamedTensors batch = batchOf(refs, *sig);
  InterpretOptions f64{/*float64=*/true};

  // The first loss and its gradients (tg-autodiff, interpreted).
  auto withGrad = m->transform("tg-autodiff");
  ASSERT_TRUE(withGrad.ok()) << withGrad.status();
  NamedTensors in = batch;
  for (const ParamMap &p : model.params)
    in[p.tg] = fromTorch(refs, "init", p);
  auto grads = interpretNamed(*withGrad, model.name + "_grad", in, f64);
  ASSERT_TRUE(grads.ok()) << grads.status();
  const Tensor &losses = refs.at("loss");
  const int steps = int(losses.data.size()); // 5, or the GPT's 20
  ASSERT_GE(steps, 5);
  const double tol = model.tolerance;
  double lossErr = std::fabs(grads->at("loss").data[0] - losses.data[0]) / std::fabs(losses.data[0]);
  double gradErr = 0;
  for (const ParamMap &p : model.params) {
    auto it = grads->find(p.tg + ".grad");
    ASSERT_NE(it, grads->end()) << p.tg << ".grad";
    double e = relError(it->second, fromTorch(refs, "grad", p));
    EXPECT_LE(e, tol) << "gradient of " << p.tg;
    gradErr = std::max(gradErr, e);
  }
  EXPECT_LE(lossErr, tol) << "first loss";

  // 5 Adam steps: interpreted (f64) and compiled, from PyTorch's init.
  auto trained = m->transform("tg-build-train-step");
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto state = initializeParams(*trained, "train_step", 1);
  ASSERT_TRUE(state.ok()) << state.status();
  CompileOptions options;
  options.seed = 1;
  auto exe = compile(*trained, options);
  ASSERT_TRUE(exe.ok()) << exe.status();
  for (auto &[name, value] : batch) {
    (*state)[name] = value;
    ASSERT_TRUE(exe->set(name, value).ok()) << name;
  }
  for (const ParamMap &p : model.params) {
    (*state)[p.tg] = fromTorch(refs, "init", p);
    ASSERT_TRUE(exe->set(p.tg, state->at(p.tg)).ok()) << p.tg;
  }
  double stepLossErr[2] = {0, 0}, paramErr[2] = {0, 0};
  for (int step = 0; step < steps; ++step) {
    auto out = interpretStep(*trained, "train_step", *state, f64);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE(exe->run("train_step").ok());
    auto compiledLoss = exe->get("loss");
    ASSERT_TRUE(compiledLoss.ok()) << compiledLoss.status();
    double want = losses.data[size_t(step)];
    double e[2] = {std::fabs(out->at("loss").data[0] - want) / std::fabs(want),
                   std::fabs(compiledLoss->data[0] - want) / std::fabs(want)};
    for (int k = 0; k < 2; ++k) {
      EXPECT_LE(e[k], k ? kTolerance : tol)
          << (k ? "compiled" : "interpreted") << " loss at step " << step;
      stepLossErr[k] = std::max(stepLossErr[k], e[k]);
    }
  }
  for (const ParamMap &p : model.params) {
    Tensor want = fromTorch(refs, "final", p);
    auto compiled = exe->get(p.tg);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    double e[2] = {relError(state->at(p.tg), want), relError(*compiled, want)};
    for (int k = 0; k < 2; ++k) {
      EXPECT_LE(e[k], k ? kTolerance : tol)
          << (k ? "compiled " : "interpreted ") << p.tg << " after " << steps << " steps";
      paramErr[k] = std::max(paramErr[k], e[k]);
    }
  }
  std::printf("[ pytorch   ] %s: first loss %.1e, gradients %.1e; %d Adam steps: losses %.1e "
              "(compiled %.1e), params %.1e (compiled %.1e) relative to PyTorch\n",
              model.name.c_str(), lossErr, gradErr, steps, stepLossErr[0], stepLossErr[1],
              paramErr[0], paramErr[1]);
}

INSTANTIATE_TEST_SUITE_P(Models, PyTorchParity, ::testing::ValuesIn(models()),
                         [](const auto &info) { return info.param.name; });

} // namespace
} // namespace tg
