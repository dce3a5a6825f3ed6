//===- CompiledTest.cpp - compiled code against the reference interpreter -===//
//
// Every op the CPU code generator supports and the example models' train
// steps, compiled with the same pipeline as `tgc compile` and run through
// libtgrt, against the interpreter (f32, rtol 1e-4). Bad artifacts and bad
// inputs get clear errors.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tests/e2e/OpCases.h"
#include "runtime/cpu/Kernels.h"
#include "support/Trailer.h"
#include "tg/Compile.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Ops.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

namespace tg {
namespace {

using ::testing::HasSubstr;


/// |a - b| <= atol + rtol |b| elementwise.
void expectClose(const Tensor &got, const Tensor &want, const std::string &what, double rtol = 1e-4,
                 double atol = 1e-5) {
  ASSERT_EQ(got.shape, want.shape) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    // A NaN or an infinity matches only its like (a NaN compares false, so
    // a plain difference would let a NaN through).
    double g = got.data[i], w = want.data[i];
    double excess = std::isnan(g) || std::isnan(w) ? (std::isnan(g) && std::isnan(w) ? 0 : INFINITY)
                    : std::isinf(g) || std::isinf(w) ? (g == w ? 0 : INFINITY)
                                                     : std::fabs(g - w) - (atol + rtol * std::fabs(w));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  EXPECT_LE(worst, 0) << what << ": element " << at << " is " << got.data[at] << ", interpreter "
                      << want.data[at];
}

//===----------------------------------------------------------------------===//
// Every op: one module, one function per case, one compile.
//===----------------------------------------------------------------------===//


/// The backends the compiled tests run on: the CPU pipeline with and
/// without fusion, and the CUDA pipeline with its kernels emulated on the CPU
/// (tg-cuda-emulate-launches: proves the kernels' index logic without a GPU).
/// Cuda runs on a GPU when there is one, and is Skipped (with the reason)
/// when there is no driver or device.
enum class Backend { Fused, Unfused, CudaEmulated, Cuda };

CompileOptions backendOptions(Backend b, uint64_t seed = 0) {
  CompileOptions o;
  o.seed = seed;
  o.fusion = b != Backend::Unfused;
  if (b == Backend::CudaEmulated || b == Backend::Cuda) {
    o.target = "cuda";
    o.cudaEmulate = b == Backend::CudaEmulated;
  }
  return o;
}

/// Why a CUDA executable cannot run on this machine (no toolkit, runtime,
/// driver or GPU), or "" when it could have.
std::string noGpuReason(Backend b, const absl::Status &s) {
  if (b != Backend::Cuda || s.ok())
    return "";
  std::string m(s.message());
  for (const char *why : {"no CUDA toolkit", "without the CUDA device runtime", "libcuda.so.1",
                          "cuInit failed", "no CUDA device"})
    if (m.find(why) != std::string::npos)
      return m;
  return "";
}

const char *backendName(Backend b) {
  return b == Backend::Fused          ? "fused"
         : b == Backend::Unfused      ? "unfused"
         : b == Backend::CudaEmulated ? "cuda_emulated"
                                      : "cuda";
}

class CompiledFusion : public ::testing::TestWithParam<Backend> {};

TEST_P(CompiledFusion, EveryOpMatchesTheInterpreter) {
  std::vector<OpCase> cases = opCases();
  std::string text = opCasesModule(cases);
  auto m = Module::parse(text, "ops.mlir");
  ASSERT_TRUE(m.ok()) << m.status();
  auto exe = compile(*m, backendOptions(GetParam()));
  if (std::string why = noGpuReason(GetParam(), exe.status()); !why.empty())
    GTEST_SKIP() << why;
  ASSERT_TRUE(exe.ok()) << exe.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    const OpCase &c = cases[i];
    std::string fn = absl::StrCat("f", i);
    auto sig = m->signature(fn);
    ASSERT_TRUE(sig.ok());
    NamedTensors in;
    for (size_t k = 0; k < c.args.size(); ++k) {
      const ValueInfo &a = sig->args[k];
      in[a.name] =
          randomTensor(a.shape, a.dtype, unsigned(100 * i + k), c.args[k].lo, c.args[k].hi);
      ASSERT_TRUE(exe->set(a.name, in[a.name]).ok()) << c.name;
    }
    auto want = interpretNamed(*m, fn, in);
    ASSERT_TRUE(want.ok()) << c.name << ": " << want.status();
    ASSERT_TRUE(exe->run(fn).ok()) << c.name;
    auto got = exe->get(fn + ".y");
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
    expectClose(*got, want->at(fn + ".y"), c.name, c.rtol, c.atol);
  }
  std::printf("[ compiled  ] %zu op cases match the interpreter (%s)\n", cases.size(),
              backendName(GetParam()));
}

//===----------------------------------------------------------------------===//
// Example models: 5 compiled train steps against 5 interpreted ones.
//===----------------------------------------------------------------------===//

void checkTrainSteps(Graph &g, int64_t classes, Backend backend, double rtol = 1e-4,
                     double atol = 1e-5, const std::string &trainPass = "tg-build-train-step") {
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  auto trained = model->transform(trainPass);
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto exe = compile(*trained, backendOptions(backend, /*seed=*/7));
  if (std::string why = noGpuReason(backend, exe.status()); !why.empty())
    GTEST_SKIP() << why;
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto state = initializeParams(*trained, "train_step", 7);
  ASSERT_TRUE(state.ok()) << state.status();
  auto sig = trained->signature("train_step");
  for (int step = 0; step < 5; ++step) {
    for (const ValueInfo &a : sig->args)
      if (a.role == Role::Data || a.role == Role::Label) {
        Tensor v = randomTensor(a.shape, a.dtype, unsigned(step * 31 + a.name.size()),
                                isFloat(a.dtype) ? 0 : 0, isFloat(a.dtype) ? 1 : double(classes));
        (*state)[a.name] = v;
        ASSERT_TRUE(exe->set(a.name, v).ok());
      }
    auto want = interpretStep(*trained, "train_step", *state);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(exe->run("train_step").ok());
    auto loss = exe->get("loss");
    ASSERT_TRUE(loss.ok());
    expectClose(*loss, want->at("loss"), absl::StrCat("loss at step ", step), rtol, atol);
  }
  for (const ValueInfo &a : sig->args)
    if (a.role == Role::Param || a.role == Role::State) {
      auto got = exe->get(a.name);
      ASSERT_TRUE(got.ok()) << got.status();
      expectClose(*got, state->at(a.name), a.name + " after 5 steps", 10 * rtol, 10 * atol);
    }
}

TEST_P(CompiledFusion, FashionMlpTrainStepMatchesTheInterpreter) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {/*batch=*/16, /*hidden=*/{32, 16}});
  checkTrainSteps(g, 10, GetParam());
}

