// A program on tgc's installed training API: builds a byte-level character
// GPT with the frontend, compiles it to an artifact, trains it on a text with
// tg::train (checkpoints every 20 steps), resumes the run from its checkpoint
// and checks that it ends with the same bits as an unbroken run, then loads
// the last checkpoint into the model compiled at batch 1 and samples text.
//   trainer WORKDIR
#include "tg/Checkpoint.h"
#include "tg/Compile.h"
#include "tg/Layers.h"
#include "tg/Optim.h"
#include "tg/Train.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int64_t kVocab = 256, kSteps = 16, kDim = 32, kHeads = 2;

/// Byte-level GPT: token + position embeddings, one causal block, the
/// token table tied to the output.
void buildGpt(tg::Graph &g, int64_t batch) {
  tg::Value chars = g.data("chars", {batch, kSteps}, tg::DType::i32);
  tg::Value targets = g.label("targets", {batch, kSteps}, tg::DType::i32);
  tg::layers::Embedding wte(kVocab, kDim, "wte");
  wte.init(tg::Init::normal(0.0, 0.02));
  tg::Value wpe = g.param("wpe", {kSteps, kDim}, tg::Init::normal(0.0, 0.02));
  tg::Value h = tg::layers::TransformerBlock(kDim, kHeads, "h0")(wte(chars) + wpe);
  tg::Value logits = tg::ops::reshape(wte.attend(tg::layers::LayerNorm(1, "ln_f")(h)),
                                      {batch * kSteps, kVocab});
  tg::Value loss =
      tg::ops::softmaxCrossEntropy(logits, tg::ops::reshape(targets, {batch * kSteps}));
  g.output("loss", loss);
  g.output("logits", logits);
  g.minimize(loss, tg::optim::Adam(0.01));
}

int fail(const std::string &what, const absl::Status &s) {
  std::fprintf(stderr, "trainer: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: trainer WORKDIR\n");
    return 2;
  }
  std::string dir = argv[1];
  std::string text;
  for (int i = 0; i < 60; ++i)
    text += "the quick brown fox jumps over the lazy dog. ";
  std::ofstream(dir + "/text.txt") << text;

  tg::CompileOptions compileOptions;
  compileOptions.outputPath = dir + "/gpt.tgx";
  tg::Graph trainGraph("gpt");
  buildGpt(trainGraph, 8);
  if (auto exe = tg::compile(trainGraph, compileOptions); !exe.ok())
    return fail("compile", exe.status());

  // 40 steps, then resumed to 80; and 80 unbroken.
  tg::TrainOptions o;
  o.artifact = dir + "/gpt.tgx";
  o.data = {dir + "/text.txt"};
  o.seed = 1;
  o.checkpointEvery = 20;
  o.progress = tg::TrainOptions::Progress::None;
  o.checkpointDir = dir + "/resumed";
  o.steps = 40;
  auto first = tg::train(o);
  if (!first.ok())
    return fail("train 40 steps", first.status());
  o.steps = 80;
  o.resume = true;
  auto resumed = tg::train(o);
  if (!resumed.ok())
    return fail("resume to 80 steps", resumed.status());
  o.checkpointDir = dir + "/unbroken";
  o.resume = false;
  auto unbroken = tg::train(o);
  if (!unbroken.ok())
    return fail("train 80 steps", unbroken.status());
  if (resumed->steps != 80 || unbroken->steps != 80) {
    std::fprintf(stderr, "trainer: runs ended at steps %lld and %lld, not 80\n",
                 (long long)resumed->steps, (long long)unbroken->steps);
    return 1;
  }
  auto a = tg::readSafetensors(resumed->lastCheckpoint);
  auto b = tg::readSafetensors(unbroken->lastCheckpoint);
  if (!a.ok() || !b.ok())
    return fail("read checkpoints", a.ok() ? b.status() : a.status());
  if (a->tensors.size() != b->tensors.size() || a->tensors.size() < 10)
    return fail("checkpoints", absl::InternalError("different or too few tensors"));
  for (const tg::NamedTensor &t : a->tensors) {
    const tg::NamedTensor *u = b->find(t.name);
    if (!u || u->bytes != t.bytes) {
      std::fprintf(stderr, "trainer: '%s' differs between the resumed and the unbroken run\n",
                   t.name.c_str());
      return 1;
    }
  }
  double loss = resumed->lastTrain.count("loss") ? resumed->lastTrain.at("loss") : NAN;
  std::printf("trainer: resumed run equals the unbroken one (%zu tensors); loss %.3f "
              "(ln 256 = %.3f)\n",
              a->tensors.size(), loss, std::log(256.0));
  if (!(loss < 0.5 * std::log(256.0))) {
    std::fprintf(stderr, "trainer: the loss did not fall below half of ln 256\n");
    return 1;
  }

  // Sampling: the model at batch 1 with the trained params, greedy.
  tg::Graph sampleGraph("gpt");
  buildGpt(sampleGraph, 1);
  auto sampler = tg::compile(sampleGraph);
  if (!sampler.ok())
    return fail("compile the sampler", sampler.status());
  auto loaded = sampler->load(*a);
  if (!loaded.ok())
    return fail("load the checkpoint", loaded.status());
  // The same model at batch 1: every tensor of the checkpoint has its buffer.
  if (*loaded != int(a->tensors.size())) {
    std::fprintf(stderr, "trainer: loaded %d of the checkpoint's %zu tensors\n", *loaded,
                 a->tensors.size());
    return 1;
  }
  std::string out = "the quick brown ";
  for (int i = 0; i < 40; ++i) {
    std::vector<double> window;
    std::string last = out.substr(out.size() - kSteps);
    for (unsigned char c : last)
      window.push_back(c);
    auto chars = tg::Tensor::of(tg::DType::i32, {1, kSteps}, window);
    if (!chars.ok())
      return fail("window", chars.status());
    if (absl::Status s = sampler->set("chars", *chars); !s.ok())
      return fail("set chars", s);
    if (absl::Status s = sampler->run("predict"); !s.ok())
      return fail("predict", s);
    auto logits = sampler->get("logits");
    if (!logits.ok())
      return fail("logits", logits.status());
    auto row = logits->data.begin() + (kSteps - 1) * kVocab;
    out += char(std::max_element(row, row + kVocab) - row);
  }
  std::printf("trainer: %d tensors loaded; sample: \"%s\"\n", *loaded, out.c_str());
  for (char c : out)
    if (text.find(c) == std::string::npos) {
      std::fprintf(stderr, "trainer: the sample has a byte the text lacks: %d\n", int(c));
      return 1;
    }
  return 0;
}
