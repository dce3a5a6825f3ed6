//===- pytorch-import.cpp - a PyTorch model's weights in tgc --------------===//
//
// The worked example of README "Weights from and to PyTorch": reads the
// state_dict of a small PyTorch MLP (Linear 12->16, ReLU, Linear 16->5) as
// PyTorch saved it (examples/data/torch-mlp.safetensors, written by
// make-torch-mlp.py), converts it to tg's names and layouts (a Linear's weight
// [out, in] is a Dense kernel [in, out]), builds the same model with the
// frontend, compiles it and checks its logits against PyTorch's. It writes
// the converted params (for tgc train --init), the model with a training step
// (for tgc compile) and PyTorch's predicted classes as labels.
//
//   pytorch-import TORCH.safetensors INPUT.npy LOGITS.npy OUT_DIR
//
//===----------------------------------------------------------------------===//
#include "tg/Checkpoint.h"
#include "tg/Npy.h"
#include "tg/Compile.h"
#include "tg/Layers.h"
#include "tg/Optim.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "pytorch-import: %s\n", message.c_str());
  return 1;
}

std::vector<float> floatsOf(const std::vector<uint8_t> &bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

/// The model, as PyTorch's Mlp: fc1 (ReLU), fc2; with a loss when training.
void buildMlp(tg::Graph &g, int64_t batch, bool withLoss) {
  tg::Value x = g.data("x", {batch, 12});
  tg::Value h = tg::layers::Dense(16, "fc1").activation(tg::layers::Activation::relu)(x);
  tg::Value logits = tg::layers::Dense(5, "fc2")(h);
  if (!withLoss) {
    g.output("logits", logits);
    return;
  }
  tg::Value loss = tg::ops::softmaxCrossEntropy(logits, g.label("y", {batch}));
  g.output("loss", loss);
  g.minimize(loss, tg::optim::Adam(1e-3));
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5)
    return fail("usage: pytorch-import TORCH.safetensors INPUT.npy LOGITS.npy OUT_DIR");
  std::string outDir = argv[4];
  auto torch = tg::readSafetensors(argv[1]);
  if (!torch.ok())
    return fail(std::string(torch.status().message()));
  auto input = tg::readNpy(argv[2]);
  auto expected = tg::readNpy(argv[3]);
  if (!input.ok() || !expected.ok())
    return fail(std::string((!input.ok() ? input : expected).status().message()));

  // PyTorch name -> tg name; Linear weights are transposed.
  tg::Checkpoint params;
  for (const char *layer : {"fc1", "fc2"}) {
    const tg::NamedTensor *w = torch->find(std::string(layer) + ".weight");
    const tg::NamedTensor *b = torch->find(std::string(layer) + ".bias");
    if (!w || !b || w->dtype != "f32" || w->shape.size() != 2)
      return fail(std::string(argv[1]) + " has no f32 " + layer + ".weight/.bias");
    int64_t out = w->shape[0], in = w->shape[1];
    std::vector<float> src = floatsOf(w->bytes), dst(src.size());
    for (int64_t o = 0; o < out; ++o)
      for (int64_t i = 0; i < in; ++i)
        dst[size_t(i * out + o)] = src[size_t(o * in + i)];
    tg::NamedTensor kernel{std::string(layer) + ".kernel", "f32", {in, out},
                           std::vector<uint8_t>(dst.size() * 4)};
    std::memcpy(kernel.bytes.data(), dst.data(), kernel.bytes.size());
    params.tensors.push_back(kernel);
    params.tensors.push_back({std::string(layer) + ".bias", "f32", b->shape, b->bytes});
  }
  if (absl::Status s = tg::writeSafetensors(outDir + "/params.safetensors", params); !s.ok())
    return fail(std::string(s.message()));

  // The same model in tg, compiled, on PyTorch's input.
  int64_t batch = input->shape.empty() ? 0 : input->shape[0];
  tg::Graph g("mlp");
  buildMlp(g, batch, /*withLoss=*/false);
  auto exe = tg::compile(g);
  if (!exe.ok())
    return fail(std::string(exe.status().message()));
  auto toTensor = [](const std::vector<int64_t> &shape, const std::vector<uint8_t> &bytes) {
    std::vector<float> f = floatsOf(bytes);
    return tg::Tensor::of(tg::DType::f32, shape, std::vector<double>(f.begin(), f.end()));
  };
  for (const tg::NamedTensor &t : params.tensors)
    if (absl::Status s = exe->set(t.name, *toTensor(t.shape, t.bytes)); !s.ok())
      return fail(std::string(s.message()));
  if (absl::Status s = exe->set("x", *toTensor(input->shape, input->bytes)); !s.ok())
    return fail(std::string(s.message()));
  if (absl::Status s = exe->run("mlp"); !s.ok())
    return fail(std::string(s.message()));
  auto logits = exe->get("logits");
  if (!logits.ok())
    return fail(std::string(logits.status().message()));
  std::vector<float> want = floatsOf(expected->bytes);
  if (want.size() != logits->data.size())
    return fail("the logits have another size than PyTorch's");
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(logits->data[i] - double(want[i])));
  std::printf("logits of %lld examples: max |tg - torch| = %.3g\n", (long long)batch, worst);

  // For tgc: the model with its training step, and the params for --init.
  tg::Graph train("mlp");
  buildMlp(train, batch, /*withLoss=*/true);
  if (absl::Status s = train.save(outDir + "/mlp.tg.mlir"); !s.ok())
    return fail(std::string(s.message()));
  // Labels to train on: PyTorch's predicted classes.
  tg::NpyArray labels{"i32", {batch}, std::vector<uint8_t>(size_t(batch) * 4)};
  for (int64_t n = 0; n < batch; ++n) {
    int32_t best = 0;
    for (int32_t k = 1; k < 5; ++k)
      if (want[size_t(n * 5 + k)] > want[size_t(n * 5 + best)])
        best = k;
    std::memcpy(&labels.bytes[size_t(n) * 4], &best, 4);
  }
  if (absl::Status s = tg::writeNpy(outDir + "/labels.npy", labels); !s.ok())
    return fail(std::string(s.message()));
  std::printf("wrote params.safetensors, mlp.tg.mlir and labels.npy to %s\n", outDir.c_str());
  return worst < 1e-5 ? 0 : fail("tg's logits differ from PyTorch's by more than 1e-5");
}