TEST_P(CompiledFusion, CharLstmTrainStepMatchesTheInterpreter) {
  Graph g("lstm");
  examples::buildCharLstm(g, {/*batch=*/2, /*steps=*/4, /*vocab=*/6, /*hidden=*/8});
  checkTrainSteps(g, 6, GetParam());
}

// Causal attention (fused tg.attention, or the plain ops: tg.iota masks,
// -inf scores, softmax), rank-4 batched matmuls, LayerNorms, GELU, a tied
// output layer and AdamW; and the same model as 2 micro-batches of 1.
examples::CharGptConfig smallGpt(int64_t batch, bool fused) {
  examples::CharGptConfig c;
  c.batch = batch, c.steps = 5, c.vocab = 7, c.dim = 8, c.heads = 2, c.layers = 2;
  c.fusedAttention = fused;
  // The key projection's bias has a zero gradient (softmax ignores a shift
  // shared by all keys): f32 and f64 round it to different noise, which
  // Adam's eps 1e-8 would blow up to whole steps. A larger eps keeps the
  // comparison about the compiled code.
  c.optimizer = optim::AdamW(1e-2, 0.1, 0.9, 0.999, 1e-4).group("*bias", 0).group("*ln_*", 0);
  return c;
}

TEST_P(CompiledFusion, CharGptTrainStepMatchesTheInterpreter) {
  Graph g("gpt");
  examples::buildCharGpt(g, smallGpt(2, true));
  checkTrainSteps(g, 5, GetParam());
}

