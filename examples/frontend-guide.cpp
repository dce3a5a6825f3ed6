//===- frontend-guide.cpp - the code of docs/frontend-guide.md ------------===//
//
// Every code block of the guide is one [guide:NAME] section of this file
// (tests/docs/check-guide.py checks that they are the same text), and this
// program runs them all: ctest examples.frontend-guide. It exits non-zero
// when a step does not do what the guide says.
//
//===----------------------------------------------------------------------===//
#include "tg/Compile.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Optim.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const char *what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  failures += ok ? 0 : 1;
}

/// Two Gaussian blobs in 4-D, class = which blob: a batch of 32.
void blobs(tg::Tensor &x, tg::Tensor &y, unsigned seed) {
  x = tg::Tensor::full(tg::DType::f32, {32, 4});
  y = tg::Tensor::full(tg::DType::i32, {32});
  std::srand(seed);
  for (int i = 0; i < 32; ++i) {
    y.data[size_t(i)] = i % 2;
    for (int j = 0; j < 4; ++j)
      x.data[size_t(i * 4 + j)] = (i % 2 ? 1.0 : -1.0) + (std::rand() / double(RAND_MAX) - 0.5);
  }
}

} // namespace

int main() {
  // [guide:build]
  tg::Graph g("classifier");
  tg::Value x = g.data("x", {32, 4});  // f32 unless a dtype is given
  tg::Value y = g.label("y", {32});    // i32 class ids
  tg::Value h = tg::layers::Dense(16, "fc1").activation(tg::layers::Activation::relu)(x);
  tg::Value logits = tg::layers::Dense(2, "fc2")(h);
  tg::Value loss = tg::ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.output("probs", tg::ops::softmax(logits));
  // [/guide:build]

  // [guide:errors]
  tg::Graph bad("bad");
  tg::Value a = bad.data("a", {2, 3});
  tg::Value b = bad.data("b", {4, 5});
  tg::Value c = tg::ops::matmul(a, b); // 3 != 4: recorded, c is invalid
  tg::Value d = tg::ops::relu(c);      // no-op on an invalid value
  if (!bad.status().ok())
    std::printf("first error: %s\n", std::string(bad.status().message()).c_str());
  // [/guide:errors]
  check(!bad.status().ok() && !d.valid(), "a shape error is kept in Graph::status()");

  // [guide:interpret]
  absl::StatusOr<tg::Module> model = g.build(); // verified tg dialect module
  if (!model.ok())
    return std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str()), 1;
  absl::StatusOr<tg::NamedTensors> params = tg::initializeParams(*model, "", /*seed=*/1);
  tg::NamedTensors inputs = *params; // fc1.kernel, fc1.bias, fc2.kernel, fc2.bias
  blobs(inputs["x"], inputs["y"], 7);
  absl::StatusOr<tg::NamedTensors> out = tg::interpretNamed(*model, "", inputs);
  std::printf("loss %.4f, P(class 1 | first example) %.3f\n", out->at("loss").data[0],
              out->at("probs").data[1]);
  // [/guide:interpret]
  check(out.ok() && std::isfinite(out->at("loss").data[0]), "the interpreter runs the model");

  // [guide:gradients]
  absl::StatusOr<tg::Module> withGrad = model->transform("tg-autodiff");
  absl::StatusOr<tg::NamedTensors> grads =
      tg::interpretNamed(*withGrad, "classifier_grad", inputs); // loss, probs, <param>.grad
  const tg::Tensor &dKernel = grads->at("fc1.kernel.grad");  // [4, 16], like fc1.kernel
  // [/guide:gradients]
  check(grads.ok() && dKernel.shape == std::vector<int64_t>({4, 16}),
        "tg-autodiff adds classifier_grad with one gradient per param");

  // [guide:train]
  g.minimize(loss, tg::optim::Adam(/*lr=*/1e-2).clipNorm(5.0));
  absl::StatusOr<tg::Module> trainable = g.build(); // now holds a tg.train spec
  tg::CompileOptions options;
  options.seed = 1;                                  // initial params
  options.keepFunctions = {"classifier"};            // also export the model function
  absl::StatusOr<tg::Executable> exe = tg::compile(*trainable, options);
  if (!exe.ok())
    return std::fprintf(stderr, "%s\n", std::string(exe.status().message()).c_str()), 1;
  double first = 0, last = 0;
  for (int step = 0; step < 50; ++step) {
    tg::Tensor xs, ys;
    blobs(xs, ys, unsigned(step));
    if (!exe->set("x", xs).ok() || !exe->set("y", ys).ok() || !exe->run("train_step").ok())
      return 1;
    double l = exe->get("loss")->data[0];
    (step == 0 ? first : last) = l;
  }
  std::printf("loss %.4f -> %.4f after 50 Adam steps\n", first, last);
  // [/guide:train]
  check(last < first / 4, "compiled training lowers the loss");

  // [guide:groups]
  tg::optim::Optimizer adamw = tg::optim::AdamW(1e-3, /*weightDecay=*/0.1)
                                   .group("*bias", 0.0)  // Dense biases, in_proj_bias, out_proj.bias
                                   .group("*ln_*", 0.0)  // LayerNorm gamma and beta
                                   .group("wte.*", 0.0); // the embedding table
  // [/guide:groups]
  check(adamw.groups().size() == 3 && adamw.groups()[0].weightDecay == 0.0,
        "parameter groups are recorded in order");

  // [guide:compiled-vs-interpreted]
  tg::NamedTensors now = inputs;
  for (const char *p : {"fc1.kernel", "fc1.bias", "fc2.kernel", "fc2.bias"})
    now[p] = *exe->get(p); // the trained params, read back from the session
  absl::StatusOr<tg::NamedTensors> reference = tg::interpretNamed(*model, "", now);
  if (!exe->set("x", now["x"]).ok() || !exe->set("y", now["y"]).ok() ||
      !exe->run("classifier").ok())
    return 1;
  double compiled = exe->get("loss")->data[0], interpreted = reference->at("loss").data[0];
  // [/guide:compiled-vs-interpreted]
  check(std::fabs(compiled - interpreted) <= 1e-5 * std::fabs(interpreted) + 1e-6,
        "the compiled model function equals the interpreter");

  // [guide:save]
  std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/classifier.tg.mlir";
  absl::Status saved = g.save(path); // then: tgc compile classifier.tg.mlir -o c.tgx
  // [/guide:save]
  check(saved.ok(), "Graph::save writes the .tg.mlir file");
  std::remove(path.c_str());

  std::printf("%s\n", failures ? "frontend guide: FAILED" : "frontend guide: all steps ok");
  return failures ? 1 : 0;
}
