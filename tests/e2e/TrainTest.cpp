//===- TrainTest.cpp - training compiled artifacts on real data -----------===//
//
// Trains small artifacts on Fashion-MNIST and on a licence text shipped by
// Debian, kills `tgc train` with SIGKILL and checks that resuming gives the
// same bits as an unbroken run, and feeds it bad data and bad checkpoints.
//
//===----------------------------------------------------------------------===//
#include "examples/Models.h"
#include "tg/Checkpoint.h"
#include "tg/Data.h"
#include "tg/Idx.h"
#include "tg/Npy.h"
#include "tg/Train.h"
#include "tg/Compile.h"
#include "tg/Layers.h"
#include "tg/Runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using ::testing::HasSubstr;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";
const std::string kText = "/usr/share/common-licenses/GPL-3";

// Per process: ctest runs the tests of this file in parallel processes.
std::string temp(const std::string &name) {
  return ::testing::TempDir() + "/tgtrain-" + std::to_string(getpid()) + "-" + name;
}

std::string compileTo(tg::Graph &g, const std::string &path) {
  tg::CompileOptions o;
  o.outputPath = path;
  auto exe = tg::compile(g, o);
  EXPECT_TRUE(exe.ok()) << exe.status();
  return path;
}

/// A small MLP (784-64-10, batch 64, Adam) compiled once for the suite.
const std::string &mlpArtifact() {
  static std::string path = [] {
    tg::Graph g("mlp");
    tg::examples::buildFashionMlp(g, {64, {64}, tg::optim::Adam(2e-3)});
    return compileTo(g, temp("mlp.tgx"));
  }();
  return path;
}

tg::TrainOptions quiet(const std::string &artifact) {
  tg::TrainOptions o;
  o.artifact = artifact;
  o.progress = tg::TrainOptions::Progress::None;
  return o;
}

std::string freshDir(const std::string &name) {
  std::string d = temp(name);
  (void)!std::system(("rm -rf '" + d + "'").c_str());
  return d;
}

std::string errorOf(const tg::TrainOptions &o) {
  auto r = tg::train(o);
  return r.ok() ? "(no error)" : std::string(r.status().message());
}

TEST(Train, MlpReachesAccuracyOnTheTestSplit) {
  tg::TrainOptions o = quiet(mlpArtifact());
  o.data = {kFashion}; // train-* for training, t10k-* (held out) for evaluation
  auto r = tg::train(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 937);
  EXPECT_EQ(r->epochs, 1);
  EXPECT_EQ(r->lastEval.at("examples"), 10000);
  // One epoch of a 784-64-10 MLP: the stated bar is 0.80 test accuracy.
  EXPECT_GE(r->lastEval.at("accuracy"), 0.80);
  EXPECT_LT(r->lastEval.at("loss"), 0.6);
}

TEST(Train, CharLstmLearnsALicenceText) {
  tg::Graph g("lstm");
  tg::examples::CharLstmConfig c;
  c.batch = 8;
  c.steps = 8;
  c.hidden = 32;
  c.vocab = 77;
  c.optimizer = tg::optim::RMSProp(0.01);
  tg::examples::buildCharLstm(g, c);
  std::string artifact = compileTo(g, temp("lstm.tgx"));
  tg::TrainOptions o = quiet(artifact);
  o.data = {kText};
  o.steps = 300;
  auto r = tg::train(o);
  ASSERT_TRUE(r.ok()) << r.status();
  // Uniform guessing over 77 symbols costs ln 77 = 4.34 nats per character.
  EXPECT_LT(r->lastTrain.at("loss"), 0.75 * std::log(77.0));
}