TEST_P(CompiledFusion, UnfusedAttentionGptTrainStepMatchesTheInterpreter) {
  Graph g("gpt");
  examples::buildCharGpt(g, smallGpt(2, false));
  checkTrainSteps(g, 5, GetParam());
}

TEST_P(CompiledFusion, MicrobatchedGptTrainStepMatchesTheInterpreter) {
  Graph g("gpt");
  examples::buildCharGpt(g, smallGpt(1, true));
  checkTrainSteps(g, 5, GetParam(), 1e-4, 1e-5, "tg-build-train-step{microbatches=2}");
}

TEST_P(CompiledFusion, FashionCnnTrainStepMatchesTheInterpreter) {
  Graph g("cnn");
  examples::buildFashionCnn(g, {/*batch=*/4, /*filters1=*/3, /*filters2=*/4, /*dense=*/8});
  checkTrainSteps(g, 10, GetParam());
}

// Channels in whole blocks of 16: tg-assign-layouts keeps the activations
// blocked (nChw16c on AVX-512, nChw8c on AVX2) through conv -> pool -> conv
// chains, the ReLU masks and the pooling and convolution gradients; the
// bias gradients come with the filter gradients, and a reduction of an
// activation in the loss reads it through tg.relayout. (On a CPU without
// AVX2 this runs plain.)
TEST_P(CompiledFusion, BlockedLayoutCnnTrainStepMatchesTheInterpreter) {
  Graph g("blocked_cnn");
  Value x = g.data("image", {2, 3, 10, 10});
  Value y = g.label("label", {2});
  Value c = layers::Conv2D(16, {3, 3}, "conv1").padding(1).activation(layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value d = layers::Conv2D(32, {3, 3}, "conv2").padding(1).activation(layers::Activation::relu)(a);
  Value p = layers::MaxPool2D({2, 2})(d);
  Value e = layers::Conv2D(16, {3, 3}, "conv3").padding(1)(p);
  Value logits = layers::Dense(5, "fc")(layers::Flatten()(ops::relu(e)));
  Value penalty = ops::reduceMean(ops::mul(d, d)) * 0.01;
  Value loss = ops::add(ops::softmaxCrossEntropy(logits, y), penalty);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 5, GetParam());
}

// Two max poolings of the same geometry on different sources: the runtime
// shares one workspace between them (and with their gradients), so the
// gradient of the first pooling, which runs after the second's forward and
// gradient, must recompute its argmax positions rather than reuse the
// second's.
TEST_P(CompiledFusion, TwinMaxPoolingsTrainStepMatchesTheInterpreter) {
  Graph g("twin_pools");
  Value x = g.data("image", {2, 3, 8, 8});
  Value y = g.label("label", {2});
  Value a = layers::Conv2D(16, {3, 3}, "conv_a").padding(1).activation(layers::Activation::relu)(x);
  Value b = layers::Conv2D(16, {3, 3}, "conv_b").padding(1).activation(layers::Activation::tanh)(x);
  Value pa = layers::MaxPool2D({2, 2})(a);
  Value pb = layers::MaxPool2D({2, 2})(b);
  Value logits = layers::Dense(4, "fc")(layers::Flatten()(ops::add(pa, ops::mul(pb, pb))));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 4, GetParam());
}

// A CNN in PyTorch's style: padded strided conv, average pooling with
// padding (counting the padded zeros), padded max pooling, global average.
TEST_P(CompiledFusion, PaddedConvAndPoolingLayersTrainStepMatchesTheInterpreter) {
  Graph g("torch_cnn");
  Value x = g.data("image", {4, 1, 12, 12});
  Value y = g.label("label", {4});
  Value c = layers::Conv2D(4, {3, 3}, "conv").strides({2, 2}).padding(1).activation(
      layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value p = layers::MaxPool2D({2, 2}).strides({2, 2})(a);
  Value logits = layers::Dense(10, "fc")(layers::GlobalAvgPool2D()(p));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 10, GetParam());
}

