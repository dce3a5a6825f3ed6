//===- PipelineTest.cpp - pipeline stages equal the micro-batched step ----===//
//
// tgc compile --pipeline-stages=S --microbatches=M against the one-process
// step compiled with the same --microbatches (the same reductions in the
// same order): the MLP, the CNN and the char GPT, at S = 2 and 3, with the
// GPipe and 1F1B schedules, ranks as threads. Interpreted (one interpreter
// per stage, joined by a PipelineLink) and compiled (one stage session per
// thread, joined by a thread-group communicator): the loss of every step and
// every param and optimizer slot after 3 steps are bitwise equal.
//
//===----------------------------------------------------------------------===//
#include "comm/Communicator.h"
#include "distributed/Passes.h"
#include "driver/Compiler.h"
#include "examples/Models.h"
#include "frontend/ModuleImpl.h"
#include "support/Manifest.h"
#include "tests/unit/TestUtil.h"
#include "tg/Interpreter.h"
#include "tg/Layers.h"
#include "tg/Ops.h"
#include "tg/Runtime.h"

#include "absl/strings/str_cat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <unistd.h>

namespace tg {
namespace {

constexpr int64_t kMicrobatches = 4;
constexpr int kSteps = 3;

struct Case {
  const char *model;
  int stages;
  const char *schedule;
};

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return absl::StrCat(info.param.model, "_", info.param.stages, "_", info.param.schedule);
}

/// The model at a micro-batch of 2 rows.
absl::StatusOr<Module> buildModel(const std::string &which) {
  Graph g(which);
  if (which == "mlp") {
    examples::buildFashionMlp(g, {2, {6, 5}});
  } else if (which == "cnn") {
    examples::buildFashionCnn(g, {2, /*filters1=*/3, /*filters2=*/4, /*dense=*/6});
  } else {
    examples::CharGptConfig c{2, /*steps=*/4, /*vocab=*/7, /*dim=*/8, /*heads=*/2, /*layers=*/2};
    c.optimizer = optim::Adam(1e-2);
    examples::buildCharGpt(g, c);
  }
  return g.build();
}

/// Random data and labels (classes 0..5) for every data argument of `sig`.
void randomBatch(const Signature &sig, unsigned &seed, NamedTensors &out) {
  for (const ValueInfo &arg : sig.args)
    if (arg.role == Role::Data || arg.role == Role::Label) {
      Tensor v = testing::randomTensor(arg.shape, seed++, arg.dtype);
      if (!isFloat(arg.dtype))
        for (double &x : v.data)
          x = std::floor((x + 1) * 3);
      out[arg.name] = v;
    }
}

std::string stageEntry(const char *kind, int k) { return absl::StrCat(kind, ".stage", k); }

class Pipeline : public ::testing::TestWithParam<Case> {
protected:
  static void SetUpTestSuite() { registerTgDistributedPasses(); }
};

TEST_P(Pipeline, InterpretedStagesEqualTheMicrobatchedStep) {
  const Case c = GetParam();
  auto model = buildModel(c.model);
  ASSERT_TRUE(model.ok()) << model.status();
  auto ref = model->transform(
      absl::StrCat("tg-build-train-step{microbatches=", kMicrobatches, "},canonicalize,cse"));
  ASSERT_TRUE(ref.ok()) << ref.status();
  auto pipe = model->transform(absl::StrCat("tg-pipeline-split{stages=", c.stages,
                                            " microbatches=", kMicrobatches,
                                            " schedule=", c.schedule, "},canonicalize,cse"));
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  for (bool float64 : {false, true}) {
    SCOPED_TRACE(float64 ? "float64" : "rounded to f32");
    auto init = initializeParams(*ref, "train_step", 5);
    ASSERT_TRUE(init.ok()) << init.status();
    NamedTensors a = *init;
    // Each stage's buffers, from the reference's by name.
    std::vector<NamedTensors> stage(size_t(c.stages));
    std::vector<Signature> sigs;
    for (int k = 0; k < c.stages; ++k) {
      auto sig = pipe->signature(stageEntry("train_step", k));
      ASSERT_TRUE(sig.ok()) << sig.status();
      sigs.push_back(*sig);
      for (const ValueInfo &arg : sig->args)
        if (arg.role == Role::Param || arg.role == Role::State) {
          ASSERT_TRUE(a.count(arg.name)) << arg.name;
          stage[size_t(k)][arg.name] = a.at(arg.name);
        }
    }
    auto refSig = ref->signature("train_step");
    ASSERT_TRUE(refSig.ok());
    unsigned seed = 11;
    for (int step = 0; step < kSteps; ++step) {
      NamedTensors batch;
      randomBatch(*refSig, seed, batch);
      for (auto &[name, t] : batch)
        a[name] = t;
      InterpretOptions options;
      options.float64 = float64;
      auto ra = interpretStep(*ref, "train_step", a, options);
      ASSERT_TRUE(ra.ok()) << ra.status();
      auto links = createLocalPipeline(c.stages);
      std::vector<absl::StatusOr<NamedTensors>> out(size_t(c.stages), NamedTensors{});
      std::vector<std::thread> threads;
      for (int k = 0; k < c.stages; ++k) {
        for (const ValueInfo &arg : sigs[size_t(k)].args)
          if (batch.count(arg.name))
            stage[size_t(k)][arg.name] = batch.at(arg.name);
        threads.emplace_back([&, k] {
          InterpretOptions o;
          o.float64 = float64;
          o.pipeline = links[size_t(k)].get();
          out[size_t(k)] =
              interpretStep(*pipe, stageEntry("train_step", k), stage[size_t(k)], o);
        });
      }
      for (std::thread &t : threads)
        t.join();
      for (int k = 0; k < c.stages; ++k)
        ASSERT_TRUE(out[size_t(k)].ok()) << "stage " << k << ": " << out[size_t(k)].status();
      const NamedTensors &last = *out.back();
      ASSERT_TRUE(last.count("loss"));
      EXPECT_EQ(last.at("loss").data[0], ra->at("loss").data[0]) << "step " << step;
    }
    for (int k = 0; k < c.stages; ++k)
      for (const auto &[name, t] : stage[size_t(k)]) {
        const ValueInfo *info = nullptr;
        for (const ValueInfo &arg : sigs[size_t(k)].args)
          if (arg.name == name)
            info = &arg;
        if (!info || (info->role != Role::Param && info->role != Role::State))
          continue;
        ASSERT_EQ(t.data.size(), a.at(name).data.size()) << name;
        EXPECT_EQ(t.data, a.at(name).data) << "stage " << k << ": " << name;
      }
  }
}

/// A module compiled to a file in the test's temporary directory.
absl::StatusOr<std::string> compileTo(const Module &m, CompilerOptions options,
                                      const std::string &name) {
  auto copy = Module::parse(m.str());
  if (!copy.ok())
    return copy.status();
  std::string path = absl::StrCat(::testing::TempDir(), "/", name, "-", ::getpid(), ".tgx");
  options.emit = Phase::Obj;
  auto done = compileModule(*copy->impl().module, options, path);
  if (!done.ok())
    return done.status();
  return path;
}

/// Bytes of buffer `name` of a session.
std::vector<uint8_t> bytesOf(const rt::Session &s, const std::string &name) {
  std::vector<uint8_t> bytes(s.size(name));
  if (!s.read(name, bytes.data(), bytes.size()).ok())
    bytes.clear();
  return bytes;
}

TEST_P(Pipeline, CompiledStagesEqualTheMicrobatchedStep) {
  const Case c = GetParam();
  auto model = buildModel(c.model);
  ASSERT_TRUE(model.ok()) << model.status();
  CompilerOptions options;
  options.microbatches = kMicrobatches;
  auto refPath = compileTo(*model, options, absl::StrCat(caseName({GetParam(), 0}), "-ref"));
  ASSERT_TRUE(refPath.ok()) << refPath.status();
  options.pipelineStages = c.stages;
  options.schedule = c.schedule;
  auto pipePath = compileTo(*model, options, caseName({GetParam(), 0}));
  ASSERT_TRUE(pipePath.ok()) << pipePath.status();
  auto refArtifact = rt::Artifact::open(*refPath);
  auto pipeArtifact = rt::Artifact::open(*pipePath);
  std::remove(refPath->c_str());
  std::remove(pipePath->c_str());
  ASSERT_TRUE(refArtifact.ok()) << refArtifact.status();
  ASSERT_TRUE(pipeArtifact.ok()) << pipeArtifact.status();
  auto ref = rt::Session::create(*refArtifact, 5);
  ASSERT_TRUE(ref.ok()) << ref.status();
  std::vector<rt::Session> stages;
  for (int k = 0; k < c.stages; ++k) {
    auto s = rt::Session::createStage(*pipeArtifact, 5, k);
    ASSERT_TRUE(s.ok()) << s.status();
    stages.push_back(*s);
  }
  // A stage session holds only its stage's buffers; each starts from the
  // reference's values.
  auto manifest = parseManifest(pipeArtifact->manifest(), *pipePath);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  std::vector<const EntrySpec *> entries(size_t(c.stages));
  for (const EntrySpec &e : manifest->entries)
    if (e.kind == "train_step")
      entries[size_t(e.stage)] = &e;
  for (int k = 0; k < c.stages; ++k) {
    ASSERT_NE(entries[size_t(k)], nullptr);
    for (const BufferSpec &arg : entries[size_t(k)]->args)
      if (arg.role == Role::Param || arg.role == Role::State) {
        std::vector<uint8_t> v = bytesOf(*ref, arg.name);
        ASSERT_FALSE(v.empty()) << arg.name;
        ASSERT_TRUE(stages[size_t(k)].write(arg.name, v.data(), v.size()).ok()) << arg.name;
      }
    for (const EntrySpec &e : manifest->entries)
      if (e.stage >= 0 && e.stage != k)
        for (const BufferSpec &arg : e.args)
          if (arg.role == Role::Param && !entries[size_t(k)]->findArg(arg.name)) {
            EXPECT_EQ(stages[size_t(k)].size(arg.name), 0u)
                << "stage " << k << " allocated stage " << e.stage << "'s " << arg.name;
          }
  }
  auto refManifest = parseManifest(refArtifact->manifest(), *refPath);
  ASSERT_TRUE(refManifest.ok());
  const EntrySpec *refStep = refManifest->findEntry("train_step");
  ASSERT_NE(refStep, nullptr);
  std::mt19937 rng(7);
  for (int step = 0; step < kSteps; ++step) {
    for (const BufferSpec &arg : refStep->args) {
      if (arg.role != Role::Data && arg.role != Role::Label)
        continue;
      std::vector<uint8_t> bytes(arg.byteSize());
      if (arg.dtype == DType::f32) {
        std::uniform_real_distribution<float> u(-1, 1);
        for (size_t i = 0; i < bytes.size() / 4; ++i) {
          float f = u(rng);
          std::memcpy(bytes.data() + 4 * i, &f, 4);
        }
      } else {
        ASSERT_EQ(arg.dtype, DType::i32) << arg.name;
        for (size_t i = 0; i < bytes.size() / 4; ++i) {
          int32_t v = int32_t(rng() % 6);
          std::memcpy(bytes.data() + 4 * i, &v, 4);
        }
      }
      ASSERT_TRUE(ref->write(arg.name, bytes.data(), bytes.size()).ok());
      for (int k = 0; k < c.stages; ++k)
        if (entries[size_t(k)]->findArg(arg.name)) {
          ASSERT_TRUE(stages[size_t(k)].write(arg.name, bytes.data(), bytes.size()).ok());
        }
    }
    ASSERT_TRUE(ref->run("train_step").ok());
    auto comms = dist::createThreadGroup(c.stages);
    std::vector<absl::Status> status(size_t(c.stages));
    std::vector<std::thread> threads;
    for (int k = 0; k < c.stages; ++k)
      threads.emplace_back([&, k] {
        rt::Session &s = stages[size_t(k)];
        status[size_t(k)] = s.setCommunicator(comms[size_t(k)].get());
        if (status[size_t(k)].ok())
          status[size_t(k)] = s.run(stageEntry("train_step", k));
        if (!status[size_t(k)].ok())
          comms[size_t(k)]->abort(std::string(status[size_t(k)].message()));
      });
    for (std::thread &t : threads)
      t.join();
    for (int k = 0; k < c.stages; ++k)
      ASSERT_TRUE(status[size_t(k)].ok()) << "stage " << k << ": " << status[size_t(k)];
    ASSERT_EQ(bytesOf(*ref, "loss").size(), 4u);
    EXPECT_EQ(bytesOf(stages.back(), "loss"), bytesOf(*ref, "loss")) << "step " << step;
  }
  for (int k = 0; k < c.stages; ++k)
    for (const BufferSpec &arg : entries[size_t(k)]->args)
      if (arg.role == Role::Param || arg.role == Role::State) {
        std::vector<uint8_t> mine = bytesOf(stages[size_t(k)], arg.name);
        ASSERT_FALSE(mine.empty()) << arg.name;
        EXPECT_EQ(mine, bytesOf(*ref, arg.name)) << "stage " << k << ": " << arg.name;
      }
}

// Graph::stage marks choose the cut: fc1 and fc2 in stage 0, fc3 in stage 1
// (the cost model alone puts fc2 with fc3: fc1 is most of the work); a mark
// past --pipeline-stages is an error naming both.
TEST(PipelineMarks, GraphStageChoosesTheCut) {
  registerTgDistributedPasses();
  auto build = [](int lastStage) {
    Graph g("marked");
    Value x = g.data("image", {8, 64});
    Value y = g.label("label", {8});
    Value h;
    {
      auto s = g.stage(0);
      h = layers::Dense(32, "fc1").activation(layers::Activation::relu)(x);
      h = layers::Dense(8, "fc2").activation(layers::Activation::relu)(h);
    }
    Value logits;
    {
      auto s = g.stage(lastStage);
      logits = layers::Dense(4, "fc3")(h);
    }
    Value loss = ops::softmaxCrossEntropy(logits, y);
    g.output("loss", loss);
    g.minimize(loss, optim::SGD(0.1));
    return g.build();
  };
  auto model = build(1);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_THAT(model->str(), ::testing::HasSubstr("tg.stage = 1"));
  CompilerOptions options;
  options.pipelineStages = 2;
  options.microbatches = 2;
  auto path = compileTo(*model, options, "marked");
  ASSERT_TRUE(path.ok()) << path.status();
  auto artifact = rt::Artifact::open(*path);
  std::remove(path->c_str());
  ASSERT_TRUE(artifact.ok()) << artifact.status();
  auto manifest = parseManifest(artifact->manifest(), *path);
  ASSERT_TRUE(manifest.ok());
  std::map<int, std::vector<std::string>> params;
  for (const EntrySpec &e : manifest->entries)
    if (e.kind == "train_step")
      for (const BufferSpec &a : e.args)
        if (a.role == Role::Param)
          params[e.stage].push_back(a.name);
  EXPECT_THAT(params[0], ::testing::UnorderedElementsAre("fc1.kernel", "fc1.bias", "fc2.kernel",
                                                         "fc2.bias"));
  EXPECT_THAT(params[1], ::testing::UnorderedElementsAre("fc3.kernel", "fc3.bias"));
  auto three = build(2);
  ASSERT_TRUE(three.ok()) << three.status();
  auto refused = compileTo(*three, options, "marked3");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("stage mark 2, but the plan has 2 stages (--pipeline-stages)"));
}

INSTANTIATE_TEST_SUITE_P(Models, Pipeline,
                         ::testing::Values(Case{"mlp", 2, "1f1b"}, Case{"mlp", 3, "gpipe"},
                                           Case{"cnn", 2, "gpipe"}, Case{"cnn", 3, "1f1b"},
                                           Case{"gpt", 2, "1f1b"}, Case{"gpt", 3, "gpipe"}),
                         caseName);

} // namespace
} // namespace tg
