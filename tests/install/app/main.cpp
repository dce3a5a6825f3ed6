// A small program on tgc's installed C++ API: builds a classifier with the
// frontend, checks it with the reference interpreter, compiles it in process
// (tg::compile) and trains it; writes the graph as MLIR for `tgc compile`.
//   app OUT.tg.mlir
#include "tg/Compile.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Optim.h"

#include <cmath>
#include <cstdio>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app OUT.tg.mlir\n");
    return 2;
  }
  const int64_t batch = 32, features = 8, classes = 2;
  tg::Graph g("app");
  tg::Value x = g.data("x", {batch, features});
  tg::Value y = g.label("y", {batch});
  tg::Value h = tg::layers::Dense(16, "fc1").activation(tg::layers::Activation::relu)(x);
  tg::Value logits = tg::layers::Dense(classes, "fc2")(h);
  tg::Value loss = tg::ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, tg::optim::Adam(0.05));
  if (!g.status().ok()) {
    std::fprintf(stderr, "graph: %s\n", std::string(g.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = g.save(argv[1]); !s.ok()) {
    std::fprintf(stderr, "save: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  // A separable problem: the class is whether the features sum above 4.
  std::vector<double> xs, ys;
  uint32_t seed = 7;
  for (int64_t i = 0; i < batch; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < features; ++j) {
      seed = seed * 1664525u + 1013904223u;
      double v = double(seed >> 8) / double(1 << 24);
      xs.push_back(v);
      sum += v;
    }
    ys.push_back(sum > 4.0 ? 1 : 0);
  }
  auto xt = tg::Tensor::of(tg::DType::f32, {batch, features}, xs);
  auto yt = tg::Tensor::of(tg::DType::i32, {batch}, ys);
  auto exe = tg::compile(g);
  if (!exe.ok()) {
    std::fprintf(stderr, "compile: %s\n", std::string(exe.status().message()).c_str());
    return 1;
  }
  if (!exe->set("x", *xt).ok() || !exe->set("y", *yt).ok())
    return 1;
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    if (absl::Status s = exe->run("train_step"); !s.ok()) {
      std::fprintf(stderr, "train_step: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    auto l = exe->get("loss");
    if (!l.ok())
      return 1;
    (step == 0 ? first : last) = l->data[0];
  }
  std::printf("app: loss %.4f after 1 step, %.4f after 60\n", first, last);
  if (!(last < 0.5 * first) || !std::isfinite(last)) {
    std::fprintf(stderr, "app: the loss did not fall by half\n");
    return 1;
  }
  return 0;
}