// Windows padded on one side only (TensorFlow's "same" at stride 2) and
// Dense layers with tanh and sigmoid: on CUDA, which cuDNN's descriptors and
// cuBLASLt's epilogues cannot express, they become generated code.
TEST_P(CompiledFusion, AsymmetricWindowsAndTanhSigmoidDenseTrainStepMatchesTheInterpreter) {
  Graph g("one_sided");
  buildOneSidedModel(g);
  checkTrainSteps(g, 6, GetParam());
}

// The same layers in f64: convolution and pooling and their gradients are
// generated loops (no oneDNN kernel takes f64). Each op matches the
// interpreter to 1e-13 (EveryOpMatchesTheInterpreter); over 5 Adam steps,
// which amplify the rounding of small gradients, to 1e-8 (f32 would give 1e-4).
TEST_P(CompiledFusion, Float64ConvAndPoolingTrainStepMatchesTheInterpreter) {
  Graph g("f64_cnn");
  Value x = g.data("image", {3, 2, 9, 9}, DType::f64);
  Value y = g.label("label", {3});
  Value c = layers::Conv2D(4, {3, 3}, "conv").strides({2, 2}).padding(1).activation(
      layers::Activation::relu)(x);
  Value a = layers::AvgPool2D({3, 3}).strides({1, 1}).padding({1, 1, 1, 1})(c);
  Value p = layers::MaxPool2D({3, 3}).strides({2, 2}).padding({1, 1, 1, 1})(a);
  Value logits = layers::Dense(5, "fc")(layers::Flatten()(p));
  Value loss = ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 5, GetParam(), /*rtol=*/1e-8, /*atol=*/1e-10);
}

