//===- models_bench.cpp - compiled train step of the example models -------===//
//
// tg-bench-models MODEL [--steps N] [--warmup N] [--window T] [--hidden H]
// [--unrolled], MODEL in mlp|cnn|lstm|gpt: the
// project's example models (examples/Models.h) built with the frontend,
// compiled in process with tg::compile (the tgc pipeline) and trained on one
// fixed random batch. Prints the median step time; bench/models_torch.py and
// bench/models_jax.py are the peers, bench/run_models.sh runs them together.
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

namespace {

int usage(FILE *f) {
  std::fprintf(f, "usage: tg-bench-models mlp|cnn|lstm|gpt [--steps N] [--warmup N]\n"
                 "                        [--window T] [--hidden H] [--unrolled] [--layouts=plain] [--bf16]\n"
                 "                        [--batch B]\n"
                 "  --batch B               mlp, cnn, gpt: batch size (default 128, 64, 16)\n"
                 "  gpt: tg-example char-gpt's model (block 64, d 128, 4 heads, 2 layers)\n"
                 "  --window T, --hidden H  the LSTM's window and units (default 25, 128)\n"
                 "  --unrolled              the LSTM unrolled instead of a tg.scan\n"
                 "  --layouts=plain         every tensor plain NCHW (tgc compile --layouts=plain;\n"
                 "                          with TGRT_CONV_LAYOUT=plain: the convolutions too)\n"
                 "  --bf16                  --precision=bf16-mixed\n"
                 "  --unfused-attention     gpt: attention as plain ops, not tg.attention\n"
                 "  --gpt2-small            gpt: GPT-2 small's shape (12 blocks, d 768, 12 heads,\n"
                 "                          block 256, batch 4), byte-level (vocab 256)\n"
                 "  --opt-level N           LLVM optimization level 0-3 (default 3)\n"
                 "  --no-share-loop-nests   every loop nest inlined (tgc compile\n"
                 "                          --no-share-loop-nests)\n");
  return f == stdout ? 0 : 1;
}

/// A tensor of `shape` with uniform reals in [0, 1) (f32) or integers in
/// [0, classes) (i32).
tg::Tensor random(tg::DType dtype, std::vector<int64_t> shape, int classes, std::mt19937 &gen) {
  tg::Tensor t = tg::Tensor::full(dtype, std::move(shape));
  std::uniform_real_distribution<double> real(0, 1);
  std::uniform_int_distribution<int> label(0, classes - 1);
  for (double &v : t.data)
    v = dtype == tg::DType::f32 ? real(gen) : double(label(gen));
  return t;
}

} // namespace

