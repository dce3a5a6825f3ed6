//===- fashion-mnist-eval.cpp - the project's current main job ------------===//
//
// Builds the Fashion-MNIST MLP with the C++ frontend, prints it as tg MLIR,
// and evaluates one real test batch with the reference interpreter (params
// freshly initialized from their tg.init attributes), printing loss and
// accuracy. Compiled training replaces this in later milestones.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tg/Idx.h"
#include "tg/Interpreter.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

static int fail(const std::string &message) {
  std::fprintf(stderr, "fashion-mnist-eval: error: %s\n", message.c_str());
  return 1;
}

int main(int argc, char **argv) {
  std::string dataDir = "/usr/share/datasets/fashion-mnist";
  int64_t batch = 256, offset = 0;
  uint64_t seed = 0;
  bool printMlir = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fashion-mnist-eval: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto integer = [&](int64_t min) -> int64_t {
      std::string v = value();
      char *end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end || n < min) {
        std::fprintf(stderr, "fashion-mnist-eval: %s needs an integer >= %lld, got '%s'\n",
                     a.c_str(), (long long)min, v.c_str());
        std::exit(2);
      }
      return n;
    };
    if (a == "-h" || a == "--help") {
      std::printf("usage: fashion-mnist-eval [--data-dir DIR] [--batch N] [--offset N] [--seed S] "
                  "[--no-print]\n"
                  "Builds the Fashion-MNIST MLP (784-256-128-10), prints its tg MLIR and\n"
                  "evaluates one test batch with the reference interpreter.\n"
                  "  --data-dir DIR  folder with t10k-{images-idx3,labels-idx1}-ubyte[.gz]\n"
                  "                  (default %s)\n"
                  "  --batch N       examples in the batch (default 256)\n"
                  "  --offset N      index of the first test example (default 0)\n"
                  "  --seed S        seed of the parameter initializers (default 0)\n"
                  "  --no-print      do not print the MLIR\n",
                  dataDir.c_str());
      return 0;
    } else if (a == "--data-dir") {
      dataDir = value();
    } else if (a == "--batch") {
      batch = integer(1);
    } else if (a == "--offset") {
      offset = integer(0);
    } else if (a == "--seed") {
      seed = uint64_t(integer(0));
    } else if (a == "--no-print") {
      printMlir = false;
    } else {
      std::fprintf(stderr, "fashion-mnist-eval: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }

  tg::Graph g("fashion_mlp");
  tg::examples::buildFashionMlp(g, {batch, {256, 128}});
  auto module = g.build();
  if (!module.ok())
    return fail(std::string(module.status().message()));
  if (printMlir)
    std::printf("%s\n", module->str().c_str());

  auto find = [&](const std::string &stem) {
    std::string gz = dataDir + "/" + stem + ".gz";
    std::FILE *f = std::fopen(gz.c_str(), "rb");
    if (f) {
      std::fclose(f);
      return gz;
    }
    return dataDir + "/" + stem;
  };
  auto images = tg::readIdx(find("t10k-images-idx3-ubyte"));
  if (!images.ok())
    return fail(std::string(images.status().message()));
  auto labels = tg::readIdx(find("t10k-labels-idx1-ubyte"));
  if (!labels.ok())
    return fail(std::string(labels.status().message()));
  if (images->dims.size() != 3 || images->dims[1] * images->dims[2] != 784)
    return fail("test images must be N x 28 x 28");
  if (labels->dims.size() != 1 || labels->dims[0] != images->dims[0])
    return fail("test labels must be a vector with one label per image");
  if (offset + batch > images->dims[0])
    return fail("--offset + --batch = " + std::to_string(offset + batch) + " exceeds the " +
                std::to_string(images->dims[0]) + " test examples");

  tg::NamedTensors inputs;
  tg::Tensor x = tg::Tensor::full(tg::DType::f32, {batch, 784});
  tg::Tensor y = tg::Tensor::full(tg::DType::i32, {batch});
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t p = 0; p < 784; ++p)
      x.data[b * 784 + p] = double(float(images->value((offset + b) * 784 + p) / 255.0));
    y.data[b] = labels->value(offset + b);
  }
  auto params = tg::initializeParams(*module, "", seed);
  if (!params.ok())
    return fail(std::string(params.status().message()));
  inputs = *params;
  inputs["image"] = x;
  inputs["label"] = y;

  auto start = std::chrono::steady_clock::now();
  auto out = tg::interpretNamed(*module, "", inputs);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!out.ok())
    return fail(std::string(out.status().message()));
  std::printf("Fashion-MNIST MLP 784-256-128-10, untrained (seed %llu), test examples %lld..%lld\n",
              (unsigned long long)seed, (long long)offset, (long long)(offset + batch - 1));
  std::printf(
      "interpreter: loss %.4f  accuracy %.4f  (%.0f ms, uniform-guess loss ln 10 = 2.3026)\n",
      out->at("loss").data[0], out->at("accuracy").data[0], ms);
  return 0;
}