// A model without recurrent state reads text as shuffled windows and
// evaluates held-out text with the training text's vocabulary.
TEST(Train, CharGptTrainsOnWindowsAndEvaluatesHeldOutText) {
  tg::Graph g("gpt");
  tg::examples::CharGptConfig c;
  c.batch = 8, c.steps = 16, c.dim = 32, c.heads = 2, c.layers = 1, c.vocab = 77;
  c.optimizer = tg::optim::AdamW(3e-3, 0.1).group("*bias", 0).group("*ln_*", 0);
  tg::examples::buildCharGpt(g, c);
  std::string artifact = compileTo(g, temp("gpt.tgx"));
  // Held out: a part of the same text (its characters are all in the vocabulary).
  std::ifstream in(kText);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(temp("heldout.txt")) << text.substr(0, 4000);
  tg::TrainOptions o = quiet(artifact);
  o.data = {kText};
  o.evalData = {temp("heldout.txt")};
  o.steps = 300; // past the first epoch (274 batches of 8 windows): one evaluation
  auto r = tg::train(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(r->lastTrain.at("loss"), 0.75 * std::log(77.0));
  ASSERT_TRUE(r->lastEval.count("loss"));
  // 3999 characters: 249 windows of 16 fit, less one kept for the training
  // epochs' shifts: 248, evaluated in batches of 8.
  EXPECT_EQ(r->lastEval.at("examples"), 248);
  EXPECT_LT(r->lastEval.at("loss"), 0.8 * std::log(77.0));
  // A held-out character the training text lacks is an error naming it.
  std::ofstream(temp("heldout-bad.txt")) << text.substr(0, 100) << "\x01" << text.substr(100, 400);
  o.evalData = {temp("heldout-bad.txt")};
  EXPECT_THAT(errorOf(o), HasSubstr("has the character byte 0x1 at byte offset 100, which is not "
                                    "in the vocabulary of"));
}

// A model of 256 classes reads bytes: held-out text with characters (and
// bytes) the training text lacks needs no shared vocabulary.
TEST(Train, ByteLevelModelNeedsNoVocabulary) {
  tg::Graph g("bytes");
  tg::examples::CharGptConfig c;
  c.batch = 8, c.steps = 16, c.dim = 16, c.heads = 2, c.layers = 1, c.vocab = 256;
  tg::examples::buildCharGpt(g, c);
  std::string artifact = compileTo(g, temp("bytes.tgx"));
  std::ifstream in(kText);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(temp("bytes-train.txt")) << text.substr(0, 3000);
  std::ofstream(temp("bytes-eval.txt")) << "Zebra quartz 0123 \x01\xff " << text.substr(3000, 500);
  tg::TrainOptions o = quiet(artifact);
  o.data = {temp("bytes-train.txt")};
  o.evalData = {temp("bytes-eval.txt")};
  o.epochs = 2;
  auto r = tg::train(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->steps, 2 * 23); // 2999 / 16 = 187 windows, 23 batches of 8
  ASSERT_TRUE(r->lastEval.count("loss"));
  EXPECT_LT(r->lastEval.at("loss"), std::log(256.0));
}

// BatchNorm's running statistics are state that only train_step moves
// (tg.train_only): eval_step is not stateful, so the evaluation counts the
// last partial batch, and --reset-state=epoch (for recurrent state) leaves
// them alone: training with it and without it ends with the same bits.
TEST(Train, BatchNormStatisticsAreNeitherEvalStateNorRecurrentState) {
  tg::Graph g("bn_mlp");
  tg::Value x = g.data("image", {64, 784});
  tg::Value y = g.label("label", {64});
  tg::Value h = tg::layers::BatchNorm("bn")(tg::layers::Dense(16, "fc1").useBias(false)(x));
  tg::Value logits = tg::layers::Dense(10, "fc2")(tg::ops::relu(h));
  tg::Value loss = tg::ops::softmaxCrossEntropy(logits, y);
  g.output("loss", loss);
  g.minimize(loss, tg::optim::SGD(0.05));
  std::string artifact = compileTo(g, temp("bn.tgx"));
  std::vector<std::string> vars;
  for (auto mode : {tg::TrainOptions::ResetState::Never, tg::TrainOptions::ResetState::Epoch}) {
    tg::TrainOptions o = quiet(artifact);
    o.data = {"image=" + kFashion + "/t10k-images-idx3-ubyte.gz",
              "label=" + kFashion + "/t10k-labels-idx1-ubyte.gz"};
    o.evalData = o.data;
    o.epochs = 2;
    o.resetState = mode;
    o.checkpointDir = freshDir(mode == tg::TrainOptions::ResetState::Never ? "bn-never" : "bn-epoch");
    auto r = tg::train(o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->lastEval.at("examples"), 10000) << "the partial batch of 16 is evaluated";
    auto ck = tg::readSafetensors(r->lastCheckpoint);
    ASSERT_TRUE(ck.ok()) << ck.status();
    const tg::NamedTensor *var = ck->find("bn.running_var");
    ASSERT_NE(var, nullptr);
    vars.emplace_back(var->bytes.begin(), var->bytes.end());
  }
  EXPECT_EQ(vars[0], vars[1]) << "--reset-state=epoch changed BatchNorm's running variance";
}

TEST(Train, EvaluationCoversEveryTestExampleExactly) {
  // Batch 64 leaves 10000 % 64 = 16 test images in a partial batch; the
  // evaluation counts them. Recompute loss and accuracy of the params it
  // evaluated (the epoch-end checkpoint) from predict's logits on the host.
  tg::TrainOptions e = quiet(mlpArtifact());
  e.data = {"image=" + kFashion + "/t10k-images-idx3-ubyte.gz",
            "label=" + kFashion + "/t10k-labels-idx1-ubyte.gz"};
  e.evalData = e.data;
  e.epochs = 1;
  e.checkpointDir = freshDir("eval2");
  auto er = tg::train(e);
  ASSERT_TRUE(er.ok()) << er.status();
  ASSERT_EQ(er->lastEval.at("examples"), 10000);

  auto ck = tg::readSafetensors(er->lastCheckpoint);
  ASSERT_TRUE(ck.ok()) << ck.status();
  auto artifact = tg::rt::Artifact::open(mlpArtifact());
  ASSERT_TRUE(artifact.ok());
  auto session = tg::rt::Session::create(*artifact, 0);
  ASSERT_TRUE(session.ok());
  for (const tg::NamedTensor &t : ck->tensors)
    ASSERT_TRUE(session->write(t.name, t.bytes.data(), t.bytes.size()).ok()) << t.name;
  auto images = tg::data::readArray(kFashion + "/t10k-images-idx3-ubyte.gz");
  auto labels = tg::data::readArray(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(images.ok() && labels.ok());
  double loss = 0, correct = 0;
  std::vector<float> x(64 * 784), logits(64 * 10);
  for (int64_t start = 0; start < 10000; start += 64) {
    int64_t n = std::min<int64_t>(64, 10000 - start);
    std::fill(x.begin(), x.end(), 0.0f);
    for (int64_t i = 0; i < n * 784; ++i)
      x[size_t(i)] = float(images->value(start * 784 + i) * (1.0 / 255.0));
    ASSERT_TRUE(session->write("image", x.data(), x.size() * 4).ok());
    ASSERT_TRUE(session->run("predict").ok());
    ASSERT_TRUE(session->read("logits", logits.data(), logits.size() * 4).ok());
    for (int64_t i = 0; i < n; ++i) {
      const float *l = &logits[size_t(i * 10)];
      int y = int(labels->value(start + i));
      double mx = *std::max_element(l, l + 10), sum = 0;
      for (int k = 0; k < 10; ++k)
        sum += std::exp(double(l[k]) - mx);
      loss += std::log(sum) + mx - double(l[y]);
      correct += std::max_element(l, l + 10) - l == y;
    }
  }
  EXPECT_NEAR(er->lastEval.at("accuracy"), correct / 10000, 1e-6);
  EXPECT_NEAR(er->lastEval.at("loss"), loss / 10000, 1e-4);
}

std::vector<std::string> tgcTrain(const std::string &dir, bool resume) {
  return {TGC_PATH,
          "train",
          mlpArtifact(),
          "--data",
          kFashion,
          "--steps",
          "4000",
          "--checkpoint-every",
          "100", // args[8], changed by the SIGINT test
          "--checkpoint-dir",
          dir,
          "--progress=none",
          "--seed",
          "7",
          resume ? "--resume" : "--keep=3"};
}

pid_t spawn(const std::vector<std::string> &args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char *> argv;
    for (const std::string &a : args)
      argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    (void)!freopen("/dev/null", "w", stderr);
    (void)!freopen("/dev/null", "w", stdout);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int waitFor(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(Train, KillAndResumeIsBitwiseExact) {
  std::string straight = freshDir("straight"), killed = freshDir("killed");
  int status = waitFor(spawn(tgcTrain(straight, false)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "straight run failed";

  pid_t pid = spawn(tgcTrain(killed, false));
  // Kill it soon after its first checkpoint, likely while it writes another.
  while (tg::listCheckpoints(killed).empty()) {
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the run ended before its first checkpoint";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(pid, SIGKILL);
  status = waitFor(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it was killed";
  auto left = tg::listCheckpoints(killed);
  ASSERT_FALSE(left.empty());
  EXPECT_NE(left.back(), tg::checkpointPath(killed, 4000));

  status = waitFor(spawn(tgcTrain(killed, true)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "resumed run failed";

  auto a = tg::readSafetensors(tg::checkpointPath(straight, 4000));
  auto b = tg::readSafetensors(tg::checkpointPath(killed, 4000));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->tensors.size(), b->tensors.size());
  // Params, Adam's moments and the step counter, bit for bit.
  EXPECT_GE(a->tensors.size(), 4u * 3u + 1u);
  for (const tg::NamedTensor &t : a->tensors) {
    const tg::NamedTensor *u = b->find(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_TRUE(t.bytes == u->bytes) << "tensor '" << t.name << "' differs after resume";
  }
  for (const char *k : {"step", "epoch", "position", "artifact_hash"})
    EXPECT_EQ(a->metadata.at(k), b->metadata.at(k)) << k;
  // The metrics of the resumed run have no duplicated steps.
  std::ifstream metrics(killed + "/metrics.jsonl");
  int checkpointsLogged = 0;
  for (std::string line; std::getline(metrics, line);)
    checkpointsLogged += line.find("\"event\":\"checkpoint\"") != std::string::npos;
  EXPECT_EQ(checkpointsLogged, 40);
}

/// Params and optimizer state after `steps` steps of the MLP with `threads`
/// OpenMP threads (one run of tgc train, seed 7).
std::map<std::string, std::string> trainedState(const std::string &dir, const char *threads,
                                                int steps) {
  std::vector<std::string> args = tgcTrain(dir, false);
  args[6] = std::to_string(steps);
  args[8] = std::to_string(steps);
  const char *before = std::getenv("OMP_NUM_THREADS");
  std::string saved = before ? before : "";
  setenv("OMP_NUM_THREADS", threads, 1);
  int status = waitFor(spawn(args));
  if (before)
    setenv("OMP_NUM_THREADS", saved.c_str(), 1);
  else
    unsetenv("OMP_NUM_THREADS");
  std::map<std::string, std::string> out;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return out;
  auto c = tg::readSafetensors(tg::checkpointPath(dir, steps));
  if (c.ok())
    for (const tg::NamedTensor &t : c->tensors)
      out[t.name] = std::string(t.bytes.begin(), t.bytes.end());
  return out;
}

// Same artifact, seed and thread count: the same bits, run to run (the data
// order, the initializers, the kernels and their reduction orders are all
// fixed). README "Determinism" says what the thread count changes.
TEST(Train, SameSeedAndThreadCountGiveTheSameBits) {
  auto a = trainedState(freshDir("det-a"), "2", 300);
  auto b = trainedState(freshDir("det-b"), "2", 300);
  ASSERT_FALSE(a.empty()) << "the first run failed";
  ASSERT_EQ(a.size(), b.size());
  for (const auto &[name, bytes] : a)
    EXPECT_TRUE(bytes == b[name]) << "'" << name << "' differs between two identical runs";
  // One thread against two: report how far apart they end (not asserted:
  // oneDNN may split a GEMM's reduction by thread count).
  auto one = trainedState(freshDir("det-1"), "1", 300);
  ASSERT_EQ(one.size(), a.size());
  size_t differing = 0;
  for (const auto &[name, bytes] : a)
    differing += bytes != one[name];
  std::printf("[ determinism ] 1 vs 2 threads after 300 steps: %zu of %zu tensors differ\n",
              differing, a.size());
}

TEST(Train, CtrlCSavesACheckpointAndExits130) {
  std::string dir = freshDir("sigint");
  std::vector<std::string> args = tgcTrain(dir, false);
  args[8] = "100000"; // --checkpoint-every N: only the interrupt writes one
  pid_t pid = spawn(args);
  // Wait until it trains (metrics lines appear), then interrupt.
  for (int i = 0; i < 20000; ++i) {
    std::ifstream m(dir + "/metrics.jsonl");
    std::string line;
    if (std::getline(m, line))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGINT);
  int status = waitFor(pid);
  ASSERT_TRUE(WIFEXITED(status)) << "tgc train did not exit on SIGINT";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto saved = tg::listCheckpoints(dir);
  ASSERT_EQ(saved.size(), 1u);
  auto ck = tg::readSafetensors(saved[0]);
  ASSERT_TRUE(ck.ok()) << ck.status();
  int64_t step = std::stoll(ck->metadata.at("step"));
  EXPECT_GT(step, 0);
  EXPECT_LT(step, 4000);
  EXPECT_EQ(saved[0], tg::checkpointPath(dir, step));
}

TEST(Train, BadDataIsAnErrorBeforeTheFirstStep) {
  tg::TrainOptions o = quiet(mlpArtifact());
  o.checkpointDir = freshDir("bad-data");
  o.data = {"image=" + temp("missing.gz"), "label=" + kFashion + "/train-labels-idx1-ubyte.gz"};
  EXPECT_THAT(errorOf(o), HasSubstr("cannot open data file"));
  EXPECT_THAT(errorOf(o), HasSubstr("missing.gz"));

  o.data = {"pixels=" + kFashion + "/train-images-idx3-ubyte.gz"};
  EXPECT_THAT(errorOf(o), HasSubstr("no data or label argument 'pixels'"));

  o.data = {"image=" + kFashion + "/train-images-idx3-ubyte.gz"};
  EXPECT_THAT(errorOf(o), HasSubstr("no data for label"));

  // Labels as images: 1 value per example where the argument takes 784.
  o.data = {"image=" + kFashion + "/train-labels-idx1-ubyte.gz",
            "label=" + kFashion + "/train-labels-idx1-ubyte.gz"};
  EXPECT_THAT(errorOf(o), HasSubstr("one example holds 1 values, the argument takes 784"));

  // Test images with training labels: counts differ.
  o.data = {"image=" + kFashion + "/t10k-images-idx3-ubyte.gz",
            "label=" + kFashion + "/train-labels-idx1-ubyte.gz"};
  EXPECT_THAT(errorOf(o), HasSubstr("has 10000 examples but data for 'label' has 60000"));

  // A truncated gzip file.
  std::ifstream in(kFashion + "/t10k-labels-idx1-ubyte.gz", std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(temp("cut.gz"), std::ios::binary) << gz.substr(0, gz.size() / 2);
  o.data = {"image=" + kFashion + "/t10k-images-idx3-ubyte.gz", "label=" + temp("cut.gz")};
  EXPECT_THAT(errorOf(o), HasSubstr("cut.gz"));

  // A garbled label in the middle of the file (a valid IDX byte, but not one
  // of the model's 10 classes): named with its example before any step.
  auto raw = tg::readIdx(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(raw.ok()) << raw.status();
  std::string idx("\0\0\x08\x01", 4);
  for (int shift : {24, 16, 8, 0})
    idx += char((raw->dims[0] >> shift) & 0xff);
  idx.append(raw->bytes.begin(), raw->bytes.end());
  idx[8 + 5000] = char(200);
  std::ofstream(temp("garbled-labels.idx"), std::ios::binary) << idx;
  o.data = {"image=" + kFashion + "/t10k-images-idx3-ubyte.gz",
            "label=" + temp("garbled-labels.idx")};
  EXPECT_THAT(errorOf(o), HasSubstr("value 200 of example 5000 is not a class of the model "
                                    "(labels are in [0, 10))"));

  o.data = {kText}; // text for an image model
  EXPECT_THAT(errorOf(o), HasSubstr("[batch, steps] integer arguments"));
  // Nothing ran, so nothing was written.
  EXPECT_TRUE(tg::listCheckpoints(o.checkpointDir).empty());
}

TEST(Train, BadCheckpointsAreErrorsAndNothingIsLost) {
  std::string dir = freshDir("bad-ckpt");
  tg::TrainOptions o = quiet(mlpArtifact());
  o.data = {kFashion};
  o.steps = 30;
  o.checkpointEvery = 10;
  o.checkpointDir = dir;
  ASSERT_TRUE(tg::train(o).ok());
  ASSERT_EQ(tg::listCheckpoints(dir).size(), 3u);

  // Without --resume, existing checkpoints are not overwritten.
  EXPECT_THAT(errorOf(o), HasSubstr("already holds checkpoints"));

  // Another artifact (other layer sizes) refuses this directory's checkpoints.
  tg::Graph g("mlp2");
  tg::examples::buildFashionMlp(g, {64, {32}, tg::optim::Adam(2e-3)});
  tg::TrainOptions other = quiet(compileTo(g, temp("mlp2.tgx")));
  other.data = o.data;
  other.checkpointDir = dir;
  other.resume = true;
  EXPECT_THAT(errorOf(other), HasSubstr("was written by another artifact"));

  // A checkpoint directory written by a newer tgc (format version 2) is
  // refused by name and left alone.
  {
    std::string newer = freshDir("newer-ckpt");
    ::mkdir(newer.c_str(), 0755);
    std::string from = tg::listCheckpoints(dir).back();
    auto ck = tg::readSafetensors(from);
    ASSERT_TRUE(ck.ok()) << ck.status();
    ck->metadata["format"] = "tgc-checkpoint/2";
    std::string path = newer + "/" + from.substr(from.rfind('/') + 1);
    ASSERT_TRUE(tg::writeSafetensors(path, *ck).ok());
    std::ifstream before(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(before)), {});
    tg::TrainOptions n = o;
    n.checkpointDir = newer;
    n.resume = true;
    EXPECT_THAT(errorOf(n), HasSubstr("has checkpoint format version 2 (written by a newer tgc)"));
    std::ifstream after(path, std::ios::binary);
    EXPECT_EQ(std::string((std::istreambuf_iterator<char>(after)), {}), bytes);
    EXPECT_EQ(tg::listCheckpoints(newer).size(), 1u);
  }

  // A truncated newest checkpoint is named in the error; the others stay.
  std::string newest = tg::listCheckpoints(dir).back();
  std::ifstream in(newest, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(newest, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  o.resume = true;
  o.steps = 40;
  EXPECT_THAT(errorOf(o), HasSubstr(newest));
  EXPECT_THAT(errorOf(o), HasSubstr("the file may be truncated"));
  EXPECT_EQ(tg::listCheckpoints(dir).size(), 3u);
  auto older = tg::readSafetensors(tg::listCheckpoints(dir)[1]);
  EXPECT_TRUE(older.ok()) << older.status();

  // A checkpoint directory that cannot be created.
  tg::TrainOptions u = quiet(mlpArtifact());
  u.data = {kFashion};
  u.checkpointDir = kText + "/sub";
  EXPECT_THAT(errorOf(u), HasSubstr("cannot create checkpoint directory"));

  // One writer per directory: while another process holds its lock, a run
  // is refused with the holder's pid; once released, it proceeds. A temp file
  // of a live writer is left alone, one of a dead writer is cleaned up.
  std::string shared = freshDir("shared");
  ::mkdir(shared.c_str(), 0755);
  int fd = ::open((shared + "/.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(fd, "4242\n", 5), 5);
  tg::TrainOptions second = quiet(mlpArtifact());
  second.data = {kFashion};
  second.steps = 2;
  second.checkpointDir = shared;
  EXPECT_THAT(errorOf(second),
              HasSubstr("'" + shared + "' is in use by another tgc train (pid 4242)"));
  ::close(fd); // releases the lock
  std::string live = shared + "/.ckpt-0000000009.safetensors.tmp-" + std::to_string(getppid());
  std::string dead = shared + "/.ckpt-0000000009.safetensors.tmp-999999999";
  std::ofstream(live) << "partial";
  std::ofstream(dead) << "partial";
  EXPECT_EQ(errorOf(second), "(no error)");
  EXPECT_TRUE(std::ifstream(live).good()) << "a live writer's temp file was removed";
  EXPECT_FALSE(std::ifstream(dead).good()) << "a dead writer's temp file was kept";

  // Missing parent directories are created (as `mkdir -p`).
  tg::TrainOptions nested = quiet(mlpArtifact());
  nested.data = {kFashion};
  nested.steps = 2;
  nested.checkpointDir = dir + "/runs/nested";
  EXPECT_EQ(errorOf(nested), "(no error)");
  EXPECT_FALSE(tg::listCheckpoints(nested.checkpointDir).empty());
}

} // namespace

namespace {

// The sampler's premise: the char LSTM run one character at a time, carrying
// its state, computes what the unrolled window computes.
TEST(Train, CharLstmOneStepAtATimeEqualsTheWindow) {
  const int64_t B = 2, T = 4, V = 77;
  auto build = [&](int64_t steps) {
    tg::Graph g("lstm");
    tg::examples::CharLstmConfig c;
    c.batch = B;
    c.steps = steps;
    c.hidden = 64;
    c.vocab = V;
    tg::examples::buildCharLstm(g, c);
    auto exe = tg::compile(g);
    EXPECT_TRUE(exe.ok()) << exe.status();
    return std::move(*exe);
  };
  tg::Executable window = build(T), step = build(1); // same params: seeded by name
  tg::Tensor chars = tg::Tensor::full(tg::DType::i32, {B, T});
  for (int64_t i = 0; i < B * T; ++i)
    chars.data[size_t(i)] = double((i * 7 + 3) % V);
  ASSERT_TRUE(window.set("chars", chars).ok());
  ASSERT_TRUE(window.run("predict").ok());
  auto all = window.get("logits"); // [B*T, V]
  ASSERT_TRUE(all.ok());
  for (int64_t t = 0; t < T; ++t) {
    tg::Tensor one = tg::Tensor::full(tg::DType::i32, {B, 1});
    for (int64_t b = 0; b < B; ++b)
      one.data[size_t(b)] = chars.data[size_t(b * T + t)];
    ASSERT_TRUE(step.set("chars", one).ok());
    ASSERT_TRUE(step.run("predict").ok());
    auto l = step.get("logits"); // [B, V]
    ASSERT_TRUE(l.ok());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t v = 0; v < V; ++v)
        EXPECT_NEAR(l->data[size_t(b * V + v)], all->data[size_t((b * T + t) * V + v)], 1e-5)
            << "b " << b << " t " << t << " v " << v;
  }
  for (const char *s : {"lstm1.h0", "lstm1.c0", "lstm2.h0", "lstm2.c0"}) {
    auto a = window.get(s), b = step.get(s);
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t i = 0; i < a->data.size(); ++i)
      EXPECT_NEAR(a->data[i], b->data[i], 1e-5) << s << " element " << i;
  }
}

} // namespace
