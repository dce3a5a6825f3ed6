//===- mlp_bench.cpp - compiled MLP train step throughput -----------------===//
//
// The MLP 784-512-512-10 (ReLU, softmax cross-entropy), batch 128, RMSProp:
// built with the frontend, compiled with tg::compile (the tgc pipeline),
// trained on random data. Prints the median step time over the timed steps.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tg/Compile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  int steps = 200, warmup = 20;
  bool fusion = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc)
      steps = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc)
      warmup = std::atoi(argv[++i]);
    else if (a == "--no-fusion")
      fusion = false;
    else {
      std::fprintf(stderr, "usage: tg-bench-mlp [--steps N] [--warmup N] [--no-fusion]\n");
      return a == "--help" || a == "-h" ? 0 : 1;
    }
  }
  if (steps < 1 || warmup < 0) {
    std::fprintf(stderr, "tg-bench-mlp: --steps must be >= 1 and --warmup >= 0\n");
    return 1;
  }
  const int64_t batch = 128;
  tg::Graph g("mlp");
  tg::examples::buildFashionMlp(g, {batch, {512, 512}, tg::optim::RMSProp(1e-3, 0.99)});
  auto t0 = std::chrono::steady_clock::now();
  tg::CompileOptions options;
  options.fusion = fusion;
  auto exe = tg::compile(g, options);
  if (!exe.ok()) {
    std::fprintf(stderr, "tg-bench-mlp: %s\n", std::string(exe.status().message()).c_str());
    return 1;
  }
  double compileSec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::mt19937 gen(0);
  std::uniform_real_distribution<double> pixel(0, 1);
  tg::Tensor x = tg::Tensor::full(tg::DType::f32, {batch, 784});
  tg::Tensor y = tg::Tensor::full(tg::DType::i32, {batch});
  for (double &v : x.data)
    v = pixel(gen);
  for (size_t i = 0; i < y.data.size(); ++i)
    y.data[i] = double(i % 10);
  if (!exe->set("image", x).ok() || !exe->set("label", y).ok())
    return 1;
  std::vector<double> times;
  for (int s = 0; s < warmup + steps; ++s) {
    auto a = std::chrono::steady_clock::now();
    if (absl::Status st = exe->run("train_step"); !st.ok()) {
      std::fprintf(stderr, "tg-bench-mlp: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    if (s >= warmup)
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  auto loss = exe->get("loss");
  std::printf("tgc%s: compile %.2f s, train step median %.3f ms (p10 %.3f, p90 %.3f) over %d "
              "steps, final loss %.4f\n",
              fusion ? "" : " --no-fusion", compileSec, times[times.size() / 2],
              times[times.size() / 10], times[times.size() * 9 / 10], steps,
              loss.ok() ? loss->data[0] : -1.0);
  return 0;
}