int main(int argc, char **argv) {
  std::string model;
  int steps = 100, warmup = 10;
  int64_t window = 25, hidden = 128, batch = 0;
  bool unrolled = false, gpt2Small = false, unfusedAttention = false;
  tg::CompileOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc)
      steps = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc)
      warmup = std::atoi(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batch = std::atoll(argv[++i]);
    else if (a == "--window" && i + 1 < argc)
      window = std::atoll(argv[++i]);
    else if (a == "--hidden" && i + 1 < argc)
      hidden = std::atoll(argv[++i]);
    else if (a == "--unrolled")
      unrolled = true;
    else if (a == "--layouts=plain")
      options.blockedLayouts = false;
    else if (a == "--bf16")
      options.precision = "bf16-mixed";
    else if (a == "--gpt2-small")
      gpt2Small = true;
    else if (a == "--unfused-attention")
      unfusedAttention = true;
    else if (a == "--no-share-loop-nests")
      options.shareLoopNests = false;
    else if (a == "--opt-level" && i + 1 < argc)
      options.optLevel = std::atoi(argv[++i]);
    else if (a == "--help" || a == "-h")
      return usage(stdout);
    else if (model.empty() && a[0] != '-')
      model = a;
    else
      return usage(stderr);
  }
  if (model != "mlp" && model != "cnn" && model != "lstm" && model != "gpt")
    return usage(stderr);
  if (steps < 1 || warmup < 0 || window < 1 || hidden < 1 || batch < 0) {
    std::fprintf(stderr, "tg-bench-models: --steps, --window and --hidden must be >= 1, "
                         "--warmup >= 0\n");
    return 1;
  }

  // The configs of bench/README.md; the peers use the same.
  tg::Graph g(model);
  std::mt19937 gen(0);
  std::vector<std::pair<std::string, tg::Tensor>> inputs;
  if (model == "mlp") {
    tg::examples::MlpConfig c; // batch 128, hidden {256, 128}, Adam 1e-3
    if (batch > 0)
      c.batch = batch;
    tg::examples::buildFashionMlp(g, c);
    inputs.emplace_back("image", random(tg::DType::f32, {c.batch, 784}, 0, gen));
    inputs.emplace_back("label", random(tg::DType::i32, {c.batch}, 10, gen));
  } else if (model == "cnn") {
    tg::examples::CnnConfig c; // batch 64, conv 32/64, dense 128, Adam 1e-3
    if (batch > 0)
      c.batch = batch;
    tg::examples::buildFashionCnn(g, c);
    inputs.emplace_back("image", random(tg::DType::f32, {c.batch, 1, 28, 28}, 0, gen));
    inputs.emplace_back("label", random(tg::DType::i32, {c.batch}, 10, gen));
  } else if (model == "gpt") {
    tg::examples::CharGptConfig c; // batch 16, block 64, d 128, 4 heads, 2 layers, AdamW
    if (gpt2Small) {             // GPT-2 small's shape, byte-level
      c.batch = 4;
      c.steps = 256;
      c.vocab = 256;
      c.dim = 768;
      c.heads = 12;
      c.layers = 12;
    }
    if (batch > 0)
      c.batch = batch;
    c.fusedAttention = !unfusedAttention;
    tg::examples::buildCharGpt(g, c);
    inputs.emplace_back("chars", random(tg::DType::i32, {c.batch, c.steps}, int(c.vocab), gen));
    inputs.emplace_back("targets", random(tg::DType::i32, {c.batch, c.steps}, int(c.vocab), gen));
  } else {
    tg::examples::CharLstmConfig c; // optimizer stays RMSProp(0.1).l2(1e-3)
    c.batch = 32;
    c.steps = window;
    c.vocab = 77;
    c.hidden = hidden;
    c.unrolled = unrolled;
    tg::examples::buildCharLstm(g, c);
    inputs.emplace_back("chars", random(tg::DType::i32, {c.batch, c.steps}, int(c.vocab), gen));
    inputs.emplace_back("targets", random(tg::DType::i32, {c.batch, c.steps}, int(c.vocab), gen));
  }

  auto t0 = std::chrono::steady_clock::now();
  auto exe = tg::compile(g, options);
  if (!exe.ok()) {
    std::fprintf(stderr, "tg-bench-models: %s\n", std::string(exe.status().message()).c_str());
    return 1;
  }
  double compileSec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto &[name, value] : inputs)
    if (absl::Status st = exe->set(name, value); !st.ok()) {
      std::fprintf(stderr, "tg-bench-models: %s\n", std::string(st.message()).c_str());
      return 1;
    }

  // The LSTM's states carry from step to step (truncated BPTT), as in the peers.
  std::vector<double> times;
  for (int s = 0; s < warmup + steps; ++s) {
    auto a = std::chrono::steady_clock::now();
    if (absl::Status st = exe->run("train_step"); !st.ok()) {
      std::fprintf(stderr, "tg-bench-models: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    if (s >= warmup)
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  auto loss = exe->get("loss");
  if (model != "lstm" && batch > 0)
    model += " batch " + std::to_string(batch);
  if (model == "lstm")
    model += " " + std::to_string(window) + "x" + std::to_string(hidden) +
             (unrolled ? " unrolled" : "");
  std::printf("tgc %s: compile %.2f s, train step median %.3f ms (p10 %.3f, p90 %.3f) over %d "
              "steps, final loss %.4f\n",
              model.c_str(), compileSec, times[times.size() / 2], times[times.size() / 10],
              times[times.size() * 9 / 10], steps, loss.ok() ? loss->data[0] : -1.0);
  return 0;
}