// nn.LSTM's cell (two bias params, no forget bias) under Adam.
TEST_P(CompiledFusion, PyTorchLstmTrainStepMatchesTheInterpreter) {
  Graph g("torch_lstm");
  Value x = g.data("x", {3, 5, 4});
  Value y = g.label("y", {3});
  Value h0 = g.state("h0", {3, 6}), c0 = g.state("c0", {3, 6});
  auto out = layers::LSTM(6, "lstm").pytorch()(x, h0, c0);
  Value loss = ops::softmaxCrossEntropy(layers::Dense(7, "fc")(out.h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 7, GetParam());
}

// nn.GRU's cell after a LayerNorm, under Adam.
TEST_P(CompiledFusion, GruAndLayerNormTrainStepMatchesTheInterpreter) {
  Graph g("gru_net");
  Value x = g.data("x", {3, 5, 4});
  Value y = g.label("y", {3});
  Value h0 = g.state("h0", {3, 6});
  auto out = layers::GRU(6, "gru")(layers::LayerNorm(1, "ln")(x), h0);
  Value loss = ops::softmaxCrossEntropy(layers::Dense(7, "fc")(out.h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 7, GetParam());
}

// BatchNorm after a conv and a dense layer (without biases, which BatchNorm
// cancels: their gradient is rounding noise that Adam would amplify): the
// running statistics (states) are compared too.
TEST_P(CompiledFusion, BatchNormTrainStepMatchesTheInterpreter) {
  Graph g("bn_cnn");
  Value x = g.data("image", {4, 1, 8, 8});
  Value y = g.label("label", {4});
  Value c = layers::BatchNorm("bn")(layers::Conv2D(3, {3, 3}, "conv").padding(1).useBias(false)(x));
  Value h = layers::MaxPool2D({2, 2})(ops::relu(c));
  Value d = layers::BatchNorm("bn1d")(layers::Dense(8, "fc1").useBias(false)(layers::Flatten()(h)));
  Value loss = ops::softmaxCrossEntropy(layers::Dense(10, "fc2")(ops::relu(d)), y);
  g.output("loss", loss);
  g.minimize(loss, optim::Adam(1e-2));
  checkTrainSteps(g, 10, GetParam());
}

// At the README's size (parallel loops, oneDNN GEMMs). SGD: RMSProp at a
// large rate turns rounding differences into different updates.
TEST(CompiledLarge, CharLstmTrainStepAtTrainingSize) {
  Graph g("lstm");
  examples::buildCharLstm(
      g, {/*batch=*/32, /*steps=*/4, /*vocab=*/77, /*hidden=*/128, optim::SGD(0.5)});
  checkTrainSteps(g, 77, Backend::Fused);
}

INSTANTIATE_TEST_SUITE_P(Backends, CompiledFusion,
                         ::testing::Values(Backend::Fused, Backend::Unfused, Backend::CudaEmulated,
                                           Backend::Cuda),
                         [](const ::testing::TestParamInfo<Backend> &info) {
                           return std::string(backendName(info.param));
                         });

// CompileOptions::keepFunctions: the model's gradient function (built by
// tg-autodiff in the pipeline) is an entry point of the training artifact,
// sharing its param buffers, and gives the interpreter's gradients.
TEST(Compiled, KeptGradientFunctionMatchesTheInterpreter) {
  Graph g("mlp");
  examples::buildFashionMlp(g, {/*batch=*/8, /*hidden=*/{16}});
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  CompileOptions o;
  o.keepFunctions = {"mlp_grad"};
  auto exe = compile(g, o);
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto grad = model->transform("tg-autodiff");
  ASSERT_TRUE(grad.ok()) << grad.status();
  auto sig = grad->signature("mlp_grad");
  ASSERT_TRUE(sig.ok()) << sig.status();
  auto in = initializeParams(*grad, "mlp_grad", 5);
  ASSERT_TRUE(in.ok()) << in.status();
  for (const ValueInfo &a : sig->args) {
    if (a.role == Role::Data || a.role == Role::Label)
      (*in)[a.name] = randomTensor(a.shape, a.dtype, unsigned(a.name.size()), 0,
                                   isFloat(a.dtype) ? 1 : 10);
    ASSERT_TRUE(exe->set(a.name, in->at(a.name)).ok()) << a.name;
  }
  auto want = interpretNamed(*grad, "mlp_grad", *in);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(exe->run("mlp_grad").ok());
  int grads = 0;
  for (const ValueInfo &r : sig->results) {
    auto got = exe->get(r.name);
    ASSERT_TRUE(got.ok()) << r.name << ": " << got.status();
    expectClose(*got, want->at(r.name), r.name);
    grads += absl::EndsWith(r.name, ".grad");
  }
  EXPECT_EQ(grads, 4); // fc1/fc2 kernel and bias
  // The training entry points are still there.
  EXPECT_TRUE(exe->run("train_step").ok());
}

TEST(Compiled, PrimitivesAreCreatedWhenTheSessionStarts) {
  Graph g("cnn");
  examples::buildFashionCnn(g, {/*batch=*/2, /*filters1=*/2, /*filters2=*/3, /*dense=*/4});
  size_t before = cachedPrimitiveCount();
  auto exe = compile(g);
  ASSERT_TRUE(exe.ok()) << exe.status();
  size_t prepared = cachedPrimitiveCount();
  EXPECT_GE(prepared - before, 10u) << "conv, pooling and matmul primitives of the CNN";
  for (const std::string entry : {"train_step", "eval_step", "predict"})
    ASSERT_TRUE(exe->run(entry).ok()) << entry;
  EXPECT_EQ(cachedPrimitiveCount(), prepared) << "a step created a oneDNN primitive";
}

// --precision=bf16-mixed: matmuls and convolutions round their inputs to
// bf16 (8 significant bits) and accumulate in f32. Under SGD (no Adam to
// amplify rounding noise), 5 steps stay within 3e-2 of the f64 interpreter
// (params: 3e-2 of their largest value, plus 5e-3),
// and the first loss differs from the f32 artifact's (bf16 is in effect).
TEST(Compiled, Bf16MixedTrainStepsFollowTheInterpreter) {
  Graph g("bf16_cnn");
  Value x = g.data("image", {4, 3, 10, 10});
  Value y = g.label("label", {4});
  Value c = layers::Conv2D(16, {3, 3}, "conv1").padding(1).activation(layers::Activation::relu)(x);
  Value p = layers::MaxPool2D({2, 2})(c);
  Value d = layers::Conv2D(16, {3, 3}, "conv2").padding(1).activation(layers::Activation::relu)(p);
  Value h = layers::Dense(32, "fc1").activation(layers::Activation::relu)(layers::Flatten()(d));
  Value loss = ops::softmaxCrossEntropy(layers::Dense(5, "fc2")(h), y);
  g.output("loss", loss);
  g.minimize(loss, optim::SGD(0.05));
  auto model = g.build();
  ASSERT_TRUE(model.ok()) << model.status();
  auto trained = model->transform("tg-build-train-step");
  ASSERT_TRUE(trained.ok()) << trained.status();
  CompileOptions o = backendOptions(Backend::Fused, /*seed=*/7);
  auto f32 = compile(*trained, o);
  ASSERT_TRUE(f32.ok()) << f32.status();
  o.precision = "bf16-mixed";
  auto exe = compile(*trained, o);
  if (!exe.ok() && absl::StrContains(exe.status().message(), "needs a CPU with AVX512_BF16"))
    GTEST_SKIP() << exe.status().message();
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto state = initializeParams(*trained, "train_step", 7);
  ASSERT_TRUE(state.ok()) << state.status();
  auto sig = trained->signature("train_step");
  InterpretOptions f64{/*float64=*/true};
  for (int step = 0; step < 5; ++step) {
    for (const ValueInfo &a : sig->args)
      if (a.role == Role::Data || a.role == Role::Label) {
        Tensor v = randomTensor(a.shape, a.dtype, unsigned(step * 31 + a.name.size()), 0,
                                isFloat(a.dtype) ? 1 : 5);
        (*state)[a.name] = v;
        ASSERT_TRUE(exe->set(a.name, v).ok());
        ASSERT_TRUE(f32->set(a.name, v).ok());
      }
    auto want = interpretStep(*trained, "train_step", *state, f64);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(exe->run("train_step").ok());
    ASSERT_TRUE(f32->run("train_step").ok());
    auto loss = exe->get("loss");
    ASSERT_TRUE(loss.ok());
    expectClose(*loss, want->at("loss"), absl::StrCat("bf16 loss at step ", step), 3e-2, 0);
    if (step == 0) {
      EXPECT_NE(loss->data[0], f32->get("loss")->data[0]) << "bf16 compute not in effect";
    }
  }
  for (const ValueInfo &a : sig->args)
    if (a.role == Role::Param) {
      auto got = exe->get(a.name);
      ASSERT_TRUE(got.ok()) << got.status();
      double diff = 0, scale = 0;
      for (size_t i = 0; i < got->data.size(); ++i) {
        diff = std::max(diff, std::fabs(got->data[i] - state->at(a.name).data[i]));
        scale = std::max(scale, std::fabs(state->at(a.name).data[i]));
      }
      // Biases start at 0 and their gradients are cancelling sums (the
      // rounding is relative to each term, not to the sum): 5e-3 absolute.
      EXPECT_LE(diff, 3e-2 * scale + 5e-3) << a.name << " after 5 bf16 steps";
    }
}

// tg-fuse-epilogues makes fused ops for f32 only; written by hand in f64,
// one is a compile error naming it.
TEST(Compiled, UnsupportedOpsAreNamed) {
  auto m = Module::parse(R"(
    func.func @f(%x: tensor<1x1x4x4xf64> {tg.name = "x", tg.role = "data"}, %w: tensor<1x1x2x2xf64> {tg.name = "w", tg.role = "data"}, %b: tensor<1xf64> {tg.name = "b", tg.role = "data"}) -> (tensor<1x1x3x3xf64> {tg.name = "y"}) {
      %0 = tg.fused_conv2d %x, %w, %b {activation = "relu"} : (tensor<1x1x4x4xf64>, tensor<1x1x2x2xf64>, tensor<1xf64>) -> tensor<1x1x3x3xf64>
      return %0 : tensor<1x1x3x3xf64>
    })");
  ASSERT_TRUE(m.ok()) << m.status();
  auto exe = compile(*m);
  ASSERT_FALSE(exe.ok());
  EXPECT_THAT(std::string(exe.status().message()),
              HasSubstr("'tg.fused_conv2d' is made for f32 only (tg-fuse-epilogues)"));
}

TEST_P(CompiledFusion, EmbeddingAndDropoutTrainStep) {
  // gather + scatter_add (the embedding gradient) and random masks.
  Graph g("emb");
  Value ids = g.data("ids", {6}, DType::i32);
  Value y = g.label("y", {6});
  Value h = layers::Embedding(9, 5, "emb")(ids);
  h = layers::Dropout(0.25, g.data("seed", {}, DType::i64))(h);
  Value logits = layers::Dense(3, "out")(h);
  g.minimize(ops::softmaxCrossEntropy(logits, y), optim::SGD(0.5));
  checkTrainSteps(g, 3, GetParam());
}

//===----------------------------------------------------------------------===//
// Bad artifacts and bad inputs
//===----------------------------------------------------------------------===//

std::string tempPath(const std::string &name) { return (::testing::TempDir() + "/" + name); }

std::string compileTo(const std::string &path) {
  Graph g("tiny");
  Value x = g.data("x", {4});
  Value w = g.param("w", {4}, Init::ones());
  g.output("y", ops::reduceSum(x * w));
  auto exe = compile(g, {"native", path, 0});
  EXPECT_TRUE(exe.ok()) << exe.status();
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// Re-seals a patched artifact with a valid trailer, so the runtime's
/// manifest checks (not the checksum) are what rejects it.
std::string reseal(std::string artifact) {
  artifact.resize(artifact.size() - kTrailerSize);
  return artifact + makeTrailer(artifact);
}

TEST(Artifact, RunsAndRejectsBadBuffers) {
  std::string path = tempPath("tiny.tgx");
  compileTo(path);
  auto a = rt::Artifact::open(path);
  ASSERT_TRUE(a.ok()) << a.status();
  auto s = rt::Session::create(*a, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  float x[4] = {1, 2, 3, 4};
  ASSERT_TRUE(s->write("x", x, sizeof x).ok());
  ASSERT_TRUE(s->run("tiny").ok());
  float y = 0;
  ASSERT_TRUE(s->read("y", &y, sizeof y).ok());
  EXPECT_EQ(y, 10.0f);
  absl::Status bad = s->write("x", x, 3 * sizeof(float));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("buffer 'x' holds 16 bytes (f32 [4]), got 12"));
  bad = s->write("nope", x, sizeof x);
  EXPECT_EQ(bad.code(), absl::StatusCode::kNotFound);
  bad = s->run("train_step");
  EXPECT_THAT(std::string(bad.message()),
              HasSubstr("no entry point 'train_step' (the artifact has: tiny)"));
}

TEST(Artifact, TruncatedCorruptedAndForeignFilesAreErrors) {
  std::string good = compileTo(tempPath("good.tgx"));
  ASSERT_GT(good.size(), 1000u);
  writeFile(tempPath("truncated.tgx"), good.substr(0, good.size() / 2));
  auto a = rt::Artifact::open(tempPath("truncated.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is truncated"));

  std::string flipped = good;
  flipped[flipped.size() / 3] ^= 0x5a;
  writeFile(tempPath("flipped.tgx"), flipped);
  a = rt::Artifact::open(tempPath("flipped.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is corrupted (checksum mismatch)"));

  writeFile(tempPath("text.tgx"), "module {}\n");
  a = rt::Artifact::open(tempPath("text.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("is not a tgx artifact"));

  a = rt::Artifact::open(tempPath("missing.tgx"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);

  // A manifest that asks for a CPU feature no machine has (same length, so
  // the ELF layout is unchanged).
  std::string patched = good;
  size_t at = patched.find("\"sse4.2\"");
  ASSERT_NE(at, std::string::npos) << "compiled for a CPU without SSE4.2?";
  patched.replace(at, 8, "\"zzz4.2\"");
  writeFile(tempPath("future.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("future.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("compiled for CPU features this machine lacks: zzz4.2"));

  // A manifest from a newer format version.
  patched = good;
  at = patched.find("\"version\": 1");
  ASSERT_NE(at, std::string::npos);
  patched.replace(at, strlen("\"version\": 1"), "\"version\": 9");
  writeFile(tempPath("newer.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("newer.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("artifact format version 9 is not supported"));

  // A manifest whose JSON is broken.
  patched = good;
  at = patched.find("\"entries\"");
  ASSERT_NE(at, std::string::npos);
  patched[at] = '{';
  writeFile(tempPath("broken.tgx"), reseal(patched));
  a = rt::Artifact::open(tempPath("broken.tgx"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("manifest"));
}

} // namespace
} // namespace tg
